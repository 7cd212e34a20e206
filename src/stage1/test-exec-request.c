/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "exec-request.h"
#include "strv.h"
#include "tests.h"

TEST(roundtrip) {
        _cleanup_(exec_request_done) ExecRequest u = {};
        ExecRequest r = {
                .leader = 1234,
                .app = 99,
                .capabilities = UINT64_C(0xa80425fb),
                .working_directory = (char *) "/srv/a b",
                .user = (char *) "app:wheel",
                .cgroup_procs = (char *[]) { (char *) "/sys/fs/cgroup/x/cgroup.procs", NULL },
                .command = (char *[]) { (char *) "sh", (char *) "-c", (char *) "echo a=b; exit 3", (char *) "", NULL },
                .environment = (char *[]) { (char *) "A=1", (char *) "arg=x", NULL },
        };
        _cleanup_free_ char *buf = NULL;
        size_t size;

        ASSERT_OK(exec_request_serialize(&r, &buf, &size));
        ASSERT_OK(exec_request_parse(buf, size, &u));
        ASSERT_EQ(u.leader, 1234);
        ASSERT_EQ(u.app, 99);
        ASSERT_EQ(u.capabilities, UINT64_C(0xa80425fb));
        ASSERT_STREQ(u.working_directory, "/srv/a b");
        ASSERT_STREQ(u.user, "app:wheel");
        ASSERT_EQ(strv_length(u.cgroup_procs), 1);
        ASSERT_EQ(strv_length(u.command), 4);
        ASSERT_STREQ(u.command[2], "echo a=b; exit 3");
        ASSERT_STREQ(u.command[3], "");
        ASSERT_EQ(strv_length(u.environment), 2);
        ASSERT_STREQ(u.environment[1], "arg=x");
}

TEST(defaults) {
        _cleanup_(exec_request_done) ExecRequest u = {};
        static const char buf[] = "leader=1\0cgroup=/c\0arg=true";

        ASSERT_OK(exec_request_parse(buf, sizeof buf, &u));
        ASSERT_EQ(u.app, 0);
        ASSERT_TRUE(!u.working_directory && !u.user);
        ASSERT_TRUE(u.environment && !u.environment[0]);
}

static void parse_invalid(const char *buf, size_t size) {
        ExecRequest u = {};

        ASSERT_EQ(exec_request_parse(buf, size, &u), -EBADMSG);
        ASSERT_TRUE(!u.command);
}
#define PARSE_INVALID(s) parse_invalid(s, sizeof(s))

TEST(invalid) {
        parse_invalid("", 0);
        parse_invalid("leader=1\0cgroup=/c\0arg=true", 26); /* not NUL-terminated */
        PARSE_INVALID("cgroup=/c\0arg=true");                /* no leader */
        PARSE_INVALID("leader=0\0cgroup=/c\0arg=true");
        PARSE_INVALID("leader=-1\0cgroup=/c\0arg=true");
        PARSE_INVALID("leader=1x\0cgroup=/c\0arg=true");
        PARSE_INVALID("leader=1\0arg=true");                 /* no cgroup */
        PARSE_INVALID("leader=1\0cgroup=/c");                /* no command */
        PARSE_INVALID("leader=1\0cgroup=/c\0arg=");
        PARSE_INVALID("leader=1\0cgroup=/c\0arg=true\0workdir=rel");
        PARSE_INVALID("leader=1\0cgroup=/c\0arg=true\0workdir=/a\0workdir=/b");
        PARSE_INVALID("leader=1\0cgroup=/c\0arg=true\0user=");
        PARSE_INVALID("leader=1\0cgroup=/c\0arg=true\0capabilities=zz");
        PARSE_INVALID("leader=1\0cgroup=/c\0arg=true\0what=ever");
}

int main(void) {
        RUN(roundtrip);
        RUN(defaults);
        RUN(invalid);
        return 0;
}
