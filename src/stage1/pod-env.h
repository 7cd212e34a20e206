/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#define POD_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


/* The app's complete environment: PATH, container=podctl, HOSTNAME and TERM (if term is
 * not NULL), then the pod's own entries, which replace those of the same name. -EINVAL if
 * an entry of the pod is not an assignment. */
int pod_env_build(char * const *pod_environment, const char *hostname, const char *term, char ***ret);
