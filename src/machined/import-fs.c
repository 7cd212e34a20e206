/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <blkid.h>
#include <libmount.h>

#include "copy-tree.h"
#include "import-fs.h"
#include "log.h"
#include "strv.h"

#define MOUNT_POINT "mnt"

/* The discoverable-partitions root type of this architecture, and generic Linux data. */
#if defined(__x86_64__)
#  define GPT_ROOT_NATIVE "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#elif defined(__aarch64__)
#  define GPT_ROOT_NATIVE "b921b045-1df0-41c3-af44-4c6f280d3fae"
#else
#  define GPT_ROOT_NATIVE NULL
#endif
#define GPT_LINUX_DATA "0fc63daf-8483-4772-8e79-3d69d8477de4"
#define MBR_LINUX 0x83

static void blkid_free_probep(blkid_probe *p) {
        if (*p)
                blkid_free_probe(*p);
}

static const char *const fs_types[] = { "squashfs", "erofs", "ext4", "ext3", "ext2", "xfs", "btrfs", NULL };

/* The file system type at [offset, offset + size) of fd (size 0: to the end), or NULL. */
static char *probe_fs_type(int fd, uint64_t offset, uint64_t size) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        const char *type = NULL;

        pr = blkid_new_probe();
        if (!pr || blkid_probe_set_device(pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) < 0)
                return NULL;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        if (blkid_do_safeprobe(pr) != 0 || blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0)
                return NULL;
        return strv_contains((char **) fs_types, type) ? strdup(type) : NULL;
}

static bool probe_partition_table(int fd) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        const char *type = NULL;

        pr = blkid_new_probe();
        if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return false;
        blkid_probe_enable_superblocks(pr, 0);
        blkid_probe_enable_partitions(pr, 1);
        return blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) >= 0 && type;
}

ImageFormat import_fs_detect(int fd) {
        _cleanup_free_ char *type = probe_fs_type(fd, 0, 0);

        if (type && streq(type, "squashfs"))
                return IMAGE_FORMAT_SQUASHFS;
        if (type && streq(type, "erofs"))
                return IMAGE_FORMAT_EROFS;
        if (type || probe_partition_table(fd))
                return IMAGE_FORMAT_RAW;
        return -ENOENT;
}

/* On a disk: the root partition, by its type, else the only Linux data partition. */
static int find_root_partition(int fd, uint64_t *ret_offset, uint64_t *ret_size, char **ret_message) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        blkid_partlist list;
        blkid_partition found = NULL, data = NULL;
        unsigned n_data = 0;
        int n;

        pr = blkid_new_probe();
        if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -ENOMEM;
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
        list = blkid_probe_get_partitions(pr);
        n = list ? blkid_partlist_numof_partitions(list) : 0;

        for (int i = 0; i < n; i++) {
                blkid_partition p = blkid_partlist_get_partition(list, i);
                const char *type = blkid_partition_get_type_string(p);

                if (type && GPT_ROOT_NATIVE && strcasecmp(type, GPT_ROOT_NATIVE) == 0) {
                        found = p;
                        break;
                }
                if ((type && strcasecmp(type, GPT_LINUX_DATA) == 0) || (!type && blkid_partition_get_type(p) == MBR_LINUX)) {
                        data = p;
                        n_data++;
                }
        }
        if (!found && n_data == 1)
                found = data;
        if (!found) {
                if (asprintf(ret_message, n_data > 1 ?
                             "The disk image has %u Linux partitions and no root partition: which one is the root is unclear." :
                             "The disk image has no root or Linux partition.", n_data) < 0)
                        *ret_message = NULL;
                return -EPROTONOSUPPORT;
        }

        *ret_offset = (uint64_t) blkid_partition_get_start(found) * 512;
        *ret_size = (uint64_t) blkid_partition_get_size(found) * 512;
        return 0;
}

/* A read-only loop device for [offset, offset + size) of fd, detached with its last user. */
static int loop_attach(int fd, uint64_t offset, uint64_t size, int *ret_fd, char **ret_path) {
        _cleanup_close_ int control = -EBADF;

        control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control < 0)
                return -ENODEV;

        for (unsigned attempt = 0; attempt < 16; attempt++) {
                struct loop_config config = {
                        .fd = (uint32_t) fd,
                        .info = {
                                .lo_offset = offset,
                                .lo_sizelimit = size,
                                .lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR,
                        },
                };
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int loop = -EBADF;
                int n = ioctl(control, LOOP_CTL_GET_FREE);

                if (n < 0)
                        return -errno;
                if (asprintf(&path, "/dev/loop%d", n) < 0)
                        return -ENOMEM;
                loop = open(path, O_RDONLY | O_CLOEXEC);
                if (loop < 0)
                        return errno == ENOENT ? -ENODEV : -errno;
                if (ioctl(loop, LOOP_CONFIGURE, &config) < 0) {
                        /* Taken by someone else meanwhile. */
                        if (errno == EBUSY)
                                continue;
                        return -errno;
                }
                *ret_fd = TAKE_FD(loop);
                *ret_path = TAKE_PTR(path);
                return 0;
        }
        return -EBUSY;
}

_noreturn_ static void mount_and_copy(int fd, const char *type, uint64_t offset, uint64_t size, int work_fd,
                                      int tree_fd, int result_fd) {
        _cleanup_free_ char *loop_path = NULL, *work = NULL, *target = NULL;
        struct libmnt_context *cxt = NULL;
        char message[512] = "";
        CopyTreeOptions copy = { .refuse_devices = true };
        uint64_t bytes = 0;
        int loop = -EBADF, r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        /* The mount lives and dies with this process's own mount namespace. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                r = -errno;
                snprintf(message, sizeof message, "Failed to create a mount namespace: %s", strerror(-r));
                goto finish;
        }

        r = loop_attach(fd, offset, size, &loop, &loop_path);
        if (r < 0) {
                snprintf(message, sizeof message, r == -ENODEV ?
                         "Cannot mount %s images here: no loop devices (/dev/loop-control and /dev/loopN are needed)." :
                         "Failed to attach the %s image to a loop device: %s", type, strerror(-r));
                goto finish;
        }

        if (asprintf(&work, "/proc/self/fd/%d", work_fd) < 0 || mkdirat(work_fd, MOUNT_POINT, 0700) < 0) {
                r = -errno;
                snprintf(message, sizeof message, "Failed to create a mount point: %s", strerror(-r));
                goto finish;
        }
        /* Mount on a real path: libmount canonicalizes. */
        {
                char buf[PATH_MAX];
                ssize_t n = readlink(work, buf, sizeof buf - 1);

                if (n < 0 || asprintf(&target, "%.*s/" MOUNT_POINT, (int) n, buf) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
        }

        cxt = mnt_new_context();
        if (!cxt || mnt_context_set_source(cxt, loop_path) < 0 || mnt_context_set_target(cxt, target) < 0 ||
            mnt_context_set_fstype(cxt, type) < 0 || mnt_context_set_options(cxt, "ro,nodev,nosuid") < 0 ||
            mnt_context_disable_helpers(cxt, 1) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        r = mnt_context_mount(cxt);
        if (r != 0 || mnt_context_get_status(cxt) != 1) {
                r = -(mnt_context_get_syscall_errno(cxt) ?: EINVAL);
                snprintf(message, sizeof message, "Failed to mount the %s file system of the image: %s", type, strerror(-r));
                goto finish;
        }
        loop = safe_close(loop);

        if (fchdir(tree_fd) < 0) {
                r = -errno;
                goto finish;
        }
        r = copy_tree(target, &copy, &bytes);
        if (r < 0)
                snprintf(message, sizeof message, "Failed to copy the image's file system: %s", strerror(-r));

finish:
        mnt_free_context(cxt);
        safe_close(loop);
        {
                struct { int error; uint64_t bytes; char message[512]; } result = { .error = -r, .bytes = bytes };

                memcpy(result.message, message, sizeof message);
                (void) !write(result_fd, &result, sizeof result);
        }
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

int import_fs(int fd, ImageFormat format, int work_fd, int tree_fd, uint64_t *ret_size, char **ret_message) {
        struct { int error; uint64_t bytes; char message[512]; } result = {};
        _cleanup_free_ char *type = NULL;
        _cleanup_close_ int pipe_r = -EBADF, pipe_w = -EBADF;
        uint64_t offset = 0, size = 0;
        int p[2], r;
        pid_t pid;

        if (format == IMAGE_FORMAT_RAW && probe_partition_table(fd)) {
                r = find_root_partition(fd, &offset, &size, ret_message);
                if (r < 0)
                        return r;
        }
        type = probe_fs_type(fd, offset, size);
        /* What the caller said it is, it must be. */
        if (type && ((format == IMAGE_FORMAT_SQUASHFS && !streq(type, "squashfs")) ||
                     (format == IMAGE_FORMAT_EROFS && !streq(type, "erofs")))) {
                if (asprintf(ret_message, "The image is %s, not %s.", type, image_format_to_string(format)) < 0)
                        *ret_message = NULL;
                return -EPROTONOSUPPORT;
        }
        if (!type) {
                if (asprintf(ret_message, "No %s file system found in the image.",
                             format == IMAGE_FORMAT_RAW ? "supported" : image_format_to_string(format)) < 0)
                        *ret_message = NULL;
                return -EPROTONOSUPPORT;
        }

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pipe_r = p[0];
        pipe_w = p[1];
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                mount_and_copy(fd, type, offset, size, work_fd, tree_fd, pipe_w);
        pipe_w = safe_close(pipe_w);

        if (read(pipe_r, &result, sizeof result) != (ssize_t) sizeof result)
                result.error = EPROTO;
        (void) waitpid(pid, NULL, 0);
        if (result.error != 0) {
                result.message[sizeof result.message - 1] = 0;
                if (result.message[0] && !(*ret_message = strdup(result.message)))
                        return -ENOMEM;
                return -result.error;
        }
        *ret_size = result.bytes;
        return 0;
}
