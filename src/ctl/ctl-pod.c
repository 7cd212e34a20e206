/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-event.h>

#include "bus-errors.h"
#include "ctl-pod.h"
#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "parse.h"
#include "paths.h"
#include "pod-config.h"
#include "strv.h"
#include "table.h"

/* Right-aligned labels of "podctl status", as machinectl status lays them out. */
#define STATUS_LABEL_WIDTH 10

static bool streq_ptr(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}

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
} PodInfo;

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
                { "ExitCode",           's', &info->exit_code              },
                { "ExitStatus",         'i', &info->exit_status            },
                { "ExitMessage",        's', &info->exit_message           },
                { "FinishedAt",         't', &info->finished_usec          },
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

static int pod_info_to_json(const PodInfo *p, json_t **ret) {
        bool has_exit = !isempty(p->exit_code);
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
                      "command", strv_to_json(p->command),
                      "environment", strv_to_json(p->environment),
                      "working_directory", json_string_or_null(p->working_directory),
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
        *ret = j;
        return 0;
}

static void print_field(const char *label, const char *value) {
        printf("%*s %s\n", STATUS_LABEL_WIDTH, label, isempty(value) ? "-" : value);
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
        command = format_command(p->command);
        print_field("Command:", command);
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
                char range[64];

                snprintf(range, sizeof range, "%" PRIu32 "-%" PRIu32, p->uid_shift, p->uid_shift + (POD_UID_RANGE_SIZE - 1));
                print_field("UID range:", range);
        } else
                print_field("UID range:", "none (host's root)");
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
        if (l > 0)
                print_field("Limits:", limits);

        if (!isempty(p->exit_code)) {
                char exit[512];
                const char *sig = signal_to_string(p->exit_status);

                if (streq_ptr(p->exit_code, "exited"))
                        snprintf(exit, sizeof(exit), "exited, status=%" PRIi32, p->exit_status);
                else if (streq_ptr(p->exit_code, "killed") || streq_ptr(p->exit_code, "dumped")) {
                        if (sig)
                                snprintf(exit, sizeof(exit), "%s, signal=%s", p->exit_code, sig);
                        else
                                snprintf(exit, sizeof(exit), "%s, signal=%" PRIi32, p->exit_code, p->exit_status);
                } else if (streq_ptr(p->exit_code, "start-failed"))
                        snprintf(exit, sizeof(exit), "start-failed: %s",
                                 !isempty(p->exit_message) ? p->exit_message : strerror(p->exit_status));
                else
                        snprintf(exit, sizeof(exit), "%s, status=%" PRIi32, p->exit_code, p->exit_status);
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
        bool auto_remove;
        bool detach;
        bool read_only;
        int private_users; /* -1: the service's default */
        const char *network;
        char **capabilities_add;
        char **capabilities_drop;

        const char *image;
        char **command; /* points into argv */
} CreateArgs;

static void create_args_done(CreateArgs *a) {
        strv_free(a->environment);
        strv_free(a->capabilities_add);
        strv_free(a->capabilities_drop);
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
        default:
                return 0;
        }
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
                { "rm",        no_argument,       NULL, ARG_RM        },
                { "detach",    no_argument,       NULL, 'd'           },
                { "read-only", no_argument,       NULL, ARG_READ_ONLY },
                { "network",   required_argument, NULL, ARG_NETWORK   },
                { "private-users", required_argument, NULL, ARG_PRIVATE_USERS },
                { "caps-add",  required_argument, NULL, ARG_CAPS_ADD  },
                { "caps-drop", required_argument, NULL, ARG_CAPS_DROP },
                {}
        };
        const VerbSyntax syntax = {
                /* "+": the first non-option is the image; what follows is the command's. */
                .short_options = run ? "+:" COMMON_SHORT_OPTIONS "e:w:d" : "+:" COMMON_SHORT_OPTIONS "e:w:",
                .options = options,
                .parse_option = parse_create_option,
                .min_args = 1,
                .max_args = -1,
                .what = "an image name",
        };
        int i, r;

        *a = (CreateArgs) {
                .memory_max = LIMIT_UNSET,
                .cpu_quota_per_sec_usec = LIMIT_UNSET,
                .tasks_max = LIMIT_UNSET,
                .io_weight = LIMIT_UNSET,
                .private_users = -1,
        };

        r = parse_verb_syntax(argc, argv, &syntax, a, &i);
        if (r <= 0)
                return r;

        a->image = argv[i];
        a->command = argv + i + 1;
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

static int create_pod(sd_bus *bus, const CreateArgs *a, char **ret_name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *name, *path;
        char *n;
        int r;

        r = bus_new_manager_call(bus, "CreatePod", &m);
        if (r < 0)
                goto fail;
        r = sd_bus_message_append(m, "ss", a->name ?: "", a->image);
        if (r < 0)
                goto fail;
        r = sd_bus_message_append_strv(m, a->command);
        if (r < 0)
                goto fail;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                goto fail;
        r = append_strv_option(m, "Environment", a->environment);
        if (r < 0)
                goto fail;
        if (a->working_directory) {
                r = sd_bus_message_append(m, "{sv}", "WorkingDirectory", "s", a->working_directory);
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

        const struct {
                const char *key;
                uint64_t value;
        } limits[] = {
                { "MemoryMax",          a->memory_max             },
                { "CPUQuotaPerSecUSec", a->cpu_quota_per_sec_usec },
                { "TasksMax",           a->tasks_max              },
                { "IOWeight",           a->io_weight              },
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
                return log_bus_error(r, &error, "Failed to create pod from image '%s'", a->image);
        }

        r = sd_bus_message_read(reply, "so", &name, &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse reply of CreatePod: %m");

        n = strdup(name);
        if (!n)
                return log_oom();
        *ret_name = n;
        return 0;

fail:
        return log_error_errno(r, "Failed to build CreatePod call: %m");
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
