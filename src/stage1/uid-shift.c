/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/limits.h>
#include <linux/posix_acl_xattr.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "macro.h"
#include "uid-shift.h"

#define XATTR_NAME_CAPS "security.capability"
#define XATTR_NAME_ACL_ACCESS "system.posix_acl_access"
#define XATTR_NAME_ACL_DEFAULT "system.posix_acl_default"

/* The tags of the entries that carry an id (POSIX.1e, as libacl has them). */
#define ACL_TAG_USER 0x02
#define ACL_TAG_GROUP 0x08

#define STATX_NEEDED (STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_INO)

/* Enough for a few dozen entries per getdents64(): a deep tree holds one per level. */
#define DIR_BUF_SIZE 4096

#define PROC_FD_PATH_MAX (sizeof("/proc/self/fd/") + 11)

typedef struct Walk {
        uint32_t shift, range;
        bool have_mnt_id;
        uint64_t mnt_id;
        uint32_t dev_major, dev_minor;
        uint8_t *xattr_buf; /* XATTR_SIZE_MAX */
        UidShiftStats stats;
} Walk;

typedef struct Inode {
        int fd; /* O_RDONLY for directories, O_PATH for the rest */
        bool by_path; /* O_PATH: xattrs and chmod() go through /proc/self/fd */
        struct statx sx;
} Inode;

typedef struct DirFrame {
        struct DirFrame *parent;
        int fd;
        unsigned depth;
        size_t pos, len;
        uint8_t buf[DIR_BUF_SIZE] __attribute__((aligned(8)));
} DirFrame;

static void proc_fd_path(int fd, char buf[static PROC_FD_PATH_MAX]) {
        snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%i", fd);
}

static ssize_t inode_getxattr(const Inode *i, const char *name, void *buf, size_t size) {
        char p[PROC_FD_PATH_MAX];
        ssize_t n;

        if (i->by_path) {
                proc_fd_path(i->fd, p);
                n = getxattr(p, name, buf, size);
        } else
                n = fgetxattr(i->fd, name, buf, size);
        return n < 0 ? negative_errno() : n;
}

/* No such xattr, or none on this file system. */
static bool xattr_absent(ssize_t n) {
        return n == -ENODATA || n == -EOPNOTSUPP;
}

static int inode_setxattr(const Inode *i, const char *name, const void *buf, size_t size) {
        char p[PROC_FD_PATH_MAX];

        if (i->by_path) {
                proc_fd_path(i->fd, p);
                return RET_NERRNO(setxattr(p, name, buf, size, 0));
        }
        return RET_NERRNO(fsetxattr(i->fd, name, buf, size, 0));
}

static int inode_chmod(const Inode *i, mode_t mode) {
        char p[PROC_FD_PATH_MAX];

        if (i->by_path) {
                proc_fd_path(i->fd, p);
                return RET_NERRNO(chmod(p, mode));
        }
        return RET_NERRNO(fchmod(i->fd, mode));
}

static int inode_stat(int fd, struct statx *ret) {
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
                  STATX_NEEDED | STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if ((sx.stx_mask & STATX_NEEDED) != STATX_NEEDED)
                return -EOPNOTSUPP;
        *ret = sx;
        return 0;
}

/* The walk reaches the xattrs of non-directories through /proc: make sure it is there. */
static int proc_fd_check(int fd, const struct statx *sx) {
        char p[PROC_FD_PATH_MAX];
        struct statx psx;

        proc_fd_path(fd, p);
        if (statx(AT_FDCWD, p, AT_STATX_SYNC_AS_STAT, STATX_INO, &psx) < 0)
                return errno == ENOENT ? -ENOSYS : negative_errno();
        if (psx.stx_ino != sx->stx_ino || psx.stx_dev_major != sx->stx_dev_major ||
            psx.stx_dev_minor != sx->stx_dev_minor)
                return -ENOSYS;
        return 0;
}

static bool walk_same_mount(const Walk *w, const struct statx *sx) {
        if (w->have_mnt_id && (sx->stx_mask & STATX_MNT_ID))
                return sx->stx_mnt_id == w->mnt_id;
        /* Overlayfs reports its layers' devices for non-directories: compare directories only. */
        if (!S_ISDIR(sx->stx_mode))
                return true;
        return sx->stx_dev_major == w->dev_major && sx->stx_dev_minor == w->dev_minor;
}

/* An id of the pod moves into the target range; one already there stays, and so does
 * anything else, which the pod sees as nobody. */
static uint32_t id_shift(const Walk *w, uint32_t id, bool *foreign) {
        if (id < w->range)
                return id + w->shift;
        if (id < w->shift || id - w->shift >= w->range)
                *foreign = true;
        return id;
}

static int acl_shift(Walk *w, const Inode *i, const char *name, bool *changed, bool *foreign) {
        struct posix_acl_xattr_header *h = (struct posix_acl_xattr_header *) w->xattr_buf;
        struct posix_acl_xattr_entry *e = (struct posix_acl_xattr_entry *) (h + 1);
        bool modified = false;
        size_t n_entries;
        ssize_t n;
        int r;

        n = inode_getxattr(i, name, w->xattr_buf, XATTR_SIZE_MAX);
        if (xattr_absent(n))
                return 0;
        if (n < 0)
                return (int) n;
        if ((size_t) n < sizeof(*h) || ((size_t) n - sizeof(*h)) % sizeof(*e) != 0 ||
            le32toh(h->a_version) != POSIX_ACL_XATTR_VERSION)
                return -EBADMSG;

        n_entries = ((size_t) n - sizeof(*h)) / sizeof(*e);
        for (size_t k = 0; k < n_entries; k++) {
                uint16_t tag = le16toh(e[k].e_tag);
                uint32_t id, shifted;

                if (tag != ACL_TAG_USER && tag != ACL_TAG_GROUP)
                        continue;
                id = le32toh(e[k].e_id);
                shifted = id_shift(w, id, foreign);
                if (shifted != id) {
                        e[k].e_id = htole32(shifted);
                        modified = true;
                }
        }
        if (!modified)
                return 0;

        r = inode_setxattr(i, name, w->xattr_buf, (size_t) n);
        if (r < 0)
                return r;
        *changed = true;
        return 0;
}

/* security.capability as the kernel shows it to the host's root: v2, or v3 with a root id
 * other than 0 (a v3 one owned by root 0 reads as v2). Returns its size, or 0 for none. */
static int cap_read(const Inode *i, struct vfs_ns_cap_data *ret) {
        struct vfs_ns_cap_data cap = {};
        uint32_t revision;
        ssize_t n;

        n = inode_getxattr(i, XATTR_NAME_CAPS, &cap, sizeof(cap));
        /* -EINVAL: a v1 one (before Linux 2.6.25) or a broken one, which no one can write
         * back: chown() drops it. */
        if (xattr_absent(n) || n == -EINVAL)
                return 0;
        if (n < 0)
                return (int) n;

        revision = le32toh(cap.magic_etc) & VFS_CAP_REVISION_MASK;
        if (!((size_t) n == XATTR_CAPS_SZ_2 && revision == VFS_CAP_REVISION_2) &&
            !((size_t) n == XATTR_CAPS_SZ_3 && revision == VFS_CAP_REVISION_3))
                return -EBADMSG;

        *ret = cap;
        return (int) n;
}

/* Always v3: a v2 capability belongs to root 0 (it counts for every user namespace), which
 * becomes the pod's root like any other owner, as an idmapped mount would show it. Returns
 * whether it differs from what is on disk. */
static bool cap_shift(const Walk *w, const struct vfs_ns_cap_data *cap, size_t size,
                      struct vfs_ns_cap_data *ret, bool *foreign) {
        uint32_t rootid = size == XATTR_CAPS_SZ_3 ? le32toh(cap->rootid) : 0, shifted;

        shifted = id_shift(w, rootid, foreign);
        *ret = (struct vfs_ns_cap_data) {
                .magic_etc =
                        htole32(VFS_CAP_REVISION_3 | (le32toh(cap->magic_etc) & VFS_CAP_FLAGS_EFFECTIVE)),
                .rootid = htole32(shifted),
        };
        memcpy(ret->data, cap->data, sizeof(ret->data));
        return size != XATTR_CAPS_SZ_3 || shifted != rootid;
}

static int inode_shift(Walk *w, const Inode *i) {
        const struct statx *sx = &i->sx;
        struct vfs_ns_cap_data cap = {}, cap_new = {};
        bool changed = false, foreign = false, chowned = false, cap_changed = false;
        uint32_t uid, gid;
        int cap_size = 0, r;

        uid = id_shift(w, sx->stx_uid, &foreign);
        gid = id_shift(w, sx->stx_gid, &foreign);

        /* Symlinks have neither ACLs nor capabilities, and their mode is fixed. */
        if (!S_ISLNK(sx->stx_mode)) {
                /* chown() removes it: read it first. */
                cap_size = cap_read(i, &cap);
                if (cap_size < 0)
                        return cap_size;
                if (cap_size > 0)
                        cap_changed = cap_shift(w, &cap, (size_t) cap_size, &cap_new, &foreign);

                r = acl_shift(w, i, XATTR_NAME_ACL_ACCESS, &changed, &foreign);
                if (r < 0)
                        return r;
                if (S_ISDIR(sx->stx_mode)) {
                        r = acl_shift(w, i, XATTR_NAME_ACL_DEFAULT, &changed, &foreign);
                        if (r < 0)
                                return r;
                }
        }

        if (uid != sx->stx_uid || gid != sx->stx_gid) {
                if (fchownat(i->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();
                chowned = changed = true;
        }

        /* chown() clears setuid and setgid, and so may a new access ACL. */
        if (changed && !S_ISLNK(sx->stx_mode) && (sx->stx_mode & (S_ISUID | S_ISGID))) {
                r = inode_chmod(i, sx->stx_mode & 07777);
                if (r < 0)
                        return r;
        }

        if (cap_size > 0 && (chowned || cap_changed)) {
                r = inode_setxattr(i, XATTR_NAME_CAPS, &cap_new, sizeof(cap_new));
                if (r < 0)
                        return r;
                changed = changed || cap_changed;
        }

        w->stats.n_inodes++;
        w->stats.n_changed += changed;
        w->stats.n_foreign += foreign;
        return 0;
}

/* Shifts the entry name of a directory at depth. Returns in *ret_dir_fd a directory to walk
 * next, or -EBADF. */
static int walk_entry(Walk *w, int dir_fd, unsigned depth, const char *name, int *ret_dir_fd) {
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        Inode i = { .by_path = true };
        int r;

        /* O_PATH opens nothing: no device or FIFO is touched. */
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        return negative_errno();
                *ret_dir_fd = -EBADF;
                return 0;
        }

        r = inode_stat(fd, &i.sx);
        if (r < 0)
                return r;
        if (!walk_same_mount(w, &i.sx)) {
                w->stats.n_mounts++;
                *ret_dir_fd = -EBADF;
                return 0;
        }

        i.fd = fd;
        if (S_ISDIR(i.sx.stx_mode)) {
                if (depth >= UID_SHIFT_DEPTH_MAX)
                        return -ELOOP;
                dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return negative_errno();
                i = (Inode) { .fd = dfd, .sx = i.sx };
        }

        r = inode_shift(w, &i);
        if (r < 0)
                return r;

        *ret_dir_fd = TAKE_FD(dfd);
        return 0;
}

static int dir_push(DirFrame **stack, int fd) {
        DirFrame *f;

        f = malloc(sizeof(DirFrame));
        if (!f) {
                safe_close(fd);
                return -ENOMEM;
        }
        *f = (DirFrame) {
                .parent = *stack,
                .fd = fd,
                .depth = *stack ? (*stack)->depth + 1 : 0,
        };
        *stack = f;
        return 0;
}

static void dir_pop(DirFrame **stack) {
        DirFrame *f = *stack;

        *stack = f->parent;
        safe_close(f->fd);
        free(f);
}

static void dir_stack_freep(DirFrame **stack) {
        while (*stack)
                dir_pop(stack);
}

int uid_shift_tree(int root_fd, uint32_t shift, uint32_t range, UidShiftStats *ret_stats) {
        _cleanup_(dir_stack_freep) DirFrame *stack = NULL;
        _cleanup_free_ uint8_t *xattr_buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        Inode root = {};
        Walk w;
        int r;

        if (root_fd < 0)
                return -EBADF;
        /* Both ranges must be disjoint, and (uid_t) -1 stay out of the target. */
        if (range == 0 || shift < range || shift > UINT32_MAX - range)
                return -EINVAL;

        xattr_buf = malloc(XATTR_SIZE_MAX);
        if (!xattr_buf)
                return -ENOMEM;

        fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = inode_stat(fd, &root.sx);
        if (r < 0)
                return r;
        r = proc_fd_check(fd, &root.sx);
        if (r < 0)
                return r;

        w = (Walk) {
                .shift = shift,
                .range = range,
                .have_mnt_id = root.sx.stx_mask & STATX_MNT_ID,
                .mnt_id = root.sx.stx_mnt_id,
                .dev_major = root.sx.stx_dev_major,
                .dev_minor = root.sx.stx_dev_minor,
                .xattr_buf = xattr_buf,
        };

        root.fd = fd;
        r = inode_shift(&w, &root);
        if (r < 0)
                return r;
        r = dir_push(&stack, TAKE_FD(fd));
        if (r < 0)
                return r;

        while (stack) {
                DirFrame *d = stack;
                struct dirent64 *de;
                int child_fd;

                if (d->pos >= d->len) {
                        ssize_t n = getdents64(d->fd, d->buf, sizeof(d->buf));

                        if (n < 0)
                                return negative_errno();
                        if (n == 0) {
                                dir_pop(&stack);
                                continue;
                        }
                        d->pos = 0;
                        d->len = (size_t) n;
                }

                de = (struct dirent64 *) (d->buf + d->pos);
                d->pos += de->d_reclen;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;

                r = walk_entry(&w, d->fd, d->depth, de->d_name, &child_fd);
                if (r < 0)
                        return r;
                if (child_fd >= 0) {
                        r = dir_push(&stack, child_fd);
                        if (r < 0)
                                return r;
                }
        }

        if (ret_stats)
                *ret_stats = w.stats;
        return 0;
}
