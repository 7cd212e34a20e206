/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pod-config.h"
#include "uid-range.h"

static bool range_holds(uint32_t base, uint32_t id) {
        return id >= base && id - base < POD_UID_RANGE_SIZE;
}

int uid_range_pick(const uint32_t *used, size_t n_used, const uint32_t *taken, size_t n_taken, uint32_t *ret) {
        for (uint32_t base = UID_RANGE_FIRST; base < UID_RANGE_LAST; base += POD_UID_RANGE_SIZE) {
                bool free_range = true;

                for (size_t i = 0; free_range && i < n_used; i++)
                        if (used[i] == base)
                                free_range = false;
                for (size_t i = 0; free_range && i < n_taken; i++)
                        if (range_holds(base, taken[i]))
                                free_range = false;
                if (free_range) {
                        *ret = base;
                        return 0;
                }
        }
        return -EBUSY;
}

static int append_id(uint32_t **ids, size_t *n, size_t *allocated, uint32_t id) {
        if (*n >= *allocated) {
                size_t a = *allocated ? *allocated * 2 : 64;
                uint32_t *l = reallocarray(*ids, a, sizeof(uint32_t));

                if (!l)
                        return -ENOMEM;
                *ids = l;
                *allocated = a;
        }
        (*ids)[(*n)++] = id;
        return 0;
}

int uid_range_host_ids(uint32_t **ret, size_t *ret_n) {
        uint32_t *ids = NULL;
        size_t n = 0, allocated = 0;
        struct passwd *pw;
        struct group *gr;
        int r = 0;

        setpwent();
        while (r >= 0 && (pw = getpwent()))
                r = append_id(&ids, &n, &allocated, (uint32_t) pw->pw_uid);
        endpwent();
        setgrent();
        while (r >= 0 && (gr = getgrent()))
                r = append_id(&ids, &n, &allocated, (uint32_t) gr->gr_gid);
        endgrent();
        if (r < 0) {
                free(ids);
                return r;
        }

        *ret = ids;
        *ret_n = n;
        return 0;
}
