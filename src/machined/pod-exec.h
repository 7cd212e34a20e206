/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "exec-request.h"

typedef struct Pod Pod;

/* At most this many commands run in one pod through Exec at a time. */
#define POD_EXECS_MAX 64

/* A command run inside a running pod for the caller of Pod.Exec, by podctl-exec-helper in a
 * transient unit of its own: it enters the pod's namespaces and cgroup and takes exactly the
 * pod's confinement. */
typedef struct PodExec {
        Pod *pod;
        sd_bus_message *call;  /* answered once the command was executed (or failed to) */
        char *caller;          /* unique bus name: ExecStarted and ExecExited go to it alone */
        char *unit;            /* the helper's transient unit, pod-exec-POD-ID.service */
        sd_bus_slot *start_slot; /* the pending StartTransientUnit call */
        pid_t pid;             /* the command, as the host sees it; 0 until it ran */
        int pidfd;             /* the command's, for SignalExec */
        int socket;            /* to the helper */
        sd_event_source *io_source;
        struct PodExec *next;
} PodExec;

typedef struct PodExecRequest {
        ExecRequest exec;          /* without cgroup_procs, which pod_exec_start() finds */
        int stdio[3];              /* -EBADF each: a new pseudo-terminal in the pod */
} PodExecRequest;

/* Starts the command; the call is answered with (ah pty, u pid) once it runs, or with an
 * error. Returns 0, or -errno with error set. */
int pod_exec_start(Pod *p, sd_bus_message *call, const PodExecRequest *req, sd_bus_error *error);
PodExec *pod_exec_free(PodExec *e);

/* Sends sig to the command pid that caller (a unique bus name) executed; -ESRCH if there
 * is none such, or it ended. */
int pod_exec_kill(Pod *p, const char *caller, pid_t pid, int sig);

/* Sends sig to pid if it is a command that no PodExec of ours knows (an earlier
 * podmachined started it) but that runs from one of the pod's exec units: in the pod's
 * cgroup, its parent the main process of a live pod-exec-POD-*.service. -ESRCH otherwise.
 * The caller must be authorized for the pod already. */
int pod_exec_kill_untracked(Pod *p, pid_t pid, int sig);

/* The PID, on the host, of the process of app name of the pod with the given init; from
 * the init's children, by the root they pivoted into. */
int pod_exec_find_app(pid_t leader, const char *name, pid_t *ret);

/* The capability bounding set of a process, from /proc. */
int pod_exec_read_bounding_set(pid_t pid, uint64_t *ret);
