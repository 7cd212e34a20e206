/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Pod Pod;

/* At most this many commands run in one pod through Exec at a time. */
#define POD_EXECS_MAX 64

/* A command the daemon runs inside a running pod, for the caller of Pod.Exec: it enters
 * the pod's namespaces and cgroup and takes exactly the pod's confinement. */
typedef struct PodExec {
        Pod *pod;
        sd_bus_message *call;  /* answered once the command was executed (or failed to) */
        char *caller;          /* unique bus name: ExecExited goes to it alone */
        pid_t helper;          /* our child, on the host, that waits for the command */
        pid_t pid;             /* the command, as the host sees it; 0 until it ran */
        int socket;
        sd_event_source *io_source, *child_source;
        int wait_status;       /* the command's, if exited */
        bool exited;
        struct PodExec *next;
} PodExec;

typedef struct PodExecRequest {
        char **command;
        char **environment;        /* complete */
        const char *working_directory;
        int stdio[3];              /* -EBADF each: a new pseudo-terminal in the pod */
        pid_t leader;              /* the pod's init */
        pid_t app;                 /* the app process whose mounts and root to use; the leader's if 0 */
        uint64_t capabilities;     /* bounding, permitted and effective set */
} PodExecRequest;

/* Starts the command; the call is answered with (ah pty, u pid) once it runs, or with an
 * error. Returns 0, or -errno with error set. */
int pod_exec_start(Pod *p, sd_bus_message *call, const PodExecRequest *req, sd_bus_error *error);
PodExec *pod_exec_free(PodExec *e);

/* The PID, on the host, of the process of app name of the pod with the given init; from
 * the init's children, by the root they pivoted into. */
int pod_exec_find_app(pid_t leader, const char *name, pid_t *ret);

/* The capability bounding set of a process, from /proc. */
int pod_exec_read_bounding_set(pid_t pid, uint64_t *ret);
