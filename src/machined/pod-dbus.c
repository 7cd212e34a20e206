/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/capability.h>

#include "bus-errors.h"
#include "bus-polkit.h"
#include "bus-util.h"
#include "caps.h"
#include "log.h"
#include "manager.h"
#include "paths.h"
#include "pod-dbus.h"
#include "parse.h"
#include "pod-env.h"
#include "strv.h"
#include "user-slice.h"

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", pod_state_to_string(p->state));
}

static int property_get_slice(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        _cleanup_free_ char *slice = NULL;
        int r;

        r = pod_slice_name(p->config.owner_uid, &slice);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "s", slice);
}

static int property_get_storage(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", storage_type_to_string(p->config.storage));
}

static int property_get_root_directory(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        _cleanup_free_ char *root = NULL;

        if (asprintf(&root, PODCTL_PODS_DIR "/%s/" POD_ROOTFS_DIR, p->config.name) < 0)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", root);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", (int) *(bool *) userdata);
}

static int property_get_network(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", p->config.network_host ? "host" : "private");
}

/* Capability names as libcap spells them ("cap_net_admin"). */
static int property_get_capabilities(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        uint64_t caps = *(uint64_t *) userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (unsigned c = 0; c < 64; c++) {
                char *name;

                if (!(caps & (UINT64_C(1) << c)))
                        continue;
                name = cap_to_name((cap_value_t) c);
                if (!name)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "s", name);
                cap_free(name);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* The pod's PID 1, as systemd-machined knows it while the pod runs. */
static int property_get_leader(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        pid_t leader = 0;

        if (pod_get_leader(userdata, &leader) < 0)
                leader = 0;
        return sd_bus_message_append(reply, "u", (uint32_t) leader);
}

/* Whether the property value being put into reply may show what the pod runs (command
 * lines, environment, working directory: they may hold secrets): only to root and the
 * pod's owner, and not in signals, which anyone may receive. The caller's UID is kept
 * for the other properties of the same call (GetAll, GetManagedObjects). */
static bool pod_details_visible(sd_bus *bus, sd_bus_message *reply, const Pod *p) {
        static uint64_t cached_cookie = 0;
        static char cached_sender[256] = "";
        static uid_t cached_uid = UID_INVALID;
        sd_bus_message *call;
        const char *sender;
        uint64_t cookie;
        uint8_t type;
        uid_t uid;

        if (sd_bus_message_get_type(reply, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_RETURN)
                return false;
        call = sd_bus_get_current_message(bus);
        if (!call || !sd_bus_message_is_method_call(call, NULL, NULL) || sd_bus_message_get_cookie(call, &cookie) < 0)
                return false;
        sender = sd_bus_message_get_sender(call);
        if (!sender || strlen(sender) >= sizeof cached_sender)
                return false;

        if (cookie == cached_cookie && strcmp(sender, cached_sender) == 0)
                uid = cached_uid;
        else {
                if (bus_query_caller_uid(call, &uid) < 0)
                        return false;
                cached_cookie = cookie;
                strcpy(cached_sender, sender);
                cached_uid = uid;
        }
        return uid == 0 || uid == p->config.owner_uid;
}

/* Image, Command, Environment and WorkingDirectory are the first app's. */
static int property_get_main_app(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const Pod *p = userdata;
        const PodApp *a = p->config.apps;
        bool visible;

        if (strcmp(property, "Image") == 0)
                return sd_bus_message_append(reply, "s", a->image);

        visible = pod_details_visible(bus, reply, p);
        if (strcmp(property, "WorkingDirectory") == 0)
                return sd_bus_message_append(reply, "s", visible && a->working_directory ? a->working_directory : "");
        if (!visible)
                return sd_bus_message_append(reply, "as", 0);
        return sd_bus_message_append_strv(reply, strcmp(property, "Command") == 0 ? a->command : a->environment);
}

static const AppExit *pod_find_app_exit(Pod *p, const char *name) {
        if (!p->has_exit)
                return NULL;
        for (size_t i = 0; i < p->exit.n_apps; i++)
                if (strcmp(p->exit.apps[i].name, name) == 0)
                        return p->exit.apps + i;
        return NULL;
}

/* (name, image, command, exit code, exit status): the code is empty until the app ended. */
static int property_get_apps(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        bool visible = pod_details_visible(bus, reply, p);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssassi)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->config.n_apps; i++) {
                const PodApp *a = p->config.apps + i;
                const AppExit *e = pod_find_app_exit(p, a->name);

                r = sd_bus_message_open_container(reply, 'r', "ssassi");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "ss", a->name, a->image);
                if (r < 0)
                        return r;
                r = visible ? sd_bus_message_append_strv(reply, a->command) : sd_bus_message_append(reply, "as", 0);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "si", e ? exit_code_to_string(e->code) : "", e ? e->status : 0);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* (source on the host, destination, read-only, options): the sources of another user's pod
 * are hidden as its command is, they may name what the user keeps where. */
static int property_get_bind_mounts(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        bool visible = pod_details_visible(bus, reply, p);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssbs)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->config.n_binds; i++) {
                const BindMount *b = p->config.binds + i;
                _cleanup_free_ char *options = bind_options_to_string(b);

                if (!options)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(ssbs)", visible ? b->source : "", b->destination, b->read_only, options);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* How the pod's files are presented in its UID range: "idmap" (an idmapped mount),
 * "chown" (the file system cannot idmap: stage1 shifted a copy), or "none" (no user
 * namespace). */
static int property_get_uid_mapping(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", p->uid_mapping);
}

static int property_get_exit_policy(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", exit_policy_to_string(p->config.exit_policy));
}

static int property_get_exit(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        bool e = p->has_exit;

        if (strcmp(property, "ExitCode") == 0)
                return sd_bus_message_append(reply, "s", e ? exit_code_to_string(p->exit.code) : "");
        if (strcmp(property, "ExitStatus") == 0)
                return sd_bus_message_append(reply, "i", e ? p->exit.status : 0);
        if (strcmp(property, "ExitMessage") == 0)
                return sd_bus_message_append(reply, "s", e && p->exit.message ? p->exit.message : "");
        return sd_bus_message_append(reply, "t", e ? p->exit.finished_usec : (uint64_t) 0);
}

int bus_pod_reply_exit(Pod *p, sd_bus_message *call) {
        if (!p->has_exit)
                return sd_bus_reply_method_return(call, "sis", "", 0, "");
        return sd_bus_reply_method_return(call, "sis", exit_code_to_string(p->exit.code), p->exit.status,
                                          p->exit.message ?: "");
}

/* Owners manage their pods without asking; anyone else needs manage-pods. Returns as
 * bus_verify_polkit_async(). */
static int pod_authorize(sd_bus_message *m, Pod *p, const char *verb, sd_bus_error *error) {
        return bus_verify_polkit_async_full(m, "io.podctl.pod1.manage-pods",
                                            (const char *[]) { "verb", verb, "pod", p->config.name, NULL },
                                            p->config.owner_uid, &p->manager->polkit, NULL, error);
}

/* An "ah" of stdin, stdout and stderr, or of none: returns how many (the message keeps them). */
static int read_stdio_fds(sd_bus_message *m, int fds[3], sd_bus_error *error) {
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "h");
        if (r < 0)
                return r;
        for (int fd; n <= 3 && (r = sd_bus_message_read(m, "h", &fd)) > 0; n++)
                if (n < 3)
                        fds[n] = fd;
        if (r < 0)
                return r;
        if (n != 0 && n != 3)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "Expected no file descriptors or three (stdin, stdout, stderr), got %zu.", n);
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return (int) n;
}

int bus_pod_method_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int fds[3], *stdio = NULL;
        int r;

        r = read_stdio_fds(m, fds, error);
        if (r < 0)
                return r;
        if (r == 3)
                stdio = fds;

        r = pod_authorize(m, p, "start-pod", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        r = pod_start_unit(p, m, stdio, error);
        if (r < 0)
                return r;
        return 1; /* answered when systemd's job ends */
}

int bus_pod_method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int r;

        r = pod_authorize(m, p, "stop-pod", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        if (!pod_is_active(p))
                return sd_bus_error_setf(error, BUS_ERROR_POD_NOT_RUNNING, "Pod '%s' is not running.", p->config.name);

        r = pod_stop_unit(p, m, POD_JOB_STOP, error);
        if (r < 0)
                return r;
        return 1;
}

int bus_pod_method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        const char *whom;
        int32_t signo;
        int r;

        r = sd_bus_message_read(m, "si", &whom, &signo);
        if (r < 0)
                return r;
        if (*whom && strcmp(whom, "all") != 0 && strcmp(whom, "leader") != 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Invalid kill target '%s', expected 'all' or 'leader'.", whom);
        if (signo <= 0 || signo >= _NSIG)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Invalid signal %" PRIi32 ".", signo);

        r = pod_authorize(m, p, "kill-pod", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        if (!pod_is_active(p))
                return sd_bus_error_setf(error, BUS_ERROR_POD_NOT_RUNNING, "Pod '%s' is not running.", p->config.name);

        r = pod_kill_unit(p, *whom ? whom : "all", signo, error);
        if (r < 0)
                return r;
        return 1;
}

int bus_pod_method_remove(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int force, r;

        r = sd_bus_message_read(m, "b", &force);
        if (r < 0)
                return r;

        r = pod_authorize(m, p, "remove-pod", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        if (pod_is_active(p) || p->jobs) {
                if (!force)
                        return sd_bus_error_setf(error, BUS_ERROR_POD_RUNNING,
                                                 "Pod '%s' is running; stop it first or remove it with force.", p->config.name);
                r = pod_stop_unit(p, m, POD_JOB_REMOVE, error);
                if (r < 0)
                        return r;
                return 1;
        }

        r = pod_remove(p);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to remove pod: %m");
        return sd_bus_reply_method_return(m, NULL);
}

/* Bounds on what one Exec call may ask for. */
#define EXEC_ARGS_MAX 4096
#define EXEC_ARG_LEN_MAX (128 * 1024)

typedef struct ExecOptions {
        Pod *pod;
        const char *working_directory;
        const char *user;
        const PodApp *app;
} ExecOptions;

static int read_exec_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        ExecOptions *o = userdata;
        const char *v;
        int r;

        if (!STR_IN_SET(key, "WorkingDirectory", "App", "User"))
                return 0;
        r = sd_bus_message_read(m, "v", "s", &v);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option %s must be a string.", key);

        if (streq(key, "WorkingDirectory")) {
                if (v[0] != '/' || strlen(v) >= PATH_MAX)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Working directory '%.80s' is not an absolute path.", v);
                o->working_directory = v;
                return 1;
        }
        if (streq(key, "User")) {
                /* Looked up in the pod's own /etc files by the helper, never here. */
                if (!v[0] || strlen(v) > 2 * LOGIN_NAME_MAX || strchr(v, '\n'))
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Invalid user '%.80s'.", v);
                o->user = v;
                return 1;
        }

        for (size_t i = 0; i < o->pod->config.n_apps; i++)
                if (streq(o->pod->config.apps[i].name, v)) {
                        o->app = o->pod->config.apps + i;
                        return 1;
                }
        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Pod '%s' has no app '%.80s'.", o->pod->config.name, v);
}

/* Exec(command, environment, stdio, options) -> (pty, pid): the command runs in the pod as
 * the app's user (its root if the app has none, or the User option), confined exactly as
 * the pod is; on the caller's stdin, stdout and stderr, or,
 * without them, on a new pseudo-terminal of the pod whose master the caller gets. The
 * caller alone is sent ExecExited when it ends. */
int bus_pod_method_exec(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **command = NULL, **environment = NULL, **combined = NULL, **env = NULL;
        Pod *p = userdata;
        ExecOptions o = { .pod = p, .app = p->config.apps };
        PodExecRequest req = { .stdio = { -EBADF, -EBADF, -EBADF } };
        ExecRequest *x = &req.exec;
        uint64_t bounding;
        size_t n = 0;
        int fds[3], r;

        r = bus_read_strv_bounded(m, EXEC_ARGS_MAX, EXEC_ARG_LEN_MAX, &command, error);
        if (r < 0)
                return r;
        if (strv_isempty(command) || !command[0][0])
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Exec needs a command.");
        r = bus_read_strv_bounded(m, EXEC_ARGS_MAX, EXEC_ARG_LEN_MAX, &environment, error);
        if (r < 0)
                return r;
        for (char **e = environment; e && *e; e++)
                if (!env_assignment_is_valid(*e))
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Invalid environment assignment '%.80s'.", *e);

        r = read_stdio_fds(m, fds, error);
        if (r < 0)
                return r;
        n = (size_t) r;

        r = bus_read_options(m, "exec", read_exec_option, &o, error);
        if (r < 0)
                return r;

        r = pod_authorize(m, p, "exec-pod", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        r = pod_get_leader(p, &x->leader);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_POD_NOT_RUNNING, "Pod '%s' is not running.", p->config.name);

        if (p->config.n_apps > 1) {
                r = pod_exec_find_app(x->leader, o.app->name, &x->app);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_POD_NOT_RUNNING,
                                                 "App '%s' of pod '%s' is not running.", o.app->name, p->config.name);
        }

        /* Never more than the init kept, whatever the configuration says. */
        r = pod_exec_read_bounding_set(x->leader, &bounding);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read the capabilities of pod '%s': %m", p->config.name);
        x->capabilities = caps_retained(&p->config) & bounding;

        /* The app's environment, then the caller's on top. */
        for (char **e = o.app->environment; e && *e; e++)
                if (strv_extend(&combined, *e) < 0)
                        return -ENOMEM;
        for (char **e = environment; e && *e; e++)
                if (strv_extend(&combined, *e) < 0)
                        return -ENOMEM;
        r = pod_env_build(combined, p->config.name, NULL, &env);
        if (r < 0)
                return r;

        x->command = command;
        x->environment = env;
        x->working_directory = (char *) (o.working_directory ?: o.app->working_directory);
        x->user = (char *) (o.user ?: o.app->user);
        if (n == 3)
                for (size_t i = 0; i < 3; i++)
                        req.stdio[i] = fds[i];

        r = pod_exec_start(p, m, &req, error);
        if (r < 0)
                return r;
        return 1; /* answered once the command runs */
}

/* SignalExec(pid, signal): a command the caller started with Exec, and that still runs, gets
 * signal; nothing of anyone else's. A command no caller of ours started (an earlier
 * podmachined did) is found from its exec unit, for callers who may Kill the pod. */
int bus_pod_method_signal_exec(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        const char *sender;
        uint32_t pid;
        int32_t sig;
        int r;

        r = sd_bus_message_read(m, "ui", &pid, &sig);
        if (r < 0)
                return r;
        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Invalid signal %" PRIi32 ".", sig);
        sender = sd_bus_message_get_sender(m);
        if (!sender || pid == 0 || pid > INT32_MAX)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_PROCESS, "No command %" PRIu32 " of the caller runs in pod '%s'.",
                                         pid, p->config.name);

        r = pod_exec_kill(p, sender, (pid_t) pid, sig);
        if (r == -ESRCH) {
                r = pod_authorize(m, p, "kill-pod", error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1; /* dispatched again when polkit has answered */
                r = pod_exec_kill_untracked(p, (pid_t) pid, sig);
        }
        if (r == -ESRCH)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_PROCESS, "No command %" PRIu32 " of the caller runs in pod '%s'.",
                                         pid, p->config.name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to signal PID %" PRIu32 ": %m", pid);
        return sd_bus_reply_method_return(m, NULL);
}

static int read_logs_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return 0; /* none yet: every key is refused */
}

/* GetLogs(lines, follow, options) -> (fd): a pipe the pod's journal is written into, as
 * "journalctl -o short" shows it; the owner may read it without being in the journal's groups. */
int bus_pod_method_get_logs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF;
        Pod *p = userdata;
        uint64_t lines;
        uid_t uid = UID_INVALID;
        int follow, r;

        r = sd_bus_message_read(m, "tb", &lines, &follow);
        if (r < 0)
                return r;
        r = bus_read_options(m, NULL, read_logs_option, NULL, error);
        if (r < 0)
                return r;

        r = bus_verify_polkit_async_full(m, "io.podctl.pod1.manage-pods",
                                         (const char *[]) { "verb", "logs-pod", "pod", p->config.name, NULL },
                                         p->config.owner_uid, &p->manager->polkit, &uid, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        r = pod_logs_start(p, uid, lines, follow, &fd);
        if (r == -EMFILE)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED,
                                         "Too many log readers (at most %d); try again later.", LOG_STREAMS_MAX);
        if (r == -EUSERS)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED,
                                         "Too many log readers of this user (at most %d).", LOG_STREAMS_PER_USER_MAX);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read the journal of pod '%s': %m", p->config.name);

        return sd_bus_reply_method_return(m, "h", fd);
}

int bus_pod_method_wait(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int r;

        if (!pod_is_active(p))
                return bus_pod_reply_exit(p, m);

        r = pod_add_waiter(p, m);
        if (r < 0)
                return r;
        return 1;
}

const sd_bus_vtable pod_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Pod, config.name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Image", "s", property_get_main_app, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerUID", "u", NULL, offsetof(Pod, config.owner_uid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unit", "s", NULL, offsetof(Pod, unit), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Slice", "s", property_get_slice, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CreatedAt", "t", NULL, offsetof(Pod, config.created_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Command", "as", property_get_main_app, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Environment", "as", property_get_main_app, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("WorkingDirectory", "s", property_get_main_app, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Apps", "a(ssassi)", property_get_apps, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitPolicy", "s", property_get_exit_policy, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Storage", "s", property_get_storage, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RootDirectory", "s", property_get_root_directory, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoRemove", "b", property_get_bool, offsetof(Pod, config.auto_remove), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ReadOnly", "b", property_get_bool, offsetof(Pod, config.read_only), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Network", "s", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UIDShift", "u", NULL, offsetof(Pod, config.uid_shift), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("BindMounts", "a(ssbs)", property_get_bind_mounts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UIDMapping", "s", property_get_uid_mapping, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CapabilitiesAdd", "as", property_get_capabilities, offsetof(Pod, config.capabilities_add), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CapabilitiesDrop", "as", property_get_capabilities, offsetof(Pod, config.capabilities_drop), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MemoryMax", "t", NULL, offsetof(Pod, config.memory_max), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CPUQuotaPerSecUSec", "t", NULL, offsetof(Pod, config.cpu_quota_per_sec_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TasksMax", "t", NULL, offsetof(Pod, config.tasks_max), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IOWeight", "t", NULL, offsetof(Pod, config.io_weight), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DiskLimit", "t", NULL, offsetof(Pod, config.disk_max), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Leader", "u", property_get_leader, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitCode", "s", property_get_exit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitStatus", "i", property_get_exit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitMessage", "s", property_get_exit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("FinishedAt", "t", property_get_exit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_ARGS("ah", stdio), SD_BUS_NO_RESULT, bus_pod_method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Stop", NULL, NULL, bus_pod_method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("s", whom, "i", signal), SD_BUS_NO_RESULT, bus_pod_method_kill, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT, bus_pod_method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetLogs", SD_BUS_ARGS("t", lines, "b", follow, "a{sv}", options), SD_BUS_RESULT("h", fd),
                                bus_pod_method_get_logs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Exec",
                                SD_BUS_ARGS("as", command, "as", environment, "ah", stdio, "a{sv}", options),
                                SD_BUS_RESULT("ah", pty, "u", pid),
                                bus_pod_method_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ExecStarted", SD_BUS_ARGS("u", pid, "s", unit), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ExecExited", SD_BUS_ARGS("u", pid, "s", code, "i", status), 0),
        SD_BUS_METHOD_WITH_ARGS("SignalExec", SD_BUS_ARGS("u", pid, "i", signal), SD_BUS_NO_RESULT,
                                bus_pod_method_signal_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Wait", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", code, "i", status, "s", message), bus_pod_method_wait, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int pod_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        Pod *p;

        if (sd_bus_path_decode(path, PODCTL_BUS_POD_PREFIX, &name) <= 0)
                return 0;
        p = manager_find_pod(userdata, name);
        if (!p)
                return 0;

        *found = p;
        return 1;
}

int pod_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        char **l;
        size_t n = 0;

        l = calloc(m->n_pods + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Pod *p = m->pods; p; p = p->next) {
                l[n] = strdup(p->path);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                n++;
        }

        *nodes = l;
        return 1;
}
