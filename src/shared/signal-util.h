/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* "TERM", "SIGTERM", "sigterm" or "15" → 15; -EINVAL for anything else. */
int parse_signal(const char *s, int *ret);
/* 15 → "TERM"; NULL for an invalid signal. */
const char *signal_to_string(int sig);
