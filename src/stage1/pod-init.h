/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod-config.h"
#include "stage1-protocol.h"

/* The pod's init: the process stage1 clones into new mount, PID, UTS, IPC, cgroup and
 * (unless the pod shares the host's) network namespaces. It sets up the pod's file
 * systems and network, confines itself (capabilities, no_new_privs, seccomp) so that
 * the app inherits exactly that, reports READY, waits for GO, then runs as PID 1 of
 * the pod: starts the apps, reaps every zombie, forwards SIGTERM, SIGINT and SIGHUP to the
 * apps, reports each app's wait status as it ends, and exits when the pod's exit policy
 * says the pod is over (after asking the apps still running to stop), which ends the pod.
 *
 * A pod of one app: the init mounts the app's root and pivots into it, as the app's
 * PID 1 (machinectl shell and copy-to see the app's tree). A pod of several apps: the
 * init lives on a small tmpfs of its own with each app's root below /apps/NAME; each app
 * gets its own mount namespace there and pivots into its root before it is confined. */

/* After the exit policy ended the pod, how long the other apps have to stop. */
#define POD_APP_STOP_TIMEOUT_SEC 10

typedef struct PodInitApp {
        const char *name;
        const char *root;            /* where the init mounts the app's root (see PodInit.pod_dir) */
        const char *source;          /* without a user namespace, for btrfs: the snapshot to bind on root */
        const char *overlay_options; /* NULL if the root is a btrfs snapshot */
        char **command;              /* looked up in the app's PATH */
        char **environment;          /* complete, see pod_env_build() */
        const char *working_directory;
        const char *user;            /* "uid[:gid]" or "name[:group]", looked up in the app's /etc; NULL: root */
} PodInitApp;

/* A bind mount, attached in every app's root at destination (see bind_attach()). */
typedef struct PodInitBind {
        const char *destination;
        bool directory;
        bool recursive;
        int fd;                      /* a detached mount stage1 made before the clone: ours too */
} PodInitBind;

typedef struct PodInit {
        const char *name;
        const char *pod_dir;         /* with a user namespace: relative paths are relative to it */
        bool private_users;          /* in a new user namespace: wait for MAPPED first */
        const PodInitApp *apps;
        size_t n_apps;
        const PodInitBind *binds;
        size_t n_binds;
        ExitPolicy exit_policy;
        bool private_network;        /* in a new network namespace: bring up loopback */
        bool read_only;              /* mount the root read-only */
        uint64_t capabilities;       /* retained, see caps_retained() */
        int socket;                  /* our end of the SOCK_SEQPACKET pair */
} PodInit;

/* The clone() entry point; does not return. SIGTERM, SIGINT and SIGHUP must be blocked. */
int pod_init_main(void *userdata);

/* Becomes spec, OCI's User ("user", "uid", "user:group", "uid:gid"...), looked up in the
 * /etc of the calling process's root; what names whose user it is in messages. */
int pod_switch_user(const char *spec, const char *what, Stage1Message *failure);
