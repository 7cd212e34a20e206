/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "fileio.h"
#include "oci.h"
#include "parse.h"
#include "strv.h"

#define MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_TYPE_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

/* Platforms or tags named in an error message, at most. */
#define LISTED_MAX 16U
#define READ_CHUNK (64U * 1024U)

static const char *const image_format_table[_OCI_IMAGE_FORMAT_MAX] = {
        [OCI_IMAGE_FORMAT_LAYOUT] = "oci-layout",
        [OCI_IMAGE_FORMAT_DOCKER_ARCHIVE] = "docker-archive",
};

static const char *const compression_table[_OCI_COMPRESSION_MAX] = {
        [OCI_COMPRESSION_NONE] = "none",
        [OCI_COMPRESSION_GZIP] = "gzip",
        [OCI_COMPRESSION_ZSTD] = "zstd",
};

const char *oci_image_format_to_string(OciImageFormat f) {
        return f >= 0 && f < _OCI_IMAGE_FORMAT_MAX ? image_format_table[f] : NULL;
}

const char *oci_compression_to_string(OciCompression c) {
        return c >= 0 && c < _OCI_COMPRESSION_MAX ? compression_table[c] : NULL;
}

static const struct {
        const char *media_type;
        OciCompression compression;
} layer_media_types[] = {
        { "application/vnd.oci.image.layer.v1.tar", OCI_COMPRESSION_NONE },
        { "application/vnd.oci.image.layer.v1.tar+gzip", OCI_COMPRESSION_GZIP },
        { "application/vnd.oci.image.layer.v1.tar+zstd", OCI_COMPRESSION_ZSTD },
        /* Deprecated, but the spec still asks consumers to take them. */
        { "application/vnd.oci.image.layer.nondistributable.v1.tar", OCI_COMPRESSION_NONE },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", OCI_COMPRESSION_GZIP },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", OCI_COMPRESSION_ZSTD },
        { "application/vnd.docker.image.rootfs.diff.tar", OCI_COMPRESSION_NONE },
        { "application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_COMPRESSION_GZIP },
        { "application/vnd.docker.image.rootfs.diff.tar.zstd", OCI_COMPRESSION_ZSTD },
        { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", OCI_COMPRESSION_GZIP },
};

/* What a docker archive's layers are called here, by the compression found in them. */
static const char *const docker_layer_media_types[_OCI_COMPRESSION_MAX] = {
        [OCI_COMPRESSION_NONE] = "application/vnd.docker.image.rootfs.diff.tar",
        [OCI_COMPRESSION_GZIP] = "application/vnd.docker.image.rootfs.diff.tar.gzip",
        [OCI_COMPRESSION_ZSTD] = "application/vnd.docker.image.rootfs.diff.tar.zstd",
};

OciCompression oci_layer_media_type_to_compression(const char *media_type) {
        for (size_t i = 0; i < ELEMENTSOF(layer_media_types); i++)
                if (streq(layer_media_types[i].media_type, media_type))
                        return layer_media_types[i].compression;
        return _OCI_COMPRESSION_INVALID;
}

static bool media_type_is_index(const char *t) {
        return streq(t, MEDIA_TYPE_OCI_INDEX) || streq(t, MEDIA_TYPE_DOCKER_LIST);
}

static bool media_type_is_manifest(const char *t) {
        return streq(t, MEDIA_TYPE_OCI_MANIFEST) || streq(t, MEDIA_TYPE_DOCKER_MANIFEST);
}

static bool media_type_is_config(const char *t) {
        return streq(t, MEDIA_TYPE_OCI_CONFIG) || streq(t, MEDIA_TYPE_DOCKER_CONFIG);
}

static int fail(char **ret_message, int error, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_message, int error, const char *fmt, ...) {
        va_list ap;

        if (!ret_message)
                return error;
        free(*ret_message);
        va_start(ap, fmt);
        if (vasprintf(ret_message, fmt, ap) < 0)
                *ret_message = NULL;
        va_end(ap);
        return error;
}

static int fail_oom(char **ret_message) {
        return fail(ret_message, -ENOMEM, "Out of memory.");
}

/* Untrusted text in a message: printable ASCII only, and not too much of it. */
static const char *printable(const char *s, char buf[static 100]) {
        size_t n = 0;

        for (; *s && n < 96; s++)
                buf[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
        if (*s) {
                memcpy(buf + n, "...", 3);
                n += 3;
        }
        buf[n] = 0;
        return buf;
}

/* RFC 6838 restricted names: "type/subtype" of letters, digits and !#$&-^_.+ */
static bool media_type_is_valid(const char *s) {
        size_t n = strlen(s);
        const char *slash = strchr(s, '/');

        if (n == 0 || n > OCI_MEDIA_TYPE_MAX || !slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr("!#$&-^_.+/", *s)))
                        return false;
        return true;
}

static bool is_lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

bool oci_digest_is_sha256(const char *s) {
        return strncmp(s, "sha256:", 7) == 0 && strlen(s + 7) == 64 && is_lower_hex(s + 7, 64);
}

bool oci_digest_is_valid(const char *s) {
        const char *colon, *p;
        bool component = false;

        if (!s || strlen(s) > OCI_DIGEST_MAX)
                return false;
        colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1])
                return false;

        /* algorithm: [a-z0-9]+ joined by single [+._-] */
        for (p = s; p < colon; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                        component = true;
                else if (strchr("+._-", *p) && component)
                        component = false;
                else
                        return false;
        }
        if (!component)
                return false;

        /* encoded: [a-zA-Z0-9=_-]+ */
        for (p = colon + 1; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("=_-", *p)))
                        return false;

        /* The registered algorithms are all lowercase hex of a fixed length. */
        if (colon - s == 6 && strncmp(s, "sha256", 6) == 0)
                return oci_digest_is_sha256(s);
        if (colon - s == 6 && strncmp(s, "sha512", 6) == 0)
                return strlen(colon + 1) == 128 && is_lower_hex(colon + 1, 128);
        if (colon - s == 6 && strncmp(s, "blake3", 6) == 0)
                return strlen(colon + 1) == 64 && is_lower_hex(colon + 1, 64);
        return true;
}

bool docker_archive_path_is_valid(const char *p) {
        size_t n = strlen(p);

        if (n == 0 || n > OCI_NAME_MAX || p[0] == '/')
                return false;
        for (const char *c = p; *c;) {
                size_t k = strcspn(c, "/");

                if (k == 2 && c[0] == '.' && c[1] == '.')
                        return false;
                c += k;
                if (*c == '/')
                        c++;
        }
        return true;
}

/* "docker.io/library/app:v1" is also "app:v1", and "docker.io/example/app:v1" "example/app:v1". */
static const char *strip_default_registry(const char *ref) {
        if (strncmp(ref, "docker.io/library/", 18) == 0)
                return ref + 18;
        if (strncmp(ref, "docker.io/", 10) == 0)
                return ref + 10;
        return ref;
}

bool oci_reference_matches(const char *ref, const char *tag) {
        const char *slash, *colon;

        if (!ref || !tag)
                return false;
        if (streq(ref, tag) || streq(strip_default_registry(ref), tag))
                return true;

        /* The tag alone: what follows the last ':' after the last '/' (a registry may have a port). */
        if (strpbrk(tag, ":/@"))
                return false;
        slash = strrchr(ref, '/');
        colon = strrchr(slash ?: ref, ':');
        return colon && streq(colon + 1, tag);
}

static bool json_string_is_clean(json_t *v, size_t max) {
        return json_is_string(v) && json_string_length(v) <= max &&
               strlen(json_string_value(v)) == json_string_length(v);
}

/* An absent or null field leaves *ret NULL unless it is required. */
static int get_string(json_t *o, const char *key, size_t max, bool required, const char *what, char **ret,
                      char **ret_message) {
        json_t *v = json_object_get(o, key);
        char *s;

        if (!v || json_is_null(v)) {
                if (required)
                        return fail(ret_message, -EBADMSG, "%s has no '%s'.", what, key);
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return fail(ret_message, -EBADMSG, "%s: '%s' is not a string.", what, key);
        if (!json_string_is_clean(v, max))
                return fail(ret_message, -EBADMSG, "%s: '%s' is longer than %zu bytes or contains NUL.",
                            what, key, (size_t) max);

        s = strdup(json_string_value(v));
        if (!s)
                return fail_oom(ret_message);
        *ret = s;
        return 0;
}

static int get_strv(json_t *o, const char *key, size_t max_n, size_t max_len, const char *what, char ***ret,
                    char **ret_message) {
        _cleanup_strv_free_ char **l = NULL;
        json_t *v = json_object_get(o, key), *e;
        size_t i;

        if (!v || json_is_null(v)) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_array(v))
                return fail(ret_message, -EBADMSG, "%s: '%s' is not an array.", what, key);
        if (json_array_size(v) > max_n)
                return fail(ret_message, -E2BIG, "%s: '%s' has more than %zu entries.", what, key, max_n);

        l = calloc(json_array_size(v) + 1, sizeof(char *));
        if (!l)
                return fail_oom(ret_message);
        json_array_foreach(v, i, e) {
                if (!json_string_is_clean(e, max_len))
                        return fail(
                                ret_message, -EBADMSG,
                                "%s: entry %zu of '%s' is not a string of at most %zu bytes without NUL.",
                                what, i, key, max_len);
                l[i] = strdup(json_string_value(e));
                if (!l[i])
                        return fail_oom(ret_message);
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static int get_schema_version(json_t *j, const char *what, char **ret_message) {
        json_t *v = json_object_get(j, "schemaVersion");

        if (!json_is_integer(v))
                return fail(ret_message, -EBADMSG, "%s has no integer 'schemaVersion'.", what);
        if (json_integer_value(v) != 2)
                return fail(ret_message, -EPROTONOSUPPORT, "%s has schemaVersion %lld, only 2 is supported.",
                            what, (long long) json_integer_value(v));
        return 0;
}

static void descriptor_done(OciDescriptor *d) {
        free(d->media_type);
        free(d->digest);
        free(d->ref_name);
        free(d->image_name);
        free(d->os);
        free(d->architecture);
        free(d->variant);
        *d = (OciDescriptor) {};
}

static int descriptor_parse(json_t *j, const char *what, OciDescriptor *ret, char **ret_message) {
        _cleanup_(descriptor_done) OciDescriptor d = {};
        json_t *v, *annotations, *platform;
        char buf[100];
        int r;

        if (!json_is_object(j))
                return fail(ret_message, -EBADMSG, "%s is not a JSON object.", what);

        r = get_string(j, "mediaType", OCI_MEDIA_TYPE_MAX, true, what, &d.media_type, ret_message);
        if (r < 0)
                return r;
        if (!media_type_is_valid(d.media_type))
                return fail(ret_message, -EBADMSG, "%s has an invalid media type '%s'.", what,
                            printable(d.media_type, buf));

        r = get_string(j, "digest", OCI_DIGEST_MAX, true, what, &d.digest, ret_message);
        if (r < 0)
                return r;
        if (!oci_digest_is_valid(d.digest))
                return fail(ret_message, -EBADMSG, "%s has an invalid digest '%s'.", what,
                            printable(d.digest, buf));

        v = json_object_get(j, "size");
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return fail(ret_message, -EBADMSG, "%s has no 'size', or it is not a non-negative integer.",
                            what);
        d.size = (uint64_t) json_integer_value(v);

        annotations = json_object_get(j, "annotations");
        if (annotations && !json_is_null(annotations)) {
                if (!json_is_object(annotations))
                        return fail(ret_message, -EBADMSG, "%s: 'annotations' is not an object.", what);
                r = get_string(annotations, ANNOTATION_REF_NAME, OCI_NAME_MAX, false, what, &d.ref_name,
                               ret_message);
                if (r < 0)
                        return r;
                r = get_string(annotations, ANNOTATION_CONTAINERD_NAME, OCI_NAME_MAX, false, what,
                               &d.image_name, ret_message);
                if (r < 0)
                        return r;
        }

        platform = json_object_get(j, "platform");
        if (platform && !json_is_null(platform)) {
                if (!json_is_object(platform))
                        return fail(ret_message, -EBADMSG, "%s: 'platform' is not an object.", what);
                r = get_string(platform, "os", OCI_PLATFORM_MAX, true, what, &d.os, ret_message);
                if (r < 0)
                        return r;
                r = get_string(platform, "architecture", OCI_PLATFORM_MAX, true, what, &d.architecture,
                               ret_message);
                if (r < 0)
                        return r;
                r = get_string(platform, "variant", OCI_PLATFORM_MAX, false, what, &d.variant, ret_message);
                if (r < 0)
                        return r;
        }

        *ret = d;
        d = (OciDescriptor) {};
        return 0;
}

static int descriptors_parse(json_t *parent, const char *key, const char *what, size_t max,
                             OciDescriptor **ret, size_t *ret_n, char **ret_message) {
        json_t *a = json_object_get(parent, key), *e;
        OciDescriptor *l;
        size_t i;
        int r;

        if (!json_is_array(a))
                return fail(ret_message, -EBADMSG, "%s: '%s' is missing or not an array.", what, key);
        if (json_array_size(a) > max)
                return fail(ret_message, -E2BIG, "%s lists more than %zu entries.", what, max);

        l = calloc(json_array_size(a) ?: 1, sizeof(OciDescriptor));
        if (!l)
                return fail_oom(ret_message);
        json_array_foreach(a, i, e) {
                char w[64];

                snprintf(w, sizeof w, "%s entry %zu", what, i);
                r = descriptor_parse(e, w, l + i, ret_message);
                if (r < 0) {
                        for (size_t k = 0; k < i; k++)
                                descriptor_done(l + k);
                        free(l);
                        return r;
                }
        }

        *ret = l;
        *ret_n = json_array_size(a);
        return 0;
}

static int check_media_type_field(json_t *j, const char *what, bool (*ok)(const char *),
                                  char **ret_message) {
        json_t *v = json_object_get(j, "mediaType");
        char buf[100];

        if (!v || json_is_null(v))
                return 0;
        if (!json_string_is_clean(v, OCI_MEDIA_TYPE_MAX))
                return fail(ret_message, -EBADMSG, "%s: 'mediaType' is not a string.", what);
        if (!ok(json_string_value(v)))
                return fail(ret_message, -EBADMSG, "%s has media type '%s'.", what,
                            printable(json_string_value(v), buf));
        return 0;
}

int oci_layout_check(json_t *j, char **ret_message) {
        json_t *v = json_object_get(j, "imageLayoutVersion");
        char buf[100];

        if (ret_message)
                *ret_message = NULL;
        if (!json_is_object(j) || !json_string_is_clean(v, OCI_NAME_MAX))
                return fail(ret_message, -EBADMSG, "oci-layout has no 'imageLayoutVersion' string.");
        if (strncmp(json_string_value(v), "1.", 2) != 0)
                return fail(ret_message, -EPROTONOSUPPORT, "OCI image layout version '%s' is not supported.",
                            printable(json_string_value(v), buf));
        return 0;
}

OciIndex *oci_index_free(OciIndex *idx) {
        if (!idx)
                return NULL;
        for (size_t i = 0; i < idx->n_manifests; i++)
                descriptor_done(idx->manifests + i);
        free(idx->manifests);
        free(idx);
        return NULL;
}

int oci_index_parse(json_t *j, OciIndex **ret, char **ret_message) {
        _cleanup_(oci_index_freep) OciIndex *idx = NULL;
        int r;

        if (ret_message)
                *ret_message = NULL;
        if (!json_is_object(j))
                return fail(ret_message, -EBADMSG, "Image index is not a JSON object.");
        r = get_schema_version(j, "Image index", ret_message);
        if (r < 0)
                return r;
        r = check_media_type_field(j, "Image index", media_type_is_index, ret_message);
        if (r < 0)
                return r;

        idx = calloc(1, sizeof(OciIndex));
        if (!idx)
                return fail_oom(ret_message);
        r = descriptors_parse(j, "manifests", "Image index", OCI_MANIFESTS_MAX, &idx->manifests,
                              &idx->n_manifests, ret_message);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(idx);
        return 0;
}

OciManifest *oci_manifest_free(OciManifest *m) {
        if (!m)
                return NULL;
        descriptor_done(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_done(m->layers + i);
        free(m->layers);
        free(m);
        return NULL;
}

int oci_manifest_parse(json_t *j, OciManifest **ret, char **ret_message) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        int r;

        if (ret_message)
                *ret_message = NULL;
        if (!json_is_object(j))
                return fail(ret_message, -EBADMSG, "Image manifest is not a JSON object.");
        r = get_schema_version(j, "Image manifest", ret_message);
        if (r < 0)
                return r;
        r = check_media_type_field(j, "Image manifest", media_type_is_manifest, ret_message);
        if (r < 0)
                return r;

        m = calloc(1, sizeof(OciManifest));
        if (!m)
                return fail_oom(ret_message);
        r = descriptor_parse(json_object_get(j, "config"), "Image manifest's config", &m->config,
                             ret_message);
        if (r < 0)
                return r;
        r = descriptors_parse(j, "layers", "Image manifest", OCI_LAYERS_MAX, &m->layers, &m->n_layers,
                              ret_message);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

void oci_defaults_done(OciDefaults *d) {
        strv_free(d->entrypoint);
        strv_free(d->cmd);
        strv_free(d->env);
        free(d->working_dir);
        free(d->user);
        *d = (OciDefaults) {};
}

/* The checks that hold for the defaults wherever they come from. */
static int defaults_check(OciDefaults *d, const char *what, char **ret_message) {
        char buf[100];

        for (size_t i = 0; d->env && d->env[i]; i++) {
                if (!env_assignment_has_name(d->env[i]))
                        return fail(ret_message, -EBADMSG, "%s: environment entry '%s' is not NAME=VALUE.",
                                    what, printable(d->env[i], buf));
        }

        /* Empty means unset, in Docker's configs as in OCI's. */
        if (d->working_dir && !d->working_dir[0])
                d->working_dir = mfree(d->working_dir);
        if (d->working_dir && d->working_dir[0] != '/')
                return fail(ret_message, -EBADMSG, "%s: working directory '%s' is not absolute.", what,
                            printable(d->working_dir, buf));
        if (d->user && !d->user[0])
                d->user = mfree(d->user);
        return 0;
}

static int defaults_parse(json_t *c, const char *what, const char *k_entrypoint, const char *k_cmd,
                          const char *k_env, const char *k_working_dir, const char *k_user, OciDefaults *ret,
                          char **ret_message) {
        _cleanup_(oci_defaults_done) OciDefaults d = {};
        int r;

        r = get_strv(c, k_entrypoint, OCI_STRV_MAX, OCI_ARG_MAX, what, &d.entrypoint, ret_message);
        if (r >= 0)
                r = get_strv(c, k_cmd, OCI_STRV_MAX, OCI_ARG_MAX, what, &d.cmd, ret_message);
        if (r >= 0)
                r = get_strv(c, k_env, OCI_STRV_MAX, OCI_ARG_MAX, what, &d.env, ret_message);
        if (r >= 0)
                r = get_string(c, k_working_dir, OCI_NAME_MAX, false, what, &d.working_dir, ret_message);
        if (r >= 0)
                r = get_string(c, k_user, OCI_NAME_MAX, false, what, &d.user, ret_message);
        if (r >= 0)
                r = defaults_check(&d, what, ret_message);
        if (r < 0)
                return r;

        *ret = d;
        d = (OciDefaults) {};
        return 0;
}

OciConfig *oci_config_free(OciConfig *c) {
        if (!c)
                return NULL;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        oci_defaults_done(&c->defaults);
        strv_free(c->diff_ids);
        free(c);
        return NULL;
}

int oci_config_parse(json_t *j, OciConfig **ret, char **ret_message) {
        _cleanup_(oci_config_freep) OciConfig *c = NULL;
        json_t *exec, *rootfs, *type;
        char buf[100];
        int r;

        if (ret_message)
                *ret_message = NULL;
        if (!json_is_object(j))
                return fail(ret_message, -EBADMSG, "Image config is not a JSON object.");

        c = calloc(1, sizeof(OciConfig));
        if (!c)
                return fail_oom(ret_message);

        r = get_string(j, "architecture", OCI_PLATFORM_MAX, true, "Image config", &c->architecture,
                       ret_message);
        if (r >= 0)
                r = get_string(j, "os", OCI_PLATFORM_MAX, true, "Image config", &c->os, ret_message);
        if (r >= 0)
                r = get_string(j, "variant", OCI_PLATFORM_MAX, false, "Image config", &c->variant,
                               ret_message);
        if (r < 0)
                return r;

        exec = json_object_get(j, "config");
        if (exec && !json_is_null(exec)) {
                if (!json_is_object(exec))
                        return fail(ret_message, -EBADMSG, "Image config: 'config' is not an object.");
                r = defaults_parse(exec, "Image config", "Entrypoint", "Cmd", "Env", "WorkingDir", "User",
                                   &c->defaults, ret_message);
                if (r < 0)
                        return r;
        }

        rootfs = json_object_get(j, "rootfs");
        if (!json_is_object(rootfs))
                return fail(ret_message, -EBADMSG, "Image config has no 'rootfs' object.");
        type = json_object_get(rootfs, "type");
        if (!json_string_is_clean(type, OCI_NAME_MAX) || !streq(json_string_value(type), "layers"))
                return fail(ret_message, -EBADMSG, "Image config: rootfs type is not 'layers'.");
        if (!json_is_array(json_object_get(rootfs, "diff_ids")))
                return fail(ret_message, -EBADMSG, "Image config has no rootfs 'diff_ids' array.");
        r = get_strv(rootfs, "diff_ids", OCI_LAYERS_MAX, OCI_DIGEST_MAX, "Image config's rootfs",
                     &c->diff_ids, ret_message);
        if (r < 0)
                return r;

        c->n_diff_ids = strv_length(c->diff_ids);
        for (size_t i = 0; i < c->n_diff_ids; i++) {
                if (!oci_digest_is_valid(c->diff_ids[i]))
                        return fail(ret_message, -EBADMSG,
                                    "Image config: diff_id %zu '%s' is not a valid digest.", i,
                                    printable(c->diff_ids[i], buf));
                /* We must compute it while extracting. */
                if (!oci_digest_is_sha256(c->diff_ids[i]))
                        return fail(ret_message, -EPROTONOSUPPORT,
                                    "Image config: diff_id %zu '%s' is not sha256, the only algorithm "
                                    "supported.",
                                    i, c->diff_ids[i]);
        }

        *ret = TAKE_PTR(c);
        return 0;
}

DockerManifest *docker_manifest_free(DockerManifest *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++) {
                free(m->entries[i].config);
                strv_free(m->entries[i].repo_tags);
                strv_free(m->entries[i].layers);
        }
        free(m->entries);
        free(m);
        return NULL;
}

static int docker_entry_parse(json_t *j, size_t i, DockerManifestEntry *e, char **ret_message) {
        char what[64], buf[100];
        int r;

        snprintf(what, sizeof what, "manifest.json entry %zu", i);
        if (!json_is_object(j))
                return fail(ret_message, -EBADMSG, "%s is not an object.", what);

        r = get_string(j, "Config", OCI_NAME_MAX, true, what, &e->config, ret_message);
        if (r < 0)
                return r;
        if (!docker_archive_path_is_valid(e->config))
                return fail(ret_message, -EBADMSG, "%s: config path '%s' leaves the archive.", what,
                            printable(e->config, buf));

        r = get_strv(j, "RepoTags", OCI_STRV_MAX, OCI_NAME_MAX, what, &e->repo_tags, ret_message);
        if (r < 0)
                return r;

        if (!json_is_array(json_object_get(j, "Layers")))
                return fail(ret_message, -EBADMSG, "%s has no 'Layers' array.", what);
        r = get_strv(j, "Layers", OCI_LAYERS_MAX, OCI_NAME_MAX, what, &e->layers, ret_message);
        if (r < 0)
                return r;
        e->n_layers = strv_length(e->layers);
        for (size_t k = 0; k < e->n_layers; k++)
                if (!docker_archive_path_is_valid(e->layers[k]))
                        return fail(ret_message, -EBADMSG, "%s: layer path '%s' leaves the archive.", what,
                                    printable(e->layers[k], buf));
        return 0;
}

int docker_manifest_parse(json_t *j, DockerManifest **ret, char **ret_message) {
        _cleanup_(docker_manifest_freep) DockerManifest *m = NULL;
        json_t *e;
        size_t i;
        int r;

        if (ret_message)
                *ret_message = NULL;
        if (!json_is_array(j))
                return fail(ret_message, -EBADMSG, "manifest.json is not a JSON array.");
        if (json_array_size(j) == 0)
                return fail(ret_message, -EBADMSG, "manifest.json lists no image.");
        if (json_array_size(j) > OCI_MANIFESTS_MAX)
                return fail(ret_message, -E2BIG, "manifest.json lists more than %u images.",
                            OCI_MANIFESTS_MAX);

        m = calloc(1, sizeof(DockerManifest));
        if (!m)
                return fail_oom(ret_message);
        m->entries = calloc(json_array_size(j), sizeof(DockerManifestEntry));
        if (!m->entries)
                return fail_oom(ret_message);

        json_array_foreach(j, i, e) {
                m->n_entries = i + 1; /* freed with m from here on */
                r = docker_entry_parse(e, i, m->entries + i, ret_message);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(m);
        return 0;
}

static int open_regular(int dir_fd, const char *path, bool follow_in_tree, int *ret_fd,
                        struct stat *ret_st) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC | (follow_in_tree ? 0 : O_NOFOLLOW),
                .resolve =
                        RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (follow_in_tree ? 0 : RESOLVE_NO_SYMLINKS),
        };
        _cleanup_close_ int path_fd = -EBADF;
        char proc[STRLEN("/proc/self/fd/") + 12];
        struct stat st;
        int fd;

        /* Opened as O_PATH and reopened once it is known to be a regular file: opening a
         * FIFO would block and opening a device might do something. */
        path_fd = (int) syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
        if (path_fd < 0)
                return -errno;
        if (fstat(path_fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        snprintf(proc, sizeof proc, "/proc/self/fd/%d", path_fd);
        fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        *ret_fd = fd;
        if (ret_st)
                *ret_st = st;
        return 0;
}

static void sha256_to_digest(const uint8_t h[DIGEST_SHA256_SIZE], char ret[static OCI_DIGEST_STRING_SIZE]) {
        static const char hex[] = "0123456789abcdef";

        memcpy(ret, "sha256:", 7);
        for (size_t i = 0; i < DIGEST_SHA256_SIZE; i++) {
                ret[7 + 2 * i] = hex[h[i] >> 4];
                ret[7 + 2 * i + 1] = hex[h[i] & 15];
        }
        ret[OCI_DIGEST_STRING_SIZE - 1] = 0;
}

static int digest_of(const void *data, size_t size, char ret[static OCI_DIGEST_STRING_SIZE]) {
        uint8_t h[DIGEST_SHA256_SIZE];
        int r;

        r = digest_buffer(DIGEST_SHA256, data, size, h);
        if (r < 0)
                return r;
        sha256_to_digest(h, ret);
        return 0;
}

static int parse_json(const char *buf, size_t size, const char *what, json_t **ret, char **ret_message) {
        json_error_t err;
        json_t *j;
        char b[100];

        j = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return fail(ret_message, -EBADMSG, "%s is not valid JSON: %s (line %d).", what,
                            printable(err.text, b), err.line);
        *ret = j;
        return 0;
}

static int open_error(int r, const char *what, const char *name, char **ret_message) {
        char buf[100];
        const char *path = printable(name, buf);

        switch (r) {
        case -ENOENT:
                return fail(ret_message, r, "%s '%s' is missing.", what, path);
        case -ELOOP:
                return fail(ret_message, r, "%s '%s' is a symlink, or reached through one.", what, path);
        case -EXDEV:
                return fail(ret_message, -EBADMSG, "%s '%s' leads out of the image.", what, path);
        case -EBADFD:
                return fail(ret_message, -EBADMSG, "%s '%s' is not a regular file.", what, path);
        default:
                return fail(ret_message, r, "Failed to open %s '%s': %s", what, path, strerror(-r));
        }
}

/* A file of the layout that nothing names by digest: index.json, oci-layout, manifest.json,
 * and a docker archive's config. ret_buf is optional. */
static int read_json_file(int dir_fd, const char *path, bool follow_in_tree, const char *what, json_t **ret,
                          char **ret_buf, size_t *ret_size, char **ret_message) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        char pbuf[100];
        size_t size;
        int r;

        r = open_regular(dir_fd, path, follow_in_tree, &fd, NULL);
        if (r < 0)
                return open_error(r, what, path, ret_message);
        r = read_fd_bounded(fd, OCI_JSON_MAX, &buf, &size);
        if (r == -EFBIG)
                return fail(ret_message, r, "%s '%s' is larger than %u bytes.", what, printable(path, pbuf),
                            OCI_JSON_MAX);
        if (r < 0)
                return fail(ret_message, r, "Failed to read %s '%s': %s", what, printable(path, pbuf),
                            strerror(-r));
        r = parse_json(buf, size, what, ret, ret_message);
        if (r < 0)
                return r;

        if (ret_buf) {
                *ret_buf = TAKE_PTR(buf);
                *ret_size = size;
        }
        return 0;
}

static int blob_path(const char *digest, char ret[static STRLEN("blobs/sha256/") + 65]) {
        if (!oci_digest_is_sha256(digest))
                return -EPROTONOSUPPORT;
        snprintf(ret, STRLEN("blobs/sha256/") + 65, "blobs/sha256/%s", digest + 7);
        return 0;
}

static int unsupported_digest(const char *what, const char *digest, char **ret_message) {
        return fail(ret_message, -EPROTONOSUPPORT,
                    "%s %.*s: digest algorithm '%.*s' is not supported, only sha256.", what, 80, digest,
                    (int) strcspn(digest, ":"), digest);
}

/* The blob a descriptor names, read whole and checked before it is parsed: what is parsed
 * is exactly what was hashed, whatever happens to the file meanwhile. */
static int read_json_blob(int layout_fd, const OciDescriptor *d, const char *what, json_t **ret,
                          char **ret_message) {
        char path[STRLEN("blobs/sha256/") + 65], digest[OCI_DIGEST_STRING_SIZE];
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        if (blob_path(d->digest, path) < 0)
                return unsupported_digest(what, d->digest, ret_message);
        if (d->size > OCI_JSON_MAX)
                return fail(ret_message, -EFBIG, "%s %s is %llu bytes, more than the limit of %u.", what,
                            d->digest, (unsigned long long) d->size, OCI_JSON_MAX);

        r = open_regular(layout_fd, path, false, &fd, NULL);
        if (r < 0)
                return open_error(r, what, d->digest, ret_message);
        r = read_fd_bounded(fd, (size_t) d->size, &buf, &size);
        if (r == -EFBIG)
                return fail(ret_message, -EBADMSG,
                            "%s %s is larger than the %llu bytes its descriptor says.", what, d->digest,
                            (unsigned long long) d->size);
        if (r < 0)
                return fail(ret_message, r, "Failed to read %s %s: %s", what, d->digest, strerror(-r));
        if (size != d->size)
                return fail(ret_message, -EBADMSG, "%s %s has %zu bytes, its descriptor says %llu.", what,
                            d->digest, size, (unsigned long long) d->size);

        r = digest_of(buf, size, digest);
        if (r < 0)
                return fail(ret_message, r, "Failed to hash %s %s: %s", what, d->digest, strerror(-r));
        if (!streq(digest, d->digest))
                return fail(ret_message, -EBADMSG, "%s %s does not match its digest (it is %s).", what,
                            d->digest, digest);

        return parse_json(buf, size, what, ret, ret_message);
}

const char *oci_host_architecture(void) {
        static const struct {
                const char *machine;
                const char *goarch;
        } table[] = {
                { "x86_64", "amd64" },  { "aarch64", "arm64" },   { "arm64", "arm64" },
                { "i386", "386" },      { "i486", "386" },        { "i586", "386" },
                { "i686", "386" },      { "ppc64le", "ppc64le" }, { "ppc64", "ppc64" },
                { "s390x", "s390x" },   { "riscv64", "riscv64" }, { "loongarch64", "loong64" },
                { "mips64", "mips64" }, { "mips", "mips" },
        };
        struct utsname u;

        if (uname(&u) < 0)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(u.machine, table[i].machine))
                        return table[i].goarch;
        /* armv6l, armv7l, armv8l...: the variant is not told apart. */
        if (strncmp(u.machine, "arm", 3) == 0)
                return "arm";
        return NULL;
}

OciImage *oci_image_free(OciImage *img) {
        if (!img)
                return NULL;
        free(img->ref_name);
        free(img->manifest_digest);
        free(img->config_digest);
        free(img->architecture);
        free(img->os);
        oci_defaults_done(&img->defaults);
        for (size_t i = 0; i < img->n_layers; i++) {
                free(img->layers[i].path);
                free(img->layers[i].digest);
                free(img->layers[i].media_type);
                free(img->layers[i].diff_id);
        }
        free(img->layers);
        free(img);
        return NULL;
}

typedef struct Loader {
        int layout_fd;
        const char *arch;
        unsigned n_indexes;
        char **platforms_seen; /* for the message when none matches */
        OciDescriptor manifest; /* the one selected */
} Loader;

static void loader_done(Loader *l) {
        strv_free(l->platforms_seen);
        descriptor_done(&l->manifest);
}

static bool platform_matches(const Loader *l, const OciDescriptor *d) {
        /* A descriptor without a platform matches; its config is checked after. */
        return !d->os || (streq(d->os, "linux") && streq(d->architecture, l->arch));
}

static int platform_seen(Loader *l, const OciDescriptor *d) {
        _cleanup_free_ char *s = NULL;
        char a[100], b[100];

        if (strv_length(l->platforms_seen) >= LISTED_MAX)
                return 0;
        if (asprintf(&s, "%s/%s", printable(d->os, a), printable(d->architecture, b)) < 0)
                return -ENOMEM;
        for (char **p = l->platforms_seen; p && *p; p++)
                if (streq(*p, s))
                        return 0;
        return strv_extend(&l->platforms_seen, s);
}

static bool same_image(const OciDescriptor *a, const OciDescriptor *b) {
        return streq_ptr(a->ref_name, b->ref_name) && streq_ptr(a->image_name, b->image_name);
}

static const char *image_display_name(const OciDescriptor *d) {
        return d->image_name ?: d->ref_name ?: "(untagged)";
}

/* Depth-first in order, the first manifest for our platform wins, as the spec asks. At
 * depth 0 only the descriptors of the image chosen, group, are considered.
 * Returns 1 if found (in l->manifest), 0 if not. */
static int select_manifest(Loader *l, const OciDescriptor *descs, size_t n, const OciDescriptor *group,
                           unsigned depth, char **ret_message) {
        int r;

        for (size_t i = 0; i < n; i++) {
                const OciDescriptor *d = descs + i;
                _cleanup_(oci_index_freep) OciIndex *idx = NULL;
                _cleanup_json_ json_t *j = NULL;

                if (group && !same_image(d, group))
                        continue;
                /* Unknown media types must not be an error: attestations, signatures, ... */
                if (!media_type_is_index(d->media_type) && !media_type_is_manifest(d->media_type))
                        continue;
                if (!platform_matches(l, d)) {
                        if (platform_seen(l, d) < 0)
                                return fail_oom(ret_message);
                        continue;
                }

                if (media_type_is_manifest(d->media_type)) {
                        l->manifest.digest = strdup(d->digest);
                        l->manifest.media_type = strdup(d->media_type);
                        if (!l->manifest.digest || !l->manifest.media_type)
                                return fail_oom(ret_message);
                        l->manifest.size = d->size;
                        return 1;
                }

                if (depth >= OCI_INDEX_DEPTH_MAX)
                        return fail(ret_message, -ELOOP, "Image indexes are nested deeper than %u levels.",
                                    OCI_INDEX_DEPTH_MAX);
                if (++l->n_indexes > OCI_INDEXES_MAX)
                        return fail(ret_message, -E2BIG, "Image refers to more than %u image indexes.",
                                    OCI_INDEXES_MAX);

                r = read_json_blob(l->layout_fd, d, "Image index", &j, ret_message);
                if (r < 0)
                        return r;
                r = oci_index_parse(j, &idx, ret_message);
                if (r < 0)
                        return r;
                r = select_manifest(l, idx->manifests, idx->n_manifests, NULL, depth + 1, ret_message);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int names_join(char **names, char **ret) {
        char *s = strv_join(names, ", ");

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The top-level descriptors of index.json form images by their names: several with the
 * same names are one image for several platforms. */
static int choose_image(const OciIndex *top, const char *tag, const OciDescriptor **ret,
                        char **ret_message) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *list = NULL;
        const OciDescriptor *chosen = NULL;
        bool ambiguous = false;
        char buf[100];

        for (size_t i = 0; i < top->n_manifests; i++) {
                const OciDescriptor *d = top->manifests + i;
                bool known = media_type_is_index(d->media_type) || media_type_is_manifest(d->media_type);
                bool matches = !tag || oci_reference_matches(d->ref_name, tag) ||
                               oci_reference_matches(d->image_name, tag);

                if (!known)
                        continue;
                if (strv_length(names) < LISTED_MAX) {
                        const char *name = printable(image_display_name(d), buf);
                        bool listed = false;

                        for (char **n = names; n && *n; n++)
                                listed = listed || streq(*n, name);
                        if (!listed && strv_extend(&names, name) < 0)
                                return fail_oom(ret_message);
                }
                if (!matches)
                        continue;
                if (!chosen)
                        chosen = d;
                else if (!same_image(chosen, d))
                        ambiguous = true;
        }

        if (names_join(names, &list) < 0)
                return fail_oom(ret_message);
        if (!chosen && tag)
                return fail(ret_message, -ENOENT, "No image tagged '%s' in the layout (it has: %s).",
                            printable(tag, buf), names ? list : "none");
        if (!chosen)
                return fail(ret_message, -ENOENT, "The layout holds no image.");
        if (ambiguous && tag)
                return fail(ret_message, -ENOTUNIQ, "Tag '%s' names several images in the layout: %s.",
                            printable(tag, buf), list);
        if (ambiguous)
                return fail(ret_message, -ENOTUNIQ,
                            "The layout holds several images (%s): choose one by tag.", list);

        *ret = chosen;
        return 0;
}

static int image_set_defaults(OciImage *img, OciConfig *c, const char *arch, char **ret_message) {
        char a[100], b[100];

        if (!streq(c->os, "linux") || !streq(c->architecture, arch))
                return fail(ret_message, -ENOEXEC, "The image is for %s/%s, this host runs linux/%s.",
                            printable(c->os, a), printable(c->architecture, b), arch);

        img->architecture = TAKE_PTR(c->architecture);
        img->os = TAKE_PTR(c->os);
        img->defaults = c->defaults;
        c->defaults = (OciDefaults) {};
        return 0;
}

static int load_layout(int layout_fd, const char *tag, const char *arch, OciImage *img, char **ret_message) {
        _cleanup_(oci_index_freep) OciIndex *top = NULL;
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        _cleanup_(oci_config_freep) OciConfig *c = NULL;
        _cleanup_(loader_done) Loader l = { .layout_fd = layout_fd, .arch = arch };
        const OciDescriptor *chosen = NULL;
        char buf[100];
        int r;

        {
                _cleanup_json_ json_t *j = NULL;

                r = read_json_file(layout_fd, "oci-layout", false, "OCI layout file", &j, NULL, NULL,
                                   ret_message);
                if (r < 0)
                        return r;
                r = oci_layout_check(j, ret_message);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_json_ json_t *j = NULL;

                r = read_json_file(layout_fd, "index.json", false, "Image index", &j, NULL, NULL,
                                   ret_message);
                if (r < 0)
                        return r;
                r = oci_index_parse(j, &top, ret_message);
                if (r < 0)
                        return r;
        }

        r = choose_image(top, tag, &chosen, ret_message);
        if (r < 0)
                return r;
        r = select_manifest(&l, top->manifests, top->n_manifests, chosen, 0, ret_message);
        if (r < 0)
                return r;
        if (r == 0) {
                _cleanup_free_ char *list = NULL;

                if (names_join(l.platforms_seen, &list) < 0)
                        return fail_oom(ret_message);
                return fail(ret_message, -ENOEXEC, "Image '%s' has no manifest for linux/%s (only for: %s).",
                            printable(image_display_name(chosen), buf), arch, list[0] ? list : "none");
        }

        {
                _cleanup_json_ json_t *j = NULL;

                r = read_json_blob(layout_fd, &l.manifest, "Image manifest", &j, ret_message);
                if (r < 0)
                        return r;
                r = oci_manifest_parse(j, &m, ret_message);
                if (r < 0)
                        return r;
        }
        if (!media_type_is_config(m->config.media_type))
                return fail(ret_message, -EPROTONOSUPPORT,
                            "Manifest %s is not a container image's: its config has media type '%s'.",
                            l.manifest.digest, m->config.media_type);
        {
                _cleanup_json_ json_t *j = NULL;

                r = read_json_blob(layout_fd, &m->config, "Image config", &j, ret_message);
                if (r < 0)
                        return r;
                r = oci_config_parse(j, &c, ret_message);
                if (r < 0)
                        return r;
        }
        if (c->n_diff_ids != m->n_layers)
                return fail(ret_message, -EBADMSG, "Manifest %s lists %zu layers, its config %zu diff_ids.",
                            l.manifest.digest, m->n_layers, c->n_diff_ids);

        img->format = OCI_IMAGE_FORMAT_LAYOUT;
        img->manifest_digest = strdup(l.manifest.digest);
        img->config_digest = strdup(m->config.digest);
        if (tag)
                img->ref_name = strdup(tag);
        else if (chosen->ref_name || chosen->image_name)
                img->ref_name = strdup(chosen->image_name ?: chosen->ref_name);
        img->layers = calloc(m->n_layers ?: 1, sizeof(OciLayer));
        if (!img->manifest_digest || !img->config_digest || !img->layers ||
            ((tag || chosen->ref_name || chosen->image_name) && !img->ref_name))
                return fail_oom(ret_message);

        for (size_t i = 0; i < m->n_layers; i++) {
                const OciDescriptor *d = m->layers + i;
                OciLayer *layer = img->layers + i;
                char path[STRLEN("blobs/sha256/") + 65];
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                layer->compression = oci_layer_media_type_to_compression(d->media_type);
                if (layer->compression < 0)
                        return fail(ret_message, -EPROTONOSUPPORT,
                                    "Layer %zu has unsupported media type '%s'.", i, d->media_type);
                if (blob_path(d->digest, path) < 0)
                        return unsupported_digest("Layer", d->digest, ret_message);

                r = open_regular(layout_fd, path, false, &fd, &st);
                if (r < 0)
                        return open_error(r, "Layer blob", d->digest, ret_message);
                if ((uint64_t) st.st_size != d->size)
                        return fail(ret_message, -EBADMSG,
                                    "Layer blob %s has %llu bytes, the manifest says %llu.", d->digest,
                                    (unsigned long long) st.st_size, (unsigned long long) d->size);

                layer->path = strdup(path);
                layer->digest = strdup(d->digest);
                layer->media_type = strdup(d->media_type);
                layer->diff_id = strdup(c->diff_ids[i]);
                layer->size = d->size;
                img->n_layers = i + 1;
                if (!layer->path || !layer->digest || !layer->media_type || !layer->diff_id)
                        return fail_oom(ret_message);
        }

        return image_set_defaults(img, c, arch, ret_message);
}

static int docker_choose(const DockerManifest *m, const char *tag, const DockerManifestEntry **ret,
                         char **ret_message) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *list = NULL;
        const DockerManifestEntry *chosen = NULL;
        bool ambiguous = false;
        char buf[100];

        for (size_t i = 0; i < m->n_entries; i++) {
                const DockerManifestEntry *e = m->entries + i;
                bool matches = !tag;

                for (char **t = e->repo_tags; t && *t; t++) {
                        if (strv_length(names) < LISTED_MAX && strv_extend(&names, printable(*t, buf)) < 0)
                                return fail_oom(ret_message);
                        matches = matches || oci_reference_matches(*t, tag);
                }
                if (!matches)
                        continue;
                if (chosen)
                        ambiguous = true;
                else
                        chosen = e;
        }

        if (names_join(names, &list) < 0)
                return fail_oom(ret_message);
        if (!chosen)
                return fail(ret_message, -ENOENT, "No image tagged '%s' in the archive (it has: %s).",
                            printable(tag, buf), names ? list : "none");
        if (ambiguous && tag)
                return fail(ret_message, -ENOTUNIQ, "Tag '%s' names several images in the archive: %s.",
                            printable(tag, buf), list);
        if (ambiguous)
                return fail(ret_message, -ENOTUNIQ,
                            "The archive holds several images (%s): choose one by tag.",
                            names ? list : "untagged");

        *ret = chosen;
        return 0;
}

/* "HEX.json" (docker save before 25, skopeo) and "blobs/sha256/HEX" name the config by its
 * digest; elsewhere the name is arbitrary. */
static bool docker_config_digest_from_path(const char *path, char ret[static OCI_DIGEST_STRING_SIZE]) {
        const char *base = strrchr(path, '/');
        const char *hex;

        if (strncmp(path, "blobs/sha256/", 13) == 0 && !strchr(path + 13, '/')) {
                hex = path + 13;
                if (strlen(hex) != 64)
                        return false;
        } else {
                hex = base ? base + 1 : path;
                if (strlen(hex) != 64 + 5 || !streq(hex + 64, ".json"))
                        return false;
        }
        if (!is_lower_hex(hex, 64))
                return false;
        snprintf(ret, OCI_DIGEST_STRING_SIZE, "sha256:%.64s", hex);
        return true;
}

static int detect_compression(int fd, const char *path, OciCompression *ret, char **ret_message) {
        unsigned char magic[6] = {};
        ssize_t n;

        n = pread(fd, magic, sizeof magic, 0);
        if (n < 0)
                return fail(ret_message, -errno, "Failed to read layer '%s': %m", path);

        if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
                *ret = OCI_COMPRESSION_GZIP;
        else if (n >= 4 && memcmp(magic, "\x28\xb5\x2f\xfd", 4) == 0)
                *ret = OCI_COMPRESSION_ZSTD;
        else if ((n >= 6 && memcmp(magic,
                                   "\xfd"
                                   "7zXZ\0",
                                   6) == 0) ||
                 (n >= 3 && memcmp(magic, "BZh", 3) == 0))
                return fail(ret_message, -EPROTONOSUPPORT,
                            "Layer '%s' is compressed with xz or bzip2; only gzip and zstd are supported.",
                            path);
        else
                *ret = OCI_COMPRESSION_NONE;
        return 0;
}

static int load_docker(int layout_fd, const char *tag, const char *arch, OciImage *img, char **ret_message) {
        _cleanup_(docker_manifest_freep) DockerManifest *m = NULL;
        _cleanup_(oci_config_freep) OciConfig *c = NULL;
        const DockerManifestEntry *e = NULL;
        char digest[OCI_DIGEST_STRING_SIZE], named[OCI_DIGEST_STRING_SIZE], buf[100];
        int r;

        {
                _cleanup_json_ json_t *j = NULL;

                r = read_json_file(layout_fd, "manifest.json", false, "Docker archive manifest", &j, NULL,
                                   NULL, ret_message);
                if (r < 0)
                        return r;
                r = docker_manifest_parse(j, &m, ret_message);
                if (r < 0)
                        return r;
        }

        r = docker_choose(m, tag, &e, ret_message);
        if (r < 0)
                return r;

        {
                _cleanup_json_ json_t *j = NULL;
                _cleanup_free_ char *cbuf = NULL;
                size_t csize;

                r = read_json_file(layout_fd, e->config, true, "Image config", &j, &cbuf, &csize,
                                   ret_message);
                if (r < 0)
                        return r;
                r = digest_of(cbuf, csize, digest);
                if (r < 0)
                        return fail(ret_message, r, "Failed to hash the image config: %s", strerror(-r));
                if (docker_config_digest_from_path(e->config, named) && !streq(named, digest))
                        return fail(ret_message, -EBADMSG,
                                    "Image config '%s' does not match its digest (it is %s).",
                                    printable(e->config, buf), digest);
                r = oci_config_parse(j, &c, ret_message);
                if (r < 0)
                        return r;
        }
        if (c->n_diff_ids != e->n_layers)
                return fail(ret_message, -EBADMSG,
                            "manifest.json lists %zu layers, the image config %zu diff_ids.", e->n_layers,
                            c->n_diff_ids);

        img->format = OCI_IMAGE_FORMAT_DOCKER_ARCHIVE;
        img->config_digest = strdup(digest);
        if (tag || e->repo_tags)
                img->ref_name = strdup(tag ?: e->repo_tags[0]);
        img->layers = calloc(e->n_layers ?: 1, sizeof(OciLayer));
        if (!img->config_digest || !img->layers || ((tag || e->repo_tags) && !img->ref_name))
                return fail_oom(ret_message);

        for (size_t i = 0; i < e->n_layers; i++) {
                OciLayer *layer = img->layers + i;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                /* docker save links layers it has twice; the link stays inside the archive. */
                r = open_regular(layout_fd, e->layers[i], true, &fd, &st);
                if (r < 0)
                        return open_error(r, "Layer", e->layers[i], ret_message);
                r = detect_compression(fd, printable(e->layers[i], buf), &layer->compression, ret_message);
                if (r < 0)
                        return r;

                layer->path = strdup(e->layers[i]);
                layer->media_type = strdup(docker_layer_media_types[layer->compression]);
                layer->diff_id = strdup(c->diff_ids[i]);
                layer->size = (uint64_t) st.st_size;
                img->n_layers = i + 1;
                if (!layer->path || !layer->media_type || !layer->diff_id)
                        return fail_oom(ret_message);
        }

        return image_set_defaults(img, c, arch, ret_message);
}

int oci_image_load(int layout_fd, const char *tag, OciImage **ret, char **ret_message) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        const char *arch;
        struct stat st;
        char buf[100];
        int r;

        if (ret_message)
                *ret_message = NULL;
        if (tag && (!*tag || strlen(tag) > OCI_NAME_MAX))
                return fail(ret_message, -EINVAL, "Invalid tag '%s'.", printable(tag, buf));
        arch = oci_host_architecture();
        if (!arch)
                return fail(ret_message, -ENOEXEC, "This host's architecture has no OCI name.");

        img = calloc(1, sizeof(OciImage));
        if (!img)
                return fail_oom(ret_message);

        /* Docker 25+ writes both files: the index is the one with digests. */
        if (fstatat(layout_fd, "index.json", &st, AT_SYMLINK_NOFOLLOW) >= 0)
                r = load_layout(layout_fd, tag, arch, img, ret_message);
        else if (errno != ENOENT)
                return fail(ret_message, -errno, "Failed to look for index.json: %m");
        else if (fstatat(layout_fd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) >= 0)
                r = load_docker(layout_fd, tag, arch, img, ret_message);
        else if (errno == ENOENT)
                return fail(ret_message, -ENOENT,
                            "Neither index.json nor manifest.json found: not an OCI image layout or docker "
                            "archive.");
        else
                return fail(ret_message, -errno, "Failed to look for manifest.json: %m");
        if (r < 0)
                return r;

        *ret = TAKE_PTR(img);
        return 0;
}

int oci_layer_open(int layout_fd, const OciImage *img, size_t i, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (!img || i >= img->n_layers)
                return -EINVAL;

        r = open_regular(layout_fd, img->layers[i].path, img->format == OCI_IMAGE_FORMAT_DOCKER_ARCHIVE, &fd,
                         &st);
        if (r == -EBADFD || r == -EXDEV)
                return -EBADMSG;
        if (r < 0)
                return r;
        if ((uint64_t) st.st_size != img->layers[i].size)
                return -EBADMSG;

        *ret_fd = TAKE_FD(fd);
        return 0;
}

int oci_diff_id_init(OciDiffIdHasher *h) {
        *h = (OciDiffIdHasher) {};
        return digest_new(DIGEST_SHA256, &h->ctx);
}

void oci_diff_id_update(OciDiffIdHasher *h, const void *data, size_t size) {
        if (!h->ctx || EVP_DigestUpdate(h->ctx, data, size) != 1)
                h->failed = true;
        h->size += size;
}

int oci_diff_id_final(OciDiffIdHasher *h, char ret[static OCI_DIGEST_STRING_SIZE]) {
        uint8_t out[DIGEST_SHA256_SIZE];
        int r;

        r = h->failed || !h->ctx ? -EIO : digest_final(h->ctx, out);
        oci_diff_id_done(h);
        if (r < 0)
                return r;
        sha256_to_digest(out, ret);
        return 0;
}

int oci_diff_id_verify(OciDiffIdHasher *h, const char *expected) {
        char digest[OCI_DIGEST_STRING_SIZE];
        int r;

        r = oci_diff_id_final(h, digest);
        if (r < 0)
                return r;
        return expected && streq(digest, expected) ? 0 : -EBADMSG;
}

void oci_diff_id_done(OciDiffIdHasher *h) {
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        h->ctx = NULL;
}

int oci_blob_verify(int fd, const char *digest, uint64_t size) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_oci_diff_id_ OciDiffIdHasher h = {};
        uint64_t offset = 0;
        int r;

        if (!digest || !oci_digest_is_valid(digest))
                return -EINVAL;
        if (!oci_digest_is_sha256(digest))
                return -EPROTONOSUPPORT;

        buf = malloc(READ_CHUNK);
        if (!buf)
                return -ENOMEM;
        r = oci_diff_id_init(&h);
        if (r < 0)
                return r;

        for (;;) {
                ssize_t n = pread(fd, buf, READ_CHUNK, (off_t) offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                offset += (uint64_t) n;
                /* Longer than it should be: no need to read the rest. */
                if (offset > size)
                        return -EBADMSG;
                oci_diff_id_update(&h, buf, (size_t) n);
        }
        if (offset != size)
                return -EBADMSG;

        return oci_diff_id_verify(&h, digest);
}

typedef struct RawReader {
        int fd;
        uint64_t limit; /* the blob's size: more is an error */
        OciDiffIdHasher blob;
        bool too_long;
        char buf[READ_CHUNK];
} RawReader;

static void raw_reader_freep(RawReader **rr) {
        if (!*rr)
                return;
        oci_diff_id_done(&(*rr)->blob);
        free(*rr);
}

static ssize_t raw_read(struct archive *a, void *userdata, const void **ret_buf) {
        RawReader *rr = userdata;
        ssize_t n;

        do
                n = read(rr->fd, rr->buf, sizeof rr->buf);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                archive_set_error(a, errno, "read: %m");
                return -1;
        }
        oci_diff_id_update(&rr->blob, rr->buf, (size_t) n);
        if (rr->blob.size > rr->limit) {
                rr->too_long = true;
                archive_set_error(a, EFBIG, "blob is longer than its descriptor says");
                return -1;
        }
        *ret_buf = rr->buf;
        return n;
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

int oci_layer_verify(int layout_fd, const OciImage *img, size_t i, uint64_t max_uncompressed,
                     char **ret_message) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_(raw_reader_freep) RawReader *rr = NULL;
        _cleanup_free_ char *data = NULL;
        struct archive_entry *entry;
        _cleanup_close_ int fd = -EBADF;
        const OciLayer *layer;
        _cleanup_oci_diff_id_ OciDiffIdHasher diff = {};
        const char *path;
        char buf[100];
        int r;

        if (ret_message)
                *ret_message = NULL;
        if (!img || i >= img->n_layers)
                return fail(ret_message, -EINVAL, "No layer %zu.", i);
        layer = img->layers + i;
        path = printable(layer->path, buf);

        r = oci_layer_open(layout_fd, img, i, &fd);
        if (r < 0)
                return fail(ret_message, r, "Failed to open layer %zu (%s): %s", i, path,
                            r == -EBADMSG ? "not a regular file of the size loaded" : strerror(-r));

        rr = calloc(1, sizeof(RawReader));
        data = malloc(READ_CHUNK);
        a = archive_read_new();
        if (!rr || !data || !a)
                return fail_oom(ret_message);
        rr->fd = fd;
        rr->limit = layer->size;
        r = oci_diff_id_init(&rr->blob);
        if (r >= 0)
                r = oci_diff_id_init(&diff);
        if (r < 0)
                return fail(ret_message, r, "Failed to set up hashing: %s", strerror(-r));

        /* Only the filter the media type says: a layer that claims to be a plain tar is not
         * decompressed, and its diff_id will tell. */
        if (layer->compression == OCI_COMPRESSION_GZIP)
                archive_read_support_filter_gzip(a);
        else if (layer->compression == OCI_COMPRESSION_ZSTD)
                archive_read_support_filter_zstd(a);
        archive_read_support_format_raw(a);

        if (archive_read_open(a, rr, NULL, raw_read, NULL) != ARCHIVE_OK ||
            archive_read_next_header(a, &entry) != ARCHIVE_OK)
                return fail(ret_message, -EBADMSG, "Layer %zu (%s) cannot be read: %s", i, path,
                            archive_error_string(a) ?: "no data");

        for (;;) {
                la_ssize_t n = archive_read_data(a, data, READ_CHUNK);

                if (n == 0)
                        break;
                if (n < 0)
                        return fail(ret_message, -EBADMSG, "Layer %zu (%s) is corrupt: %s", i, path,
                                    archive_error_string(a) ?: "read error");
                oci_diff_id_update(&diff, data, (size_t) n);
                if (diff.size > max_uncompressed)
                        return fail(ret_message, -EFBIG,
                                    "Layer %zu (%s) is larger than %llu bytes uncompressed.", i, path,
                                    (unsigned long long) max_uncompressed);
        }

        /* The decompressor may stop before the end of the blob (at the end of the last
         * gzip member); the blob's digest covers all of it. */
        for (;;) {
                const void *p;
                ssize_t n = raw_read(a, rr, &p);

                if (n < 0)
                        return fail(ret_message, -EBADMSG, "Layer %zu (%s) could not be read to its end: %s",
                                    i, path, archive_error_string(a) ?: "read error");
                if (n == 0)
                        break;
        }

        if (rr->blob.size != layer->size)
                return fail(ret_message, -EBADMSG, "Layer %zu (%s) has %llu bytes, not %llu.", i, path,
                            (unsigned long long) rr->blob.size, (unsigned long long) layer->size);
        if (layer->digest && oci_diff_id_verify(&rr->blob, layer->digest) < 0)
                return fail(ret_message, -EBADMSG, "Layer %zu (%s) does not match its digest %s.", i, path,
                            layer->digest);
        if (oci_diff_id_verify(&diff, layer->diff_id) < 0)
                return fail(ret_message, -EBADMSG, "Layer %zu (%s) does not match its diff_id %s.", i, path,
                            layer->diff_id);
        return 0;
}

int oci_image_config_to_json(const OciImage *img, json_t **ret) {
        const OciDefaults *d = &img->defaults;
        json_t *j;

        j = json_pack("{s:o, s:o, s:o, s:s?, s:s?, s:s, s:s}", "entrypoint", strv_to_json(d->entrypoint),
                      "cmd", strv_to_json(d->cmd), "environment", strv_to_json(d->env), "working_directory",
                      d->working_dir, "user", d->user, "architecture", img->architecture, "os", img->os);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

int oci_defaults_from_json(json_t *j, OciDefaults *ret) {
        if (!json_is_object(j))
                return -EBADMSG;
        return defaults_parse(j, "Image defaults", "entrypoint", "cmd", "environment", "working_directory",
                              "user", ret, NULL);
}
