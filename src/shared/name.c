/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "paths.h"

static bool char_is_label(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool name_is_valid(const char *name) {
        size_t label = 0;

        if (!name || !*name || strlen(name) > NAME_MAX_LEN)
                return false;

        for (const char *p = name; *p; p++) {
                if (*p == '.') {
                        if (label == 0 || p[-1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!char_is_label(*p))
                        return false;
                if (*p == '-' && label == 0)
                        return false;
                label++;
        }

        return label > 0 && name[strlen(name) - 1] != '-';
}

char *pod_unit_name(const char *name) {
        char *unit;

        if (!name_is_valid(name))
                return NULL;
        if (asprintf(&unit, POD_UNIT_PREFIX "%s" POD_UNIT_SUFFIX, name) < 0)
                return NULL;
        return unit;
}

char *pod_name_from_unit(const char *unit) {
        size_t n, lp = strlen(POD_UNIT_PREFIX), ls = strlen(POD_UNIT_SUFFIX);
        char *name;

        if (!unit || strncmp(unit, POD_UNIT_PREFIX, lp) != 0)
                return NULL;
        n = strlen(unit);
        if (n <= lp + ls || strcmp(unit + n - ls, POD_UNIT_SUFFIX) != 0)
                return NULL;

        name = strndup(unit + lp, n - lp - ls);
        if (name && !name_is_valid(name)) {
                free(name);
                return NULL;
        }
        return name;
}
