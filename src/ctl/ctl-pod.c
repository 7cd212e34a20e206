/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "bus-errors.h"
#include "ctl-pod.h"
#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "name.h"
#include "parse.h"
#include "paths.h"
#include "pod-config.h"
#include "strv.h"
#include "table.h"

/* What status shows for another user's pod's command. */
#define POD_DETAILS_HIDDEN "(hidden: not your pod)"

/* Right-aligned labels of "podctl status", as machinectl status lays them out. */
#define STATUS_LABEL_WIDTH 10

static bool isempty(const char *s) {
        return !s || !*s;
}

static json_t *json_string_or_null(const char *s) {
        return isempty(s) ? json_null() : json_string(s);
}

static json_t *json_limit(uint64_t v) {
        return v == LIMIT_UNSET ? json_null() : json_integer((json_int_t) v);
}

/* "list" */

static int read_pod_row(sd_bus_message *reply, Table *table) {
        const char *name, *state, *image, *unit, *path;
        _cleanup_free_ char *owner = NULL;
        char ts[FORMAT_TIMESTAMP_MAX];
        uint64_t created;
        uint32_t uid;
        int r;

        r = sd_bus_message_read(reply, "(ssssuto)", &name, &state, &image, &unit, &uid, &created, &path);
        if (r <= 0)
                return r;

        owner = format_owner(uid);
        if (!owner)
                return -ENOMEM;

        if (table_add_string(table, name) < 0 ||
            table_add_string(table, state) < 0 ||
            table_add_string(table, image) < 0 ||
            table_add_cell(table, owner, json_integer(uid)) < 0 ||
            table_add_string(table, unit) < 0 ||
            table_add_cell(table, format_timestamp(ts, sizeof(ts), created), json_integer((json_int_t) created)) < 0)
                return -ENOMEM;
        return 1;
}

int verb_list(int argc, char *argv[]) {
        _cleanup_table_ Table *table = NULL;

        table = table_new("NAME", "name", "STATE", "state", "IMAGE", "image", "OWNER", "owner_uid",
                          "UNIT", "unit", "CREATED", "created_usec", NULL);
        if (!table)
                return log_oom();

        return run_list_verb(argc, argv, "ListPods", "(ssssuto)", table, read_pod_row, "pods");
}

/* "status" */

typedef struct AppInfo {
        char *name;
        char *image;
        char **command;
        char *exit_code; /* empty until the pod ended */
        int32_t exit_status;
} AppInfo;

typedef struct PodInfo {
        char *name;
        char *state;
        char *image;
        char *unit;
        char *slice;
        char *working_directory;
        char *storage;
        char *root_directory;
        char *exit_code;
        char *exit_message;
        char **command;
        char **environment;
        uint32_t owner_uid;
        uint32_t leader;
        int32_t exit_status;
        bool auto_remove;
        bool read_only;
        char *network;
        uint32_t uid_shift;
        char **capabilities_add;
        char **capabilities_drop;
        uint64_t created_usec;
        uint64_t finished_usec;
        uint64_t memory_max;
        uint64_t cpu_quota_per_sec_usec;
        uint64_t tasks_max;
        uint64_t io_weight;
        uint64_t disk_max;
        char *exit_policy;
        char *uid_mapping;
        AppInfo *apps;
        size_t n_apps;
        BindMount *binds;
        size_t n_binds;
} PodInfo;

static void app_infos_free(AppInfo *apps, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(apps[i].name);
                free(apps[i].image);
                strv_free(apps[i].command);
                free(apps[i].exit_code);
        }
        free(apps);
}

/* An array property's variant, "a" + contents, entered down to its array. */
static int enter_variant_array(sd_bus_message *m, const char *contents) {
        char signature[32];
        int r;

        snprintf(signature, sizeof signature, "a%s", contents);
        r = sd_bus_message_enter_container(m, 'v', signature);
        if (r < 0)
                return r;
        return sd_bus_message_enter_container(m, 'a', contents);
}

static int exit_variant_array(sd_bus_message *m) {
        int r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* One more zeroed element of size at the end of *array; -EBADMSG beyond max. */
static int grow_one(void **array, size_t *n, size_t max, size_t size) {
        char *a;

        if (*n >= max)
                return -EBADMSG;
        a = reallocarray(*array, *n + 1, size);
        if (!a)
                return -ENOMEM;
        memset(a + *n * size, 0, size);
        *array = a;
        (*n)++;
        return 0;
}

/* The Apps property, a(ssassi), into the PodInfo dest points to. */
static int read_apps_property(sd_bus_message *m, void *dest) {
        PodInfo *info = dest;
        int r;

        r = enter_variant_array(m, "(ssassi)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "ssassi")) > 0) {
                const char *name, *image, *code;
                AppInfo *a;

                /* The service has at most POD_APPS_MAX; a longer list is not its. */
                r = grow_one((void **) &info->apps, &info->n_apps, POD_APPS_MAX, sizeof(AppInfo));
                if (r < 0)
                        return r;
                a = info->apps + info->n_apps - 1;

                r = sd_bus_message_read(m, "ss", &name, &image);
                if (r < 0)
                        return r;
                a->name = strdup(name);
                a->image = strdup(image);
                if (!a->name || !a->image)
                        return -ENOMEM;
                r = sd_bus_message_read_strv(m, &a->command);
                if (r < 0)
                        return r;
                r = sd_bus_message_read(m, "si", &code, &a->exit_status);
                if (r < 0)
                        return r;
                a->exit_code = strdup(code);
                if (!a->exit_code)
                        return -ENOMEM;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return exit_variant_array(m);
}

/* The BindMounts property, a(ssbs), into the PodInfo dest points to. */
static int read_binds_property(sd_bus_message *m, void *dest) {
        PodInfo *info = dest;
        const char *source, *destination, *options;
        int read_only, r;

        r = enter_variant_array(m, "(ssbs)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ssbs)", &source, &destination, &read_only, &options)) > 0) {
                BindMount *b;

                /* The service has at most BIND_MOUNTS_MAX; a longer list is not its. */
                r = grow_one((void **) &info->binds, &info->n_binds, BIND_MOUNTS_MAX, sizeof(BindMount));
                if (r < 0)
                        return r;
                b = info->binds + info->n_binds - 1;
                *b = (BindMount) { .read_only = read_only, .source = strdup(source), .destination = strdup(destination) };
                if (!b->source || !b->destination)
                        return -ENOMEM;
                if (bind_options_parse(options, &b->recursive, &b->idmap) < 0)
                        return -EBADMSG;
        }
        if (r < 0)
                return r;
        return exit_variant_array(m);
}

static void pod_info_done(PodInfo *p) {
        free(p->name);
        free(p->state);
        free(p->image);
        free(p->unit);
        free(p->slice);
        free(p->working_directory);
        free(p->storage);
        free(p->root_directory);
        free(p->exit_code);
        free(p->exit_message);
        strv_free(p->command);
        strv_free(p->environment);
        free(p->network);
        strv_free(p->capabilities_add);
        strv_free(p->capabilities_drop);
        free(p->exit_policy);
        free(p->uid_mapping);
        app_infos_free(p->apps, p->n_apps);
        bind_mounts_free(p->binds, p->n_binds);
}

static int pod_info_get(sd_bus *bus, const char *name, PodInfo *info, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *p;
        int r;

        const BusProperty map[] = {
                { "Name",               's', &info->name                   },
                { "State",              's', &info->state                  },
                { "Image",              's', &info->image                  },
                { "OwnerUID",           'u', &info->owner_uid              },
                { "Unit",               's', &info->unit                   },
                { "Slice",              's', &info->slice                  },
                { "Leader",             'u', &info->leader                 },
                { "CreatedAt",          't', &info->created_usec           },
                { "Command",            'a', &info->command                },
                { "Environment",        'a', &info->environment            },
                { "WorkingDirectory",   's', &info->working_directory      },
                { "Storage",            's', &info->storage                },
                { "RootDirectory",      's', &info->root_directory         },
                { "AutoRemove",         'b', &info->auto_remove            },
                { "ReadOnly",           'b', &info->read_only              },
                { "Network",            's', &info->network                },
                { "UIDShift",           'u', &info->uid_shift              },
                { "CapabilitiesAdd",    'a', &info->capabilities_add       },
                { "CapabilitiesDrop",   'a', &info->capabilities_drop      },
                { "MemoryMax",          't', &info->memory_max             },
                { "CPUQuotaPerSecUSec", 't', &info->cpu_quota_per_sec_usec },
                { "TasksMax",           't', &info->tasks_max              },
                { "IOWeight",           't', &info->io_weight              },
                { "DiskLimit",          't', &info->disk_max               },
                { "ExitCode",           's', &info->exit_code              },
                { "ExitStatus",         'i', &info->exit_status            },
                { "ExitMessage",        's', &info->exit_message           },
                { "FinishedAt",         't', &info->finished_usec          },
                { "ExitPolicy",         's', &info->exit_policy            },
                { "UIDMapping",         's', &info->uid_mapping            },
                { "Apps",               'f', info, read_apps_property      },
                { "BindMounts",         'f', info, read_binds_property     },
                {}
        };

        r = bus_call_manager(bus, "GetPod", BUS_TIMEOUT_DEFAULT, error, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        path = strdup(p);
        if (!path)
                return sd_bus_error_set_errno(error, -ENOMEM);
        reply = sd_bus_message_unref(reply);

        r = sd_bus_call_method(bus, PODCTL_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", PODCTL_POD_INTERFACE);
        if (r < 0)
                return r;

        r = bus_read_properties(reply, map);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to parse properties: %s", strerror(-r));

        if (!info->name) {
                info->name = strdup(name);
                if (!info->name)
                        return sd_bus_error_set_errno(error, -ENOMEM);
        }
        return 0;
}

/* podmachined shows what a pod runs (command, environment, working directory) only to
 * root and the pod's owner; to others they come empty, which is not what the pod runs. */
static bool pod_details_hidden(const PodInfo *p) {
        uid_t uid = geteuid();

        return uid != 0 && uid != p->owner_uid;
}

static json_t *app_infos_to_json(const AppInfo *apps, size_t n, bool hidden) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++) {
                bool e = !isempty(apps[i].exit_code);

                if (json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:o}",
                                                       "name", apps[i].name,
                                                       "image", apps[i].image,
                                                       "command", hidden ? json_null() : strv_to_json(apps[i].command),
                                                       "exit_code", json_string_or_null(apps[i].exit_code),
                                                       "exit_status", e ? json_integer(apps[i].exit_status) : json_null())) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

/* [{source, destination, read_only, options}]: source is null where the service hid it. */
static json_t *binds_to_json(const BindMount *binds, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++) {
                _cleanup_free_ char *options = bind_options_to_string(binds + i);

                if (!options || json_array_append_new(a, json_pack("{s:o, s:s, s:b, s:s}",
                                                                   "source", json_string_or_null(binds[i].source),
                                                                   "destination", binds[i].destination,
                                                                   "read_only", binds[i].read_only,
                                                                   "options", options)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static int pod_info_to_json(const PodInfo *p, json_t **ret) {
        bool has_exit = !isempty(p->exit_code), hidden = pod_details_hidden(p);
        json_t *j;

        j = json_pack("{s:s, s:o, s:o, s:I, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:b,"
                      " s:b, s:o, s:o, s:o, s:o,"
                      " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                      "name", p->name,
                      "state", json_string_or_null(p->state),
                      "image", json_string_or_null(p->image),
                      "owner_uid", (json_int_t) p->owner_uid,
                      "unit", json_string_or_null(p->unit),
                      "slice", json_string_or_null(p->slice),
                      "leader", (json_int_t) p->leader,
                      "created_usec", (json_int_t) p->created_usec,
                      "command", hidden ? json_null() : strv_to_json(p->command),
                      "environment", hidden ? json_null() : strv_to_json(p->environment),
                      "working_directory", hidden ? json_null() : json_string_or_null(p->working_directory),
                      "storage", json_string_or_null(p->storage),
                      "root_directory", json_string_or_null(p->root_directory),
                      "auto_remove", p->auto_remove,
                      "read_only", p->read_only,
                      "network", json_string_or_null(p->network),
                      "uid_shift", p->uid_shift != UID_INVALID ? json_integer((json_int_t) p->uid_shift) : json_null(),
                      "capabilities_add", strv_to_json(p->capabilities_add),
                      "capabilities_drop", strv_to_json(p->capabilities_drop),
                      "memory_max", json_limit(p->memory_max),
                      "cpu_quota_per_sec_usec", json_limit(p->cpu_quota_per_sec_usec),
                      "tasks_max", json_limit(p->tasks_max),
                      "io_weight", json_limit(p->io_weight),
                      "exit_code", json_string_or_null(p->exit_code),
                      "exit_status", has_exit ? json_integer(p->exit_status) : json_null(),
                      "exit_message", json_string_or_null(p->exit_message),
                      "finished_usec", p->finished_usec > 0 ? json_integer((json_int_t) p->finished_usec) : json_null());
        if (!j)
                return -ENOMEM;
        if (json_object_set_new(j, "exit_policy", json_string_or_null(p->exit_policy)) < 0 ||
            json_object_set_new(j, "uid_mapping", json_string_or_null(p->uid_mapping)) < 0 ||
            json_object_set_new(j, "disk_max", json_limit(p->disk_max)) < 0 ||
            json_object_set_new(j, "apps", app_infos_to_json(p->apps, p->n_apps, hidden)) < 0 ||
            json_object_set_new(j, "binds", binds_to_json(p->binds, p->n_binds)) < 0) {
                json_decref(j);
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

static void print_field(const char *label, const char *value) {
        printf("%*s %s\n", STATUS_LABEL_WIDTH, label, isempty(value) ? "-" : value);
}

/* "exited, status=0", "killed, signal=TERM", "start-failed: MESSAGE". */
static void format_exit(char *buf, size_t size, const char *code, int32_t status, const char *message) {
        const char *sig = signal_to_string(status);

        if (streq_ptr(code, "exited"))
                snprintf(buf, size, "exited, status=%" PRIi32, status);
        else if (streq_ptr(code, "killed") || streq_ptr(code, "dumped")) {
                if (sig)
                        snprintf(buf, size, "%s, signal=%s", code, sig);
                else
                        snprintf(buf, size, "%s, signal=%" PRIi32, code, status);
        } else if (streq_ptr(code, "start-failed"))
                snprintf(buf, size, "start-failed: %s", !isempty(message) ? message : strerror(status));
        else
                snprintf(buf, size, "%s, status=%" PRIi32, code, status);
}

/* One line per app: NAME (IMAGE): COMMAND [exit]. */
static void print_apps(const PodInfo *p) {
        print_field("Policy:", p->exit_policy);
        for (size_t i = 0; i < p->n_apps; i++) {
                const AppInfo *a = p->apps + i;
                _cleanup_free_ char *command = pod_details_hidden(p) ? strdup(POD_DETAILS_HIDDEN) : format_command(a->command),
                                    *line = NULL;
                char exit[512] = "";

                if (!isempty(a->exit_code)) {
                        exit[0] = ';';
                        exit[1] = ' ';
                        format_exit(exit + 2, sizeof exit - 2, a->exit_code, a->exit_status, NULL);
                }
                if (asprintf(&line, "%s (%s): %s%s", a->name, a->image, command ?: "-", exit) < 0)
                        return (void) log_oom();
                print_field(i == 0 ? "Apps:" : "", line);
        }
}

static void pod_info_print(const PodInfo *p) {
        char buf[FORMAT_TIMESTAMP_MAX], limits[256] = "";
        _cleanup_free_ char *owner = NULL, *command = NULL;
        size_t l = 0;

        printf("%s (pod)\n", p->name);
        print_field("State:", p->state);
        print_field("Image:", p->image);
        owner = format_owner(p->owner_uid);
        print_field("Owner:", owner);
        print_field("Unit:", p->unit);
        print_field("Slice:", p->slice);

        if (p->leader > 0) {
                _cleanup_free_ char *comm_path = NULL;
                char comm[64] = "", leader[128];
                FILE *f;

                if (asprintf(&comm_path, "/proc/%" PRIu32 "/comm", p->leader) >= 0 &&
                    (f = fopen(comm_path, "re"))) {
                        if (fgets(comm, sizeof(comm), f))
                                comm[strcspn(comm, "\n")] = 0;
                        fclose(f);
                }
                if (comm[0])
                        snprintf(leader, sizeof(leader), "%" PRIu32 " (%s)", p->leader, comm);
                else
                        snprintf(leader, sizeof(leader), "%" PRIu32, p->leader);
                print_field("Leader:", leader);
        }

        print_field("Created:", format_timestamp(buf, sizeof(buf), p->created_usec));
        if (p->n_apps > 1)
                print_apps(p);
        else {
                command = pod_details_hidden(p) ? strdup(POD_DETAILS_HIDDEN) : format_command(p->command);
                print_field("Command:", command);
        }
        print_field("Storage:", p->storage);
        if (p->read_only) {
                _cleanup_free_ char *root = NULL;

                if (asprintf(&root, "%s (read-only)", p->root_directory ?: "-") < 0)
                        return (void) log_oom();
                print_field("Root:", root);
        } else
                print_field("Root:", p->root_directory);
        print_field("Network:", p->network);
        if (p->uid_shift != UID_INVALID) {
                char range[128];

                snprintf(range, sizeof range, "%" PRIu32 "-%" PRIu32 "%s", p->uid_shift, p->uid_shift + (POD_UID_RANGE_SIZE - 1),
                         streq_ptr(p->uid_mapping, "chown") ? " (chowned copy: the file system cannot idmap)" : "");
                print_field("UID range:", range);
        } else
                print_field("UID range:", "none (host's root)");
        for (size_t i = 0; i < p->n_binds; i++) {
                const BindMount *b = p->binds + i;
                _cleanup_free_ char *options = bind_options_to_string(b), *line = NULL;

                if (!options || asprintf(&line, "%s:%s (%s, %s)", isempty(b->source) ? "(hidden)" : b->source,
                                         b->destination, b->read_only ? "ro" : "rw", options) < 0)
                        return (void) log_oom();
                print_field(i == 0 ? "Binds:" : "", line);
        }
        if (!strv_isempty(p->capabilities_add) || !strv_isempty(p->capabilities_drop)) {
                _cleanup_free_ char *add = strv_join(p->capabilities_add, " "), *drop = strv_join(p->capabilities_drop, " ");
                char caps[1024];

                snprintf(caps, sizeof caps, "%s%s%s%s%s", isempty(add) ? "" : "+", add ?: "",
                         !isempty(add) && !isempty(drop) ? " " : "", isempty(drop) ? "" : "-", drop ?: "");
                print_field("Caps:", caps);
        }

        if (p->memory_max != LIMIT_UNSET) {
                char b[FORMAT_BYTES_MAX];

                l += (size_t) snprintf(limits + l, sizeof(limits) - l, "%smemory=%s", l ? " " : "",
                                       format_bytes(b, sizeof(b), p->memory_max));
        }
        if (p->cpu_quota_per_sec_usec != LIMIT_UNSET) {
                char b[FORMAT_CPUS_MAX];

                l += (size_t) snprintf(limits + l, sizeof(limits) - l, "%scpus=%s", l ? " " : "",
                                       format_cpus(b, sizeof(b), p->cpu_quota_per_sec_usec));
        }
        if (p->tasks_max != LIMIT_UNSET)
                l += (size_t) snprintf(limits + l, sizeof(limits) - l, "%stasks-max=%" PRIu64, l ? " " : "",
                                       p->tasks_max);
        if (p->io_weight != LIMIT_UNSET)
                l += (size_t) snprintf(limits + l, sizeof(limits) - l, "%sio-weight=%" PRIu64, l ? " " : "",
                                       p->io_weight);
        if (p->disk_max != LIMIT_UNSET) {
                char b[FORMAT_BYTES_MAX];

                l += (size_t) snprintf(limits + l, sizeof(limits) - l, "%sdisk=%s", l ? " " : "",
                                       format_bytes(b, sizeof(b), p->disk_max));
        }
        if (l > 0)
                print_field("Limits:", limits);

        if (!isempty(p->exit_code)) {
                char exit[512];

                format_exit(exit, sizeof exit, p->exit_code, p->exit_status, p->exit_message);
                print_field("Exit:", exit);
        }
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_json_ json_t *array = NULL;
        int i, n, r, ret = 0;
        bool first = true;

        r = parse_verb_args(argc, argv, 1, -1, "at least one pod name", &i);
        if (r <= 0)
                return r;
        n = argc - i;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        if (arg_json) {
                array = json_array();
                if (!array)
                        return log_oom();
        }

        for (; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(pod_info_done) PodInfo info = {
                        .memory_max = LIMIT_UNSET,
                        .cpu_quota_per_sec_usec = LIMIT_UNSET,
                        .tasks_max = LIMIT_UNSET,
                        .io_weight = LIMIT_UNSET,
                        .disk_max = LIMIT_UNSET,
                        .uid_shift = UID_INVALID,
                };

                r = pod_info_get(bus, argv[i], &info, &error);
                if (r < 0) {
                        ret = log_bus_error(r, &error, "Failed to get status of pod '%s'", argv[i]);
                        if (bus_error_is_unreachable(&error))
                                return ret;
                        continue;
                }

                if (arg_json) {
                        json_t *j;

                        if (pod_info_to_json(&info, &j) < 0 || json_array_append_new(array, j) < 0)
                                return log_oom();
                        continue;
                }

                if (!first)
                        putchar('\n');
                first = false;
                pod_info_print(&info);
        }

        if (arg_json && json_array_size(array) > 0) {
                /* One pod asked for, one object; several, an array. */
                r = json_print(n == 1 ? json_array_get(array, 0) : array, stdout);
                if (r < 0)
                        return log_error_errno(r, "Failed to write JSON.");
        }

        return ret;
}

/* "create" and "run" */

typedef struct CreateArgs {
        const char *name;
        char **environment;
        const char *working_directory;
        uint64_t memory_max;
        uint64_t cpu_quota_per_sec_usec;
        uint64_t tasks_max;
        uint64_t io_weight;
        uint64_t disk_max;
        bool auto_remove;
        bool detach;
        bool read_only;
        int private_users; /* -1: the service's default */
        const char *network;
        char **capabilities_add;
        char **capabilities_drop;
        /* --bind and --bind-ro: SRC[:DST[:OPTIONS]] each, and "rw" or "ro" for each. */
        char **binds;
        char **binds_mode;

        const char *image;
        char **command; /* points into argv */

        /* A pod of several apps: from --app and --pod-file, in that order; then the
         * CreatePodWithApps call is used. name, image, command, environment,
         * working_directory of each; exit_policy. */
        PodConfig pod;
        bool exit_policy_set;
        const char *pod_file;
} CreateArgs;

static void create_args_done(CreateArgs *a) {
        strv_free(a->environment);
        strv_free(a->capabilities_add);
        strv_free(a->capabilities_drop);
        strv_free(a->binds);
        strv_free(a->binds_mode);
        pod_config_done(&a->pod);
}

/* An app of IMAGE named after it: "busybox", then "busybox-2"... */
static int create_args_add_app(CreateArgs *a, const char *image, char **command) {
        _cleanup_(pod_app_done) PodApp app = {};
        int r;

        if (!name_is_valid(image))
                return log_error_errno(EINVAL, "Invalid image name '%s'.", image);
        app.image = strdup(image);
        if (!app.image)
                return log_oom();
        if (command) {
                app.command = strv_copy(command);
                if (!app.command)
                        return log_oom();
        }

        for (unsigned n = 1;; n++) {
                free(app.name);
                if (n == 1)
                        app.name = strdup(image);
                else if (asprintf(&app.name, "%.60s-%u", image, n) < 0)
                        app.name = NULL;
                if (!app.name)
                        return log_oom();
                r = pod_config_add_app(&a->pod, &app);
                if (r != -EEXIST)
                        break;
        }
        if (r == -E2BIG)
                return log_error_errno(r, "Too many apps, a pod has at most %d.", POD_APPS_MAX);
        if (r < 0)
                return log_oom();
        return 0;
}

static int create_args_add_bind(CreateArgs *a, const char *spec, bool read_only) {
        if (strv_length(a->binds) >= BIND_MOUNTS_MAX)
                return log_error_errno(E2BIG, "Too many bind mounts, a pod has at most %d.", BIND_MOUNTS_MAX);
        if (strv_extend(&a->binds, spec) < 0 || strv_extend(&a->binds_mode, read_only ? "ro" : "rw") < 0)
                return log_oom();
        return 0;
}

/* --pod-file: {"name": ..., "exit_policy": ..., "bind": [SRC[:DST[:OPTIONS]]...], "bind_ro": [...],
 * "apps": [{"name", "image", "command", "environment", "working_directory"}, ...]}, the apps
 * as pod.json has them. Relative sources are relative to the working directory, as on the
 * command line. */
static int create_args_load_pod_file(CreateArgs *a) {
        _cleanup_json_ json_t *j = NULL;
        json_error_t e;
        json_t *apps, *v;
        const char *s;
        size_t i;
        int r;

        j = json_load_file(a->pod_file, JSON_REJECT_DUPLICATES, &e);
        if (!j && e.line < 0)
                return log_error_errno(errno > 0 ? errno : EIO, "Failed to read pod file %s: %m", a->pod_file);
        if (!j)
                return log_error_errno(EINVAL, "Failed to parse pod file %s: line %d: %s", a->pod_file, e.line, e.text);
        if (!json_is_object(j))
                return log_error_errno(EINVAL, "Pod file %s is not a JSON object.", a->pod_file);

        json_object_foreach(j, s, v)
                if (!STR_IN_SET(s, "name", "exit_policy", "apps", "bind", "bind_ro"))
                        return log_error_errno(EINVAL, "Pod file %s: unknown key '%s'.", a->pod_file, s);

        /* After those of the command line. */
        for (unsigned ro = 0; ro <= 1; ro++) {
                const char *key = ro ? "bind_ro" : "bind";
                json_t *l = json_object_get(j, key), *entry;

                if (l && !json_is_array(l))
                        return log_error_errno(EINVAL, "Pod file %s: \"%s\" must be an array of SRC[:DST[:OPTIONS]].", a->pod_file, key);
                json_array_foreach(l, i, entry) {
                        if (!json_is_string(entry))
                                return log_error_errno(EINVAL, "Pod file %s: \"%s\" must be an array of SRC[:DST[:OPTIONS]].", a->pod_file, key);
                        r = create_args_add_bind(a, json_string_value(entry), ro);
                        if (r < 0)
                                return r;
                }
        }

        v = json_object_get(j, "name");
        if (v) {
                if (!json_is_string(v) || !name_is_valid(json_string_value(v)))
                        return log_error_errno(EINVAL, "Pod file %s: invalid name.", a->pod_file);
                /* --name wins. */
                if (!a->name) {
                        a->pod.name = strdup(json_string_value(v));
                        if (!a->pod.name)
                                return log_oom();
                        a->name = a->pod.name;
                }
        }
        v = json_object_get(j, "exit_policy");
        if (v && !a->exit_policy_set) {
                a->pod.exit_policy = exit_policy_from_string(json_string_value(v));
                if (a->pod.exit_policy < 0)
                        return log_error_errno(EINVAL, "Pod file %s: invalid exit_policy, expected 'all', 'any' or 'failure'.",
                                               a->pod_file);
                a->exit_policy_set = true;
        }

        apps = json_object_get(j, "apps");
        if (!json_is_array(apps) || json_array_size(apps) == 0)
                return log_error_errno(EINVAL, "Pod file %s: \"apps\" must be a non-empty array.", a->pod_file);
        json_array_foreach(apps, i, v) {
                _cleanup_(pod_app_done) PodApp app = {};
                const char *name = NULL, *image = NULL, *wd = NULL;
                json_t *command = NULL, *env = NULL;

                if (json_unpack_ex(v, &e, JSON_STRICT, "{s?s, s:s, s?o, s?o, s?s}", "name", &name, "image", &image,
                                   "command", &command, "environment", &env, "working_directory", &wd) < 0)
                        return log_error_errno(EINVAL, "Pod file %s: app %zu: %s", a->pod_file, i + 1, e.text);

                r = create_args_add_app(a, image, NULL);
                if (r < 0)
                        return r;
                PodApp *added = a->pod.apps + a->pod.n_apps - 1;
                if (name) {
                        if (!name_is_valid(name))
                                return log_error_errno(EINVAL, "Pod file %s: invalid app name '%s'.", a->pod_file, name);
                        for (size_t k = 0; k + 1 < a->pod.n_apps; k++)
                                if (streq(a->pod.apps[k].name, name))
                                        return log_error_errno(EEXIST, "Pod file %s: app '%s' appears twice.", a->pod_file, name);
                        free(added->name);
                        added->name = strdup(name);
                        if (!added->name)
                                return log_oom();
                }
                if ((command && strv_from_json(command, &added->command) < 0) ||
                    (env && strv_from_json(env, &added->environment) < 0))
                        return log_error_errno(EINVAL, "Pod file %s: app %zu: command and environment must be arrays of strings.",
                                               a->pod_file, i + 1);
                if (wd) {
                        if (wd[0] != '/')
                                return log_error_errno(EINVAL, "Pod file %s: working directory '%s' is not an absolute path.",
                                                       a->pod_file, wd);
                        added->working_directory = strdup(wd);
                        if (!added->working_directory)
                                return log_oom();
                }
        }
        return 0;
}

enum {
        ARG_NAME = _ARG_COMMON_MAX,
        ARG_MEMORY,
        ARG_CPUS,
        ARG_TASKS_MAX,
        ARG_IO_WEIGHT,
        ARG_RM,
        ARG_READ_ONLY,
        ARG_NETWORK,
        ARG_PRIVATE_USERS,
        ARG_CAPS_ADD,
        ARG_CAPS_DROP,
        ARG_SIGNAL,
        ARG_KILL_WHOM,
        ARG_APP,
        ARG_DISK_LIMIT,
        ARG_POD_FILE,
        ARG_EXIT_POLICY,
        ARG_BIND,
        ARG_BIND_RO,
};


static int parse_create_option(int c, const char *arg, void *userdata) {
        CreateArgs *a = userdata;
        int r;

        switch (c) {
        case ARG_NAME:
                if (!*arg)
                        return log_error_errno(EINVAL, "Pod name must not be empty.");
                a->name = arg;
                return 1;
        case 'e':
                if (arg[0] == '=' || !arg[0])
                        return log_error_errno(EINVAL, "Invalid environment assignment '%s'.", arg);
                if (!strchr(arg, '=')) {
                        /* "-e KEY" passes podctl's own value, as podman does. */
                        const char *v = getenv(arg);
                        _cleanup_free_ char *kv = NULL;

                        if (!v)
                                return log_error_errno(EINVAL, "Environment variable '%s' is not set.", arg);
                        if (asprintf(&kv, "%s=%s", arg, v) < 0)
                                return log_oom();
                        r = strv_extend(&a->environment, kv);
                } else
                        r = strv_extend(&a->environment, arg);
                if (r < 0)
                        return log_oom();
                return 1;
        case 'w':
                if (arg[0] != '/')
                        return log_error_errno(EINVAL, "Working directory '%s' is not an absolute path.", arg);
                a->working_directory = arg;
                return 1;
        case ARG_MEMORY:
                r = parse_size(arg, &a->memory_max);
                if (r < 0 || a->memory_max == 0 || a->memory_max == LIMIT_UNSET)
                        return log_error_errno(r < 0 ? r : -ERANGE, "Invalid memory size '%s'.", arg);
                return 1;
        case ARG_DISK_LIMIT:
                r = parse_size(arg, &a->disk_max);
                if (r < 0 || a->disk_max == 0 || a->disk_max == LIMIT_UNSET)
                        return log_error_errno(r < 0 ? r : -ERANGE, "Invalid disk limit '%s'.", arg);
                return 1;
        case ARG_CPUS:
                r = parse_cpus(arg, &a->cpu_quota_per_sec_usec);
                if (r < 0)
                        return log_error_errno(r, "Invalid CPU count '%s'.", arg);
                return 1;
        case ARG_TASKS_MAX:
                r = parse_uint64_range(arg, 1, LIMIT_UNSET - 1, &a->tasks_max);
                if (r < 0)
                        return log_error_errno(r, "Invalid task limit '%s'.", arg);
                return 1;
        case ARG_IO_WEIGHT:
                r = parse_uint64_range(arg, 1, 10000, &a->io_weight);
                if (r < 0)
                        return log_error_errno(r, "Invalid IO weight '%s', expected 1…10000.", arg);
                return 1;
        case ARG_RM:
                a->auto_remove = true;
                return 1;
        case ARG_READ_ONLY:
                a->read_only = true;
                return 1;
        case ARG_NETWORK:
                if (strcmp(arg, "private") != 0 && strcmp(arg, "host") != 0)
                        return log_error_errno(EINVAL, "Invalid network '%s', expected 'private' or 'host'.", arg);
                a->network = arg;
                return 1;
        case ARG_PRIVATE_USERS:
                if (strcmp(arg, "yes") == 0)
                        a->private_users = 1;
                else if (strcmp(arg, "no") == 0)
                        a->private_users = 0;
                else
                        return log_error_errno(EINVAL, "Invalid --private-users '%s', expected 'yes' or 'no'.", arg);
                return 1;
        case ARG_CAPS_ADD:
        case ARG_CAPS_DROP:
                /* "cap_net_admin,CAP_SYS_TIME": the service knows the names. */
                r = strv_split_extend(c == ARG_CAPS_ADD ? &a->capabilities_add : &a->capabilities_drop, arg, ",");
                if (r < 0)
                        return log_error_errno(r, "Invalid capability list '%s'.", arg);
                return 1;
        case 'd':
                a->detach = true;
                return 1;
        case ARG_APP:
                return create_args_add_app(a, arg, NULL) < 0 ? -EINVAL : 1;
        case ARG_POD_FILE:
                a->pod_file = arg;
                return 1;
        case ARG_BIND:
        case ARG_BIND_RO:
                return create_args_add_bind(a, arg, c == ARG_BIND_RO) < 0 ? -EINVAL : 1;
        case ARG_EXIT_POLICY:
                a->pod.exit_policy = exit_policy_from_string(arg);
                if (a->pod.exit_policy < 0)
                        return log_error_errno(EINVAL, "Invalid exit policy '%s', expected 'all', 'any' or 'failure'.", arg);
                a->exit_policy_set = true;
                return 1;
        default:
                return 0;
        }
}

/* After the options: with --app, what follows is the last app's command, up to the next
 * "--app IMAGE" (or "--app=IMAGE"), and so on; without, IMAGE [COMMAND...]. */
static int create_args_split_apps(CreateArgs *a, const char *verb, char **args) {
        size_t n = strv_length(args);
        int r;

        if (a->pod.n_apps == 0) {
                if (n == 0 && a->pod_file)
                        return 0;
                if (n == 0)
                        return log_error_errno(EINVAL, "'%s' needs an image name, --app or --pod-file.", verb);
                if (a->pod_file)
                        return log_error_errno(EINVAL, "An image and --pod-file cannot be combined; use --app.");
                a->image = args[0];
                a->command = args + 1;
                return 0;
        }

        for (size_t i = 0; i < n;) {
                PodApp *last = a->pod.apps + a->pod.n_apps - 1;
                size_t k = i;
                const char *image;

                while (k < n && !streq(args[k], "--app") && !startswith(args[k], "--app="))
                        k++;
                for (size_t j = i; j < k; j++)
                        if (strv_extend(&last->command, args[j]) < 0)
                                return log_oom();
                if (k >= n)
                        break;

                if (streq(args[k], "--app")) {
                        if (k + 1 >= n)
                                return log_error_errno(EINVAL, "--app needs an image name.");
                        image = args[k + 1];
                        i = k + 2;
                } else {
                        image = args[k] + strlen("--app=");
                        i = k + 1;
                }
                r = create_args_add_app(a, image, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_create_args(int argc, char *argv[], bool run, CreateArgs *a) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "name",      required_argument, NULL, ARG_NAME      },
                { "env",       required_argument, NULL, 'e'           },
                { "workdir",   required_argument, NULL, 'w'           },
                { "memory",    required_argument, NULL, ARG_MEMORY    },
                { "cpus",      required_argument, NULL, ARG_CPUS      },
                { "tasks-max", required_argument, NULL, ARG_TASKS_MAX },
                { "io-weight", required_argument, NULL, ARG_IO_WEIGHT },
                { "disk-limit", required_argument, NULL, ARG_DISK_LIMIT },
                { "rm",        no_argument,       NULL, ARG_RM        },
                { "detach",    no_argument,       NULL, 'd'           },
                { "read-only", no_argument,       NULL, ARG_READ_ONLY },
                { "network",   required_argument, NULL, ARG_NETWORK   },
                { "private-users", required_argument, NULL, ARG_PRIVATE_USERS },
                { "caps-add",  required_argument, NULL, ARG_CAPS_ADD  },
                { "caps-drop", required_argument, NULL, ARG_CAPS_DROP },
                { "app",       required_argument, NULL, ARG_APP       },
                { "pod-file",  required_argument, NULL, ARG_POD_FILE  },
                { "exit-policy", required_argument, NULL, ARG_EXIT_POLICY },
                { "bind",      required_argument, NULL, ARG_BIND      },
                { "bind-ro",   required_argument, NULL, ARG_BIND_RO   },
                {}
        };
        const VerbSyntax syntax = {
                /* "+": the first non-option is the image; what follows is the command's. */
                .short_options = run ? "+:" COMMON_SHORT_OPTIONS "e:w:d" : "+:" COMMON_SHORT_OPTIONS "e:w:",
                .options = options,
                .parse_option = parse_create_option,
                .min_args = 0,
                .max_args = -1,
        };
        int i, r;

        *a = (CreateArgs) {
                .memory_max = LIMIT_UNSET,
                .cpu_quota_per_sec_usec = LIMIT_UNSET,
                .tasks_max = LIMIT_UNSET,
                .io_weight = LIMIT_UNSET,
                .disk_max = LIMIT_UNSET,
                .private_users = -1,
        };
        pod_config_init(&a->pod);

        r = parse_verb_syntax(argc, argv, &syntax, a, &i);
        if (r <= 0)
                return r;

        r = create_args_split_apps(a, argv[0], argv + i);
        if (r < 0)
                return r;
        if (a->pod_file) {
                r = create_args_load_pod_file(a);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* An "as" entry of an a{sv} option dictionary; nothing if l is NULL. */
static int append_strv_option(sd_bus_message *m, const char *key, char **l) {
        int r;

        if (!l)
                return 0;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, l);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* One app's options: those of the command line for every app, then the app's own. */
static int append_app_options(sd_bus_message *m, const CreateArgs *a, const PodApp *app) {
        _cleanup_strv_free_ char **env = NULL;
        const char *wd = app && app->working_directory ? app->working_directory : a->working_directory;
        int r;

        env = strv_copy(a->environment);
        if (!env && a->environment)
                return -ENOMEM;
        for (char **e = app ? app->environment : NULL; e && *e; e++)
                if (strv_extend(&env, *e) < 0)
                        return -ENOMEM;

        r = append_strv_option(m, "Environment", env);
        if (r < 0)
                return r;
        if (wd) {
                r = sd_bus_message_append(m, "{sv}", "WorkingDirectory", "s", wd);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* BindMounts, a(hsbs): podctl opens each source with the caller's rights and passes it;
 * the service takes no path. */
static int append_bind_mounts(sd_bus_message *m, const CreateArgs *a) {
        int r;

        if (strv_isempty(a->binds))
                return 0;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "BindMounts");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(hsbs)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(hsbs)");
        if (r < 0)
                return log_error_errno(r, "Failed to build the bind mounts: %m");

        for (size_t i = 0; a->binds[i]; i++) {
                _cleanup_free_ char *source = NULL, *destination = NULL, *options = NULL, *cwd = NULL, *absolute = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                r = bind_spec_parse(a->binds[i], &source, &destination, &options);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "Invalid bind mount '%s', expected SRC[:DST[:OPTIONS]].", a->binds[i]);
                /* DST defaults to SRC, and is a path in the pod: where SRC is on the host. */
                if (streq(source, destination) && source[0] != '/') {
                        cwd = getcwd(NULL, 0);
                        if (!cwd || asprintf(&absolute, "%s/%s", streq(cwd, "/") ? "" : cwd, source) < 0)
                                return log_oom();
                        free(destination);
                        destination = TAKE_PTR(absolute);
                }

                fd = open(source, O_PATH | O_CLOEXEC);
                if (fd < 0)
                        return log_error_errno(errno, "Failed to open '%s' of bind mount '%s': %m", source, a->binds[i]);
                if (fstat(fd, &st) < 0)
                        return log_error_errno(errno, "Failed to look at '%s' of bind mount '%s': %m", source, a->binds[i]);
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return log_error_errno(EMEDIUMTYPE, "Invalid bind mount '%s': '%s' is neither a directory nor a regular file.",
                                               a->binds[i], source);

                r = sd_bus_message_append(m, "(hsbs)", fd, destination, streq(a->binds_mode[i], "ro"), options ?: "");
                if (r < 0)
                        return log_error_errno(r, "Failed to build the bind mounts: %m");
        }

        r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return log_error_errno(r, "Failed to build the bind mounts: %m");
        return 0;
}

/* The apps of CreatePodWithApps, a(ssasa{sv}). */
static int append_apps(sd_bus_message *m, const CreateArgs *a) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ssasa{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->pod.n_apps; i++) {
                const PodApp *app = a->pod.apps + i;

                r = sd_bus_message_open_container(m, 'r', "ssasa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", app->name, app->image);
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, app->command);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0)
                        r = append_app_options(m, a, app);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static int create_pod(sd_bus *bus, const CreateArgs *a, char **ret_name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        bool with_apps = a->pod.n_apps > 0;
        const char *method = with_apps ? "CreatePodWithApps" : "CreatePod";
        const char *name, *path;
        char *n;
        int r;

        r = bus_new_manager_call(bus, method, &m);
        if (r < 0)
                goto fail;
        if (with_apps) {
                r = sd_bus_message_append(m, "s", a->name ?: "");
                if (r >= 0)
                        r = append_apps(m, a);
        } else {
                r = sd_bus_message_append(m, "ss", a->name ?: "", a->image);
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, a->command);
        }
        if (r < 0)
                goto fail;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                goto fail;
        if (!with_apps) {
                r = append_app_options(m, a, NULL);
                if (r < 0)
                        goto fail;
        }
        if (a->exit_policy_set) {
                r = sd_bus_message_append(m, "{sv}", "ExitPolicy", "s", exit_policy_to_string(a->pod.exit_policy));
                if (r < 0)
                        goto fail;
        }
        if (a->auto_remove) {
                r = sd_bus_message_append(m, "{sv}", "AutoRemove", "b", 1);
                if (r < 0)
                        goto fail;
        }
        if (a->read_only) {
                r = sd_bus_message_append(m, "{sv}", "ReadOnly", "b", 1);
                if (r < 0)
                        goto fail;
        }
        if (a->network) {
                r = sd_bus_message_append(m, "{sv}", "Network", "s", a->network);
                if (r < 0)
                        goto fail;
        }
        if (a->private_users >= 0) {
                r = sd_bus_message_append(m, "{sv}", "PrivateUsers", "b", a->private_users);
                if (r < 0)
                        goto fail;
        }
        r = append_strv_option(m, "CapabilitiesAdd", a->capabilities_add);
        if (r >= 0)
                r = append_strv_option(m, "CapabilitiesDrop", a->capabilities_drop);
        if (r < 0)
                goto fail;
        r = append_bind_mounts(m, a);
        if (r < 0)
                return r;

        const struct {
                const char *key;
                uint64_t value;
        } limits[] = {
                { "MemoryMax",          a->memory_max             },
                { "CPUQuotaPerSecUSec", a->cpu_quota_per_sec_usec },
                { "TasksMax",           a->tasks_max              },
                { "IOWeight",           a->io_weight              },
                { "DiskLimit",          a->disk_max               },
        };
        for (size_t i = 0; i < ELEMENTSOF(limits); i++)
                if (limits[i].value != LIMIT_UNSET) {
                        r = sd_bus_message_append(m, "{sv}", limits[i].key, "t", limits[i].value);
                        if (r < 0)
                                goto fail;
                }

        r = sd_bus_message_close_container(m);
        if (r < 0)
                goto fail;

        r = sd_bus_call(bus, m, BUS_TIMEOUT_JOB, &error, &reply);
        if (r < 0) {
                if (a->name)
                        return log_bus_error(r, &error, "Failed to create pod '%s'", a->name);
                return log_bus_error(r, &error, "Failed to create pod from image '%s'",
                                     with_apps ? a->pod.apps[0].image : a->image);
        }

        r = sd_bus_message_read(reply, "so", &name, &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse reply of %s: %m", method);

        n = strdup(name);
        if (!n)
                return log_oom();
        *ret_name = n;
        return 0;

fail:
        return log_error_errno(r, "Failed to build %s call: %m", method);
}

/* "create" and "run" alike: parses argv into *a, connects and creates the pod. Returns 1 with
 * the connection and the pod's name, 0 if the program is done (--help, --version), or -errno
 * after logging. */
static int create_pod_from_argv(int argc, char *argv[], bool run, CreateArgs *a, sd_bus **ret_bus,
                                char **ret_name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = parse_create_args(argc, argv, run, a);
        if (r <= 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = create_pod(bus, a, ret_name);
        if (r < 0)
                return r;

        *ret_bus = TAKE_PTR(bus);
        return 1;
}

int verb_create(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(create_args_done) CreateArgs a = {};
        _cleanup_free_ char *name = NULL;
        int r;

        r = create_pod_from_argv(argc, argv, false, &a, &bus, &name);
        if (r <= 0)
                return r;

        puts(name);
        return 0;
}

static int remove_pod(sd_bus *bus, const char *name, bool force, bool missing_ok) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call_manager(bus, "RemovePod", BUS_TIMEOUT_JOB, &error, NULL, "sb", name, force);
        if (r < 0) {
                /* With AutoRemove the daemon may have been quicker. */
                if (missing_ok && sd_bus_error_has_name(&error, BUS_ERROR_NO_SUCH_POD))
                        return 0;
                return log_bus_error(r, &error, "Failed to remove pod '%s'", name);
        }
        return 0;
}

typedef struct RunState {
        sd_bus *bus;
        const char *name;

        bool start_done;
        int start_r;
        sd_bus_error start_error;

        bool wait_done;
        int wait_r;
        sd_bus_error wait_error;
        char *code;
        int32_t status;
        char *message;
} RunState;

static void run_state_done(RunState *s) {
        sd_bus_error_free(&s->start_error);
        sd_bus_error_free(&s->wait_error);
        free(s->code);
        free(s->message);
}

static int reply_error(sd_bus_message *m, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        if (!e)
                return 0;
        (void) sd_bus_error_copy(ret_error, e);
        r = sd_bus_message_get_errno(m);
        return r > 0 ? -r : -EIO;
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        RunState *s = userdata;

        s->start_done = true;
        s->start_r = reply_error(m, &s->start_error);
        return 0;
}

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        RunState *s = userdata;
        const char *code, *message;
        int r;

        s->wait_done = true;
        s->wait_r = reply_error(m, &s->wait_error);
        if (s->wait_r < 0)
                return 0;

        r = sd_bus_message_read(m, "sis", &code, &s->status, &message);
        if (r < 0) {
                s->wait_r = sd_bus_error_set_errnof(&s->wait_error, r, "Failed to parse reply of WaitPod: %s",
                                                    strerror(-r));
                return 0;
        }
        free(s->code);
        free(s->message);
        s->code = strdup(code);
        s->message = strdup(message);
        if (!s->code || !s->message)
                s->wait_r = sd_bus_error_set_errno(&s->wait_error, -ENOMEM);
        return 0;
}

static int on_kill_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        RunState *s = userdata;

        /* The pod may just have ended on its own: worth a note, not a failure. */
        if (e && !arg_quiet)
                log_warning("Failed to forward signal to pod '%s': %s", s->name, e->message ?: e->name);
        return 0;
}

static int on_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        RunState *s = userdata;
        int r;

        r = bus_new_manager_call(s->bus, "KillPod", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssi", s->name, "leader", (int32_t) si->ssi_signo);
        if (r >= 0)
                r = sd_bus_call_async(s->bus, NULL, m, on_kill_reply, s, BUS_TIMEOUT_DEFAULT);
        if (r < 0)
                log_warning_errno(r, "Failed to forward signal to pod '%s': %m", s->name);
        return 0;
}

static int send_wait(RunState *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        s->wait_done = false;
        r = bus_new_manager_call(s->bus, "WaitPod", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", s->name);
        if (r >= 0)
                r = sd_bus_call_async(s->bus, NULL, m, on_wait_reply, s, BUS_TIMEOUT_INFINITE);
        return r;
}

/* The app's stdio; a closed one is replaced by /dev/null, as the bus cannot pass it. */
static int stdio_fd(int fd, int *ret_owned) {
        if (fcntl(fd, F_GETFD) >= 0)
                return fd;
        *ret_owned = open("/dev/null", (fd == STDIN_FILENO ? O_RDONLY : O_WRONLY) | O_CLOEXEC | O_NOCTTY);
        return *ret_owned;
}

static int run_foreground(sd_bus *bus, const char *name, bool auto_remove) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int null0 = -EBADF, null1 = -EBADF, null2 = -EBADF;
        _cleanup_(run_state_done) RunState s = {
                .bus = bus,
                .name = name,
                .start_error = SD_BUS_ERROR_NULL,
                .wait_error = SD_BUS_ERROR_NULL,
        };
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP };
        bool retried = false;
        sigset_t mask;
        int r, in, out, err;

        /* From here on, ^C is the app's business: forwarded, not fatal to us. */
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaddset(&mask, forwarded[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++) {
                r = sd_event_add_signal(event, NULL, forwarded[i], on_signal, &s);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signals: %m");
        }
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");

        in = stdio_fd(STDIN_FILENO, &null0);
        out = stdio_fd(STDOUT_FILENO, &null1);
        err = stdio_fd(STDERR_FILENO, &null2);
        if (in < 0 || out < 0 || err < 0)
                return log_error_errno(errno, "Failed to open /dev/null: %m");

        r = bus_new_manager_call(bus, "StartPod", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sah", name, 3, in, out, err);
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_start_reply, &s, BUS_TIMEOUT_JOB);
        if (r < 0)
                return log_error_errno(r, "Failed to start pod '%s': %m", name);

        /* Queued right behind StartPod, so even an app that ends at once has a waiter. */
        r = send_wait(&s);
        if (r < 0)
                return log_error_errno(r, "Failed to wait for pod '%s': %m", name);

        for (;;) {
                while (!s.start_done || !s.wait_done) {
                        r = sd_event_run(event, UINT64_MAX);
                        if (r < 0)
                                return log_error_errno(r, "Failed to run event loop: %m");
                }

                /* The pod was still "created" when WaitPod arrived: ask once more. */
                if (s.start_r >= 0 && s.wait_r >= 0 && isempty(s.code) && !retried) {
                        retried = true;
                        r = send_wait(&s);
                        if (r < 0)
                                return log_error_errno(r, "Failed to wait for pod '%s': %m", name);
                        continue;
                }
                break;
        }

        if (s.wait_r >= 0 && streq_ptr(s.code, "start-failed")) {
                log_error("Failed to start pod '%s': %s", name,
                          !isempty(s.message) ? s.message : strerror(s.status));
                if (auto_remove)
                        (void) remove_pod(bus, name, true, true);
                return s.status == ENOENT ? 127 : 126;
        }
        if (s.start_r < 0 && sd_bus_error_has_name(&s.start_error, BUS_ERROR_POD_START_FAILED)) {
                /* The app did not run, but its exit record is gone (AutoRemove was quicker
                 * than WaitPod): the error is all there is to go by. */
                log_bus_error(s.start_r, &s.start_error, "Failed to start pod '%s'", name);
                if (auto_remove)
                        (void) remove_pod(bus, name, true, true);
                return s.start_r == -ENOENT ||
                        (s.start_error.message && strstr(s.start_error.message, strerror(ENOENT))) ? 127 : 126;
        }
        if (s.start_r < 0) {
                log_bus_error(s.start_r, &s.start_error, "Failed to start pod '%s'", name);
                if (auto_remove)
                        (void) remove_pod(bus, name, true, true);
                return EXIT_PODCTL;
        }
        if (s.wait_r < 0) {
                log_bus_error(s.wait_r, &s.wait_error, "Failed to wait for pod '%s'", name);
                return EXIT_PODCTL;
        }

        if (auto_remove && remove_pod(bus, name, false, true) < 0)
                return EXIT_PODCTL;

        if (streq_ptr(s.code, "exited"))
                return s.status;
        if (streq_ptr(s.code, "killed") || streq_ptr(s.code, "dumped"))
                return 128 + s.status;

        log_error("Pod '%s' ended without an exit status%s%s.", name, isempty(s.code) ? "" : ": ",
                  isempty(s.code) ? "" : s.code);
        return EXIT_PODCTL;
}

int verb_run(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(create_args_done) CreateArgs a = {};
        _cleanup_free_ char *name = NULL;
        int r;

        r = create_pod_from_argv(argc, argv, true, &a, &bus, &name);
        if (r <= 0)
                return r < 0 ? EXIT_PODCTL : 0;

        if (!a.detach)
                return run_foreground(bus, name, a.auto_remove);

        r = bus_call_manager(bus, "StartPod", BUS_TIMEOUT_JOB, &error, NULL, "sah", name, 0);
        if (r < 0) {
                log_bus_error(r, &error, "Failed to start pod '%s'", name);
                if (a.auto_remove)
                        (void) remove_pod(bus, name, true, true);
                return EXIT_PODCTL;
        }

        puts(name);
        return 0;
}

/* Verbs acting on each NAME alike */

static const VerbSyntax pod_names_syntax = {
        .min_args = 1,
        .max_args = -1,
        .what = "at least one pod name",
};

static int start_one(sd_bus *bus, const char *name, void *userdata) {
        return bus_call_for_name(bus, "pod", name, "StartPod", "start", "sah", name, 0);
}

static int stop_one(sd_bus *bus, const char *name, void *userdata) {
        return bus_call_for_name(bus, "pod", name, "StopPod", "stop", "s", name);
}

int verb_start(int argc, char *argv[]) {
        return for_each_name(argc, argv, &pod_names_syntax, NULL, start_one);
}

int verb_stop(int argc, char *argv[]) {
        return for_each_name(argc, argv, &pod_names_syntax, NULL, stop_one);
}

typedef struct KillArgs {
        const char *whom;
        int signal;
} KillArgs;

static int kill_one(sd_bus *bus, const char *name, void *userdata) {
        const KillArgs *k = userdata;

        return bus_call_for_name(bus, "pod", name, "KillPod", "kill", "ssi", name, k->whom, (int32_t) k->signal);
}

static int parse_kill_option(int c, const char *arg, void *userdata) {
        KillArgs *k = userdata;
        int r;

        switch (c) {
        case 's':
                r = parse_signal(arg, &k->signal);
                if (r < 0)
                        return log_error_errno(r, "Unknown signal '%s'.", arg);
                return 1;
        case ARG_KILL_WHOM:
                if (strcmp(arg, "all") != 0 && strcmp(arg, "leader") != 0)
                        return log_error_errno(EINVAL, "Invalid --kill-whom= value '%s', expected 'all' or 'leader'.",
                                               arg);
                k->whom = arg;
                return 1;
        default:
                return 0;
        }
}

int verb_kill(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "signal",    required_argument, NULL, 's'           },
                { "kill-whom", required_argument, NULL, ARG_KILL_WHOM },
                {}
        };
        static const VerbSyntax syntax = {
                .short_options = ":" COMMON_SHORT_OPTIONS "s:",
                .options = options,
                .parse_option = parse_kill_option,
                .min_args = 1,
                .max_args = -1,
                .what = "at least one pod name",
        };
        KillArgs k = { .whom = "all", .signal = SIGTERM };

        return for_each_name(argc, argv, &syntax, &k, kill_one);
}

static int rm_one(sd_bus *bus, const char *name, void *userdata) {
        const bool *force = userdata;

        return bus_call_for_name(bus, "pod", name, "RemovePod", "remove", "sb", name, (int) *force);
}

int verb_rm(int argc, char *argv[]) {
        static const VerbSyntax syntax = {
                .short_options = FORCE_SHORT_OPTIONS,
                .options = force_options,
                .parse_option = parse_force_option,
                .min_args = 1,
                .max_args = -1,
                .what = "at least one pod name",
        };
        bool force = false;

        return for_each_name(argc, argv, &syntax, &force, rm_one);
}

/* Prints how the pod ended; *userdata is the exit status podctl wait then returns. */
static int wait_one(sd_bus *bus, const char *name, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int *ret_status = userdata;
        const char *code, *message;
        int32_t status;
        ExitInfo info = {};
        int r;

        r = bus_call_manager(bus, "WaitPod", BUS_TIMEOUT_INFINITE, &error, &reply, "s", name);
        if (r < 0) {
                log_bus_error(r, &error, "Failed to wait for pod '%s'", name);
                return bus_error_is_unreachable(&error) ? -EHOSTUNREACH : r;
        }
        r = sd_bus_message_read(reply, "sis", &code, &status, &message);
        if (r < 0)
                return log_error_errno(r, "Failed to parse reply of WaitPod: %m");

        if (isempty(code)) {
                puts("not-started");
                *ret_status = 0;
                return 0;
        }

        info.code = exit_code_from_string(code);
        info.status = status;
        if (info.code == EXIT_CODE_KILLED || info.code == EXIT_CODE_DUMPED) {
                const char *sig = signal_to_string(status);

                if (sig)
                        printf("%s %s\n", code, sig);
                else
                        printf("%s %" PRIi32 "\n", code, status);
        } else if (info.code == EXIT_CODE_START_FAILED)
                printf("%s %s\n", code, !isempty(message) ? message : strerror(status));
        else
                printf("%s %" PRIi32 "\n", code, status);

        *ret_status = info.code < 0 ? EXIT_FAILURE : exit_info_to_exit_status(&info);
        return 0;
}

int verb_wait(int argc, char *argv[]) {
        int status = 0, r;

        r = for_each_name(argc, argv, &pod_names_syntax, &status, wait_one);
        return r < 0 ? r : status;
}

/* "logs" */

typedef struct LogsArgs {
        uint64_t lines; /* 0: all */
        bool follow;
} LogsArgs;

static int parse_logs_option(int c, const char *arg, void *userdata) {
        LogsArgs *a = userdata;
        int r;

        switch (c) {
        case 'f':
                a->follow = true;
                return 1;
        case 'n':
                r = parse_uint64_range(arg, 1, UINT64_MAX, &a->lines);
                if (r < 0)
                        return log_error_errno(r, "Invalid number of lines '%s', expected a positive integer.", arg);
                return 1;
        default:
                return 0;
        }
}

/* Copies fd to stdout until its end, or until SIGINT/SIGTERM, which end a follow cleanly. */
static int copy_logs(int fd) {
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask;
        char buf[64 * 1024];

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                return log_error_errno(errno, "Failed to watch signals: %m");

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = fd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                };
                ssize_t n;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Failed to wait for the logs: %m");
                }
                if (p[1].revents & POLLIN)
                        return 0;
                n = read(fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return log_error_errno(errno, "Failed to read the logs: %m");
                }
                if (n == 0)
                        return 0;
                if (fwrite(buf, 1, (size_t) n, stdout) != (size_t) n || fflush(stdout) != 0)
                        return log_error_errno(errno, "Failed to write the logs: %m");
        }
}

int verb_logs(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "follow", no_argument,       NULL, 'f' },
                { "lines",  required_argument, NULL, 'n' },
                {}
        };
        static const VerbSyntax syntax = {
                .short_options = ":" COMMON_SHORT_OPTIONS "fn:",
                .options = options,
                .parse_option = parse_logs_option,
                .min_args = 1,
                .max_args = 1,
                .what = "a pod name",
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *call = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        LogsArgs a = {};
        const char *name, *p;
        int i, r;

        r = parse_verb_syntax(argc, argv, &syntax, &a, &i);
        if (r <= 0)
                return r;
        name = argv[i];

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call_manager(bus, "GetPod", BUS_TIMEOUT_DEFAULT, &error, &reply, "s", name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &p);
        if (r >= 0) {
                path = strdup(p);
                if (!path)
                        return log_oom();
                reply = sd_bus_message_unref(reply);

                r = sd_bus_message_new_method_call(bus, &call, PODCTL_BUS_NAME, path, PODCTL_POD_INTERFACE, "GetLogs");
                if (r >= 0)
                        r = sd_bus_message_append(call, "tba{sv}", a.lines, (int) a.follow, 0);
                if (r >= 0)
                        r = sd_bus_call(bus, call, 0, &error, &reply);
        }
        if (r >= 0) {
                int received;

                r = sd_bus_message_read(reply, "h", &received);
                if (r >= 0) {
                        fd = fcntl(received, F_DUPFD_CLOEXEC, 3);
                        if (fd < 0)
                                r = -errno;
                }
        }
        if (r < 0)
                return log_bus_error(r, &error, "Failed to get logs of pod '%s'", name);

        /* The stream needs no more of the bus. */
        reply = sd_bus_message_unref(reply);
        bus = sd_bus_flush_close_unref(bus);

        return copy_logs(fd);
}
