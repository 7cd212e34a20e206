/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stddef.h>

#include "macro.h"
#include "pod-config.h"

/* What the outer stage1 process and the pod's init say to each other, one message per packet
 * of a SOCK_SEQPACKET socketpair. The init shares the pod with the app, and the outer process
 * runs on the host with every privilege, so the outer side treats each packet as untrusted. */

typedef enum Stage1MessageType {
        STAGE1_MESSAGE_READY,   /* init → outer: the pod's mounts are set up */
        STAGE1_MESSAGE_GO,      /* outer → init: registered, start the apps; carries 0 or 3 stdio fds */
        STAGE1_MESSAGE_STARTED, /* init → outer: every app was executed; from podctl-exec-helper:
                                 * status is the host PID of the command, with its pidfd (and pty) */
        STAGE1_MESSAGE_FAILED,  /* init → outer: setup or exec failed; error and text say why */
        STAGE1_MESSAGE_EXITED,  /* init → outer: app number `app` ended; status is its wait status */
        STAGE1_MESSAGE_MAPPED,  /* outer → init: the user namespace's maps are written; carries,
                                 * for each app, its idmapped root (btrfs) or image (overlay) as a
                                 * detached mount; bit N of status set: app N's is instead its own
                                 * shifted copy, to be mounted as it is, without overlayfs */
        STAGE1_MESSAGE_EXEC,    /* podmachined → podctl-exec-helper: run a command in a pod; carries
                                 * the ExecRequest's memfd, the leader's pidfd, then as status says
                                 * the app's pidfd and 3 stdio fds */
        _STAGE1_MESSAGE_TYPE_MAX,
        _STAGE1_MESSAGE_TYPE_INVALID = -EINVAL,
} Stage1MessageType;

/* Bits of an EXEC message's status: which fds follow the memfd and the leader's pidfd. */
#define STAGE1_EXEC_APP   (1 << 0)
#define STAGE1_EXEC_STDIO (1 << 1)

/* Including the terminating NUL, which is not sent. */
#define STAGE1_TEXT_MAX 512

typedef struct Stage1Message {
        Stage1MessageType type;
        int error;  /* positive errno, FAILED only */
        int status; /* wait status, EXITED; a mask of apps, MAPPED; a PID (or 0), STARTED; STAGE1_EXEC_*, EXEC */
        unsigned app; /* index of the app in the pod's configuration, EXITED only */
        char text[STAGE1_TEXT_MAX];
} Stage1Message;

/* type, error, status and app as 32-bit host-endian integers, then the text. */
#define STAGE1_PACKET_HEADER_SIZE 16
#define STAGE1_PACKET_SIZE_MAX (STAGE1_PACKET_HEADER_SIZE + STAGE1_TEXT_MAX - 1)

/* stdin, stdout and stderr of an attached client. */
#define STAGE1_STDIO_FDS 3
/* The most fds a message carries: MAPPED's, one per app. */
#define STAGE1_FDS_MAX POD_APPS_MAX

const char *stage1_message_type_to_string(Stage1MessageType t);

/* Returns the packet size. */
int stage1_message_pack(const Stage1Message *m, void *buf, size_t size);
/* -EBADMSG for a packet that is not a valid message. Control characters in the text
 * are replaced, so that it can be logged as is. */
int stage1_message_unpack(const void *buf, size_t size, Stage1Message *ret);

int stage1_message_send(int fd, const Stage1Message *m, const int *fds, size_t n_fds);
/* Returns 1 with a message, 0 when the peer closed its end. Received fds are O_CLOEXEC;
 * more than n_fds_max of them make the message invalid. */
int stage1_message_receive(int fd, Stage1Message *ret, int *ret_fds, size_t n_fds_max, size_t *ret_n_fds);

/* For code that cannot log, the pod's init and the app before exec: makes m a FAILED
 * message; %m in the format stands for error. Returns -abs(error), as log_error_errno(). */
int stage1_message_failed(Stage1Message *m, int error, const char *format, ...) _printf_(3, 4);

/* Translates a waitpid() status. */
int exit_info_from_wait_status(int status, ExitInfo *ret);
