/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "caps.h"
#include "mount-setup.h"
#include "pod-init.h"
#include "seccomp-load.h"
#include "stage1-protocol.h"

extern char **environ;

/* The umask stage1 was started with, for the app; the init itself runs with 0 so that the
 * modes it asks for are the modes it gets. */
static mode_t saved_umask = 022;

_noreturn_ static void init_fail(int sock, const Stage1Message *failure) {
        (void) stage1_message_send(sock, failure, NULL, 0);
        _exit(EXIT_FAILURE);
}

/* Whatever stage1 inherited or opened (the pod's directory, the other end of the socket)
 * is a way out to the host: the init keeps only stdio and its socket. */
static int close_other_fds(int keep) {
        if (keep > 3 && close_range(3, (unsigned) keep - 1, 0) < 0)
                return -errno;
        return RET_NERRNO(close_range((unsigned) keep + 1, ~0U, 0));
}

static int reset_signals(void) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t ss;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        /* Fails for the signals glibc reserves; they are not ours to reset. */
                        (void) sigaction(sig, &sa, NULL);

        sigemptyset(&ss);
        return RET_NERRNO(sigprocmask(SIG_SETMASK, &ss, NULL));
}

static int move_fds_to_stdio(int *fds, size_t n) {
        /* First above 2, so that no dup2() overwrites a descriptor still to be moved. */
        for (size_t i = 0; i < n; i++)
                if (fds[i] < 3) {
                        int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                        if (fd < 0)
                                return -errno;
                        fds[i] = fd;
                }

        /* dup2() clears O_CLOEXEC on the copy; the originals go away at exec. */
        for (size_t i = 0; i < n; i++)
                if (dup2(fds[i], (int) i) < 0)
                        return -errno;
        return 0;
}

/* In the forked app process; returns only on failure. */
static int app_exec(const PodInit *p, int *stdio_fds, size_t n_stdio_fds, Stage1Message *failure) {
        const char *wd = p->working_directory ?: "/";
        int r;

        if (reset_signals() < 0)
                return stage1_message_failed(failure, errno, "Failed to reset the signals of the app: %m");
        /* Its own session and process group, as a service's main process has. */
        if (setsid() < 0)
                return stage1_message_failed(failure, errno, "Failed to create a session for the app: %m");
        r = move_fds_to_stdio(stdio_fds, n_stdio_fds);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to connect the app to the attached client: %m");

        umask(saved_umask);
        if (chdir(wd) < 0)
                return stage1_message_failed(failure, errno, "Failed to change to working directory '%s': %m", wd);

        /* Capabilities, no_new_privs and the seccomp filter are the init's, inherited
         * through fork() and execve(): a second filter would only cost every system call
         * of the app a second run. */

        /* execvp() searches the PATH of environ, which must be the pod's. */
        environ = p->environment;
        execvp(p->command[0], p->command);
        return stage1_message_failed(failure, errno, "Failed to execute '%s': %m", p->command[0]);
}

/* Forks and executes the app. Returns its PID once the exec succeeded. */
static pid_t app_start(const PodInit *p, int *stdio_fds, size_t n_stdio_fds, Stage1Message *failure) {
        _cleanup_close_ int read_fd = -EBADF, write_fd = -EBADF;
        char buf[STAGE1_PACKET_SIZE_MAX];
        int pipe_fds[2], status;
        ssize_t n;
        pid_t pid;

        /* EOF on this pipe means the exec closed it; a message means the exec failed. */
        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return stage1_message_failed(failure, errno, "Failed to create a pipe: %m");
        read_fd = pipe_fds[0];
        write_fd = pipe_fds[1];

        pid = fork();
        if (pid < 0)
                return stage1_message_failed(failure, errno, "Failed to fork the app of pod '%s': %m", p->name);
        if (pid == 0) {
                int r = app_exec(p, stdio_fds, n_stdio_fds, failure);

                n = stage1_message_pack(failure, buf, sizeof buf);
                if (n > 0)
                        (void) write(write_fd, buf, (size_t) n);
                _exit(r == -ENOENT ? 127 : 126);
        }

        write_fd = safe_close(write_fd);
        do
                n = read(read_fd, buf, sizeof buf);
        while (n < 0 && errno == EINTR);
        if (n == 0)
                return pid;

        (void) waitpid(pid, &status, 0);
        if (n < 0)
                return stage1_message_failed(failure, errno, "Failed to read the exec status of the app: %m");
        if (stage1_message_unpack(buf, (size_t) n, failure) < 0 || failure->type != STAGE1_MESSAGE_FAILED)
                return stage1_message_failed(failure, EPROTO, "The app of pod '%s' failed to start.", p->name);
        return -failure->error;
}

/* A new network namespace has only a loopback device, and that is down. */
static int loopback_up(void) {
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = { .ifr_name = "lo" };

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP;
        return RET_NERRNO(ioctl(fd, SIOCSIFFLAGS, &ifr));
}

/* The init confines itself before it forks the app, so that the app gains nothing by
 * signalling or tracing PID 1, and inherits all of it. */
static int init_confine(const PodInit *p, Stage1Message *failure) {
        int r;

        /* Not ptrace-able, and its /proc entries are root's only, even for a pod root
         * that somehow regained CAP_SYS_PTRACE. The app's execve() makes it dumpable. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return stage1_message_failed(failure, errno,
                                             "Failed to make the init of pod '%s' non-dumpable: %m", p->name);

        r = caps_apply(p->capabilities);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to drop the capabilities of pod '%s': %m", p->name);

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return stage1_message_failed(failure, errno, "Failed to set no_new_privs for pod '%s': %m", p->name);

        /* Last: it refuses what the steps before need. */
        r = seccomp_load_program();
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to load the seccomp filter of pod '%s': %m", p->name);

        return 0;
}

_noreturn_ static void init_loop(int sock, int signal_fd, pid_t app) {
        for (;;) {
                struct pollfd pfd[2] = {
                        { .fd = signal_fd, .events = POLLIN },
                        { .fd = sock, .events = POLLIN },
                };
                bool app_exited = false;
                int status = 0;

                if (poll(pfd, ELEMENTSOF(pfd), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(EXIT_FAILURE);
                }

                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(signal_fd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
                                (void) kill(app, (int) si.ssi_signo);

                        /* SIGCHLDs coalesce: reap until nothing is left, orphans included. */
                        for (;;) {
                                int st;
                                pid_t pid = waitpid(-1, &st, WNOHANG);

                                if (pid <= 0)
                                        break;
                                if (pid == app) {
                                        app_exited = true;
                                        status = st;
                                }
                        }

                        if (app_exited) {
                                Stage1Message m = {
                                        .type = STAGE1_MESSAGE_EXITED,
                                        .status = status,
                                };

                                (void) stage1_message_send(sock, &m, NULL, 0);
                                /* The kernel kills what is left of the pod with us. */
                                _exit(EXIT_SUCCESS);
                        }
                }

                /* Nothing more is expected from the outer process: any event here means it
                 * is gone, and the pod goes with it. */
                if (pfd[1].revents)
                        _exit(EXIT_FAILURE);
        }
}

/* Waits until the outer process wrote our maps, then becomes the pod's root. Until then
 * we are the host's root with no UID of this namespace. */
static int init_enter_userns(const PodInit *p, int *ret_tree_fd, Stage1Message *failure) {
        Stage1Message m;
        size_t n_fds = 0;
        int fd = -EBADF, r;

        r = stage1_message_receive(p->socket, &m, &fd, 1, &n_fds);
        if (r <= 0)
                _exit(EXIT_FAILURE);
        if (m.type != STAGE1_MESSAGE_MAPPED || n_fds != 1)
                return stage1_message_failed(failure, EBADMSG, "Expected the idmapped root of pod '%s'.", p->name);

        /* As the host's root we still pass the pod's directory (0700, root's); the pod's
         * root could not, so the paths from here on are relative to it. */
        if (chdir(p->pod_dir) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter %s: %m", p->pod_dir);

        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return stage1_message_failed(failure, errno, "Failed to become root in the user namespace of pod '%s': %m", p->name);

        *ret_tree_fd = fd;
        return 0;
}

int pod_init_main(void *userdata) {
        const PodInit *p = userdata;
        int sock = p->socket, fds[STAGE1_FDS_MAX], signal_fd, tree_fd = -EBADF, r;
        Stage1Message m, failure;
        size_t n_fds = 0;
        sigset_t ss;
        pid_t app;

        /* Also covers a SIGKILLed outer process; the socket's EOF covers the race. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        r = close_other_fds(sock);
        if (r < 0) {
                (void) stage1_message_failed(&failure, r, "Failed to close file descriptors: %m");
                init_fail(sock, &failure);
        }
        saved_umask = umask(0);

        if (p->private_users) {
                r = init_enter_userns(p, &tree_fd, &failure);
                if (r < 0)
                        init_fail(sock, &failure);
        }

        if (mount_setup_root(p->name, p->rootfs, p->overlay_options, tree_fd, &failure) < 0 ||
            mount_setup_api(p->name, p->rootfs, !p->private_users || p->private_network, &failure) < 0 ||
            (p->read_only && mount_setup_read_only(p->name, p->rootfs, &failure) < 0) ||
            mount_setup_pivot(p->name, p->rootfs, &failure) < 0)
                init_fail(sock, &failure);
        tree_fd = safe_close(tree_fd);
        if (sethostname(p->name, strlen(p->name)) < 0) {
                (void) stage1_message_failed(&failure, errno, "Failed to set the hostname of pod '%s': %m", p->name);
                init_fail(sock, &failure);
        }

        if (p->private_network) {
                r = loopback_up();
                if (r < 0) {
                        (void) stage1_message_failed(&failure, r,
                                                     "Failed to bring up the loopback device of pod '%s': %m",
                                                     p->name);
                        init_fail(sock, &failure);
                }
        }

        if (init_confine(p, &failure) < 0)
                init_fail(sock, &failure);

        m = (Stage1Message) { .type = STAGE1_MESSAGE_READY };
        if (stage1_message_send(sock, &m, NULL, 0) < 0)
                _exit(EXIT_FAILURE);

        r = stage1_message_receive(sock, &m, fds, ELEMENTSOF(fds), &n_fds);
        if (r <= 0 || m.type != STAGE1_MESSAGE_GO)
                _exit(EXIT_FAILURE);
        if (n_fds != 0 && n_fds != STAGE1_FDS_MAX) {
                (void) stage1_message_failed(&failure, EBADMSG, "Received %zu stdio file descriptors.", n_fds);
                init_fail(sock, &failure);
        }

        /* From here on signals are events; the outer process blocked those it forwards. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0) {
                (void) stage1_message_failed(&failure, errno, "Failed to block signals: %m");
                init_fail(sock, &failure);
        }
        signal_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0) {
                (void) stage1_message_failed(&failure, errno, "Failed to create signalfd: %m");
                init_fail(sock, &failure);
        }

        app = app_start(p, fds, n_fds, &failure);
        if (app < 0)
                init_fail(sock, &failure);

        /* The app has its copies; ours would keep the client from seeing EOF. */
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);

        m = (Stage1Message) { .type = STAGE1_MESSAGE_STARTED };
        if (stage1_message_send(sock, &m, NULL, 0) < 0)
                _exit(EXIT_FAILURE);

        init_loop(sock, signal_fd, app);
}
