/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "extract.h"
#include "image.h"
#include "verify-minisign.h"

/* One image import, as the import child of podmachined runs it (as root, on hostile
 * input): the source is copied into a private staging directory while it is hashed
 * (BLAKE2b-512 for minisign, sha256 for the record), the copy is verified, its format
 * detected, and only then unpacked into the image tree, from the verified copy. */

typedef enum ImportVerify {
        IMPORT_VERIFY_NO,        /* recorded as unverified */
        IMPORT_VERIFY_CHECKSUM,  /* the sha256 the caller gave */
        IMPORT_VERIFY_SIGNATURE, /* a minisign signature by a key of the trust store */
        _IMPORT_VERIFY_MAX,
        _IMPORT_VERIFY_INVALID = -22,
} ImportVerify;

const char *import_verify_to_string(ImportVerify v);
ImportVerify import_verify_from_string(const char *s);

typedef struct ImportOptions {
        ImageFormat format;          /* IMAGE_FORMAT_AUTO: detected */
        const char *tag;             /* which image of an OCI layout or docker archive */
        ImportVerify verify;
        const MinisignSignature *signature; /* the .minisig, for IMPORT_VERIFY_SIGNATURE */
        const char *sha256;          /* 64 hex digits, for IMPORT_VERIFY_CHECKSUM */
        bool allow_legacy_signature;
        bool allow_devices;
        ExtractLimits limits;
        const char *trust_etc_dir;   /* the trust store; NULL: the system's */
        const char *trust_vendor_dir;
        int progress_fd;             /* -EBADF, or a pipe that gets a uint64_t of bytes read now and then */
} ImportOptions;

/* What went wrong, for the caller: a D-Bus error name and a one-line message. */
typedef struct ImportError {
        const char *name;
        char *message;
} ImportError;

void import_error_done(ImportError *e);

/* Imports what source_fd yields into tree_fd (an empty image tree), using work_fd (an
 * empty directory only root may enter, on the store's file system) for the staged copy
 * and unpacked layouts. On success *ret_record is the image's record: format, size,
 * digest, verification (verified, key_id, key_name, trusted_comment), and for OCI and
 * docker images config, ref_name, manifest_digest. On failure *ret_error says why; the
 * caller removes tree and work directory. */
int import_run(int source_fd, int work_fd, int tree_fd, const ImportOptions *o, json_t **ret_record, ImportError *ret_error);

/* The format the first bytes of fd announce, without reading it all: a file system or
 * disk image (libblkid), else tar (and what is in the tar decides oci/docker-archive). */
ImageFormat import_detect_format(int fd);
