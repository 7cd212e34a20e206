/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount-setup.h"
#include "tests.h"

TEST(overlay_options) {
        char *o = NULL;

        ASSERT_OK(overlay_options_build("/var/lib/podctl/images/busybox",
                                        "/var/lib/podctl/pods/web/upper",
                                        "/var/lib/podctl/pods/web/work", &o));
        ASSERT_STREQ(o, "lowerdir=/var/lib/podctl/images/busybox,"
                        "upperdir=/var/lib/podctl/pods/web/upper,"
                        "workdir=/var/lib/podctl/pods/web/work");
        free(o);
}

TEST(overlay_options_unescapable) {
        char *o = NULL;

        ASSERT_EQ(overlay_options_build("/a,b", "/u", "/w", &o), -EINVAL);
        ASSERT_EQ(overlay_options_build("/a", "/u:x", "/w", &o), -EINVAL);
        ASSERT_EQ(overlay_options_build("/a", "/u", "/w\\", &o), -EINVAL);
        ASSERT_TRUE(o == NULL);
}

static const ProtectPath *protect_path_find(const char *path) {
        for (size_t i = 0; i < protect_paths_n; i++)
                if (strcmp(protect_paths[i].path, path) == 0)
                        return protect_paths + i;
        return NULL;
}

TEST(protect_paths_table) {
        /* Relative, normalized, below the kernel's file systems, each once. */
        for (size_t i = 0; i < protect_paths_n; i++) {
                const char *p = protect_paths[i].path;

                ASSERT_TRUE(strncmp(p, "proc/", 5) == 0 || strncmp(p, "sys/", 4) == 0);
                ASSERT_TRUE(p[strlen(p) - 1] != '/');
                ASSERT_TRUE(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, ".."));
                for (size_t j = i + 1; j < protect_paths_n; j++)
                        ASSERT_TRUE(strcmp(p, protect_paths[j].path) != 0);
        }

        /* The ones the issue names. */
        ASSERT_FALSE(protect_path_find("proc/sys")->mask);
        ASSERT_TRUE(protect_path_find("proc/kcore")->mask);
        ASSERT_TRUE(protect_path_find("proc/kallsyms")->mask);
        ASSERT_TRUE(protect_path_find("proc/keys")->mask);
        ASSERT_TRUE(protect_path_find("proc/timer_list")->mask);
        ASSERT_TRUE(protect_path_find("proc/sysrq-trigger")->mask);
        ASSERT_TRUE(protect_path_find("proc/acpi")->mask);
        ASSERT_TRUE(protect_path_find("proc/self") == NULL);
}

TEST(protect_action_to_string) {
        ASSERT_STREQ(protect_action_to_string(PROTECT_SKIP), "skip");
        ASSERT_STREQ(protect_action_to_string(PROTECT_MASK_FILE), "mask-file");
        ASSERT_STREQ(protect_action_to_string(PROTECT_MASK_DIR), "mask-dir");
        ASSERT_STREQ(protect_action_to_string(PROTECT_READ_ONLY), "read-only");
        ASSERT_TRUE(protect_action_to_string(_PROTECT_ACTION_MAX) == NULL);
        ASSERT_TRUE(protect_action_to_string(_PROTECT_ACTION_INVALID) == NULL);
}

static void touch_at(int dir_fd, const char *path) {
        int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        close(fd);
}

static void rm_rf(const char *path) {
        char *cmd = NULL;

        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", path) > 0);
        ASSERT_EQ(system(cmd), 0);
        free(cmd);
}

TEST(protect_path_action) {
        char tree[] = "/tmp/test-mount-setup-XXXXXX";
        char *plan = NULL;
        size_t plan_size = 0;
        FILE *f;
        int fd;

        ASSERT_TRUE(mkdtemp(tree));
        fd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);

        /* A kernel with some of the entries, in the shapes a real one has them. */
        ASSERT_OK(mkdirat(fd, "proc", 0755));
        ASSERT_OK(mkdirat(fd, "proc/sys", 0555));
        ASSERT_OK(mkdirat(fd, "proc/acpi", 0555));
        ASSERT_OK(mkdirat(fd, "proc/irq", 0555));
        touch_at(fd, "proc/kcore");
        touch_at(fd, "proc/sysrq-trigger");
        touch_at(fd, "proc/apm");
        ASSERT_OK(mkdirat(fd, "sys", 0555));
        ASSERT_OK(mkdirat(fd, "sys/firmware", 0555));

        /* Filtering the table by what exists is the plan mount_setup_api() carries out. */
        f = open_memstream(&plan, &plan_size);
        ASSERT_TRUE(f);
        for (size_t i = 0; i < protect_paths_n; i++) {
                ProtectAction a = protect_path_action(fd, protect_paths + i);

                ASSERT_OK(a);
                if (a != PROTECT_SKIP)
                        fprintf(f, "%s=%s ", protect_paths[i].path, protect_action_to_string(a));
        }
        ASSERT_EQ(fclose(f), 0);
        ASSERT_STREQ(plan, "proc/sys=read-only proc/apm=read-only proc/irq=read-only "
                           "proc/kcore=mask-file proc/sysrq-trigger=mask-file "
                           "proc/acpi=mask-dir sys/firmware=mask-dir ");
        free(plan);

        /* A masked directory that is a file here is masked as a file, and the reverse. */
        ASSERT_EQ(protect_path_action(fd, &(ProtectPath) { "proc/kcore", true }), PROTECT_MASK_FILE);
        ASSERT_EQ(protect_path_action(fd, &(ProtectPath) { "proc/sys", true }), PROTECT_MASK_DIR);
        ASSERT_EQ(protect_path_action(fd, &(ProtectPath) { "proc/kcore", false }), PROTECT_READ_ONLY);
        ASSERT_EQ(protect_path_action(fd, &(ProtectPath) { "proc/nope", true }), PROTECT_SKIP);
        ASSERT_EQ(protect_path_action(fd, &(ProtectPath) { "nope/kcore", true }), PROTECT_SKIP);

        /* Anything odd is an error, never a silent skip. */
        ASSERT_OK(symlinkat("/etc/shadow", fd, "proc/kmsg"));
        ASSERT_EQ(protect_path_action(fd, protect_path_find("proc/kmsg")), -ELOOP);
        ASSERT_EQ(protect_path_action(fd, &(ProtectPath) { "proc/kcore/x", true }), -ENOTDIR);

        close(fd);
        rm_rf(tree);
}

TEST(os_release_find) {
        char tree[] = "/tmp/test-mount-setup-XXXXXX";
        const char *found = NULL;
        int fd;

        ASSERT_TRUE(mkdtemp(tree));
        fd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(mkdirat(fd, "etc", 0755));
        ASSERT_OK(mkdirat(fd, "usr", 0755));
        ASSERT_OK(mkdirat(fd, "usr/lib", 0755));

        ASSERT_EQ(os_release_find(fd, &found), -ENOENT);
        ASSERT_TRUE(found == NULL);

        touch_at(fd, "usr/lib/os-release");
        ASSERT_OK(os_release_find(fd, &found));
        ASSERT_STREQ(found, "usr/lib/os-release");

        /* A dangling /etc/os-release falls back, as os-release(5) says. */
        ASSERT_OK(symlinkat("nowhere", fd, "etc/os-release"));
        ASSERT_OK(os_release_find(fd, &found));
        ASSERT_STREQ(found, "usr/lib/os-release");
        ASSERT_OK(unlinkat(fd, "etc/os-release", 0));

        /* Debian's: a symlink into /usr/lib. */
        ASSERT_OK(symlinkat("../usr/lib/os-release", fd, "etc/os-release"));
        ASSERT_OK(os_release_find(fd, &found));
        ASSERT_STREQ(found, "etc/os-release");

        close(fd);
        rm_rf(tree);
}

static void assert_write_fails(const char *dir, const char *path, int error) {
        char *p = NULL;
        int fd;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, path) > 0);
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                fprintf(stderr, "%s: writable\n", p);
        ASSERT_TRUE(fd < 0);
        if (errno != error)
                fprintf(stderr, "%s: %s\n", p, strerror(errno));
        ASSERT_EQ(errno, error);
        free(p);
}

static long file_size_read(const char *dir, const char *path) {
        char *p = NULL, buf[256];
        ssize_t n, total = 0;
        int fd;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, path) > 0);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        free(p);
        if (fd < 0)
                return -errno;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                total += n;
        close(fd);
        return n < 0 ? -errno : total;
}

/* The whole setup, in a mount namespace of our own, on a tree with nothing in it. */
static void pod_mounts_check(const char *rootfs) {
        Stage1Message failure = {};
        struct stat st;
        char *p = NULL;
        int fd;

        umask(0);
        if (mount_setup_root("test", rootfs, NULL, NULL, -EBADF, &failure) < 0 ||
            mount_setup_api("test", rootfs, true, &failure) < 0 ||
            mount_setup_read_only("test", rootfs, &failure) < 0) {
                fprintf(stderr, "%s\n", failure.text);
                abort();
        }

        /* Tunables read-only, secrets masked, hardware hidden. */
        ASSERT_TRUE(file_size_read(rootfs, "proc/sys/kernel/ostype") > 0);
        assert_write_fails(rootfs, "proc/sys/kernel/domainname", EROFS);
        /* Whatever of the table this kernel has, compared with the host's. */
        for (size_t i = 0; i < protect_paths_n; i++) {
                const ProtectPath *e = protect_paths + i;
                char *host = NULL;

                ASSERT_TRUE(asprintf(&host, "/%s", e->path) > 0);
                if (lstat(host, &st) < 0) {
                        free(host);
                        continue;
                }
                free(host);
                ASSERT_TRUE(asprintf(&p, "%s/%s", rootfs, e->path) > 0);
                ASSERT_OK(lstat(p, &st));
                free(p);
                if (e->mask && S_ISDIR(st.st_mode))
                        ASSERT_EQ(st.st_nlink, 2); /* an empty tmpfs */
                else if (e->mask)
                        ASSERT_EQ(file_size_read(rootfs, e->path), 0);
                if (!S_ISDIR(st.st_mode))
                        assert_write_fails(rootfs, e->path, EROFS);
        }
        ASSERT_TRUE(file_size_read(rootfs, "proc/self/status") > 0);
        assert_write_fails(rootfs, "sys/kernel/uevent_helper", EROFS);

        /* The host's os-release, which the pod cannot change. */
        ASSERT_EQ(file_size_read(rootfs, "run/host/os-release"), file_size_read("", "etc/os-release"));
        assert_write_fails(rootfs, "run/host/os-release", EROFS);
        assert_write_fails(rootfs, "run/host/x", EROFS);

        ASSERT_TRUE(asprintf(&p, "%s/dev/mqueue", rootfs) > 0);
        ASSERT_OK(stat(p, &st));
        free(p);

        /* A read-only root, with its scratch space writable. */
        assert_write_fails(rootfs, "x", EROFS);
        for (size_t i = 0; i < 3; i++) {
                static const char *const writable[] = { "tmp/x", "run/x", "dev/shm/x" };

                ASSERT_TRUE(asprintf(&p, "%s/%s", rootfs, writable[i]) > 0);
                fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                ASSERT_TRUE(fd >= 0);
                close(fd);
                free(p);
        }
}

static bool test_pod_mounts(void) {
        char rootfs[] = "/tmp/test-mount-setup-XXXXXX";
        int status;
        pid_t pid;

        if (geteuid() != 0) {
                fprintf(stderr, "Not root, skipping the mounts.\n");
                return false;
        }

        ASSERT_TRUE(mkdtemp(rootfs));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                if (unshare(CLONE_NEWNS | CLONE_NEWIPC) < 0) {
                        fprintf(stderr, "unshare: %s, skipping the mounts.\n", strerror(errno));
                        _exit(77);
                }
                pod_mounts_check(rootfs);
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        rm_rf(rootfs);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                return false;
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return true;
}

int main(void) {
        RUN(overlay_options);
        RUN(overlay_options_unescapable);
        RUN(protect_paths_table);
        RUN(protect_action_to_string);
        RUN(protect_path_action);
        RUN(os_release_find);
        fprintf(stderr, "/* pod_mounts */\n");
        /* Needs root; CI runs the tests as root. */
        return test_pod_mounts() ? 0 : 77;
}
