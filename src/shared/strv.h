/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "macro.h"

/* NULL-terminated string arrays, as argv and envp. */
void strv_free(char **l);
size_t strv_length(char * const *l);
char **strv_copy(char * const *l);

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
