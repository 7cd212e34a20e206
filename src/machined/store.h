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
 * an empty mount point otherwise), upper/ and work/ for overlayfs. No data is copied.
 * parent_qgroup (btrfs, non-zero): the snapshot's qgroup joins that one, whose limit
 * then bounds it together with its other members. */
int store_make_pod_root(StorageType t, int image_fd, int pod_dir_fd, uint64_t parent_qgroup);

/* Turns on btrfs quotas for the file system of dir_fd, if they are not on yet (accounting
 * costs some write performance: only when a pod first asks for a disk limit). Simple
 * quotas (Linux 6.7; they set an incompat flag, so older kernels cannot mount the file
 * system) where the kernel has them: a snapshot is charged only for what it writes, and
 * adding one to a user's qgroup keeps the accounting consistent, which with full quotas
 * needs a rescan of the whole file system. */
int store_enable_quota(int dir_fd);
/* 1 if the file system of dir_fd accounts with simple quotas. */
int store_quota_is_simple(int dir_fd);

/* The level-1 qgroup 1/UID that holds all pods of a user. */
#define STORE_USER_QGROUP(uid) ((UINT64_C(1) << 48) | (uint64_t) (uid))
/* Creates the user's qgroup unless it exists and limits what its members hold exclusively
 * together to bytes. */
int store_user_qgroup(int dir_fd, uid_t uid, uint64_t bytes, uint64_t *ret_qgroupid);
/* Limits what the subvolume dir_fd/name (a pod's snapshot) may hold exclusively, i.e.
 * what the pod adds to its image: writes beyond get EDQUOT. */
int store_set_disk_limit(int dir_fd, const char *name, uint64_t bytes);
