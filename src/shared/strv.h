/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "macro.h"

/* NULL-terminated string arrays, as argv and envp. */
void strv_free(char **l);
size_t strv_length(char * const *l);
char **strv_copy(char * const *l);
/* Appends a copy of s. */
int strv_extend(char ***l, const char *s);
/* Appends the non-empty fields of s split at any of the separators. */
int strv_split_extend(char ***l, const char *s, const char *separators);
/* The entries joined with separator; "" for an empty list. */
char *strv_join(char * const *l, const char *separator);

static inline bool strv_isempty(char * const *l) {
        return !l || !*l;
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

/* Equal, or both NULL. */
static inline bool streq_ptr(const char *a, const char *b) {
        return a && b ? strcmp(a, b) == 0 : a == b;
}

/* The rest of s after prefix, or NULL if s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* Whether s is one of the strings of l (NULL-terminated). */
bool strv_contains(char * const *l, const char *s);
#define STR_IN_SET(s, ...) strv_contains((char *[]) { __VA_ARGS__, NULL }, (s))

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
