/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <seccomp.h>
#include <stddef.h>

/* The system calls a pod may make: an allow-list in the spirit of systemd's
 * @system-service groups. Whatever is not listed fails with ENOSYS, as on a kernel that
 * lacks it, so programs take their fallbacks; what is listed as denied fails with EPERM,
 * as a missing privilege would. On x86-64 the same policy covers the i386 and x32 ABIs. */

extern const char *const seccomp_policy_allowed[];
extern const size_t seccomp_policy_n_allowed;
extern const char *const seccomp_policy_denied[];
extern const size_t seccomp_policy_n_denied;

/* Names the libseccomp at hand does not know are skipped. stage1 does not call this: it
 * loads the program seccomp-gen made of it at build time (seccomp-load.h). */
int seccomp_policy_build(scmp_filter_ctx *ret);

