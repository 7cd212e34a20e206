/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "bind-source.h"
#include "bus-errors.h"
#include "bus-polkit.h"
#include "bus-util.h"
#include "fileio.h"
#include "image-dbus.h"
#include "import.h"
#include "oci.h"
#include "log.h"
#include "manager-dbus.h"
#include "manager.h"
#include "name.h"
#include "parse.h"
#include "paths.h"
#include "pod-dbus.h"
#include "strv.h"
#include "trust-dbus.h"
#include "trust-store.h"
#include "uid-range.h"
#include "user-slice.h"

/* Bounds on what one CreatePod call may ask the daemon to store. */
#define COMMAND_ARGS_MAX 4096
#define ENVIRONMENT_MAX 4096
#define ARG_LEN_MAX (128 * 1024)

static int check_name(const char *name, const char *what, sd_bus_error *error) {
        if (!name_is_valid(name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME,
                                         "Invalid %s name '%.80s': use letters, digits, '-' and '.', at most %d characters.",
                                         what, name, NAME_MAX_LEN);
        return 0;
}

static int find_pod(Manager *m, const char *name, Pod **ret, sd_bus_error *error) {
        int r;

        r = check_name(name, "pod", error);
        if (r < 0)
                return r;

        *ret = manager_find_pod(m, name);
        if (!*ret)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_POD, "Pod '%s' does not exist.", name);
        return 0;
}

static int find_image(Manager *m, const char *name, Image **ret, sd_bus_error *error) {
        int r;

        r = check_name(name, "image", error);
        if (r < 0)
                return r;

        *ret = manager_find_image(m, name);
        if (!*ret || (*ret)->importing)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "Image '%s' does not exist.", name);
        return 0;
}

static int method_get_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        Pod *p;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = find_pod(userdata, name, &p, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", p->path);
}

static int method_get_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        Image *i;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = find_image(userdata, name, &i, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", i->path);
}

static int compare_pods(const void *a, const void *b) {
        return strcmp((*(Pod *const *) a)->config.name, (*(Pod *const *) b)->config.name);
}

static int compare_images(const void *a, const void *b) {
        return strcmp((*(Image *const *) a)->name, (*(Image *const *) b)->name);
}

static int method_list_pods(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ Pod **sorted = NULL;
        Manager *m = userdata;
        size_t n = 0;
        int r;

        sorted = calloc(m->n_pods + 1, sizeof(Pod *));
        if (!sorted)
                return -ENOMEM;
        for (Pod *p = m->pods; p; p = p->next)
                sorted[n++] = p;
        qsort(sorted, n, sizeof(Pod *), compare_pods);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssuto)");
        if (r < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                Pod *p = sorted[k];
                r = sd_bus_message_append(reply, "(ssssuto)", p->config.name, pod_state_to_string(p->state),
                                          p->config.apps[0].image, p->unit, (uint32_t) p->config.owner_uid,
                                          p->config.created_usec, p->path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ Image **sorted = NULL;
        Manager *m = userdata;
        size_t n = 0;
        int r;

        sorted = calloc(m->n_images + 1, sizeof(Image *));
        if (!sorted)
                return -ENOMEM;
        for (Image *i = m->images; i; i = i->next)
                if (!i->importing)
                        sorted[n++] = i;
        qsort(sorted, n, sizeof(Image *), compare_images);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssttusso)");
        if (r < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                Image *i = sorted[k];
                r = sd_bus_message_append(reply, "(ssttusso)", i->name, image_format_to_string(i->format), i->size,
                                          i->created_usec, manager_image_users(m, i->name),
                                          image_record_string(i, "verified") ?: "no", image_record_string(i, "key_name") ?: "",
                                          i->path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int read_limit(sd_bus_message *m, const char *key, uint64_t min, uint64_t max, uint64_t *ret, sd_bus_error *error) {
        uint64_t v;
        int r;

        r = sd_bus_message_read(m, "v", "t", &v);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option %s must be an unsigned 64-bit integer.", key);
        if (v < min || v > max)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option %s=%llu is out of range.", key,
                                         (unsigned long long) v);
        *ret = v;
        return 0;
}

static int read_bool(sd_bus_message *m, const char *key, bool *ret, sd_bus_error *error) {
        int b, r;

        r = sd_bus_message_read(m, "v", "b", &b);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option %s must be a boolean.", key);
        *ret = b;
        return 0;
}

static int read_capabilities(sd_bus_message *m, const char *key, uint64_t *ret, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        uint64_t caps = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option %s must be a string array.", key);
        r = bus_read_strv_bounded(m, 64, 64, &l, error);
        if (r < 0)
                return r;
        for (char **i = l; i && *i; i++) {
                cap_value_t c;

                if (cap_from_name(*i, &c) < 0 || c < 0 || c >= 64)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Unknown capability '%.80s'.", *i);
                caps |= UINT64_C(1) << c;
        }

        *ret = caps;
        return sd_bus_message_exit_container(m);
}

/* Returns 1 if key is an option of an app and was read into *a, 0 if it is not one. */
static int read_app_option(sd_bus_message *m, const char *key, PodApp *a, sd_bus_error *error) {
        int r;

        if (strcmp(key, "Environment") == 0) {
                r = sd_bus_message_enter_container(m, 'v', "as");
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option Environment must be a string array.");
                strv_free(a->environment);
                a->environment = NULL;
                r = bus_read_strv_bounded(m, ENVIRONMENT_MAX, ARG_LEN_MAX, &a->environment, error);
                if (r < 0)
                        return r;
                for (char **e = a->environment; e && *e; e++)
                        if (!env_assignment_is_valid(*e))
                                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                         "Invalid environment assignment '%.80s', expected KEY=VALUE.", *e);
                r = sd_bus_message_exit_container(m);
                return r < 0 ? r : 1;
        }
        if (strcmp(key, "WorkingDirectory") == 0) {
                const char *wd;

                r = sd_bus_message_read(m, "v", "s", &wd);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option WorkingDirectory must be a string.");
                if (wd[0] != '/' || strlen(wd) >= PATH_MAX)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Working directory '%.80s' is not an absolute path.", wd);
                free(a->working_directory);
                a->working_directory = strdup(wd);
                if (!a->working_directory)
                        return -ENOMEM;
                return 1;
        }
        return 0;
}

typedef struct CreateOptions {
        PodConfig *config;
        PodApp *app;         /* CreatePod's only app, or NULL */
        bool private_users;
        /* Of each of config->binds: the owner of its source, and whether that is on a
         * kernel pseudo file system. */
        uid_t bind_uids[BIND_MOUNTS_MAX];
        bool bind_pseudo_fs[BIND_MOUNTS_MAX];
} CreateOptions;

/* BindMounts, a(hsbs): (a file descriptor the caller opened, destination, read-only,
 * nspawn's options). The daemon takes no path from the caller: the source is where the
 * kernel says the descriptor's file is. */
static int read_bind_mounts(sd_bus_message *m, CreateOptions *o, sd_bus_error *error) {
        PodConfig *c = o->config;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "a(hsbs)");
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "Option BindMounts must be an array of (fd, destination, read-only, options).");
        r = sd_bus_message_enter_container(m, 'a', "(hsbs)");
        if (r < 0)
                return r;

        bind_mounts_free(c->binds, c->n_binds);
        c->n_binds = 0;
        c->binds = calloc(BIND_MOUNTS_MAX, sizeof(BindMount));
        if (!c->binds)
                return -ENOMEM;

        for (;;) {
                const char *destination, *options, *why;
                int fd, read_only;
                BindMount *b;

                r = sd_bus_message_read(m, "(hsbs)", &fd, &destination, &read_only, &options);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (c->n_binds >= BIND_MOUNTS_MAX)
                        return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Too many bind mounts (at most %d).",
                                                 BIND_MOUNTS_MAX);
                b = c->binds + c->n_binds++;
                *b = (BindMount) { .read_only = read_only, .owner_uid = (uid_t) -1 };

                why = bind_destination_invalid(destination);
                if (why)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_BIND_MOUNT,
                                                 "Invalid bind mount onto '%.80s': the destination %s.", destination, why);
                b->destination = strdup(destination);
                if (!b->destination)
                        return -ENOMEM;
                if (strlen(options) > 256 || bind_options_parse(options, &b->recursive, &b->idmap) < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_BIND_MOUNT,
                                                 "Invalid bind mount onto '%s': unknown options '%.80s', expected rbind, "
                                                 "norbind, idmap, noidmap or rootidmap.", destination, options);
                r = bind_source_from_fd(fd, b, o->bind_uids + c->n_binds - 1, o->bind_pseudo_fs + c->n_binds - 1);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_BIND_MOUNT, "Invalid bind mount onto '%s': %s.",
                                                 destination, bind_source_strerror(r));
        }

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_app_option_handler(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return read_app_option(m, key, userdata, error);
}

/* The pod's options; with o->app, also those of the pod's only app. */
static int read_create_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        CreateOptions *o = userdata;
        PodConfig *c = o->config;
        int r;

        r = o->app ? read_app_option(m, key, o->app, error) : 0;
        if (r < 0)
                return r;
        if (r > 0)
                return 1;

        if (strcmp(key, "ExitPolicy") == 0) {
                const char *v;

                r = sd_bus_message_read(m, "v", "s", &v);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option ExitPolicy must be a string.");
                c->exit_policy = exit_policy_from_string(v);
                if (c->exit_policy < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Invalid exit policy '%.80s', expected 'all', 'any' or 'failure'.", v);
        } else if (strcmp(key, "AutoRemove") == 0)
                r = read_bool(m, key, &c->auto_remove, error);
        else if (strcmp(key, "ReadOnly") == 0)
                r = read_bool(m, key, &c->read_only, error);
        else if (strcmp(key, "PrivateUsers") == 0)
                r = read_bool(m, key, &o->private_users, error);
        else if (strcmp(key, "BindMounts") == 0)
                r = read_bind_mounts(m, o, error);
        else if (strcmp(key, "Network") == 0) {
                const char *n;

                r = sd_bus_message_read(m, "v", "s", &n);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option Network must be a string.");
                if (strcmp(n, "host") != 0 && strcmp(n, "private") != 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Invalid network '%.80s', expected 'private' or 'host'.", n);
                c->network_host = strcmp(n, "host") == 0;
        } else if (strcmp(key, "CapabilitiesAdd") == 0 || strcmp(key, "CapabilitiesDrop") == 0) {
                r = read_capabilities(m, key, strcmp(key, "CapabilitiesAdd") == 0 ? &c->capabilities_add : &c->capabilities_drop, error);
        } else if (strcmp(key, "MemoryMax") == 0)
                r = read_limit(m, key, 1, UINT64_MAX - 1, &c->memory_max, error);
        else if (strcmp(key, "CPUQuotaPerSecUSec") == 0)
                r = read_limit(m, key, 1000, UINT64_MAX - 1, &c->cpu_quota_per_sec_usec, error);
        else if (strcmp(key, "TasksMax") == 0)
                r = read_limit(m, key, 1, UINT64_MAX - 1, &c->tasks_max, error);
        else if (strcmp(key, "IOWeight") == 0)
                r = read_limit(m, key, 1, 10000, &c->io_weight, error);
        else if (strcmp(key, "DiskLimit") == 0)
                r = read_limit(m, key, 1, UINT64_MAX - 1, &c->disk_max, error);
        else
                return 0;
        if (r < 0)
                return r;
        return 1;
}

static int pick_pod_name(Manager *m, char **ret) {
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                _cleanup_free_ char *name = NULL;
                int r = hidden_name("pod", "", &name);
                if (r < 0)
                        return r;
                /* "pod-" + 16 hex digits; keep 8 of them. */
                name[12] = '\0';
                if (!manager_find_pod(m, name)) {
                        *ret = TAKE_PTR(name);
                        return 0;
                }
        }
        return -EEXIST;
}

/* The daemon is single-threaded and records the range in the pod before it answers, so
 * the pods it knows are all the ranges in use. */
static int pick_uid_shift(Manager *m, uint32_t *ret) {
        _cleanup_free_ uint32_t *used = NULL, *taken = NULL;
        size_t n_used = 0, n_taken = 0;
        int r;

        used = calloc(m->n_pods + 1, sizeof(uint32_t));
        if (!used)
                return -ENOMEM;
        for (Pod *p = m->pods; p; p = p->next)
                if (p->config.uid_shift != UID_INVALID)
                        used[n_used++] = p->config.uid_shift;

        r = uid_range_host_ids(&taken, &n_taken);
        if (r < 0)
                return r;
        return uid_range_pick(used, n_used, taken, n_taken, ret);
}

/* Settles each bind's idmap and whom its source must stay owned by, and says whether the
 * binds need an admin: a source the caller does not own (or one on a kernel pseudo file
 * system), "idmap" (the pod's root would be the host's on that tree), or any bind into a
 * pod that runs as the host's root. Root's binds are recorded as an admin's. */
static int create_pod_check_binds(sd_bus_message *message, CreateOptions *o, bool *ret_privileged, sd_bus_error *error) {
        PodConfig *c = o->config;
        bool privileged = false;
        uid_t caller;
        int r;

        if (c->n_binds == 0) {
                *ret_privileged = false;
                return 0;
        }
        r = bus_query_caller_uid(message, &caller);
        if (r < 0)
                return r;

        for (size_t i = 0; i < c->n_binds; i++) {
                BindMount *b = c->binds + i;
                bool own = o->bind_uids[i] == caller && !o->bind_pseudo_fs[i];

                if ((int) b->idmap < 0) {
                        b->idmap = o->private_users ? BIND_IDMAP_ROOT : BIND_IDMAP_NO;
                        b->idmap_auto = o->private_users;
                }
                if (!o->private_users && b->idmap != BIND_IDMAP_NO)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_BIND_MOUNT,
                                                 "Invalid bind mount of '%s' onto '%s': %s needs the pod's own user "
                                                 "namespace, and it runs as the host's root.",
                                                 b->source, b->destination, bind_idmap_to_string(b->idmap));
                privileged = privileged || !own || b->idmap == BIND_IDMAP_YES || !o->private_users;
                b->owner_uid = own && caller != 0 ? caller : (uid_t) -1;
        }

        *ret_privileged = privileged;
        return 0;
}

/* Which action creating the pod is: start-privileged for any weakened confinement (binds
 * included, see create_pod_check_binds()), else start-signed if every app's image verified
 * against a trusted key, else start-untrusted. Rules see the images and their key IDs,
 * comma-separated in the order of the apps, and the sources of the binds. */
static int create_pod_authorize(sd_bus_message *message, Manager *m, const char *name, const PodConfig *c,
                                bool private_users, bool binds_privileged, uid_t *ret_uid, sd_bus_error *error) {
        _cleanup_strv_free_ char **images = NULL, **keys = NULL, **sources = NULL;
        _cleanup_free_ char *image = NULL, *key_id = NULL, *binds = NULL;
        const char *action, *details[17];
        bool is_signed = true;
        size_t n = 0;

        for (size_t k = 0; k < c->n_apps; k++) {
                const Image *i = manager_find_image(m, c->apps[k].image);
                const char *verified = i ? image_record_string(i, "verified") : NULL;
                const char *id = i ? image_record_string(i, "key_id") : NULL;

                if (!streq_ptr(verified, "signature") || !id)
                        is_signed = false;
                if (strv_extend(&images, c->apps[k].image) < 0 || strv_extend(&keys, id ?: "") < 0)
                        return -ENOMEM;
        }
        for (size_t k = 0; k < c->n_binds; k++)
                if (strv_extend(&sources, c->binds[k].source) < 0)
                        return -ENOMEM;
        image = strv_join(images, ",");
        key_id = strv_join(keys, ",");
        binds = strv_join(sources, ",");
        if (!image || !key_id || !binds)
                return -ENOMEM;

        if (!private_users || c->network_host || c->capabilities_add != 0 || binds_privileged)
                action = "io.podctl.pod1.start-privileged";
        else if (is_signed)
                action = "io.podctl.pod1.start-signed";
        else
                action = "io.podctl.pod1.start-untrusted";

        details[n++] = "verb";
        details[n++] = "create-pod";
        if (*name) {
                details[n++] = "pod";
                details[n++] = name;
        }
        details[n++] = "image";
        details[n++] = image;
        details[n++] = "signed";
        details[n++] = is_signed ? "yes" : "no";
        if (is_signed) {
                details[n++] = "key_id";
                details[n++] = key_id;
        }
        details[n++] = "private_users";
        details[n++] = private_users ? "yes" : "no";
        if (c->n_binds > 0) {
                details[n++] = "binds";
                details[n++] = binds;
                details[n++] = "binds_owned";
                details[n++] = binds_privileged ? "no" : "yes";
        }
        details[n] = NULL;

        return bus_verify_polkit_async(message, action, details, &m->polkit, ret_uid, error);
}

/* The bounds podctl.conf sets on a pod that a user other than root creates. */
static int create_pod_user_limits(Manager *m, uid_t uid, PodConfig *c, sd_bus_error *error) {
        size_t n_owned = 0;
        int r;

        r = podctl_conf_load(PODCTL_CONF_FILE, &m->conf);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED,
                                         "%s is invalid, so users may not create pods until it is fixed.", PODCTL_CONF_FILE);

        for (Pod *p = m->pods; p; p = p->next)
                n_owned += p->config.owner_uid == uid;
        return user_limits_apply(&m->conf.users, n_owned, c, error);
}

typedef struct CreateReply {
        sd_bus_message *call;
        char *name;
        char *path;
} CreateReply;

static CreateReply *create_reply_free(CreateReply *c) {
        if (!c)
                return NULL;
        sd_bus_message_unref(c->call);
        free(c->name);
        free(c->path);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CreateReply *, create_reply_free);

/* systemd reloaded the units that put a new pod into its owner's slice: only now may the
 * caller start it. */
static int on_slice_reloaded(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(create_reply_freep) CreateReply *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e) {
                log_error("Failed to reload systemd for the slice of pod '%s': %s", c->name, e->message);
                return sd_bus_reply_method_errorf(c->call, BUS_ERROR_SYSTEMD_FAILED,
                                                  "Pod '%s' was created, but systemd failed to reload its slice: %s",
                                                  c->name, e->message);
        }
        return sd_bus_reply_method_return(c->call, "so", c->name, c->path);
}

static int create_pod_reply_after_reload(Manager *m, sd_bus_message *message, Pod *p) {
        _cleanup_(create_reply_freep) CreateReply *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->call = sd_bus_message_ref(message);
        c->name = strdup(p->config.name);
        c->path = strdup(p->path);
        if (!c->name || !c->path)
                return -ENOMEM;

        r = manager_reload_systemd(m, on_slice_reloaded, c);
        if (r < 0)
                return r;
        TAKE_PTR(c);
        return 1;
}

/* What CreatePod and CreatePodWithApps share, once the apps and options are read. */
static int create_pod(sd_bus_message *message, Manager *m, const char *name, CreateOptions *o, sd_bus_error *error) {
        _cleanup_strv_free_ char **images = NULL;
        PodConfig *c = o->config;
        bool private_users = o->private_users, binds_privileged = false;
        Pod *p;
        uid_t uid;
        int r, reload;

        if (*name) {
                r = check_name(name, "pod", error);
                if (r < 0)
                        return r;
        }

        if (c->disk_max != LIMIT_UNSET && m->storage != STORAGE_BTRFS)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "A disk limit needs the btrfs store; %s is not on btrfs.", PODCTL_STATE_DIR);

        r = create_pod_check_binds(message, o, &binds_privileged, error);
        if (r < 0)
                return r;

        r = create_pod_authorize(message, m, name, c, private_users, binds_privileged, &uid, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        if (*name && manager_find_pod(m, name))
                return sd_bus_error_setf(error, BUS_ERROR_POD_EXISTS, "Pod '%s' already exists.", name);
        if (m->n_pods >= PODS_MAX)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Too many pods (at most %d).", PODS_MAX);
        if (uid != 0) {
                r = create_pod_user_limits(m, uid, c, error);
                if (r < 0)
                        return r;
        }

        if (*name) {
                c->name = strdup(name);
                if (!c->name)
                        return -ENOMEM;
        } else {
                r = pick_pod_name(m, &c->name);
                if (r < 0)
                        return r;
        }

        c->owner_uid = uid;
        c->created_usec = now_usec();
        c->storage = m->storage;

        if (private_users) {
                r = pick_uid_shift(m, &c->uid_shift);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED,
                                                 "No free UID range for pod '%s': %s", c->name, strerror(-r));
        }

        /* Before the pod exists, so that nothing starts it outside its owner's slice. */
        reload = manager_write_pod_dropins(m, c, /* new_pod= */ true);
        if (reload < 0)
                return sd_bus_error_setf(error, BUS_ERROR_SYSTEMD_FAILED, "Failed to write the slice of pod '%s': %s",
                                         c->name, strerror(-reload));

        r = pod_create(m, c, &p);
        if (r < 0) {
                _cleanup_free_ char *unit = pod_unit_name(c->name);

                if (unit)
                        pod_dropins_remove(POD_UNIT_DIR, unit);
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILED, "Failed to create pod '%s': %s",
                                         c->name ?: name, strerror(-r));
        }

        r = pod_watch_unit(p, /* query= */ false);
        if (r < 0)
                return r;

        (void) sd_bus_emit_signal(m->bus, PODCTL_BUS_PATH, PODCTL_MANAGER_INTERFACE, "PodNew", "so", p->config.name, p->path);
        images = pod_config_images(&p->config);
        for (char **i = images; i && *i; i++)
                bus_image_emit_pods_changed(m, *i);

        if (reload > 0)
                return create_pod_reply_after_reload(m, message, p);
        return sd_bus_reply_method_return(message, "so", p->config.name, p->path);
}

/* What the image's OCI config (if any) says, under what the caller said: Entrypoint and Cmd
 * when no command was given, Env under the caller's, WorkingDir and User unless given. An
 * image without one, and no command, runs a shell, as machinectl shell does. */
static int app_apply_image_defaults(PodApp *a, const Image *i) {
        _cleanup_(oci_defaults_done) OciDefaults d = {};
        json_t *config = json_object_get(i->record, "config");

        if (config && oci_defaults_from_json(config, &d) >= 0) {
                if (strv_length(a->command) == 0 && (d.entrypoint || d.cmd)) {
                        _cleanup_strv_free_ char **l = strv_copy(d.entrypoint);

                        if (!l && d.entrypoint)
                                return -ENOMEM;
                        for (char **c = d.cmd; c && *c; c++)
                                if (strv_extend(&l, *c) < 0)
                                        return -ENOMEM;
                        strv_free(a->command);
                        a->command = TAKE_PTR(l);
                }
                if (d.env) {
                        _cleanup_strv_free_ char **env = strv_copy(d.env);

                        if (!env)
                                return -ENOMEM;
                        for (char **e = a->environment; e && *e; e++)
                                if (strv_extend(&env, *e) < 0)
                                        return -ENOMEM;
                        strv_free(a->environment);
                        a->environment = TAKE_PTR(env);
                }
                if (!a->working_directory && d.working_dir) {
                        a->working_directory = strdup(d.working_dir);
                        if (!a->working_directory)
                                return -ENOMEM;
                }
                if (!a->user && d.user) {
                        a->user = strdup(d.user);
                        if (!a->user)
                                return -ENOMEM;
                }
        }

        if (strv_length(a->command) == 0) {
                strv_free(a->command);
                a->command = strv_copy((char *[]) { (char *) "/bin/sh", NULL });
                if (!a->command)
                        return -ENOMEM;
        }
        return 0;
}

static int app_finish(Manager *m, PodApp *a, const char *image, sd_bus_error *error) {
        Image *i;
        int r;

        r = find_image(m, image, &i, error);
        if (r < 0)
                return r;
        a->image = strdup(i->name);
        if (!a->image)
                return -ENOMEM;
        return app_apply_image_defaults(a, i);
}

static int add_app(PodConfig *c, PodApp *a, sd_bus_error *error) {
        int r;

        r = pod_config_add_app(c, a);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "App '%s' appears twice.", a->name);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Too many apps (at most %d).", POD_APPS_MAX);
        return r;
}

/* CreatePod(name, image, command, options): a pod of one app, named after its image. */
static int method_create_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(pod_config_done) PodConfig c;
        _cleanup_(pod_app_done) PodApp a = {};
        CreateOptions o;
        Manager *m = userdata;
        const char *name, *image;
        int r;

        pod_config_init(&c);

        r = sd_bus_message_read(message, "ss", &name, &image);
        if (r < 0)
                return r;
        r = bus_read_strv_bounded(message, COMMAND_ARGS_MAX, ARG_LEN_MAX, &a.command, error);
        if (r < 0)
                return r;
        o = (CreateOptions) { .config = &c, .app = &a, .private_users = true };
        r = bus_read_options(message, NULL, read_create_option, &o, error);
        if (r < 0)
                return r;

        r = app_finish(m, &a, image, error);
        if (r < 0)
                return r;
        a.name = strdup(a.image);
        if (!a.name)
                return -ENOMEM;
        r = add_app(&c, &a, error);
        if (r < 0)
                return r;

        return create_pod(message, m, name, &o, error);
}

/* One (name, image, command, options) of CreatePodWithApps. */
static int read_app(sd_bus_message *message, Manager *m, PodApp *a, sd_bus_error *error) {
        const char *name, *image;
        int r;

        r = sd_bus_message_read(message, "ss", &name, &image);
        if (r < 0)
                return r;
        r = check_name(name, "app", error);
        if (r < 0)
                return r;
        a->name = strdup(name);
        if (!a->name)
                return -ENOMEM;
        r = bus_read_strv_bounded(message, COMMAND_ARGS_MAX, ARG_LEN_MAX, &a->command, error);
        if (r < 0)
                return r;

        r = bus_read_options(message, "an app", read_app_option_handler, a, error);
        if (r < 0)
                return r;

        return app_finish(m, a, image, error);
}

/* CreatePodWithApps(name, apps, options): rkt's pods, each app from its own image. */
static int method_create_pod_with_apps(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(pod_config_done) PodConfig c;
        CreateOptions o;
        Manager *m = userdata;
        const char *name;
        int r;

        pod_config_init(&c);

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;

        r = sd_bus_message_enter_container(message, 'a', "(ssasa{sv})");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'r', "ssasa{sv}")) > 0) {
                _cleanup_(pod_app_done) PodApp a = {};

                r = read_app(message, m, &a, error);
                if (r < 0)
                        return r;
                r = add_app(&c, &a, error);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;
        if (c.n_apps == 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "A pod needs at least one app.");

        o = (CreateOptions) { .config = &c, .private_users = true };
        r = bus_read_options(message, NULL, read_create_option, &o, error);
        if (r < 0)
                return r;

        return create_pod(message, m, name, &o, error);
}

/* Manager.XxxPod(name, ...) = Pod.Xxx(...) on the named pod. */
static int redirect_pod_method(sd_bus_message *message, Manager *m, sd_bus_error *error,
                               sd_bus_message_handler_t handler) {
        const char *name;
        Pod *p;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = find_pod(m, name, &p, error);
        if (r < 0)
                return r;
        return handler(message, p, error);
}

static int method_start_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return redirect_pod_method(message, userdata, error, bus_pod_method_start);
}

static int method_stop_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return redirect_pod_method(message, userdata, error, bus_pod_method_stop);
}

static int method_kill_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return redirect_pod_method(message, userdata, error, bus_pod_method_kill);
}

static int method_remove_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return redirect_pod_method(message, userdata, error, bus_pod_method_remove);
}

static int method_exec_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return redirect_pod_method(message, userdata, error, bus_pod_method_exec);
}

static int method_wait_pod(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return redirect_pod_method(message, userdata, error, bus_pod_method_wait);
}

static int method_remove_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        Image *i;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = find_image(userdata, name, &i, error);
        if (r < 0)
                return r;
        return bus_image_method_remove(message, i, error);
}

typedef struct ImportRequest {
        ImportOptions options;
        bool verify_set;
        const char *sha256;
        MinisignSignature signature;
} ImportRequest;

static int read_import_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        ImportRequest *q = userdata;
        ImportOptions *o = &q->options;
        const char *v;
        int r;

        if (streq(key, "Format")) {
                r = sd_bus_message_read(m, "v", "s", &v);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option Format must be a string.");
                o->format = streq(v, "auto") ? IMAGE_FORMAT_AUTO : image_format_from_string(v);
                if ((int) o->format < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Unknown image format '%.80s', expected auto, tar, directory, oci, "
                                                 "docker-archive, squashfs, erofs or raw.", v);
        } else if (streq(key, "Tag")) {
                r = sd_bus_message_read(m, "v", "s", &v);
                if (r < 0 || strlen(v) > 256)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option Tag must be a string of at most 256 bytes.");
                o->tag = *v ? v : NULL;
        } else if (streq(key, "Verify")) {
                r = sd_bus_message_read(m, "v", "s", &v);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option Verify must be a string.");
                o->verify = import_verify_from_string(v);
                if ((int) o->verify < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Unknown verification '%.80s', expected signature, checksum or no.", v);
                q->verify_set = true;
        } else if (streq(key, "Signature")) {
                const void *text;
                size_t size;

                /* Bytes in the call, not an fd: the handler reads them again, the same, when it runs
                 * again with polkit's answer, and never waits for a caller's file. */
                r = sd_bus_message_enter_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_read_array(m, 'y', &text, &size);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                                 "Option Signature must be the bytes of a minisign signature file.");
                r = minisign_signature_parse(text, size, &q->signature);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_SIGNATURE_MALFORMED, "The signature is malformed: %s.",
                                                 r == -EPROTONOSUPPORT ? "unknown algorithm" : "not a minisign signature");
                o->signature = &q->signature;
        } else if (streq(key, "SHA256")) {
                r = sd_bus_message_read(m, "v", "s", &q->sha256);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Option SHA256 must be a string.");
                o->sha256 = q->sha256;
        } else if (streq(key, "AllowLegacySignature"))
                r = read_bool(m, key, &o->allow_legacy_signature, error);
        else if (streq(key, "AllowDevices"))
                r = read_bool(m, key, &o->allow_devices, error);
        else
                return 0;
        return r < 0 ? r : 1;
}

/* import-signed if the signature names a key of the trust store, else import-untrusted. Whether
 * it verifies shows only in the import, which fails if it does not; the key it must verify
 * with is the one rules saw, as the import checks this very signature. */
static int import_authorize(sd_bus_message *message, Manager *m, const char *name, const ImportOptions *o,
                            sd_bus_error *error) {
        _cleanup_trust_store_free_ TrustStore *store = NULL;
        char key_id[MINISIGN_KEY_ID_STRING_MAX];
        const char *details[11];
        bool is_signed = false;
        size_t n = 0;
        int r;

        details[n++] = "verb";
        details[n++] = "import-image";
        details[n++] = "image";
        details[n++] = name;
        details[n++] = "verify";
        details[n++] = import_verify_to_string(o->verify);
        if (o->verify == IMPORT_VERIFY_SIGNATURE) {
                r = trust_store_load(TRUST_STORE_ETC_DIR, TRUST_STORE_VENDOR_DIR, &store);
                if (r < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_IMPORT_FAILED, "Failed to load the trusted keys: %s",
                                                 strerror(-r));
                is_signed = trust_store_find_id(store, o->signature->key_id);
                details[n++] = "key_id";
                details[n++] = minisign_key_id_to_string(o->signature->key_id, key_id);
        }
        details[n++] = "signed";
        details[n++] = is_signed ? "yes" : "no";
        details[n] = NULL;

        return bus_verify_polkit_async(message, is_signed ? "io.podctl.pod1.import-signed" : "io.podctl.pod1.import-untrusted",
                                       details, &m->polkit, NULL, error);
}

static int method_import_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ImportRequest q = {
                .options = {
                        .format = IMAGE_FORMAT_AUTO,
                        .progress_fd = -EBADF,
                        .limits = EXTRACT_LIMITS_DEFAULT,
                },
        };
        const char *name;
        unsigned n_importing = 0;
        struct stat st;
        int fd, flags, r;

        r = sd_bus_message_read(message, "sh", &name, &fd);
        if (r < 0)
                return r;
        r = bus_read_options(message, NULL, read_import_option, &q, error);
        if (r < 0)
                return r;

        /* What there is to verify decides, unless the caller says. */
        if (!q.verify_set)
                q.options.verify = q.options.signature ? IMPORT_VERIFY_SIGNATURE :
                                   q.sha256 ? IMPORT_VERIFY_CHECKSUM : IMPORT_VERIFY_NO;
        if (q.options.verify == IMPORT_VERIFY_SIGNATURE && !q.options.signature)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Verifying a signature needs the Signature option.");
        if (q.options.verify == IMPORT_VERIFY_CHECKSUM &&
            (!q.sha256 || strlen(q.sha256) != 64 || strspn(q.sha256, "0123456789abcdefABCDEF") != 64))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Verifying a checksum needs SHA256 with 64 hexadecimal digits.");

        r = check_name(name, "image", error);
        if (r < 0)
                return r;

        /* The caller opened the source with its own rights; it must be something to read. */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fstat(fd, &st) < 0)
                return sd_bus_error_set_errnof(error, errno, "Invalid file descriptor: %m");
        if ((flags & O_ACCMODE) == O_WRONLY || (flags & O_PATH))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "File descriptor is not open for reading.");
        if (S_ISDIR(st.st_mode))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "File descriptor refers to a directory; send a tar stream of it.");

        r = import_authorize(message, m, name, &q.options, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        if (manager_find_image(m, name))
                return sd_bus_error_setf(error, BUS_ERROR_IMAGE_EXISTS, "Image '%s' already exists.", name);
        if (m->n_images >= IMAGES_MAX)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Too many images (at most %d).", IMAGES_MAX);
        for (Image *i = m->images; i; i = i->next)
                n_importing += i->importing;
        if (n_importing >= IMPORTS_MAX)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Too many imports at once (at most %d).", IMPORTS_MAX);

        r = image_import_start(m, name, &q.options, fd, message, error);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILED, "Failed to import image '%s': %s", name, strerror(-r));
        return 1;
}

/* Removes every image no pod uses. */
static int method_prune_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        Manager *m = userdata;
        int r;

        r = bus_verify_polkit_async(message, "io.podctl.pod1.manage-images", (const char *[]) { "verb", "prune-images", NULL },
                                    &m->polkit, NULL, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        for (Image *i = m->images, *next; i; i = next) {
                next = i->next;
                if (i->importing || manager_image_users(m, i->name) > 0)
                        continue;
                r = strv_extend(&removed, i->name);
                if (r < 0)
                        return r;
                r = image_remove(i);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to remove image '%s': %m", removed[strv_length(removed) - 1]);
        }

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(reply, removed);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_take_pod_stdio(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *name, *unit = NULL;
        uid_t uid = (uid_t) -1;
        Pod *p;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = find_pod(userdata, name, &p, error);
        if (r < 0)
                return r;

        /* Only the pod's own stage1 gets the terminal of whoever started it. */
        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID | SD_BUS_CREDS_UNIT | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r >= 0)
                r = sd_bus_creds_get_unit(creds, &unit);
        if (r < 0 || uid != 0 || strcmp(unit, p->unit) != 0)
                return sd_bus_error_setf(error, BUS_ERROR_NOT_PERMITTED, "Only the stage1 of pod '%s' may take its stdio.", name);

        if (p->stdio[0] < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Pod '%s' has no stdio to hand over.", name);

        r = sd_bus_reply_method_return(message, "hhh", p->stdio[0], p->stdio[1], p->stdio[2]);
        for (size_t k = 0; k < 3; k++)
                p->stdio[k] = safe_close(p->stdio[k]);
        manager_check_idle(p->manager);
        return r;
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetPod", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", path), method_get_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImage", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", path), method_get_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPods", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssuto)", pods), method_list_pods, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssttusso)", images), method_list_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreatePod",
                                SD_BUS_ARGS("s", name, "s", image, "as", command, "a{sv}", options),
                                SD_BUS_RESULT("s", created_name, "o", path),
                                method_create_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreatePodWithApps",
                                SD_BUS_ARGS("s", name, "a(ssasa{sv})", apps, "a{sv}", options),
                                SD_BUS_RESULT("s", created_name, "o", path),
                                method_create_pod_with_apps, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartPod", SD_BUS_ARGS("s", name, "ah", stdio), SD_BUS_NO_RESULT, method_start_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopPod", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_stop_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("KillPod", SD_BUS_ARGS("s", name, "s", whom, "i", signal), SD_BUS_NO_RESULT, method_kill_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemovePod", SD_BUS_ARGS("s", name, "b", force), SD_BUS_NO_RESULT, method_remove_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ExecPod",
                                SD_BUS_ARGS("s", name, "as", command, "as", environment, "ah", stdio, "a{sv}", options),
                                SD_BUS_RESULT("ah", pty, "u", pid),
                                method_exec_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("WaitPod", SD_BUS_ARGS("s", name), SD_BUS_RESULT("s", code, "i", status, "s", message), method_wait_pod, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportImage", SD_BUS_ARGS("s", name, "h", fd, "a{sv}", options), SD_BUS_RESULT("o", path), method_import_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", removed), method_prune_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", name, "b", force), SD_BUS_NO_RESULT, method_remove_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddTrustedKey", SD_BUS_ARGS("h", key_file, "s", name), SD_BUS_RESULT("s", name, "s", key_id), bus_manager_method_add_trusted_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTrustedKeys", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssssb)", keys), bus_manager_method_list_trusted_keys, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveTrustedKey", SD_BUS_ARGS("s", name_or_id), SD_BUS_RESULT("as", removed_names), bus_manager_method_remove_trusted_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("TakePodStdio", SD_BUS_ARGS("s", name), SD_BUS_RESULT("h", stdin, "h", stdout, "h", stderr), method_take_pod_stdio, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("PodNew", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("PodRemoved", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ImageNew", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ImageRemoved", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_VTABLE_END
};
