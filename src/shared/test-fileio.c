/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fileio.h"
#include "tests.h"

static int count_entries(int fd) {
        int n = 0, d = dup(fd);
        DIR *dir = fdopendir(d);
        ASSERT_TRUE(dir);
        for (struct dirent *de; (de = readdir(dir));)
                if (de->d_name[0] != '.' || (de->d_name[1] && de->d_name[1] != '.'))
                        n++;
        closedir(dir);
        return n;
}

TEST(atomic_write) {
        char tmpl[] = "/tmp/test-fileio-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        _cleanup_close_ int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        json_t *j = json_pack("{s:i}", "a", 1), *k = NULL;

        ASSERT_OK(json_write_atomic_at(fd, "x.json", j));
        ASSERT_OK(json_read_at(fd, "x.json", &k));
        ASSERT_EQ(json_integer_value(json_object_get(k, "a")), 1);
        /* No temporary files are left behind. */
        ASSERT_EQ(count_entries(fd), 1);
        json_decref(j);
        json_decref(k);

        ASSERT_EQ(json_read_at(fd, "missing.json", &k), -ENOENT);
        ASSERT_OK(write_file_atomic_at(fd, "bad.json", "{\"a\":1,\"a\":2}", 13, 0600));
        ASSERT_EQ(json_read_at(fd, "bad.json", &k), -EBADMSG);

        /* Symlinks are not followed. */
        ASSERT_OK(symlinkat("/etc/passwd", fd, "link.json"));
        ASSERT_EQ(json_read_at(fd, "link.json", &k), -ELOOP);

        ASSERT_OK(rm_rf_at(AT_FDCWD, tmpl));
        ASSERT_TRUE(access(tmpl, F_OK) < 0 && errno == ENOENT);
}

TEST(rm_rf_no_follow) {
        char outside[] = "/tmp/test-rmrf-out-XXXXXX", tree[] = "/tmp/test-rmrf-XXXXXX";
        char path[256];

        ASSERT_TRUE(mkdtemp(outside));
        ASSERT_TRUE(mkdtemp(tree));
        snprintf(path, sizeof path, "%s/keep", outside);
        ASSERT_OK(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)));
        snprintf(path, sizeof path, "%s/a", tree);
        ASSERT_OK(mkdir(path, 0755));
        snprintf(path, sizeof path, "%s/a/escape", tree);
        ASSERT_OK(symlink(outside, path));

        ASSERT_OK(rm_rf_at(AT_FDCWD, tree));
        ASSERT_TRUE(access(tree, F_OK) < 0);
        snprintf(path, sizeof path, "%s/keep", outside);
        ASSERT_OK(access(path, F_OK));
        ASSERT_OK(rm_rf_at(AT_FDCWD, outside));
}

TEST(rm_rf_no_cross_mounts) {
        char tree[] = "/tmp/test-rmrf-mnt-XXXXXX", path[256];

        /* A private mount namespace keeps the tmpfs from the rest of the machine. */
        ASSERT_OK(unshare(CLONE_NEWNS));
        ASSERT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));

        ASSERT_TRUE(mkdtemp(tree));
        snprintf(path, sizeof path, "%s/mnt", tree);
        ASSERT_OK(mkdir(path, 0755));
        ASSERT_OK(mount("tmpfs", path, "tmpfs", 0, NULL));
        snprintf(path, sizeof path, "%s/mnt/keep", tree);
        ASSERT_OK(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)));

        ASSERT_EQ(rm_rf_at(AT_FDCWD, tree), -EXDEV);
        ASSERT_OK(access(path, F_OK));

        /* Positive control: without the mount the same tree goes. */
        snprintf(path, sizeof path, "%s/mnt", tree);
        ASSERT_OK(umount(path));
        ASSERT_OK(rm_rf_at(AT_FDCWD, tree));
        ASSERT_TRUE(access(tree, F_OK) < 0 && errno == ENOENT);
}

TEST(rm_rf_deep) {
        char tree[] = "/tmp/test-rmrf-deep-XXXXXX";
        struct rlimit old, low = { .rlim_cur = 64 };
        int fd, fds[64], n = 0;

        /* 3000 nested directories: more than the fds removal may hold open. */
        ASSERT_TRUE(mkdtemp(tree));
        fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        for (int i = 0; i < 3000; i++) {
                ASSERT_OK(mkdirat(fd, "d", 0755));
                int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT_TRUE(next >= 0);
                close(fd);
                fd = next;
        }
        close(fd);

        ASSERT_OK(getrlimit(RLIMIT_NOFILE, &old));
        low.rlim_max = old.rlim_max;
        ASSERT_OK(setrlimit(RLIMIT_NOFILE, &low));
        /* Control: under this limit, one fd per level would run out long before 3000. */
        while (n < 64 && (fds[n] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
                n++;
        ASSERT_TRUE(n < 64 && errno == EMFILE);
        while (n > 0)
                close(fds[--n]);

        ASSERT_OK(rm_rf_at(AT_FDCWD, tree));
        ASSERT_OK(setrlimit(RLIMIT_NOFILE, &old));
        ASSERT_TRUE(access(tree, F_OK) < 0 && errno == ENOENT);
}

/* A file of n bytes 'x' through read_fd_bounded() with bound max. */
static int read_n(size_t n, size_t max, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        char tmpl[] = "/tmp/test-read-bounded-XXXXXX";
        int fd, r;

        fd = mkstemp(tmpl);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(unlink(tmpl));
        for (size_t i = 0; i < n; i++)
                ASSERT_EQ(write(fd, "x", 1), 1);
        ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
        r = read_fd_bounded(fd, max, &buf, ret_size);
        close(fd);
        if (r >= 0) {
                ASSERT_EQ(strlen(buf), *ret_size);
                ASSERT_EQ(strspn(buf, "x"), n);
        }
        return r;
}

TEST(read_bounded) {
        size_t size;

        ASSERT_OK(read_n(0, 10, &size));
        ASSERT_EQ(size, 0);
        ASSERT_OK(read_n(10, 10, &size));        /* exactly the bound */
        ASSERT_EQ(size, 10);
        ASSERT_EQ(read_n(11, 10, &size), -EFBIG);
        ASSERT_OK(read_n(4096, 4096, &size));    /* the first buffer, full */
        ASSERT_OK(read_n(10000, 100000, &size)); /* grown twice */
        ASSERT_EQ(size, 10000);
        ASSERT_EQ(read_n(10001, 10000, &size), -EFBIG);
}

int main(void) {
        RUN(atomic_write);
        RUN(read_bounded);
        RUN(rm_rf_no_follow);
        RUN(rm_rf_deep);
        /* Mounting needs root; meson reports 77 as a skip, which CI counts as a failure. */
        if (geteuid() != 0)
                return 77;
        RUN(rm_rf_no_cross_mounts);
        return 0;
}
