/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "bind-mount.h"

/* A pod's bind mounts at each start. stage1, as the host's root in the host's mount
 * namespace, re-opens each source and checks it against what was authorized, then makes
 * a detached copy of its mount; the pod's init, which inherits those, attaches them in
 * each app's root. The functions do not log. */

/* Opens b->source from the host's root without following any symlink (nor magic link)
 * and checks it is still the inode that was authorized, of its owner if one is recorded.
 * Returns an O_PATH descriptor and its stat, or -ELOOP (a symlink on the way), -ENOENT,
 * -ESTALE (another inode), -EPERM (another owner), -EMEDIUMTYPE (another type), or
 * another -errno. */
int bind_source_open(const BindMount *b, struct stat *ret_st);

/* A detached copy of the mount at source_fd (with the mounts below for b->recursive),
 * nosuid, nodev, private, and read-only for b->read_only (below too). */
int bind_source_clone(const BindMount *b, int source_fd);

/* What stage1_fail() says about a failure of bind_source_open(). */
const char *bind_source_open_strerror(int r);

/* In the init, after the apps' roots and API file systems are mounted: attaches tree_fd at
 * destination below root, creating what is missing of it (a directory, or an empty file
 * for a file) in the tree; the tree's own symlinks are resolved inside it. With clone the
 * tree stays where it is attached already and a copy of it is attached (the second and
 * later apps of a pod). A destination that resolves onto the pod's /proc, /sys or devpts
 * is refused with -EPERM. */
int bind_attach(const char *root, const char *destination, bool directory, bool recursive, int tree_fd, bool clone);
