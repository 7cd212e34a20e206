/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "image.h"

/* File system images (squashfs, erofs, ext4, xfs, btrfs) and disk images with a GPT or MBR
 * partition table, probed with libblkid. */

/* IMAGE_FORMAT_SQUASHFS, _EROFS or _RAW for what fd holds, or -ENOENT if none of those. */
ImageFormat import_fs_detect(int fd);

/* Attaches fd (the staged, verified image) read-only to a loop device, mounts its file
 * system (or, on a disk, the root partition: the one of the discoverable-partitions root
 * type for this architecture, else the only Linux file system partition) read-only with
 * libmount in a mount namespace of its own, and copies the tree into tree_fd. work_fd
 * holds the mount point. -ENODEV without loop devices, -EPROTONOSUPPORT for a disk
 * without a usable partition; *ret_message says why in one line. Forks: the mount never
 * leaves the child. */
int import_fs(int fd, ImageFormat format, int work_fd, int tree_fd, uint64_t *ret_size, char **ret_message);
