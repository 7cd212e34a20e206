/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bind-setup.h"
#include "macro.h"

int bind_source_open(const BindMount *b, struct stat *ret_st) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = bind_source_open_path(b->source);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((uint64_t) st.st_dev != b->dev || (uint64_t) st.st_ino != b->ino)
                return -ESTALE;
        if (b->directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
                return -EMEDIUMTYPE;
        if (b->owner_uid != (uid_t) -1 && st.st_uid != b->owner_uid)
                return -EPERM;

        *ret_st = st;
        return TAKE_FD(fd);
}

const char *bind_source_open_strerror(int r) {
        switch (r) {
        case -ELOOP:
                return "its path now leads through a symlink";
        case -ENOENT:
                return "it no longer exists";
        case -ESTALE:
                return "it was replaced since the pod was created (another inode at its path)";
        case -EMEDIUMTYPE:
                return "it is no longer of the type it was";
        case -EPERM:
                return "it is no longer owned by the user it was allowed for";
        default:
                return strerror(-r);
        }
}

int bind_source_clone(const BindMount *b, int source_fd) {
        unsigned recursive = b->recursive ? AT_RECURSIVE : 0;
        /* Private: a clone joins its source's peer group, and the pod's mounts on it would
         * propagate back to the host. */
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (b->read_only ? MOUNT_ATTR_RDONLY : 0),
                .propagation = MS_PRIVATE,
        };
        _cleanup_close_ int fd = -EBADF;

        fd = open_tree(source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | recursive);
        if (fd < 0)
                return -errno;
        if (mount_setattr(fd, "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int open_in_tree(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_PATH | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* Creates the last component of path (relative to root_fd) in the directory its parent
 * resolves to inside the tree. Something of that name already there is fine: resolving it
 * decides what it is. */
static int create_in_tree(int root_fd, char *path, bool directory) {
        _cleanup_close_ int parent_fd = -EBADF;
        char *slash = strrchr(path, '/');
        const char *name = path;
        int r;

        if (slash) {
                *slash = 0;
                parent_fd = open_in_tree(root_fd, path, O_DIRECTORY);
                *slash = '/';
                if (parent_fd < 0)
                        return parent_fd;
                name = slash + 1;
        }

        if (directory)
                r = RET_NERRNO(mkdirat(parent_fd >= 0 ? parent_fd : root_fd, name, 0755));
        else {
                int fd = openat(parent_fd >= 0 ? parent_fd : root_fd, name,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                r = fd < 0 ? -errno : 0;
                safe_close(fd);
        }
        return r == -EEXIST ? 0 : r;
}

int bind_attach(const char *root, const char *destination, bool directory, bool recursive, int tree_fd, bool clone) {
        _cleanup_close_ int root_fd = -EBADF, target_fd = -EBADF, clone_fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct statfs sfs;
        struct stat st;
        int r;

        if (destination[0] != '/' || !destination[1])
                return -EINVAL;
        path = strdup(destination + 1);
        if (!path)
                return -ENOMEM;
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;

        /* Component by component, each made where its parent resolved to. */
        for (char *p = path;;) {
                char *slash = strchr(p, '/');
                bool last = !slash;
                int fd;

                if (slash)
                        *slash = 0;
                fd = open_in_tree(root_fd, path, last && !directory ? 0 : O_DIRECTORY);
                if (fd == -ENOENT) {
                        r = create_in_tree(root_fd, path, !last || directory);
                        if (r < 0)
                                return r;
                        fd = open_in_tree(root_fd, path, last && !directory ? 0 : O_DIRECTORY);
                }
                if (fd < 0)
                        return fd;
                if (last) {
                        target_fd = fd;
                        break;
                }
                safe_close(fd);
                *slash = '/';
                p = slash + 1;
        }

        if (fstat(target_fd, &st) < 0 || fstatfs(target_fd, &sfs) < 0)
                return -errno;
        if (!directory && !S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EMEDIUMTYPE;
        /* Through a symlink of the image onto the pod's kernel file systems. */
        if (IN_SET((unsigned long) sfs.f_type, PROC_SUPER_MAGIC, SYSFS_MAGIC, DEVPTS_SUPER_MAGIC))
                return -EPERM;

        if (clone) {
                clone_fd = open_tree(tree_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                                                  (recursive ? AT_RECURSIVE : 0));
                if (clone_fd < 0)
                        return -errno;
                tree_fd = clone_fd;
        }
        return RET_NERRNO(move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
}
