/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>

#include "digest.h"

static const char *const digest_names[_DIGEST_ALGORITHM_MAX] = {
        [DIGEST_SHA256] = "SHA2-256",
        [DIGEST_BLAKE2B_512] = "BLAKE2B-512",
};

static EVP_MD *digest_mds[_DIGEST_ALGORITHM_MAX];
static pthread_once_t digest_once = PTHREAD_ONCE_INIT;

/* EVP_sha256() and the like fetch implicitly on every init; an explicit fetch is looked up
 * once. The references are kept for the life of the process. */
static void digest_fetch(void) {
        for (DigestAlgorithm a = 0; a < _DIGEST_ALGORITHM_MAX; a++)
                digest_mds[a] = EVP_MD_fetch(NULL, digest_names[a], NULL);
}

static const EVP_MD *digest_md(DigestAlgorithm a) {
        if (a < 0 || a >= _DIGEST_ALGORITHM_MAX || pthread_once(&digest_once, digest_fetch) != 0)
                return NULL;
        return digest_mds[a];
}

int digest_new(DigestAlgorithm a, EVP_MD_CTX **ret) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        const EVP_MD *md = digest_md(a);

        if (!md)
                return -EIO;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1)
                return -EIO;
        *ret = TAKE_PTR(ctx);
        return 0;
}

int digest_final(EVP_MD_CTX *ctx, uint8_t *ret) {
        return EVP_DigestFinal_ex(ctx, ret, NULL) == 1 ? 0 : -EIO;
}

int digest_buffer(DigestAlgorithm a, const void *data, size_t size, uint8_t *ret) {
        const EVP_MD *md = digest_md(a);

        if (!md)
                return -EIO;
        return EVP_Digest(data, size, ret, NULL, md, NULL) == 1 ? 0 : -EIO;
}
