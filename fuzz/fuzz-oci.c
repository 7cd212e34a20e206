/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON of an image layout or docker archive, through every parser that reads it:
 * oci-layout, index, manifest, config (and the defaults' round trip through an image
 * record) and docker's manifest.json. */
#include <stdint.h>
#include <string.h>

#include "fileio.h"
#include "src/machined/oci.h"
#include "strv.h"

static char *mfree_msg(char *m) {
        free(m);
        return NULL;
}

static void check_descriptor(const OciDescriptor *d) {
        /* Parsed digests hold to the grammar; the ones that open blobs are sha256. */
        if (!oci_digest_is_valid(d->digest))
                abort();
        (void) oci_layer_media_type_to_compression(d->media_type);
        (void) oci_reference_matches(d->ref_name, "latest");
        (void) oci_reference_matches(d->image_name, "app:v1");
}

static void fuzz_config(json_t *j) {
        _cleanup_(oci_config_freep) OciConfig *c = NULL;
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_json_ json_t *out = NULL;
        _cleanup_(oci_defaults_done) OciDefaults back = {};
        char *msg = NULL;

        if (oci_config_parse(j, &c, &msg) < 0) {
                free(msg);
                return;
        }
        if (msg)
                abort();
        for (size_t i = 0; i < c->n_diff_ids; i++)
                if (!oci_digest_is_sha256(c->diff_ids[i]))
                        abort();

        img = calloc(1, sizeof(OciImage));
        if (!img)
                return;
        img->architecture = TAKE_PTR(c->architecture);
        img->os = TAKE_PTR(c->os);
        img->defaults = c->defaults;
        c->defaults = (OciDefaults) {};

        /* What the image record keeps must read back as it was. */
        if (oci_image_config_to_json(img, &out) < 0)
                return;
        if (oci_defaults_from_json(out, &back) < 0)
                abort();
        if (strv_length(back.env) != strv_length(img->defaults.env) ||
            strv_length(back.cmd) != strv_length(img->defaults.cmd) ||
            strv_length(back.entrypoint) != strv_length(img->defaults.entrypoint) ||
            !back.working_dir != !img->defaults.working_dir || !back.user != !img->defaults.user)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_json_ json_t *j = NULL;
        char *msg = NULL;

        if (size > OCI_JSON_MAX)
                return 0;
        j = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!j)
                return 0;

        (void) oci_layout_check(j, &msg);
        msg = mfree_msg(msg);

        {
                _cleanup_(oci_index_freep) OciIndex *idx = NULL;

                if (oci_index_parse(j, &idx, &msg) >= 0)
                        for (size_t i = 0; i < idx->n_manifests; i++)
                                check_descriptor(idx->manifests + i);
                msg = mfree_msg(msg);
        }
        {
                _cleanup_(oci_manifest_freep) OciManifest *m = NULL;

                if (oci_manifest_parse(j, &m, &msg) >= 0) {
                        check_descriptor(&m->config);
                        for (size_t i = 0; i < m->n_layers; i++)
                                check_descriptor(m->layers + i);
                }
                msg = mfree_msg(msg);
        }
        {
                _cleanup_(docker_manifest_freep) DockerManifest *m = NULL;

                if (docker_manifest_parse(j, &m, &msg) >= 0)
                        for (size_t i = 0; i < m->n_entries; i++) {
                                if (!docker_archive_path_is_valid(m->entries[i].config))
                                        abort();
                                for (size_t k = 0; k < m->entries[i].n_layers; k++)
                                        if (!docker_archive_path_is_valid(m->entries[i].layers[k]))
                                                abort();
                                for (char **t = m->entries[i].repo_tags; t && *t; t++)
                                        (void) oci_reference_matches(*t, "v1");
                        }
                msg = mfree_msg(msg);
        }
        fuzz_config(j);
        return 0;
}
