/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <time.h>

#include "macro.h"
#include "pod-logs.h"
#include "tests.h"

/* 2024-01-02 03:04:05 UTC */
#define T0 (UINT64_C(1704164645) * 1000000)

static char *fmt(const char *host, const char *ident, const char *pid, const char *msg, size_t n) {
        char *line = NULL;

        ASSERT_OK(log_line_format(T0, host, ident, pid, msg, n, &line));
        return line;
}

TEST(short_format) {
        _cleanup_free_ char *a = fmt("host", "app", "42", "hello", 5);
        _cleanup_free_ char *b = fmt(NULL, "app", NULL, "hello\n", 6);
        _cleanup_free_ char *c = fmt(NULL, NULL, NULL, "", 0);

        ASSERT_STREQ(a, "Jan 02 03:04:05 host app[42]: hello\n");
        ASSERT_STREQ(b, "Jan 02 03:04:05 app: hello\n");
        ASSERT_STREQ(c, "Jan 02 03:04:05: \n");
}

TEST(multi_line) {
        _cleanup_free_ char *a = fmt(NULL, "x", "1", "one\ntwo\n", 8);

        /* Continuation lines line up with the message. */
        ASSERT_STREQ(a, "Jan 02 03:04:05 x[1]: one\n"
                        "                      two\n");
}

TEST(escapes) {
        /* An escape sequence, a NUL, DEL, a C1 CSI, a lone continuation byte, an overlong '/'. */
        static const char m[] = "a\033[2Jb\0c\177d\302\233e\200f\300\257g";
        _cleanup_free_ char *a = fmt("h\n", "i\033", "1\r", m, sizeof m - 1);
        /* Valid UTF-8 and tabs stay. */
        _cleanup_free_ char *b = fmt(NULL, "x", NULL, "gr\303\274\303\237\tok \360\237\220\247", 14);

        ASSERT_STREQ(a, "Jan 02 03:04:05 h\\x0a i\\x1b[1\\x0d]: a\\x1b[2Jb\\x00c\\x7fd\\xc2\\x9be\\x80f\\xc0\\xafg\n");
        ASSERT_STREQ(b, "Jan 02 03:04:05 x: gr\303\274\303\237\tok \360\237\220\247\n");
}

int main(void) {
        setenv("TZ", "UTC", 1);
        tzset();
        RUN(short_format);
        RUN(multi_line);
        RUN(escapes);
        return 0;
}
