/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"
#include "table.h"

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

/* Takes one of a verb's own options, c as getopt_long() returned it: returns 1 if it did,
 * 0 if c is not one of them, or -errno after logging. */
typedef int (*ParseOptionFunc)(int c, const char *arg, void *userdata);

/* What a verb accepts after its name. */
typedef struct VerbSyntax {
        const char *name;             /* in messages; NULL: argv[0] */
        const char *short_options;    /* for getopt_long(); NULL: ":" COMMON_SHORT_OPTIONS */
        const struct option *options; /* COMMON_LONG_OPTIONS and the verb's own; NULL: the common ones */
        ParseOptionFunc parse_option; /* NULL: the verb has no options of its own */
        int min_args, max_args;       /* max_args < 0: no limit */
        const char *what;             /* "'VERB' needs WHAT" when fewer than min_args */
} VerbSyntax;

/* Parses argv (argv[0] is the verb) as syntax says, common options included, and checks
 * how many arguments remain. Returns 1 with *ret_optind pointing at the first argument,
 * or as parse_common_option(). */
int parse_verb_syntax(int argc, char *argv[], const VerbSyntax *syntax, void *userdata, int *ret_optind);

/* For verbs without options of their own. */
int parse_verb_args(int argc, char *argv[], int min, int max, const char *what, int *ret_optind);

/* The options of the rm verbs: the common ones and -f/--force, which sets the bool userdata
 * points to. */
#define FORCE_SHORT_OPTIONS ":" COMMON_SHORT_OPTIONS "f"
extern const struct option force_options[];
int parse_force_option(int c, const char *arg, void *userdata);

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
} Verb;

/* Parses the common options before a verb, stopping at it: the verb parses its own (and
 * these again). As parse_verb_args(), with *ret_optind at the verb or argc if none. */
int parse_options_before_verb(int argc, char *argv[], int *ret_optind);

/* Runs the verb argv[0] names, with argv as its own; prefix stands before the name in the
 * error for an unknown one ("image "). */
int dispatch_verb(int argc, char *argv[], const Verb *verbs, size_t n_verbs, const char *prefix);

/* "podctl GROUP VERB ...", argv[0] being GROUP ("image"): runs VERB from verbs, with the
 * common options also accepted between GROUP and VERB; what lists the verbs for the error
 * when VERB is missing ("import, list or rm"). */
int dispatch_group_verb(int argc, char *argv[], const Verb *verbs, size_t n_verbs, const char *what);

int bus_connect(sd_bus **ret);

/* Method timeouts: start/stop may wait for systemd jobs; imports for big trees. */
#define BUS_TIMEOUT_DEFAULT 0
/* The bus's default with interactive authorization: someone may be typing a password. */
#define BUS_TIMEOUT_INTERACTIVE (5 * 60 * UINT64_C(1000000))
#define BUS_TIMEOUT_JOB (5 * 60 * UINT64_C(1000000))
#define BUS_TIMEOUT_IMPORT (60 * 60 * UINT64_C(1000000))
#define BUS_TIMEOUT_INFINITE UINT64_MAX

int bus_new_manager_call(sd_bus *bus, const char *member, sd_bus_message **ret);

/* Calls a Manager method with arguments as sd_bus_message_append(). */
int bus_call_manager(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
                     sd_bus_message **ret_reply, const char *types, ...);

/* Calls member for one NAME; "Failed to VERB KIND 'NAME': CAUSE" if that fails. Returns
 * -EHOSTUNREACH when the service is not there at all. */
int bus_call_for_name(sd_bus *bus, const char *kind, const char *name, const char *member, const char *verb,
                      const char *types, ...);

/* What verbs acting on each NAME alike do with one: 0, or -errno after logging. */
typedef int (*NameAction)(sd_bus *bus, const char *name, void *userdata);

/* Parses argv as syntax says (the verb's options into userdata), then calls action with
 * userdata for each NAME. Returns the last failure, at once -EHOSTUNREACH, or as parse_verb_syntax(). */
int for_each_name(int argc, char *argv[], const VerbSyntax *syntax, void *userdata, NameAction action);

/* Logs "PREFIX: CAUSE" with the D-Bus error's message (or strerror), or "Failed to
 * connect to podmachined: CAUSE" when the service cannot be reached at all. */
/* The service is not there (not installed, not activatable). */
bool bus_error_is_unreachable(const sd_bus_error *e);

int log_bus_error(int r, const sd_bus_error *error, const char *format, ...) _printf_(3, 4);

/* Reads an a{sv} property dictionary into the destinations of map. */
typedef struct BusProperty {
        const char *name;
        char type;  /* 's', 'b', 'u', 'i', 't', 'a' (as), or 'f': read() reads the variant */
        void *dest; /* char**, bool*, uint32_t*, int32_t*, uint64_t*, char***, or read()'s */
        int (*read)(sd_bus_message *m, void *dest);
} BusProperty;

int bus_read_properties(sd_bus_message *m, const BusProperty *map);

/* Reads the next entry of a list reply into a row of table: returns 1, 0 at the end of the
 * list, -ENOMEM, or what sd_bus_message_read() failed with. */
typedef int (*ReadRowFunc)(sd_bus_message *reply, Table *table);

/* The list verbs: no arguments; calls member, whose reply is an array of entry (a signature),
 * reads each into table and outputs it as table_output() does. Returns 0, or as
 * parse_verb_args(), or -errno after logging. */
int run_list_verb(int argc, char *argv[], const char *member, const char *entry, Table *table,
                  ReadRowFunc read_row, const char *what);
