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
        char *cmd2[] = { (char *) "sleep", (char *) "1", NULL };
        PodApp a = {}, b = {};
        PodConfig c, d;

        pod_config_init(&c);
        c.name = strdup("web");
        a = (PodApp) { .name = strdup("busybox"), .image = strdup("busybox"), .command = strv_copy(cmd), .environment = strv_copy(env) };
        ASSERT_OK(pod_config_add_app(&c, &a));
        b = (PodApp) { .name = strdup("side"), .image = strdup("alpine"), .command = strv_copy(cmd2), .working_directory = strdup("/srv") };
        ASSERT_OK(pod_config_add_app(&c, &b));
        c.exit_policy = EXIT_POLICY_FAILURE;
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
        ASSERT_EQ(d.n_apps, 2);
        ASSERT_STREQ(d.apps[0].name, "busybox");
        ASSERT_STREQ(d.apps[0].image, "busybox");
        ASSERT_EQ(strv_length(d.apps[0].command), 2);
        ASSERT_STREQ(d.apps[0].command[1], "-f");
        ASSERT_STREQ(d.apps[0].environment[0], "A=b");
        ASSERT_TRUE(d.apps[0].working_directory == NULL);
        ASSERT_STREQ(d.apps[1].name, "side");
        ASSERT_STREQ(d.apps[1].image, "alpine");
        ASSERT_STREQ(d.apps[1].command[0], "sleep");
        ASSERT_STREQ(d.apps[1].working_directory, "/srv");
        ASSERT_EQ(d.exit_policy, EXIT_POLICY_FAILURE);
        ASSERT_EQ(d.owner_uid, 1000);
        ASSERT_EQ(d.created_usec, 1234567);
        ASSERT_EQ(d.storage, STORAGE_OVERLAY);
        ASSERT_EQ(d.memory_max, 64 * 1024 * 1024);
        ASSERT_EQ(d.tasks_max, 10);
        ASSERT_TRUE(d.cpu_quota_per_sec_usec == LIMIT_UNSET);
        ASSERT_TRUE(d.io_weight == LIMIT_UNSET);
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

TEST(apps) {
        _cleanup_free_ char *dir = NULL;
        PodApp a = { .name = strdup("x"), .image = strdup("i") }, b = { .name = strdup("x"), .image = strdup("j") };
        PodConfig c;

        pod_config_init(&c);
        ASSERT_OK(pod_config_add_app(&c, &a));
        ASSERT_TRUE(a.name == NULL);
        /* Names are unique within a pod; the refused app stays the caller's. */
        ASSERT_EQ(pod_config_add_app(&c, &b), -EEXIST);
        ASSERT_STREQ(b.name, "x");
        free(b.name);
        b.name = strdup("y");
        ASSERT_OK(pod_config_add_app(&c, &b));

        ASSERT_OK(pod_app_dir(&c, 0, &dir));
        ASSERT_STREQ(dir, "");
        free(dir);
        ASSERT_OK(pod_app_dir(&c, 1, &dir));
        ASSERT_STREQ(dir, "apps/y/");
        ASSERT_EQ(pod_app_dir(&c, 2, &dir), -EINVAL);

        for (int i = 0; c.n_apps < POD_APPS_MAX; i++) {
                PodApp n = { .image = strdup("i") };
                ASSERT_TRUE(asprintf(&n.name, "n%d", i) > 0);
                ASSERT_OK(pod_config_add_app(&c, &n));
        }
        PodApp over = { .name = strdup("over"), .image = strdup("i") };
        ASSERT_EQ(pod_config_add_app(&c, &over), -E2BIG);
        pod_app_done(&over);
        pod_config_done(&c);
}

TEST(exit_policy) {
        ExitInfo ok = { .code = EXIT_CODE_EXITED, .status = 0 };
        ExitInfo fail = { .code = EXIT_CODE_EXITED, .status = 3 };
        ExitInfo killed = { .code = EXIT_CODE_KILLED, .status = 15 };

        ASSERT_FALSE(exit_info_failed(&ok));
        ASSERT_TRUE(exit_info_failed(&fail));
        ASSERT_TRUE(exit_info_failed(&killed));

        ASSERT_FALSE(exit_policy_ends_pod(EXIT_POLICY_ALL, &fail, 1));
        ASSERT_TRUE(exit_policy_ends_pod(EXIT_POLICY_ALL, &ok, 0));
        ASSERT_TRUE(exit_policy_ends_pod(EXIT_POLICY_ANY, &ok, 2));
        ASSERT_FALSE(exit_policy_ends_pod(EXIT_POLICY_FAILURE, &ok, 1));
        ASSERT_TRUE(exit_policy_ends_pod(EXIT_POLICY_FAILURE, &fail, 1));
        ASSERT_TRUE(exit_policy_ends_pod(EXIT_POLICY_FAILURE, &killed, 1));
        ASSERT_TRUE(exit_policy_ends_pod(EXIT_POLICY_FAILURE, &ok, 0));

        ASSERT_STREQ(exit_policy_to_string(EXIT_POLICY_FAILURE), "failure");
        ASSERT_EQ(exit_policy_from_string("any"), EXIT_POLICY_ANY);
        ASSERT_EQ(exit_policy_from_string("some"), -EINVAL);
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
#define BASE "\"owner_uid\":0,\"created_usec\":1,\"auto_remove\":false,\"storage\":\"btrfs\""
#define APP(extra) "\"apps\":[{\"name\":\"b\",\"image\":\"b\",\"command\":[\"x\"],\"environment\":[]" extra "}]"
#define POD(extra) "{\"name\":\"a\"," APP("") "," BASE extra "}"
        ASSERT_OK(parse(POD("")));
        ASSERT_EQ(parse("{\"name\":\"../a\"," APP("") "," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"apps\":[{\"name\":\"b\",\"image\":\"b/c\",\"command\":[\"x\"]}]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"apps\":[{\"name\":\"b\",\"image\":\"b\",\"command\":[]}]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"apps\":[{\"name\":\"b\",\"image\":\"b\",\"command\":[1]}]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"apps\":[{\"name\":\"b/\",\"image\":\"b\",\"command\":[\"x\"]}]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\"," APP(",\"working_directory\":\"rel\"") "," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse(POD(",\"limits\":{\"tasks_max\":-1}")), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"name\":\"b\"," APP("") "," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("[]"), -EBADMSG);
        /* Apps: at least one, unique names, a known exit policy. */
        ASSERT_EQ(parse("{\"name\":\"a\",\"apps\":[]," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\"," BASE "}"), -EBADMSG);
        ASSERT_EQ(parse("{\"name\":\"a\",\"apps\":[{\"name\":\"b\",\"image\":\"b\",\"command\":[\"x\"]},{\"name\":\"b\",\"image\":\"c\",\"command\":[\"y\"]}]," BASE "}"), -EBADMSG);
        ASSERT_OK(parse("{\"name\":\"a\",\"apps\":[{\"name\":\"b\",\"image\":\"b\",\"command\":[\"x\"]},{\"name\":\"c\",\"image\":\"b\",\"command\":[\"y\"]}]," BASE "}"));
        ASSERT_OK(parse(POD(",\"exit_policy\":\"any\"")));
        ASSERT_EQ(parse(POD(",\"exit_policy\":\"some\"")), -EBADMSG);
        /* Confinement fields: absent means the defaults, wrong values are refused. */
        ASSERT_EQ(parse(POD(",\"network\":\"bridge\"")), -EBADMSG);
        ASSERT_EQ(parse(POD(",\"capabilities_add\":[\"cap_nope\"]")), -EBADMSG);
        ASSERT_EQ(parse(POD(",\"read_only\":1")), -EBADMSG);
        ASSERT_OK(parse(POD(",\"network\":\"host\",\"capabilities_drop\":[\"cap_net_raw\"]")));
        ASSERT_EQ(parse("{\"name\":\"a\"," APP("") ",\"owner_uid\":0,\"created_usec\":1,\"auto_remove\":false,\"storage\":\"zfs\"}"), -EBADMSG);
        /* A range must be 64K-aligned, fit below 2^32 and never start at host root. */
        ASSERT_OK(parse(POD(",\"uid_shift\":524288")));
        ASSERT_EQ(parse(POD(",\"uid_shift\":0")), -EBADMSG);
        ASSERT_EQ(parse(POD(",\"uid_shift\":524289")), -EBADMSG);
        ASSERT_EQ(parse(POD(",\"uid_shift\":4294901760")), -EBADMSG);
        ASSERT_EQ(parse(POD(",\"uid_shift\":\"1\"")), -EBADMSG);
}

TEST(uid_shift_absent) {
        _cleanup_json_ json_t *j = json_loads(POD(""), 0, NULL);
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
        ASSERT_EQ(j.n_apps, 0);
        exit_info_done(&j);

        /* Each app's end is kept with the pod's. */
        AppExit apps[] = { { (char *) "web", EXIT_CODE_EXITED, 0 }, { (char *) "side", EXIT_CODE_KILLED, 15 } };
        ExitInfo m = { .code = EXIT_CODE_KILLED, .status = 15, .apps = apps, .n_apps = 2 };
        ASSERT_OK(exit_info_save_at(fd, &m));
        ASSERT_OK(exit_info_load_at(fd, &j));
        ASSERT_EQ(j.n_apps, 2);
        ASSERT_STREQ(j.apps[1].name, "side");
        ASSERT_EQ(j.apps[1].code, EXIT_CODE_KILLED);
        ASSERT_EQ(j.apps[1].status, 15);
        ASSERT_EQ(j.apps[0].code, EXIT_CODE_EXITED);
        exit_info_done(&j);

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
        RUN(apps);
        RUN(exit_policy);
        RUN(rejects);
        RUN(uid_shift_absent);
        RUN(exit_info);
        return 0;
}
