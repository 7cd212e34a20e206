/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* podctl-exec-helper: what podmachined runs, as a transient service of its own, for
 * Pod.Exec. It is started by systemd, not forked by the daemon, so that neither the
 * daemon's sandbox nor its cgroup is the command's: the command gets exactly the pod's
 * confinement, and outlives a daemon that exits or dies.
 *
 * sock, a SOCK_SEQPACKET socket to podmachined, brings one EXEC message (the request and
 * the fds it names); the helper answers STARTED (the command's host PID, its pidfd and
 * the master of its pseudo-terminal, if it got one) or FAILED, and then EXITED with the
 * command's wait status. It forks the command into the pod's cgroup and namespaces, waits
 * for it, forwards SIGTERM, SIGINT and SIGHUP to it, and ends as the command ended (its
 * exit status, or killed by its signal), which is what systemd records for the unit. */
int exec_helper_run(int sock);
