/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "ctl-exec.h"
#include "ctl.h"
#include "log.h"
#include "paths.h"
#include "pod-config.h"
#include "strv.h"

enum {
        ARG_APP = _ARG_COMMON_MAX,
};

#define SYSTEMD_BUS_NAME "org.freedesktop.systemd1"
#define SYSTEMD_BUS_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_UNIT_PREFIX SYSTEMD_BUS_PATH "/unit"
#define SYSTEMD_MANAGER_INTERFACE SYSTEMD_BUS_NAME ".Manager"
#define SYSTEMD_SERVICE_INTERFACE SYSTEMD_BUS_NAME ".Service"

typedef struct ExecArgs {
        bool tty;
        const char *app;
        const char *user;
        const char *working_directory;
        char **environment;
} ExecArgs;

typedef struct ExecState {
        sd_event *event;
        sd_bus *bus;
        const char *name;        /* the pod's */
        const char *command;     /* its argv[0] */
        const char *path;        /* the pod's object */
        uint32_t pid;
        int pty;                 /* the master of the command's terminal, or -EBADF */
        bool exited;
        char *code;
        int32_t status;
        char *unit;              /* the transient unit the command runs from, once podmachined said it */
        bool lost;               /* podmachined is gone, and with it the command's exit status */
        struct termios saved;    /* of our stdin, while it is in raw mode */
        bool raw;
} ExecState;

static bool strv_find_prefix(char **l, const char *prefix) {
        for (; l && *l; l++)
                if (startswith(*l, prefix))
                        return true;
        return false;
}

static int parse_exec_option(int c, const char *arg, void *userdata) {
        ExecArgs *a = userdata;

        switch (c) {
        case 't':
                a->tty = true;
                return 1;
        case 'e':
                if (!strchr(arg, '=') || arg[0] == '=')
                        return log_error_errno(EINVAL, "Invalid environment assignment '%s', expected KEY=VALUE.", arg);
                return strv_extend(&a->environment, arg) < 0 ? log_oom() : 1;
        case 'w':
                if (arg[0] != '/')
                        return log_error_errno(EINVAL, "Working directory '%s' is not an absolute path.", arg);
                a->working_directory = arg;
                return 1;
        case ARG_APP:
                a->app = arg;
                return 1;
        case 'u':
                if (!arg[0])
                        return log_error_errno(EINVAL, "Empty user name.");
                a->user = arg;
                return 1;
        default:
                return 0;
        }
}

static int exec_ended(ExecState *s, const char *code, int32_t status) {
        if (s->exited)
                return 0;
        s->exited = true;
        s->status = status;
        s->code = strdup(code);
        return sd_event_exit(s->event, 0);
}

static int on_exec_exited(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ExecState *s = userdata;
        const char *code;
        uint32_t pid;
        int32_t status;

        if (sd_bus_message_read(m, "usi", &pid, &code, &status) < 0 || pid != s->pid)
                return 0;
        return exec_ended(s, code, status);
}

/* systemd's ExecMainCode: CLD_EXITED, CLD_KILLED or CLD_DUMPED; 0 while it runs. */
static int unit_ended(ExecState *s, int32_t code, int32_t status) {
        static const char *const codes[] = { [1] = "exited", [2] = "killed", [3] = "dumped" };

        if (code <= 0 || code >= (int32_t) ELEMENTSOF(codes))
                return 0;
        return exec_ended(s, codes[code], status);
}

static int on_unit_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ExecState *s = userdata;
        const char *interface, *key;
        int32_t code = 0, status = 0;

        if (sd_bus_message_read(m, "s", &interface) < 0 || !streq(interface, SYSTEMD_SERVICE_INTERFACE) ||
            sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return 0;
                if (streq(key, "ExecMainCode") && sd_bus_message_read(m, "v", "i", &code) < 0)
                        return 0;
                else if (streq(key, "ExecMainStatus") && sd_bus_message_read(m, "v", "i", &status) < 0)
                        return 0;
                else if (!STR_IN_SET(key, "ExecMainCode", "ExecMainStatus") && sd_bus_message_skip(m, "v") < 0)
                        return 0;
                if (sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        return unit_ended(s, code, status);
}

/* The helper's unit ends as the command did: should podmachined go, systemd tells. */
static int on_exec_started(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ExecState *s = userdata;
        _cleanup_free_ char *path = NULL;
        const char *unit;
        uint32_t pid;

        if (sd_bus_message_read(m, "us", &pid, &unit) < 0 || (s->pid != 0 && pid != s->pid) || s->unit)
                return 0;
        s->unit = strdup(unit);
        if (!s->unit || sd_bus_path_encode(SYSTEMD_UNIT_PREFIX, unit, &path) < 0)
                return log_oom();
        (void) sd_bus_match_signal_async(s->bus, NULL, SYSTEMD_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                         "PropertiesChanged", on_unit_changed, NULL, s);
        /* systemd sends unit changes to the system bus only while someone subscribed. */
        (void) sd_bus_call_method_async(s->bus, NULL, SYSTEMD_BUS_NAME, SYSTEMD_BUS_PATH, SYSTEMD_MANAGER_INTERFACE,
                                        "Subscribe", NULL, NULL, NULL);
        return 0;
}

/* podmachined is gone (killed, restarted): ExecExited will not come, but the unit knows. */
static int on_daemon_gone(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        ExecState *s = userdata;
        const char *name, *old_owner, *new_owner;
        int32_t code = 0, status = 0;
        int r;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || new_owner[0] || s->exited)
                return 0;
        if (!s->unit) {
                log_error("podmachined exited before it said how the command in pod '%s' runs; its exit status is unknown.", s->name);
                s->lost = true;
                return sd_event_exit(s->event, 0);
        }

        r = sd_bus_call_method(s->bus, SYSTEMD_BUS_NAME, SYSTEMD_BUS_PATH, SYSTEMD_MANAGER_INTERFACE, "GetUnit", &error,
                               &reply, "s", s->unit);
        if (r < 0) {
                log_error("podmachined exited, and %s, which ran the command in pod '%s', is gone: its exit status is unknown.",
                          s->unit, s->name);
                s->lost = true;
                return sd_event_exit(s->event, 0);
        }
        if (sd_bus_path_encode(SYSTEMD_UNIT_PREFIX, s->unit, &path) < 0)
                return log_oom();
        if (sd_bus_get_property_trivial(s->bus, SYSTEMD_BUS_NAME, path, SYSTEMD_SERVICE_INTERFACE, "ExecMainCode", NULL, 'i', &code) >= 0 &&
            sd_bus_get_property_trivial(s->bus, SYSTEMD_BUS_NAME, path, SYSTEMD_SERVICE_INTERFACE, "ExecMainStatus", NULL, 'i', &status) >= 0)
                return unit_ended(s, code, status);
        return 0; /* still running: PropertiesChanged will say when it ends */
}

/* One signal on its way to the command through SignalExec. */
typedef struct ForwardedSignal {
        ExecState *state;
        int32_t signo;
        bool retried;
} ForwardedSignal;

static int forward_signal(ForwardedSignal *f);

static int on_signal_forwarded(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ForwardedSignal *f = userdata, *again;
        ExecState *s = f->state;

        if (!e || s->exited)
                return 0;
        /* podmachined went while the call was on its way: once more, which starts a new one. */
        if (!f->retried && (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
                            sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                            sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))) {
                again = malloc(sizeof *again);
                if (again) {
                        *again = (ForwardedSignal) { .state = s, .signo = f->signo, .retried = true };
                        if (forward_signal(again) >= 0)
                                return 0;
                }
        }
        log_warning("Failed to pass SIG%s on to '%s' (PID %" PRIu32 ") in pod '%s': %s", sigabbrev_np(f->signo) ?: "?",
                    s->command, s->pid, s->name, e->message);
        return 0;
}

/* Takes f, freed with the call. */
static int forward_signal(ForwardedSignal *f) {
        ExecState *s = f->state;
        sd_bus_slot *slot = NULL;
        int r;

        r = sd_bus_call_method_async(s->bus, &slot, PODCTL_BUS_NAME, s->path, PODCTL_POD_INTERFACE, "SignalExec",
                                     on_signal_forwarded, f, "ui", s->pid, f->signo);
        if (r < 0) {
                free(f);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, free);
        (void) sd_bus_slot_set_floating(slot, 1);
        return 0;
}

/* As podman's exec does: what would end us ends the command, and its status is ours. */
static int on_forward_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        ExecState *s = userdata;
        ForwardedSignal *f;

        if (s->exited || s->pid == 0)
                return 0;
        f = malloc(sizeof *f);
        if (!f)
                return log_oom();
        *f = (ForwardedSignal) { .state = s, .signo = (int32_t) si->ssi_signo };
        return forward_signal(f);
}

static int watch_signals(ExecState *s) {
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP };
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t mask;
        int r;

        /* A background job of a shell starts with SIGINT ignored. */
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++) {
                (void) sigaction(forwarded[i], &sa, NULL);
                sigaddset(&mask, forwarded[i]);
        }
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++) {
                r = sd_event_add_signal(s->event, NULL, forwarded[i], on_forward_signal, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signals: %m");
        }
        return 0;
}

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Copies what is there from one fd to another; 0 at EOF (EIO: the terminal's last user closed it). */
static int copy_some(int from, int to) {
        char buf[4096];
        ssize_t n;

        n = read(from, buf, sizeof buf);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 1 : errno == EIO ? 0 : -errno;
        if (n == 0)
                return 0;
        return write_all(to, buf, (size_t) n) < 0 ? 0 : 1;
}

static int on_stdin(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ExecState *s = userdata;

        if (copy_some(STDIN_FILENO, s->pty) <= 0)
                (void) sd_event_source_set_enabled(source, SD_EVENT_OFF);
        return 0;
}

static int on_pty(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ExecState *s = userdata;

        if (copy_some(s->pty, STDOUT_FILENO) <= 0)
                (void) sd_event_source_set_enabled(source, SD_EVENT_OFF);
        return 0;
}

static void pty_resize(ExecState *s) {
        struct winsize ws;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0)
                (void) ioctl(s->pty, TIOCSWINSZ, &ws);
}

static int on_sigwinch(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        pty_resize(userdata);
        return 0;
}

static void exec_state_done(ExecState *s) {
        if (s->raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &s->saved);
        safe_close(s->pty);
        free(s->code);
        free(s->unit);
        sd_event_unref(s->event);
}

/* Relays our terminal to the command's until it ended; raw mode meanwhile, so that ^C and
 * the like reach the command. */
static int relay_pty(ExecState *s) {
        sigset_t mask;
        int r;

        (void) fcntl(s->pty, F_SETFL, O_NONBLOCK);
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->saved) >= 0) {
                struct termios raw = s->saved;

                cfmakeraw(&raw);
                if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) >= 0)
                        s->raw = true;
                pty_resize(s);
                sigemptyset(&mask);
                sigaddset(&mask, SIGWINCH);
                if (sigprocmask(SIG_BLOCK, &mask, NULL) >= 0)
                        (void) sd_event_add_signal(s->event, NULL, SIGWINCH, on_sigwinch, s);
        }

        r = sd_event_add_io(s->event, NULL, STDIN_FILENO, EPOLLIN, on_stdin, s);
        if (r < 0 && r != -EPERM) /* EPERM: a regular file, which epoll cannot watch */
                return log_error_errno(r, "Failed to watch stdin: %m");
        r = sd_event_add_io(s->event, NULL, s->pty, EPOLLIN, on_pty, s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the terminal: %m");
        return 0;
}

static int exec_run(int argc, char *argv[], bool shell) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "tty",     no_argument,       NULL, 't'     },
                { "env",     required_argument, NULL, 'e'     },
                { "workdir", required_argument, NULL, 'w'     },
                { "app",     required_argument, NULL, ARG_APP },
                { "user",    required_argument, NULL, 'u'     },
                {}
        };
        const VerbSyntax syntax = {
                /* "+": the first non-option is the pod; what follows is the command's. */
                .short_options = "+:" COMMON_SHORT_OPTIONS "te:w:u:",
                .options = options,
                .parse_option = parse_exec_option,
                .min_args = shell ? 1 : 2,
                .max_args = -1,
                .what = shell ? "a pod name" : "a pod name and a command",
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **environment = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_(exec_state_done) ExecState s = { .pty = -EBADF };
        char *default_shell[] = { (char *) "/bin/sh", (char *) "-l", NULL };
        ExecArgs a = {};
        const char *name, *term;
        char **command;
        int i, r, n_pty;

        r = parse_verb_syntax(argc, argv, &syntax, &a, &i);
        environment = a.environment;
        if (r <= 0)
                return r;
        name = argv[i];
        command = i + 1 < argc ? argv + i + 1 : default_shell;
        if (shell)
                a.tty = true;

        term = getenv("TERM");
        if (a.tty && term && !strv_find_prefix(environment, "TERM=")) {
                _cleanup_free_ char *t = NULL;

                if (asprintf(&t, "TERM=%s", term) < 0 || strv_extend(&environment, t) < 0)
                        return log_oom();
        }

        r = bus_connect(&bus);
        if (r < 0)
                return r;
        r = sd_event_default(&s.event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        r = sd_bus_attach_event(bus, s.event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");

        /* Listening before the call: the command may end before its reply is read. */
        r = sd_bus_path_encode(PODCTL_BUS_POD_PREFIX, name, &path);
        if (r < 0)
                return log_oom();
        s.bus = bus;
        s.name = name;
        s.command = command[0];
        s.path = path;
        r = sd_bus_match_signal(bus, NULL, PODCTL_BUS_NAME, path, PODCTL_POD_INTERFACE, "ExecExited", on_exec_exited, &s);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, PODCTL_BUS_NAME, path, PODCTL_POD_INTERFACE, "ExecStarted", on_exec_started, &s);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" PODCTL_BUS_NAME "'",
                                     on_daemon_gone, &s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch pod '%s': %m", name);
        r = watch_signals(&s);
        if (r < 0)
                return EXIT_PODCTL;

        r = bus_new_manager_call(bus, "ExecPod", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, command);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, environment);
        if (r >= 0)
                r = a.tty ? sd_bus_message_append(m, "ah", 0)
                          : sd_bus_message_append(m, "ah", 3, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && a.working_directory)
                r = sd_bus_message_append(m, "{sv}", "WorkingDirectory", "s", a.working_directory);
        if (r >= 0 && a.app)
                r = sd_bus_message_append(m, "{sv}", "App", "s", a.app);
        if (r >= 0 && a.user)
                r = sd_bus_message_append(m, "{sv}", "User", "s", a.user);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return log_error_errno(r, "Failed to build the call: %m");

        r = sd_bus_call(bus, m, BUS_TIMEOUT_INTERACTIVE, &error, &reply);
        if (r < 0) {
                log_bus_error(r, &error, "Failed to execute in pod '%s'", name);
                return r == -ENOENT ? 127 : EXIT_PODCTL;
        }

        r = sd_bus_message_enter_container(reply, 'a', "h");
        for (n_pty = 0; r >= 0; n_pty++) {
                int fd;

                r = sd_bus_message_read(reply, "h", &fd);
                if (r <= 0)
                        break;
                if (s.pty < 0) {
                        s.pty = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                        if (s.pty < 0)
                                return log_error_errno(errno, "Failed to take the terminal: %m");
                }
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", &s.pid);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the reply of ExecPod: %m");
        if (a.tty && s.pty < 0)
                return log_error_errno(EPROTO, "podmachined sent no terminal for the command.");

        if (s.pty >= 0) {
                r = relay_pty(&s);
                if (r < 0)
                        return EXIT_PODCTL;
        }

        if (!s.exited) {
                r = sd_event_loop(s.event);
                if (r < 0)
                        return log_error_errno(r, "Failed to run event loop: %m");
        }

        /* What the command wrote last. */
        if (s.pty >= 0)
                while (copy_some(s.pty, STDOUT_FILENO) > 0)
                        ;

        if (s.lost)
                return EXIT_PODCTL;
        if (streq_ptr(s.code, "exited"))
                return s.status;
        if (streq_ptr(s.code, "killed") || streq_ptr(s.code, "dumped"))
                return 128 + s.status;
        log_error("The command in pod '%s' ended without an exit status.", name);
        return EXIT_PODCTL;
}

int verb_exec(int argc, char *argv[]) {
        return exec_run(argc, argv, false);
}

int verb_shell(int argc, char *argv[]) {
        return exec_run(argc, argv, true);
}
