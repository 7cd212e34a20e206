/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "name.h"
#include "tests.h"

TEST(valid) {
        ASSERT_TRUE(name_is_valid("web"));
        ASSERT_TRUE(name_is_valid("busybox"));
        ASSERT_TRUE(name_is_valid("a"));
        ASSERT_TRUE(name_is_valid("my-pod.example"));
        ASSERT_TRUE(name_is_valid("Pod-01"));
        ASSERT_TRUE(name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
}

TEST(invalid) {
        ASSERT_FALSE(name_is_valid(NULL));
        ASSERT_FALSE(name_is_valid(""));
        ASSERT_FALSE(name_is_valid("01234567890123456789012345678901234567890123456789012345678901234"));
        ASSERT_FALSE(name_is_valid("-web"));
        ASSERT_FALSE(name_is_valid("web-"));
        ASSERT_FALSE(name_is_valid("we/b"));
        ASSERT_FALSE(name_is_valid("../etc"));
        ASSERT_FALSE(name_is_valid("."));
        ASSERT_FALSE(name_is_valid(".web"));
        ASSERT_FALSE(name_is_valid("web."));
        ASSERT_FALSE(name_is_valid("a..b"));
        ASSERT_FALSE(name_is_valid("a-.b"));
        ASSERT_FALSE(name_is_valid("a b"));
        ASSERT_FALSE(name_is_valid("a_b"));
        ASSERT_FALSE(name_is_valid("wéb"));
        ASSERT_FALSE(name_is_valid("web\n"));
}

TEST(unit_names) {
        char *u = pod_unit_name("web");
        ASSERT_STREQ(u, "pod@web.service");
        char *n = pod_name_from_unit(u);
        ASSERT_STREQ(n, "web");
        free(u);
        free(n);

        ASSERT_TRUE(pod_unit_name("a/b") == NULL);
        ASSERT_TRUE(pod_name_from_unit("pod@.service") == NULL);
        ASSERT_TRUE(pod_name_from_unit("pod@x.socket") == NULL);
        ASSERT_TRUE(pod_name_from_unit("systemd-nspawn@x.service") == NULL);
        ASSERT_TRUE(pod_name_from_unit("pod@a_b.service") == NULL);
}

int main(void) {
        RUN(valid);
        RUN(invalid);
        RUN(unit_names);
        return 0;
}
