/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

typedef struct Manager Manager;
typedef struct Pod Pod;

/* Bounds on the log readers callers can make the daemon keep: each is a child process
 * that lives as long as its reader follows. */
#define LOG_STREAMS_MAX 64
#define LOG_STREAMS_PER_USER_MAX 8

/* Longest message written for one journal entry; longer ones are cut. */
#define LOG_MESSAGE_MAX (64U * 1024U)

/* A child writing a pod's journal into a pipe whose read end a caller has. */
typedef struct LogStream {
        Manager *manager;
        uid_t uid; /* whose it is, for the per-user bound */
        pid_t pid;
        sd_event_source *child;
        struct LogStream *next;
} LogStream;

LogStream *log_stream_free(LogStream *s);

/* Starts a child that writes the journal of pod p's unit since the pod was created, the
 * last lines entries of it (0: all), and with follow new ones until the reader closes
 * the pipe or the daemon exits. Returns the pipe's read end in *ret_fd, -EUSERS or
 * -EMFILE when uid or everyone has too many streams, or -errno. */
int pod_logs_start(Pod *p, uid_t uid, uint64_t lines, bool follow, int *ret_fd);

/* One entry as "journalctl -o short" shows it: "Jan 02 03:04:05 HOST IDENT[PID]: MESSAGE\n",
 * local time; a missing host, identifier or PID is left out. Control characters and invalid
 * UTF-8 in the fields are escaped as \xNN, so nothing the pod logs reaches the reader's
 * terminal as a control sequence; a multi-line message continues on indented lines. */
int log_line_format(uint64_t realtime_usec, const char *hostname, const char *identifier, const char *pid,
                    const void *message, size_t size, char **ret);
