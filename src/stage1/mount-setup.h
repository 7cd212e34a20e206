/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "stage1-protocol.h"

/* The pod's file systems. All of this runs in the pod's init, in the pod's own mount
 * namespace, so nothing is left on the host if stage1 dies at any point. The functions
 * cannot log: on failure they describe the cause in *failure and return -errno. */

/* "lowerdir=...,upperdir=...,workdir=..." for the pod's overlayfs. */
int overlay_options_build(const char *lowerdir, const char *upperdir, const char *workdir, char **ret);

/* Stops mount events from propagating back to the host, then mounts the pod's root on
 * rootfs: overlayfs with overlay_options, or, if that is NULL, a bind mount of rootfs onto
 * itself (a btrfs snapshot). */
int mount_setup_root(const char *name, const char *rootfs, const char *overlay_options, Stage1Message *failure);

/* /proc, /sys (read-only), a minimal /dev, /run and /tmp below rootfs. */
int mount_setup_api(const char *name, const char *rootfs, Stage1Message *failure);

/* Makes rootfs the root and detaches the host's. */
int mount_setup_pivot(const char *name, const char *rootfs, Stage1Message *failure);
