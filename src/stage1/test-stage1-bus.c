/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "stage1-bus.h"
#include "tests.h"

TEST(limits_unset) {
        UnitLimit l[POD_UNIT_LIMITS];
        PodConfig c;

        pod_config_init(&c);
        pod_unit_limits(&c, l);

        ASSERT_STREQ(l[0].property, "CPUQuotaPerSecUSec");
        ASSERT_TRUE(l[0].value == UINT64_MAX);
        ASSERT_STREQ(l[1].property, "IOWeight");
        ASSERT_TRUE(l[1].value == UINT64_MAX);
        ASSERT_STREQ(l[2].property, "MemoryMax");
        ASSERT_TRUE(l[2].value == UINT64_MAX);
        ASSERT_STREQ(l[3].property, "TasksMax");
        ASSERT_TRUE(l[3].value == POD_DEFAULT_TASKS_MAX);
}

TEST(limits_set) {
        UnitLimit l[POD_UNIT_LIMITS];
        PodConfig c;

        pod_config_init(&c);
        c.memory_max = 64 * 1024 * 1024;
        c.cpu_quota_per_sec_usec = 500000;
        c.tasks_max = 100;
        c.io_weight = 200;
        pod_unit_limits(&c, l);

        ASSERT_TRUE(l[0].value == 500000);
        ASSERT_TRUE(l[1].value == 200);
        ASSERT_TRUE(l[2].value == 64 * 1024 * 1024);
        ASSERT_TRUE(l[3].value == 100);
}

TEST(error_message) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        ASSERT_STREQ(bus_error_message(NULL, -ENOENT), strerror(ENOENT));
        ASSERT_STREQ(bus_error_message(&e, -EPERM), strerror(EPERM));
        ASSERT_TRUE(sd_bus_error_set(&e, "org.freedesktop.DBus.Error.Failed", "Machine 'web' already exists") < 0);
        ASSERT_STREQ(bus_error_message(&e, -EIO), "Machine 'web' already exists");
        sd_bus_error_free(&e);
}

int main(void) {
        RUN(limits_unset);
        RUN(limits_set);
        RUN(error_message);
        return 0;
}
