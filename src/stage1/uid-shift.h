/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Where the kernel or the file system cannot idmap, the pod's own writable copy of its
 * root (a btrfs snapshot, or an overlayfs upper dir) is shifted once, in place, into the
 * UID range of its user namespace. */

/* Deeper directories make uid_shift_tree() fail with -ELOOP. The walk keeps one fd open per
 * level, so a tree this deep needs RLIMIT_NOFILE above it (else -EMFILE). */
#define UID_SHIFT_DEPTH_MAX 4096U

typedef struct UidShiftStats {
        uint64_t n_inodes; /* visited, the root included; a hard link once per name */
        uint64_t n_changed; /* owner, group, an ACL entry or the capability root rewritten */
        uint64_t n_foreign; /* some id of it outside [0, range) and the target range, left as is */
        uint64_t n_mounts; /* mount points below the root, skipped with all below them */
} UidShiftStats;

/* Shifts every inode below and including the directory root_fd (any fd of it, O_PATH too;
 * not closed): an owner, group, POSIX ACL entry or v3 capability root id below range moves
 * up by shift, one in [shift, shift + range) is already shifted and stays, any other is
 * foreign and stays. Running it again finishes an interrupted walk (only the inode being
 * shifted at that moment may have lost its setuid bits or capability).
 *
 * Symlinks are never followed, other mounts never entered (STATX_MNT_ID; without it, the
 * device number of directories): the mounts root_fd's mount namespace has. chown() clears
 * setuid/setgid bits and file capabilities: the mode is restored, and security.capability
 * is set again, always as v3 with its root id shifted (a v2 one counts as owned by root 0),
 * so it keeps working in the pod and no longer does for the host's root. Needs /proc
 * (xattrs of non-directories are reached through /proc/self/fd); the tree must not change
 * while it runs.
 *
 * Returns 0, or -errno (-EINVAL: shift and range overlap or overflow; -ENOSYS: no /proc;
 * -ELOOP: deeper than UID_SHIFT_DEPTH_MAX), leaving what was shifted so far. */
int uid_shift_tree(int root_fd, uint32_t shift, uint32_t range, UidShiftStats *ret_stats);
