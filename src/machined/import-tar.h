/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

typedef struct ImportLimits {
        uint64_t max_entries;
        uint64_t max_bytes; /* sum of regular file sizes */
} ImportLimits;

#define IMPORT_LIMITS_DEFAULT                                   \
        ((ImportLimits) {                                       \
                .max_entries = 1000000,                         \
                .max_bytes = 64ULL * 1024 * 1024 * 1024,        \
        })

/* Extracts the tar archive (any compression libarchive knows) read from input_fd into
 * the directory tree_fd. Changes the working directory: run it in a child process.
 * On failure *ret_message says why in one line. */
int import_tar(int input_fd, int tree_fd, const ImportLimits *limits, uint64_t *ret_size, char **ret_message);
