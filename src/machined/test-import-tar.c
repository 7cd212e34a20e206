/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "fileio.h"
#include "import-tar.h"
#include "tests.h"

typedef struct Entry {
        const char *path;
        mode_t type;
        const char *data_or_target;
} Entry;

/* Writes a tar with the given entries to a temporary file and returns an fd to it. */
static int make_tar(const Entry *entries, size_t n, bool gzip) {
        char path[] = "/tmp/test-import-tar-XXXXXX";
        int fd = mkstemp(path);
        struct archive *a = archive_write_new();

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(unlink(path));
        archive_write_set_format_pax_restricted(a);
        if (gzip)
                archive_write_add_filter_gzip(a);
        ASSERT_EQ(archive_write_open_fd(a, fd), ARCHIVE_OK);

        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, entries[i].path);
                archive_entry_set_filetype(e, entries[i].type);
                archive_entry_set_perm(e, entries[i].type == AE_IFDIR ? 0755 : 0644);
                if (entries[i].type == AE_IFREG)
                        archive_entry_set_size(e, (la_int64_t) strlen(entries[i].data_or_target));
                if (entries[i].type == AE_IFLNK)
                        archive_entry_set_symlink(e, entries[i].data_or_target);
                if (entries[i].type == AE_IFCHR)
                        archive_entry_set_rdev(e, makedev(1, 3));
                ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
                if (entries[i].type == AE_IFREG)
                        archive_write_data(a, entries[i].data_or_target, strlen(entries[i].data_or_target));
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        ASSERT_OK(lseek(fd, 0, SEEK_SET));
        return fd;
}

/* Runs import_tar in a child, as the daemon does (it changes the working directory). */
static int run_import(int input_fd, const char *dir, uint64_t *ret_size) {
        int p[2];
        pid_t pid;
        int r, status;
        uint64_t size = 0;

        ASSERT_OK(pipe(p));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                ImportLimits limits = IMPORT_LIMITS_DEFAULT;
                char *msg = NULL;
                int tree = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                limits.max_bytes = 1024;
                r = import_tar(input_fd, tree, &limits, &size, &msg);
                if (r < 0)
                        fprintf(stderr, "import: %s\n", msg);
                (void) !write(p[1], &size, sizeof size);
                _exit(r < 0 ? -r : 0);
        }
        close(p[1]);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        (void) !read(p[0], &size, sizeof size);
        close(p[0]);
        if (ret_size)
                *ret_size = size;
        ASSERT_TRUE(WIFEXITED(status));
        return -WEXITSTATUS(status);
}

static char *make_dir(void) {
        char *t = strdup("/tmp/test-import-root-XXXXXX");
        ASSERT_TRUE(mkdtemp(t));
        return t;
}

TEST(plain_and_gzip) {
        const Entry e[] = {
                { "bin", AE_IFDIR, NULL },
                { "bin/hello", AE_IFREG, "hello world\n" },
                { "bin/sh", AE_IFLNK, "hello" },
                { "etc/os-release", AE_IFREG, "ID=test\n" },
        };

        for (int gz = 0; gz <= 1; gz++) {
                _cleanup_free_ char *dir = make_dir();
                char path[256];
                uint64_t size;
                struct stat st;
                int fd = make_tar(e, 4, gz);

                ASSERT_OK(run_import(fd, dir, &size));
                ASSERT_EQ(size, 12 + 8);
                snprintf(path, sizeof path, "%s/bin/hello", dir);
                ASSERT_OK(stat(path, &st));
                ASSERT_EQ(st.st_size, 12);
                snprintf(path, sizeof path, "%s/bin/sh", dir);
                ASSERT_OK(lstat(path, &st));
                ASSERT_TRUE(S_ISLNK(st.st_mode));
                snprintf(path, sizeof path, "%s/etc/os-release", dir);
                ASSERT_OK(access(path, F_OK));
                close(fd);
                ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
        }
}

TEST(hostile) {
        _cleanup_free_ char *outside = make_dir();
        char target[300], escape[300];
        const Entry dotdot[] = { { "../../../../../../tmp/podctl-escape-dotdot", AE_IFREG, "x" } };
        const Entry device[] = { { "dev/mem", AE_IFCHR, NULL } };

        /* A symlink to a directory outside, then a file written through it. */
        snprintf(target, sizeof target, "%s", outside);
        snprintf(escape, sizeof escape, "%s/escaped", outside);
        const Entry through_link[] = {
                { "link", AE_IFLNK, target },
                { "link/escaped", AE_IFREG, "x" },
        };

        struct { const Entry *e; size_t n; bool must_fail; } cases[] = {
                { dotdot, 1, true },
                { device, 1, true },
                /* libarchive replaces the symlink by a directory: safe, if not an error. */
                { through_link, 2, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *dir = make_dir();
                int fd = make_tar(cases[i].e, cases[i].n, false);
                int r = run_import(fd, dir, NULL);
                if (cases[i].must_fail)
                        ASSERT_TRUE(r < 0);
                close(fd);
                ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
        }
        ASSERT_TRUE(access("/tmp/podctl-escape-dotdot", F_OK) < 0);
        ASSERT_TRUE(access(escape, F_OK) < 0);

        /* Over the size limit (1024 bytes in run_import). */
        {
                char data[2000];
                memset(data, 'a', sizeof data - 1);
                data[sizeof data - 1] = '\0';
                const Entry b[] = { { "big", AE_IFREG, data } };
                _cleanup_free_ char *dir = make_dir();
                int fd = make_tar(b, 1, false);
                ASSERT_EQ(run_import(fd, dir, NULL), -EFBIG);
                close(fd);
                ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
        }

        /* Garbage and empty input. */
        {
                _cleanup_free_ char *dir = make_dir();
                char path[] = "/tmp/test-import-garbage-XXXXXX";
                int fd = mkstemp(path);
                ASSERT_OK(unlink(path));
                ASSERT_EQ(write(fd, "this is not a tar archive at all, just some text\n", 50), 50);
                ASSERT_OK(lseek(fd, 0, SEEK_SET));
                ASSERT_TRUE(run_import(fd, dir, NULL) < 0);
                close(fd);
                fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                ASSERT_TRUE(run_import(fd, dir, NULL) < 0);
                close(fd);
                ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
        }

        ASSERT_OK(rm_rf_at(AT_FDCWD, outside));
}

int main(void) {
        RUN(plain_and_gzip);
        RUN(hostile);
        return 0;
}
