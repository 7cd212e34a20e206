/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>

#include "fileio.h"
#include "pod-config.h"
#include "strv.h"
#include "tests.h"

static int tmpdir_fd(char *template) {
        ASSERT_TRUE(mkdtemp(template));
        int fd = open(template, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        return fd;
}

TEST(roundtrip) {
        char tmpl[] = "/tmp/test-pod-config-XXXXXX";
        _cleanup_close_ int fd = tmpdir_fd(tmpl);
        char *cmd[] = { (char *) "httpd", (char *) "-f", NULL };
        char *env[] = { (char *) "A=b", NULL };
        PodConfig c, d;

        pod_config_init(&c);
        c.name = strdup("web");
        c.image = strdup("busybox");
        c.command = strv_copy(cmd);
        c.environment = strv_copy(env);
        c.owner_uid = 1000;
        c.created_usec = 1234567;
        c.storage = STORAGE_OVERLAY;
        c.memory_max = 64 * 1024 * 1024;
        c.tasks_max = 10;
        c.read_only = true;
        c.network_host = true;
        c.capabilities_add = (UINT64_C(1) << 12) | (UINT64_C(1) << 21); /* NET_ADMIN, SYS_ADMIN */
        c.capabilities_drop = UINT64_C(1) << 13;                        /* NET_RAW */
        c.uid_shift = 0x80000;

        ASSERT_OK(pod_config_save_at(fd, &c));
        ASSERT_OK(pod_config_load_at(fd, &d));

        ASSERT_STREQ(d.name, "web");
        ASSERT_STREQ(d.image, "busybox");
        ASSERT_EQ(strv_length(d.command), 2);
        ASSERT_STREQ(d.command[1], "-f");
        ASSERT_STREQ(d.environment[0], "A=b");
        ASSERT_EQ(d.owner_uid, 1000);
        ASSERT_EQ(d.created_usec, 1234567);
        ASSERT_EQ(d.storage, STORAGE_OVERLAY);
        ASSERT_EQ(d.memory_max, 64 * 1024 * 1024);
        ASSERT_EQ(d.tasks_max, 10);
        ASSERT_TRUE(d.cpu_quota_per_sec_usec == LIMIT_UNSET);
        ASSERT_TRUE(d.io_weight == LIMIT_UNSET);
        ASSERT_TRUE(d.working_directory == NULL);
        ASSERT_FALSE(d.auto_remove);
        ASSERT_TRUE(d.read_only);
        ASSERT_TRUE(d.network_host);
        ASSERT_EQ(d.capabilities_add, (UINT64_C(1) << 12) | (UINT64_C(1) << 21));
        ASSERT_EQ(d.capabilities_drop, UINT64_C(1) << 13);
        ASSERT_EQ(d.uid_shift, 0x80000);

        pod_config_done(&c);
        pod_config_done(&d);
        ASSERT_OK(rm_rf_at(AT_FDCWD, tmpl));
}

static int parse(const char *text) {
        json_error_t e;
        _cleanup_json_ json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
        PodConfig c;
        int r;

        if (!j)
                return -EBADMSG;
        r = pod_config_from_json(j, &c);
        if (r >= 0)
                pod_config_done(&c);
        return r;
}

TEST(rejects) {
#define BASE "\"owner_uid\":0,\"created_usec\":1,\"auto_remove\":false,\"storage\":\"btrfs\",\"environment\":[]"
        ASSERT_OK(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"]," BASE "}"));
        ASSERT_EQ(parse("{\"name\":\"../a\",\"image\":\"b\",\"command\":[\"x\"]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b/c\",\"command\":[\"x\"]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[1]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"working_directory\":\"rel\"," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"limits\":{\"tasks_max\":-1}," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"name\":\"b\",\"image\":\"b\",\"command\":[\"x\"]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("[]"), -EBADMSG);
        /* Confinement fields: absent means the defaults, wrong values are refused. */
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"network\":\"bridge\"," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"capabilities_add\":[\"cap_nope\"]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"read_only\":1," BASE "}"), -EBADMSG);
        ASSERT_OK(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"network\":\"host\",\"capabilities_drop\":[\"cap_net_raw\"]," BASE "}"));
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"owner_uid\":0,\"created_usec\":1,\"auto_remove\":false,\"storage\":\"zfs\",\"environment\":[]}"), -EBADMSG);
        /* A range must be 64K-aligned, fit below 2^32 and never start at host root. */
        ASSERT_OK(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"uid_shift\":524288," BASE "}"));
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"uid_shift\":0," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"uid_shift\":524289," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"uid_shift\":4294901760," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"],\"uid_shift\":\"1\"," BASE "}"), -EBADMSG);
}

TEST(uid_shift_absent) {
        _cleanup_json_ json_t *j = json_loads("{\"name\":\"a\",\"image\":\"b\",\"command\":[\"x\"]," BASE "}", 0, NULL);
        json_t *o = NULL;
        PodConfig c;

        /* Pods made before user namespaces keep running without one. */
        ASSERT_TRUE(j);
        ASSERT_OK(pod_config_from_json(j, &c));
        ASSERT_TRUE(c.uid_shift == UID_INVALID);
        ASSERT_OK(pod_config_to_json(&c, &o));
        ASSERT_TRUE(json_object_get(o, "uid_shift") == NULL);
        json_decref(o);
        pod_config_done(&c);
}

TEST(exit_info) {
        char tmpl[] = "/tmp/test-exit-info-XXXXXX";
        _cleanup_close_ int fd = tmpdir_fd(tmpl);
        ExitInfo i = { .code = EXIT_CODE_KILLED, .status = 9, .finished_usec = 5 }, j = {};

        ASSERT_OK(exit_info_save_at(fd, &i));
        ASSERT_OK(exit_info_load_at(fd, &j));
        ASSERT_EQ(j.code, EXIT_CODE_KILLED);
        ASSERT_EQ(j.status, 9);
        ASSERT_TRUE(j.message == NULL);
        ASSERT_EQ(exit_info_to_exit_status(&j), 137);

        ExitInfo f = { .code = EXIT_CODE_START_FAILED, .status = ENOENT, .message = (char *) "Failed to execute 'x': No such file or directory" };
        ASSERT_OK(exit_info_save_at(fd, &f));
        ASSERT_OK(exit_info_load_at(fd, &j));
        ASSERT_STREQ(j.message, f.message);
        ASSERT_EQ(exit_info_to_exit_status(&j), 127);
        exit_info_done(&j);

        ASSERT_OK(rm_rf_at(AT_FDCWD, tmpl));
}

int main(void) {
        RUN(roundtrip);
        RUN(rejects);
        RUN(uid_shift_absent);
        RUN(exit_info);
        return 0;
}
