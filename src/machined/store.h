/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pod-config.h"

/* The copy-on-write store: on btrfs, images are read-only subvolumes and a pod's root
 * is a writable snapshot; elsewhere images are plain trees that stage1 puts under
 * an overlayfs with a per-pod upper and work directory. */

StorageType store_detect(int dir_fd);

/* A new empty tree dir_fd/name for an image to be extracted into. */
int store_make_tree(StorageType t, int dir_fd, const char *name);
/* Makes a finished image tree read-only where the file system can. */
int store_seal_tree(StorageType t, int dir_fd, const char *name);
/* Prepares pod_dir_fd for a pod of image_fd's image: rootfs/ (a snapshot on btrfs,
 * an empty mount point otherwise), upper/ and work/ for overlayfs. No data is copied. */
int store_make_pod_root(StorageType t, int image_fd, int pod_dir_fd);

/* Turns on btrfs quotas for the file system of dir_fd, if they are not on yet (accounting
 * costs some write performance: only when a pod first asks for a disk limit). */
int store_enable_quota(int dir_fd);
/* Limits what the subvolume dir_fd/name (a pod's snapshot) may hold exclusively, i.e.
 * what the pod adds to its image: writes beyond get EDQUOT. */
int store_set_disk_limit(int dir_fd, const char *name, uint64_t bytes);
