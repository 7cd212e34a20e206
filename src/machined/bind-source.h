/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "bind-mount.h"

/* What the source of a bind mount is, from a file descriptor its caller opened (O_PATH is
 * enough): its path on the host, type, device and inode into b (source, directory, dev,
 * ino), its owner into *ret_uid, and whether it lives on a kernel pseudo file system
 * (/proc, /sys, cgroupfs...), which no user may bind as their own whoever owns the inode.
 *
 * The path is where the kernel says the file is; it must lead back to the same inode
 * without a symlink, as stage1 resolves it at every start. Returns 0, or -EBADF (not an
 * open file), -EMEDIUMTYPE (neither a directory nor a regular file), -ENAMETOOLONG,
 * -ENOENT (no path on this host: deleted, another mount namespace), -ESTALE (the path
 * leads elsewhere or through a symlink). */
int bind_source_from_fd(int fd, BindMount *b, uid_t *ret_uid, bool *ret_pseudo_fs);

/* One line for the caller about a failure of bind_source_from_fd(). */
const char *bind_source_strerror(int r);
