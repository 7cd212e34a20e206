/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

char **strv_copy(char * const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i]) {
                        strv_free(c);
                        return NULL;
                }
        }
        return c;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **nl;

        nl = reallocarray(*l, n + 2, sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[n] = strdup(s);
        nl[n + 1] = NULL;
        return nl[n] ? 0 : -ENOMEM;
}

int strv_split_extend(char ***l, const char *s, const char *separators) {
        while (*s) {
                size_t k = strcspn(s, separators);

                if (k > 0) {
                        _cleanup_free_ char *field = strndup(s, k);
                        int r;

                        if (!field)
                                return -ENOMEM;
                        r = strv_extend(l, field);
                        if (r < 0)
                                return r;
                }
                s += k;
                s += strspn(s, separators);
        }
        return 0;
}

char *strv_join(char * const *l, const char *separator) {
        size_t n = 0, ls = strlen(separator);
        char *j, *p;

        for (size_t i = 0; l && l[i]; i++)
                n += strlen(l[i]) + (i > 0 ? ls : 0);
        p = j = malloc(n + 1);
        if (!j)
                return NULL;
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, separator);
                p = stpcpy(p, l[i]);
        }
        *p = '\0';
        return j;
}

bool strv_contains(char * const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}
