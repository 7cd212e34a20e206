/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "extract.h"
#include "fileio.h"
#include "tests.h"

typedef struct Ent {
        const char *path;
        mode_t type;            /* AE_IFREG unless said */
        const char *data;       /* contents, or the symlink target */
        const char *hardlink;
        mode_t perm;            /* 0644 or 0755 unless said */
        size_t fill;            /* this many bytes of pseudo-random contents instead of data */
        time_t mtime;
        dev_t rdev;
        const char *xattr[4];   /* names; values are "v-NAME" unless in xattr_value */
        const void *xattr_value[4];
        size_t xattr_size[4];
} Ent;

#define MTIME_DEFAULT 1234567890

static char canary[64]; /* /var/tmp/test-extract-canary-XXXXXX, holding "file" */
static const char *canary_name;    /* its last component */

static void fill_random(char *buf, size_t n, unsigned seed) {
        for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245 + 12345;
                buf[i] = (char) (seed >> 16);
        }
}

/* An archive of the entries in a memfd, positioned at its start. */
static int make_archive(const Ent *ents, size_t n, int filter) {
        struct archive *a = archive_write_new();
        int fd = memfd_create("archive", MFD_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (filter != ARCHIVE_FILTER_NONE)
                ASSERT_EQ(archive_write_add_filter(a, filter), ARCHIVE_OK);
        ASSERT_EQ(archive_write_open_fd(a, fd), ARCHIVE_OK);

        for (size_t i = 0; i < n; i++) {
                const Ent *x = &ents[i];
                struct archive_entry *e = archive_entry_new();
                mode_t type = x->type ?: AE_IFREG;
                _cleanup_free_ char *data = NULL;
                size_t size = 0;

                if (x->fill > 0) {
                        data = malloc(x->fill);
                        ASSERT_TRUE(data);
                        fill_random(data, x->fill, (unsigned) i);
                        size = x->fill;
                } else if (type == AE_IFREG && x->data && !x->hardlink) {
                        data = strdup(x->data);
                        size = strlen(x->data);
                }

                archive_entry_set_pathname(e, x->path);
                archive_entry_set_filetype(e, type);
                archive_entry_set_perm(e, x->perm ?: (type == AE_IFDIR ? 0755 : 0644));
                archive_entry_set_mtime(e, x->mtime ?: MTIME_DEFAULT, 0);
                archive_entry_set_uid(e, 0);
                archive_entry_set_gid(e, 0);
                if (x->hardlink)
                        archive_entry_set_hardlink(e, x->hardlink);
                else if (type == AE_IFREG)
                        archive_entry_set_size(e, (la_int64_t) size);
                if (type == AE_IFLNK)
                        archive_entry_set_symlink(e, x->data);
                if (type == AE_IFCHR || type == AE_IFBLK)
                        archive_entry_set_rdev(e, x->rdev);
                for (size_t j = 0; j < ELEMENTSOF(x->xattr) && x->xattr[j]; j++) {
                        char v[256];
                        snprintf(v, sizeof v, "v-%s", x->xattr[j]);
                        if (x->xattr_value[j])
                                archive_entry_xattr_add_entry(e, x->xattr[j], x->xattr_value[j], x->xattr_size[j]);
                        else
                                archive_entry_xattr_add_entry(e, x->xattr[j], v, strlen(v));
                }

                ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
                if (size > 0)
                        ASSERT_EQ(archive_write_data(a, data, size), (la_ssize_t) size);
                archive_entry_free(e);
        }
        ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        ASSERT_OK(lseek(fd, 0, SEEK_SET));
        return fd;
}

static int make_input(const void *data, size_t size) {
        int fd = memfd_create("input", MFD_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, data, size), (ssize_t) size);
        ASSERT_OK(lseek(fd, 0, SEEK_SET));
        return fd;
}

/* One ustar header block by hand, for names libarchive's writer would not write. */
static int make_raw_tar(const char *name, char typeflag) {
        char buf[512 * 3] = {};
        unsigned sum = 0;

        memcpy(buf, name, strnlen(name, 100));
        memcpy(buf + 100, "0000644", 8);
        memcpy(buf + 108, "0000000", 8);
        memcpy(buf + 116, "0000000", 8);
        memcpy(buf + 124, "00000000000", 12);
        memcpy(buf + 136, "11145401322", 12);
        memset(buf + 148, ' ', 8);
        buf[156] = typeflag;
        memcpy(buf + 257, "ustar", 6);
        memcpy(buf + 263, "00", 2);
        for (size_t i = 0; i < 512; i++)
                sum += (unsigned char) buf[i];
        snprintf(buf + 148, 8, "%06o", sum);
        return make_input(buf, sizeof buf);
}

typedef struct Root {
        char path[64];
        int fd;
} Root;

static void root_new(Root *r) {
        snprintf(r->path, sizeof r->path, "/var/tmp/test-extract-XXXXXX");
        ASSERT_TRUE(mkdtemp(r->path));
        r->fd = open(r->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(r->fd >= 0);
}

static void root_free(Root *r) {
        close(r->fd);
        ASSERT_OK(rm_rf_at(AT_FDCWD, r->path));
}

static int extract_fd(Root *root, int fd, const ExtractOptions *o, ExtractStats *stats, char **ret_message) {
        ExtractOptions def = EXTRACT_OPTIONS_DEFAULT;
        _cleanup_free_ char *msg = NULL;
        int r;

        r = extract_archive(fd, root->fd, o ?: &def, stats, &msg);
        if (r < 0) {
                ASSERT_TRUE(msg);
                fprintf(stderr, "    -> %s (%s)\n", msg, strerror(-r));
                if (ret_message)
                        *ret_message = TAKE_PTR(msg);
        } else
                ASSERT_TRUE(!msg);
        return r;
}

static int extract_ents(Root *root, const Ent *e, size_t n, const ExtractOptions *o, char **ret_message) {
        int fd = make_archive(e, n, ARCHIVE_FILTER_NONE), r;

        r = extract_fd(root, fd, o, NULL, ret_message);
        close(fd);
        return r;
}

/* Extracts into a fresh root that is thrown away; error is the result expected. */
static void expect(const Ent *e, size_t n, const ExtractOptions *o, int error, const char *in_message) {
        _cleanup_free_ char *msg = NULL;
        Root root;

        root_new(&root);
        ASSERT_EQ(extract_ents(&root, e, n, o, &msg), error);
        if (in_message)
                ASSERT_TRUE(strstr(msg, in_message));
        root_free(&root);
}

static int lstat_in(const Root *r, const char *rel, struct stat *st) {
        return fstatat(r->fd, rel, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static bool exists_in(const Root *r, const char *rel) {
        struct stat st;
        return lstat_in(r, rel, &st) >= 0;
}

static void assert_contents(const Root *r, const char *rel, const char *expected) {
        char buf[4096];
        int fd = openat(r->fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n;

        ASSERT_TRUE(fd >= 0);
        n = read(fd, buf, sizeof buf - 1);
        ASSERT_TRUE(n >= 0);
        buf[n] = '\0';
        ASSERT_STREQ(buf, expected);
        close(fd);
}

/* The canary holds exactly what setup_canary() put there. */
static void assert_canary_untouched(void) {
        _cleanup_close_ int fd = open(canary, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        DIR *d;
        int n = 0;

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(opendir_fd(fd, &d));
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        ASSERT_STREQ(de->d_name, "file");
                        n++;
                }
        closedir(d);
        ASSERT_EQ(n, 1);
        ASSERT_OK(fstatat(fd, "file", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISREG(st.st_mode));
        ASSERT_EQ(st.st_nlink, 1);
        ASSERT_EQ(st.st_size, 6);
        ASSERT_EQ(st.st_mode & 07777, 0644);
}

static void setup_canary(void) {
        _cleanup_close_ int fd = -EBADF;

        snprintf(canary, sizeof canary, "/var/tmp/test-extract-canary-XXXXXX");
        ASSERT_TRUE(mkdtemp(canary));
        canary_name = strrchr(canary, '/') + 1;
        fd = openat(AT_FDCWD, canary, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(write_file_atomic_at(fd, "file", "canary", 6, 0644));
}

TEST(compressions) {
        const Ent e[] = {
                { "bin/", AE_IFDIR },
                { "bin/hello", .data = "hello world\n", .perm = 0755 },
                { "bin/sh", AE_IFLNK, "hello" },
                { "etc/os-release", .data = "ID=test\n" },
                { "big", .fill = 200000 },
        };
        const int filters[] = { ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_BZIP2, ARCHIVE_FILTER_XZ,
                                ARCHIVE_FILTER_ZSTD };

        for (size_t i = 0; i < ELEMENTSOF(filters); i++) {
                ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
                ExtractStats stats = {};
                struct stat st;
                Root root;
                int fd = make_archive(e, ELEMENTSOF(e), filters[i]);

                root_new(&root);
                ASSERT_OK(extract_fd(&root, fd, &o, &stats, NULL));
                ASSERT_EQ(stats.n_entries, 5);
                ASSERT_EQ(stats.n_bytes, 12 + 8 + 200000);
                ASSERT_OK(fstat(fd, &st));
                ASSERT_EQ(stats.input_bytes, st.st_size);

                assert_contents(&root, "bin/hello", "hello world\n");
                ASSERT_OK(lstat_in(&root, "bin/hello", &st));
                ASSERT_EQ(st.st_mode & 07777, 0755);
                ASSERT_EQ(st.st_mtime, MTIME_DEFAULT);
                ASSERT_OK(lstat_in(&root, "bin/sh", &st));
                ASSERT_TRUE(S_ISLNK(st.st_mode));
                assert_contents(&root, "etc/os-release", "ID=test\n");
                ASSERT_OK(lstat_in(&root, "big", &st));
                ASSERT_EQ(st.st_size, 200000);
                /* etc/ was not in the archive: made as tar would. */
                ASSERT_OK(lstat_in(&root, "etc", &st));
                ASSERT_TRUE(S_ISDIR(st.st_mode));
                ASSERT_EQ(st.st_mode & 07777, 0755);

                close(fd);
                root_free(&root);
        }
}

TEST(trusted_keeps_setuid) {
        const Ent e[] = {
                { "usr/bin/su", .data = "su", .perm = 04755 },
                { "usr/bin/x", .data = "12345" },
        };
        ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
        _cleanup_free_ char *msg = NULL;
        ExtractStats stats = {};
        struct stat st;
        Root root;
        int fd = make_archive(e, ELEMENTSOF(e), ARCHIVE_FILTER_GZIP);

        o.trusted = true;
        root_new(&root);
        ASSERT_OK(extract_archive(fd, root.fd, &o, &stats, &msg));
        ASSERT_TRUE(!msg);
        ASSERT_EQ(stats.n_bytes, 7);
        ASSERT_OK(lstat_in(&root, "usr/bin/su", &st));
        ASSERT_EQ(st.st_mode & 07777, 04755);
        close(fd);
        root_free(&root);
}

TEST(traversal_stays_inside) {
        char dotdot[PATH_MAX], sibling[PATH_MAX], abs[PATH_MAX], via_up[PATH_MAX], via_chain[PATH_MAX], abs_link[PATH_MAX];
        struct stat passwd_before, passwd_after, st;
        Root root;

        snprintf(dotdot, sizeof dotdot, "../../../../../../../../..%s/dotdot", canary);
        snprintf(sibling, sizeof sibling, "../%s/sibling", canary_name);
        snprintf(abs, sizeof abs, "%s/abs", canary);
        snprintf(via_up, sizeof via_up, "up%s/up", canary);
        snprintf(via_chain, sizeof via_chain, "c2/%s/chain", canary_name);
        snprintf(abs_link, sizeof abs_link, "canary-link/via-abs-link");
        ASSERT_OK(stat("/etc/passwd", &passwd_before));

        const Ent e[] = {
                { dotdot, .data = "x" },
                { sibling, .data = "x" },
                { abs, .data = "x" },
                /* A symlink to "/" is the image root, inside the pod and here. */
                { "link", AE_IFLNK, "/" },
                { "link/etc/passwd", .data = "pwned" },
                { "up", AE_IFLNK, "../../../../../../.." },
                { via_up, .data = "x" },
                { "c1", AE_IFLNK, "up/.." },
                { "c2", AE_IFLNK, "c1/../../.." },
                { via_chain, .data = "x" },
                { "canary-link", AE_IFLNK, canary },
                { abs_link, .data = "x" },
                { "link/../../../etc/group", .data = "x" },
        };

        root_new(&root);
        ASSERT_OK(extract_ents(&root, e, ELEMENTSOF(e), NULL, NULL));

        /* Everything landed where the pod will see it. */
        ASSERT_TRUE(exists_in(&root, abs + 1));
        ASSERT_OK(lstat_in(&root, dotdot + strlen("../../../../../../../../../"), &st));
        ASSERT_TRUE(S_ISREG(st.st_mode));
        ASSERT_TRUE(exists_in(&root, sibling + 3));
        assert_contents(&root, "etc/passwd", "pwned");
        ASSERT_TRUE(exists_in(&root, via_up + 3));
        ASSERT_TRUE(exists_in(&root, via_chain + 3));
        {
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/via-abs-link", canary + 1);
                ASSERT_TRUE(exists_in(&root, p));
        }
        ASSERT_TRUE(exists_in(&root, "etc/group"));
        ASSERT_OK(lstat_in(&root, "link", &st));
        ASSERT_TRUE(S_ISLNK(st.st_mode));

        /* And nothing on the host. */
        assert_canary_untouched();
        ASSERT_OK(stat("/etc/passwd", &passwd_after));
        ASSERT_EQ(passwd_before.st_ino, passwd_after.st_ino);
        ASSERT_EQ(passwd_before.st_size, passwd_after.st_size);
        ASSERT_EQ(passwd_before.st_mtim.tv_sec, passwd_after.st_mtim.tv_sec);
        ASSERT_EQ(passwd_before.st_mtim.tv_nsec, passwd_after.st_mtim.tv_nsec);
        root_free(&root);

        /* Through a dangling symlink: refused, nothing made where it points. */
        const Ent dangling[] = {
                { "dangling", AE_IFLNK, "/nonexistent-podctl-test" },
                { "dangling/x", .data = "x" },
        };
        expect(dangling, ELEMENTSOF(dangling), NULL, -ENOENT, "Entry 'dangling/x'");
        ASSERT_TRUE(access("/nonexistent-podctl-test", F_OK) < 0);
        assert_canary_untouched();
}

TEST(hardlinks) {
        char to_canary[PATH_MAX], to_canary_abs[PATH_MAX];
        struct stat shadow_before, shadow_after, a, b;
        bool have_shadow = stat("/etc/shadow", &shadow_before) >= 0;
        Root root;

        snprintf(to_canary, sizeof to_canary, "../%s/file", canary_name);
        snprintf(to_canary_abs, sizeof to_canary_abs, "%s/file", canary);

        const Ent shadow[] = { { "shadow", .hardlink = "/etc/shadow" } };
        expect(shadow, ELEMENTSOF(shadow), NULL, -ENOENT, "Entry 'shadow': hard link target '/etc/shadow'");
        const Ent rel[] = { { "h", .hardlink = to_canary } };
        expect(rel, ELEMENTSOF(rel), NULL, -ENOENT, "hard link target");
        const Ent abs[] = { { "h", .hardlink = to_canary_abs } };
        expect(abs, ELEMENTSOF(abs), NULL, -ENOENT, "hard link target");
        const Ent dir[] = { { "d/", AE_IFDIR }, { "h", .hardlink = "d" } };
        expect(dir, ELEMENTSOF(dir), NULL, -EPERM, "Entry 'h'");
        const Ent root_dir[] = { { "h", .hardlink = "../.." } };
        expect(root_dir, ELEMENTSOF(root_dir), NULL, -EPERM, "Entry 'h'");

        if (have_shadow) {
                ASSERT_OK(stat("/etc/shadow", &shadow_after));
                ASSERT_EQ(shadow_before.st_nlink, shadow_after.st_nlink);
        }
        assert_canary_untouched();

        /* Inside the image, ".." and symlinks resolve in it. */
        const Ent inside[] = {
                { "x", .data = "data" },
                { "a/h1", .hardlink = "../../x" },
                { "link", AE_IFLNK, "/" },
                { "h2", .hardlink = "link/x" },
                { "h3", .hardlink = "link" },
                { "x2", .data = "other" },
                { "x2", .hardlink = "x2" },
        };
        root_new(&root);
        ASSERT_OK(extract_ents(&root, inside, ELEMENTSOF(inside), NULL, NULL));
        ASSERT_OK(lstat_in(&root, "x", &a));
        ASSERT_OK(lstat_in(&root, "a/h1", &b));
        ASSERT_EQ(a.st_ino, b.st_ino);
        ASSERT_OK(lstat_in(&root, "h2", &b));
        ASSERT_EQ(a.st_ino, b.st_ino);
        ASSERT_EQ(a.st_nlink, 3);
        /* A hard link to a symlink is one to the symlink, not to what it points to. */
        ASSERT_OK(lstat_in(&root, "h3", &b));
        ASSERT_TRUE(S_ISLNK(b.st_mode));
        assert_contents(&root, "x2", "other");
        root_free(&root);
}

TEST(devices) {
        const Ent e[] = {
                { "dev/", AE_IFDIR },
                { "dev/null", AE_IFCHR, .perm = 0666, .rdev = makedev(1, 3) },
                { "dev/loop0", AE_IFBLK, .perm = 0660, .rdev = makedev(7, 0) },
                { "run/fifo", AE_IFIFO, .perm = 0600 },
        };
        const Ent fifo[] = { { "run/fifo", AE_IFIFO, .perm = 0640 } };
        ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
        struct stat st;
        Root root;

        expect(e, ELEMENTSOF(e), NULL, -EPERM, "Entry 'dev/null': is a device node, refused.");

        root_new(&root);
        ASSERT_OK(extract_ents(&root, fifo, ELEMENTSOF(fifo), NULL, NULL));
        ASSERT_OK(lstat_in(&root, "run/fifo", &st));
        ASSERT_TRUE(S_ISFIFO(st.st_mode));
        ASSERT_EQ(st.st_mode & 07777, 0640);
        root_free(&root);

        o.allow_devices = true;
        root_new(&root);
        ASSERT_OK(extract_ents(&root, e, ELEMENTSOF(e), &o, NULL));
        ASSERT_OK(lstat_in(&root, "dev/null", &st));
        ASSERT_TRUE(S_ISCHR(st.st_mode));
        ASSERT_EQ(st.st_rdev, makedev(1, 3));
        ASSERT_EQ(st.st_mode & 07777, 0666);
        ASSERT_OK(lstat_in(&root, "dev/loop0", &st));
        ASSERT_TRUE(S_ISBLK(st.st_mode));
        ASSERT_EQ(st.st_rdev, makedev(7, 0));
        root_free(&root);
}

static const struct vfs_cap_data cap_net_raw = {
        .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
        .data = { { .permitted = 1u << CAP_NET_RAW } },
};

TEST(setuid_and_capabilities) {
        const Ent e[] = {
                { "su", .data = "su", .perm = 04755 },
                { "wall", .data = "wall", .perm = 02755 },
                { "shared/", AE_IFDIR, .perm = 02775 },
                { "ping", .data = "ping", .perm = 0755, .xattr = { "security.capability" },
                  .xattr_value = { &cap_net_raw }, .xattr_size = { sizeof cap_net_raw } },
        };

        for (int trusted = 0; trusted <= 1; trusted++) {
                ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
                struct stat st;
                Root root;

                o.trusted = trusted;
                root_new(&root);
                ASSERT_OK(extract_ents(&root, e, ELEMENTSOF(e), &o, NULL));
                ASSERT_OK(lstat_in(&root, "su", &st));
                ASSERT_EQ(st.st_mode & 07777, trusted ? 04755 : 0755);
                ASSERT_OK(lstat_in(&root, "wall", &st));
                ASSERT_EQ(st.st_mode & 07777, trusted ? 02755 : 0755);
                /* A setgid directory only passes its group on: kept. */
                ASSERT_OK(lstat_in(&root, "shared", &st));
                ASSERT_EQ(st.st_mode & 07777, 02775);

                {
                        char p[PATH_MAX];
                        snprintf(p, sizeof p, "%s/ping", root.path);
                        ssize_t n = lgetxattr(p, "security.capability", NULL, 0);
                        if (trusted)
                                ASSERT_EQ(n, sizeof cap_net_raw);
                        else
                                ASSERT_TRUE(n < 0 && errno == ENODATA);
                }
                root_free(&root);
        }
}

TEST(duplicates) {
        const Ent e[] = {
                { "f", .data = "one" },
                { "f", .data = "two" },
                { "d/", AE_IFDIR },
                { "d/x", .data = "x" },
                { "d/sub/y", .data = "y" },
                { "d", .data = "now a file" },
                { "s", AE_IFLNK, "/etc" },
                { "s/", AE_IFDIR, .perm = 0700 },
                { "h", .data = "file" },
                { "h/", AE_IFDIR },
                { "k/", AE_IFDIR, .perm = 0755 },
                { "k/child", .data = "c" },
                { "k/", AE_IFDIR, .perm = 0710, .mtime = 42 },
                { "l", AE_IFLNK, "a" },
                { "l", AE_IFLNK, "b" },
        };
        struct stat st;
        char target[16] = {};
        Root root;

        root_new(&root);
        ASSERT_OK(extract_ents(&root, e, ELEMENTSOF(e), NULL, NULL));
        assert_contents(&root, "f", "two");
        /* A file over a directory takes its place, tree and all. */
        assert_contents(&root, "d", "now a file");
        ASSERT_OK(lstat_in(&root, "s", &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode));
        ASSERT_EQ(st.st_mode & 07777, 0700);
        ASSERT_OK(lstat_in(&root, "h", &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode));
        /* A directory over a directory keeps its contents and takes the later metadata. */
        assert_contents(&root, "k/child", "c");
        ASSERT_OK(lstat_in(&root, "k", &st));
        ASSERT_EQ(st.st_mode & 07777, 0710);
        ASSERT_EQ(st.st_mtime, 42);
        ASSERT_EQ(readlinkat(root.fd, "l", target, sizeof target - 1), 1);
        ASSERT_STREQ(target, "b");
        root_free(&root);
}

TEST(names) {
        struct stat st;
        Root root;

        const Ent dotdot_last[] = { { "a/..", AE_IFDIR } };
        expect(dotdot_last, ELEMENTSOF(dotdot_last), NULL, -EBADMSG, "Entry 'a/..");
        const Ent dot_last[] = { { "a/.", .data = "x" } };
        expect(dot_last, ELEMENTSOF(dot_last), NULL, -EBADMSG, "Entry 'a/.'");
        const Ent only_dotdot[] = { { "..", AE_IFDIR } };
        expect(only_dotdot, ELEMENTSOF(only_dotdot), NULL, -EBADMSG, NULL);
        const Ent root_file[] = { { ".", .data = "x" } };
        expect(root_file, ELEMENTSOF(root_file), NULL, -EBADMSG, "root directory");

        {
                int fd = make_raw_tar("", '0');
                _cleanup_free_ char *msg = NULL;
                root_new(&root);
                ASSERT_EQ(extract_fd(&root, fd, NULL, NULL, &msg), -EBADMSG);
                close(fd);
                root_free(&root);
        }
        {
                /* Control characters are escaped in messages. */
                int fd = make_raw_tar("evil\n\x1b[31m/..", '5');
                _cleanup_free_ char *msg = NULL;
                root_new(&root);
                ASSERT_EQ(extract_fd(&root, fd, NULL, NULL, &msg), -EBADMSG);
                ASSERT_TRUE(!strchr(msg, '\n') && !strchr(msg, '\x1b'));
                ASSERT_TRUE(strstr(msg, "evil\\x0a\\x1b[31m/.."));
                close(fd);
                root_free(&root);
        }

        /* "./" is the root: its metadata applies to it. */
        const Ent root_dir[] = {
                { "./", AE_IFDIR, .perm = 0750, .mtime = 777 },
                { "./a", .data = "a" },
                { ".//./b/./c", .data = "c" },
        };
        root_new(&root);
        ASSERT_OK(extract_ents(&root, root_dir, ELEMENTSOF(root_dir), NULL, NULL));
        ASSERT_OK(fstat(root.fd, &st));
        ASSERT_EQ(st.st_mode & 07777, 0750);
        ASSERT_EQ(st.st_mtime, 777);
        assert_contents(&root, "b/c", "c");
        root_free(&root);
}

TEST(limits) {
        ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
        Ent many[20];
        char names[20][8];
        char long_name[301];

        o.limits.max_bytes = 1024;
        const Ent big[] = { { "small", .data = "x" }, { "big", .fill = 2000 } };
        expect(big, ELEMENTSOF(big), &o, -EFBIG, "Entry 'big': archive is larger than 1024 bytes.");

        o = EXTRACT_OPTIONS_DEFAULT;
        o.limits.max_entries = 10;
        for (size_t i = 0; i < ELEMENTSOF(many); i++) {
                snprintf(names[i], sizeof names[i], "f%zu", i);
                many[i] = (Ent) { names[i], .data = "x" };
        }
        expect(many, 10, &o, 0, NULL);
        expect(many, ELEMENTSOF(many), &o, -EFBIG, "Archive has more than 10 entries.");

        o = EXTRACT_OPTIONS_DEFAULT;
        o.limits.max_path_length = 256;
        memset(long_name, 'a', sizeof long_name - 1);
        long_name[sizeof long_name - 1] = '\0';
        for (size_t i = 50; i < sizeof long_name - 1; i += 50)
                long_name[i] = '/';
        const Ent long_path[] = { { long_name, .data = "x" } };
        expect(long_path, ELEMENTSOF(long_path), &o, -ENAMETOOLONG, "longer than 256 bytes");
        const Ent long_target[] = { { "l", AE_IFLNK, long_name } };
        expect(long_target, ELEMENTSOF(long_target), &o, -ENAMETOOLONG, "Entry 'l': link target longer");
}

TEST(bad_input) {
        const Ent e[] = {
                { "a", .fill = 100000 },
                { "b", .data = "b" },
        };
        char garbage[8192];
        char zeros[1024] = {};
        ExtractOptions layer = EXTRACT_OPTIONS_DEFAULT;
        const int filters[] = { ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_XZ };
        Root root;
        int fd;

        /* Truncated in data, in a header, and a compressed stream cut short. */
        for (size_t i = 0; i < ELEMENTSOF(filters); i++) {
                struct stat st;
                off_t cuts[3];

                fd = make_archive(e, ELEMENTSOF(e), filters[i]);
                ASSERT_OK(fstat(fd, &st));
                cuts[0] = st.st_size / 2;
                cuts[1] = filters[i] == ARCHIVE_FILTER_NONE ? 1024 + 100000 + 100 : st.st_size - 30;
                cuts[2] = 700;
                for (size_t j = 0; j < ELEMENTSOF(cuts); j++) {
                        _cleanup_free_ char *msg = NULL;
                        int cut = make_archive(e, ELEMENTSOF(e), filters[i]);
                        ASSERT_OK(ftruncate(cut, cuts[j]));
                        root_new(&root);
                        ASSERT_EQ(extract_fd(&root, cut, NULL, NULL, &msg), -EBADMSG);
                        close(cut);
                        root_free(&root);
                }
                close(fd);
        }

        fill_random(garbage, sizeof garbage, 4242);
        fd = make_input(garbage, sizeof garbage);
        root_new(&root);
        ASSERT_EQ(extract_fd(&root, fd, NULL, NULL, NULL), -EBADMSG);
        close(fd);
        root_free(&root);

        /* Garbage behind a gzip header. */
        memcpy(garbage, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
        fd = make_input(garbage, sizeof garbage);
        root_new(&root);
        ASSERT_EQ(extract_fd(&root, fd, NULL, NULL, NULL), -EBADMSG);
        close(fd);
        root_free(&root);

        fd = make_input("", 0);
        root_new(&root);
        ASSERT_TRUE(extract_fd(&root, fd, NULL, NULL, NULL) < 0);
        close(fd);
        root_free(&root);

        /* An empty tar: no image, but a valid (empty) layer. */
        fd = make_input(zeros, sizeof zeros);
        root_new(&root);
        ASSERT_EQ(extract_fd(&root, fd, NULL, NULL, NULL), -EBADMSG);
        ASSERT_OK(lseek(fd, 0, SEEK_SET));
        layer.whiteouts = true;
        ASSERT_OK(extract_fd(&root, fd, &layer, NULL, NULL));
        close(fd);
        root_free(&root);
}

TEST(enospc) {
        const Ent e[] = { { "small", .data = "x" }, { "big", .fill = 1024 * 1024 } };
        _cleanup_free_ char *msg = NULL;
        Root root;

        root_new(&root);
        if (mount("tmpfs", root.path, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k") < 0) {
                fprintf(stderr, "    cannot mount tmpfs (%s), skipping\n", strerror(errno));
                root_free(&root);
                return;
        }
        close(root.fd);
        root.fd = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(root.fd >= 0);

        ASSERT_EQ(extract_ents(&root, e, ELEMENTSOF(e), NULL, &msg), -ENOSPC);
        ASSERT_TRUE(strstr(msg, "Entry 'big'"));
        /* Nothing half-written under the name. */
        ASSERT_TRUE(exists_in(&root, "small"));
        ASSERT_FALSE(exists_in(&root, "big"));

        close(root.fd);
        ASSERT_OK(umount(root.path));
        root.fd = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        root_free(&root);
}

TEST(times) {
        const Ent e[] = {
                { "d/", AE_IFDIR, .mtime = 1000000 },
                { "d/sub/", AE_IFDIR, .mtime = 2000000 },
                { "d/sub/f", .data = "f", .mtime = 3000000 },
                { "d/ro/", AE_IFDIR, .perm = 0555, .mtime = 4000000 },
                { "d/ro/late", .data = "late" },
                { "d/link", AE_IFLNK, "sub", .mtime = 5000000 },
                { "d/g", .data = "g" },
        };
        struct stat st;
        Root root;

        root_new(&root);
        ASSERT_OK(extract_ents(&root, e, ELEMENTSOF(e), NULL, NULL));
        ASSERT_OK(lstat_in(&root, "d", &st));
        ASSERT_EQ(st.st_mtime, 1000000);
        ASSERT_OK(lstat_in(&root, "d/sub", &st));
        ASSERT_EQ(st.st_mtime, 2000000);
        ASSERT_OK(lstat_in(&root, "d/sub/f", &st));
        ASSERT_EQ(st.st_mtime, 3000000);
        ASSERT_OK(lstat_in(&root, "d/ro", &st));
        ASSERT_EQ(st.st_mtime, 4000000);
        ASSERT_EQ(st.st_mode & 07777, 0555);
        assert_contents(&root, "d/ro/late", "late");
        ASSERT_OK(lstat_in(&root, "d/link", &st));
        ASSERT_EQ(st.st_mtime, 5000000);
        root_free(&root);
}

/* An ACL granting uid 1000 read access, as the kernel stores it. */
static const struct {
        uint32_t version;
        struct {
                uint16_t tag, perm;
                uint32_t id;
        } e[5];
} acl = { 2, { { 0x01, 7, UINT32_MAX }, { 0x02, 4, 1000 }, { 0x04, 5, UINT32_MAX }, { 0x10, 5, UINT32_MAX },
               { 0x20, 4, UINT32_MAX } } };

TEST(xattrs) {
        const Ent e[] = {
                { "f", .data = "f", .xattr = { "user.test", "trusted.overlay.opaque", "security.selinux" } },
                { "d/", AE_IFDIR, .xattr = { "user.dir", "trusted.overlay.redirect" } },
                { "acl", .data = "a", .xattr = { "system.posix_acl_access" }, .xattr_value = { &acl },
                  .xattr_size = { sizeof acl } },
        };
        char p[PATH_MAX], v[64];
        ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
        Root root;
        ssize_t n;

        o.trusted = true;
        root_new(&root);
        ASSERT_OK(extract_ents(&root, e, ELEMENTSOF(e), &o, NULL));

        snprintf(p, sizeof p, "%s/f", root.path);
        n = lgetxattr(p, "user.test", v, sizeof v);
        ASSERT_EQ(n, strlen("v-user.test"));
        ASSERT_TRUE(memcmp(v, "v-user.test", (size_t) n) == 0);
        ASSERT_TRUE(lgetxattr(p, "trusted.overlay.opaque", NULL, 0) < 0 && errno == ENODATA);
        n = lgetxattr(p, "security.selinux", NULL, 0);
        ASSERT_TRUE(n < 0 || n != (ssize_t) strlen("v-security.selinux"));

        snprintf(p, sizeof p, "%s/d", root.path);
        ASSERT_EQ(lgetxattr(p, "user.dir", NULL, 0), strlen("v-user.dir"));
        ASSERT_TRUE(lgetxattr(p, "trusted.overlay.redirect", NULL, 0) < 0 && errno == ENODATA);

        snprintf(p, sizeof p, "%s/acl", root.path);
        ASSERT_EQ(lgetxattr(p, "system.posix_acl_access", NULL, 0), sizeof acl);
        root_free(&root);
}

typedef struct Progress {
        uint64_t calls, last;
} Progress;

static void on_progress(uint64_t input_bytes, void *userdata) {
        Progress *p = userdata;

        /* Never backwards, and (but for the final call) in steps of at least 64 KiB. */
        ASSERT_TRUE(input_bytes >= p->last);
        if (p->calls > 0)
                ASSERT_TRUE(input_bytes > p->last);
        p->calls++;
        p->last = input_bytes;
}

TEST(progress) {
        const Ent e[] = { { "a", .fill = 1024 * 1024 }, { "b", .fill = 100 } };
        ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
        Progress p = {};
        ExtractStats stats;
        struct stat st;
        Root root;
        int fd = make_archive(e, ELEMENTSOF(e), ARCHIVE_FILTER_NONE);

        o.progress = on_progress;
        o.userdata = &p;
        root_new(&root);
        ASSERT_OK(extract_fd(&root, fd, &o, &stats, NULL));
        ASSERT_OK(fstat(fd, &st));
        ASSERT_EQ(p.last, st.st_size);
        ASSERT_EQ(stats.input_bytes, st.st_size);
        ASSERT_TRUE(p.calls >= 4);
        ASSERT_TRUE(p.calls <= (uint64_t) st.st_size / (64 * 1024) + 2);
        close(fd);
        root_free(&root);
}

TEST(whiteouts) {
        const Ent lower[] = {
                { "file", .data = "lower" },
                { "a/keep", .data = "keep" },
                { "a/gone", .data = "gone" },
                { "a/gone-dir/deep/x", .data = "x" },
                { "dir/x", .data = "x" },
                { "dir/y/z", .data = "z" },
                { "dir2/z", .data = "z" },
                { "o/sub/old", .data = "old" },
                { "t/child", .data = "c" },
                { "u", .data = "u" },
                { "k/lower", .data = "l" },
                { "sym", AE_IFLNK, "/a" },
                { "e/x", .data = "x" },
                { "f/x", .data = "x" },
        };
        const Ent upper[] = {
                { ".wh.file" },
                { "a/.wh.gone" },
                { "a/.wh.gone-dir" },
                { ".wh.does-not-exist" },
                { "nowhere/.wh.x" },
                /* Opaque after the layer's own entries in dir: those stay. */
                { "dir/new", .data = "new" },
                { "dir/.wh..wh..opq" },
                /* Opaque before them: they are made afterwards. */
                { "dir2/.wh..wh..opq" },
                { "dir2/new2", .data = "new2" },
                /* Made by this layer, then whited out in it: stays. */
                { "c", .data = "c" },
                { ".wh.c" },
                /* Kept below an opaque parent: the layer's file and the way to it. */
                { "o/sub/new", .data = "new" },
                { "o/.wh..wh..opq" },
                /* Through a symlink, the whiteout applies where it resolves. */
                { "sym/.wh.keep" },
                /* Type changes replace; a directory over a directory merges. */
                { "t", .data = "now a file" },
                { "u/", AE_IFDIR },
                { "k/", AE_IFDIR, .perm = 0700 },
                { "k/upper", .data = "u" },
                { ".wh..wh.plnk" },
                /* Emptied, then whited out itself: gone. */
                { "e/.wh..wh..opq" },
                { ".wh.e" },
                /* Repeats change nothing; f stays for what this layer put in it. */
                { "f/new", .data = "new" },
                { "f/.wh..wh..opq" },
                { "f/.wh..wh..opq" },
                { ".wh.f" },
                { ".wh.f" },
        };
        ExtractOptions o = EXTRACT_OPTIONS_DEFAULT;
        struct stat st;
        Root root;

        o.whiteouts = true;
        root_new(&root);
        ASSERT_OK(extract_ents(&root, lower, ELEMENTSOF(lower), &o, NULL));
        ASSERT_OK(extract_ents(&root, upper, ELEMENTSOF(upper), &o, NULL));

        ASSERT_FALSE(exists_in(&root, "file"));
        ASSERT_FALSE(exists_in(&root, "a/gone"));
        ASSERT_FALSE(exists_in(&root, "a/gone-dir"));
        ASSERT_FALSE(exists_in(&root, "a/keep")); /* by sym/.wh.keep */
        ASSERT_TRUE(exists_in(&root, "a"));
        ASSERT_FALSE(exists_in(&root, "nowhere"));
        assert_contents(&root, "dir/new", "new");
        ASSERT_FALSE(exists_in(&root, "dir/x"));
        ASSERT_FALSE(exists_in(&root, "dir/y"));
        assert_contents(&root, "dir2/new2", "new2");
        ASSERT_FALSE(exists_in(&root, "dir2/z"));
        assert_contents(&root, "c", "c");
        assert_contents(&root, "o/sub/new", "new");
        ASSERT_FALSE(exists_in(&root, "o/sub/old"));
        assert_contents(&root, "t", "now a file");
        ASSERT_OK(lstat_in(&root, "u", &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode));
        assert_contents(&root, "k/lower", "l");
        assert_contents(&root, "k/upper", "u");
        ASSERT_OK(lstat_in(&root, "k", &st));
        ASSERT_EQ(st.st_mode & 07777, 0700);
        ASSERT_FALSE(exists_in(&root, "e"));
        assert_contents(&root, "f/new", "new");
        ASSERT_FALSE(exists_in(&root, "f/x"));

        /* No whiteout is extracted. */
        ASSERT_FALSE(exists_in(&root, ".wh.file"));
        ASSERT_FALSE(exists_in(&root, "dir/.wh..wh..opq"));
        ASSERT_FALSE(exists_in(&root, ".wh..wh.plnk"));
        root_free(&root);

        /* Without the option, they are plain files. */
        const Ent plain[] = { { "x", .data = "x" }, { ".wh.x" } };
        root_new(&root);
        ASSERT_OK(extract_ents(&root, plain, ELEMENTSOF(plain), NULL, NULL));
        ASSERT_TRUE(exists_in(&root, "x"));
        ASSERT_TRUE(exists_in(&root, ".wh.x"));
        root_free(&root);

        /* A whiteout that names nothing, or is a directory on the way. */
        o.whiteouts = true;
        const Ent bad[] = { { ".wh.." } };
        expect(bad, ELEMENTSOF(bad), &o, -EBADMSG, "Entry '.wh..': invalid whiteout.");
        const Ent bad_dir[] = { { ".wh.x/y", .data = "y" } };
        expect(bad_dir, ELEMENTSOF(bad_dir), &o, -EBADMSG, "whiteout used as a directory");
}

int main(void) {
        if (geteuid() != 0) {
                fprintf(stderr, "Needs root (owners, devices, capabilities), skipping.\n");
                return 77;
        }

        setup_canary();
        RUN(compressions);
        RUN(trusted_keeps_setuid);
        RUN(traversal_stays_inside);
        RUN(hardlinks);
        RUN(devices);
        RUN(setuid_and_capabilities);
        RUN(duplicates);
        RUN(names);
        RUN(limits);
        RUN(bad_input);
        RUN(enospc);
        RUN(times);
        RUN(xattrs);
        RUN(progress);
        RUN(whiteouts);
        assert_canary_untouched();
        ASSERT_OK(rm_rf_at(AT_FDCWD, canary));
        return 0;
}
