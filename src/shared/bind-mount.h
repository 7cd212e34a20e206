/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A host directory or file bound into every app of a pod, as systemd-nspawn's --bind has
 * it. podctl opens the source, podmachined records what it resolved to, and stage1
 * re-opens that path at every start and refuses to mount it if it is no longer the same
 * inode or no longer its recorded owner's. */

/* dbus-daemon passes at most 16 file descriptors in one message on the system bus, and
 * disconnects a sender of more. */
#define BIND_MOUNTS_MAX 16
/* Bound on either path, in bytes with the NUL. */
#define BIND_PATH_MAX 1024

/* How the owners of the source's files look in a pod with a user namespace. */
typedef enum BindIdmap {
        BIND_IDMAP_NO,   /* "noidmap": through the pod's own range; host users' files are nobody's */
        BIND_IDMAP_YES,  /* "idmap": UID N on disk is UID N in the pod, root included */
        BIND_IDMAP_ROOT, /* "rootidmap": the source's owner is the pod's root, everyone else nobody */
        _BIND_IDMAP_MAX,
        _BIND_IDMAP_INVALID = -EINVAL,
} BindIdmap;

const char *bind_idmap_to_string(BindIdmap i);

typedef struct BindMount {
        char *source;      /* absolute path on the host, without symlinks */
        char *destination; /* absolute path in each app's root */
        bool read_only;
        bool recursive;    /* with the mounts below the source ("rbind") */
        BindIdmap idmap;
        bool idmap_auto;   /* idmap is the default, rootidmap: noidmap where the file system cannot idmap */
        /* What the source was when the bind was authorized. */
        bool directory;
        uint64_t dev;
        uint64_t ino;
        uid_t owner_uid;   /* who must still own it; (uid_t) -1: anyone, an admin allowed it */
} BindMount;

void bind_mount_done(BindMount *b);

/* An O_PATH fd of the absolute path, resolved from / without following any symlink, the
 * last component's included (-ELOOP): how a source's recorded path is checked, when it is
 * recorded and at every start. */
int bind_source_open_path(const char *path);
void bind_mounts_free(BindMount *b, size_t n);

/* Comma-separated "rbind", "norbind", "idmap", "noidmap", "rootidmap"; the last of each
 * kind wins. *ret_recursive defaults to true; *ret_idmap is _BIND_IDMAP_INVALID if no idmap
 * option was given. -EINVAL for anything else. */
int bind_options_parse(const char *s, bool *ret_recursive, BindIdmap *ret_idmap);
/* "rbind,rootidmap", what bind_options_parse() reads back. */
char *bind_options_to_string(const BindMount *b);

/* NULL if path may be a bind's destination, else why not ("is not absolute", ...):
 * absolute, normalized (no "//", ".", ".." or trailing "/"), not "/", no control
 * characters, shorter than BIND_PATH_MAX, and not on or below /proc, /sys, /dev or
 * /run/host, which the pod's confinement owns. */
const char *bind_destination_invalid(const char *path);

/* nspawn's SRC[:DST[:OPTIONS]], where "\:" is a ':' of a path and "\\" a backslash. DST
 * defaults to SRC; *ret_options is NULL if none were given. -EINVAL for an empty source
 * or destination or more than three fields. */
int bind_spec_parse(const char *spec, char **ret_source, char **ret_destination, char **ret_options);

json_t *bind_mount_to_json(const BindMount *b);
/* -EBADMSG for anything pod.json could not have held. */
int bind_mount_from_json(json_t *j, BindMount *ret);
