/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bind-mount.h"

/* The contract between podmachined, which writes a pod's pod.json, and stage1, which
 * reads it at every start (whether podctl, systemctl or machines.target started the
 * pod), and the exit.json stage1 leaves behind when the pod ends. */

typedef enum StorageType {
        STORAGE_BTRFS,   /* the pod's rootfs/ is a writable snapshot of the image subvolume */
        STORAGE_OVERLAY, /* stage1 mounts overlayfs: image as lower, upper/ and work/ */
        _STORAGE_TYPE_MAX,
        _STORAGE_TYPE_INVALID = -EINVAL,
} StorageType;

const char *storage_type_to_string(StorageType t);
StorageType storage_type_from_string(const char *s);

#define LIMIT_UNSET UINT64_MAX

#define UID_INVALID UINT32_MAX
/* The size of a pod's UID/GID range, and its alignment. */
#define POD_UID_RANGE_SIZE UINT32_C(0x10000)

/* rkt's model: a pod is one or more apps, each from its own image with its own root
 * file system and mount namespace, sharing the pod's PID, network, IPC and UTS
 * namespaces, user namespace and cgroup. */
#define POD_APPS_MAX 16

typedef struct PodApp {
        char *name;               /* unique within the pod; a valid name (see name.h) */
        char *image;
        char **command;           /* argv; never empty once written */
        char **environment;       /* "KEY=VALUE" entries, may be NULL */
        char *working_directory;  /* absolute path inside the app, may be NULL ("/") */
        char *user;               /* as OCI has it: "uid[:gid]" or "name[:group]" of the app's root; NULL: root */
} PodApp;

void pod_app_done(PodApp *a);

/* When a pod with several apps ends. */
typedef enum ExitPolicy {
        EXIT_POLICY_ALL,     /* when every app has exited */
        EXIT_POLICY_ANY,     /* when the first app exits */
        EXIT_POLICY_FAILURE, /* when an app fails (exits non-zero or is killed), or all exited */
        _EXIT_POLICY_MAX,
        _EXIT_POLICY_INVALID = -EINVAL,
} ExitPolicy;

const char *exit_policy_to_string(ExitPolicy p);
ExitPolicy exit_policy_from_string(const char *s);

typedef struct PodConfig {
        char *name;
        PodApp *apps;             /* at least one once written; the first is the pod's main app */
        size_t n_apps;
        ExitPolicy exit_policy;
        uid_t owner_uid;
        uint64_t created_usec;    /* CLOCK_REALTIME */
        StorageType storage;
        bool auto_remove;

        /* Confinement; the defaults are the safe ones, the others are for admins. */
        bool read_only;             /* the pod's root file system is mounted read-only */
        bool network_host;          /* share the host's network namespace (default: private, loopback only) */
        uint64_t capabilities_add;  /* bit N = capability N, on top of the default set */
        uint64_t capabilities_drop; /* bit N = capability N, taken from the default set */
        uint32_t uid_shift;         /* pod root is this host UID/GID, 65536 wide; UID_INVALID: no user namespace */
        BindMount *binds;           /* into every app's root, in this order */
        size_t n_binds;

        /* Applied to the pod's unit by stage1 before the app starts. */
        uint64_t memory_max;             /* bytes */
        uint64_t cpu_quota_per_sec_usec; /* systemd's CPUQuotaPerSecUSec */
        uint64_t tasks_max;
        uint64_t io_weight;              /* 1..10000 */

        /* Applied by podmachined to each app's root when the pod is created. */
        uint64_t disk_max;               /* bytes the pod may add to its image, btrfs quota (exclusive) */
} PodConfig;

void pod_config_init(PodConfig *c);
void pod_config_done(PodConfig *c);

/* Appends an app, taking what *app holds on success. -EEXIST for a second app of the
 * same name, -E2BIG beyond POD_APPS_MAX. */
int pod_config_add_app(PodConfig *c, PodApp *app);
/* The app's directory inside the pod's, where its rootfs/, upper/ and work/ are: the pod's
 * own for the first app (as for a pod of one app), apps/NAME/ for the others. Returns ""
 * or "apps/NAME/". */
int pod_app_dir(const PodConfig *c, size_t i, char **ret);
bool pod_config_uses_image(const PodConfig *c, const char *image);
/* The images of the pod's apps, each once; NULL on ENOMEM. */
char **pod_config_images(const PodConfig *c);
#define POD_APPS_DIR "apps"

int pod_config_to_json(const PodConfig *c, json_t **ret);
/* -EBADMSG for a document that does not describe a valid pod. */
int pod_config_from_json(json_t *j, PodConfig *ret);

int pod_config_load_at(int pod_dir_fd, PodConfig *ret);
int pod_config_save_at(int pod_dir_fd, const PodConfig *c);

typedef enum ExitCode {
        EXIT_CODE_EXITED,       /* status is the exit status */
        EXIT_CODE_KILLED,       /* status is the signal */
        EXIT_CODE_DUMPED,       /* status is the signal, core dumped */
        EXIT_CODE_START_FAILED, /* the app never ran; status is the errno */
        _EXIT_CODE_MAX,
        _EXIT_CODE_INVALID = -EINVAL,
} ExitCode;

const char *exit_code_to_string(ExitCode c);
ExitCode exit_code_from_string(const char *s);

/* How one app of a pod ended. */
typedef struct AppExit {
        char *name;
        ExitCode code;
        int status;
} AppExit;

typedef struct ExitInfo {
        ExitCode code;
        int status;
        char *message; /* why it failed to start, or which app ended the pod; or NULL */
        uint64_t finished_usec;
        AppExit *apps; /* in the order of the pod's apps; those that never ran are not here */
        size_t n_apps;
} ExitInfo;

void exit_info_done(ExitInfo *i);
/* Whether e is a failure: anything but an exit with status 0. */
bool exit_info_failed(const ExitInfo *e);
/* Whether an app ending as e ends the pod, given how many of its apps still run. */
bool exit_policy_ends_pod(ExitPolicy p, const ExitInfo *e, size_t n_running);
int exit_info_load_at(int pod_dir_fd, ExitInfo *ret);
int exit_info_save_at(int pod_dir_fd, const ExitInfo *i);

/* What a shell would return for this exit: the status, or 128 + signal. */
int exit_info_to_exit_status(const ExitInfo *i);
