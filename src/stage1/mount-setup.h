/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stage1-protocol.h"

/* The pod's file systems. All of this runs in the pod's init, in the pod's own mount
 * namespace, so nothing is left on the host if stage1 dies at any point. The functions
 * cannot log: on failure they describe the cause in *failure and return -errno. */

/* "lowerdir=...,upperdir=...,workdir=..." for the pod's overlayfs. */
int overlay_options_build(const char *lowerdir, const char *upperdir, const char *workdir, char **ret);

/* Stops mount events from propagating back to the host, then mounts an app's root on
 * rootfs: overlayfs with overlay_options, or, if that is NULL, a bind mount of source
 * (a btrfs snapshot) onto rootfs. With a user namespace tree_fd is an idmapped detached
 * mount, attached at rootfs first: the root itself (btrfs), or overlayfs' lower layer
 * (overlay). */
int mount_setup_root(const char *name, const char *rootfs, const char *source, const char *overlay_options, int tree_fd,
                     Stage1Message *failure);

/* For a pod of several apps: a tmpfs on /run (in the pod's mount namespace) that becomes
 * the init's root, with a mount point for each app's root at /run/apps/NAME. */
#define POD_INIT_ROOT "/run"
#define POD_INIT_APPS_DIR "apps"
int mount_setup_init_root(const char *name, char * const *app_names, Stage1Message *failure);

/* /proc (with /proc/sys read-only and the entries of protect_paths masked or read-only),
 * /sys (read-only), a minimal /dev with devpts, /dev/shm and /dev/mqueue, /run, /tmp and a
 * read-only /run/host/os-release below rootfs. Without own_sysfs (a user namespace that
 * does not own the network namespace cannot mount sysfs) /sys is the host's, bound
 * read-only. Entries of protect_paths that this kernel
 * does not have are skipped; every other failure is fatal. */
int mount_setup_api(const char *name, const char *rootfs, bool own_sysfs, Stage1Message *failure);

/* Makes the mount of the pod's root read-only; the API file systems on it (/run, /tmp,
 * /dev/shm, ...) stay as they are. Call after mount_setup_api(), before the pivot. */
int mount_setup_read_only(const char *name, const char *rootfs, Stage1Message *failure);

/* Makes rootfs the root and detaches the host's. */
int mount_setup_pivot(const char *name, const char *rootfs, Stage1Message *failure);

/* What the pod must not reach in /proc and /sys, as nspawn and the OCI runtime spec's
 * defaults (crun, runc) have it: leaks of kernel internals or of the host's hardware, and
 * tunables that reach the whole machine. */
typedef struct ProtectPath {
        const char *path; /* relative to the pod's root */
        bool mask;        /* hide it (empty); otherwise make it read-only */
} ProtectPath;

extern const ProtectPath protect_paths[];
extern const size_t protect_paths_n;

typedef enum ProtectAction {
        PROTECT_SKIP,      /* not there on this kernel */
        PROTECT_MASK_FILE, /* an empty, read-only file bound over it */
        PROTECT_MASK_DIR,  /* an empty, read-only tmpfs over it */
        PROTECT_READ_ONLY, /* bound onto itself, read-only */
        _PROTECT_ACTION_MAX,
        _PROTECT_ACTION_INVALID = -EINVAL,
} ProtectAction;

const char *protect_action_to_string(ProtectAction a);

/* What to do for p in the tree below root_fd: a mask takes the shape of what is there.
 * Does not follow a symlink in the last component. Returns an action or -errno. */
ProtectAction protect_path_action(int root_fd, const ProtectPath *p);

/* The host's os-release below root_fd: "etc/os-release", or "usr/lib/os-release" where
 * that is missing (the os-release(5) fallback). -ENOENT if neither exists. */
int os_release_find(int root_fd, const char **ret);
