/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The outer stage1 process, the main process of pod@NAME.service: reads the pod's
 * configuration, clones the pod's init (see pod-init.h), applies the pod's limits to its
 * unit, registers the pod with systemd-machined, tells systemd when the app runs, forwards
 * stop signals, and records how the pod ended in its exit.json.
 *
 * Runs pod NAME until its app ends; returns stage1's exit status: the app's, as
 * exit_info_to_exit_status() computes it, or 1 if there is no such pod. */
int stage1_run(const char *name);
