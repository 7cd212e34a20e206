/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
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

int mount_setup_root(const char *name, const char *rootfs, const char *source, const char *overlay_options, int tree_fd,
                     Stage1Message *failure) {
        /* Slave, not private: the host's unmounts still reach us until the old root is gone. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return stage1_message_failed(failure, errno, "Failed to make the mounts of pod '%s' slaves: %m", name);

        if (tree_fd >= 0) {
                if (move_mount(tree_fd, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return stage1_message_failed(failure, errno, "Failed to attach the idmapped %s of pod '%s': %m",
                                                     overlay_options ? "image" : "root", name);
                /* Overlayfs stacks on its own lower layer: lowerdir was resolved to it first. */
                if (overlay_options && mount("overlay", rootfs, "overlay", 0, overlay_options) < 0)
                        return stage1_message_failed(failure, errno, "Failed to mount overlay for pod '%s': %m", name);
                return 0;
        }

        if (overlay_options) {
                if (mount("overlay", rootfs, "overlay", 0, overlay_options) < 0)
                        return stage1_message_failed(failure, errno, "Failed to mount overlay for pod '%s': %m", name);
        } else {
                /* pivot_root() wants a mount point. */
                if (mount(source ?: rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return stage1_message_failed(failure, errno, "Failed to bind mount the root of pod '%s': %m", name);
        }

        return 0;
}

int mount_setup_init_root(const char *name, char * const *app_names, Stage1Message *failure) {
        _cleanup_close_ int fd = -EBADF;

        /* Only the init enters it; the apps each pivot into their own root. */
        if (mount("tmpfs", POD_INIT_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=64k,nr_inodes=256") < 0)
                return stage1_message_failed(failure, errno, "Failed to mount the init's root of pod '%s': %m", name);
        fd = open(POD_INIT_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return stage1_message_failed(failure, errno, "Failed to open the init's root of pod '%s': %m", name);
        if (mkdirat(fd, POD_INIT_APPS_DIR, 0700) < 0)
                return stage1_message_failed(failure, errno, "Failed to create the apps' directory of pod '%s': %m", name);
        for (char * const *n = app_names; *n; n++) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, POD_INIT_APPS_DIR "/%s", *n) < 0)
                        return stage1_message_failed(failure, ENOMEM, "Out of memory.");
                /* The mode of the directory below an app's root does not matter. */
                if (mkdirat(fd, path, 0700) < 0)
                        return stage1_message_failed(failure, errno, "Failed to create the mount point of app '%s' in pod '%s': %m",
                                                     *n, name);
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
        { "proc",    "proc",   MS_API,                             NULL,                                             0555 },
        { "sys",     "sysfs",  MS_API | MS_RDONLY,                 NULL,                                             0555 },
        { "dev",     "tmpfs",  MS_NOSUID | MS_STRICTATIME,         "mode=0755,size=4m,nr_inodes=64k",                0755 },
        { "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,              "newinstance,ptmxmode=0666,mode=0620,gid=5",      0755 },
        { "dev/shm", "tmpfs",  MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=1777",                                   01777 },
        /* Needs the pod's IPC namespace, which it has: queues are per namespace. */
        { "dev/mqueue", "mqueue", MS_API,                          NULL,                                             0755 },
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

const ProtectPath protect_paths[] = {
        /* Tunables of the whole machine; the pod reads them, never writes. */
        { "proc/sys",                     false },
        { "proc/apm",                     false },
        { "proc/bus",                     false },
        { "proc/fs",                      false },
        { "proc/irq",                     false },
        /* Kernel addresses, memory, keys, timers and logs of the host, and its reboot button. */
        { "proc/config.gz",               true },
        { "proc/kallsyms",                true },
        { "proc/kcore",                   true },
        { "proc/keys",                    true },
        { "proc/kmsg",                    true },
        { "proc/latency_stats",           true },
        { "proc/sched_debug",             true },
        { "proc/sysrq-trigger",           true },
        { "proc/timer_list",              true },
        { "proc/timer_stats",             true },
        /* The host's hardware. */
        { "proc/acpi",                    true },
        { "proc/asound",                  true },
        { "proc/scsi",                    true },
        { "sys/firmware",                 true },
        /* Energy counters, a side channel into other processes (PLATYPUS). */
        { "sys/devices/virtual/powercap", true },
};
const size_t protect_paths_n = ELEMENTSOF(protect_paths);

static const char *const protect_action_table[_PROTECT_ACTION_MAX] = {
        [PROTECT_SKIP]      = "skip",
        [PROTECT_MASK_FILE] = "mask-file",
        [PROTECT_MASK_DIR]  = "mask-dir",
        [PROTECT_READ_ONLY] = "read-only",
};

const char *protect_action_to_string(ProtectAction a) {
        if (a < 0 || a >= _PROTECT_ACTION_MAX)
                return NULL;
        return protect_action_table[a];
}

ProtectAction protect_path_action(int root_fd, const ProtectPath *p) {
        struct stat st;

        if (fstatat(root_fd, p->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? PROTECT_SKIP : -errno;
        /* None of these is a symlink on a kernel file system; mount(2) would follow one. */
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (!p->mask)
                return PROTECT_READ_ONLY;
        return S_ISDIR(st.st_mode) ? PROTECT_MASK_DIR : PROTECT_MASK_FILE;
}

int os_release_find(int root_fd, const char **ret) {
        static const char *const candidates[] = { "etc/os-release", "usr/lib/os-release" };
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                /* /etc/os-release is usually a symlink into /usr/lib. */
                if (fstatat(root_fd, candidates[i], &st, 0) < 0) {
                        if (errno != ENOENT)
                                return -errno;
                        continue;
                }
                if (!S_ISREG(st.st_mode))
                        continue;
                *ret = candidates[i];
                return 0;
        }

        return -ENOENT;
}

static int mount_attr_set(const char *path, uint64_t attr) {
        struct mount_attr a = { .attr_set = attr };

        /* Only the flags we name change; a remount would also reset the others, and in a
         * user namespace fail on the locked ones. */
        return RET_NERRNO(mount_setattr(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, &a, sizeof a));
}

#define MOUNT_ATTR_PROTECT (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

static int bind_read_only(const char *source, const char *target) {
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                return -errno;
        return mount_attr_set(target, MOUNT_ATTR_PROTECT);
}

/* Relative to /run/host: an empty file no one may write, the source of file masks (nspawn
 * keeps its own in /run/host/inaccessible/ as well). */
#define INACCESSIBLE_REG "inaccessible/reg"

static int create_empty_file(int dir_fd, const char *path, mode_t mode) {
        int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        safe_close(fd);
        return 0;
}

/* A small read-only tmpfs on /run/host with the host's os-release, as nspawn has it, and
 * the source of file masks. */
static int mount_setup_run_host(const char *name, const char *rootfs, int root_fd, Stage1Message *failure) {
        _cleanup_free_ char *host = NULL, *os_release = NULL, *source = NULL;
        _cleanup_close_ int host_fd = -EBADF, sys_root_fd = -EBADF;
        const char *found;
        int r;

        r = ensure_dir(root_fd, "run/host", 0755);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to create /run/host in pod '%s': %m", name);
        if (asprintf(&host, "%s/run/host", rootfs) < 0 ||
            asprintf(&os_release, "%s/run/host/os-release", rootfs) < 0)
                return stage1_message_failed(failure, ENOMEM, "Out of memory.");
        if (mount("tmpfs", host, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_STRICTATIME, "mode=0755,size=64k,nr_inodes=64") < 0)
                return stage1_message_failed(failure, errno, "Failed to mount tmpfs on /run/host in pod '%s': %m", name);

        host_fd = openat(root_fd, "run/host", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (host_fd < 0)
                return stage1_message_failed(failure, errno, "Failed to open /run/host in pod '%s': %m", name);
        if (mkdirat(host_fd, "inaccessible", 0555) < 0)
                return stage1_message_failed(failure, errno, "Failed to create /run/host/inaccessible in pod '%s': %m", name);
        r = create_empty_file(host_fd, INACCESSIBLE_REG, 0000);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to create /run/host/" INACCESSIBLE_REG " in pod '%s': %m", name);
        r = create_empty_file(host_fd, "os-release", 0444);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to create /run/host/os-release in pod '%s': %m", name);

        /* Still the host's root: the pivot comes later. */
        sys_root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (sys_root_fd < 0)
                return stage1_message_failed(failure, errno, "Failed to open the host's root: %m");
        r = os_release_find(sys_root_fd, &found);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to find the host's /etc/os-release or /usr/lib/os-release: %m");
        if (asprintf(&source, "/%s", found) < 0)
                return stage1_message_failed(failure, ENOMEM, "Out of memory.");
        r = bind_read_only(source, os_release);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to bind %s onto /run/host/os-release in pod '%s': %m", source, name);

        r = mount_attr_set(host, MOUNT_ATTR_RDONLY);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to make /run/host read-only in pod '%s': %m", name);
        return 0;
}

static int mount_setup_protect(const char *name, const char *rootfs, int root_fd, Stage1Message *failure) {
        _cleanup_free_ char *inaccessible = NULL;

        if (asprintf(&inaccessible, "%s/run/host/" INACCESSIBLE_REG, rootfs) < 0)
                return stage1_message_failed(failure, ENOMEM, "Out of memory.");

        for (size_t i = 0; i < protect_paths_n; i++) {
                const ProtectPath *p = protect_paths + i;
                _cleanup_free_ char *target = NULL;
                ProtectAction a;
                int r;

                /* proc and sysfs are our fresh mounts: the image has no say in what is here. */
                a = protect_path_action(root_fd, p);
                if (a < 0)
                        return stage1_message_failed(failure, a, "Failed to look at /%s in pod '%s': %m", p->path, name);
                if (a == PROTECT_SKIP)
                        continue;

                if (asprintf(&target, "%s/%s", rootfs, p->path) < 0)
                        return stage1_message_failed(failure, ENOMEM, "Out of memory.");

                switch (a) {
                case PROTECT_MASK_FILE:
                        r = bind_read_only(inaccessible, target);
                        break;
                case PROTECT_MASK_DIR:
                        r = RET_NERRNO(mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_API, "mode=0555,size=4k,nr_inodes=1"));
                        break;
                case PROTECT_READ_ONLY:
                        r = bind_read_only(target, target);
                        break;
                default:
                        r = -EINVAL;
                }
                /* Gone between the look and the mount: nothing left to protect. */
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return stage1_message_failed(failure, r, "Failed to %s /%s in pod '%s': %m",
                                                     a == PROTECT_READ_ONLY ? "make read-only" : "mask", p->path, name);
        }

        return 0;
}

int mount_setup_api(const char *name, const char *rootfs, bool own_sysfs, Stage1Message *failure) {
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
                if (!own_sysfs && strcmp(m->path, "sys") == 0) {
                        struct mount_attr a = { .attr_set = MOUNT_ATTR_PROTECT };

                        /* Recursive: the host's submounts are locked to it in a user namespace. */
                        if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                            mount_setattr(AT_FDCWD, target, AT_SYMLINK_NOFOLLOW | AT_RECURSIVE, &a, sizeof a) < 0)
                                return stage1_message_failed(failure, errno, "Failed to bind the host's /sys into pod '%s': %m", name);
                        continue;
                }
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

        r = mount_setup_run_host(name, rootfs, root_fd, failure);
        if (r < 0)
                return r;
        return mount_setup_protect(name, rootfs, root_fd, failure);
}

int mount_setup_read_only(const char *name, const char *rootfs, Stage1Message *failure) {
        /* Not recursive: /dev, /run, /tmp and the other mounts on the root keep their own flags. */
        int r = mount_attr_set(rootfs, MOUNT_ATTR_RDONLY);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to make the root of pod '%s' read-only: %m", name);
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
