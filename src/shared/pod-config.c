/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/capability.h>

#include "fileio.h"
#include "name.h"
#include "paths.h"
#include "pod-config.h"
#include "strv.h"

static const char *const storage_type_table[_STORAGE_TYPE_MAX] = {
        [STORAGE_BTRFS] = "btrfs",
        [STORAGE_OVERLAY] = "overlay",
};

static const char *const exit_code_table[_EXIT_CODE_MAX] = {
        [EXIT_CODE_EXITED] = "exited",
        [EXIT_CODE_KILLED] = "killed",
        [EXIT_CODE_DUMPED] = "dumped",
        [EXIT_CODE_START_FAILED] = "start-failed",
};

static const char *const exit_policy_table[_EXIT_POLICY_MAX] = {
        [EXIT_POLICY_ALL] = "all",
        [EXIT_POLICY_ANY] = "any",
        [EXIT_POLICY_FAILURE] = "failure",
};

static int table_lookup(const char *const *table, int n, const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return i;
        return -EINVAL;
}

const char *storage_type_to_string(StorageType t) {
        return t >= 0 && t < _STORAGE_TYPE_MAX ? storage_type_table[t] : NULL;
}

StorageType storage_type_from_string(const char *s) {
        return (StorageType) table_lookup(storage_type_table, _STORAGE_TYPE_MAX, s);
}

const char *exit_code_to_string(ExitCode c) {
        return c >= 0 && c < _EXIT_CODE_MAX ? exit_code_table[c] : NULL;
}

ExitCode exit_code_from_string(const char *s) {
        return (ExitCode) table_lookup(exit_code_table, _EXIT_CODE_MAX, s);
}

const char *exit_policy_to_string(ExitPolicy p) {
        return p >= 0 && p < _EXIT_POLICY_MAX ? exit_policy_table[p] : NULL;
}

ExitPolicy exit_policy_from_string(const char *s) {
        return (ExitPolicy) table_lookup(exit_policy_table, _EXIT_POLICY_MAX, s);
}

void pod_app_done(PodApp *a) {
        free(a->name);
        free(a->image);
        strv_free(a->command);
        strv_free(a->environment);
        free(a->working_directory);
        free(a->user);
        *a = (PodApp) {};
}

int pod_config_add_app(PodConfig *c, PodApp *app) {
        PodApp *apps;

        if (c->n_apps >= POD_APPS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < c->n_apps; i++)
                if (strcmp(c->apps[i].name, app->name) == 0)
                        return -EEXIST;

        apps = reallocarray(c->apps, c->n_apps + 1, sizeof(PodApp));
        if (!apps)
                return -ENOMEM;
        c->apps = apps;
        c->apps[c->n_apps++] = *app;
        *app = (PodApp) {};
        return 0;
}

int pod_app_dir(const PodConfig *c, size_t i, char **ret) {
        char *d;

        if (i >= c->n_apps)
                return -EINVAL;
        if (i == 0)
                d = strdup("");
        else if (asprintf(&d, POD_APPS_DIR "/%s/", c->apps[i].name) < 0)
                d = NULL;
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

bool pod_config_uses_image(const PodConfig *c, const char *image) {
        for (size_t i = 0; i < c->n_apps; i++)
                if (strcmp(c->apps[i].image, image) == 0)
                        return true;
        return false;
}

char **pod_config_images(const PodConfig *c) {
        _cleanup_strv_free_ char **l = NULL;

        l = calloc(c->n_apps + 1, sizeof(char *));
        if (!l)
                return NULL;
        for (size_t i = 0, n = 0; i < c->n_apps; i++) {
                bool seen = false;

                for (size_t k = 0; k < n; k++)
                        seen = seen || strcmp(l[k], c->apps[i].image) == 0;
                if (seen)
                        continue;
                l[n] = strdup(c->apps[i].image);
                if (!l[n++])
                        return NULL;
        }
        return TAKE_PTR(l);
}

bool exit_info_failed(const ExitInfo *e) {
        return e->code != EXIT_CODE_EXITED || e->status != 0;
}

bool exit_policy_ends_pod(ExitPolicy p, const ExitInfo *e, size_t n_running) {
        switch (p) {
        case EXIT_POLICY_ANY:
                return true;
        case EXIT_POLICY_FAILURE:
                return n_running == 0 || exit_info_failed(e);
        default:
                return n_running == 0;
        }
}

void pod_config_init(PodConfig *c) {
        *c = (PodConfig) {
                .owner_uid = (uid_t) -1,
                .uid_shift = UID_INVALID,
                .storage = _STORAGE_TYPE_INVALID,
                .memory_max = LIMIT_UNSET,
                .cpu_quota_per_sec_usec = LIMIT_UNSET,
                .tasks_max = LIMIT_UNSET,
                .io_weight = LIMIT_UNSET,
                .disk_max = LIMIT_UNSET,
        };
}

void pod_config_done(PodConfig *c) {
        free(c->name);
        for (size_t i = 0; i < c->n_apps; i++)
                pod_app_done(c->apps + i);
        free(c->apps);
        bind_mounts_free(c->binds, c->n_binds);
        pod_config_init(c);
}

static json_t *caps_to_json(uint64_t caps) {
        json_t *a = json_array();

        if (!a)
                return NULL;
        for (unsigned c = 0; c < 64; c++) {
                char *name;
                int r;

                if (!(caps & (UINT64_C(1) << c)))
                        continue;
                /* "cap_net_admin"; libcap's names are what cap_from_name() takes back. */
                name = cap_to_name((cap_value_t) c);
                if (!name) {
                        json_decref(a);
                        return NULL;
                }
                r = json_array_append_new(a, json_string(name));
                cap_free(name);
                if (r < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

/* An absent key is the empty set. */
static int caps_from_json(json_t *a, uint64_t *ret) {
        uint64_t caps = 0;
        size_t i;
        json_t *v;

        if (!a) {
                *ret = 0;
                return 0;
        }
        if (!json_is_array(a))
                return -EBADMSG;
        json_array_foreach(a, i, v) {
                cap_value_t c;

                if (!json_is_string(v) || cap_from_name(json_string_value(v), &c) < 0 || c < 0 || c >= 64)
                        return -EBADMSG;
                caps |= UINT64_C(1) << c;
        }

        *ret = caps;
        return 0;
}

static int set_limit(json_t *o, const char *key, uint64_t v) {
        if (v == LIMIT_UNSET)
                return 0;
        return json_object_set_new(o, key, json_integer((json_int_t) v)) < 0 ? -ENOMEM : 0;
}

static int get_limit(json_t *o, const char *key, uint64_t *ret) {
        json_t *v = json_object_get(o, key);

        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return -EBADMSG;
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

static json_t *app_to_json(const PodApp *a) {
        return json_pack("{s:s, s:s, s:o, s:o, s:s?, s:s?}",
                         "name", a->name,
                         "image", a->image,
                         "command", strv_to_json(a->command),
                         "environment", strv_to_json(a->environment),
                         "working_directory", a->working_directory,
                         "user", a->user);
}

int pod_config_to_json(const PodConfig *c, json_t **ret) {
        _cleanup_json_ json_t *j = NULL, *limits = NULL, *apps = NULL;

        apps = json_array();
        if (!apps)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_apps; i++)
                if (json_array_append_new(apps, app_to_json(c->apps + i)) < 0)
                        return -ENOMEM;

        limits = json_object();
        if (!limits)
                return -ENOMEM;
        if (set_limit(limits, "memory_max", c->memory_max) < 0 ||
            set_limit(limits, "cpu_quota_per_sec_usec", c->cpu_quota_per_sec_usec) < 0 ||
            set_limit(limits, "tasks_max", c->tasks_max) < 0 ||
            set_limit(limits, "io_weight", c->io_weight) < 0 ||
            set_limit(limits, "disk_max", c->disk_max) < 0)
                return -ENOMEM;

        j = json_pack("{s:s, s:O, s:s, s:I, s:I, s:s, s:b, s:O, s:b, s:s, s:o, s:o}",
                      "name", c->name,
                      "apps", apps,
                      "exit_policy", exit_policy_to_string(c->exit_policy),
                      "owner_uid", (json_int_t) c->owner_uid,
                      "created_usec", (json_int_t) c->created_usec,
                      "storage", storage_type_to_string(c->storage),
                      "auto_remove", c->auto_remove,
                      "limits", limits,
                      "read_only", c->read_only,
                      "network", c->network_host ? "host" : "private",
                      "capabilities_add", caps_to_json(c->capabilities_add),
                      "capabilities_drop", caps_to_json(c->capabilities_drop));
        if (!j)
                return -ENOMEM;
        if (c->uid_shift != UID_INVALID &&
            json_object_set_new(j, "uid_shift", json_integer((json_int_t) c->uid_shift)) < 0)
                return -ENOMEM;
        if (c->n_binds > 0) {
                json_t *binds = json_array();

                if (!binds || json_object_set_new(j, "binds", binds) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < c->n_binds; i++)
                        if (json_array_append_new(binds, bind_mount_to_json(c->binds + i)) < 0)
                                return -ENOMEM;
        }

        *ret = TAKE_PTR(j);
        return 0;
}

/* Absent in pods made before user namespaces: no shift, the pod runs as it always did. */
static int uid_shift_from_json(json_t *v, uint32_t *ret) {
        json_int_t i;

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v))
                return -EBADMSG;
        i = json_integer_value(v);
        if (i <= 0 || i > (json_int_t) (UINT32_MAX - POD_UID_RANGE_SIZE) || i % POD_UID_RANGE_SIZE != 0)
                return -EBADMSG;
        *ret = (uint32_t) i;
        return 0;
}

static int dup_string(json_t *j, const char *key, bool optional, char **ret) {
        json_t *v = json_object_get(j, key);

        if (!v || json_is_null(v))
                return optional ? 0 : -EBADMSG;
        if (!json_is_string(v))
                return -EBADMSG;
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

static int app_from_json(json_t *j, PodApp *ret) {
        _cleanup_(pod_app_done) PodApp a = {};
        int r;

        if (!json_is_object(j))
                return -EBADMSG;
        if ((r = dup_string(j, "name", false, &a.name)) < 0 ||
            (r = dup_string(j, "image", false, &a.image)) < 0 ||
            (r = dup_string(j, "working_directory", true, &a.working_directory)) < 0 ||
            (r = dup_string(j, "user", true, &a.user)) < 0 ||
            (r = strv_from_json(json_object_get(j, "command"), &a.command)) < 0)
                return r;
        if (json_object_get(j, "environment") &&
            (r = strv_from_json(json_object_get(j, "environment"), &a.environment)) < 0)
                return r;
        if (!name_is_valid(a.name) || !name_is_valid(a.image) || strv_length(a.command) == 0)
                return -EBADMSG;
        if (a.working_directory && a.working_directory[0] != '/')
                return -EBADMSG;

        *ret = a;
        a = (PodApp) {};
        return 0;
}

/* Absent in pods without binds, and in those made before binds existed. */
static int binds_from_json(json_t *a, PodConfig *c) {
        size_t i;
        json_t *v;
        int r;

        if (!a)
                return 0;
        if (!json_is_array(a) || json_array_size(a) > BIND_MOUNTS_MAX)
                return -EBADMSG;
        c->binds = calloc(json_array_size(a), sizeof(BindMount));
        if (!c->binds && json_array_size(a) > 0)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                r = bind_mount_from_json(v, c->binds + i);
                if (r < 0)
                        return r;
                c->n_binds = i + 1;
        }
        return 0;
}

static int apps_from_json(json_t *a, PodConfig *c) {
        size_t i;
        json_t *v;
        int r;

        if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > POD_APPS_MAX)
                return -EBADMSG;
        json_array_foreach(a, i, v) {
                _cleanup_(pod_app_done) PodApp app = {};

                r = app_from_json(v, &app);
                if (r < 0)
                        return r;
                r = pod_config_add_app(c, &app);
                if (r < 0)
                        return r == -ENOMEM ? r : -EBADMSG;
        }
        return 0;
}

int pod_config_from_json(json_t *j, PodConfig *ret) {
        PodConfig c;
        json_int_t owner, created;
        json_t *limits, *network, *policy;
        int r;

        if (!json_is_object(j))
                return -EBADMSG;

        pod_config_init(&c);

        if (json_unpack(j, "{s:I, s:I, s:b}", "owner_uid", &owner, "created_usec", &created, "auto_remove", &c.auto_remove) < 0) {
                r = -EBADMSG;
                goto fail;
        }
        if (owner < 0 || owner > UINT32_MAX - 1 || created < 0) {
                r = -EBADMSG;
                goto fail;
        }
        c.owner_uid = (uid_t) owner;
        c.created_usec = (uint64_t) created;

        if ((r = dup_string(j, "name", false, &c.name)) < 0 ||
            (r = apps_from_json(json_object_get(j, "apps"), &c)) < 0)
                goto fail;

        policy = json_object_get(j, "exit_policy");
        if (policy) {
                c.exit_policy = exit_policy_from_string(json_string_value(policy));
                if (c.exit_policy < 0) {
                        r = -EBADMSG;
                        goto fail;
                }
        }

        c.storage = storage_type_from_string(json_string_value(json_object_get(j, "storage")));

        /* Absent in pods made before these existed: the defaults. */
        if (json_unpack(j, "{s?b}", "read_only", &c.read_only) < 0) {
                r = -EBADMSG;
                goto fail;
        }
        network = json_object_get(j, "network");
        if (network) {
                const char *n = json_string_value(network);
                if (!n || (strcmp(n, "host") != 0 && strcmp(n, "private") != 0)) {
                        r = -EBADMSG;
                        goto fail;
                }
                c.network_host = strcmp(n, "host") == 0;
        }
        if ((r = caps_from_json(json_object_get(j, "capabilities_add"), &c.capabilities_add)) < 0 ||
            (r = caps_from_json(json_object_get(j, "capabilities_drop"), &c.capabilities_drop)) < 0 ||
            (r = uid_shift_from_json(json_object_get(j, "uid_shift"), &c.uid_shift)) < 0 ||
            (r = binds_from_json(json_object_get(j, "binds"), &c)) < 0)
                goto fail;

        r = -EBADMSG;
        if (!name_is_valid(c.name) || c.storage < 0)
                goto fail;

        limits = json_object_get(j, "limits");
        if (limits) {
                if (!json_is_object(limits))
                        goto fail;
                if ((r = get_limit(limits, "memory_max", &c.memory_max)) < 0 ||
                    (r = get_limit(limits, "cpu_quota_per_sec_usec", &c.cpu_quota_per_sec_usec)) < 0 ||
                    (r = get_limit(limits, "tasks_max", &c.tasks_max)) < 0 ||
                    (r = get_limit(limits, "io_weight", &c.io_weight)) < 0 ||
                    (r = get_limit(limits, "disk_max", &c.disk_max)) < 0)
                        goto fail;
        }

        *ret = c;
        return 0;

fail:
        pod_config_done(&c);
        return r;
}

int pod_config_load_at(int pod_dir_fd, PodConfig *ret) {
        _cleanup_json_ json_t *j = NULL;
        int r;

        r = json_read_at(pod_dir_fd, POD_CONFIG_FILE, &j);
        if (r < 0)
                return r;
        return pod_config_from_json(j, ret);
}

int pod_config_save_at(int pod_dir_fd, const PodConfig *c) {
        _cleanup_json_ json_t *j = NULL;
        int r;

        r = pod_config_to_json(c, &j);
        if (r < 0)
                return r;
        return json_write_atomic_at(pod_dir_fd, POD_CONFIG_FILE, j);
}

void exit_info_done(ExitInfo *i) {
        free(i->message);
        i->message = NULL;
        for (size_t k = 0; k < i->n_apps; k++)
                free(i->apps[k].name);
        free(i->apps);
        i->apps = NULL;
        i->n_apps = 0;
}

static int app_exits_from_json(json_t *a, ExitInfo *e) {
        size_t i;
        json_t *v;

        /* Absent in pods that ended before apps were recorded. */
        if (!a)
                return 0;
        if (!json_is_array(a) || json_array_size(a) > POD_APPS_MAX)
                return -EBADMSG;
        e->apps = calloc(json_array_size(a), sizeof(AppExit));
        if (!e->apps && json_array_size(a) > 0)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                const char *name, *code;
                int status;

                if (json_unpack(v, "{s:s, s:s, s:i}", "name", &name, "code", &code, "status", &status) < 0 ||
                    !name_is_valid(name) || exit_code_from_string(code) < 0)
                        return -EBADMSG;
                e->apps[i] = (AppExit) {
                        .name = strdup(name),
                        .code = exit_code_from_string(code),
                        .status = status,
                };
                if (!e->apps[i].name)
                        return -ENOMEM;
                e->n_apps = i + 1;
        }
        return 0;
}

int exit_info_load_at(int pod_dir_fd, ExitInfo *ret) {
        _cleanup_(exit_info_done) ExitInfo e = {};
        _cleanup_json_ json_t *j = NULL;
        const char *code, *message = NULL;
        json_int_t finished;
        int status, r;

        r = json_read_at(pod_dir_fd, POD_EXIT_FILE, &j);
        if (r < 0)
                return r;
        if (json_unpack(j, "{s:s, s:i, s:I, s?s}", "code", &code, "status", &status, "finished_usec", &finished, "message", &message) < 0)
                return -EBADMSG;
        if (exit_code_from_string(code) < 0 || finished < 0)
                return -EBADMSG;

        e = (ExitInfo) {
                .code = exit_code_from_string(code),
                .status = status,
                .finished_usec = (uint64_t) finished,
        };
        if (message) {
                e.message = strdup(message);
                if (!e.message)
                        return -ENOMEM;
        }
        r = app_exits_from_json(json_object_get(j, "apps"), &e);
        if (r < 0)
                return r;

        *ret = e;
        e = (ExitInfo) {};
        return 0;
}

int exit_info_save_at(int pod_dir_fd, const ExitInfo *i) {
        _cleanup_json_ json_t *j = NULL, *apps = NULL;

        apps = json_array();
        if (!apps)
                return -ENOMEM;
        for (size_t k = 0; k < i->n_apps; k++)
                if (json_array_append_new(apps, json_pack("{s:s, s:s, s:i}",
                                                          "name", i->apps[k].name,
                                                          "code", exit_code_to_string(i->apps[k].code),
                                                          "status", i->apps[k].status)) < 0)
                        return -ENOMEM;

        j = json_pack("{s:s, s:i, s:I, s:s*, s:O}",
                      "code", exit_code_to_string(i->code),
                      "status", i->status,
                      "finished_usec", (json_int_t) i->finished_usec,
                      "message", i->message,
                      "apps", apps);
        if (!j)
                return -ENOMEM;
        return json_write_atomic_at(pod_dir_fd, POD_EXIT_FILE, j);
}

int exit_info_to_exit_status(const ExitInfo *i) {
        switch (i->code) {
        case EXIT_CODE_EXITED:
                return i->status;
        case EXIT_CODE_KILLED:
        case EXIT_CODE_DUMPED:
                return 128 + i->status;
        default:
                /* As a shell reports a command it could not run. */
                return i->status == ENOENT ? 127 : 126;
        }
}
