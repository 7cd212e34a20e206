/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* minisign public keys and signatures (https://jedisct1.github.io/minisign/), verified with
 * libsodium (Ed25519) and libcrypto (the BLAKE2b-512 prehash).
 *
 * A public key file is two lines: "untrusted comment: TEXT" and the base64 of
 * "Ed" || key id (8 bytes) || Ed25519 public key (32 bytes).
 *
 * A signature file is four lines:
 *   untrusted comment: TEXT
 *   base64 of algorithm (2 bytes) || key id (8 bytes) || signature (64 bytes)
 *   trusted comment: TEXT
 *   base64 of the global signature (64 bytes) over signature || trusted comment TEXT
 * The algorithm is "ED" (the file signature signs the BLAKE2b-512 digest of the file: it can
 * be checked while the file streams past) or "Ed" (legacy: it signs the file itself, so the
 * verifier needs all of it in memory).
 *
 * Error codes, the same from every function here, so the daemon maps each to one D-Bus error:
 *   -EBADMSG          malformed key or signature: line structure, prefixes, base64,
 *                     lengths, comment text, or a file larger than the bounds below
 *                                                                  → SignatureMalformed
 *   -EPROTONOSUPPORT  (parse) algorithm bytes neither "ED" nor "Ed" → SignatureMalformed
 *   -EOPNOTSUPP       (verify) a legacy "Ed" signature and !allow_legacy → LegacySignature
 *   -EKEYREJECTED     (verify) the signature names another key id: made by a key we do not
 *                     have                                          → UntrustedKey
 *   -EPERM            (verify) the file signature or the global signature over the trusted
 *                     comment does not verify: tampered file, tampered trusted comment, or a
 *                     signature of another file                    → SignatureInvalid
 *   -EINVAL           the caller's mistake (NULL arguments, see minisign_verify())
 *   -EIO              libsodium could not be initialised or libcrypto failed to hash
 *   -ENOMEM, and -errno from open()/read() in the *_load_* functions. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "macro.h"

#define MINISIGN_KEY_ID_SIZE 8
#define MINISIGN_KEY_SIZE 32
#define MINISIGN_SIGNATURE_SIZE 64
#define MINISIGN_PREHASH_SIZE 64

/* The longest comments minisign itself reads back (its 1024- and 8192-byte line buffers,
 * less prefix, newline and NUL); longer ones are malformed. */
#define MINISIGN_UNTRUSTED_COMMENT_MAX 1003
#define MINISIGN_TRUSTED_COMMENT_MAX 8173

/* Larger files are malformed: the longest valid ones are about 1.1 KiB and 9.3 KiB. */
#define MINISIGN_PUBLIC_KEY_FILE_MAX (4 * 1024)
#define MINISIGN_SIGNATURE_FILE_MAX (16 * 1024)

/* Up to 16 uppercase hex digits (minisign prints no leading zeros) and a NUL. */
#define MINISIGN_KEY_ID_STRING_MAX (MINISIGN_KEY_ID_SIZE * 2 + 1)

typedef enum MinisignAlgorithm {
        MINISIGN_ALGORITHM_LEGACY, /* "Ed": signs the whole file */
        MINISIGN_ALGORITHM_PREHASHED, /* "ED": signs the BLAKE2b-512 digest of the file */
        _MINISIGN_ALGORITHM_MAX,
        _MINISIGN_ALGORITHM_INVALID = -EINVAL,
} MinisignAlgorithm;

/* "legacy", "prehashed". */
const char *minisign_algorithm_to_string(MinisignAlgorithm a);

typedef struct MinisignPublicKey {
        uint8_t id[MINISIGN_KEY_ID_SIZE];
        uint8_t key[MINISIGN_KEY_SIZE];
        /* The untrusted comment, without its prefix: printable UTF-8 (tabs allowed). */
        char comment[MINISIGN_UNTRUSTED_COMMENT_MAX + 1];
} MinisignPublicKey;

typedef struct MinisignSignature {
        MinisignAlgorithm algorithm;
        uint8_t key_id[MINISIGN_KEY_ID_SIZE];
        uint8_t signature[MINISIGN_SIGNATURE_SIZE];
        uint8_t global_signature[MINISIGN_SIGNATURE_SIZE];
        /* Both without prefix or line end, printable UTF-8 (tabs allowed). Only the trusted
         * comment is signed, and only once minisign_verify() returned 0. */
        char untrusted_comment[MINISIGN_UNTRUSTED_COMMENT_MAX + 1];
        char trusted_comment[MINISIGN_TRUSTED_COMMENT_MAX + 1];
} MinisignSignature;

/* Writes the key id as minisign prints it: the 8 bytes as a little-endian 64-bit number in 16
 * uppercase hex digits (so the last byte comes first). Returns buf. */
char *minisign_key_id_to_string(const uint8_t id[MINISIGN_KEY_ID_SIZE],
                                char buf[MINISIGN_KEY_ID_STRING_MAX]);
/* The reverse; either case, with or without leading zeros. -EINVAL unless 1 to 16 hex digits. */
int minisign_key_id_from_string(const char *s, uint8_t ret[MINISIGN_KEY_ID_SIZE]);

/* A public key file as minisign writes it; a file that is just the base64 line (what
 * `minisign -P` takes) is accepted too, its comment then reads "minisign public key ID".
 * Line ends are "\n" or "\r\n"; the newline after the last line is optional; nothing may
 * follow it. The text need not be NUL-terminated and may not contain NUL. */
int minisign_public_key_parse(const char *text, size_t size, MinisignPublicKey *ret);
/* Read at most MINISIGN_PUBLIC_KEY_FILE_MAX bytes from fd (a file, pipe or socket) up to EOF. */
int minisign_public_key_load_fd(int fd, MinisignPublicKey *ret);
/* Opens path below dir_fd (or AT_FDCWD), following symlinks; it must be a regular file. */
int minisign_public_key_load_at(int dir_fd, const char *path, MinisignPublicKey *ret);
/* The canonical file text: the comment line and the base64 line, each ending in "\n". */
int minisign_public_key_format(const MinisignPublicKey *key, char **ret);
/* Same key id and key bytes; comments do not count. */
bool minisign_public_key_equal(const MinisignPublicKey *a, const MinisignPublicKey *b);

/* Strictly the four lines above, each ending in "\n" or "\r\n" (optional after the last), with
 * exact prefixes, exact base64 lengths in canonical standard base64, at most
 * MINISIGN_SIGNATURE_FILE_MAX bytes, no NUL, and nothing after the fourth line. Malformed
 * input is -EBADMSG even if its algorithm is unknown too. */
int minisign_signature_parse(const char *text, size_t size, MinisignSignature *ret);
int minisign_signature_load_fd(int fd, MinisignSignature *ret);
int minisign_signature_load_at(int dir_fd, const char *path, MinisignSignature *ret);

/* BLAKE2b-512 over the file, fed in pieces while the caller copies it: what a prehashed
 * signature signs (libcrypto's, see digest.h). minisign_hash_final() and minisign_hash_done()
 * free the context; done() is idempotent and may follow final() or a failed init(). */
typedef struct MinisignHash {
        EVP_MD_CTX *ctx;
} MinisignHash;

int minisign_hash_init(MinisignHash *h);
int minisign_hash_update(MinisignHash *h, const void *data, size_t size);
int minisign_hash_final(MinisignHash *h, uint8_t ret[MINISIGN_PREHASH_SIZE]);
void minisign_hash_done(MinisignHash *h);
#define _cleanup_minisign_hash_ _cleanup_(minisign_hash_done)

/* The checks that need no file content, for a caller to refuse early: -EOPNOTSUPP for a legacy
 * signature unless allow_legacy, -EKEYREJECTED if key is not NULL and has another key id. */
int minisign_verify_precheck(const MinisignSignature *sig, const MinisignPublicKey *key, bool allow_legacy);

/* Returns 0 if sig is a valid signature by key, with a valid trusted comment, of the file
 * given as one of:
 * - prehash: its BLAKE2b-512 digest from minisign_hash_final(), for a prehashed signature;
 * - content, content_size: the whole file (non-NULL even when empty; NULL: not given).
 * A prehashed signature uses prehash if not NULL, else hashes content. A legacy signature
 * always needs content: the caller must have kept the whole file (and bounded its size).
 * -EINVAL if what the signature needs was not given.
 * Checks run in the order: -EOPNOTSUPP (legacy refused), -EKEYREJECTED (other key id), then
 * -EPERM (either signature fails). */
int minisign_verify(const MinisignSignature *sig, const MinisignPublicKey *key,
                    const uint8_t prehash[MINISIGN_PREHASH_SIZE], const void *content, size_t content_size,
                    bool allow_legacy);
