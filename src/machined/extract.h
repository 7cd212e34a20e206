/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one archive may cost: every bound is checked before the work it bounds. */
typedef struct ExtractLimits {
        uint64_t max_entries;
        uint64_t max_bytes;       /* sum of the sizes of regular files */
        size_t max_path_length;   /* of entry names and link targets, in bytes */
} ExtractLimits;

#define EXTRACT_LIMITS_DEFAULT                                  \
        ((ExtractLimits) {                                      \
                .max_entries = 1000000,                         \
                .max_bytes = 64ULL * 1024 * 1024 * 1024,        \
                .max_path_length = 4096,                        \
        })

typedef void (*ExtractProgress)(uint64_t input_bytes, void *userdata);

typedef struct ExtractOptions {
        ExtractLimits limits;
        /* Keep setuid/setgid bits and security.capability: only for archives an
         * administrator vouches for. Otherwise they are dropped, silently. */
        bool trusted;
        /* Create character and block devices instead of refusing the archive. */
        bool allow_devices;
        /* Apply the archive as an OCI layer over what the tree holds: .wh.NAME
         * removes NAME, DIR/.wh..wh..opq empties DIR of what lower layers put there,
         * and neither is extracted. An empty layer is valid. */
        bool whiteouts;
        /* Bytes of the (compressed) input consumed so far, at most every 64 KiB. */
        ExtractProgress progress;
        void *userdata;
} ExtractOptions;

#define EXTRACT_OPTIONS_DEFAULT ((ExtractOptions) { .limits = EXTRACT_LIMITS_DEFAULT })

typedef struct ExtractStats {
        uint64_t n_entries;       /* including whiteouts */
        uint64_t n_bytes;         /* sum of the sizes of regular files */
        uint64_t input_bytes;     /* consumed from input_fd */
} ExtractStats;

/* Extracts the tar archive read from input_fd (plain, gzip, bzip2, xz, lzma, zstd,
 * lz4 or compress) into the directory tree root_fd, which stands for "/" of the image:
 * "..", absolute paths and symlinks resolve inside it, as they will inside the pod,
 * and nothing is created outside it or on another file system. Owners are kept
 * numerically. Device nodes are refused with -EPERM unless allowed.
 *
 * Entries are applied in archive order and the later of two with one name wins, as
 * with tar: an entry replaces whatever its name holds (a whole directory tree too),
 * except that a directory over a directory keeps the contents and takes the new
 * metadata. Directory modes and times are set once everything is extracted.
 *
 * On failure the tree holds what was extracted so far: the caller extracts into a
 * temporary directory and removes it. *ret_message, if given, says why in one line
 * naming the entry ("Entry 'etc/../x': ..."). Does not change the working directory. */
int extract_archive(int input_fd, int root_fd, const ExtractOptions *opts, ExtractStats *ret_stats, char **ret_message);
