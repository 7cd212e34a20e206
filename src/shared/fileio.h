/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* jansson ships json_decrefp(). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Writes all of data, going on after short writes and EINTR: 0 or -errno. */
int write_all(int fd, const void *data, size_t size);

/* Replaces dir_fd/name with data so that a crash leaves either the old or the new
 * file, never a mix: write a hidden temporary, fsync it, rename over, fsync the dir. */
int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);

/* A hidden, unique sibling name for NAME: PREFIX + NAME + random suffix. The start-up
 * sweep removes whatever carries PODCTL_TMP_PREFIX or PODCTL_RM_PREFIX. */
int hidden_name(const char *prefix, const char *name, char **ret);

/* JSON files are bounded: state files are small, and a larger one is corrupt. */
#define JSON_FILE_MAX (1024 * 1024)

int json_write_atomic_at(int dir_fd, const char *name, json_t *j);
/* A JSON array of the strings of l (NULL is the empty array); NULL on OOM. */
json_t *strv_to_json(char * const *l);
/* The strings of a JSON array; -EBADMSG if a is not an array of strings. */
int strv_from_json(json_t *a, char ***ret);
/* Duplicate keys are rejected. Returns -ENOENT if missing, -EBADMSG if malformed. */
int json_read_at(int dir_fd, const char *name, json_t **ret);

/* Removes a directory tree below dir_fd without following symlinks or crossing
 * into other file systems; btrfs subvolumes are deleted as such. */
int rm_rf_at(int dir_fd, const char *name);

/* A DIR of its own for the directory dir_fd (which stays open), from its start. */
int opendir_fd(int dir_fd, DIR **ret);

/* All of fd up to EOF, NUL-terminated; -EFBIG past max bytes. */
int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_size);

uint64_t now_usec(void);
