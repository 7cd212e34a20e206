/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bind-source.h"
#include "fileio.h"
#include "tests.h"

TEST(resolve) {
        char tmpl[] = "/tmp/test-bind-source-XXXXXX", real[PATH_MAX];
        _cleanup_free_ char *dir = NULL, *link = NULL, *file = NULL;
        _cleanup_close_ int fd = -EBADF, lfd = -EBADF, ffd = -EBADF, pfd = -EBADF, sfd = -EBADF;
        BindMount b = {};
        struct stat st;
        bool pseudo;
        uid_t uid;

        ASSERT_TRUE(mkdtemp(tmpl));
        ASSERT_TRUE(realpath(tmpl, real));
        ASSERT_TRUE(asprintf(&dir, "%s/d", real) > 0);
        ASSERT_TRUE(asprintf(&link, "%s/l", real) > 0);
        ASSERT_TRUE(asprintf(&file, "%s/f", real) > 0);
        ASSERT_OK(mkdir(dir, 0755));
        ASSERT_OK(symlink("d", link));
        ffd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(ffd >= 0);

        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(bind_source_from_fd(fd, &b, &uid, &pseudo));
        ASSERT_STREQ(b.source, dir);
        ASSERT_TRUE(b.directory);
        ASSERT_OK(fstat(fd, &st));
        ASSERT_TRUE(b.dev == (uint64_t) st.st_dev && b.ino == (uint64_t) st.st_ino);
        ASSERT_EQ(uid, geteuid());
        ASSERT_FALSE(pseudo);

        /* Opened through a symlink: recorded by where it is. */
        lfd = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(lfd >= 0);
        ASSERT_OK(bind_source_from_fd(lfd, &b, &uid, &pseudo));
        ASSERT_STREQ(b.source, dir);

        ASSERT_OK(bind_source_from_fd(ffd, &b, &uid, &pseudo));
        ASSERT_STREQ(b.source, file);
        ASSERT_FALSE(b.directory);

        /* Deleted: no path to record. */
        ASSERT_OK(unlink(file));
        ASSERT_EQ(bind_source_from_fd(ffd, &b, &uid, &pseudo), -ENOENT);

        pfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(pfd >= 0);
        ASSERT_OK(bind_source_from_fd(pfd, &b, &uid, &pseudo));
        ASSERT_TRUE(pseudo);

        sfd = open("/dev/null", O_PATH | O_CLOEXEC);
        ASSERT_TRUE(sfd >= 0);
        ASSERT_EQ(bind_source_from_fd(sfd, &b, &uid, &pseudo), -EMEDIUMTYPE);
        ASSERT_EQ(bind_source_from_fd(-1, &b, &uid, &pseudo), -EBADF);

        bind_mount_done(&b);
        ASSERT_OK(rm_rf_at(AT_FDCWD, tmpl));
}

int main(void) {
        RUN(resolve);
        return 0;
}
