/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <archive.h>

#include "macro.h"

/* Scope cleanup for libarchive's readers and writers. */
static inline void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

static inline void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}
