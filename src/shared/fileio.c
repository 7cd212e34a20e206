/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>

#include <btrfsutil.h>

#include "fileio.h"
#include "paths.h"
#include "strv.h"

uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

int hidden_name(const char *prefix, const char *name, char **ret) {
        uint64_t rnd;

        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                return -EIO;
        return asprintf(ret, "%s%s-%016llx", prefix, name, (unsigned long long) rnd) < 0 ? -ENOMEM : 0;
}

int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = hidden_name(PODCTL_TMP_PREFIX, name, &tmp);
        if (r < 0)
                return r;

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;

        r = write_all(fd, data, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }

        /* The rename is durable only once the directory is. */
        (void) fsync(dir_fd);
        return 0;
}

int json_write_atomic_at(int dir_fd, const char *name, json_t *j) {
        _cleanup_free_ char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        _cleanup_free_ char *line = NULL;
        int n;

        if (!s)
                return -ENOMEM;
        n = asprintf(&line, "%s\n", s);
        if (n < 0)
                return -ENOMEM;

        return write_file_atomic_at(dir_fd, name, line, (size_t) n, 0644);
}

json_t *strv_to_json(char * const *l) {
        json_t *a = json_array();

        if (!a)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                if (json_array_append_new(a, json_string(l[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

int strv_from_json(json_t *a, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t i;
        json_t *v;

        if (!json_is_array(a))
                return -EBADMSG;

        l = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v))
                        return -EBADMSG;
                l[i] = strdup(json_string_value(v));
                if (!l[i])
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

int json_read_at(int dir_fd, const char *name, json_t **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size;
        json_error_t err;
        struct stat st;
        json_t *j;
        int r;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        r = read_fd_bounded(fd, JSON_FILE_MAX, &buf, &size);
        if (r < 0)
                return r;

        j = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return -EBADMSG;

        *ret = j;
        return 0;
}

/* Removal holds a directory open per level it descends. Deeper than this, a directory is
 * moved up into the tree's top directory (same file system: a rename) and removed in a
 * later pass from there: a tree of any depth goes with a bounded number of open fds and
 * a bounded stack. */
#define RM_RF_DEPTH_MAX 32

typedef struct RmRf {
        uint64_t mnt_id;     /* the tree's mount: another one below is not ours to delete */
        int top_fd;          /* the tree's top directory, where deep directories go */
        unsigned moved;      /* how many were moved there in this pass */
} RmRf;

static int rm_rf_children(RmRf *c, DIR *d, unsigned depth);

/* Mount points are told by mount ID, not st_dev: every btrfs subvolume has a device
 * number of its own. */
static int stat_entry(int dir_fd, const char *name, struct statx *ret) {
        if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_INO | STATX_MNT_ID, ret) < 0)
                return -errno;
        if (!(ret->stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        return 0;
}

/* Removes the empty directory dir_fd/name. */
static int rmdir_at(int dir_fd, const char *name, bool subvolume) {
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) >= 0 || errno == ENOENT)
                return 0;
        /* An emptied subvolume is not removable with rmdir() on older kernels. */
        if (subvolume && btrfs_util_delete_subvolume_fd(dir_fd, name, 0) == BTRFS_UTIL_OK)
                return 0;
        return -errno;
}

static int rm_rf_move_up(RmRf *c, int dir_fd, const char *name) {
        _cleanup_free_ char *up = NULL;
        int r;

        r = hidden_name(PODCTL_RM_PREFIX, "deep", &up);
        if (r < 0)
                return r;
        if (renameat(dir_fd, name, c->top_fd, up) < 0)
                return -errno;
        c->moved++;
        return 0;
}

static int rm_rf_entry(RmRf *c, int dir_fd, const char *name, unsigned depth) {
        _cleanup_close_ int fd = -EBADF;
        struct statx stx;
        int r;

        r = stat_entry(dir_fd, name, &stx);
        if (r < 0)
                return r == -ENOENT ? 0 : r;

        if (!S_ISDIR(stx.stx_mode))
                return RET_NERRNO(unlinkat(dir_fd, name, 0));

        /* Another file system mounted here: not ours to delete into. */
        if (stx.stx_mnt_id != c->mnt_id)
                return -EXDEV;

        /* A btrfs subvolume (inode 256) is deleted whole, which is also far faster. */
        if (stx.stx_ino == 256 &&
            btrfs_util_delete_subvolume_fd(dir_fd, name, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE) == BTRFS_UTIL_OK)
                return 0;

        if (depth >= RM_RF_DEPTH_MAX)
                return rm_rf_move_up(c, dir_fd, name);

        /* One fd per level: the directory stream's own. */
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);

        r = rm_rf_children(c, d, depth + 1);
        if (r < 0)
                return r;
        return rmdir_at(dir_fd, name, stx.stx_ino == 256);
}

int opendir_fd(int dir_fd, DIR **ret) {
        int fd;
        DIR *d;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }

        *ret = d;
        return 0;
}

/* Removes what is in d, and closes it. */
static int rm_rf_children(RmRf *c, DIR *d, unsigned depth) {
        int r = 0;

        for (struct dirent *de; (de = readdir(d));) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                int q = rm_rf_entry(c, dirfd(d), de->d_name, depth);
                if (q < 0 && r == 0)
                        r = q;
        }

        closedir(d);
        return r;
}

int rm_rf_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct statx stx;
        RmRf c;
        int r;

        r = stat_entry(dir_fd, name, &stx);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (!S_ISDIR(stx.stx_mode))
                return RET_NERRNO(unlinkat(dir_fd, name, 0));
        if (stx.stx_ino == 256 &&
            btrfs_util_delete_subvolume_fd(dir_fd, name, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE) == BTRFS_UTIL_OK)
                return 0;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        c = (RmRf) { .mnt_id = stx.stx_mnt_id, .top_fd = fd };

        /* Each pass removes RM_RF_DEPTH_MAX levels of what was deeper; what it moved up,
         * the next one takes on. */
        do {
                DIR *d;

                r = opendir_fd(fd, &d);
                if (r < 0)
                        return r;
                c.moved = 0;
                r = rm_rf_children(&c, d, 1);
                if (r < 0)
                        return r;
        } while (c.moved > 0);

        return rmdir_at(dir_fd, name, stx.stx_ino == 256);
}

int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        /* Grows as it reads: most files are far below their bound. One byte more than max
         * is room to tell a file of max bytes from a longer one, and for the NUL. */
        for (;;) {
                if (size == allocated) {
                        size_t want = allocated > 0 ? allocated * 2 : 4096;
                        char *p;

                        if (want > max + 1)
                                want = max + 1;
                        if (want <= allocated)
                                return -EFBIG;
                        p = realloc(buf, want);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = want;
                }

                ssize_t n = read(fd, buf + size, allocated - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        if (size == allocated) {
                char *p = realloc(buf, size + 1);
                if (!p)
                        return -ENOMEM;
                buf = p;
        }
        buf[size] = 0;

        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}
