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

static int parse_import_option(int c, const char *arg, void *userdata) {
        const char **format = userdata;

        if (c != ARG_FORMAT)
                return 0;
        if (strcmp(arg, "tar") != 0 && strcmp(arg, "directory") != 0)
                return log_error_errno(EINVAL, "Invalid --format= value '%s', expected 'tar' or 'directory'.", arg);
        *format = arg;
        return 1;
}

static int verb_image_import(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "format", required_argument, NULL, ARG_FORMAT },
                {}
        };
        static const VerbSyntax syntax = {
                .name = "image import",
                .options = options,
                .parse_option = parse_import_option,
                .min_args = 1,
                .max_args = 2,
                .what = "a source",
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int fd = -EBADF, stream_fd = -EBADF;
        _cleanup_free_ char *derived = NULL, *child_message = NULL;
        TarStream stream = TAR_STREAM_NULL;
        const char *format = NULL, *source, *name;
        struct stat st;
        int i, r, k;

        r = parse_verb_syntax(argc, argv, &syntax, &format, &i);
        if (r <= 0)
                return r;
        source = argv[i];

        if (argc - i >= 2)
                name = argv[i + 1];
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

static int read_image_row(sd_bus_message *reply, Table *table) {
        const char *name, *format, *path;
        char sz[FORMAT_BYTES_MAX], ts[FORMAT_TIMESTAMP_MAX];
        uint64_t size, created;
        uint32_t pods;
        int r;

        r = sd_bus_message_read(reply, "(ssttuo)", &name, &format, &size, &created, &pods, &path);
        if (r <= 0)
                return r;

        if (table_add_string(table, name) < 0 ||
            table_add_string(table, format) < 0 ||
            table_add_cell(table, format_bytes(sz, sizeof(sz), size), json_integer((json_int_t) size)) < 0 ||
            table_add_cell(table, format_timestamp(ts, sizeof(ts), created), json_integer((json_int_t) created)) < 0 ||
            table_add_uint64(table, pods) < 0)
                return -ENOMEM;
        return 1;
}

static int verb_image_list(int argc, char *argv[]) {
        _cleanup_table_ Table *table = NULL;

        table = table_new("NAME", "name", "FORMAT", "format", "SIZE", "size", "CREATED", "created_usec",
                          "PODS", "pods", NULL);
        if (!table)
                return log_oom();

        return run_list_verb(argc, argv, "ListImages", "(ssttuo)", table, read_image_row, "images");
}

static int rm_one(sd_bus *bus, const char *name, void *userdata) {
        const bool *force = userdata;

        return bus_call_for_name(bus, "image", name, "RemoveImage", "remove", "sb", name, (int) *force);
}

static int verb_image_rm(int argc, char *argv[]) {
        static const VerbSyntax syntax = {
                .name = "image rm",
                .short_options = FORCE_SHORT_OPTIONS,
                .options = force_options,
                .parse_option = parse_force_option,
                .min_args = 1,
                .max_args = -1,
                .what = "at least one image name",
        };
        bool force = false;

        return for_each_name(argc, argv, &syntax, &force, rm_one);
}

int verb_image(int argc, char *argv[]) {
        static const Verb verbs[] = {
                { "import", verb_image_import },
                { "list",   verb_image_list   },
                { "ls",     verb_image_list   },
                { "rm",     verb_image_rm     },
                { "remove", verb_image_rm     },
        };

        return dispatch_group_verb(argc, argv, verbs, ELEMENTSOF(verbs), "import, list or rm");
}
