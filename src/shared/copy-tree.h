/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct CopyTreeOptions {
        bool refuse_devices; /* -EPERM for a device node */
        bool drop_setuid;    /* clear setuid/setgid bits */
} CopyTreeOptions;

/* Copies the tree at the absolute path source into the working directory with libarchive,
 * as it is: owners, modes, times, xattrs and ACLs; symlinks as symlinks, not crossing into
 * other mounts; libarchive's secure-write flags keep it below the working directory.
 * ret_bytes (optional) gets the sum of the sizes of its regular files. o may be NULL.
 * Returns 0 or -errno, after logging. */
int copy_tree(const char *source, const CopyTreeOptions *o, uint64_t *ret_bytes);
