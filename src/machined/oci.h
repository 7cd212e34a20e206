/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading an OCI image layout or an unpacked docker-archive ("docker save") and choosing
 * one image in it: the verified manifest and config, the ordered layers to extract and
 * the defaults the config sets for `podctl run`. Nothing here extracts a layer.
 *
 * Error codes, also of the parsers below (*ret_message says more in one line, and is
 * NULL on success or when even the message could not be allocated):
 *   -EBADMSG          malformed JSON or schema, or a blob whose size or digest is wrong
 *   -EFBIG            a JSON file larger than OCI_JSON_MAX
 *   -E2BIG            more layers, manifests, entries or indexes than the bounds below
 *   -EPROTONOSUPPORT  a digest algorithm other than sha256, an unknown layer media type
 *                     or compression, a config that is not a container image's, an
 *                     unknown imageLayoutVersion
 *   -ENOENT           a missing blob or file, no image with the tag asked for
 *   -ENOTUNIQ         no tag given and several images, or a tag naming several
 *   -ENOEXEC          no manifest for linux on this host's architecture
 *   -ELOOP            a symlink where a blob must be, indexes nested too deep
 *   -ENOMEM */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "macro.h"

#define OCI_JSON_MAX (4U * 1024U * 1024U) /* oci-layout, index, manifest, config, manifest.json */
#define OCI_LAYERS_MAX 256U
#define OCI_MANIFESTS_MAX 1024U /* descriptors in one index, images in one manifest.json */
#define OCI_INDEX_DEPTH_MAX 4U /* indexes nested below index.json */
#define OCI_INDEXES_MAX 32U /* index blobs read to select one image, in all */
#define OCI_STRV_MAX 4096U /* entries of Entrypoint, Cmd, Env, RepoTags */
#define OCI_ARG_MAX (128U * 1024U) /* one argument or environment entry: the kernel's MAX_ARG_STRLEN */
#define OCI_NAME_MAX 1024U /* tags, paths in an archive, user, working directory */
#define OCI_MEDIA_TYPE_MAX 255U
#define OCI_PLATFORM_MAX 64U /* os, architecture, variant */
#define OCI_DIGEST_MAX 255U /* any algorithm's digest string */

/* "sha256:" + 64 lowercase hex digits + NUL: the only digests we can verify. */
#define OCI_DIGEST_STRING_SIZE (STRLEN("sha256:") + 64 + 1)

typedef enum OciImageFormat {
        OCI_IMAGE_FORMAT_LAYOUT, /* index.json + blobs/; also Docker 25+ "docker save" */
        OCI_IMAGE_FORMAT_DOCKER_ARCHIVE, /* manifest.json + config + layer tars */
        _OCI_IMAGE_FORMAT_MAX,
        _OCI_IMAGE_FORMAT_INVALID = -EINVAL,
} OciImageFormat;

typedef enum OciCompression {
        OCI_COMPRESSION_NONE,
        OCI_COMPRESSION_GZIP,
        OCI_COMPRESSION_ZSTD,
        _OCI_COMPRESSION_MAX,
        _OCI_COMPRESSION_INVALID = -EINVAL,
} OciCompression;

const char *oci_image_format_to_string(OciImageFormat f);
const char *oci_compression_to_string(OciCompression c);

/* What `podctl run` uses unless told otherwise. */
typedef struct OciDefaults {
        char **entrypoint; /* NULL if the image sets none */
        char **cmd;
        char **env; /* "KEY=VALUE" */
        char *working_dir; /* absolute, or NULL */
        char *user; /* "user", "uid", "user:group", ...; NULL: root */
} OciDefaults;

typedef struct OciLayer {
        char *path; /* relative to the layout fd: blobs/sha256/HEX, or the archive's name for it */
        char *digest; /* "sha256:HEX" of the blob as stored; NULL in a docker archive, which has none */
        uint64_t size; /* of the blob as stored */
        char *media_type;
        OciCompression compression;
        char *diff_id; /* "sha256:HEX" of the uncompressed tar, from the config */
} OciLayer;

typedef struct OciImage {
        OciImageFormat format;
        /* The tag it was selected by; without one, the image's name: io.containerd.image.name,
         * else org.opencontainers.image.ref.name, else RepoTags[0]. May be NULL. */
        char *ref_name;
        char *manifest_digest; /* NULL in a docker archive */
        char *config_digest; /* sha256 of the config: the image ID */
        char *architecture;
        char *os;
        OciDefaults defaults;
        OciLayer *layers; /* base layer first */
        size_t n_layers;
} OciImage;

/* Selects one image in the directory layout_fd, an OCI image layout (index.json) or, if it
 * has none, an unpacked docker-archive (manifest.json).
 *
 * tag: matched against org.opencontainers.image.ref.name (OCI), io.containerd.image.name
 * (Docker 25+) or RepoTags (docker-archive), in full ("docker.io/library/" and "docker.io/"
 * may be left out) or by the part after the name's last ':' alone ("v1" for "app:v1").
 * NULL selects the only image; several are -ENOTUNIQ.
 *
 * Nested indexes are followed, and of several manifests the first for linux on this host's
 * architecture is taken. The JSON blobs (indexes, manifest, config) are verified against
 * their size and digest here; the layer blobs are only checked to exist with the size the
 * manifest gives: their digests and diff_ids are checked while they are extracted (see
 * OciDiffIdHasher) or by oci_layer_verify(). */
int oci_image_load(int layout_fd, const char *tag, OciImage **ret, char **ret_message);
OciImage *oci_image_free(OciImage *img);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciImage *, oci_image_free);

/* Opens layer i read-only: a regular file, no symlink in its path (in a docker archive,
 * symlinks are followed but never out of layout_fd, as docker save makes them), its size
 * the one loaded. The fd is at offset 0, O_CLOEXEC. -EBADMSG if it is not a regular file
 * or its size changed, -ELOOP for a symlink, -ENOENT if gone. */
int oci_layer_open(int layout_fd, const OciImage *img, size_t i, int *ret_fd);

/* Reads the fd from offset 0 (with pread: its offset is not moved) and checks it has
 * exactly size bytes whose sha256 is digest. -EBADMSG if not, -EPROTONOSUPPORT for
 * another algorithm, -EINVAL for an invalid digest. */
int oci_blob_verify(int fd, const char *digest, uint64_t size);

/* Streaming sha256 in the digest format, for checking a layer during its extraction in
 * one pass. For layer i of img:
 *
 *   fd = oci_layer_open(...);
 *   blob hasher:   every byte read from fd, compressed as stored. At the end, it must
 *                  have seen exactly layers[i].size bytes and, if layers[i].digest is set
 *                  (OCI), oci_diff_id_verify(&blob, layers[i].digest) must be 0.
 *   diff_id hasher: every byte of the *uncompressed* tar stream. At the end,
 *                  oci_diff_id_verify(&diff, layers[i].diff_id) must be 0.
 *
 * With libarchive: hand the raw bytes to the reader through archive_read_open() with a
 * read callback that feeds the blob hasher; to see the uncompressed stream, decompress
 * with a reader that has only archive_read_support_format_raw() and the filter of
 * layers[i].compression, feed its data to the diff_id hasher and on to the tar reader
 * (again through a read callback). Read both streams to their very end, after the tar
 * reader has seen its end-of-archive blocks: the digests cover any padding after them.
 * oci_layer_verify() below does this (without the tar reader) and may serve as a model.
 * If a check fails, throw the extracted tree away: the image is corrupt or was changed
 * while it was read.
 *
 * The hasher owns a libcrypto context: declare it with _cleanup_oci_diff_id_ (zeroed), or
 * call oci_diff_id_done() on every path; final() and verify() free it too. */
typedef struct OciDiffIdHasher {
        EVP_MD_CTX *ctx;
        uint64_t size; /* bytes seen so far, e.g. to bound decompression */
        bool failed;   /* an update failed: final() reports it */
} OciDiffIdHasher;

/* -ENOMEM, -EIO. */
int oci_diff_id_init(OciDiffIdHasher *h);
void oci_diff_id_update(OciDiffIdHasher *h, const void *data, size_t size);
/* "sha256:HEX" of what was seen; h is finished after this. -EIO if hashing failed. */
int oci_diff_id_final(OciDiffIdHasher *h, char ret[static OCI_DIGEST_STRING_SIZE]);
/* Finishes h and compares: 0 if it is expected, -EBADMSG if not, -EIO as final(). */
int oci_diff_id_verify(OciDiffIdHasher *h, const char *expected);
/* Frees the context; idempotent, and a no-op on a zeroed hasher. */
void oci_diff_id_done(OciDiffIdHasher *h);
#define _cleanup_oci_diff_id_ _cleanup_(oci_diff_id_done)

/* A separate pass over layer i: checks the blob's size and digest and the diff_id of its
 * decompressed tar, reading at most max_uncompressed bytes of that (-EFBIG beyond). */
int oci_layer_verify(int layout_fd, const OciImage *img, size_t i, uint64_t max_uncompressed,
                     char **ret_message);

/* The image record's view of img: {"entrypoint": [...], "cmd": [...], "environment": [...],
 * "working_directory": "/..."|null, "user": "..."|null, "architecture": "...", "os": "..."}. */
int oci_image_config_to_json(const OciImage *img, json_t **ret);
/* Reads the defaults back from such an object (other keys are ignored), with the bounds
 * and checks the config had. -EBADMSG if they do not hold. */
int oci_defaults_from_json(json_t *j, OciDefaults *ret);
void oci_defaults_done(OciDefaults *d);

/* The host's architecture as OCI (Go's GOARCH) names it, from uname(2); NULL if unknown. */
const char *oci_host_architecture(void);

/* The parts, exposed for the fuzzer and the tests. Each takes an already parsed JSON value
 * (load it with JSON_REJECT_DUPLICATES) and checks the schema and the bounds above. */
typedef struct OciDescriptor {
        char *media_type;
        char *digest; /* valid by the grammar; a sha256 one is 64 lowercase hex */
        uint64_t size;
        char *ref_name; /* annotation org.opencontainers.image.ref.name */
        char *image_name; /* annotation io.containerd.image.name */
        char *os; /* platform; all three NULL if none is given */
        char *architecture;
        char *variant;
} OciDescriptor;

typedef struct OciIndex {
        OciDescriptor *manifests;
        size_t n_manifests;
} OciIndex;

typedef struct OciManifest {
        OciDescriptor config;
        OciDescriptor *layers;
        size_t n_layers;
} OciManifest;

typedef struct OciConfig {
        char *architecture;
        char *os;
        char *variant;
        OciDefaults defaults;
        char **diff_ids; /* all sha256 */
        size_t n_diff_ids;
} OciConfig;

typedef struct DockerManifestEntry {
        char *config; /* paths in the archive, all checked by docker_archive_path_is_valid() */
        char **repo_tags; /* may be NULL */
        char **layers;
        size_t n_layers;
} DockerManifestEntry;

typedef struct DockerManifest {
        DockerManifestEntry *entries;
        size_t n_entries;
} DockerManifest;

/* The oci-layout file: -EPROTONOSUPPORT for an imageLayoutVersion other than 1.x. */
int oci_layout_check(json_t *j, char **ret_message);
int oci_index_parse(json_t *j, OciIndex **ret, char **ret_message);
int oci_manifest_parse(json_t *j, OciManifest **ret, char **ret_message);
int oci_config_parse(json_t *j, OciConfig **ret, char **ret_message);
int docker_manifest_parse(json_t *j, DockerManifest **ret, char **ret_message);

OciIndex *oci_index_free(OciIndex *idx);
OciManifest *oci_manifest_free(OciManifest *m);
OciConfig *oci_config_free(OciConfig *c);
DockerManifest *docker_manifest_free(DockerManifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciIndex *, oci_index_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciManifest *, oci_manifest_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciConfig *, oci_config_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(DockerManifest *, docker_manifest_free);

/* The digest grammar of the image-spec, with sha256 held to 64 lowercase hex digits. */
bool oci_digest_is_valid(const char *s);
bool oci_digest_is_sha256(const char *s);
/* Relative, no ".." component, not empty, at most OCI_NAME_MAX bytes. */
bool docker_archive_path_is_valid(const char *p);
/* The compression a layer media type stands for; _OCI_COMPRESSION_INVALID if it is not a
 * layer type we extract. */
OciCompression oci_layer_media_type_to_compression(const char *media_type);
/* Whether the image name or tag ref is what the user asked for with tag (see oci_image_load). */
bool oci_reference_matches(const char *ref, const char *tag);
