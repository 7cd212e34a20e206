/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* For a child before execve(): every signal's default action, nothing blocked. */
int reset_signals(void);

/* Makes fds[i] the descriptor i, for i < n (stdin, stdout, stderr...). The originals are
 * left open, O_CLOEXEC or not as they were; fds may be changed. */
int move_fds_to_stdio(int *fds, size_t n);
