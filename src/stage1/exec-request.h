/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* What podmachined asks podctl-exec-helper to run in a pod. It travels in a memfd, not on
 * the helper's command line or in its unit's properties: those every local user can read
 * (ps, systemctl show), while a pod's commands and environment are its owner's business. */
typedef struct ExecRequest {
        pid_t leader;              /* the pod's init */
        pid_t app;                 /* the app process whose mounts and root to use; 0: the leader's */
        uint64_t capabilities;     /* bounding, permitted and effective set */
        char *working_directory;   /* NULL: / */
        char *user;                /* "uid[:gid]" or "name[:group]" in the pod's /etc; NULL: root */
        char **cgroup_procs;       /* the cgroup.procs files of the leader's cgroups, on the host */
        char **command;
        char **environment;        /* complete */
} ExecRequest;

/* Bounds the helper reads: podmachined bounds what it accepts well below. */
#define EXEC_REQUEST_SIZE_MAX (64U * 1024U * 1024U)

void exec_request_done(ExecRequest *r);

/* "key=value" fields, each NUL-terminated; lists as repeated keys, in order. */
int exec_request_serialize(const ExecRequest *r, char **ret, size_t *ret_size);
/* -EBADMSG for anything but a complete request: a command, a leader. */
int exec_request_parse(const char *buf, size_t size, ExecRequest *ret);
