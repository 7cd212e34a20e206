/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "oci.h"
#include "strv.h"
#include "tests.h"

extern char **environ;

static char tmp_dir[] = "/var/tmp/test-oci-XXXXXX";
static int tmp_fd = -EBADF;
static bool have_tools;

/* ---- helpers ---------------------------------------------------------------------- */

static char *tmp_path(const char *name) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/%s", tmp_dir, name) >= 0);
        return p;
}

/* Runs a tool with a fixed argv, stdout to /dev/null; returns its exit status. */
static int spawn(char *const argv[]) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int status;

        ASSERT_EQ(posix_spawn_file_actions_init(&fa), 0);
        ASSERT_EQ(posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0), 0);
        ASSERT_EQ(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define TOOL(...)                                            \
        do {                                                 \
                char *const _argv[] = { __VA_ARGS__, NULL }; \
                ASSERT_EQ(spawn(_argv), 0);                  \
        } while (0)

static bool in_path(const char *name) {
        _cleanup_free_ char *path = strdup(getenv("PATH") ?: "/usr/bin:/bin");

        ASSERT_TRUE(path);
        for (char *s = NULL, *dir = strtok_r(path, ":", &s); dir; dir = strtok_r(NULL, ":", &s)) {
                _cleanup_free_ char *p = NULL;

                ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) >= 0);
                if (access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

static void write_at(int dir_fd, const char *name, const void *data, size_t size) {
        _cleanup_close_ int fd =
                openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, data, size), (ssize_t) size);
}

static void write_str(int dir_fd, const char *name, const char *s) {
        write_at(dir_fd, name, s, strlen(s));
}

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

static void write_json_at(int dir_fd, const char *name, json_t *j) {
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);

        ASSERT_TRUE(s);
        write_at(dir_fd, name, s, strlen(s));
        json_decref(j);
}

static void digest_of(const void *data, size_t size, char ret[static OCI_DIGEST_STRING_SIZE]) {
        _cleanup_oci_diff_id_ OciDiffIdHasher h = {};

        ASSERT_OK(oci_diff_id_init(&h));
        oci_diff_id_update(&h, data, size);
        ASSERT_OK(oci_diff_id_final(&h, ret));
}

static char *blob_name(const char *digest) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "blobs/sha256/%s", digest + 7) >= 0);
        return p;
}

/* A blob named by its content. */
static void put_blob(int dir_fd, const void *data, size_t size, char ret[static OCI_DIGEST_STRING_SIZE]) {
        _cleanup_free_ char *name = NULL;

        digest_of(data, size, ret);
        name = blob_name(ret);
        write_at(dir_fd, name, data, size);
}

static size_t put_json_blob(int dir_fd, json_t *j, char ret[static OCI_DIGEST_STRING_SIZE]) {
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);

        ASSERT_TRUE(s);
        put_blob(dir_fd, s, strlen(s), ret);
        json_decref(j);
        return strlen(s);
}

static int new_layout(const char *name) {
        _cleanup_close_ int blobs = -EBADF;
        int fd;

        ASSERT_OK(mkdirat(tmp_fd, name, 0755));
        fd = openat(tmp_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(mkdirat(fd, "blobs", 0755));
        ASSERT_OK(mkdirat(fd, "blobs/sha256", 0755));
        write_str(fd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        return fd;
}

/* A small layer: a directory, a file and a whiteout, as the extraction side will see them. */
static void make_tar(OciCompression c, char **ret, size_t *ret_size,
                     char diff_id[static OCI_DIGEST_STRING_SIZE]) {
        static const struct {
                const char *path;
                mode_t type;
                const char *data;
        } entries[] = {
                { "etc", AE_IFDIR, NULL },
                { "etc/hello", AE_IFREG, "hello\n" },
                { "etc/.wh.bye", AE_IFREG, "" },
        };
        size_t cap = 64 * 1024, used = 0;
        char *buf = malloc(cap);
        struct archive *a;

        ASSERT_TRUE(buf);
        for (int pass = 0; pass < 2; pass++) {
                a = archive_write_new();
                ASSERT_TRUE(a);
                ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
                /* First the plain tar for its diff_id, then the blob as stored. */
                if (pass == 1 && c == OCI_COMPRESSION_GZIP)
                        ASSERT_EQ(archive_write_add_filter_gzip(a), ARCHIVE_OK);
                if (pass == 1 && c == OCI_COMPRESSION_ZSTD)
                        ASSERT_EQ(archive_write_add_filter_zstd(a), ARCHIVE_OK);
                ASSERT_EQ(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
                for (size_t i = 0; i < ELEMENTSOF(entries); i++) {
                        struct archive_entry *e = archive_entry_new();

                        archive_entry_set_pathname(e, entries[i].path);
                        archive_entry_set_filetype(e, entries[i].type);
                        archive_entry_set_perm(e, 0755);
                        archive_entry_set_mtime(e, 1, 0);
                        if (entries[i].data)
                                archive_entry_set_size(e, (la_int64_t) strlen(entries[i].data));
                        ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
                        if (entries[i].data && *entries[i].data)
                                ASSERT_EQ(archive_write_data(a, entries[i].data, strlen(entries[i].data)),
                                          (la_ssize_t) strlen(entries[i].data));
                        archive_entry_free(e);
                }
                ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
                archive_write_free(a);
                if (pass == 0)
                        digest_of(buf, used, diff_id);
        }
        *ret = buf;
        *ret_size = used;
}

static json_t *descriptor(const char *media_type, const char *digest, size_t size) {
        json_t *j = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
                              (json_int_t) size);

        ASSERT_TRUE(j);
        return j;
}

static json_t *with_ref(json_t *d, const char *ref) {
        ASSERT_EQ(json_object_set_new(d, "annotations",
                                      json_pack("{s:s}", "org.opencontainers.image.ref.name", ref)),
                  0);
        return d;
}

static json_t *with_platform(json_t *d, const char *os, const char *arch) {
        ASSERT_EQ(
                json_object_set_new(d, "platform", json_pack("{s:s, s:s}", "os", os, "architecture", arch)),
                0);
        return d;
}

static void write_index(int dir_fd, json_t *manifests) {
        write_json_at(dir_fd, "index.json",
                      json_pack("{s:i, s:o}", "schemaVersion", 2, "manifests", manifests));
}

/* An architecture that is not this host's. */
static const char *other_arch(void) {
        return strcmp(oci_host_architecture(), "s390x") == 0 ? "amd64" : "s390x";
}

typedef struct Hand {
        char layer[OCI_DIGEST_STRING_SIZE];
        size_t layer_size;
        char diff_id[OCI_DIGEST_STRING_SIZE];
        char config[OCI_DIGEST_STRING_SIZE];
        size_t config_size;
        char manifest[OCI_DIGEST_STRING_SIZE];
        size_t manifest_size;
} Hand;

typedef struct HandOpts {
        OciCompression compression;
        const char *layer_media_type; /* NULL: the OCI one for compression */
        const char *arch; /* NULL: the host's */
        const char *diff_id; /* NULL: the right one */
        const char *env; /* NULL: "A=1" */
} HandOpts;

/* One image with one layer, written by hand: blobs only, index.json is the caller's. */
static void hand_image(int fd, const HandOpts *o, Hand *h) {
        static const char *const types[] = {
                [OCI_COMPRESSION_NONE] = "application/vnd.oci.image.layer.v1.tar",
                [OCI_COMPRESSION_GZIP] = "application/vnd.oci.image.layer.v1.tar+gzip",
                [OCI_COMPRESSION_ZSTD] = "application/vnd.oci.image.layer.v1.tar+zstd",
        };
        _cleanup_free_ char *tar = NULL;

        *h = (Hand) {};
        make_tar(o->compression, &tar, &h->layer_size, h->diff_id);
        put_blob(fd, tar, h->layer_size, h->layer);

        h->config_size = put_json_blob(
                fd,
                json_pack("{s:s, s:s, s:{s:[s], s:[s, s], s:[s], s:s, s:s}, s:{s:s, s:[s]}}", "architecture",
                          o->arch ?: oci_host_architecture(), "os", "linux", "config", "Entrypoint",
                          "/bin/app", "Cmd", "--serve", "now", "Env", o->env ?: "A=1", "WorkingDir", "/srv",
                          "User", "app", "rootfs", "type", "layers", "diff_ids", o->diff_id ?: h->diff_id),
                h->config);

        h->manifest_size = put_json_blob(
                fd,
                json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType",
                          "application/vnd.oci.image.manifest.v1+json", "config",
                          descriptor("application/vnd.oci.image.config.v1+json", h->config, h->config_size),
                          "layers",
                          descriptor(o->layer_media_type ?: types[o->compression], h->layer, h->layer_size)),
                h->manifest);
}

static json_t *manifest_descriptor(const Hand *h) {
        return descriptor("application/vnd.oci.image.manifest.v1+json", h->manifest, h->manifest_size);
}

/* A layout named name with one hand-made image tagged "hand". */
static int hand_layout(const char *name, const HandOpts *o, Hand *h) {
        int fd = new_layout(name);

        hand_image(fd, o, h);
        write_index(fd, json_pack("[o]", with_ref(manifest_descriptor(h), "hand")));
        return fd;
}

static bool contains(const char *haystack, const char *needle) {
        return haystack && strstr(haystack, needle);
}

/* Loading fails with error, and the message has substr. */
static void assert_load_fails(int fd, const char *tag, int error, const char *substr) {
        _cleanup_free_ char *msg = NULL;
        OciImage *img = NULL;
        int r;

        r = oci_image_load(fd, tag, &img, &msg);
        fprintf(stderr, "  -> %d %s\n", r, msg ?: "(no message)");
        ASSERT_EQ(r, error);
        ASSERT_TRUE(!img);
        ASSERT_TRUE(contains(msg, substr));
}

static OciImage *load_ok(int fd, const char *tag) {
        _cleanup_free_ char *msg = NULL;
        OciImage *img = NULL;
        int r;

        r = oci_image_load(fd, tag, &img, &msg);
        if (r < 0)
                fprintf(stderr, "  -> %d %s\n", r, msg ?: "(no message)");
        ASSERT_OK(r);
        ASSERT_TRUE(img);
        ASSERT_TRUE(!msg);
        return img;
}

static void assert_layers_verify(int fd, const OciImage *img) {
        for (size_t i = 0; i < img->n_layers; i++) {
                _cleanup_free_ char *msg = NULL;
                _cleanup_close_ int lfd = -EBADF;
                int r;

                r = oci_layer_verify(fd, img, i, UINT64_MAX, &msg);
                if (r < 0)
                        fprintf(stderr, "  -> %d %s\n", r, msg ?: "(no message)");
                ASSERT_OK(r);
                ASSERT_OK(oci_layer_open(fd, img, i, &lfd));
                if (img->layers[i].digest)
                        ASSERT_OK(oci_blob_verify(lfd, img->layers[i].digest, img->layers[i].size));
        }
}

/* Whether some entry of the layer is a whiteout: the fixture is what it claims to be. */
static bool layer_has_whiteout(int fd, const OciImage *img, size_t i) {
        _cleanup_close_ int lfd = -EBADF;
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        bool found = false;

        ASSERT_OK(oci_layer_open(fd, img, i, &lfd));
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        ASSERT_EQ(archive_read_open_fd(a, lfd, 16384), ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                const char *base = strrchr(archive_entry_pathname(e), '/');

                base = base ? base + 1 : archive_entry_pathname(e);
                found = found || strncmp(base, ".wh.", 4) == 0;
        }
        archive_read_free(a);
        return found;
}

static void assert_strv(char **l, const char *const *expected) {
        size_t n = 0;

        for (; expected[n]; n++) {
                ASSERT_TRUE(l && l[n]);
                ASSERT_STREQ(l[n], expected[n]);
        }
        ASSERT_EQ(strv_length(l), n);
}

/* ---- pure functions --------------------------------------------------------------- */

TEST(digest_grammar) {
        const char *hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        char s[300];

        snprintf(s, sizeof s, "sha256:%s", hex);
        ASSERT_TRUE(oci_digest_is_valid(s));
        ASSERT_TRUE(oci_digest_is_sha256(s));

        snprintf(s, sizeof s, "sha256:%.63s", hex);
        ASSERT_FALSE(oci_digest_is_valid(s));
        snprintf(s, sizeof s, "sha256:%sa", hex);
        ASSERT_FALSE(oci_digest_is_valid(s));
        snprintf(s, sizeof s, "sha256:E%s", hex + 1);
        ASSERT_FALSE(oci_digest_is_valid(s));
        snprintf(s, sizeof s, "SHA256:%s", hex);
        ASSERT_FALSE(oci_digest_is_valid(s));
        ASSERT_FALSE(oci_digest_is_valid("sha256:../../../etc/passwd"));
        ASSERT_FALSE(oci_digest_is_valid("sha256"));
        ASSERT_FALSE(oci_digest_is_valid(":abc"));
        ASSERT_FALSE(oci_digest_is_valid("sha256:"));
        ASSERT_FALSE(oci_digest_is_valid("a++b:abc"));
        ASSERT_FALSE(oci_digest_is_valid("+a:abc"));
        ASSERT_FALSE(oci_digest_is_valid("a+:abc"));
        ASSERT_FALSE(oci_digest_is_valid("a:b/c"));

        /* Valid but not ours to verify. */
        snprintf(s, sizeof s, "sha512:%s%s", hex, hex);
        ASSERT_TRUE(oci_digest_is_valid(s));
        ASSERT_FALSE(oci_digest_is_sha256(s));
        ASSERT_TRUE(oci_digest_is_valid("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"));
        ASSERT_TRUE(oci_digest_is_valid("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"));
}

TEST(archive_paths) {
        ASSERT_TRUE(docker_archive_path_is_valid("abc/layer.tar"));
        ASSERT_TRUE(docker_archive_path_is_valid("blobs/sha256/abc"));
        ASSERT_TRUE(docker_archive_path_is_valid("a..b/..c"));
        ASSERT_FALSE(docker_archive_path_is_valid(""));
        ASSERT_FALSE(docker_archive_path_is_valid("/etc/passwd"));
        ASSERT_FALSE(docker_archive_path_is_valid("../x"));
        ASSERT_FALSE(docker_archive_path_is_valid("a/../../x"));
        ASSERT_FALSE(docker_archive_path_is_valid("a/.."));
        ASSERT_FALSE(docker_archive_path_is_valid(".."));
}

TEST(references) {
        ASSERT_TRUE(oci_reference_matches("v1", "v1"));
        ASSERT_TRUE(oci_reference_matches("docker.io/example/app:v1", "v1"));
        ASSERT_TRUE(oci_reference_matches("docker.io/example/app:v1", "example/app:v1"));
        ASSERT_TRUE(oci_reference_matches("docker.io/library/busybox:latest", "busybox:latest"));
        ASSERT_TRUE(oci_reference_matches("localhost:5000/app:v2", "v2"));
        ASSERT_FALSE(oci_reference_matches("localhost:5000/app", "5000/app"));
        ASSERT_FALSE(oci_reference_matches("localhost:5000/app", "app"));
        ASSERT_FALSE(oci_reference_matches("app:v1", "v2"));
        ASSERT_FALSE(oci_reference_matches("app:v1", "other:v1"));
        ASSERT_FALSE(oci_reference_matches(NULL, "v1"));
}

TEST(media_types) {
        ASSERT_EQ(oci_layer_media_type_to_compression("application/vnd.oci.image.layer.v1.tar"),
                  OCI_COMPRESSION_NONE);
        ASSERT_EQ(oci_layer_media_type_to_compression("application/vnd.oci.image.layer.v1.tar+gzip"),
                  OCI_COMPRESSION_GZIP);
        ASSERT_EQ(oci_layer_media_type_to_compression("application/vnd.oci.image.layer.v1.tar+zstd"),
                  OCI_COMPRESSION_ZSTD);
        ASSERT_EQ(oci_layer_media_type_to_compression("application/vnd.docker.image.rootfs.diff.tar.gzip"),
                  OCI_COMPRESSION_GZIP);
        ASSERT_EQ(oci_layer_media_type_to_compression(
                          "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
                  OCI_COMPRESSION_GZIP);
        ASSERT_EQ(oci_layer_media_type_to_compression("application/vnd.oci.image.layer.v1.tar+xz"),
                  _OCI_COMPRESSION_INVALID);
        ASSERT_EQ(oci_layer_media_type_to_compression("application/vnd.oci.empty.v1+json"),
                  _OCI_COMPRESSION_INVALID);
        ASSERT_STREQ(oci_compression_to_string(OCI_COMPRESSION_ZSTD), "zstd");
        ASSERT_STREQ(oci_image_format_to_string(OCI_IMAGE_FORMAT_DOCKER_ARCHIVE), "docker-archive");
        ASSERT_TRUE(oci_host_architecture());
}

/* sha256 test vectors (FIPS 180-2), fed in pieces. */
TEST(diff_id_hasher) {
        _cleanup_oci_diff_id_ OciDiffIdHasher h = {};
        const char *abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        char d[OCI_DIGEST_STRING_SIZE];

        ASSERT_OK(oci_diff_id_init(&h));
        ASSERT_OK(oci_diff_id_final(&h, d));
        ASSERT_STREQ(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        ASSERT_TRUE(!h.ctx);

        ASSERT_OK(oci_diff_id_init(&h));
        oci_diff_id_update(&h, "a", 1);
        oci_diff_id_update(&h, "", 0);
        oci_diff_id_update(&h, "bc", 2);
        ASSERT_EQ(h.size, 3);
        ASSERT_OK(oci_diff_id_verify(&h, abc));

        ASSERT_OK(oci_diff_id_init(&h));
        for (const char *p = two_blocks; *p; p++)
                oci_diff_id_update(&h, p, 1);
        ASSERT_OK(oci_diff_id_verify(
                &h, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));

        ASSERT_OK(oci_diff_id_init(&h));
        oci_diff_id_update(&h, "abd", 3);
        ASSERT_EQ(oci_diff_id_verify(&h, abc), -EBADMSG);

        /* Abandoned midway: done() frees, twice is harmless, a finished hasher reports -EIO. */
        ASSERT_OK(oci_diff_id_init(&h));
        oci_diff_id_update(&h, "ab", 2);
        oci_diff_id_done(&h);
        oci_diff_id_done(&h);
        oci_diff_id_update(&h, "c", 1);
        ASSERT_EQ(oci_diff_id_final(&h, d), -EIO);
        ASSERT_EQ(oci_diff_id_verify(&h, abc), -EIO);

        /* Left for the cleanup to free. */
        ASSERT_OK(oci_diff_id_init(&h));
        oci_diff_id_update(&h, "abc", 3);
}

TEST(blob_verify) {
        _cleanup_close_ int fd = openat(tmp_fd, "blob", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const char *abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "abc", 3), 3);
        ASSERT_OK(oci_blob_verify(fd, abc, 3));
        /* pread: the offset stays where the caller left it. */
        ASSERT_EQ(lseek(fd, 0, SEEK_CUR), 3);
        ASSERT_EQ(oci_blob_verify(fd, abc, 2), -EBADMSG);
        ASSERT_EQ(oci_blob_verify(fd, abc, 4), -EBADMSG);
        ASSERT_EQ(oci_blob_verify(
                          fd, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae", 3),
                  -EBADMSG);
        ASSERT_EQ(oci_blob_verify(fd, "sha256:../x", 3), -EINVAL);
        ASSERT_EQ(oci_blob_verify(
                          fd, "blake3:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 3),
                  -EPROTONOSUPPORT);
}

TEST(parsers) {
        _cleanup_free_ char *msg = NULL;
        _cleanup_json_ json_t *j = NULL;
        OciConfig *c = NULL;
        OciManifest *m = NULL;
        DockerManifest *dm = NULL;
        OciIndex *idx = NULL;

        /* Fields set to null are absent; empty strings are unset. */
        j = json_loads(
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":null,\"Cmd\":null,"
                "\"WorkingDir\":\"\",\"User\":\"\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                JSON_REJECT_DUPLICATES, NULL);
        ASSERT_OK(oci_config_parse(j, &c, &msg));
        ASSERT_TRUE(!c->defaults.env && !c->defaults.cmd && !c->defaults.working_dir && !c->defaults.user);
        c = oci_config_free(c);
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"WorkingDir\":\"srv\"},"
                       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                       0, NULL);
        ASSERT_EQ(oci_config_parse(j, &c, &msg), -EBADMSG);
        ASSERT_TRUE(contains(msg, "not absolute"));
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"tarballs\","
                       "\"diff_ids\":[]}}",
                       0, NULL);
        ASSERT_EQ(oci_config_parse(j, &c, &msg), -EBADMSG);
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"a\\u0000b\"]},"
                       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                       JSON_ALLOW_NUL, NULL);
        ASSERT_TRUE(j);
        ASSERT_EQ(oci_config_parse(j, &c, &msg), -EBADMSG);
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("{\"schemaVersion\":1,\"manifests\":[]}", 0, NULL);
        ASSERT_EQ(oci_index_parse(j, &idx, &msg), -EPROTONOSUPPORT);
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"sha256:00\","
                       "\"size\":1}]}",
                       0, NULL);
        ASSERT_EQ(oci_index_parse(j, &idx, &msg), -EBADMSG);
        ASSERT_TRUE(contains(msg, "invalid digest"));
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                       "\"config\":{},\"layers\":[]}",
                       0, NULL);
        ASSERT_EQ(oci_manifest_parse(j, &m, &msg), -EBADMSG);
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("[{\"Config\":\"/etc/passwd\",\"Layers\":[]}]", 0, NULL);
        ASSERT_EQ(docker_manifest_parse(j, &dm, &msg), -EBADMSG);
        ASSERT_TRUE(contains(msg, "leaves the archive"));
        json_decref(j);
        msg = mfree_str(msg);

        j = json_loads("[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"a/layer.tar\"]}]", 0, NULL);
        ASSERT_OK(docker_manifest_parse(j, &dm, &msg));
        ASSERT_EQ(dm->n_entries, 1);
        ASSERT_STREQ(dm->entries[0].layers[0], "a/layer.tar");
        dm = docker_manifest_free(dm);
        json_decref(j);
        j = NULL;

        ASSERT_TRUE(!c && !m && !idx && !dm);
}

/* ---- hand-made layouts: selection ------------------------------------------------- */

TEST(hand_layout_and_compressions) {
        for (OciCompression c = 0; c < _OCI_COMPRESSION_MAX; c++) {
                _cleanup_(oci_image_freep) OciImage *img = NULL;
                _cleanup_close_ int fd = -EBADF;
                char name[32];
                Hand h;

                snprintf(name, sizeof name, "hand-%s", oci_compression_to_string(c));
                fd = hand_layout(name, &(HandOpts) { .compression = c }, &h);
                img = load_ok(fd, NULL);
                ASSERT_EQ(img->format, OCI_IMAGE_FORMAT_LAYOUT);
                ASSERT_STREQ(img->ref_name, "hand");
                ASSERT_STREQ(img->manifest_digest, h.manifest);
                ASSERT_STREQ(img->config_digest, h.config);
                ASSERT_EQ(img->n_layers, 1);
                ASSERT_EQ(img->layers[0].compression, c);
                ASSERT_STREQ(img->layers[0].digest, h.layer);
                ASSERT_STREQ(img->layers[0].diff_id, h.diff_id);
                ASSERT_EQ(img->layers[0].size, h.layer_size);
                assert_strv(img->defaults.entrypoint, (const char *[]){ "/bin/app", NULL });
                assert_strv(img->defaults.cmd, (const char *[]){ "--serve", "now", NULL });
                assert_layers_verify(fd, img);
                ASSERT_TRUE(layer_has_whiteout(fd, img, 0));
        }
}

TEST(nested_index_picks_platform) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_close_ int fd = new_layout("nested");
        char inner[OCI_DIGEST_STRING_SIZE], outer[OCI_DIGEST_STRING_SIZE];
        size_t inner_size, outer_size;
        Hand mine, theirs;

        hand_image(fd, &(HandOpts) { .arch = other_arch() }, &theirs);
        hand_image(fd, &(HandOpts) { .compression = OCI_COMPRESSION_GZIP }, &mine);

        /* index.json -> index "nested" -> index of platforms -> [theirs, an attestation, mine] */
        inner_size = put_json_blob(
                fd,
                json_pack("{s:i, s:s, s:[o, o, o]}", "schemaVersion", 2, "mediaType",
                          "application/vnd.oci.image.index.v1+json", "manifests",
                          with_platform(manifest_descriptor(&theirs), "linux", other_arch()),
                          with_platform(descriptor("application/vnd.in-toto+json", theirs.config, 5),
                                        "unknown", "unknown"),
                          with_platform(manifest_descriptor(&mine), "linux", oci_host_architecture())),
                inner);
        outer_size = put_json_blob(
                fd,
                json_pack("{s:i, s:[o]}", "schemaVersion", 2, "manifests",
                          descriptor("application/vnd.oci.image.index.v1+json", inner, inner_size)),
                outer);
        write_index(fd, json_pack("[o, o]", descriptor("application/xml", mine.layer, mine.layer_size),
                                  with_ref(descriptor("application/vnd.oci.image.index.v1+json", outer,
                                                      outer_size),
                                           "nested")));

        img = load_ok(fd, NULL);
        ASSERT_STREQ(img->manifest_digest, mine.manifest);
        ASSERT_STREQ(img->architecture, oci_host_architecture());
        ASSERT_STREQ(img->ref_name, "nested");
        img = oci_image_free(img);
        img = load_ok(fd, "nested");
        ASSERT_STREQ(img->manifest_digest, mine.manifest);
        assert_layers_verify(fd, img);
}

TEST(other_architecture_only) {
        _cleanup_close_ int fd = new_layout("other-arch");
        _cleanup_close_ int fd2 = -EBADF;
        char inner[OCI_DIGEST_STRING_SIZE];
        size_t inner_size;
        Hand h;

        hand_image(fd, &(HandOpts) { .arch = other_arch() }, &h);
        inner_size = put_json_blob(fd,
                                   json_pack("{s:i, s:[o]}", "schemaVersion", 2, "manifests",
                                             with_platform(manifest_descriptor(&h), "linux", other_arch())),
                                   inner);
        write_index(fd, json_pack("[o]",
                                  descriptor("application/vnd.oci.image.index.v1+json", inner, inner_size)));
        assert_load_fails(fd, NULL, -ENOEXEC, other_arch());

        /* No platform in any descriptor: the config tells. */
        fd2 = hand_layout("other-arch-config", &(HandOpts) { .arch = other_arch() }, &h);
        assert_load_fails(fd2, NULL, -ENOEXEC, "this host runs");
}

TEST(nesting_bounded) {
        _cleanup_close_ int fd = new_layout("deep");
        char d[OCI_DIGEST_STRING_SIZE];
        size_t size;
        Hand h;

        hand_image(fd, &(HandOpts) {}, &h);
        size = put_json_blob(
                fd, json_pack("{s:i, s:[o]}", "schemaVersion", 2, "manifests", manifest_descriptor(&h)), d);
        for (unsigned i = 0; i < OCI_INDEX_DEPTH_MAX; i++)
                size = put_json_blob(
                        fd,
                        json_pack("{s:i, s:[o]}", "schemaVersion", 2, "manifests",
                                  descriptor("application/vnd.oci.image.index.v1+json", d, size)),
                        d);
        write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.index.v1+json", d, size)));
        assert_load_fails(fd, NULL, -ELOOP, "nested deeper");
}

TEST(docker25_prefers_index) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_close_ int fd = -EBADF;
        Hand h;

        fd = hand_layout("docker25", &(HandOpts) {}, &h);
        write_str(fd, "manifest.json", "not json");
        img = load_ok(fd, "hand");
        ASSERT_EQ(img->format, OCI_IMAGE_FORMAT_LAYOUT);
}

static json_t *with_names(json_t *d, const char *ref, const char *image) {
        ASSERT_EQ(json_object_set_new(d, "annotations",
                                      json_pack("{s:s, s:s}", "org.opencontainers.image.ref.name", ref,
                                                "io.containerd.image.name", image)),
                  0);
        return d;
}

/* docker save of Docker 25+ names each image twice; several images may share a tag. */
TEST(docker25_names) {
        _cleanup_(oci_image_freep) OciImage *a = NULL, *b = NULL, *c = NULL;
        _cleanup_close_ int fd = new_layout("docker25-names");
        Hand ha, hb, theirs;

        hand_image(fd, &(HandOpts) { .env = "IMAGE=a" }, &ha);
        hand_image(fd, &(HandOpts) { .env = "IMAGE=b" }, &hb);
        hand_image(fd, &(HandOpts) { .arch = other_arch() }, &theirs);
        /* b is listed for two platforms at the top: one image, the host's manifest is taken. */
        write_index(fd, json_pack("[o, o, o]",
                                  with_names(manifest_descriptor(&ha), "latest", "docker.io/library/a:latest"),
                                  with_platform(with_names(manifest_descriptor(&theirs), "latest",
                                                           "docker.io/library/b:latest"),
                                                "linux", other_arch()),
                                  with_platform(with_names(manifest_descriptor(&hb), "latest",
                                                           "docker.io/library/b:latest"),
                                                "linux", oci_host_architecture())));

        assert_load_fails(fd, NULL, -ENOTUNIQ, "choose one by tag");
        assert_load_fails(fd, "latest", -ENOTUNIQ, "several images");
        a = load_ok(fd, "a:latest");
        ASSERT_STREQ(a->manifest_digest, ha.manifest);
        b = load_ok(fd, "docker.io/library/b:latest");
        ASSERT_STREQ(b->manifest_digest, hb.manifest);
        assert_strv(b->defaults.env, (const char *[]) { "IMAGE=b", NULL });
        c = load_ok(fd, "b:latest");
        ASSERT_STREQ(c->manifest_digest, hb.manifest);
}

/* ---- hand-made layouts: hostile and broken ---------------------------------------- */

TEST(wrong_digest) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *name = NULL;
        Hand h;

        fd = hand_layout("wrong-digest", &(HandOpts) {}, &h);
        /* Same size, other content. */
        name = blob_name(h.config);
        {
                _cleanup_free_ char *junk = malloc(h.config_size);

                memset(junk, ' ', h.config_size);
                write_at(fd, name, junk, h.config_size);
        }
        assert_load_fails(fd, NULL, -EBADMSG, "does not match its digest");
}

TEST(wrong_size) {
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF;
        Hand h;

        fd = hand_layout("wrong-size", &(HandOpts) {}, &h);
        write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.manifest.v1+json", h.manifest,
                                                    h.manifest_size + 1)));
        assert_load_fails(fd, NULL, -EBADMSG, "its descriptor says");
        write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.manifest.v1+json", h.manifest,
                                                    h.manifest_size - 1)));
        assert_load_fails(fd, NULL, -EBADMSG, "larger than");

        /* A layer's size is checked at load, its digest later. */
        fd2 = hand_layout("wrong-layer-size", &(HandOpts) {}, &h);
        {
                _cleanup_free_ char *name = blob_name(h.layer);
                _cleanup_close_ int lfd = openat(fd2, name, O_WRONLY | O_APPEND | O_CLOEXEC);

                ASSERT_TRUE(lfd >= 0);
                ASSERT_EQ(write(lfd, "x", 1), 1);
        }
        assert_load_fails(fd2, NULL, -EBADMSG, "the manifest says");
}

TEST(bad_digest_strings) {
        static const char *const bad[] = {
                "sha256:../../../../etc/passwd",
                "sha256:../blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8",
                "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85/",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        };
        _cleanup_close_ int fd = new_layout("bad-digests");

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.manifest.v1+json",
                                                            bad[i], 10)));
                assert_load_fails(fd, NULL, -EBADMSG, "invalid digest");
        }

        /* Well-formed, but an algorithm we do not verify. */
        write_index(fd,
                    json_pack("[o]",
                              descriptor("application/vnd.oci.image.manifest.v1+json",
                                         "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36"
                                         "ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927"
                                         "da3e",
                                         10)));
        assert_load_fails(fd, NULL, -EPROTONOSUPPORT, "'sha512' is not supported");
}

TEST(unknown_layer_media_type) {
        _cleanup_close_ int fd = -EBADF;
        Hand h;

        fd = hand_layout("unknown-layer", &(HandOpts) { .layer_media_type = "application/x.squashfs" }, &h);
        assert_load_fails(fd, NULL, -EPROTONOSUPPORT, "application/x.squashfs");
}

TEST(not_a_container_image) {
        _cleanup_close_ int fd = new_layout("artifact");
        char config[OCI_DIGEST_STRING_SIZE], manifest[OCI_DIGEST_STRING_SIZE];
        size_t config_size, manifest_size;

        config_size = put_json_blob(fd, json_object(), config);
        manifest_size = put_json_blob(
                fd,
                json_pack("{s:i, s:o, s:[]}", "schemaVersion", 2, "config",
                          descriptor("application/vnd.cncf.helm.config.v1+json", config, config_size),
                          "layers"),
                manifest);
        write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                                                    manifest_size)));
        assert_load_fails(fd, NULL, -EPROTONOSUPPORT, "not a container image");
}

TEST(duplicate_keys) {
        _cleanup_close_ int fd = -EBADF;
        char config[OCI_DIGEST_STRING_SIZE], manifest[OCI_DIGEST_STRING_SIZE];
        const char *dup_config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"os\":\"windows\","
                                 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        size_t manifest_size;
        Hand h;

        fd = hand_layout("duplicate-keys", &(HandOpts) {}, &h);
        write_str(fd, "index.json", "{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}");
        assert_load_fails(fd, NULL, -EBADMSG, "duplicate");

        /* In a blob whose digest is right. */
        put_blob(fd, dup_config, strlen(dup_config), config);
        manifest_size = put_json_blob(
                fd,
                json_pack("{s:i, s:o, s:[]}", "schemaVersion", 2, "config",
                          descriptor("application/vnd.oci.image.config.v1+json", config, strlen(dup_config)),
                          "layers"),
                manifest);
        write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                                                    manifest_size)));
        assert_load_fails(fd, NULL, -EBADMSG, "duplicate");
}

TEST(too_large_json) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *big = NULL;
        size_t n = OCI_JSON_MAX + 2;
        Hand h;

        fd = hand_layout("too-large", &(HandOpts) {}, &h);
        big = malloc(n);
        ASSERT_TRUE(big);
        memset(big, ' ', n);
        memcpy(big, "{\"schemaVersion\":2,\"manifests\":[]}", 34);
        write_at(fd, "index.json", big, n);
        assert_load_fails(fd, NULL, -EFBIG, "larger than");

        /* A descriptor announcing a huge JSON blob is refused before reading it. */
        write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.manifest.v1+json", h.manifest,
                                                    (size_t) OCI_JSON_MAX + 1)));
        assert_load_fails(fd, NULL, -EFBIG, "more than the limit");
}

TEST(missing_blobs) {
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF, fd3 = -EBADF;
        _cleanup_free_ char *layer = NULL, *config = NULL;
        Hand h;

        fd = hand_layout("missing-layer", &(HandOpts) {}, &h);
        layer = blob_name(h.layer);
        ASSERT_OK(unlinkat(fd, layer, 0));
        assert_load_fails(fd, NULL, -ENOENT, "is missing");

        fd2 = hand_layout("missing-config", &(HandOpts) {}, &h);
        config = blob_name(h.config);
        ASSERT_OK(unlinkat(fd2, config, 0));
        assert_load_fails(fd2, NULL, -ENOENT, "is missing");

        ASSERT_OK(mkdirat(tmp_fd, "empty", 0755));
        fd3 = openat(tmp_fd, "empty", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_load_fails(fd3, NULL, -ENOENT, "Neither index.json nor manifest.json");
        write_str(fd3, "index.json", "{\"schemaVersion\":2,\"manifests\":[]}");
        assert_load_fails(fd3, NULL, -ENOENT, "oci-layout");
        write_str(fd3, "oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}");
        assert_load_fails(fd3, NULL, -EPROTONOSUPPORT, "2.0.0");
        write_str(fd3, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        assert_load_fails(fd3, NULL, -ENOENT, "no image");
}

TEST(symlinks_and_fifos) {
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF, fd3 = -EBADF;
        _cleanup_free_ char *manifest = NULL, *layer = NULL;
        Hand h;

        /* The manifest blob becomes a symlink to a copy of itself: refused all the same. */
        fd = hand_layout("symlink-blob", &(HandOpts) {}, &h);
        manifest = blob_name(h.manifest);
        ASSERT_OK(renameat(fd, manifest, fd, "manifest-copy"));
        ASSERT_OK(symlinkat("../../manifest-copy", fd, manifest));
        assert_load_fails(fd, NULL, -ELOOP, "symlink");

        /* blobs/ itself a symlink. */
        fd2 = hand_layout("symlink-dir", &(HandOpts) {}, &h);
        ASSERT_OK(renameat(fd2, "blobs", fd2, "real-blobs"));
        ASSERT_OK(symlinkat("real-blobs", fd2, "blobs"));
        assert_load_fails(fd2, NULL, -ELOOP, "symlink");

        /* A FIFO would block a reader that opens it. */
        fd3 = hand_layout("fifo-blob", &(HandOpts) {}, &h);
        layer = blob_name(h.layer);
        ASSERT_OK(unlinkat(fd3, layer, 0));
        ASSERT_OK(mkfifoat(fd3, layer, 0644));
        assert_load_fails(fd3, NULL, -EBADMSG, "not a regular file");
}

TEST(layer_content_checked_by_verify) {
        _cleanup_(oci_image_freep) OciImage *img = NULL, *img2 = NULL;
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF, lfd = -EBADF;
        _cleanup_free_ char *msg = NULL, *name = NULL;
        Hand h;

        /* The layer's digest is wrong (same size): found by the separate pass. */
        fd = hand_layout("tampered-layer", &(HandOpts) { .compression = OCI_COMPRESSION_NONE }, &h);
        name = blob_name(h.layer);
        {
                _cleanup_close_ int wfd = openat(fd, name, O_WRONLY | O_CLOEXEC);

                ASSERT_TRUE(wfd >= 0);
                ASSERT_EQ(pwrite(wfd, "X", 1, 0), 1);
        }
        img = load_ok(fd, NULL);
        ASSERT_EQ(oci_layer_verify(fd, img, 0, UINT64_MAX, &msg), -EBADMSG);
        ASSERT_TRUE(contains(msg, "does not match its digest"));
        ASSERT_OK(oci_layer_open(fd, img, 0, &lfd));
        ASSERT_EQ(oci_blob_verify(lfd, img->layers[0].digest, img->layers[0].size), -EBADMSG);
        msg = mfree_str(msg);

        /* The diff_id the config gives is wrong. */
        fd2 = hand_layout(
                "wrong-diff-id",
                &(HandOpts) {
                        .compression = OCI_COMPRESSION_GZIP,
                        .diff_id = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                },
                &h);
        img2 = load_ok(fd2, NULL);
        ASSERT_EQ(oci_layer_verify(fd2, img2, 0, UINT64_MAX, &msg), -EBADMSG);
        ASSERT_TRUE(contains(msg, "diff_id"));
        msg = mfree_str(msg);

        /* Decompression is bounded. */
        ASSERT_EQ(oci_layer_verify(fd2, img2, 0, 100, &msg), -EFBIG);
}

TEST(config_mismatches) {
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF;
        char config[OCI_DIGEST_STRING_SIZE], manifest[OCI_DIGEST_STRING_SIZE];
        size_t config_size, manifest_size;
        Hand h;

        /* Two diff_ids for one layer. */
        fd = hand_layout("diff-id-count", &(HandOpts) {}, &h);
        config_size = put_json_blob(fd,
                                    json_pack("{s:s, s:s, s:{s:s, s:[s, s]}}", "architecture",
                                              oci_host_architecture(), "os", "linux", "rootfs", "type",
                                              "layers", "diff_ids", h.diff_id, h.diff_id),
                                    config);
        manifest_size = put_json_blob(
                fd,
                json_pack("{s:i, s:o, s:[o]}", "schemaVersion", 2, "config",
                          descriptor("application/vnd.oci.image.config.v1+json", config, config_size),
                          "layers",
                          descriptor("application/vnd.oci.image.layer.v1.tar", h.layer, h.layer_size)),
                manifest);
        write_index(fd, json_pack("[o]", descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                                                    manifest_size)));
        assert_load_fails(fd, NULL, -EBADMSG, "diff_ids");

        fd2 = hand_layout("bad-env", &(HandOpts) { .env = "JUSTANAME" }, &h);
        assert_load_fails(fd2, NULL, -EBADMSG, "NAME=VALUE");
}

TEST(defaults_json_roundtrip) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_(oci_defaults_done) OciDefaults d = {};
        _cleanup_json_ json_t *j = NULL;
        _cleanup_close_ int fd = -EBADF;
        Hand h;

        fd = hand_layout("roundtrip", &(HandOpts) {}, &h);
        img = load_ok(fd, "hand");
        ASSERT_OK(oci_image_config_to_json(img, &j));
        ASSERT_STREQ(json_string_value(json_object_get(j, "working_directory")), "/srv");
        ASSERT_STREQ(json_string_value(json_object_get(j, "user")), "app");
        ASSERT_STREQ(json_string_value(json_object_get(j, "architecture")), oci_host_architecture());
        ASSERT_OK(oci_defaults_from_json(j, &d));
        assert_strv(d.entrypoint, (const char *[]){ "/bin/app", NULL });
        assert_strv(d.cmd, (const char *[]){ "--serve", "now", NULL });
        assert_strv(d.env, (const char *[]){ "A=1", NULL });
        ASSERT_STREQ(d.working_dir, "/srv");
        ASSERT_STREQ(d.user, "app");

        ASSERT_EQ(json_object_set_new(j, "working_directory", json_string("relative")), 0);
        oci_defaults_done(&d);
        ASSERT_EQ(oci_defaults_from_json(j, &d), -EBADMSG);
}

TEST(docker_manifest_paths) {
        _cleanup_close_ int fd = -EBADF;

        ASSERT_OK(mkdirat(tmp_fd, "docker-bad", 0755));
        fd = openat(tmp_fd, "docker-bad", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        write_str(fd, "c.json", "{}");
        write_json_at(
                fd, "manifest.json",
                json_pack("[{s:s, s:[s], s:[s]}]", "Config", "c.json", "RepoTags", "x:y", "Layers", "../x"));
        assert_load_fails(fd, NULL, -EBADMSG, "leaves the archive");
        write_json_at(fd, "manifest.json",
                      json_pack("[{s:s, s:[s], s:[s]}]", "Config", "c.json", "RepoTags", "x:y", "Layers",
                                "/etc/passwd"));
        assert_load_fails(fd, NULL, -EBADMSG, "leaves the archive");
        write_json_at(fd, "manifest.json",
                      json_pack("[{s:s, s:[s], s:[]}]", "Config", "../../etc/passwd", "RepoTags", "x:y",
                                "Layers"));
        assert_load_fails(fd, NULL, -EBADMSG, "leaves the archive");
}

/* ---- fixtures made by umoci and skopeo -------------------------------------------- */

/* oci:v1 has three layers: /etc with two files; a whiteout for one of them (umoci insert
 * --whiteout); and from a repacked bundle, a new file and the whiteout of the other. */
static void make_umoci_layout(void) {
        _cleanup_free_ char *layout = tmp_path("oci"), *image = NULL, *src = tmp_path("src"),
                            *etc = tmp_path("src/etc"), *bundle = tmp_path("bundle");
        _cleanup_close_ int bundle_fd = -EBADF;

        ASSERT_TRUE(asprintf(&image, "%s:v1", layout) >= 0);
        ASSERT_OK(mkdirat(tmp_fd, "src", 0755));
        ASSERT_OK(mkdirat(tmp_fd, "src/etc", 0755));
        write_str(tmp_fd, "src/etc/hello", "hello\n");
        write_str(tmp_fd, "src/etc/bye", "bye\n");

        TOOL("umoci", "init", "--layout", layout);
        TOOL("umoci", "new", "--image", image);
        TOOL("umoci", "insert", "--image", image, etc, "/etc");
        TOOL("umoci", "insert", "--image", image, "--whiteout", "/etc/bye");
        TOOL("umoci", "unpack", "--image", image, bundle);
        bundle_fd = openat(tmp_fd, "bundle/rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(bundle_fd >= 0);
        ASSERT_OK(unlinkat(bundle_fd, "etc/hello", 0));
        write_str(bundle_fd, "new", "new\n");
        TOOL("umoci", "repack", "--image", image, bundle);
        TOOL("umoci", "config", "--image", image, "--config.entrypoint", "/bin/sh", "--config.entrypoint",
             "-c", "--config.cmd", "echo hi", "--config.env", "A=1", "--config.env", "B=2",
             "--config.workingdir", "/srv", "--config.user", "1000:1000");
}

TEST(umoci_layout) {
        _cleanup_(oci_image_freep) OciImage *img = NULL, *img2 = NULL;
        _cleanup_close_ int fd = openat(tmp_fd, "oci", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool whiteouts = false;

        ASSERT_TRUE(fd >= 0);
        img = load_ok(fd, "v1");
        ASSERT_EQ(img->format, OCI_IMAGE_FORMAT_LAYOUT);
        ASSERT_STREQ(img->ref_name, "v1");
        ASSERT_TRUE(oci_digest_is_sha256(img->manifest_digest));
        ASSERT_TRUE(oci_digest_is_sha256(img->config_digest));
        ASSERT_STREQ(img->os, "linux");
        ASSERT_EQ(img->n_layers, 3);
        for (size_t i = 0; i < img->n_layers; i++) {
                ASSERT_EQ(img->layers[i].compression, OCI_COMPRESSION_GZIP);
                ASSERT_STREQ(img->layers[i].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
                ASSERT_TRUE(oci_digest_is_sha256(img->layers[i].diff_id));
                whiteouts = whiteouts || layer_has_whiteout(fd, img, i);
        }
        ASSERT_FALSE(layer_has_whiteout(fd, img, 0));
        ASSERT_TRUE(whiteouts);
        assert_strv(img->defaults.entrypoint, (const char *[]){ "/bin/sh", "-c", NULL });
        assert_strv(img->defaults.cmd, (const char *[]){ "echo hi", NULL });
        assert_strv(img->defaults.env, (const char *[]){ "A=1", "B=2", NULL });
        ASSERT_STREQ(img->defaults.working_dir, "/srv");
        ASSERT_STREQ(img->defaults.user, "1000:1000");
        assert_layers_verify(fd, img);

        /* The only image, without a tag. */
        img2 = load_ok(fd, NULL);
        ASSERT_STREQ(img2->manifest_digest, img->manifest_digest);

        assert_load_fails(fd, "v2", -ENOENT, "v1");
}

TEST(umoci_multi_tag) {
        _cleanup_free_ char *layout = tmp_path("multi"), *a = NULL, *b = NULL,
                            *file = tmp_path("src/etc/hello");
        _cleanup_(oci_image_freep) OciImage *ia = NULL, *ib = NULL;
        _cleanup_close_ int fd = -EBADF;

        ASSERT_TRUE(asprintf(&a, "%s:a", layout) >= 0);
        ASSERT_TRUE(asprintf(&b, "%s:b", layout) >= 0);
        TOOL("umoci", "init", "--layout", layout);
        TOOL("umoci", "new", "--image", a);
        TOOL("umoci", "new", "--image", b);
        TOOL("umoci", "insert", "--image", a, file, "/a");
        TOOL("umoci", "insert", "--image", b, file, "/b1");
        TOOL("umoci", "insert", "--image", b, file, "/b2");
        TOOL("umoci", "config", "--image", a, "--config.entrypoint", "/a");
        TOOL("umoci", "config", "--image", b, "--config.entrypoint", "/b");

        fd = openat(tmp_fd, "multi", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        assert_load_fails(fd, NULL, -ENOTUNIQ, "choose one by tag");
        ia = load_ok(fd, "a");
        ib = load_ok(fd, "b");
        assert_strv(ia->defaults.entrypoint, (const char *[]){ "/a", NULL });
        assert_strv(ib->defaults.entrypoint, (const char *[]){ "/b", NULL });
        ASSERT_EQ(ia->n_layers, 1);
        ASSERT_EQ(ib->n_layers, 2);
        assert_layers_verify(fd, ia);
        assert_layers_verify(fd, ib);
        assert_load_fails(fd, "c", -ENOENT, "a, b");
}

TEST(skopeo_docker_archive) {
        _cleanup_free_ char *src = NULL, *dst = NULL, *tar = tmp_path("docker.tar"),
                            *dir = tmp_path("docker");
        _cleanup_(oci_image_freep) OciImage *oci = NULL, *img = NULL, *img2 = NULL, *img3 = NULL;
        _cleanup_close_ int oci_fd = openat(tmp_fd, "oci", O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -EBADF;

        ASSERT_TRUE(asprintf(&src, "oci:%s/oci:v1", tmp_dir) >= 0);
        ASSERT_TRUE(asprintf(&dst, "docker-archive:%s:example/app:v1", tar) >= 0);
        TOOL("skopeo", "--insecure-policy", "copy", "--quiet", src, dst);
        ASSERT_OK(mkdirat(tmp_fd, "docker", 0755));
        TOOL("tar", "-C", dir, "-xf", tar);

        fd = openat(tmp_fd, "docker", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        oci = load_ok(oci_fd, "v1");
        img = load_ok(fd, NULL);
        ASSERT_EQ(img->format, OCI_IMAGE_FORMAT_DOCKER_ARCHIVE);
        ASSERT_TRUE(!img->manifest_digest);
        ASSERT_STREQ(img->ref_name, "docker.io/example/app:v1");
        /* The same image: the same config, the same diff_ids. */
        ASSERT_STREQ(img->config_digest, oci->config_digest);
        ASSERT_EQ(img->n_layers, oci->n_layers);
        for (size_t i = 0; i < img->n_layers; i++) {
                ASSERT_STREQ(img->layers[i].diff_id, oci->layers[i].diff_id);
                ASSERT_TRUE(!img->layers[i].digest);
                ASSERT_EQ(img->layers[i].compression, OCI_COMPRESSION_NONE);
        }
        assert_strv(img->defaults.entrypoint, (const char *[]){ "/bin/sh", "-c", NULL });
        ASSERT_STREQ(img->defaults.user, "1000:1000");
        assert_layers_verify(fd, img);

        img2 = load_ok(fd, "v1");
        img3 = load_ok(fd, "example/app:v1");
        assert_load_fails(fd, "v2", -ENOENT, "docker.io/example/app:v1");
}

/* docker save (before 25) names layers "<id>/layer.tar" and links repeated ones to the
 * first: links inside the archive are followed, links out of it are not. */
TEST(docker_archive_links) {
        _cleanup_close_ int fd = openat(tmp_fd, "docker", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_(oci_image_freep) OciImage *img = NULL, *orig = NULL;
        _cleanup_json_ json_t *m = NULL;
        json_t *layers;
        const char *first;

        ASSERT_TRUE(fd >= 0);
        orig = load_ok(fd, NULL);
        ASSERT_OK(json_read_at(fd, "manifest.json", &m));
        layers = json_object_get(json_array_get(m, 0), "Layers");
        first = json_string_value(json_array_get(layers, 0));
        ASSERT_OK(mkdirat(fd, "linked", 0755));
        {
                _cleanup_free_ char *target = NULL;

                ASSERT_TRUE(asprintf(&target, "../%s", first) >= 0);
                ASSERT_OK(symlinkat(target, fd, "linked/layer.tar"));
        }
        ASSERT_EQ(json_array_set_new(layers, 0, json_string("linked/layer.tar")), 0);
        write_json_at(fd, "manifest.json", json_incref(m));
        img = load_ok(fd, NULL);
        ASSERT_STREQ(img->layers[0].path, "linked/layer.tar");
        ASSERT_EQ(img->layers[0].size, orig->layers[0].size);
        assert_layers_verify(fd, img);

        ASSERT_OK(mkdirat(fd, "evil", 0755));
        ASSERT_OK(symlinkat("/etc/passwd", fd, "evil/layer.tar"));
        ASSERT_EQ(json_array_set_new(layers, 0, json_string("evil/layer.tar")), 0);
        write_json_at(fd, "manifest.json", json_incref(m));
        assert_load_fails(fd, NULL, -EBADMSG, "leads out of the image");

        ASSERT_EQ(json_array_set_new(layers, 0, json_string("../x")), 0);
        write_json_at(fd, "manifest.json", json_incref(m));
        assert_load_fails(fd, NULL, -EBADMSG, "leaves the archive");

        ASSERT_EQ(json_array_set_new(layers, 0, json_string("no-such-layer.tar")), 0);
        write_json_at(fd, "manifest.json", json_incref(m));
        assert_load_fails(fd, NULL, -ENOENT, "is missing");

        /* The config is named by its digest, and must have it. */
        ASSERT_EQ(json_array_set_new(layers, 0, json_string("linked/layer.tar")), 0);
        write_json_at(fd, "manifest.json", json_incref(m));
        {
                const char *config = json_string_value(json_object_get(json_array_get(m, 0), "Config"));
                _cleanup_json_ json_t *c = NULL;

                ASSERT_OK(json_read_at(fd, config, &c));
                ASSERT_EQ(json_object_set_new(c, "author", json_string("someone else")), 0);
                ASSERT_OK(unlinkat(fd, config, 0));
                write_json_at(fd, config, json_incref(c));
        }
        assert_load_fails(fd, NULL, -EBADMSG, "does not match its digest");
}

int main(void) {
        ASSERT_TRUE(mkdtemp(tmp_dir));
        tmp_fd = open(tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(tmp_fd >= 0);

        RUN(digest_grammar);
        RUN(archive_paths);
        RUN(references);
        RUN(media_types);
        RUN(diff_id_hasher);
        RUN(blob_verify);
        RUN(parsers);
        RUN(hand_layout_and_compressions);
        RUN(nested_index_picks_platform);
        RUN(other_architecture_only);
        RUN(nesting_bounded);
        RUN(docker25_prefers_index);
        RUN(docker25_names);
        RUN(wrong_digest);
        RUN(wrong_size);
        RUN(bad_digest_strings);
        RUN(unknown_layer_media_type);
        RUN(not_a_container_image);
        RUN(duplicate_keys);
        RUN(too_large_json);
        RUN(missing_blobs);
        RUN(symlinks_and_fifos);
        RUN(layer_content_checked_by_verify);
        RUN(config_mismatches);
        RUN(defaults_json_roundtrip);
        RUN(docker_manifest_paths);

        have_tools = in_path("umoci") && in_path("skopeo") && in_path("tar");
        if (have_tools) {
                make_umoci_layout();
                RUN(umoci_layout);
                RUN(umoci_multi_tag);
                RUN(skopeo_docker_archive);
                RUN(docker_archive_links);
        }

        safe_close(tmp_fd);
        ASSERT_OK(rm_rf_at(AT_FDCWD, tmp_dir));

        if (!have_tools) {
                fprintf(stderr, "umoci, skopeo or tar missing: the fixtures they make were not tested.\n");
                return 77;
        }
        return EXIT_SUCCESS;
}
