/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "pod-config.h"
#include "podctl-conf.h"

/* Where podmachined puts the units it makes up: the administrator's directory, as
 * "systemctl edit" does, so that they persist (a pod started at boot by machines.target is
 * in its owner's slice before podmachined ever ran) and so that systemd finds new ones
 * without a reload (systemd 252 does not look for new files in system.control/ until
 * one). Rewritten at each start of podmachined (podctl.conf may have changed). */
#define POD_UNIT_DIR "/etc/systemd/system"

/* Pods of users other than root run in machine-pods-u<UID>.slice, below this one. */
#define POD_USERS_SLICE "machine-pods.slice"
#define POD_SLICE_DROPIN "50-podctl-slice.conf"
#define POD_BINDS_DROPIN "50-podctl-binds.conf"

/* The slice the pods of owner run in: root's in machine.slice, as every pod did before,
 * everyone else's in a slice of their own that bounds them all together. */
int pod_slice_name(uid_t owner, char **ret);

/* Writes unit_dir/machine-pods-u<UID>.slice with the limits (and machine-pods.slice).
 * Returns 1 if a file changed, so that systemd must reload, 0 if none did. */
int user_slice_write(const char *unit_dir, uid_t uid, const UserLimits *l);

/* Writes unit_dir/UNIT.d/50-podctl-slice.conf, which puts the pod's unit into its owner's
 * slice. Returns 1 if it changed, 0 if it was there already. */
int pod_slice_dropin_write(const char *unit_dir, const char *unit, uid_t owner);
/* Returns 1 if there was one to remove. */
int pod_slice_dropin_remove(const char *unit_dir, const char *unit);

/* Writes unit_dir/UNIT.d/50-podctl-binds.conf with RequiresMountsFor= of the sources of
 * c's bind mounts (so that a pod started at boot waits for the file systems they are on),
 * or removes it if c has none. Returns 1 if it changed. */
int pod_binds_dropin_write(const char *unit_dir, const char *unit, const PodConfig *c);
/* Removes both drop-ins of unit. */
void pod_dropins_remove(const char *unit_dir, const char *unit);

/* For a pod created by a user other than root who owns n_owned pods already: the user's
 * MemoryMax and TasksMax become those the pod does not set (DiskLimit bounds all of the
 * user's pods together instead), and a pod asking for more than the user's limit, or one
 * pod too many, is refused with io.podctl.pod1.LimitExceeded. */
int user_limits_apply(const UserLimits *l, size_t n_owned, PodConfig *c, sd_bus_error *error);
