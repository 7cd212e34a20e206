/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "pod-config.h"
#include "pod-exec.h"

typedef struct Manager Manager;

typedef enum PodState {
        POD_CREATED,  /* exists, never ran since it was created */
        POD_STARTING,
        POD_RUNNING,
        POD_STOPPING,
        POD_EXITED,   /* ran and ended; exit info says how */
        _POD_STATE_MAX,
        _POD_STATE_INVALID = -EINVAL,
} PodState;

const char *pod_state_to_string(PodState s);
PodState pod_state_from_string(const char *s);

typedef enum PodJobKind {
        POD_JOB_START,
        POD_JOB_STOP,
        POD_JOB_REMOVE, /* stop, then remove the pod */
} PodJobKind;

/* A caller waiting for a systemd job on the pod's unit to finish. */
typedef struct Pod Pod;

typedef struct PodJob {
        Pod *pod;
        PodJobKind kind;
        sd_bus_slot *slot;     /* the pending StartUnit/StopUnit call */
        char *path;            /* systemd job object, NULL until StartUnit/StopUnit answered */
        sd_bus_message *call;  /* the D-Bus call to answer */
        struct PodJob *next;
} PodJob;

/* A WaitPod caller. */
typedef struct PodWaiter {
        sd_bus_message *call;
        struct PodWaiter *next;
} PodWaiter;

typedef struct Pod {
        Manager *manager;
        PodConfig config;
        char *unit;
        char *unit_path;   /* systemd's object path of the unit */
        char *path;        /* our object path */

        PodState state;
        ExitInfo exit;     /* valid if has_exit */
        bool has_exit;
        const char *uid_mapping;   /* "idmap", "chown" or "none": see pod_update_uid_mapping() */

        sd_bus_slot *unit_match;
        PodJob *jobs;
        PodWaiter *waiters;

        int stdio[3];      /* handed to stage1 by TakePodStdio; -EBADF if none */
        bool attached;     /* this run was started with the caller's stdio */
        char *deferred_active_state; /* reported while our start job ran */
        sd_event_source *auto_remove_source; /* removes a detached AutoRemove pod that ended */

        PodExec *execs;    /* commands run in the pod through Exec */
        size_t n_execs;

        struct Pod *next;
} Pod;

/* Creates the pod's directory (CoW root from the image) and pod.json, atomically. */
int pod_create(Manager *m, PodConfig *config, Pod **ret);
/* Reads an existing pod's directory at start-up. */
int pod_load(Manager *m, const char *name, Pod **ret);
Pod *pod_free(Pod *p);

/* Removes the pod's directory and forgets it; the pod must not be running. */
int pod_remove(Pod *p);

bool pod_is_active(Pod *p);
int pod_start_unit(Pod *p, sd_bus_message *call, int stdio[3], sd_bus_error *error);
int pod_stop_unit(Pod *p, sd_bus_message *call, PodJobKind kind, sd_bus_error *error);
int pod_kill_unit(Pod *p, const char *whom, int signo, sd_bus_error *error);
int pod_add_waiter(Pod *p, sd_bus_message *call);

/* Follows the unit's ActiveState as systemd reports it. */
/* query: ask systemd for the unit's state now (not needed for a pod just created). */
int pod_watch_unit(Pod *p, bool query);
void pod_set_active_state(Pod *p, const char *active_state);
void pod_job_removed(Manager *m, const char *job_path, const char *result);

bool pod_is_busy(Pod *p);

/* The pod's init as systemd-machined registered it: -ESRCH if the pod is not running. */
int pod_get_leader(Pod *p, pid_t *ret);
