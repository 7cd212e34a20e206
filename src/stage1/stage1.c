/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include <libmount.h>

#include "caps.h"
#include "fileio.h"
#include "log.h"
#include "mount-setup.h"
#include "name.h"
#include "paths.h"
#include "pod-config.h"
#include "pod-env.h"
#include "pod-init.h"
#include "signal-util.h"
#include "stage1-bus.h"
#include "stage1-protocol.h"
#include "stage1.h"
#include "strv.h"

/* The pod's init needs little: it makes syscalls and formats short messages. */
#define POD_INIT_STACK_SIZE (256 * 1024)

typedef struct Stage1 {
        const char *name;
        char *pod_dir;
        char *rootfs;
        int pod_dir_fd;
        PodConfig config;
        char **environment;
        char *overlay_options;

        int stdio_fds[STAGE1_FDS_MAX];
        size_t n_stdio_fds;

        pid_t pid;           /* the pod's init, as seen on the host; 0 once reaped */
        int init_status;     /* its wait status, once reaped */
        int socket;
        int signal_fd;
        bool go;             /* GO was sent: stop signals are forwarded to the app */
        int cancel_signal;   /* a stop signal received before that */
        bool app_exited;

        uint64_t start_usec; /* CLOCK_MONOTONIC */
        ExitInfo exit_info;
} Stage1;

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static void stage1_done(Stage1 *s) {
        free(s->pod_dir);
        free(s->rootfs);
        safe_close(s->pod_dir_fd);
        pod_config_done(&s->config);
        strv_free(s->environment);
        free(s->overlay_options);
        for (size_t i = 0; i < s->n_stdio_fds; i++)
                safe_close(s->stdio_fds[i]);
        safe_close(s->socket);
        safe_close(s->signal_fd);
        exit_info_done(&s->exit_info);
}

/* The app never ran: log why, once, and record it for exit.json. */
_printf_(3, 4) static int stage1_fail(Stage1 *s, int error, const char *format, ...) {
        char *message = NULL;
        va_list ap;
        int r;

        error = error < 0 ? -error : error;
        if (error == 0)
                error = EIO;

        errno = error;
        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0) {
                message = NULL;
                log_oom();
        } else
                log_error("%s", message);

        exit_info_done(&s->exit_info);
        s->exit_info = (ExitInfo) {
                .code = EXIT_CODE_START_FAILED,
                .status = error,
                .message = message,
        };
        return -error;
}

static int stage1_prepare(Stage1 *s) {
        int r;

        r = pod_config_load_at(s->pod_dir_fd, &s->config);
        if (r < 0)
                return stage1_fail(s, r, "Failed to load the configuration of pod '%s': %m", s->name);
        if (strcmp(s->config.name, s->name) != 0)
                return stage1_fail(s, EBADMSG, "The configuration of pod '%s' is for pod '%s'.", s->name, s->config.name);

        r = pod_env_build(s->config.environment, s->name, getenv("TERM"), &s->environment);
        if (r < 0)
                return stage1_fail(s, r, "Failed to build the environment of pod '%s': %m", s->name);

        if (asprintf(&s->rootfs, "%s/" POD_ROOTFS_DIR, s->pod_dir) < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");

        if (s->config.storage == STORAGE_OVERLAY) {
                _cleanup_free_ char *lower = NULL, *upper = NULL, *work = NULL;

                if (asprintf(&lower, PODCTL_IMAGES_DIR "/%s", s->config.image) < 0 ||
                    asprintf(&upper, "%s/" POD_UPPER_DIR, s->pod_dir) < 0 ||
                    asprintf(&work, "%s/" POD_WORK_DIR, s->pod_dir) < 0)
                        return stage1_fail(s, ENOMEM, "Out of memory.");

                /* The one failure overlayfs would describe only as ENOENT. */
                if (access(lower, F_OK) < 0)
                        return stage1_fail(s, errno, "Failed to mount overlay for pod '%s': image '%s': %m",
                                           s->name, s->config.image);

                if (s->config.uid_shift != UID_INVALID) {
                        /* The init attaches the idmapped image on rootfs/ and mounts overlayfs
                         * over it; it resolves these relative to the pod's directory, which
                         * only the host's root may enter. The pod's root cannot set trusted.*
                         * xattrs: overlayfs keeps its own in user.*. */
                        r = overlay_options_build(POD_ROOTFS_DIR, POD_UPPER_DIR, POD_WORK_DIR, &s->overlay_options);
                        if (r >= 0 && mnt_optstr_append_option(&s->overlay_options, "userxattr", NULL) < 0)
                                r = -ENOMEM;
                } else
                        r = overlay_options_build(lower, upper, work, &s->overlay_options);
                if (r < 0)
                        return stage1_fail(s, r, "Failed to build the overlay options of pod '%s': %m", s->name);
        }

        return 0;
}

static int stage1_clone(Stage1 *s) {
        _cleanup_close_ int init_socket = -EBADF;
        PodInit init;
        int pair[2], flags;
        void *stack;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return stage1_fail(s, errno, "Failed to create a socket pair: %m");
        s->socket = pair[0];
        init_socket = pair[1];

        init = (PodInit) {
                .name = s->name,
                .pod_dir = s->pod_dir,
                .private_users = s->config.uid_shift != UID_INVALID,
                /* Relative to pod_dir, see init_enter_userns(). */
                .rootfs = s->config.uid_shift != UID_INVALID ? POD_ROOTFS_DIR : s->rootfs,
                .overlay_options = s->overlay_options,
                .command = s->config.command,
                .environment = s->environment,
                .working_directory = s->config.working_directory,
                .private_network = !s->config.network_host,
                .read_only = s->config.read_only,
                .capabilities = caps_retained(&s->config),
                .socket = init_socket,
        };

        flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
        if (init.private_network)
                flags |= CLONE_NEWNET;
        /* Created first, so it owns the others. */
        if (init.private_users)
                flags |= CLONE_NEWUSER;

        stack = mmap(NULL, POD_INIT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return stage1_fail(s, errno, "Failed to allocate a stack: %m");

        /* Without CLONE_VM the init has its own copy of the stack and of init. */
        pid = clone(pod_init_main, (char *) stack + POD_INIT_STACK_SIZE, flags | SIGCHLD, &init);
        if (pid < 0) {
                int r = -errno;
                (void) munmap(stack, POD_INIT_STACK_SIZE);
                return stage1_fail(s, r, "Failed to create the namespaces of pod '%s': %m", s->name);
        }
        (void) munmap(stack, POD_INIT_STACK_SIZE);

        s->pid = pid;
        return 0;
}

static int write_map(pid_t pid, const char *file, uint32_t shift) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char map[64];
        int n;

        if (asprintf(&path, "/proc/%d/%s", (int) pid, file) < 0)
                return -ENOMEM;
        n = snprintf(map, sizeof map, "0 %" PRIu32 " %" PRIu32 "\n", shift, POD_UID_RANGE_SIZE);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, map, (size_t) n) != n)
                return -errno;
        return 0;
}

/* Maps the init's user namespace to the pod's range and hands it its root (btrfs) or
 * image (overlay) as a detached mount idmapped to that namespace: the tree on disk stays
 * as it is, no chown. The init waits for this before anything else. */
static int stage1_map_users(Stage1 *s) {
        _cleanup_free_ char *ns = NULL, *image = NULL;
        _cleanup_close_ int userns_fd = -EBADF, tree_fd = -EBADF;
        Stage1Message m = { .type = STAGE1_MESSAGE_MAPPED };
        /* Private: a clone joins its source's peer group, and the mounts the init stacks
         * on it would propagate back onto the host's tree. */
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .propagation = MS_PRIVATE };
        const char *source;
        int r;

        r = write_map(s->pid, "uid_map", s->config.uid_shift);
        if (r >= 0)
                r = write_map(s->pid, "gid_map", s->config.uid_shift);
        if (r < 0)
                return stage1_fail(s, r, "Failed to map the user namespace of pod '%s' to %" PRIu32 ": %m",
                                   s->name, s->config.uid_shift);

        if (asprintf(&ns, "/proc/%d/ns/user", (int) s->pid) < 0 ||
            asprintf(&image, PODCTL_IMAGES_DIR "/%s", s->config.image) < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");
        userns_fd = open(ns, O_RDONLY | O_CLOEXEC);
        if (userns_fd < 0)
                return stage1_fail(s, errno, "Failed to open the user namespace of pod '%s': %m", s->name);

        source = s->config.storage == STORAGE_OVERLAY ? image : s->rootfs;
        tree_fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree_fd < 0)
                return stage1_fail(s, errno, "Failed to clone the mount of %s for pod '%s': %m", source, s->name);
        attr.userns_fd = (uint64_t) userns_fd;
        if (mount_setattr(tree_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
                return stage1_fail(s, errno, "Failed to idmap %s for pod '%s': %m", source, s->name);

        r = stage1_message_send(s->socket, &m, &tree_fd, 1);
        /* On EPIPE the init is gone; stage1_expect() finds out why. */
        if (r < 0 && r != -EPIPE)
                return stage1_fail(s, r, "Failed to hand pod '%s' its root: %m", s->name);
        return 0;
}

static void stage1_reap(Stage1 *s) {
        int status;

        if (s->pid <= 0)
                return;

        while (waitpid(s->pid, &status, 0) < 0)
                if (errno != EINTR) {
                        /* Cannot happen for our own child; do not wait forever if it does. */
                        log_warning_errno(errno, "Failed to wait for the init of pod '%s': %m", s->name);
                        status = W_EXITCODE(0, SIGKILL);
                        break;
                }

        s->pid = 0;
        s->init_status = status;
}

static void stage1_kill(Stage1 *s) {
        /* Never kill(0, ...): that is our own process group. */
        if (s->pid > 0)
                (void) kill(s->pid, SIGKILL);
}

/* Waits for the next message from the pod's init, handling stop signals meanwhile. Returns
 * 1 with a message, 0 once the init is gone, or -errno once it is killed for a broken
 * connection; in both cases it is reaped. Does not log. */
static int stage1_receive(Stage1 *s, Stage1Message *ret) {
        for (;;) {
                struct pollfd pfd[2] = {
                        { .fd = s->signal_fd, .events = POLLIN },
                        { .fd = s->socket, .events = POLLIN },
                };
                int r;

                if (poll(pfd, ELEMENTSOF(pfd), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        stage1_kill(s);
                        stage1_reap(s);
                        return r;
                }

                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(s->signal_fd, &si, sizeof si) == sizeof si && s->pid > 0) {
                                if (s->go) {
                                        log_debug("Forwarding signal %u to pod '%s'.", si.ssi_signo, s->name);
                                        (void) kill(s->pid, (int) si.ssi_signo);
                                } else {
                                        /* Nothing runs in the pod that could shut down cleanly. */
                                        s->cancel_signal = (int) si.ssi_signo;
                                        stage1_kill(s);
                                }
                        }
                }

                if (pfd[1].revents) {
                        r = stage1_message_receive(s->socket, ret, NULL, 0, NULL);
                        if (r == -EAGAIN || r == -EINTR)
                                continue;
                        /* A broken init is done for. */
                        if (r < 0)
                                stage1_kill(s);
                        /* On EOF the init exits. */
                        if (r <= 0)
                                stage1_reap(s);
                        return r;
                }
        }
}

/* Waits for a message of the given type; anything else means the pod failed to start. */
static int stage1_expect(Stage1 *s, Stage1MessageType type) {
        Stage1Message m;
        ExitInfo e;
        int r;

        r = stage1_receive(s, &m);
        if (r > 0 && m.type == type)
                return 0;

        if (r > 0 && m.type == STAGE1_MESSAGE_FAILED)
                return stage1_fail(s, m.error, "%s", m.text);
        if (r > 0)
                return stage1_fail(s, EPROTO, "Unexpected message '%s' from the init of pod '%s'.",
                                   stage1_message_type_to_string(m.type), s->name);
        if (r < 0)
                return stage1_fail(s, r, "Lost the connection to the init of pod '%s': %m", s->name);
        if (s->cancel_signal > 0)
                return stage1_fail(s, ECANCELED, "Pod '%s' was stopped (SIG%s) before its app started.",
                                   s->name, signal_to_string(s->cancel_signal));
        if (exit_info_from_wait_status(s->init_status, &e) >= 0 && e.code != EXIT_CODE_EXITED)
                return stage1_fail(s, EPROTO, "The init of pod '%s' was killed by SIG%s before its app started.",
                                   s->name, signal_to_string(e.status));
        return stage1_fail(s, EPROTO, "The init of pod '%s' exited before its app started.", s->name);
}

static bool running_in_own_unit(const char *name) {
        _cleanup_free_ char *unit = NULL, *expected = NULL;

        if (sd_pid_get_unit(0, &unit) < 0)
                return false;
        expected = pod_unit_name(name);
        return expected && strcmp(unit, expected) == 0;
}

static void stage1_take_stdio(Stage1 *s, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *marker = NULL;
        int r;

        if (asprintf(&marker, PODCTL_STDIO_DIR "/%s", s->name) < 0) {
                log_oom();
                return;
        }
        /* The marker is for this start only. */
        if (unlink(marker) < 0) {
                if (errno != ENOENT)
                        log_warning_errno(errno, "Failed to remove %s, ignoring: %m", marker);
                return;
        }

        if (!bus) {
                log_warning("Cannot attach pod '%s' without a bus connection, logging to the journal.", s->name);
                return;
        }

        r = bus_take_pod_stdio(bus, s->name, s->stdio_fds, &error);
        if (r < 0) {
                log_warning_errno(r, "Failed to take the stdio of pod '%s' from podmachined, logging to the journal: %s",
                                  s->name, bus_error_message(&error, r));
                return;
        }
        s->n_stdio_fds = STAGE1_FDS_MAX;
}

static int stage1_start(Stage1 *s) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Stage1Message go = { .type = STAGE1_MESSAGE_GO };
        bool in_unit;
        sigset_t ss;
        int r;

        /* Blocked from the start, so a stop request at any point is seen and handled. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return stage1_fail(s, errno, "Failed to block signals: %m");
        s->signal_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->signal_fd < 0)
                return stage1_fail(s, errno, "Failed to create signalfd: %m");

        r = stage1_prepare(s);
        if (r < 0)
                return r;

        /* The init sets up the mounts while we talk to the bus. */
        r = stage1_clone(s);
        if (r < 0)
                return r;
        if (s->config.uid_shift != UID_INVALID) {
                r = stage1_map_users(s);
                if (r < 0)
                        return r;
        }

        in_unit = running_in_own_unit(s->name);

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                if (in_unit)
                        return stage1_fail(s, r, "Failed to connect to the system bus: %m");
                log_warning_errno(r, "Failed to connect to the system bus, not registering pod '%s': %m", s->name);
                bus = NULL;
        }

        stage1_take_stdio(s, bus);

        if (in_unit) {
                _cleanup_free_ char *unit = pod_unit_name(s->name);

                if (!unit)
                        return stage1_fail(s, ENOMEM, "Out of memory.");
                r = bus_set_unit_limits(bus, unit, &s->config, &error);
                if (r < 0)
                        return stage1_fail(s, r, "Failed to apply the limits of pod '%s' to %s: %s",
                                           s->name, unit, bus_error_message(&error, r));
        }

        r = stage1_expect(s, STAGE1_MESSAGE_READY);
        if (r < 0)
                return r;

        if (bus) {
                r = bus_register_machine(bus, s->name, s->pid, s->rootfs, &error);
                if (r < 0) {
                        if (in_unit)
                                return stage1_fail(s, r, "Failed to register pod '%s' with systemd-machined: %s",
                                                   s->name, bus_error_message(&error, r));
                        log_warning_errno(r, "Failed to register pod '%s' with systemd-machined, ignoring: %s",
                                          s->name, bus_error_message(&error, r));
                }
        }

        /* Nothing of ours stays open while the pod runs. */
        bus = sd_bus_flush_close_unref(bus);

        r = stage1_message_send(s->socket, &go, s->stdio_fds, s->n_stdio_fds);
        if (r < 0 && r != -EPIPE)
                return stage1_fail(s, r, "Failed to start pod '%s': %m", s->name);
        /* On EPIPE the init is gone; stage1_expect() finds out why. */
        s->go = true;
        for (size_t i = 0; i < s->n_stdio_fds; i++)
                s->stdio_fds[i] = safe_close(s->stdio_fds[i]);
        s->n_stdio_fds = 0;

        r = stage1_expect(s, STAGE1_MESSAGE_STARTED);
        if (r < 0)
                return r;

        /* Ready means registered and the app executed. */
        (void) sd_notify(false, "READY=1");
        log_debug("Pod '%s' started in %" PRIu64 " us.", s->name, monotonic_usec() - s->start_usec);
        return 0;
}

static int stage1_wait(Stage1 *s) {
        Stage1Message m;
        int r;

        for (;;) {
                r = stage1_receive(s, &m);
                if (r < 0)
                        log_error_errno(r, "Lost the connection to the init of pod '%s', killed it: %m", s->name);
                if (r <= 0)
                        break;

                if (m.type == STAGE1_MESSAGE_EXITED && !s->app_exited &&
                    exit_info_from_wait_status(m.status, &s->exit_info) >= 0)
                        s->app_exited = true;
                else
                        log_debug("Ignoring unexpected message '%s' from the init of pod '%s'.",
                                  stage1_message_type_to_string(m.type), s->name);
        }

        /* Without word from the init (it was killed, by the OOM killer say), its own end is
         * the pod's. */
        if (!s->app_exited && exit_info_from_wait_status(s->init_status, &s->exit_info) < 0)
                s->exit_info = (ExitInfo) { .code = EXIT_CODE_KILLED, .status = SIGKILL };

        return 0;
}

int stage1_run(const char *name) {
        _cleanup_(stage1_done) Stage1 s = {
                .name = name,
                .pod_dir_fd = -EBADF,
                .socket = -EBADF,
                .signal_fd = -EBADF,
                .start_usec = monotonic_usec(),
        };
        int r;

        pod_config_init(&s.config);

        if (!name_is_valid(name)) {
                log_error("Invalid pod name '%s'.", name);
                return EXIT_FAILURE;
        }

        if (asprintf(&s.pod_dir, PODCTL_PODS_DIR "/%s", name) < 0) {
                log_oom();
                return EXIT_FAILURE;
        }
        s.pod_dir_fd = open(s.pod_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s.pod_dir_fd < 0) {
                if (errno == ENOENT)
                        log_error("Pod '%s' does not exist.", name);
                else
                        log_error_errno(errno, "Failed to open %s: %m", s.pod_dir);
                return EXIT_FAILURE;
        }

        if (unlinkat(s.pod_dir_fd, POD_EXIT_FILE, 0) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove the old %s of pod '%s', ignoring: %m", POD_EXIT_FILE, name);

        r = stage1_start(&s);
        if (r >= 0)
                (void) stage1_wait(&s);
        else {
                stage1_kill(&s);
                stage1_reap(&s);
        }

        switch (s.exit_info.code) {
        case EXIT_CODE_EXITED:
                log_debug("The app of pod '%s' exited with status %i.", name, s.exit_info.status);
                break;
        case EXIT_CODE_KILLED:
        case EXIT_CODE_DUMPED:
                log_debug("The app of pod '%s' was killed by SIG%s.", name, signal_to_string(s.exit_info.status));
                break;
        default:
                break;
        }

        s.exit_info.finished_usec = now_usec();
        r = exit_info_save_at(s.pod_dir_fd, &s.exit_info);
        if (r < 0)
                log_error_errno(r, "Failed to write %s of pod '%s': %m", POD_EXIT_FILE, name);

        return exit_info_to_exit_status(&s.exit_info);
}
