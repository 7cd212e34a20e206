/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "parse.h"
#include "pod-env.h"
#include "strv.h"
#include "tests.h"

TEST(assignment) {
        /* What callers may set: shell names. */
        ASSERT_TRUE(env_assignment_is_valid("A=b"));
        ASSERT_TRUE(env_assignment_is_valid("A="));
        ASSERT_TRUE(env_assignment_is_valid("A=b=c"));
        ASSERT_TRUE(env_assignment_is_valid("_a1=x y"));
        ASSERT_FALSE(env_assignment_is_valid(NULL));
        ASSERT_FALSE(env_assignment_is_valid(""));
        ASSERT_FALSE(env_assignment_is_valid("A"));
        ASSERT_FALSE(env_assignment_is_valid("=b"));
        ASSERT_FALSE(env_assignment_is_valid("1A=b"));
        ASSERT_FALSE(env_assignment_is_valid("A-B=c"));
        ASSERT_FALSE(env_assignment_is_valid("a.b=c"));

        /* What images may carry: any non-empty name. */
        ASSERT_TRUE(env_assignment_has_name("a.b=c"));
        ASSERT_TRUE(env_assignment_has_name("1A=b"));
        ASSERT_FALSE(env_assignment_has_name(NULL));
        ASSERT_FALSE(env_assignment_has_name("A"));
        ASSERT_FALSE(env_assignment_has_name("=b"));
}

TEST(defaults) {
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_OK(pod_env_build(NULL, "web", NULL, &l));
        ASSERT_EQ(strv_length(l), 3);
        ASSERT_STREQ(l[0], "PATH=" POD_DEFAULT_PATH);
        ASSERT_STREQ(l[1], "container=podctl");
        ASSERT_STREQ(l[2], "HOSTNAME=web");
        ASSERT_TRUE(l[3] == NULL);
}

TEST(term) {
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_OK(pod_env_build(NULL, "web", "xterm-256color", &l));
        ASSERT_EQ(strv_length(l), 4);
        ASSERT_STREQ(l[3], "TERM=xterm-256color");
}

TEST(override) {
        char *pod[] = { "FOO=1", "PATH=/opt/bin", "container=other", "FOO=2", "PATHX=y", "TERM=dumb", NULL };
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_OK(pod_env_build(pod, "web", "xterm", &l));
        ASSERT_EQ(strv_length(l), 6);
        ASSERT_STREQ(l[0], "PATH=/opt/bin");
        ASSERT_STREQ(l[1], "container=other");
        ASSERT_STREQ(l[2], "HOSTNAME=web");
        ASSERT_STREQ(l[3], "TERM=dumb");
        ASSERT_STREQ(l[4], "FOO=2");
        ASSERT_STREQ(l[5], "PATHX=y");
}

TEST(invalid) {
        char *pod1[] = { "FOO=1", "BAR", NULL };
        char *pod2[] = { "=x", NULL };
        char **l = NULL;

        ASSERT_EQ(pod_env_build(pod1, "web", NULL, &l), -EINVAL);
        ASSERT_EQ(pod_env_build(pod2, "web", NULL, &l), -EINVAL);
        ASSERT_TRUE(l == NULL);
}

int main(void) {
        RUN(assignment);
        RUN(defaults);
        RUN(term);
        RUN(override);
        RUN(invalid);
        return 0;
}
