/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"

/* Options every verb accepts, before or after its name. */
extern bool arg_json;
extern bool arg_legend;
extern bool arg_quiet;
extern bool arg_ask_password;

/* What podman returns when podctl itself, not the app, failed in "run". */
#define EXIT_PODCTL 125

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_NO_PAGER,
        ARG_NO_ASK_PASSWORD,
        _ARG_COMMON_MAX,
};

#define COMMON_SHORT_OPTIONS "hq"
#define COMMON_LONG_OPTIONS                                                \
        { "help",            no_argument, NULL, 'h'                 },     \
        { "version",         no_argument, NULL, ARG_VERSION         },     \
        { "json",            no_argument, NULL, ARG_JSON            },     \
        { "no-legend",       no_argument, NULL, ARG_NO_LEGEND       },     \
        { "no-pager",        no_argument, NULL, ARG_NO_PAGER        },     \
        { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },     \
        { "quiet",           no_argument, NULL, 'q'                 }

void help(void);

/* Handles a getopt_long() result that is a common option or an error. Returns 1 if
 * parsing goes on, 0 if the program is done (--help, --version) and -EINVAL after
 * logging a usage error. */
int parse_common_option(int c, char *argv[]);

/* For verbs without options of their own: parses argv (argv[0] is the verb) and
 * checks that between min and max arguments remain. Returns 1 with *ret_optind
 * pointing at the first argument, or as parse_common_option(). */
int parse_verb_args(int argc, char *argv[], int min, int max, const char *what, int *ret_optind);

int check_arg_count(const char *verb, int n, int min, int max, const char *what);

int bus_connect(sd_bus **ret);

/* Method timeouts: start/stop may wait for systemd jobs; imports for big trees. */
#define BUS_TIMEOUT_DEFAULT 0
#define BUS_TIMEOUT_JOB (5 * 60 * UINT64_C(1000000))
#define BUS_TIMEOUT_IMPORT (60 * 60 * UINT64_C(1000000))
#define BUS_TIMEOUT_INFINITE UINT64_MAX

int bus_new_manager_call(sd_bus *bus, const char *member, sd_bus_message **ret);

/* Calls a Manager method with arguments as sd_bus_message_append(). */
int bus_call_manager(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
                     sd_bus_message **ret_reply, const char *types, ...);

/* Logs "PREFIX: CAUSE" with the D-Bus error's message (or strerror), or "Failed to
 * connect to podmachined: CAUSE" when the service cannot be reached at all. */
/* The service is not there (not installed, not activatable). */
bool bus_error_is_unreachable(const sd_bus_error *e);

int log_bus_error(int r, const sd_bus_error *error, const char *format, ...) _printf_(3, 4);

/* Reads an a{sv} property dictionary into the destinations of map. */
typedef struct BusProperty {
        const char *name;
        char type;  /* 's', 'b', 'u', 'i', 't' or 'a' (as) */
        void *dest; /* char**, bool*, uint32_t*, int32_t*, uint64_t*, char*** */
} BusProperty;

int bus_read_properties(sd_bus_message *m, const BusProperty *map);
