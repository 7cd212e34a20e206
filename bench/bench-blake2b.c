/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hashes a file the way podmachined's import stages it: 1 MiB reads, OpenSSL's libcrypto
 * through EVP with each algorithm fetched once (src/shared/digest.c): BLAKE2b-512 (the
 * minisign prehash, computed when a prehashed signature is to be checked) and SHA-256 (the
 * image digest, always computed). Prints the hex digest, as b2sum and sha256sum do, so the
 * result can be checked against theirs.
 *
 *   bench-blake2b [--sha256|--stage] FILE
 *
 * --sha256: SHA-256 alone (an import with --verify=no or =checksum); --stage: both, over
 * the same buffer (an import with --verify=signature). Built by bench/import-host with
 * "cc -O2 bench/bench-blake2b.c -lcrypto". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define BLOCK_SIZE (1024 * 1024)

static void print_hex(const unsigned char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                printf("%02x", p[i]);
}

static EVP_MD_CTX *start(const char *name, EVP_MD **ret_md) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        *ret_md = EVP_MD_fetch(NULL, name, NULL);
        if (!ctx || !*ret_md || EVP_DigestInit_ex2(ctx, *ret_md, NULL) != 1) {
                fprintf(stderr, "bench-blake2b: cannot set up %s\n", name);
                exit(1);
        }
        return ctx;
}

int main(int argc, char *argv[]) {
        EVP_MD *blake_md = NULL, *sha_md = NULL;
        EVP_MD_CTX *blake = NULL, *sha = NULL;
        unsigned char b[EVP_MAX_MD_SIZE], s[EVP_MAX_MD_SIZE];
        unsigned int b_size = 0, s_size = 0;
        const char *path;
        unsigned char *buf;
        int fd, do_blake = 1, do_sha = 0;

        if (argc == 3 && strcmp(argv[1], "--sha256") == 0)
                do_blake = 0, do_sha = 1;
        else if (argc == 3 && strcmp(argv[1], "--stage") == 0)
                do_sha = 1;
        else if (argc != 2) {
                fprintf(stderr, "usage: bench-blake2b [--sha256|--stage] FILE\n");
                return 2;
        }
        path = argv[argc - 1];

        buf = malloc(BLOCK_SIZE);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (!buf || fd < 0) {
                fprintf(stderr, "bench-blake2b: %s: %s\n", path, strerror(errno));
                return 1;
        }
        if (do_blake)
                blake = start("BLAKE2B-512", &blake_md);
        if (do_sha)
                sha = start("SHA2-256", &sha_md);

        for (;;) {
                ssize_t n = read(fd, buf, BLOCK_SIZE);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "bench-blake2b: %s: %s\n", path, strerror(errno));
                        return 1;
                }
                if (n == 0)
                        break;
                if ((blake && EVP_DigestUpdate(blake, buf, (size_t) n) != 1) ||
                    (sha && EVP_DigestUpdate(sha, buf, (size_t) n) != 1)) {
                        fprintf(stderr, "bench-blake2b: hashing failed\n");
                        return 1;
                }
        }

        if ((blake && EVP_DigestFinal_ex(blake, b, &b_size) != 1) ||
            (sha && EVP_DigestFinal_ex(sha, s, &s_size) != 1)) {
                fprintf(stderr, "bench-blake2b: hashing failed\n");
                return 1;
        }
        if (blake)
                print_hex(b, b_size);
        if (blake && sha)
                putchar(' ');
        if (sha)
                print_hex(s, s_size);
        printf("  %s\n", path);

        EVP_MD_CTX_free(blake);
        EVP_MD_CTX_free(sha);
        EVP_MD_free(blake_md);
        EVP_MD_free(sha_md);
        close(fd);
        free(buf);
        return 0;
}
