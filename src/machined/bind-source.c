/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bind-source.h"
#include "macro.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static bool is_pseudo_fs(int fd) {
        static const unsigned long magic[] = {
                PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC,
                TRACEFS_MAGIC, SECURITYFS_MAGIC, SELINUX_MAGIC, SMACK_MAGIC, BPF_FS_MAGIC, DEVPTS_SUPER_MAGIC,
                EFIVARFS_MAGIC, PSTOREFS_MAGIC, NSFS_MAGIC, BINFMTFS_MAGIC,
        };
        struct statfs sfs;

        /* What cannot be looked at is not the caller's. */
        if (fstatfs(fd, &sfs) < 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(magic); i++)
                if ((unsigned long) sfs.f_type == magic[i])
                        return true;
        return false;
}

int bind_source_from_fd(int fd, BindMount *b, uid_t *ret_uid, bool *ret_pseudo_fs) {
        char proc[64], path[BIND_PATH_MAX + 1];
        _cleanup_close_ int again = -EBADF;
        struct stat st, st2;
        ssize_t n;
        char *p;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -EBADF;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return -EMEDIUMTYPE;

        snprintf(proc, sizeof proc, "/proc/self/fd/%i", fd);
        n = readlink(proc, path, sizeof path);
        if (n < 0)
                return -ENOENT;
        if ((size_t) n >= BIND_PATH_MAX)
                return -ENAMETOOLONG;
        path[n] = 0;
        /* "anon_inode:...", "/x (deleted)", or outside our root. */
        if (path[0] != '/')
                return -ENOENT;

        again = bind_source_open_path(path);
        if (again < 0)
                return again == -ENOENT ? -ENOENT : -ESTALE;
        if (fstat(again, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
                return -ESTALE;

        p = strdup(path);
        if (!p)
                return -ENOMEM;
        free(b->source);
        b->source = p;
        b->directory = S_ISDIR(st.st_mode);
        b->dev = (uint64_t) st.st_dev;
        b->ino = (uint64_t) st.st_ino;
        *ret_uid = st.st_uid;
        *ret_pseudo_fs = is_pseudo_fs(fd);
        return 0;
}

const char *bind_source_strerror(int r) {
        switch (r) {
        case -EBADF:
                return "the source is not an open file descriptor";
        case -EMEDIUMTYPE:
                return "the source is neither a directory nor a regular file";
        case -ENAMETOOLONG:
                return "the path of the source is too long";
        case -ENOENT:
                return "the source has no path on this host (deleted, or in another mount namespace)";
        case -ESTALE:
                return "the path of the source leads elsewhere or through a symlink";
        default:
                return strerror(-r);
        }
}
