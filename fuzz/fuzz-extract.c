/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An archive extracted into a fresh directory, first as an image, then once more over
 * it as an OCI layer with whiteouts. Beyond not crashing: a failure always says why in
 * one line, and nothing appears beside the image root. Header checksums of a plain tar
 * are fixed up first, so that mutated names, types and links get past libarchive. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fileio.h"
#include "src/machined/extract.h"

static void fix_checksums(uint8_t *buf, size_t size) {
        for (size_t off = 0; off + 512 <= size;) {
                uint8_t *h = buf + off;
                uint64_t len = 0;
                unsigned sum = 0;

                if (memcmp(h + 257, "ustar", 5) != 0)
                        return;
                for (size_t i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++)
                        len = len * 8 + (uint64_t) (h[i] - '0');

                memset(h + 148, ' ', 8);
                for (size_t i = 0; i < 512; i++)
                        sum += h[i];
                snprintf((char *) h + 148, 8, "%06o", sum & 0777777);

                if (len > size)
                        return;
                off += 512 + (size_t) (len + 511) / 512 * 512;
        }
}

static void check_message(int r, char *message) {
        if (r < 0 && r != -ENOMEM && !message)
                abort();
        if (r >= 0 && message)
                abort();
        for (const char *p = message; p && *p; p++)
                if ((unsigned char) *p < 0x20)
                        abort();
        free(message);
}

static void check_nothing_beside(int base_fd) {
        DIR *d;

        if (opendir_fd(base_fd, &d) < 0)
                abort();
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && strcmp(de->d_name, "root") != 0)
                        abort();
        closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ExtractOptions opts = {
                .limits = {
                        .max_entries = 256,
                        .max_bytes = 1024 * 1024,
                        .max_path_length = 1024,
                },
                .trusted = true,
        };
        char base[] = "/var/tmp/fuzz-extract-XXXXXX";
        _cleanup_close_ int input = -EBADF, base_fd = -EBADF, root_fd = -EBADF;
        _cleanup_free_ uint8_t *copy = malloc(size + 1);
        char *message = NULL;
        int r;

        if (!copy)
                abort();
        memcpy(copy, data, size);
        fix_checksums(copy, size);

        input = memfd_create("fuzz-extract", MFD_CLOEXEC);
        if (input < 0 || (size > 0 && write(input, copy, size) != (ssize_t) size))
                abort();
        if (!mkdtemp(base))
                abort();
        base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base_fd < 0 || mkdirat(base_fd, "root", 0755) < 0)
                abort();
        root_fd = openat(base_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                abort();

        if (lseek(input, 0, SEEK_SET) < 0)
                abort();
        r = extract_archive(input, root_fd, &opts, NULL, &message);
        check_message(r, message);

        opts.trusted = false;
        opts.whiteouts = true;
        if (lseek(input, 0, SEEK_SET) < 0)
                abort();
        r = extract_archive(input, root_fd, &opts, NULL, &message);
        check_message(r, message);

        check_nothing_beside(base_fd);
        if (rm_rf_at(AT_FDCWD, base) < 0)
                abort();
        return 0;
}
