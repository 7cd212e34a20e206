/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bus-errors.h"
#include "ctl-image.h"
#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "name.h"
#include "parse.h"
#include "table.h"
#include "tar-stream.h"

enum {
        ARG_FORMAT = _ARG_COMMON_MAX,
};

static int verb_image_import(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "format", required_argument, NULL, ARG_FORMAT },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int fd = -EBADF, stream_fd = -EBADF;
        _cleanup_free_ char *derived = NULL, *child_message = NULL;
        TarStream stream = TAR_STREAM_NULL;
        const char *format = NULL, *source, *name;
        struct stat st;
        int c, r, k;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":" COMMON_SHORT_OPTIONS, options, NULL)) >= 0)
                switch (c) {
                case ARG_FORMAT:
                        if (strcmp(optarg, "tar") != 0 && strcmp(optarg, "directory") != 0)
                                return log_error_errno(EINVAL, "Invalid --format= value '%s', expected 'tar' or 'directory'.",
                                                       optarg);
                        format = optarg;
                        break;
                default:
                        r = parse_common_option(c, argv);
                        if (r <= 0)
                                return r;
                }

        r = check_arg_count("image import", argc - optind, 1, 2, "a source");
        if (r < 0)
                return r;
        source = argv[optind];

        if (argc - optind >= 2)
                name = argv[optind + 1];
        else if (strcmp(source, "-") == 0)
                return log_error_errno(EINVAL, "Importing from standard input needs an image NAME.");
        else {
                r = image_name_from_path(source, &derived);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 || !name_is_valid(derived))
                        return log_error_errno(EINVAL, "Cannot derive a valid image name from '%s', please pass NAME.",
                                               source);
                name = derived;
        }
        if (!name_is_valid(name))
                return log_error_errno(EINVAL, "Invalid image name '%s'.", name);

        /* Opened with our rights, not the daemon's: it never opens caller paths. */
        if (strcmp(source, "-") == 0)
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", source);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat '%s': %m", source);

        if (!format)
                format = S_ISDIR(st.st_mode) ? "directory" : "tar";
        if (strcmp(format, "directory") == 0 && !S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "Failed to import '%s': Not a directory", source);
        if (strcmp(format, "tar") == 0 && S_ISDIR(st.st_mode))
                return log_error_errno(EISDIR, "Failed to import '%s': Is a directory", source);

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        if (S_ISDIR(st.st_mode)) {
                r = tar_stream_fork(fd, &stream, &stream_fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to start archiving '%s': %m", source);
        }

        r = bus_new_manager_call(bus, "ImportImage", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sha{sv}", name, stream_fd >= 0 ? stream_fd : fd, 1, "Format", "s", format);
        if (r >= 0) {
                /* The daemon holds its own copy now; ours would keep the child's pipe open. */
                stream_fd = safe_close(stream_fd);
                r = sd_bus_call(bus, m, BUS_TIMEOUT_IMPORT, &error, NULL);
        } else
                sd_bus_error_set_errno(&error, r);
        stream_fd = safe_close(stream_fd);
        /* The message holds a copy of the pipe's read end: drop it, or a child whose
         * reader gave up early would block forever instead of getting EPIPE. */
        m = sd_bus_message_unref(m);

        k = tar_stream_wait(&stream, &child_message);

        /* A child that failed made the stream short: that is the cause to name. A child
         * that got EPIPE only saw the daemon give up: then the daemon's error is. */
        if (k < 0 && k != -EPIPE) {
                if (child_message)
                        return log_error_errno(k, "Failed to archive '%s': %s", source, child_message);
                return log_error_errno(k, "Failed to archive '%s': %m", source);
        }
        if (r < 0)
                return log_bus_error(r, &error, "Failed to import image '%s'", name);
        if (k < 0)
                return log_error_errno(k, "Failed to archive '%s': %s", source, child_message ?: strerror(-k));

        if (!arg_quiet)
                printf("Imported image '%s'.\n", name);
        return 0;
}

static int verb_image_list(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_table_ Table *table = NULL;
        const char *name, *format, *path;
        uint64_t size, created;
        uint32_t pods;
        int i, r;

        r = parse_verb_args(argc, argv, 0, 0, NULL, &i);
        if (r <= 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call_manager(bus, "ListImages", BUS_TIMEOUT_DEFAULT, &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(r, &error, "Failed to list images");

        table = table_new("NAME", "name", "FORMAT", "format", "SIZE", "size", "CREATED", "created_usec",
                          "PODS", "pods", NULL);
        if (!table)
                return log_oom();

        r = sd_bus_message_enter_container(reply, 'a', "(ssttuo)");
        if (r < 0)
                goto parse_error;
        while ((r = sd_bus_message_read(reply, "(ssttuo)", &name, &format, &size, &created, &pods, &path)) > 0) {
                char sz[FORMAT_BYTES_MAX], ts[FORMAT_TIMESTAMP_MAX];

                if (table_add_string(table, name) < 0 ||
                    table_add_string(table, format) < 0 ||
                    table_add_cell(table, format_bytes(sz, sizeof(sz), size), json_integer((json_int_t) size)) < 0 ||
                    table_add_cell(table, format_timestamp(ts, sizeof(ts), created),
                                   json_integer((json_int_t) created)) < 0 ||
                    table_add_uint64(table, pods) < 0)
                        return log_oom();
        }
        if (r < 0)
                goto parse_error;

        table_sort(table, 0);

        if (arg_json) {
                _cleanup_json_ json_t *j = NULL;

                r = table_to_json(table, &j);
                if (r < 0)
                        return log_oom();
                return json_print(j, stdout) < 0 ? log_error_errno(EIO, "Failed to write JSON.") : 0;
        }

        table_print(table, stdout, arg_legend);
        if (arg_legend)
                printf("\n%zu images listed.\n", table_get_rows(table));
        return 0;

parse_error:
        return log_error_errno(r, "Failed to parse the list of images: %m");
}

static int verb_image_rm(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool force = false;
        int c, r, ret = 0;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":" COMMON_SHORT_OPTIONS "f", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        force = true;
                        break;
                default:
                        r = parse_common_option(c, argv);
                        if (r <= 0)
                                return r;
                }

        r = check_arg_count("image rm", argc - optind, 1, -1, "at least one image name");
        if (r < 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

                r = bus_call_manager(bus, "RemoveImage", BUS_TIMEOUT_JOB, &error, NULL, "sb", argv[i], (int) force);
                if (r < 0) {
                        ret = log_bus_error(r, &error, "Failed to remove image '%s'", argv[i]);
                        if (bus_error_is_unreachable(&error))
                                return ret;
                }
        }
        return ret;
}

int verb_image(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } verbs[] = {
                { "import", verb_image_import },
                { "list",   verb_image_list   },
                { "ls",     verb_image_list   },
                { "rm",     verb_image_rm     },
                { "remove", verb_image_rm     },
        };
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                {}
        };
        int c, r;

        /* Common options may also sit between "image" and its verb. */
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:" COMMON_SHORT_OPTIONS, options, NULL)) >= 0) {
                r = parse_common_option(c, argv);
                if (r <= 0)
                        return r;
        }

        if (optind >= argc)
                return log_error_errno(EINVAL, "'image' needs a command: import, list or rm. See 'podctl --help'.");

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(argv[optind], verbs[i].name) == 0)
                        return verbs[i].run(argc - optind, argv + optind);

        return log_error_errno(EINVAL, "Unknown command 'image %s'. See 'podctl --help'.", argv[optind]);
}
