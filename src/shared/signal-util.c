/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signal-util.h"

const char *signal_to_string(int sig) {
        if (sig <= 0 || sig >= NSIG)
                return NULL;
        return sigabbrev_np(sig);
}

int parse_signal(const char *s, int *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s)
                return -EINVAL;

        if (*s >= '0' && *s <= '9') {
                errno = 0;
                v = strtoul(s, &end, 10);
                if (errno != 0 || *end || v == 0 || v >= NSIG)
                        return -EINVAL;
                *ret = (int) v;
                return 0;
        }

        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (int sig = 1; sig < NSIG; sig++) {
                const char *name = sigabbrev_np(sig);

                if (name && strcasecmp(name, s) == 0) {
                        *ret = sig;
                        return 0;
                }
        }
        return -EINVAL;
}
