/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <libmount.h>

#include "mount-setup.h"

int overlay_options_build(const char *lowerdir, const char *upperdir, const char *workdir, char **ret) {
        char *o = NULL;

        /* libmount does not escape: ',' and ':' would split the paths. */
        if (strpbrk(lowerdir, ",:\\") || strpbrk(upperdir, ",:\\") || strpbrk(workdir, ",:\\"))
                return -EINVAL;

        if (mnt_optstr_append_option(&o, "lowerdir", lowerdir) < 0 ||
            mnt_optstr_append_option(&o, "upperdir", upperdir) < 0 ||
            mnt_optstr_append_option(&o, "workdir", workdir) < 0) {
                free(o);
                return -ENOMEM;
        }

        *ret = o;
        return 0;
}

int mount_setup_root(const char *name, const char *rootfs, const char *overlay_options, Stage1Message *failure) {
        /* Slave, not private: the host's unmounts still reach us until the old root is gone. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return stage1_message_failed(failure, errno, "Failed to make the mounts of pod '%s' slaves: %m", name);

        if (overlay_options) {
                if (mount("overlay", rootfs, "overlay", 0, overlay_options) < 0)
                        return stage1_message_failed(failure, errno, "Failed to mount overlay for pod '%s': %m", name);
        } else {
                /* pivot_root() wants a mount point. */
                if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return stage1_message_failed(failure, errno, "Failed to bind mount the root of pod '%s': %m", name);
        }

        return 0;
}

/* The image decides what is in its tree: mount only onto real directories, never through
 * a symlink that could point anywhere on the host. Nothing runs in the tree yet, so
 * checking the one path component we mount on is enough. */
static int ensure_dir(int dir_fd, const char *path, mode_t mode) {
        struct stat st;

        if (mkdirat(dir_fd, path, mode) >= 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        if (fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

typedef struct ApiMount {
        const char *path; /* relative to the pod's root */
        const char *type;
        unsigned long flags;
        const char *options;
        mode_t mode;
} ApiMount;

#define MS_API (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static const ApiMount api_mounts[] = {
        /* The hardening issue adds read-only /proc/sys and masked /proc entries here. */
        { "proc",    "proc",   MS_API,                             NULL,                                             0555 },
        { "sys",     "sysfs",  MS_API | MS_RDONLY,                 NULL,                                             0555 },
        { "dev",     "tmpfs",  MS_NOSUID | MS_STRICTATIME,         "mode=0755,size=4m,nr_inodes=64k",                0755 },
        { "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,              "newinstance,ptmxmode=0666,mode=0620,gid=5",      0755 },
        { "dev/shm", "tmpfs",  MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=1777",                                   01777 },
        { "run",     "tmpfs",  MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=0755",                                   0755 },
        { "tmp",     "tmpfs",  MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=1777",                                   01777 },
};

static const struct {
        const char *name;
        unsigned major, minor;
} api_devices[] = {
        { "null",    1, 3 },
        { "zero",    1, 5 },
        { "full",    1, 7 },
        { "random",  1, 8 },
        { "urandom", 1, 9 },
        { "tty",     5, 0 },
};

static const struct {
        const char *name;
        const char *target;
} api_symlinks[] = {
        { "ptmx",   "pts/ptmx" },
        { "fd",     "/proc/self/fd" },
        { "stdin",  "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" },
};

static int make_device(int dev_fd, const char *rootfs, const char *name, unsigned major, unsigned minor) {
        _cleanup_free_ char *source = NULL, *target = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (mknodat(dev_fd, name, S_IFCHR | 0666, makedev(major, minor)) >= 0)
                return 0;
        if (errno != EPERM)
                return -errno;

        /* Without CAP_MKNOD (a user namespace, or a container that drops it), bind the
         * host's node onto a placeholder file instead. */
        fd = openat(dev_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
                return -errno;
        if (asprintf(&source, "/dev/%s", name) < 0 || asprintf(&target, "%s/dev/%s", rootfs, name) < 0)
                return -ENOMEM;
        return RET_NERRNO(mount(source, target, NULL, MS_BIND, NULL));
}

int mount_setup_api(const char *name, const char *rootfs, Stage1Message *failure) {
        _cleanup_close_ int root_fd = -EBADF, dev_fd = -EBADF;
        int r;

        root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return stage1_message_failed(failure, errno, "Failed to open the root of pod '%s': %m", name);

        for (size_t i = 0; i < ELEMENTSOF(api_mounts); i++) {
                const ApiMount *m = api_mounts + i;
                _cleanup_free_ char *target = NULL;

                r = ensure_dir(root_fd, m->path, m->mode);
                if (r < 0)
                        return stage1_message_failed(failure, r, "Failed to create /%s in pod '%s': %m", m->path, name);

                if (asprintf(&target, "%s/%s", rootfs, m->path) < 0)
                        return stage1_message_failed(failure, ENOMEM, "Out of memory.");
                if (mount(m->type, target, m->type, m->flags, m->options) < 0)
                        return stage1_message_failed(failure, errno, "Failed to mount %s on /%s in pod '%s': %m", m->type, m->path, name);

                if (strcmp(m->path, "dev") != 0)
                        continue;

                /* /dev is our fresh tmpfs from here on: the image cannot redirect anything in it. */
                dev_fd = openat(root_fd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dev_fd < 0)
                        return stage1_message_failed(failure, errno, "Failed to open /dev in pod '%s': %m", name);

                for (size_t j = 0; j < ELEMENTSOF(api_devices); j++) {
                        r = make_device(dev_fd, rootfs, api_devices[j].name, api_devices[j].major, api_devices[j].minor);
                        if (r < 0)
                                return stage1_message_failed(failure, r, "Failed to create /dev/%s in pod '%s': %m", api_devices[j].name, name);
                }
                for (size_t j = 0; j < ELEMENTSOF(api_symlinks); j++)
                        if (symlinkat(api_symlinks[j].target, dev_fd, api_symlinks[j].name) < 0)
                                return stage1_message_failed(failure, errno, "Failed to create /dev/%s in pod '%s': %m", api_symlinks[j].name, name);
        }

        return 0;
}

int mount_setup_pivot(const char *name, const char *rootfs, Stage1Message *failure) {
        /* pivot_root(".", ".") stacks the old root on top of the new one, so no directory
         * for it is needed in the image; detaching "." then drops it. */
        if (chdir(rootfs) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the root of pod '%s': %m", name);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return stage1_message_failed(failure, errno, "Failed to switch to the root of pod '%s': %m", name);
        if (umount2(".", MNT_DETACH) < 0)
                return stage1_message_failed(failure, errno, "Failed to detach the host's root from pod '%s': %m", name);
        if (chdir("/") < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the root of pod '%s': %m", name);

        return 0;
}
