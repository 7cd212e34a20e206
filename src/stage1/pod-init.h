/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The pod's init: the process stage1 clones into new mount, PID, UTS, IPC, cgroup and
 * (unless the pod shares the host's) network namespaces. It sets up the pod's file
 * systems and network, confines itself (capabilities, no_new_privs, seccomp) so that
 * the app inherits exactly that, reports READY, waits for GO, then runs as PID 1 of
 * the pod: starts the app, reaps every zombie, forwards SIGTERM, SIGINT and SIGHUP to the
 * app, and when the app ends reports its wait status and exits, which ends the pod. */

typedef struct PodInit {
        const char *name;
        const char *pod_dir;         /* with a user namespace: rootfs and the overlay's paths are relative to it */
        bool private_users;          /* in a new user namespace: wait for MAPPED first */
        const char *rootfs;          /* the pod's root, as a host path */
        const char *overlay_options; /* NULL if rootfs is a btrfs snapshot */
        char **command;              /* looked up in the pod's PATH */
        char **environment;          /* complete, see pod_env_build() */
        const char *working_directory;
        bool private_network;        /* in a new network namespace: bring up loopback */
        bool read_only;              /* mount the root read-only */
        uint64_t capabilities;       /* retained, see caps_retained() */
        int socket;                  /* our end of the SOCK_SEQPACKET pair */
} PodInit;

/* The clone() entry point; does not return. SIGTERM, SIGINT and SIGHUP must be blocked. */
int pod_init_main(void *userdata);
