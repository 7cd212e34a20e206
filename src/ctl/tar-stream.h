/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <sys/types.h>

/* Writes the tree below dir_fd to out_fd as a POSIX pax tar archive with entries
 * ".", "./bin", …: symlinks are stored, not followed; owners stay numeric; modes,
 * mtimes, hard links and extended attributes are kept; other file systems mounted
 * below are not entered. Entries tar cannot hold (sockets) are skipped. On failure
 * *ret_message, if given, says why. */
int tar_stream_directory(int dir_fd, int out_fd, char **ret_message);

/* Runs tar_stream_directory() in a child process writing into a pipe and returns the
 * pipe's read end; the caller must call tar_stream_wait() with the child's handles. */
typedef struct TarStream {
        pid_t pid;
        int error_fd; /* the child's (errno, message), if it failed */
} TarStream;

#define TAR_STREAM_NULL ((TarStream) { .pid = 0, .error_fd = -EBADF })

int tar_stream_fork(int dir_fd, TarStream *ret_stream, int *ret_read_fd);

/* Reaps the child. Returns 0 if it succeeded, otherwise -errno with *ret_message
 * describing the failure (NULL if it only says the child died). */
int tar_stream_wait(TarStream *s, char **ret_message);
