/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <linux/filter.h>

/* The pod's seccomp policy (seccomp-policy.c), compiled to BPF at build time. */
extern const struct sock_filter seccomp_filter_program[];
extern const unsigned short seccomp_filter_length;

/* Sets no_new_privs and loads the program into the calling thread. */
int seccomp_load_program(void);
