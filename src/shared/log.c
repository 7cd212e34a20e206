/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = -1;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        if (max_level < 0) {
                const char *e = getenv("PODCTL_LOG_LEVEL");
                max_level = e && strcmp(e, "debug") == 0 ? LOG_DEBUG : LOG_INFO;
        }
        return max_level;
}

int log_internal(int level, int error, const char *file, int line, const char *format, ...) {
        int saved = errno;
        va_list ap;

        (void) file;
        (void) line;
        error = error < 0 ? -error : error;

        if (level <= log_get_max_level()) {
                /* "<N>" prefixes let journald keep the level when we log to a stream. */
                if (getenv("JOURNAL_STREAM"))
                        fprintf(stderr, "<%d>", level);
                errno = error;
                va_start(ap, format);
                vfprintf(stderr, format, ap);
                va_end(ap);
                fputc('\n', stderr);
        }

        errno = saved;
        return -error;
}
