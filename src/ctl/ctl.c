/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bus-errors.h"
#include "ctl.h"
#include "log.h"
#include "paths.h"
#include "polkit-agent.h"
#include "strv.h"

bool arg_json = false;
bool arg_legend = true;
bool arg_quiet = false;
bool arg_ask_password = true;

int parse_common_option(int c, char *argv[]) {
        switch (c) {
        case 'h':
                help();
                return 0;
        case ARG_VERSION:
                printf("podctl %s\n", PODCTL_VERSION);
                return 0;
        case ARG_JSON:
                arg_json = true;
                return 1;
        case ARG_NO_LEGEND:
                arg_legend = false;
                return 1;
        case ARG_NO_PAGER:
                return 1; /* podctl never pages */
        case ARG_NO_ASK_PASSWORD:
                arg_ask_password = false;
                return 1;
        case 'q':
                arg_quiet = true;
                return 1;
        case ':':
                return log_error_errno(EINVAL, "Option '%s' needs an argument. See 'podctl --help'.",
                                       argv[optind - 1]);
        case '?':
                if (optopt != 0)
                        return log_error_errno(EINVAL, "Unknown option '-%c'. See 'podctl --help'.", optopt);
                return log_error_errno(EINVAL, "Unknown option '%s'. See 'podctl --help'.", argv[optind - 1]);
        default:
                return log_error_errno(EINVAL, "Unhandled option %d.", c);
        }
}

static int check_arg_count(const char *verb, int n, int min, int max, const char *what) {
        if (n < min)
                return log_error_errno(EINVAL, "'%s' needs %s. See 'podctl --help'.", verb, what);
        if (max >= 0 && n > max)
                return log_error_errno(EINVAL, "Too many arguments for '%s'. See 'podctl --help'.", verb);
        return 0;
}

int parse_verb_syntax(int argc, char *argv[], const VerbSyntax *syntax, void *userdata, int *ret_optind) {
        static const struct option common_options[] = {
                COMMON_LONG_OPTIONS,
                {}
        };
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, syntax->short_options ?: ":" COMMON_SHORT_OPTIONS,
                                syntax->options ?: common_options, NULL)) >= 0) {
                r = syntax->parse_option ? syntax->parse_option(c, optarg, userdata) : 0;
                if (r == 0)
                        r = parse_common_option(c, argv);
                if (r <= 0)
                        return r;
        }

        r = check_arg_count(syntax->name ?: argv[0], argc - optind, syntax->min_args, syntax->max_args,
                            syntax->what);
        if (r < 0)
                return r;

        *ret_optind = optind;
        return 1;
}

int parse_verb_args(int argc, char *argv[], int min, int max, const char *what, int *ret_optind) {
        const VerbSyntax syntax = {
                .min_args = min,
                .max_args = max,
                .what = what,
        };

        return parse_verb_syntax(argc, argv, &syntax, NULL, ret_optind);
}

const struct option force_options[] = {
        COMMON_LONG_OPTIONS,
        { "force", no_argument, NULL, 'f' },
        {}
};

int parse_force_option(int c, const char *arg, void *userdata) {
        bool *force = userdata;

        if (c != 'f')
                return 0;
        *force = true;
        return 1;
}

int parse_options_before_verb(int argc, char *argv[], int *ret_optind) {
        static const VerbSyntax syntax = {
                .short_options = "+:" COMMON_SHORT_OPTIONS,
                .max_args = -1,
        };

        return parse_verb_syntax(argc, argv, &syntax, NULL, ret_optind);
}

int dispatch_verb(int argc, char *argv[], const Verb *verbs, size_t n_verbs, const char *prefix) {
        for (size_t i = 0; i < n_verbs; i++)
                if (strcmp(argv[0], verbs[i].name) == 0)
                        return verbs[i].run(argc, argv);

        return log_error_errno(EINVAL, "Unknown command '%s%s'. See 'podctl --help'.", prefix, argv[0]);
}

int dispatch_group_verb(int argc, char *argv[], const Verb *verbs, size_t n_verbs, const char *what) {
        _cleanup_free_ char *prefix = NULL;
        int i, r;

        r = parse_options_before_verb(argc, argv, &i);
        if (r <= 0)
                return r;

        if (i >= argc)
                return log_error_errno(EINVAL, "'%s' needs a command: %s. See 'podctl --help'.", argv[0], what);

        if (asprintf(&prefix, "%s ", argv[0]) < 0)
                return log_oom();
        return dispatch_verb(argc - i, argv + i, verbs, n_verbs, prefix);
}

int run_list_verb(int argc, char *argv[], const char *member, const char *entry, Table *table,
                  ReadRowFunc read_row, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int i, r;

        r = parse_verb_args(argc, argv, 0, 0, NULL, &i);
        if (r <= 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call_manager(bus, member, BUS_TIMEOUT_DEFAULT, &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(r, &error, "Failed to list %s", what);

        r = sd_bus_message_enter_container(reply, 'a', entry);
        if (r < 0)
                goto parse_error;
        while ((r = read_row(reply, table)) > 0)
                ;
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                goto parse_error;

        return table_output(table, stdout, arg_json, arg_legend, what);

parse_error:
        return log_error_errno(r, "Failed to parse the list of %s: %m", what);
}

int bus_connect(sd_bus **ret) {
        sd_bus *bus;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        /* Authentication is asked for by polkit, in the desktop's dialog or, on a terminal,
         * by the text agent, for the calls of this run: they may wait for a password. */
        (void) sd_bus_set_allow_interactive_authorization(bus, arg_ask_password);
        if (arg_ask_password) {
                polkit_agent_open();
                (void) sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_INTERACTIVE);
        }

        *ret = bus;
        return 0;
}

int bus_new_manager_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, PODCTL_BUS_NAME, PODCTL_BUS_PATH,
                                              PODCTL_MANAGER_INTERFACE, member);
}

static int bus_call_managerv(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
                             sd_bus_message **ret_reply, const char *types, va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = bus_new_manager_call(bus, member, &m);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);

        if (types) {
                r = sd_bus_message_appendv(m, types, ap);
                if (r < 0)
                        return sd_bus_error_set_errno(error, r);
        }

        return sd_bus_call(bus, m, timeout, error, ret_reply);
}

int bus_call_manager(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
                     sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_call_managerv(bus, member, timeout, error, ret_reply, types, ap);
        va_end(ap);
        return r;
}

int bus_call_for_name(sd_bus *bus, const char *kind, const char *name, const char *member, const char *verb,
                      const char *types, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_call_managerv(bus, member, BUS_TIMEOUT_JOB, &error, NULL, types, ap);
        va_end(ap);
        if (r < 0) {
                log_bus_error(r, &error, "Failed to %s %s '%s'", verb, kind, name);
                return bus_error_is_unreachable(&error) ? -EHOSTUNREACH : r;
        }
        return 0;
}

int for_each_name(int argc, char *argv[], const VerbSyntax *syntax, void *userdata, NameAction action) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int i, r, ret = 0;

        r = parse_verb_syntax(argc, argv, syntax, userdata, &i);
        if (r <= 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        for (; i < argc; i++) {
                r = action(bus, argv[i], userdata);
                if (r < 0) {
                        /* Unreachable is unreachable for every NAME: say it once. */
                        if (r == -EHOSTUNREACH)
                                return r;
                        ret = r;
                }
        }
        return ret;
}

bool bus_error_is_unreachable(const sd_bus_error *e) {
        if (!sd_bus_error_is_set(e))
                return false;
        return sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
                sd_bus_error_has_name(e, SD_BUS_ERROR_NO_SERVER) ||
                strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0;
}

int log_bus_error(int r, const sd_bus_error *error, const char *format, ...) {
        _cleanup_free_ char *prefix = NULL;
        const char *cause;
        va_list ap;
        int k;

        if (r >= 0)
                r = -EIO;
        cause = error && error->message && *error->message ? error->message : strerror(-r);

        if (error && bus_error_is_unreachable(error))
                return log_error_errno(r, "Failed to connect to podmachined: %s", cause);
        /* The daemon names the action; the call did not allow asking only with --no-ask-password. */
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED) && !arg_ask_password) {
                size_t n = strlen(cause);

                if (n > 0 && cause[n - 1] == '.')
                        n--;
                return log_error_errno(r, "%.*s; --no-ask-password forbids asking for it.", (int) n, cause);
        }

        va_start(ap, format);
        k = vasprintf(&prefix, format, ap);
        va_end(ap);
        if (k < 0)
                return log_oom();

        return log_error_errno(r, "%s: %s", prefix, cause);
}

static int read_strv(sd_bus_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "s", &s)) > 0) {
                char **nl = reallocarray(l, n + 2, sizeof(char *));

                if (!nl)
                        return -ENOMEM;
                l = nl;
                l[n] = strdup(s);
                l[n + 1] = NULL;
                if (!l[n])
                        return -ENOMEM;
                n++;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_property(sd_bus_message *m, const BusProperty *p) {
        const char *s;
        int b, r;

        switch (p->type) {
        case 's':
                r = sd_bus_message_read(m, "v", "s", &s);
                if (r < 0)
                        return r;
                s = strdup(s);
                if (!s)
                        return -ENOMEM;
                free(*(char **) p->dest);
                *(char **) p->dest = (char *) s;
                return 0;
        case 'b':
                r = sd_bus_message_read(m, "v", "b", &b);
                if (r < 0)
                        return r;
                *(bool *) p->dest = b;
                return 0;
        case 'u':
                return sd_bus_message_read(m, "v", "u", p->dest);
        case 'i':
                return sd_bus_message_read(m, "v", "i", p->dest);
        case 't':
                return sd_bus_message_read(m, "v", "t", p->dest);
        case 'a':
                r = sd_bus_message_enter_container(m, 'v', "as");
                if (r < 0)
                        return r;
                r = read_strv(m, p->dest);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        case 'f':
                return p->read(m, p->dest);
        default:
                return -EINVAL;
        }
}

int bus_read_properties(sd_bus_message *m, const BusProperty *map) {
        const char *name;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const BusProperty *p;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;

                for (p = map; p->name; p++)
                        if (strcmp(p->name, name) == 0)
                                break;

                /* Properties added later to the interface are skipped, not refused. */
                r = p->name ? read_property(m, p) : sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;

                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        return sd_bus_message_exit_container(m);
}
