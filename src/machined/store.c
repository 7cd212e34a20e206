/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <btrfsutil.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "macro.h"
#include "paths.h"
#include "store.h"

/* Linux 6.7's simple quotas, newer than some distributions' headers. */
#ifndef BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA
#define BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA 4
#endif
#ifndef BTRFS_FEATURE_INCOMPAT_SIMPLE_QUOTA
#define BTRFS_FEATURE_INCOMPAT_SIMPLE_QUOTA (1ULL << 16)
#endif

static int btrfs_error_to_errno(enum btrfs_util_error e) {
        /* libbtrfsutil leaves the cause in errno. */
        return e == BTRFS_UTIL_OK ? 0 : negative_errno();
}

StorageType store_detect(int dir_fd) {
        struct statfs sfs;

        if (fstatfs(dir_fd, &sfs) < 0)
                return negative_errno();
        return sfs.f_type == BTRFS_SUPER_MAGIC ? STORAGE_BTRFS : STORAGE_OVERLAY;
}

int store_make_tree(StorageType t, int dir_fd, const char *name) {
        if (t == STORAGE_BTRFS)
                return btrfs_error_to_errno(btrfs_util_create_subvolume_fd(dir_fd, name, 0, NULL, NULL));

        return RET_NERRNO(mkdirat(dir_fd, name, 0755));
}

int store_seal_tree(StorageType t, int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;

        if (t != STORAGE_BTRFS)
                return 0;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return btrfs_error_to_errno(btrfs_util_set_subvolume_read_only_fd(fd, true));
}

int store_make_pod_root(StorageType t, int image_fd, int pod_dir_fd, uint64_t parent_qgroup) {
        if (t == STORAGE_BTRFS) {
                struct btrfs_util_qgroup_inherit *inherit = NULL;
                int r;

                if (parent_qgroup != 0 &&
                    (btrfs_util_create_qgroup_inherit(0, &inherit) != BTRFS_UTIL_OK ||
                     btrfs_util_qgroup_inherit_add_group(&inherit, parent_qgroup) != BTRFS_UTIL_OK)) {
                        r = negative_errno();
                        btrfs_util_destroy_qgroup_inherit(inherit);
                        return r;
                }
                r = btrfs_error_to_errno(btrfs_util_create_snapshot_fd2(image_fd, pod_dir_fd, POD_ROOTFS_DIR, 0, NULL, inherit));
                btrfs_util_destroy_qgroup_inherit(inherit);
                return r;
        }

        if (mkdirat(pod_dir_fd, POD_ROOTFS_DIR, 0755) < 0 ||
            mkdirat(pod_dir_fd, POD_UPPER_DIR, 0755) < 0 ||
            mkdirat(pod_dir_fd, POD_WORK_DIR, 0700) < 0)
                return negative_errno();
        return 0;
}

int store_enable_quota(int dir_fd) {
        struct btrfs_ioctl_quota_ctl_args args = { .cmd = BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA };

        /* Quotas that are on already stay as they are, in either mode. */
        if (ioctl(dir_fd, BTRFS_IOC_QUOTA_CTL, &args) >= 0 || errno == EEXIST)
                return 0;
        if (errno != EINVAL && errno != EOPNOTSUPP)
                return -errno;

        /* Before Linux 6.7: full accounting. */
        args.cmd = BTRFS_QUOTA_CTL_ENABLE;
        if (ioctl(dir_fd, BTRFS_IOC_QUOTA_CTL, &args) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int store_quota_is_simple(int dir_fd) {
        struct btrfs_ioctl_feature_flags flags;

        if (ioctl(dir_fd, BTRFS_IOC_GET_FEATURES, &flags) < 0)
                return -errno;
        return !!(flags.incompat_flags & BTRFS_FEATURE_INCOMPAT_SIMPLE_QUOTA);
}

static int qgroup_limit(int dir_fd, uint64_t qgroupid, uint64_t bytes) {
        struct btrfs_ioctl_qgroup_limit_args args = {
                .qgroupid = qgroupid,
                .lim = {
                        .flags = BTRFS_QGROUP_LIMIT_MAX_EXCL,
                        .max_excl = bytes,
                },
        };

        return RET_NERRNO(ioctl(dir_fd, BTRFS_IOC_QGROUP_LIMIT, &args));
}

int store_user_qgroup(int dir_fd, uid_t uid, uint64_t bytes, uint64_t *ret_qgroupid) {
        struct btrfs_ioctl_qgroup_create_args args = {
                .create = 1,
                .qgroupid = STORE_USER_QGROUP(uid),
        };
        int r;

        if (ioctl(dir_fd, BTRFS_IOC_QGROUP_CREATE, &args) < 0 && errno != EEXIST)
                return -errno;
        /* Set at each creation: podctl.conf may have changed since. */
        r = qgroup_limit(dir_fd, args.qgroupid, bytes);
        if (r < 0)
                return r;
        *ret_qgroupid = args.qgroupid;
        return 0;
}

int store_set_disk_limit(int dir_fd, const char *name, uint64_t bytes) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t id;
        int r;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = btrfs_error_to_errno(btrfs_util_subvolume_id_fd(fd, &id));
        if (r < 0)
                return r;
        /* The subvolume's own level-0 qgroup, 0/ID. */
        return qgroup_limit(fd, id, bytes);
}
