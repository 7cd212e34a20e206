/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-errors.h"
#include "fileio.h"
#include "podctl-conf.h"
#include "tests.h"
#include "user-slice.h"

static int parse(const char *text, PodctlConf *c) {
        return podctl_conf_parse(text, strlen(text), "test", c);
}

TEST(conf_defaults) {
        PodctlConf c;

        ASSERT_OK(parse("", &c));
        ASSERT_EQ(c.users.max_pods, USER_MAX_PODS_DEFAULT);
        ASSERT_TRUE(c.users.memory_max == LIMIT_UNSET);
        ASSERT_TRUE(c.users.cpu_weight == LIMIT_UNSET);
        ASSERT_OK(parse("# only comments\n; and this\n\n[Users]\n", &c));
        ASSERT_EQ(c.users.max_pods, USER_MAX_PODS_DEFAULT);
}

TEST(conf_values) {
        PodctlConf c;

        ASSERT_OK(parse("[Users]\n MaxPodsPerUser = 2 \nMemoryMax=64M\nCPUWeight=50\nTasksMax=100\nDiskLimit=1.5G\n", &c));
        ASSERT_EQ(c.users.max_pods, 2);
        ASSERT_TRUE(c.users.memory_max == 64ULL << 20);
        ASSERT_EQ(c.users.cpu_weight, 50);
        ASSERT_EQ(c.users.tasks_max, 100);
        ASSERT_TRUE(c.users.disk_max == 3ULL << 29);

        /* Later wins; empty resets; infinity; unknown keys and sections are ignored. */
        ASSERT_OK(parse("[Users]\nMemoryMax=1G\nMemoryMax=\nTasksMax=infinity\nMaxPodsPerUser=3\nMaxPodsPerUser=\n"
                        "Bogus=1\n[Other]\nMemoryMax=1\n", &c));
        ASSERT_TRUE(c.users.memory_max == LIMIT_UNSET);
        ASSERT_TRUE(c.users.tasks_max == LIMIT_UNSET);
        ASSERT_EQ(c.users.max_pods, USER_MAX_PODS_DEFAULT);
}

TEST(conf_invalid) {
        PodctlConf c = { .users.max_pods = 7 };

        ASSERT_EQ(parse("MemoryMax=1G\n", &c), -EINVAL);         /* outside a section */
        ASSERT_EQ(parse("[Users\n", &c), -EINVAL);
        ASSERT_EQ(parse("[Users]\nMemoryMax\n", &c), -EINVAL);
        ASSERT_EQ(parse("[Users]\nMemoryMax=lots\n", &c), -EINVAL);
        ASSERT_EQ(parse("[Users]\nMemoryMax=0\n", &c), -EINVAL);
        ASSERT_EQ(parse("[Users]\nCPUWeight=0\n", &c), -EINVAL);
        ASSERT_EQ(parse("[Users]\nCPUWeight=infinity\n", &c), -EINVAL);
        ASSERT_EQ(parse("[Users]\nTasksMax=-1\n", &c), -EINVAL);
        ASSERT_EQ(podctl_conf_parse("[Users]\0\n", 9, "test", &c), -EINVAL);
        ASSERT_EQ(c.users.max_pods, 7); /* untouched */
}

TEST(slice_name) {
        char *s;

        ASSERT_OK(pod_slice_name(0, &s));
        ASSERT_STREQ(s, "machine.slice");
        free(s);
        ASSERT_OK(pod_slice_name(1000, &s));
        ASSERT_STREQ(s, "machine-pods-u1000.slice");
        free(s);
}

TEST(limits_apply) {
        UserLimits l = { .max_pods = 2, .memory_max = 64ULL << 20, .cpu_weight = LIMIT_UNSET,
                         .tasks_max = 100, .disk_max = 1ULL << 30 };
        sd_bus_error e = SD_BUS_ERROR_NULL;
        PodConfig c;

        /* Unset limits become the user's; lower ones stay. */
        pod_config_init(&c);
        c.tasks_max = 50;
        ASSERT_OK(user_limits_apply(&l, 1, &c, &e));
        ASSERT_TRUE(c.memory_max == 64ULL << 20);
        ASSERT_EQ(c.tasks_max, 50);
        /* DiskLimit= bounds the user's pods together, not each one. */
        ASSERT_TRUE(c.disk_max == LIMIT_UNSET);
        c.disk_max = 1ULL << 29;
        ASSERT_OK(user_limits_apply(&l, 0, &c, &e));
        ASSERT_TRUE(c.disk_max == 1ULL << 29);
        c.disk_max = 2ULL << 30;
        ASSERT_TRUE(user_limits_apply(&l, 0, &c, &e) < 0);
        ASSERT_STREQ(e.message, "DiskLimit=2G is above your limit of 1G.");
        sd_bus_error_free(&e);

        pod_config_init(&c);
        c.memory_max = 1ULL << 30;
        ASSERT_TRUE(user_limits_apply(&l, 0, &c, &e) < 0);
        ASSERT_STREQ(e.name, BUS_ERROR_LIMIT_EXCEEDED);
        ASSERT_STREQ(e.message, "MemoryMax=1G is above your limit of 64M.");
        sd_bus_error_free(&e);

        pod_config_init(&c);
        c.tasks_max = 101;
        ASSERT_TRUE(user_limits_apply(&l, 0, &c, &e) < 0);
        ASSERT_STREQ(e.message, "TasksMax=101 is above your limit of 100.");
        sd_bus_error_free(&e);

        pod_config_init(&c);
        ASSERT_TRUE(user_limits_apply(&l, 2, &c, &e) < 0);
        ASSERT_STREQ(e.name, BUS_ERROR_LIMIT_EXCEEDED);
        sd_bus_error_free(&e);

        /* Unlimited: anything goes. */
        l = (UserLimits) { LIMIT_UNSET, LIMIT_UNSET, LIMIT_UNSET, LIMIT_UNSET, LIMIT_UNSET };
        pod_config_init(&c);
        c.memory_max = 1ULL << 40;
        ASSERT_OK(user_limits_apply(&l, 4000, &c, &e));
        ASSERT_TRUE(c.tasks_max == LIMIT_UNSET);
}

TEST(binds_dropin) {
        char dir[] = "/tmp/test-binds-dropin-XXXXXX", path[256], text[512];
        BindMount binds[3] = {
                { .source = (char *) "/srv/data" },
                { .source = (char *) "/home/a b/100% \"x\"" },
                { .source = (char *) "/tmp/new\nline" },
        };
        PodConfig c;
        ssize_t n;
        int fd;

        ASSERT_TRUE(mkdtemp(dir));
        pod_config_init(&c);
        c.binds = binds;
        c.n_binds = 3;

        ASSERT_EQ(pod_binds_dropin_write(dir, "pod@a.service", &c), 1);
        ASSERT_EQ(pod_binds_dropin_write(dir, "pod@a.service", &c), 0); /* unchanged */
        snprintf(path, sizeof path, "%s/pod@a.service.d/" POD_BINDS_DROPIN, dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        n = read(fd, text, sizeof text - 1);
        close(fd);
        ASSERT_TRUE(n > 0);
        text[n] = 0;
        /* Quoted, specifiers and quotes escaped; the path with a newline left out. */
        ASSERT_TRUE(strstr(text, "\nRequiresMountsFor= \"/srv/data\" \"/home/a b/100%% \\\"x\\\"\"\n"));
        ASSERT_FALSE(strstr(text, "line"));

        /* No binds: the drop-in goes. */
        c.n_binds = 0;
        ASSERT_EQ(pod_binds_dropin_write(dir, "pod@a.service", &c), 1);
        ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);
        ASSERT_EQ(pod_binds_dropin_write(dir, "pod@a.service", &c), 0);
        c.binds = NULL;
        pod_config_done(&c);
        ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
}

int main(void) {
        RUN(conf_defaults);
        RUN(conf_values);
        RUN(conf_invalid);
        RUN(slice_name);
        RUN(limits_apply);
        RUN(binds_dropin);
        return 0;
}
