/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "parse.h"
#include "tests.h"

TEST(size) {
        uint64_t v;

        ASSERT_OK(parse_size("0", &v));
        ASSERT_EQ(v, 0);
        ASSERT_OK(parse_size("512", &v));
        ASSERT_EQ(v, 512);
        ASSERT_OK(parse_size("512B", &v));
        ASSERT_EQ(v, 512);
        ASSERT_OK(parse_size("1K", &v));
        ASSERT_EQ(v, 1024);
        ASSERT_OK(parse_size("64k", &v));
        ASSERT_EQ(v, 65536);
        ASSERT_OK(parse_size("512M", &v));
        ASSERT_EQ(v, 512ULL << 20);
        ASSERT_OK(parse_size("1G", &v));
        ASSERT_EQ(v, 1ULL << 30);
        ASSERT_OK(parse_size("1.5G", &v));
        ASSERT_EQ(v, 3ULL << 29);
        ASSERT_OK(parse_size("2T", &v));
        ASSERT_EQ(v, 2ULL << 40);
        ASSERT_OK(parse_size("1GB", &v));
        ASSERT_EQ(v, 1ULL << 30);
        ASSERT_OK(parse_size("16777215T", &v));
        ASSERT_EQ(v, 16777215ULL << 40);

        ASSERT_EQ(parse_size("", &v), -EINVAL);
        ASSERT_EQ(parse_size("M", &v), -EINVAL);
        ASSERT_EQ(parse_size("-1", &v), -EINVAL);
        ASSERT_EQ(parse_size("1X", &v), -EINVAL);
        ASSERT_EQ(parse_size("1MM", &v), -EINVAL);
        ASSERT_EQ(parse_size("1.", &v), -EINVAL);
        ASSERT_EQ(parse_size("1.5", &v), -EINVAL);
        ASSERT_EQ(parse_size(" 1", &v), -EINVAL);
        ASSERT_EQ(parse_size("16777216T", &v), -ERANGE);
        ASSERT_EQ(parse_size("99999999999999999999", &v), -ERANGE);
}

TEST(cpus) {
        uint64_t v;

        ASSERT_OK(parse_cpus("0.5", &v));
        ASSERT_EQ(v, 500000);
        ASSERT_OK(parse_cpus("2", &v));
        ASSERT_EQ(v, 2000000);
        ASSERT_OK(parse_cpus("1.25", &v));
        ASSERT_EQ(v, 1250000);
        ASSERT_OK(parse_cpus(".5", &v));
        ASSERT_EQ(v, 500000);
        ASSERT_OK(parse_cpus("0.000001", &v));
        ASSERT_EQ(v, 1);

        ASSERT_EQ(parse_cpus("0", &v), -ERANGE);
        ASSERT_EQ(parse_cpus("0.0", &v), -ERANGE);
        ASSERT_EQ(parse_cpus("0.0000001", &v), -EINVAL);
        ASSERT_EQ(parse_cpus("", &v), -EINVAL);
        ASSERT_EQ(parse_cpus(".", &v), -EINVAL);
        ASSERT_EQ(parse_cpus("1.", &v), -EINVAL);
        ASSERT_EQ(parse_cpus("-1", &v), -EINVAL);
        ASSERT_EQ(parse_cpus("1,5", &v), -EINVAL);
        ASSERT_EQ(parse_cpus("abc", &v), -EINVAL);
        ASSERT_EQ(parse_cpus("99999999999999999999", &v), -ERANGE);
}

TEST(uint64_range) {
        uint64_t v;

        ASSERT_OK(parse_uint64_range("1", 1, 10000, &v));
        ASSERT_EQ(v, 1);
        ASSERT_OK(parse_uint64_range("10000", 1, 10000, &v));
        ASSERT_EQ(v, 10000);
        ASSERT_EQ(parse_uint64_range("0", 1, 10000, &v), -ERANGE);
        ASSERT_EQ(parse_uint64_range("10001", 1, 10000, &v), -ERANGE);
        ASSERT_EQ(parse_uint64_range("", 1, 10000, &v), -EINVAL);
        ASSERT_EQ(parse_uint64_range("12a", 1, 10000, &v), -EINVAL);
        ASSERT_EQ(parse_uint64_range("+5", 1, 10000, &v), -EINVAL);
}

TEST(signal) {
        int sig;

        ASSERT_OK(parse_signal("TERM", &sig));
        ASSERT_EQ(sig, SIGTERM);
        ASSERT_OK(parse_signal("SIGKILL", &sig));
        ASSERT_EQ(sig, SIGKILL);
        ASSERT_OK(parse_signal("sigint", &sig));
        ASSERT_EQ(sig, SIGINT);
        ASSERT_OK(parse_signal("hup", &sig));
        ASSERT_EQ(sig, SIGHUP);
        ASSERT_OK(parse_signal("9", &sig));
        ASSERT_EQ(sig, 9);
        ASSERT_OK(parse_signal("USR1", &sig));
        ASSERT_EQ(sig, SIGUSR1);

        ASSERT_EQ(parse_signal("0", &sig), -EINVAL);
        ASSERT_EQ(parse_signal("65", &sig), -EINVAL);
        ASSERT_EQ(parse_signal("", &sig), -EINVAL);
        ASSERT_EQ(parse_signal("SIG", &sig), -EINVAL);
        ASSERT_EQ(parse_signal("BOGUS", &sig), -EINVAL);
        ASSERT_EQ(parse_signal("-9", &sig), -EINVAL);

        ASSERT_STREQ(signal_to_string(SIGTERM), "TERM");
        ASSERT_STREQ(signal_to_string(SIGKILL), "KILL");
        ASSERT_TRUE(signal_to_string(0) == NULL);
        ASSERT_TRUE(signal_to_string(1000) == NULL);
}

static void check_name(const char *path, const char *expected) {
        char *n = NULL;
        int r = image_name_from_path(path, &n);

        if (!expected) {
                ASSERT_EQ(r, -EINVAL);
                return;
        }
        ASSERT_OK(r);
        ASSERT_STREQ(n, expected);
        free(n);
}

TEST(image_name_from_path) {
        check_name("busybox.tar", "busybox");
        check_name("/tmp/busybox.tar.gz", "busybox");
        check_name("x/alpine.tgz", "alpine");
        check_name("alpine.tar.xz", "alpine");
        check_name("alpine.txz", "alpine");
        check_name("alpine.tar.zst", "alpine");
        check_name("alpine.tar.bz2", "alpine");
        check_name("/srv/rootfs", "rootfs");
        check_name("/srv/rootfs/", "rootfs");
        check_name("/srv/rootfs///", "rootfs");
        check_name("debian-12.tar", "debian-12");
        check_name("image.zip", "image.zip");
        check_name("a.tar.tar", "a.tar");
        check_name(".tar", ".tar");
        check_name("/", NULL);
        check_name("", NULL);
        check_name(".", NULL);
        check_name("..", NULL);
        check_name("../", NULL);
}

TEST(format_bytes) {
        char buf[FORMAT_BYTES_MAX];

        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 0), "0B");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 1023), "1023B");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 1024), "1K");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 1536), "1.5K");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 1258291), "1.1M");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 1300000), "1.2M");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 512ULL << 20), "512M");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 3ULL << 29), "1.5G");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), 1ULL << 40), "1T");
        ASSERT_STREQ(format_bytes(buf, sizeof(buf), UINT64_MAX), "15.9E");
}

TEST(format_cpus) {
        char buf[FORMAT_CPUS_MAX];

        ASSERT_STREQ(format_cpus(buf, sizeof(buf), 500000), "0.5");
        ASSERT_STREQ(format_cpus(buf, sizeof(buf), 2000000), "2");
        ASSERT_STREQ(format_cpus(buf, sizeof(buf), 1250000), "1.25");
        ASSERT_STREQ(format_cpus(buf, sizeof(buf), 1), "0.000001");
}

TEST(format_timestamp) {
        char buf[FORMAT_TIMESTAMP_MAX];

        setenv("TZ", "UTC", 1);
        tzset();
        ASSERT_STREQ(format_timestamp(buf, sizeof(buf), 0), "-");
        ASSERT_STREQ(format_timestamp(buf, sizeof(buf), UINT64_MAX), "-");
        ASSERT_STREQ(format_timestamp(buf, sizeof(buf), 1700000000ULL * 1000000 + 999999), "2023-11-14 22:13:20");
}

TEST(format_command) {
        char *argv1[] = { (char *) "/bin/sh", (char *) "-c", (char *) "echo hi; exit 3", NULL };
        char *argv2[] = { (char *) "it's", (char *) "", (char *) "a=b", NULL };
        char *empty[] = { NULL };
        char *s;

        s = format_command(argv1);
        ASSERT_STREQ(s, "/bin/sh -c 'echo hi; exit 3'");
        free(s);
        s = format_command(argv2);
        ASSERT_STREQ(s, "'it'\\''s' '' a=b");
        free(s);
        s = format_command(empty);
        ASSERT_STREQ(s, "");
        free(s);
}

TEST(format_owner) {
        char *s;

        s = format_owner(0);
        ASSERT_STREQ(s, "root");
        free(s);
        s = format_owner(4000000000U);
        ASSERT_STREQ(s, "4000000000");
        free(s);
}

int main(void) {
        RUN(size);
        RUN(cpus);
        RUN(uint64_range);
        RUN(signal);
        RUN(image_name_from_path);
        RUN(format_bytes);
        RUN(format_cpus);
        RUN(format_timestamp);
        RUN(format_command);
        RUN(format_owner);
        return 0;
}
