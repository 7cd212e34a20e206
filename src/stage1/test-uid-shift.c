/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/posix_acl_xattr.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "macro.h"
#include "tests.h"
#include "uid-shift.h"

#define SHIFT 0x100000U
#define RANGE 0x10000U

#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20
#define ACL_NO_ID UINT32_MAX

#define CAP_MASK32(cap) (UINT32_C(1) << (cap))

#define ASSERT_OWNER(dir_fd, name, uid, gid)                                             \
        do {                                                                             \
                struct stat _st;                                                         \
                ASSERT_OK(RET_NERRNO(fstatat(dir_fd, name, &_st, AT_SYMLINK_NOFOLLOW))); \
                ASSERT_EQ(_st.st_uid, uid);                                              \
                ASSERT_EQ(_st.st_gid, gid);                                              \
        } while (0)

#define ASSERT_MODE(dir_fd, name, mode)                                                  \
        do {                                                                             \
                struct stat _st;                                                         \
                ASSERT_OK(RET_NERRNO(fstatat(dir_fd, name, &_st, AT_SYMLINK_NOFOLLOW))); \
                ASSERT_EQ(_st.st_mode & 07777, mode);                                    \
        } while (0)

/* What any chown(), chmod() or setxattr() would change. */
typedef struct Snap {
        uid_t uid;
        gid_t gid;
        mode_t mode;
        struct timespec ctime;
} Snap;

static Snap snap_at(int dir_fd, const char *name) {
        struct stat st;

        ASSERT_OK(RET_NERRNO(fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW)));
        return (Snap) { st.st_uid, st.st_gid, st.st_mode, st.st_ctim };
}

#define ASSERT_SNAP_EQ(a, b)                                   \
        do {                                                   \
                Snap _x = (a), _y = (b);                       \
                ASSERT_EQ(_x.uid, _y.uid);                     \
                ASSERT_EQ(_x.gid, _y.gid);                     \
                ASSERT_EQ(_x.mode, _y.mode);                   \
                ASSERT_EQ(_x.ctime.tv_sec, _y.ctime.tv_sec);   \
                ASSERT_EQ(_x.ctime.tv_nsec, _y.ctime.tv_nsec); \
        } while (0)

/* Not /tmp: a tmpfs may lack the xattrs under test. */
static char *tree_new(int *ret_fd) {
        char *p = strdup("/var/tmp/test-uid-shift-XXXXXX");

        ASSERT_TRUE(p);
        ASSERT_TRUE(mkdtemp(p));
        ASSERT_OK(RET_NERRNO(chmod(p, 0755)));
        *ret_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(*ret_fd >= 0);
        return p;
}

static void tree_free(char *p, int fd) {
        pid_t pid;
        int status;

        safe_close(fd);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                execlp("rm", "rm", "-rf", "--one-file-system", "--", p, (char *) NULL);
                _exit(127);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        free(p);
}

static char *path_join(const char *a, const char *b) {
        char *p = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", a, b) > 0);
        return p;
}

static void file_at(int dir_fd, const char *name, uid_t uid, gid_t gid, mode_t mode) {
        int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(RET_NERRNO(fchown(fd, uid, gid)));
        ASSERT_OK(RET_NERRNO(fchmod(fd, mode)));
        close(fd);
}

static void dir_at(int dir_fd, const char *name, uid_t uid, gid_t gid, mode_t mode) {
        ASSERT_OK(RET_NERRNO(mkdirat(dir_fd, name, 0700)));
        ASSERT_OK(RET_NERRNO(fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW)));
        ASSERT_OK(RET_NERRNO(fchmodat(dir_fd, name, mode, 0)));
}

static void symlink_at(int dir_fd, const char *name, const char *target, uid_t uid, gid_t gid) {
        ASSERT_OK(RET_NERRNO(symlinkat(target, dir_fd, name)));
        ASSERT_OK(RET_NERRNO(fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW)));
}

static void socket_at(const char *tree, const char *name) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        ASSERT_TRUE((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", tree, name) <
                    sizeof(sa.sun_path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(RET_NERRNO(bind(fd, (struct sockaddr *) &sa, sizeof(sa))));
        close(fd);
}

static unsigned fd_count(void) {
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        ASSERT_TRUE(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static ssize_t xattr_get_at(const char *tree, const char *name, const char *attr, void *buf, size_t size) {
        char *p = path_join(tree, name);
        ssize_t n = lgetxattr(p, attr, buf, size);

        free(p);
        return n < 0 ? -errno : n;
}

static int xattr_set_at(const char *tree, const char *name, const char *attr, const void *buf, size_t size) {
        char *p = path_join(tree, name);
        int r = lsetxattr(p, attr, buf, size, 0);

        free(p);
        return r < 0 ? -errno : 0;
}

TEST(arguments) {
        UidShiftStats s = { .n_inodes = 42 };
        unsigned fds = fd_count();
        char *tree;
        int fd, path_fd, file_fd;

        tree = tree_new(&fd);
        file_at(fd, "file", 0, 0, 0644);

        ASSERT_EQ(uid_shift_tree(fd, SHIFT, 0, &s), -EINVAL);
        ASSERT_EQ(uid_shift_tree(fd, 0, RANGE, &s), -EINVAL);
        ASSERT_EQ(uid_shift_tree(fd, RANGE - 1, RANGE, &s), -EINVAL);
        ASSERT_EQ(uid_shift_tree(fd, UINT32_MAX - RANGE + 1, RANGE, &s), -EINVAL);
        ASSERT_EQ(uid_shift_tree(-1, SHIFT, RANGE, &s), -EBADF);
        file_fd = openat(fd, "file", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(file_fd >= 0);
        ASSERT_EQ(uid_shift_tree(file_fd, SHIFT, RANGE, &s), -ENOTDIR);
        close(file_fd);
        /* Failures leave ret_stats and the tree alone. */
        ASSERT_EQ(s.n_inodes, 42);
        ASSERT_OWNER(fd, ".", 0, 0);
        ASSERT_OWNER(fd, "file", 0, 0);

        /* An O_PATH fd of the root will do, stays open, and stats are optional. */
        path_fd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(path_fd >= 0);
        ASSERT_OK(uid_shift_tree(path_fd, SHIFT, RANGE, NULL));
        ASSERT_OK(RET_NERRNO(fcntl(path_fd, F_GETFD)));
        ASSERT_OWNER(fd, ".", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "file", SHIFT, SHIFT);
        close(path_fd);

        /* The highest target range that keeps (uid_t) -1 out. */
        ASSERT_OK(uid_shift_tree(fd, UINT32_MAX - RANGE, RANGE, &s));
        ASSERT_EQ(s.n_inodes, 2);
        ASSERT_EQ(s.n_changed, 0);
        ASSERT_EQ(s.n_foreign, 2);

        tree_free(tree, fd);
        ASSERT_EQ(fd_count(), fds);
}

/* Every kind of inode, with owners below, inside, at both edges of and beyond the
 * ranges. */
static void owners_populate(const char *tree, int fd) {
        ASSERT_OK(RET_NERRNO(fchown(fd, 0, 0)));
        file_at(fd, "root", 0, 0, 0644);
        file_at(fd, "user", 1000, 1000, 0644);
        file_at(fd, "top", 65535, 65535, 0644);
        file_at(fd, "edge", 65536, 65536, 0644);
        file_at(fd, "far", 70000, 70000, 0644);
        file_at(fd, "below", SHIFT - 1, SHIFT - 1, 0644);
        file_at(fd, "above", SHIFT + RANGE, SHIFT + RANGE, 0644);
        file_at(fd, "shifted", SHIFT + 5, SHIFT + 5, 0644);
        file_at(fd, "mixed", 1000, 70000, 0644);
        file_at(fd, "half", SHIFT + 1, 0, 0644);
        dir_at(fd, "d", 1000, 1000, 0755);
        dir_at(fd, "d/sub", 0, 0, 0700);
        file_at(fd, "d/sub/deep", 2, 3, 0600);
        symlink_at(fd, "link", "root", 1000, 1000);
        ASSERT_OK(RET_NERRNO(mkfifoat(fd, "fifo", 0600)));
        socket_at(tree, "sock");
        ASSERT_OK(RET_NERRNO(mknodat(fd, "null", S_IFCHR | 0666, makedev(1, 3))));
        ASSERT_OK(RET_NERRNO(linkat(fd, "user", fd, "hard", 0)));
}

static void owners_check(int fd) {
        struct stat st;

        ASSERT_OWNER(fd, ".", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "root", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "user", SHIFT + 1000, SHIFT + 1000);
        ASSERT_OWNER(fd, "top", SHIFT + 65535, SHIFT + 65535);
        ASSERT_OWNER(fd, "edge", 65536, 65536);
        ASSERT_OWNER(fd, "far", 70000, 70000);
        ASSERT_OWNER(fd, "below", SHIFT - 1, SHIFT - 1);
        ASSERT_OWNER(fd, "above", SHIFT + RANGE, SHIFT + RANGE);
        ASSERT_OWNER(fd, "shifted", SHIFT + 5, SHIFT + 5);
        ASSERT_OWNER(fd, "mixed", SHIFT + 1000, 70000);
        ASSERT_OWNER(fd, "half", SHIFT + 1, SHIFT);
        ASSERT_OWNER(fd, "d", SHIFT + 1000, SHIFT + 1000);
        ASSERT_OWNER(fd, "d/sub", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "d/sub/deep", SHIFT + 2, SHIFT + 3);
        ASSERT_OWNER(fd, "link", SHIFT + 1000, SHIFT + 1000);
        ASSERT_OWNER(fd, "fifo", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "sock", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "null", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "hard", SHIFT + 1000, SHIFT + 1000);

        ASSERT_MODE(fd, "d", 0755);
        ASSERT_MODE(fd, "d/sub", 0700);
        ASSERT_MODE(fd, "d/sub/deep", 0600);
        ASSERT_MODE(fd, "fifo", 0600);
        ASSERT_MODE(fd, "null", 0666);
        ASSERT_OK(RET_NERRNO(fstatat(fd, "null", &st, AT_SYMLINK_NOFOLLOW)));
        ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
        ASSERT_OK(RET_NERRNO(fstatat(fd, "sock", &st, AT_SYMLINK_NOFOLLOW)));
        ASSERT_TRUE(S_ISSOCK(st.st_mode));
}

TEST(owners) {
        UidShiftStats s = {};
        unsigned fds = fd_count();
        char *tree;
        int fd;

        tree = tree_new(&fd);
        owners_populate(tree, fd);

        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));
        owners_check(fd);
        /* The root, 10 files, 3 below d, link, fifo, sock, null, and user once more as hard. */
        ASSERT_EQ(s.n_inodes, 19);
        /* All but edge, far, below, above, shifted, and the second name of user. */
        ASSERT_EQ(s.n_changed, 13);
        ASSERT_EQ(s.n_foreign, 5);
        ASSERT_EQ(s.n_mounts, 0);

        tree_free(tree, fd);
        ASSERT_EQ(fd_count(), fds);
}

TEST(setuid) {
        UidShiftStats s = {};
        Snap done;
        char *tree;
        int fd;

        tree = tree_new(&fd);

        /* What this test is about: chown() drops the bits. */
        file_at(fd, "premise", 0, 0, 06755);
        ASSERT_OK(RET_NERRNO(fchownat(fd, "premise", 1, 1, 0)));
        ASSERT_MODE(fd, "premise", 0755);
        ASSERT_OK(RET_NERRNO(unlinkat(fd, "premise", 0)));

        file_at(fd, "suid", 0, 0, 04755);
        file_at(fd, "sgid", 0, 1000, 02755);
        file_at(fd, "both", 1000, 1000, 06755);
        file_at(fd, "sgid-noexec", 0, 0, 02644);
        file_at(fd, "foreign-suid", 70000, 0, 04755);
        file_at(fd, "done", SHIFT, SHIFT, 04755);
        dir_at(fd, "sgid-dir", 0, 0, 02775);
        dir_at(fd, "sticky", 0, 0, 01777);
        done = snap_at(fd, "done");

        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));
        ASSERT_OWNER(fd, "suid", SHIFT, SHIFT);
        ASSERT_MODE(fd, "suid", 04755);
        ASSERT_OWNER(fd, "sgid", SHIFT, SHIFT + 1000);
        ASSERT_MODE(fd, "sgid", 02755);
        ASSERT_MODE(fd, "both", 06755);
        ASSERT_MODE(fd, "sgid-noexec", 02644);
        ASSERT_OWNER(fd, "foreign-suid", 70000, SHIFT);
        ASSERT_MODE(fd, "foreign-suid", 04755);
        ASSERT_SNAP_EQ(snap_at(fd, "done"), done);
        ASSERT_OWNER(fd, "sgid-dir", SHIFT, SHIFT);
        ASSERT_MODE(fd, "sgid-dir", 02775);
        ASSERT_MODE(fd, "sticky", 01777);
        ASSERT_EQ(s.n_inodes, 9);
        ASSERT_EQ(s.n_changed, 8);
        ASSERT_EQ(s.n_foreign, 1);

        tree_free(tree, fd);
}

static void cap_set_raw(const char *tree, const char *name, uint32_t permitted, uint32_t rootid) {
        struct vfs_ns_cap_data cap = {
                .magic_etc = htole32(VFS_CAP_REVISION_3 | VFS_CAP_FLAGS_EFFECTIVE),
                .data[0].permitted = htole32(permitted),
                .rootid = htole32(rootid),
        };

        ASSERT_OK(xattr_set_at(tree, name, "security.capability", &cap, sizeof(cap)));
}

static void cap_set_text(const char *tree, const char *name, const char *text) {
        char *p = path_join(tree, name);
        cap_t c = cap_from_text(text);

        ASSERT_TRUE(c);
        ASSERT_OK(RET_NERRNO(cap_set_file(p, c)));
        cap_free(c);
        free(p);
}

#define ASSERT_CAP_V3(tree, name, want_permitted, want_rootid)                                  \
        do {                                                                                    \
                struct vfs_ns_cap_data _c = {};                                                 \
                ASSERT_EQ(xattr_get_at(tree, name, "security.capability", &_c, sizeof(_c)),     \
                          XATTR_CAPS_SZ_3);                                                     \
                ASSERT_EQ(le32toh(_c.magic_etc), VFS_CAP_REVISION_3 | VFS_CAP_FLAGS_EFFECTIVE); \
                ASSERT_EQ(le32toh(_c.data[0].permitted), want_permitted);                       \
                ASSERT_EQ(le32toh(_c.data[0].inheritable), 0);                                  \
                ASSERT_EQ(le32toh(_c.data[1].permitted), 0);                                    \
                ASSERT_EQ(le32toh(_c.rootid), want_rootid);                                     \
        } while (0)

TEST(capability) {
        struct vfs_ns_cap_data raw = {};
        UidShiftStats s = {};
        cap_flag_value_t v;
        char *tree, *p;
        Snap done;
        cap_t c;
        int fd;

        tree = tree_new(&fd);

        /* The premises: libcap writes v2 for the host's root, and chown() drops it. */
        file_at(fd, "premise", 0, 0, 0755);
        cap_set_text(tree, "premise", "cap_net_raw=ep");
        ASSERT_EQ(xattr_get_at(tree, "premise", "security.capability", &raw, sizeof(raw)), XATTR_CAPS_SZ_2);
        ASSERT_OK(RET_NERRNO(fchownat(fd, "premise", 1, 1, 0)));
        ASSERT_EQ(xattr_get_at(tree, "premise", "security.capability", &raw, sizeof(raw)), -ENODATA);
        ASSERT_OK(RET_NERRNO(unlinkat(fd, "premise", 0)));

        file_at(fd, "ping", 0, 0, 0755);
        cap_set_text(tree, "ping", "cap_net_raw=ep");
        file_at(fd, "nsowned", 1000, 1000, 0755);
        cap_set_raw(tree, "nsowned", CAP_MASK32(CAP_CHOWN), 1000);
        file_at(fd, "foreign-root", 0, 0, 0755);
        cap_set_raw(tree, "foreign-root", CAP_MASK32(CAP_KILL), 70000);
        file_at(fd, "suid-cap", 0, 0, 04755);
        cap_set_text(tree, "suid-cap", "cap_net_bind_service=ep");
        file_at(fd, "done", SHIFT, SHIFT, 0755);
        cap_set_raw(tree, "done", CAP_MASK32(CAP_NET_RAW), SHIFT);
        done = snap_at(fd, "done");

        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));

        /* v2, the host root's, becomes the pod root's v3. */
        ASSERT_OWNER(fd, "ping", SHIFT, SHIFT);
        ASSERT_CAP_V3(tree, "ping", CAP_MASK32(CAP_NET_RAW), SHIFT);
        p = path_join(tree, "ping");
        c = cap_get_file(p);
        ASSERT_TRUE(c);
        ASSERT_EQ(cap_get_nsowner(c), SHIFT);
        ASSERT_OK(RET_NERRNO(cap_get_flag(c, CAP_NET_RAW, CAP_EFFECTIVE, &v)));
        ASSERT_EQ(v, CAP_SET);
        ASSERT_OK(RET_NERRNO(cap_get_flag(c, CAP_NET_RAW, CAP_PERMITTED, &v)));
        ASSERT_EQ(v, CAP_SET);
        ASSERT_OK(RET_NERRNO(cap_get_flag(c, CAP_SYS_ADMIN, CAP_PERMITTED, &v)));
        ASSERT_EQ(v, CAP_CLEAR);
        cap_free(c);
        free(p);

        ASSERT_OWNER(fd, "nsowned", SHIFT + 1000, SHIFT + 1000);
        ASSERT_CAP_V3(tree, "nsowned", CAP_MASK32(CAP_CHOWN), SHIFT + 1000);

        /* Foreign: kept as it was, across the chown(). */
        ASSERT_OWNER(fd, "foreign-root", SHIFT, SHIFT);
        ASSERT_CAP_V3(tree, "foreign-root", CAP_MASK32(CAP_KILL), 70000);

        ASSERT_MODE(fd, "suid-cap", 04755);
        ASSERT_CAP_V3(tree, "suid-cap", CAP_MASK32(CAP_NET_BIND_SERVICE), SHIFT);

        ASSERT_SNAP_EQ(snap_at(fd, "done"), done);
        ASSERT_CAP_V3(tree, "done", CAP_MASK32(CAP_NET_RAW), SHIFT);

        ASSERT_EQ(s.n_inodes, 6);
        ASSERT_EQ(s.n_changed, 5);
        ASSERT_EQ(s.n_foreign, 1);

        tree_free(tree, fd);
}

typedef struct AclEntry {
        uint16_t tag, perm;
        uint32_t id;
} AclEntry;

static size_t acl_build(const AclEntry *entries, size_t n, uint8_t *buf) {
        struct posix_acl_xattr_header h = { .a_version = htole32(POSIX_ACL_XATTR_VERSION) };

        memcpy(buf, &h, sizeof(h));
        for (size_t k = 0; k < n; k++) {
                struct posix_acl_xattr_entry e = {
                        .e_tag = htole16(entries[k].tag),
                        .e_perm = htole16(entries[k].perm),
                        .e_id = htole32(entries[k].id),
                };
                memcpy(buf + sizeof(h) + k * sizeof(e), &e, sizeof(e));
        }
        return sizeof(h) + n * sizeof(struct posix_acl_xattr_entry);
}

/* Sets an ACL and reads it back: the kernel keeps the entries as they are. */
static int acl_set(const char *tree, const char *name, const char *attr, const AclEntry *entries, size_t n) {
        uint8_t buf[256], back[256];
        size_t size = acl_build(entries, n, buf);
        int r;

        r = xattr_set_at(tree, name, attr, buf, size);
        if (r < 0)
                return r;
        ASSERT_EQ(xattr_get_at(tree, name, attr, back, sizeof(back)), size);
        ASSERT_TRUE(memcmp(buf, back, size) == 0);
        return 0;
}

#define ASSERT_ACL(tree, name, attr, entries)                                      \
        do {                                                                       \
                uint8_t _want[256], _got[256];                                     \
                size_t _n = acl_build(entries, ELEMENTSOF(entries), _want);        \
                ASSERT_EQ(xattr_get_at(tree, name, attr, _got, sizeof(_got)), _n); \
                ASSERT_TRUE(memcmp(_want, _got, _n) == 0);                         \
        } while (0)

TEST(acl) {
        const AclEntry file_acl[] = {
                { ACL_USER_OBJ, 6, ACL_NO_ID },
                { ACL_USER, 4, 0 },
                { ACL_USER, 6, 1000 },
                { ACL_USER, 4, 70000 },
                { ACL_GROUP_OBJ, 4, ACL_NO_ID },
                { ACL_GROUP, 4, 65535 },
                { ACL_GROUP, 4, SHIFT + 7 },
                { ACL_MASK, 6, ACL_NO_ID },
                { ACL_OTHER, 0, ACL_NO_ID },
        }, file_acl_shifted[] = {
                { ACL_USER_OBJ, 6, ACL_NO_ID },
                { ACL_USER, 4, SHIFT },
                { ACL_USER, 6, SHIFT + 1000 },
                { ACL_USER, 4, 70000 },
                { ACL_GROUP_OBJ, 4, ACL_NO_ID },
                { ACL_GROUP, 4, SHIFT + 65535 },
                { ACL_GROUP, 4, SHIFT + 7 },
                { ACL_MASK, 6, ACL_NO_ID },
                { ACL_OTHER, 0, ACL_NO_ID },
        }, dir_acl[] = {
                { ACL_USER_OBJ, 7, ACL_NO_ID },
                { ACL_USER, 5, 5 },
                { ACL_GROUP_OBJ, 5, ACL_NO_ID },
                { ACL_MASK, 5, ACL_NO_ID },
                { ACL_OTHER, 5, ACL_NO_ID },
        }, dir_acl_shifted[] = {
                { ACL_USER_OBJ, 7, ACL_NO_ID },
                { ACL_USER, 5, SHIFT + 5 },
                { ACL_GROUP_OBJ, 5, ACL_NO_ID },
                { ACL_MASK, 5, ACL_NO_ID },
                { ACL_OTHER, 5, ACL_NO_ID },
        }, dir_default[] = {
                { ACL_USER_OBJ, 7, ACL_NO_ID },
                { ACL_USER, 7, 1 },
                { ACL_GROUP_OBJ, 5, ACL_NO_ID },
                { ACL_GROUP, 5, 6 },
                { ACL_MASK, 7, ACL_NO_ID },
                { ACL_OTHER, 5, ACL_NO_ID },
        }, dir_default_shifted[] = {
                { ACL_USER_OBJ, 7, ACL_NO_ID },
                { ACL_USER, 7, SHIFT + 1 },
                { ACL_GROUP_OBJ, 5, ACL_NO_ID },
                { ACL_GROUP, 5, SHIFT + 6 },
                { ACL_MASK, 7, ACL_NO_ID },
                { ACL_OTHER, 5, ACL_NO_ID },
        }, fifo_acl[] = {
                { ACL_USER_OBJ, 6, ACL_NO_ID },
                { ACL_USER, 6, 1000 },
                { ACL_GROUP_OBJ, 4, ACL_NO_ID },
                { ACL_MASK, 6, ACL_NO_ID },
                { ACL_OTHER, 0, ACL_NO_ID },
        }, fifo_acl_shifted[] = {
                { ACL_USER_OBJ, 6, ACL_NO_ID },
                { ACL_USER, 6, SHIFT + 1000 },
                { ACL_GROUP_OBJ, 4, ACL_NO_ID },
                { ACL_MASK, 6, ACL_NO_ID },
                { ACL_OTHER, 0, ACL_NO_ID },
        };
        UidShiftStats s = {};
        char *tree;
        int fd, r;

        tree = tree_new(&fd);
        file_at(fd, "file", 0, 0, 0640);
        r = acl_set(tree, "file", "system.posix_acl_access", file_acl, ELEMENTSOF(file_acl));
        if (r == -EOPNOTSUPP) {
                fprintf(stderr, "skipped: no ACLs on %s\n", tree);
                tree_free(tree, fd);
                return;
        }
        ASSERT_OK(r);
        dir_at(fd, "dir", 1000, 1000, 02775);
        ASSERT_OK(acl_set(tree, "dir", "system.posix_acl_access", dir_acl, ELEMENTSOF(dir_acl)));
        ASSERT_OK(acl_set(tree, "dir", "system.posix_acl_default", dir_default, ELEMENTSOF(dir_default)));
        /* Reached through /proc/self/fd: no FIFO is ever opened. */
        ASSERT_OK(RET_NERRNO(mkfifoat(fd, "fifo", 0660)));
        ASSERT_OK(acl_set(tree, "fifo", "system.posix_acl_access", fifo_acl, ELEMENTSOF(fifo_acl)));
        /* Inherits dir's default ACL, with the ids of the image. */
        file_at(fd, "dir/inherited", 1, 1, 0640);

        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));
        ASSERT_ACL(tree, "file", "system.posix_acl_access", file_acl_shifted);
        ASSERT_OWNER(fd, "file", SHIFT, SHIFT);
        ASSERT_MODE(fd, "file", 0660);
        ASSERT_ACL(tree, "dir", "system.posix_acl_access", dir_acl_shifted);
        ASSERT_ACL(tree, "dir", "system.posix_acl_default", dir_default_shifted);
        ASSERT_MODE(fd, "dir", 02755);
        ASSERT_ACL(tree, "fifo", "system.posix_acl_access", fifo_acl_shifted);
        ASSERT_OWNER(fd, "dir/inherited", SHIFT + 1, SHIFT + 1);
        ASSERT_EQ(s.n_inodes, 5);
        ASSERT_EQ(s.n_changed, 5);
        /* user 70000 in file's ACL. */
        ASSERT_EQ(s.n_foreign, 1);

        tree_free(tree, fd);
}

TEST(symlinks_not_followed) {
        char *tree, *outside, *target, *rel = NULL;
        int fd, out_fd;
        UidShiftStats s = {};
        Snap before[4];
        char buf[PATH_MAX];
        ssize_t n;

        outside = tree_new(&out_fd);
        file_at(out_fd, "target", 5, 5, 0644);
        file_at(out_fd, "target-suid", 5, 5, 04755);
        dir_at(out_fd, "dir", 5, 5, 0755);
        file_at(out_fd, "dir/file", 0, 0, 0644);
        before[0] = snap_at(out_fd, "target");
        before[1] = snap_at(out_fd, "target-suid");
        before[2] = snap_at(out_fd, "dir");
        before[3] = snap_at(out_fd, "dir/file");

        tree = tree_new(&fd);
        target = path_join(outside, "target");
        ASSERT_TRUE(asprintf(&rel, "../%s/target", basename(outside)) > 0);
        symlink_at(fd, "abs", target, 0, 0);
        symlink_at(fd, "rel", rel, 0, 0);
        symlink_at(fd, "b", target, 1000, 0);
        symlink_at(fd, "a", "b", 0, 0);
        free(target);
        target = path_join(outside, "target-suid");
        symlink_at(fd, "suid", target, 0, 0);
        free(target);
        target = path_join(outside, "dir");
        symlink_at(fd, "dirlink", target, 0, 0);
        symlink_at(fd, "dangling", "/nonexistent/test-uid-shift", 0, 0);
        symlink_at(fd, "loop", "loop", 0, 0);

        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));

        /* Nothing outside was written to. */
        ASSERT_SNAP_EQ(snap_at(out_fd, "target"), before[0]);
        ASSERT_SNAP_EQ(snap_at(out_fd, "target-suid"), before[1]);
        ASSERT_SNAP_EQ(snap_at(out_fd, "dir"), before[2]);
        ASSERT_SNAP_EQ(snap_at(out_fd, "dir/file"), before[3]);
        /* The links themselves were shifted and still point where they did. */
        ASSERT_OWNER(fd, "abs", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "rel", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "a", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "b", SHIFT + 1000, SHIFT);
        ASSERT_OWNER(fd, "suid", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "dirlink", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "loop", SHIFT, SHIFT);
        n = readlinkat(fd, "rel", buf, sizeof(buf) - 1);
        ASSERT_TRUE(n > 0);
        buf[n] = 0;
        ASSERT_STREQ(buf, rel);
        ASSERT_EQ(s.n_inodes, 9);
        ASSERT_EQ(s.n_changed, 9);

        free(rel);
        free(target);
        tree_free(tree, fd);
        tree_free(outside, out_fd);
}

static const char *const mount_points[] = { "mnt", "sub/mnt", "dir-bind", "file-bind" };

/* In a child with its own mount namespace, so that no mount outlives a failure. */
static void mounts_not_crossed_child(const char *tree, const char *outside) {
        UidShiftStats s = {};
        char *p, *q;
        int fd, out_fd, mfd;

        ASSERT_OK(RET_NERRNO(unshare(CLONE_NEWNS)));
        ASSERT_OK(RET_NERRNO(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
        /* Opened in this namespace: an fd from before would still see the parent's mounts. */
        fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        out_fd = open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(out_fd >= 0);

        dir_at(fd, "mnt", 0, 0, 0755);
        dir_at(fd, "sub", 0, 0, 0755);
        dir_at(fd, "sub/mnt", 0, 0, 0755);
        dir_at(fd, "dir-bind", 0, 0, 0755);
        file_at(fd, "file-bind", 0, 0, 0644);
        file_at(fd, "plain", 0, 0, 0644);

        p = path_join(tree, "mnt");
        ASSERT_OK(RET_NERRNO(mount("tmpfs", p, "tmpfs", 0, "mode=0755,uid=0,gid=0")));
        mfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(mfd >= 0);
        file_at(mfd, "inner", 1000, 1000, 0644);
        close(mfd);
        free(p);

        p = path_join(tree, "sub/mnt");
        ASSERT_OK(RET_NERRNO(mount("tmpfs", p, "tmpfs", 0, "mode=0700,uid=0,gid=0")));
        free(p);

        /* Same file system as the tree: only the mount id tells them apart. */
        p = path_join(tree, "dir-bind");
        q = path_join(outside, "dir");
        ASSERT_OK(RET_NERRNO(mount(q, p, NULL, MS_BIND, NULL)));
        free(p);
        free(q);
        p = path_join(tree, "file-bind");
        q = path_join(outside, "file");
        ASSERT_OK(RET_NERRNO(mount(q, p, NULL, MS_BIND, NULL)));
        free(p);
        free(q);

        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));
        ASSERT_OWNER(fd, ".", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "plain", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "sub", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "mnt", 0, 0);
        ASSERT_OWNER(fd, "mnt/inner", 1000, 1000);
        ASSERT_OWNER(fd, "sub/mnt", 0, 0);
        ASSERT_OWNER(fd, "dir-bind", 5, 5);
        ASSERT_OWNER(fd, "dir-bind/x", 0, 0);
        ASSERT_OWNER(fd, "file-bind", 5, 5);
        ASSERT_OWNER(out_fd, "dir", 5, 5);
        ASSERT_OWNER(out_fd, "dir/x", 0, 0);
        ASSERT_OWNER(out_fd, "file", 5, 5);
        ASSERT_EQ(s.n_mounts, 4);
        ASSERT_EQ(s.n_inodes, 3);

        for (size_t k = 0; k < ELEMENTSOF(mount_points); k++) {
                p = path_join(tree, mount_points[k]);
                ASSERT_OK(RET_NERRNO(umount2(p, 0)));
                free(p);
        }
        /* What the mounts covered was out of sight. */
        ASSERT_OWNER(fd, "mnt", 0, 0);
        ASSERT_OWNER(fd, "sub/mnt", 0, 0);
        ASSERT_OWNER(fd, "dir-bind", 0, 0);
        ASSERT_OWNER(fd, "file-bind", 0, 0);
        _exit(0);
}

TEST(mounts_not_crossed) {
        char *tree, *outside;
        int fd, out_fd, status;
        pid_t pid;

        outside = tree_new(&out_fd);
        dir_at(out_fd, "dir", 5, 5, 0755);
        file_at(out_fd, "dir/x", 0, 0, 0644);
        file_at(out_fd, "file", 5, 5, 0644);
        tree = tree_new(&fd);

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0)
                mounts_not_crossed_child(tree, outside);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);

        tree_free(tree, fd);
        tree_free(outside, out_fd);
}

TEST(no_proc) {
        char *tree;
        int fd, status;
        pid_t pid;

        tree = tree_new(&fd);
        file_at(fd, "file", 0, 0, 0644);

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                ASSERT_OK(RET_NERRNO(unshare(CLONE_NEWNS)));
                ASSERT_OK(RET_NERRNO(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
                ASSERT_OK(RET_NERRNO(umount2("/proc", MNT_DETACH)));
                ASSERT_EQ(uid_shift_tree(fd, SHIFT, RANGE, NULL), -ENOSYS);
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
        /* Refused before anything was written. */
        ASSERT_OWNER(fd, ".", 0, 0);
        ASSERT_OWNER(fd, "file", 0, 0);

        tree_free(tree, fd);
}

static const char *const owner_names[] = {
        ".",    "root", "user",  "top",        "edge", "far",  "below", "above", "shifted", "mixed",
        "half", "d",    "d/sub", "d/sub/deep", "link", "fifo", "sock",  "null",  "hard",
};

TEST(idempotent) {
        Snap snaps[ELEMENTSOF(owner_names)];
        UidShiftStats first = {}, second = {}, resumed = {};
        char *tree;
        int fd;

        tree = tree_new(&fd);
        owners_populate(tree, fd);
        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &first));
        for (size_t k = 0; k < ELEMENTSOF(owner_names); k++)
                snaps[k] = snap_at(fd, owner_names[k]);

        /* Nothing is written the second time. */
        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &second));
        ASSERT_EQ(second.n_changed, 0);
        ASSERT_EQ(second.n_inodes, first.n_inodes);
        ASSERT_EQ(second.n_foreign, first.n_foreign);
        for (size_t k = 0; k < ELEMENTSOF(owner_names); k++)
                ASSERT_SNAP_EQ(snap_at(fd, owner_names[k]), snaps[k]);
        owners_check(fd);
        tree_free(tree, fd);

        /* A walk interrupted half way is finished by the next one. */
        tree = tree_new(&fd);
        owners_populate(tree, fd);
        ASSERT_OK(RET_NERRNO(fchownat(fd, "user", SHIFT + 1000, SHIFT + 1000, 0)));
        ASSERT_OK(RET_NERRNO(fchownat(fd, "d/sub", SHIFT, SHIFT, 0)));
        ASSERT_OK(RET_NERRNO(fchownat(fd, "d/sub/deep", SHIFT + 2, SHIFT + 3, 0)));
        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &resumed));
        owners_check(fd);
        ASSERT_EQ(resumed.n_inodes, first.n_inodes);
        ASSERT_EQ(resumed.n_changed, first.n_changed - 3);
        tree_free(tree, fd);
}

/* A pod planted symlinks to the host's files where a careless chown -R, chmod or setxattr
 * would follow them: at the final component, as directories to descend into, relative,
 * absolute, through /proc. The "host" is a directory of its own, so that a broken walker
 * damages nothing but it. */
TEST(symlink_attack) {
        const char *host_names[] = { ".", "shadow", "sudo", "lib", "lib/libc.so" };
        Snap before[ELEMENTSOF(host_names)];
        struct vfs_ns_cap_data cap = {}, cap_after = {};
        UidShiftStats s = {};
        char *tree, *host, *t = NULL;
        ssize_t cap_size;
        int fd, host_fd;

        host = tree_new(&host_fd);
        ASSERT_OK(RET_NERRNO(fchown(host_fd, 0, 0)));
        file_at(host_fd, "shadow", 0, 42, 0640);
        file_at(host_fd, "sudo", 0, 0, 04755);
        cap_set_text(host, "sudo", "cap_sys_admin=ep");
        dir_at(host_fd, "lib", 0, 0, 0755);
        file_at(host_fd, "lib/libc.so", 0, 0, 0755);
        for (size_t k = 0; k < ELEMENTSOF(host_names); k++)
                before[k] = snap_at(host_fd, host_names[k]);
        cap_size = xattr_get_at(host, "sudo", "security.capability", &cap, sizeof(cap));
        ASSERT_EQ(cap_size, XATTR_CAPS_SZ_2);

        tree = tree_new(&fd);
        symlink_at(fd, "etc", host, 0, 0);
        dir_at(fd, "usr", 0, 0, 0755);
        dir_at(fd, "usr/bin", 0, 0, 0755);
        ASSERT_TRUE(asprintf(&t, "%s/sudo", host) > 0);
        symlink_at(fd, "usr/bin/sudo", t, 0, 0);
        free(t);
        ASSERT_TRUE(asprintf(&t, "../%s/lib", basename(host)) > 0);
        symlink_at(fd, "lib", t, 0, 0);
        free(t);
        ASSERT_TRUE(asprintf(&t, "../../../%s/shadow", basename(host)) > 0);
        symlink_at(fd, "usr/bin/shadow", t, 0, 0);
        free(t);
        ASSERT_TRUE(asprintf(&t, "/proc/self/root%s/shadow", host) > 0);
        symlink_at(fd, "usr/proc-shadow", t, 0, 0);
        free(t);

        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));

        for (size_t k = 0; k < ELEMENTSOF(host_names); k++)
                ASSERT_SNAP_EQ(snap_at(host_fd, host_names[k]), before[k]);
        ASSERT_EQ(xattr_get_at(host, "sudo", "security.capability", &cap_after, sizeof(cap_after)),
                  cap_size);
        ASSERT_TRUE(memcmp(&cap, &cap_after, (size_t) cap_size) == 0);
        ASSERT_OWNER(fd, "etc", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "lib", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "usr/bin/sudo", SHIFT, SHIFT);
        ASSERT_OWNER(fd, "usr/proc-shadow", SHIFT, SHIFT);
        /* The root, usr, usr/bin and 5 symlinks: nothing more was reached. */
        ASSERT_EQ(s.n_inodes, 8);

        tree_free(tree, fd);
        tree_free(host, host_fd);
}

TEST(depth_limit) {
        struct rlimit old, rl;
        UidShiftStats s = {};
        unsigned fds;
        char *tree;
        int fd, cur;

        /* One fd per level. */
        ASSERT_OK(RET_NERRNO(getrlimit(RLIMIT_NOFILE, &old)));
        if (old.rlim_max != RLIM_INFINITY && old.rlim_max < UID_SHIFT_DEPTH_MAX + 64) {
                fprintf(stderr, "skipped: RLIMIT_NOFILE is %ju\n", (uintmax_t) old.rlim_max);
                return;
        }
        rl = old;
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < UID_SHIFT_DEPTH_MAX + 64)
                rl.rlim_cur = UID_SHIFT_DEPTH_MAX + 64;
        ASSERT_OK(RET_NERRNO(setrlimit(RLIMIT_NOFILE, &rl)));
        fds = fd_count();

        tree = tree_new(&fd);
        cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        ASSERT_TRUE(cur >= 0);
        for (unsigned k = 0; k < UID_SHIFT_DEPTH_MAX; k++) {
                int next;

                ASSERT_OK(RET_NERRNO(mkdirat(cur, "d", 0755)));
                next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT_TRUE(next >= 0);
                close(cur);
                cur = next;
        }
        file_at(cur, "f", 1, 1, 0644);

        /* As deep as allowed. */
        ASSERT_OK(uid_shift_tree(fd, SHIFT, RANGE, &s));
        ASSERT_EQ(s.n_inodes, UID_SHIFT_DEPTH_MAX + 2);
        ASSERT_OWNER(cur, ".", SHIFT, SHIFT);
        ASSERT_OWNER(cur, "f", SHIFT + 1, SHIFT + 1);

        /* One more level is refused, before it is touched. */
        dir_at(cur, "d", 0, 0, 0755);
        s.n_inodes = 42;
        ASSERT_EQ(uid_shift_tree(fd, SHIFT, RANGE, &s), -ELOOP);
        ASSERT_EQ(s.n_inodes, 42);
        ASSERT_OWNER(cur, "d", 0, 0);
        ASSERT_EQ(fd_count(), fds + 2);

        close(cur);
        tree_free(tree, fd);
        ASSERT_OK(RET_NERRNO(setrlimit(RLIMIT_NOFILE, &old)));
}

int main(void) {
        if (geteuid() != 0) {
                fprintf(stderr, "skipped: needs root\n");
                return 77;
        }
        umask(0);

        RUN(arguments);
        RUN(owners);
        RUN(setuid);
        RUN(capability);
        RUN(acl);
        RUN(symlinks_not_followed);
        RUN(mounts_not_crossed);
        RUN(no_proc);
        RUN(idempotent);
        RUN(symlink_attack);
        RUN(depth_limit);
        return 0;
}
