/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hashes a file the way podmachined's import stages it: 1 MiB reads, libsodium's
 * streaming BLAKE2b-512 (crypto_generichash, the minisign prehash), optionally with the
 * sha256 digest the staging computes beside it. Prints the hex digest, as b2sum and
 * sha256sum do, so the result can be checked against theirs.
 *
 *   bench-blake2b [--sha256|--stage] FILE
 *
 * --sha256: libsodium's SHA-256 alone; --stage: both, over the same buffer (what
 * podmachined does for every import). Built by bench/import-throughput with
 * "cc -O2 bench/bench-blake2b.c -lsodium". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define BLOCK_SIZE (1024 * 1024)

static void print_hex(const unsigned char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                printf("%02x", p[i]);
}

int main(int argc, char *argv[]) {
        crypto_generichash_state blake;
        crypto_hash_sha256_state sha;
        unsigned char b[crypto_generichash_BYTES_MAX], s[crypto_hash_sha256_BYTES];
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

        if (sodium_init() < 0) {
                fprintf(stderr, "bench-blake2b: sodium_init() failed\n");
                return 1;
        }
        buf = malloc(BLOCK_SIZE);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (!buf || fd < 0) {
                fprintf(stderr, "bench-blake2b: %s: %s\n", path, strerror(errno));
                return 1;
        }
        crypto_generichash_init(&blake, NULL, 0, sizeof b);
        crypto_hash_sha256_init(&sha);

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
                if (do_blake)
                        crypto_generichash_update(&blake, buf, (size_t) n);
                if (do_sha)
                        crypto_hash_sha256_update(&sha, buf, (size_t) n);
        }

        if (do_blake) {
                crypto_generichash_final(&blake, b, sizeof b);
                print_hex(b, sizeof b);
        }
        if (do_sha) {
                crypto_hash_sha256_final(&sha, s);
                if (do_blake)
                        putchar(' ');
                print_hex(s, sizeof s);
        }
        printf("  %s\n", path);
        close(fd);
        free(buf);
        return 0;
}
