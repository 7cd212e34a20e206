/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a fuzz target over every file in the directories (or files) given, as a
 * regression test without libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(int dir_fd, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *data = NULL;
        struct stat st;
        size_t done = 0;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        /* Never malloc(0): the target gets a valid pointer for an empty input too. */
        data = malloc((size_t) st.st_size + 1);
        if (!data)
                return -1;
        while (done < (size_t) st.st_size) {
                ssize_t n = read(fd, data + done, (size_t) st.st_size - done);
                if (n <= 0) {
                        fprintf(stderr, "%s: short read\n", path);
                        return -1;
                }
                done += (size_t) n;
        }

        LLVMFuzzerTestOneInput(data, done);
        return 0;
}

static int run_dir(const char *path) {
        _cleanup_close_ int fd = -EBADF;
        struct dirent **entries = NULL;
        int n, r = 0, count = 0;

        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return run_file(AT_FDCWD, path) < 0 ? -1 : 1;

        n = scandir(path, &entries, NULL, alphasort);
        if (n < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                if (entries[i]->d_name[0] != '.') {
                        if (run_file(fd, entries[i]->d_name) < 0)
                                r = -1;
                        count++;
                }
                free(entries[i]);
        }
        free(entries);
        return r < 0 ? r : count;
}

int main(int argc, char *argv[]) {
        int total = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s CORPUS-DIR|FILE...\n", argv[0]);
                return EXIT_FAILURE;
        }
        for (int i = 1; i < argc; i++) {
                int n = run_dir(argv[i]);
                if (n < 0)
                        return EXIT_FAILURE;
                total += n;
        }
        /* An empty corpus would make this test pass vacuously. */
        if (total == 0) {
                fprintf(stderr, "no inputs in %s\n", argv[1]);
                return EXIT_FAILURE;
        }
        printf("%d inputs\n", total);
        return EXIT_SUCCESS;
}
