/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "macro.h"
#include "parse.h"

/* Reads the digits at *p into *ret and moves *p past them. Returns 1 if there were any, 0 if
 * not, -EINVAL for no string at all and -ERANGE on overflow. */
static int read_digits(const char **p, uint64_t *ret) {
        uint64_t v = 0;
        bool any = false;

        if (!*p)
                return -EINVAL;

        for (; **p >= '0' && **p <= '9'; (*p)++) {
                unsigned d = (unsigned) (**p - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
                any = true;
        }

        *ret = v;
        return any;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char suffix;
                unsigned shift;
        } table[] = {
                { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
        };
        uint64_t whole, frac = 0, frac_div = 1, factor = 1;
        const char *p = s;
        int r;

        r = read_digits(&p, &whole);
        if (r < 0)
                return r;
        if (r == 0)
                return -EINVAL;

        if (*p == '.') {
                p++;
                if (!(*p >= '0' && *p <= '9'))
                        return -EINVAL;
                /* Nine decimals are more than any factor below can make use of. */
                for (; *p >= '0' && *p <= '9'; p++)
                        if (frac_div < 1000000000) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                frac_div *= 10;
                        }
        }

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (toupper((unsigned char) *p) == table[i].suffix) {
                        factor = UINT64_C(1) << table[i].shift;
                        p++;
                        break;
                }
        if (toupper((unsigned char) *p) == 'B')
                p++;
        if (*p != 0)
                return -EINVAL;
        if (frac != 0 && factor == 1)
                return -EINVAL; /* fractions of a byte */

        if (whole > UINT64_MAX / factor)
                return -ERANGE;
        whole *= factor;
        frac = frac * factor / frac_div; /* factor ≤ 2^40 and frac < 10^9: fits */
        if (whole > UINT64_MAX - frac)
                return -ERANGE;

        *ret = whole + frac;
        return 0;
}

int parse_cpus(const char *s, uint64_t *ret) {
        uint64_t whole, frac = 0, usec;
        const char *p = s;
        unsigned decimals = 0;
        int n;

        n = read_digits(&p, &whole);
        if (n < 0)
                return n;
        if (*p == '.') {
                p++;
                for (; *p >= '0' && *p <= '9'; p++, decimals++) {
                        if (decimals >= 6)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*p - '0');
                }
                if (decimals == 0)
                        return -EINVAL;
        } else if (n == 0)
                return -EINVAL;
        if (n == 0 && decimals == 0)
                return -EINVAL;
        if (*p != 0)
                return -EINVAL;

        for (; decimals < 6; decimals++)
                frac *= 10;

        if (whole > (UINT64_MAX - 1 - frac) / 1000000)
                return -ERANGE;
        usec = whole * 1000000 + frac;
        if (usec == 0)
                return -ERANGE;

        *ret = usec;
        return 0;
}

int parse_uint64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        const char *p = s;
        uint64_t v;
        int r;

        r = read_digits(&p, &v);
        if (r < 0)
                return r;
        if (r == 0 || *p != 0)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;

        *ret = v;
        return 0;
}

int image_name_from_path(const char *path, char **ret) {
        static const char * const suffixes[] = {
                ".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2", ".tgz", ".txz", ".tar",
                ".squashfs", ".sqfs", ".erofs", ".raw", ".img",
        };
        const char *e, *b;
        size_t n;
        char *name;

        if (!path)
                return -EINVAL;

        /* Ignore trailing slashes: "rootfs/" names "rootfs". */
        e = path + strlen(path);
        while (e > path && e[-1] == '/')
                e--;
        b = e;
        while (b > path && b[-1] != '/')
                b--;
        n = (size_t) (e - b);

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t l = strlen(suffixes[i]);

                if (n > l && strncmp(e - l, suffixes[i], l) == 0) {
                        n -= l;
                        break;
                }
        }

        if (n == 0 || (n == 1 && b[0] == '.') || (n == 2 && b[0] == '.' && b[1] == '.'))
                return -EINVAL;

        name = strndup(b, n);
        if (!name)
                return -ENOMEM;
        *ret = name;
        return 0;
}

char *format_bytes(char *buf, size_t n, uint64_t bytes) {
        static const char units[] = "KMGTPE";
        unsigned i = 0;
        uint64_t factor = 1024;

        if (bytes < 1024) {
                snprintf(buf, n, "%" PRIu64 "B", bytes);
                return buf;
        }

        while (i + 1 < STRLEN(units) && bytes / factor >= 1024) {
                factor *= 1024;
                i++;
        }

        if (bytes % factor == 0)
                snprintf(buf, n, "%" PRIu64 "%c", bytes / factor, units[i]);
        else
                /* Truncated, as systemd does: 1.99M shows as 1.9M, never as 2.0M. */
                snprintf(buf, n, "%" PRIu64 ".%" PRIu64 "%c", bytes / factor,
                         (bytes % factor) * 10 / factor, units[i]);
        return buf;
}

char *format_timestamp(char *buf, size_t n, uint64_t usec) {
        struct tm tm;
        time_t t;

        if (usec == 0 || usec == UINT64_MAX) {
                snprintf(buf, n, "-");
                return buf;
        }

        t = (time_t) (usec / 1000000);
        if (!localtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, n, "-");
        return buf;
}

char *format_cpus(char *buf, size_t n, uint64_t usec) {
        uint64_t frac = usec % 1000000;
        int digits = 6;

        if (frac == 0) {
                snprintf(buf, n, "%" PRIu64, usec / 1000000);
                return buf;
        }
        while (frac % 10 == 0) {
                frac /= 10;
                digits--;
        }
        snprintf(buf, n, "%" PRIu64 ".%0*" PRIu64, usec / 1000000, digits, frac);
        return buf;
}

static bool word_needs_quotes(const char *w) {
        if (!*w)
                return true;
        for (const char *p = w; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("-_./=:,+@%", *p))
                        return true;
        return false;
}

char *format_command(char * const *argv) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;

        for (size_t i = 0; argv && argv[i]; i++) {
                if (i > 0)
                        fputc(' ', f);
                if (!word_needs_quotes(argv[i])) {
                        fputs(argv[i], f);
                        continue;
                }
                fputc('\'', f);
                for (const char *p = argv[i]; *p; p++)
                        if (*p == '\'')
                                fputs("'\\''", f);
                        else
                                fputc(*p, f);
                fputc('\'', f);
        }

        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

char *format_owner(uint32_t uid) {
        struct passwd *pw;
        char *s;

        errno = 0;
        pw = getpwuid((uid_t) uid);
        if (pw && pw->pw_name)
                return strdup(pw->pw_name);
        if (asprintf(&s, "%" PRIu32, uid) < 0)
                return NULL;
        return s;
}

bool env_assignment_has_name(const char *e) {
        const char *eq = e ? strchr(e, '=') : NULL;

        return eq && eq != e;
}

bool env_assignment_is_valid(const char *e) {
        if (!env_assignment_has_name(e) || (*e >= '0' && *e <= '9'))
                return false;
        for (const char *p = e; *p != '='; p++)
                if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
                        return false;
        return true;
}
