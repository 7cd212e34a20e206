/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fileio.h"
#include "tar-stream.h"
#include "tests.h"

static char tree[] = "/tmp/test-tar-stream-XXXXXX";
static bool have_xattr;

static char *at(const char *rel) {
        static char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", tree, rel);
        return p;
}

static void write_file(const char *rel, const char *data, mode_t mode) {
        int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, data, strlen(data)), (ssize_t) strlen(data));
        ASSERT_OK(fchmod(fd, mode));
        close(fd);
}

static void make_tree(void) {
        char target[PATH_MAX];

        ASSERT_TRUE(mkdtemp(tree));
        ASSERT_OK(mkdir(at("bin"), 0755));
        ASSERT_OK(mkdir(at("etc"), 0700));
        write_file("bin/busybox", "#!/bin/sh\necho busybox\n", 0751);
        have_xattr = setxattr(at("bin/busybox"), "user.podctl", "yes", 3, 0) >= 0;
        snprintf(target, sizeof(target), "%s", at("bin/busybox"));
        ASSERT_OK(link(target, at("bin/sh")));
        ASSERT_OK(symlink("busybox", at("bin/ls")));
        ASSERT_OK(symlink("/nonexistent", at("etc/dangling")));
        write_file("etc/empty", "", 0644);
        ASSERT_OK(mkfifo(at("etc/fifo"), 0600));
}

typedef struct Seen {
        bool root, bin, busybox, sh, ls, dangling, empty, fifo, etc;
} Seen;

static void check_archive(const char *path) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        Seen seen = {};
        int r;

        ASSERT_TRUE(a);
        ASSERT_EQ(archive_read_support_format_all(a), ARCHIVE_OK);
        ASSERT_EQ(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);

        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                const char *n = archive_entry_pathname(e);

                /* Owners numeric only: names would be looked up by the daemon otherwise. */
                ASSERT_TRUE(!archive_entry_uname(e) || !*archive_entry_uname(e));
                ASSERT_TRUE(!archive_entry_gname(e) || !*archive_entry_gname(e));
                ASSERT_EQ(archive_entry_uid(e), getuid());

                if (strcmp(n, ".") == 0 || strcmp(n, "./") == 0) {
                        seen.root = true;
                        ASSERT_EQ(archive_entry_filetype(e), AE_IFDIR);
                } else if (strcmp(n, "./bin") == 0 || strcmp(n, "./bin/") == 0) {
                        seen.bin = true;
                        ASSERT_EQ(archive_entry_perm(e), 0755);
                } else if (strcmp(n, "./etc") == 0 || strcmp(n, "./etc/") == 0) {
                        seen.etc = true;
                        ASSERT_EQ(archive_entry_perm(e), 0700);
                } else if (strcmp(n, "./bin/busybox") == 0 || strcmp(n, "./bin/sh") == 0) {
                        /* Whichever comes first has the data, the other is a hard link. */
                        bool *s = strcmp(n, "./bin/sh") == 0 ? &seen.sh : &seen.busybox;
                        const char *hl = archive_entry_hardlink(e);

                        *s = true;
                        if (hl)
                                ASSERT_TRUE(strcmp(hl, "./bin/busybox") == 0 || strcmp(hl, "./bin/sh") == 0);
                        else {
                                char buf[64] = {};

                                ASSERT_EQ(archive_entry_filetype(e), AE_IFREG);
                                ASSERT_EQ(archive_entry_perm(e), 0751);
                                ASSERT_EQ(archive_read_data(a, buf, sizeof(buf) - 1), 23);
                                ASSERT_STREQ(buf, "#!/bin/sh\necho busybox\n");
                                if (have_xattr) {
                                        const char *name;
                                        const void *value;
                                        size_t size;

                                        bool found = false;

                                        ASSERT_TRUE(archive_entry_xattr_reset(e) >= 1);
                                        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
                                                if (strcmp(name, "user.podctl") == 0) {
                                                        ASSERT_EQ(size, 3);
                                                        ASSERT_TRUE(memcmp(value, "yes", 3) == 0);
                                                        found = true;
                                                } else
                                                        fprintf(stderr, "(also xattr %s)\n", name);
                                        ASSERT_TRUE(found);
                                }
                        }
                } else if (strcmp(n, "./bin/ls") == 0) {
                        seen.ls = true;
                        ASSERT_EQ(archive_entry_filetype(e), AE_IFLNK);
                        ASSERT_STREQ(archive_entry_symlink(e), "busybox");
                } else if (strcmp(n, "./etc/dangling") == 0) {
                        seen.dangling = true;
                        ASSERT_EQ(archive_entry_filetype(e), AE_IFLNK);
                        ASSERT_STREQ(archive_entry_symlink(e), "/nonexistent");
                } else if (strcmp(n, "./etc/empty") == 0) {
                        seen.empty = true;
                        ASSERT_EQ(archive_entry_size(e), 0);
                        ASSERT_EQ(archive_entry_perm(e), 0644);
                } else if (strcmp(n, "./etc/fifo") == 0) {
                        seen.fifo = true;
                        ASSERT_EQ(archive_entry_filetype(e), AE_IFIFO);
                } else {
                        fprintf(stderr, "unexpected entry '%s'\n", n);
                        abort();
                }
        }
        ASSERT_EQ(r, ARCHIVE_EOF);
        ASSERT_TRUE(seen.root && seen.bin && seen.etc && seen.busybox && seen.sh && seen.ls &&
                    seen.dangling && seen.empty && seen.fifo);
        archive_read_free(a);
}

TEST(in_process) {
        char out[] = "/tmp/test-tar-stream-out-XXXXXX";
        char *message = NULL;
        int dir_fd, fd;

        dir_fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        fd = mkstemp(out);
        ASSERT_TRUE(fd >= 0);

        ASSERT_OK(tar_stream_directory(dir_fd, fd, &message));
        ASSERT_TRUE(message == NULL);
        close(fd);
        close(dir_fd);

        check_archive(out);
        unlink(out);
}

TEST(forked) {
        char out[] = "/tmp/test-tar-stream-out-XXXXXX";
        TarStream s = TAR_STREAM_NULL;
        char buf[4096], *message = NULL;
        const char *keep = getenv("PODCTL_TEST_TAR_OUT");
        int dir_fd, fd, rfd;
        ssize_t n;

        dir_fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        fd = keep ? open(keep, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : mkstemp(out);
        ASSERT_TRUE(fd >= 0);

        ASSERT_OK(tar_stream_fork(dir_fd, &s, &rfd));
        close(dir_fd);
        while ((n = read(rfd, buf, sizeof(buf))) > 0)
                ASSERT_EQ(write(fd, buf, (size_t) n), n);
        ASSERT_EQ(n, 0);
        close(rfd);
        close(fd);

        ASSERT_OK(tar_stream_wait(&s, &message));
        ASSERT_TRUE(message == NULL);

        check_archive(keep ?: out);
        if (!keep)
                unlink(out);
}

TEST(reader_gone) {
        TarStream s = TAR_STREAM_NULL;
        char *message = NULL;
        int dir_fd, rfd;

        /* Enough data that the child cannot finish into the pipe buffer alone. */
        write_file("big", "", 0644);
        ASSERT_OK(truncate(at("big"), 4 * 1024 * 1024));

        dir_fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        ASSERT_OK(tar_stream_fork(dir_fd, &s, &rfd));
        close(dir_fd);
        close(rfd);

        ASSERT_EQ(tar_stream_wait(&s, &message), -EPIPE);
        free(message);
        ASSERT_OK(unlink(at("big")));
}

TEST(not_a_directory) {
        char *message = NULL;
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(tar_stream_directory(fd, fd, &message), -ENOTDIR);
        ASSERT_TRUE(message != NULL);
        free(message);
        close(fd);
}

int main(void) {
        make_tree();
        RUN(in_process);
        RUN(forked);
        RUN(reader_gone);
        RUN(not_a_directory);
        ASSERT_OK(chdir("/"));
        ASSERT_OK(rm_rf_at(AT_FDCWD, tree));
        return 0;
}
