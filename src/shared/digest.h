/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Message digests from OpenSSL's libcrypto: SHA-256 (image, blob and diff_id digests) and
 * BLAKE2b-512 (minisign's prehash). libcrypto picks the CPU's SHA extensions and vector
 * units where libsodium runs portable code; libsodium stays for Ed25519. Each algorithm is
 * fetched from the default provider once per process (thread-safe) and kept. */

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define DIGEST_SHA256_SIZE 32U
#define DIGEST_BLAKE2B_512_SIZE 64U

typedef enum DigestAlgorithm {
        DIGEST_SHA256,
        DIGEST_BLAKE2B_512,
        _DIGEST_ALGORITHM_MAX,
        _DIGEST_ALGORITHM_INVALID = -EINVAL,
} DigestAlgorithm;

/* A context ready for updates. -ENOMEM; -EIO if libcrypto cannot provide the algorithm. */
int digest_new(DigestAlgorithm a, EVP_MD_CTX **ret);
/* Finishes ctx (which may then only be freed) into ret, of the algorithm's size. -EIO. */
int digest_final(EVP_MD_CTX *ctx, uint8_t *ret);
/* The digest of one buffer. */
int digest_buffer(DigestAlgorithm a, const void *data, size_t size, uint8_t *ret);

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);
