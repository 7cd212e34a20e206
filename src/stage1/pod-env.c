/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "pod-env.h"
#include "strv.h"

static size_t env_key_length(const char *e) {
        return strcspn(e, "=");
}

/* l has room for one more entry; takes e. */
static void env_set(char **l, size_t *n, char *e) {
        size_t k = env_key_length(e);

        for (size_t i = 0; i < *n; i++)
                if (env_key_length(l[i]) == k && strncmp(l[i], e, k) == 0) {
                        free(l[i]);
                        l[i] = e;
                        return;
                }
        l[(*n)++] = e;
}

int pod_env_build(char * const *pod_environment, const char *hostname, const char *term, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        char *e;

        for (size_t i = 0; pod_environment && pod_environment[i]; i++)
                if (!env_assignment_has_name(pod_environment[i]))
                        return -EINVAL;

        /* PATH, container, HOSTNAME, TERM, the pod's entries and the terminating NULL. */
        l = calloc(4 + strv_length(pod_environment) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        l[n] = strdup("PATH=" POD_DEFAULT_PATH);
        if (!l[n++])
                return -ENOMEM;
        l[n] = strdup("container=podctl");
        if (!l[n++])
                return -ENOMEM;
        if (hostname && asprintf(&l[n++], "HOSTNAME=%s", hostname) < 0) {
                l[--n] = NULL;
                return -ENOMEM;
        }
        if (term && asprintf(&l[n++], "TERM=%s", term) < 0) {
                l[--n] = NULL;
                return -ENOMEM;
        }

        for (size_t i = 0; pod_environment && pod_environment[i]; i++) {
                e = strdup(pod_environment[i]);
                if (!e)
                        return -ENOMEM;
                env_set(l, &n, e);
        }

        *ret = TAKE_PTR(l);
        return 0;
}
