/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <sodium.h>

#include "archive-util.h"
#include "bus-errors.h"
#include "fileio.h"
#include "import-fs.h"
#include "import.h"
#include "oci.h"
#include "strv.h"
#include "trust-store.h"
#include "verify-minisign.h"

#define STAGED_SOURCE "source"
#define STAGED_LAYOUT "layout"
#define COPY_BUFFER_SIZE (1024 * 1024)
#define PROGRESS_STEP (4 * 1024 * 1024)

static const char *const import_verify_table[_IMPORT_VERIFY_MAX] = {
        [IMPORT_VERIFY_NO] = "no",
        [IMPORT_VERIFY_CHECKSUM] = "checksum",
        [IMPORT_VERIFY_SIGNATURE] = "signature",
};

const char *import_verify_to_string(ImportVerify v) {
        return v >= 0 && v < _IMPORT_VERIFY_MAX ? import_verify_table[v] : NULL;
}

ImportVerify import_verify_from_string(const char *s) {
        for (ImportVerify v = 0; v < _IMPORT_VERIFY_MAX; v++)
                if (s && streq(import_verify_table[v], s))
                        return v;
        return _IMPORT_VERIFY_INVALID;
}

void import_error_done(ImportError *e) {
        free(e->message);
        *e = (ImportError) {};
}

/* Records why the import failed; returns r (a negative errno) for "return fail(...)". */
_printf_(4, 5) static int fail(ImportError *e, int r, const char *name, const char *format, ...) {
        va_list ap;

        if (!e->name) {
                e->name = name;
                errno = r < 0 ? -r : r;
                va_start(ap, format);
                if (vasprintf(&e->message, format, ap) < 0)
                        e->message = NULL;
                va_end(ap);
        }
        return r < 0 ? r : -EIO;
}

/* What the verification found. */
typedef struct Verification {
        ImportVerify verified;
        char key_id[MINISIGN_KEY_ID_STRING_MAX];
        char key_name[TRUST_KEY_NAME_MAX + 1];
        char trusted_comment[MINISIGN_TRUSTED_COMMENT_MAX + 1];
        char *signed_file; /* what the signature covers: NULL for the source itself */
} Verification;

/* --- Staging: copy while hashing ------------------------------------------------------- */

typedef struct Staged {
        int fd;
        uint64_t size;
        bool has_prehash;
        uint8_t prehash[MINISIGN_PREHASH_SIZE];
        char digest[OCI_DIGEST_STRING_SIZE]; /* "sha256:HEX" */
} Staged;

static void progress_report(int fd, uint64_t done) {
        /* Best effort: a full pipe drops a report, the next one is as good. */
        if (fd >= 0)
                (void) !write(fd, &done, sizeof done);
}

/* The SHA-256 digest is recorded for every image; the BLAKE2b-512 prehash is computed only
 * if a prehashed signature is to be checked against it. */
static int stage_source(int source_fd, int work_fd, const ImportOptions *o, bool prehash, Staged *ret,
                        ImportError *e) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_minisign_hash_ MinisignHash blake = {};
        _cleanup_oci_diff_id_ OciDiffIdHasher sha = {};
        uint64_t size = 0, reported = 0;
        int r;

        buf = malloc(COPY_BUFFER_SIZE);
        if (!buf)
                return -ENOMEM;
        fd = openat(work_fd, STAGED_SOURCE, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return fail(e, -errno, BUS_ERROR_STORAGE_FAILED, "Failed to create the staging file: %m");
        r = prehash ? minisign_hash_init(&blake) : 0;
        if (r >= 0)
                r = oci_diff_id_init(&sha);
        if (r < 0)
                return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to set up hashing: %m");

        for (;;) {
                ssize_t n = read(source_fd, buf, COPY_BUFFER_SIZE);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail(e, -errno, BUS_ERROR_IMPORT_FAILED, "Failed to read the image: %m");
                }
                if (n == 0)
                        break;
                if ((uint64_t) n > o->limits.max_bytes - size)
                        return fail(e, -EFBIG, BUS_ERROR_UNSAFE_ARCHIVE, "The image is larger than %llu bytes.",
                                    (unsigned long long) o->limits.max_bytes);
                size += (uint64_t) n;

                r = prehash ? minisign_hash_update(&blake, buf, (size_t) n) : 0;
                if (r < 0)
                        return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to hash the image: %m");
                oci_diff_id_update(&sha, buf, (size_t) n);
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(fd, buf + done, (size_t) (n - done));
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return fail(e, -errno, BUS_ERROR_STORAGE_FAILED, "Failed to stage the image: %m");
                        }
                        done += w;
                }
                if (size - reported >= PROGRESS_STEP) {
                        progress_report(o->progress_fd, size);
                        reported = size;
                }
        }
        progress_report(o->progress_fd, size);

        r = prehash ? minisign_hash_final(&blake, ret->prehash) : 0;
        if (r >= 0)
                r = oci_diff_id_final(&sha, ret->digest);
        if (r < 0)
                return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to hash the image: %m");
        ret->has_prehash = prehash;
        ret->size = size;
        ret->fd = TAKE_FD(fd);
        return 0;
}

/* --- Verification --------------------------------------------------------------------- */

static int verify_checksum(const Staged *st, const ImportOptions *o, Verification *v, ImportError *e) {
        char want[OCI_DIGEST_STRING_SIZE];

        if (!o->sha256 || strlen(o->sha256) != 64 || strspn(o->sha256, "0123456789abcdefABCDEF") != 64)
                return fail(e, -EINVAL, BUS_ERROR_INVALID_ARGUMENT, "A checksum needs 64 hexadecimal digits of sha256.");
        snprintf(want, sizeof want, "sha256:%s", o->sha256);
        for (char *c = want; *c; c++)
                *c = (char) (*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
        if (!streq(want, st->digest))
                return fail(e, -EBADMSG, BUS_ERROR_CHECKSUM_MISMATCH,
                            "The image's checksum %s does not match the expected %s.", st->digest, want);
        v->verified = IMPORT_VERIFY_CHECKSUM;
        return 0;
}

static int verification_fail(ImportError *e, int r, const MinisignSignature *sig, const char *what) {
        char id[MINISIGN_KEY_ID_STRING_MAX];

        switch (r) {
        case -EOPNOTSUPP:
                return fail(e, r, BUS_ERROR_LEGACY_SIGNATURE,
                            "The signature is a legacy (non-prehashed) minisign signature, refused without allowing those.");
        case -EKEYREJECTED:
                minisign_key_id_to_string(sig->key_id, id);
                return fail(e, r, BUS_ERROR_UNTRUSTED_KEY, "The signature was made by key %s, which is not trusted.", id);
        case -EPERM:
                return fail(e, r, BUS_ERROR_SIGNATURE_INVALID, "The signature does not verify: %s was changed or is another file.", what);
        default:
                return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to verify the signature: %m");
        }
}

/* Checks sig over content (the whole file; prehash, if not NULL, its BLAKE2b-512). */
static int verify_signature_of(const MinisignSignature *sig, const TrustStore *store, const uint8_t *prehash,
                               const void *content, size_t size, const ImportOptions *o, Verification *v) {
        const TrustKey *key = NULL;
        int r;

        r = trust_store_verify(store, sig, prehash, content, size, o->allow_legacy_signature, &key);
        if (r < 0)
                return r;

        v->verified = IMPORT_VERIFY_SIGNATURE;
        minisign_key_id_to_string(key->key.id, v->key_id);
        snprintf(v->key_name, sizeof v->key_name, "%s", key->name);
        snprintf(v->trusted_comment, sizeof v->trusted_comment, "%s", sig->trusted_comment);
        return 0;
}

static int load_trust_store(const ImportOptions *o, TrustStore **ret_store, ImportError *e) {
        int r;

        if (!o->signature)
                return fail(e, -EINVAL, BUS_ERROR_INVALID_ARGUMENT, "Verifying a signature needs the signature.");
        r = minisign_verify_precheck(o->signature, NULL, o->allow_legacy_signature);
        if (r < 0)
                return verification_fail(e, r, o->signature, "the image");
        r = trust_store_load(o->trust_etc_dir ?: TRUST_STORE_ETC_DIR, o->trust_vendor_dir ?: TRUST_STORE_VENDOR_DIR, ret_store);
        if (r < 0)
                return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to load the trusted keys: %m");
        return 0;
}

/* The staged file, whole, for a legacy signature (bounded by the staging itself). */
static int verify_signature(const Staged *st, const MinisignSignature *sig, const TrustStore *store,
                            const ImportOptions *o, Verification *v) {
        void *map = NULL;
        int r;

        if (sig->algorithm == MINISIGN_ALGORITHM_PREHASHED)
                return st->has_prehash ? verify_signature_of(sig, store, st->prehash, NULL, 0, o, v) : -EINVAL;

        if (st->size > 0) {
                map = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, st->fd, 0);
                if (map == MAP_FAILED)
                        return -errno;
        }
        r = verify_signature_of(sig, store, NULL, map ?: "", st->size, o, v);
        if (map)
                (void) munmap(map, st->size);
        return r;
}

/* An OCI layout may be signed over its index.json, whose digests cover the rest. */
static int verify_signature_of_index(int layout_fd, const MinisignSignature *sig, const TrustStore *store,
                                     const ImportOptions *o, Verification *v) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat s;
        size_t n;
        int r;

        fd = openat(layout_fd, "index.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &s) < 0)
                return -errno;
        /* The layout was unpacked from the archive: a FIFO there would block the read. */
        if (!S_ISREG(s.st_mode))
                return -EBADMSG;
        r = read_fd_bounded(fd, JSON_FILE_MAX, &buf, &n);
        if (r < 0)
                return r == -EFBIG ? -EBADMSG : r;
        r = verify_signature_of(sig, store, NULL, buf, n, o, v);
        if (r >= 0) {
                v->signed_file = strdup("index.json");
                if (!v->signed_file)
                        return -ENOMEM;
        }
        return r;
}

/* --- Formats --------------------------------------------------------------------------- */

/* OCI layout or docker archive, by what the tar holds at its top. */
static ImageFormat tar_kind(int fd) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        struct archive_entry *entry;
        bool index = false, layout = false, manifest = false;

        a = archive_read_new();
        if (!a)
                return IMAGE_FORMAT_TAR;
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (lseek(fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
                return IMAGE_FORMAT_TAR;

        /* The layout's files come first in what skopeo, umoci and docker write; the
         * bound keeps a large plain tar from being read twice. */
        for (unsigned n = 0; n < 64 && archive_read_next_header(a, &entry) == ARCHIVE_OK; n++) {
                const char *p = archive_entry_pathname(entry);

                if (!p)
                        continue;
                if (startswith(p, "./"))
                        p += 2;
                index = index || streq(p, "index.json");
                layout = layout || streq(p, "oci-layout");
                manifest = manifest || streq(p, "manifest.json");
        }
        if (index && layout)
                return IMAGE_FORMAT_OCI;
        if (manifest)
                return IMAGE_FORMAT_DOCKER_ARCHIVE;
        return IMAGE_FORMAT_TAR;
}

ImageFormat import_detect_format(int fd) {
        ImageFormat f = import_fs_detect(fd);

        if (f >= 0)
                return f;
        f = tar_kind(fd);
        (void) lseek(fd, 0, SEEK_SET);
        return f;
}

static int extract_fail(ImportError *e, int r, const char *message, const char *what) {
        /* Refusals of what the archive asks for, as opposed to archives that are broken. */
        if (IN_SET(-r, EPERM, E2BIG, EFBIG, ENAMETOOLONG, EXDEV, ELOOP))
                return fail(e, r, BUS_ERROR_UNSAFE_ARCHIVE, "%s refused: %s", what, message ?: strerror(-r));
        if (r == -ENOSPC)
                return fail(e, r, BUS_ERROR_STORAGE_FAILED, "No space left for %s.", what);
        return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to unpack %s: %s", what, message ?: strerror(-r));
}

static int extract_into(int fd, int tree_fd, const ImportOptions *o, bool trusted, bool whiteouts, const char *what,
                        uint64_t *ret_bytes, ImportError *e) {
        _cleanup_free_ char *message = NULL;
        ExtractOptions x = {
                .limits = o->limits,
                .trusted = trusted,
                .allow_devices = o->allow_devices,
                .whiteouts = whiteouts,
        };
        ExtractStats stats = {};
        int r;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return fail(e, -errno, BUS_ERROR_IMPORT_FAILED, "Failed to rewind %s: %m", what);
        r = extract_archive(fd, tree_fd, &x, &stats, &message);
        if (r < 0)
                return extract_fail(e, r, message, what);
        if (ret_bytes)
                *ret_bytes += stats.n_bytes;
        return 0;
}

/* An OCI layout or docker archive: the tar is unpacked (as hostile as any) into the work
 * directory, the image selected and its layers verified and applied in order. */
static int import_layers(const Staged *st, int work_fd, int tree_fd, const ImportOptions *o, bool trusted,
                         const MinisignSignature *pending_sig, const TrustStore *store, Verification *v,
                         json_t *record, uint64_t *size, ImportError *e) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_free_ char *message = NULL;
        _cleanup_close_ int layout_fd = -EBADF;
        ExtractOptions plain = { .limits = o->limits };
        json_t *config = NULL;
        int r;

        if (mkdirat(work_fd, STAGED_LAYOUT, 0700) < 0)
                return fail(e, -errno, BUS_ERROR_STORAGE_FAILED, "Failed to create the layout directory: %m");
        layout_fd = openat(work_fd, STAGED_LAYOUT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (layout_fd < 0)
                return fail(e, -errno, BUS_ERROR_STORAGE_FAILED, "Failed to open the layout directory: %m");
        if (lseek(st->fd, 0, SEEK_SET) < 0)
                return -errno;
        r = extract_archive(st->fd, layout_fd, &plain, NULL, &message);
        if (r < 0)
                return extract_fail(e, r, message, "the image archive");
        message = mfree(message);

        if (pending_sig) {
                r = verify_signature_of_index(layout_fd, pending_sig, store, o, v);
                if (r < 0)
                        return verification_fail(e, r, pending_sig, "the image (and its index.json)");
                trusted = true;
        }

        r = oci_image_load(layout_fd, o->tag, &img, &message);
        if (r == -ENOTUNIQ || r == -ENOENT)
                return fail(e, r, BUS_ERROR_INVALID_ARGUMENT, "%s", message ?: "No such image in the archive.");
        if (r == -EPROTONOSUPPORT || r == -ENOEXEC)
                return fail(e, r, BUS_ERROR_UNSUPPORTED_FORMAT, "%s", message ?: "Unsupported image.");
        if (r < 0)
                return fail(e, r, BUS_ERROR_IMPORT_FAILED, "%s", message ?: "Invalid image layout.");

        for (size_t i = 0; i < img->n_layers; i++) {
                _cleanup_close_ int fd = -EBADF;
                _cleanup_free_ char *what = NULL;

                message = mfree(message);
                if (asprintf(&what, "layer %zu (%s)", i + 1, img->layers[i].digest ?: img->layers[i].path) < 0)
                        return -ENOMEM;
                /* The digests chain up to what was verified: every layer must match them. */
                r = oci_layer_verify(layout_fd, img, i, o->limits.max_bytes, &message);
                if (r < 0)
                        return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to verify %s: %s", what, message ?: strerror(-r));
                r = oci_layer_open(layout_fd, img, i, &fd);
                if (r < 0)
                        return fail(e, r, BUS_ERROR_IMPORT_FAILED, "Failed to open %s: %m", what);
                r = extract_into(fd, tree_fd, o, trusted, /* whiteouts= */ true, what, size, e);
                if (r < 0)
                        return r;
        }

        r = oci_image_config_to_json(img, &config);
        if (r < 0)
                return -ENOMEM;
        if (json_object_set_new(record, "config", config) < 0 ||
            (img->ref_name && json_object_set_new(record, "ref_name", json_string(img->ref_name)) < 0) ||
            (img->manifest_digest && json_object_set_new(record, "manifest_digest", json_string(img->manifest_digest)) < 0))
                return -ENOMEM;
        return 0;
}

int import_run(int source_fd, int work_fd, int tree_fd, const ImportOptions *o, json_t **ret_record, ImportError *e) {
        _cleanup_(trust_store_freep) TrustStore *store = NULL;
        _cleanup_json_ json_t *record = NULL;
        Verification v = {};
        const MinisignSignature *sig = o->signature;
        Staged st = { .fd = -EBADF };
        bool pending = false;
        uint64_t size = 0;
        ImageFormat format;
        int r;

        if (sodium_init() < 0)
                return fail(e, -EIO, BUS_ERROR_IMPORT_FAILED, "Failed to initialize libsodium.");

        /* A signature that cannot be right is refused before anything is read. */
        if (o->verify == IMPORT_VERIFY_SIGNATURE) {
                r = load_trust_store(o, &store, e);
                if (r < 0)
                        return r;
        }

        r = stage_source(source_fd, work_fd, o,
                         o->verify == IMPORT_VERIFY_SIGNATURE && sig->algorithm == MINISIGN_ALGORITHM_PREHASHED,
                         &st, e);
        if (r < 0)
                goto finish;

        format = o->format == IMAGE_FORMAT_AUTO ? import_detect_format(st.fd) : o->format;

        if (o->verify == IMPORT_VERIFY_CHECKSUM)
                r = verify_checksum(&st, o, &v, e);
        else if (o->verify == IMPORT_VERIFY_SIGNATURE) {
                r = verify_signature(&st, sig, store, o, &v);
                /* Not over the archive: perhaps over the layout's index.json. */
                if (r == -EPERM && format == IMAGE_FORMAT_OCI) {
                        pending = true;
                        r = 0;
                } else if (r < 0)
                        r = verification_fail(e, r, sig, "the image");
        }
        if (r < 0)
                goto finish;

        record = json_object();
        if (!record) {
                r = -ENOMEM;
                goto finish;
        }

        switch (format) {
        case IMAGE_FORMAT_TAR:
        case IMAGE_FORMAT_DIRECTORY:
                r = extract_into(st.fd, tree_fd, o, v.verified == IMPORT_VERIFY_SIGNATURE, false, "the image", &size, e);
                break;
        case IMAGE_FORMAT_OCI:
        case IMAGE_FORMAT_DOCKER_ARCHIVE:
                r = import_layers(&st, work_fd, tree_fd, o, v.verified == IMPORT_VERIFY_SIGNATURE, pending ? sig : NULL,
                                  store, &v, record, &size, e);
                break;
        case IMAGE_FORMAT_SQUASHFS:
        case IMAGE_FORMAT_EROFS:
        case IMAGE_FORMAT_RAW: {
                _cleanup_free_ char *message = NULL;

                r = import_fs(st.fd, format, work_fd, tree_fd, &size, &message);
                if (r == -EPROTONOSUPPORT || r == -ENODEV)
                        r = fail(e, r, BUS_ERROR_UNSUPPORTED_FORMAT, "%s", message ?: strerror(-r));
                else if (r < 0)
                        r = fail(e, r, BUS_ERROR_IMPORT_FAILED, "%s", message ?: strerror(-r));
                break;
        }
        default:
                r = fail(e, -EINVAL, BUS_ERROR_UNSUPPORTED_FORMAT, "Unknown image format.");
        }
        if (r < 0)
                goto finish;

        if (json_object_set_new(record, "format", json_string(image_format_to_string(format))) < 0 ||
            json_object_set_new(record, "size", json_integer((json_int_t) size)) < 0 ||
            json_object_set_new(record, "source_size", json_integer((json_int_t) st.size)) < 0 ||
            json_object_set_new(record, "digest", json_string(st.digest)) < 0 ||
            json_object_set_new(record, "verified", json_string(import_verify_to_string(v.verified))) < 0 ||
            (v.verified == IMPORT_VERIFY_SIGNATURE &&
             (json_object_set_new(record, "key_id", json_string(v.key_id)) < 0 ||
              json_object_set_new(record, "key_name", json_string(v.key_name)) < 0 ||
              json_object_set_new(record, "trusted_comment", json_string(v.trusted_comment)) < 0 ||
              json_object_set_new(record, "signed_file", v.signed_file ? json_string(v.signed_file) : json_null()) < 0))) {
                r = -ENOMEM;
                goto finish;
        }

        *ret_record = TAKE_PTR(record);
        r = 0;

finish:
        free(v.signed_file);
        safe_close(st.fd);
        return r;
}
