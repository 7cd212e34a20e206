/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "ctl-trust.h"
#include "ctl.h"
#include "log.h"
#include "strv.h"
#include "table.h"
#include "trust-store.h"

enum {
        ARG_NAME = _ARG_COMMON_MAX,
};

static int parse_add_option(int c, const char *arg, void *userdata) {
        const char **name = userdata;

        if (c != ARG_NAME)
                return 0;
        if (!trust_key_name_is_valid(arg))
                return log_error_errno(EINVAL,
                                       "Invalid key name '%s': use letters, digits, '_', '.', '@', '+' and '-', "
                                       "at most %d characters, not starting with '.' or '-'.",
                                       arg, TRUST_KEY_NAME_MAX);
        *name = arg;
        return 1;
}

static int verb_trust_add(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "name", required_argument, NULL, ARG_NAME },
                {}
        };
        static const VerbSyntax syntax = {
                .name = "trust add",
                .options = options,
                .parse_option = parse_add_option,
                .min_args = 1,
                .max_args = 1,
                .what = "a key FILE",
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *name = "", *file, *stored, *id;
        int i, r;

        r = parse_verb_syntax(argc, argv, &syntax, &name, &i);
        if (r <= 0)
                return r;
        file = argv[i];

        /* Opened with our rights, not the daemon's: it never opens caller paths. */
        if (strcmp(file, "-") == 0)
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to add trusted key from '%s': %m", file);

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call_manager(bus, "AddTrustedKey", BUS_TIMEOUT_DEFAULT, &error, &reply, "hs", fd, name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "ss", &stored, &id);
        if (r < 0)
                return log_bus_error(r, &error, "Failed to add trusted key from '%s'", file);

        if (!arg_quiet)
                printf("Trusted key %s (%s) added.\n", stored, id);
        return 0;
}

static int read_key_row(sd_bus_message *reply, Table *table) {
        const char *name, *id, *comment, *origin, *path;
        int masked, r;

        r = sd_bus_message_read(reply, "(sssssb)", &name, &id, &comment, &origin, &path, &masked);
        if (r <= 0)
                return r;

        if (table_add_string(table, name) < 0 ||
            table_add_string(table, id) < 0 ||
            table_add_cell(table, masked ? "vendor (masked)" : origin, json_string(origin)) < 0 ||
            table_add_string(table, comment) < 0 ||
            table_add_string(table, path) < 0 ||
            table_add_cell(table, "", json_boolean(masked)) < 0)
                return -ENOMEM;
        return 1;
}

static int verb_trust_list(int argc, char *argv[]) {
        _cleanup_table_ Table *table = NULL;

        table = table_new("NAME", "name", "KEY ID", "key_id", "ORIGIN", "origin", "COMMENT", "comment",
                          "", "path", "", "masked", NULL);
        if (!table)
                return log_oom();

        return run_list_verb(argc, argv, "ListTrustedKeys", "(sssssb)", table, read_key_row, "trusted keys");
}

static int rm_one(sd_bus *bus, const char *what, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        int r;

        r = bus_call_manager(bus, "RemoveTrustedKey", BUS_TIMEOUT_DEFAULT, &error, &reply, "s", what);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &removed);
        if (r < 0) {
                log_bus_error(r, &error, "Failed to remove trusted key '%s'", what);
                return bus_error_is_unreachable(&error) ? -EHOSTUNREACH : r;
        }

        for (char **n = removed; !arg_quiet && n && *n; n++)
                printf("Trusted key %s removed.\n", *n);
        return 0;
}

static int verb_trust_rm(int argc, char *argv[]) {
        static const VerbSyntax syntax = {
                .name = "trust rm",
                .min_args = 1,
                .max_args = -1,
                .what = "at least one key name or key ID",
        };

        return for_each_name(argc, argv, &syntax, NULL, rm_one);
}

int verb_trust(int argc, char *argv[]) {
        static const Verb verbs[] = {
                { "add",    verb_trust_add  },
                { "list",   verb_trust_list },
                { "ls",     verb_trust_list },
                { "rm",     verb_trust_rm   },
                { "remove", verb_trust_rm   },
        };

        return dispatch_group_verb(argc, argv, verbs, ELEMENTSOF(verbs), "add, list or rm");
}
