/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "caps.h"
#include "exec-helper.h"
#include "exec-request.h"
#include "fileio.h"
#include "pod-init.h"
#include "process-util.h"
#include "seccomp-load.h"
#include "stage1-protocol.h"
#include "strv.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

extern char **environ;

typedef struct ExecHelper {
        ExecRequest req;
        int leader_fd, app_fd;    /* pidfds */
        int root_fd;
        int namespaces;           /* CLONE_NEW* of the pod's that are not ours */
        int stdio[3];             /* -EBADF each: a new pseudo-terminal in the pod */
} ExecHelper;

static const struct {
        int flag;
        const char *name;
} namespaces[] = {
        /* The user namespace first: the others are owned by it. */
        { CLONE_NEWUSER,   "user"   },
        { CLONE_NEWNS,     "mnt"    },
        { CLONE_NEWPID,    "pid"    },
        { CLONE_NEWUTS,    "uts"    },
        { CLONE_NEWIPC,    "ipc"    },
        { CLONE_NEWNET,    "net"    },
        { CLONE_NEWCGROUP, "cgroup" },
};

/* For the signal handler: the command, once it runs. */
static int command_pidfd = -EBADF;

static void exec_helper_done(ExecHelper *h) {
        exec_request_done(&h->req);
        h->leader_fd = safe_close(h->leader_fd);
        h->app_fd = safe_close(h->app_fd);
        h->root_fd = safe_close(h->root_fd);
        for (size_t i = 0; i < 3; i++)
                h->stdio[i] = safe_close(h->stdio[i]);
}

static int pidfd_send_signal_(int fd, int sig) {
        return (int) syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static int write_file(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return write_all(fd, s, strlen(s));
}

/* The namespaces of pid that are not ours: joining one's own user namespace is an error. */
static int namespaces_to_join(pid_t pid, int *ret_flags) {
        int flags = 0;

        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                char path[64];
                struct stat own, theirs;

                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) pid, namespaces[i].name);
                if (stat(path, &theirs) < 0)
                        return -errno;
                snprintf(path, sizeof path, "/proc/self/ns/%s", namespaces[i].name);
                if (stat(path, &own) < 0)
                        return -errno;
                if (own.st_dev != theirs.st_dev || own.st_ino != theirs.st_ino)
                        flags |= namespaces[i].flag;
        }
        *ret_flags = flags;
        return 0;
}

/* The request and the fds podmachined sent on sock. */
static int exec_helper_receive(int sock, ExecHelper *h, Stage1Message *failure) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int memfd = -EBADF;
        int fds[2 + 1 + 3], r;
        size_t n_fds = 0, size, want = 2, i = 0;
        Stage1Message m;

        do
                r = stage1_message_receive(sock, &m, fds, ELEMENTSOF(fds), &n_fds);
        while (r == -EINTR);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to receive the request: %m");
        if (r == 0 || m.type != STAGE1_MESSAGE_EXEC) {
                for (size_t k = 0; k < n_fds; k++)
                        safe_close(fds[k]);
                return stage1_message_failed(failure, EBADMSG, "Expected a request, got none.");
        }
        want += (m.status & STAGE1_EXEC_APP ? 1 : 0) + (m.status & STAGE1_EXEC_STDIO ? 3 : 0);
        if (n_fds != want) {
                for (size_t k = 0; k < n_fds; k++)
                        safe_close(fds[k]);
                return stage1_message_failed(failure, EBADMSG, "Expected %zu fds with the request, got %zu.", want, n_fds);
        }
        memfd = fds[i++];
        h->leader_fd = fds[i++];
        if (m.status & STAGE1_EXEC_APP)
                h->app_fd = fds[i++];
        if (m.status & STAGE1_EXEC_STDIO)
                for (size_t k = 0; k < 3; k++)
                        h->stdio[k] = fds[i++];

        r = read_fd_bounded(memfd, EXEC_REQUEST_SIZE_MAX, &buf, &size);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to read the request: %m");
        r = exec_request_parse(buf, size, &h->req);
        if (r < 0)
                return stage1_message_failed(failure, r, "Invalid request: %m");
        if ((h->req.app > 0) != (h->app_fd >= 0))
                return stage1_message_failed(failure, EBADMSG, "Invalid request: an app without its pidfd.");
        return 0;
}

/* On the host still: the pod's root and namespaces, through the pidfds podmachined opened
 * while the pod ran, so that a PID reused since cannot lead us elsewhere. */
static int exec_helper_open_pod(ExecHelper *h, Stage1Message *failure) {
        pid_t target = h->req.app > 0 ? h->req.app : h->req.leader;
        char path[64];
        int r;

        snprintf(path, sizeof path, "/proc/%d/root", (int) target);
        h->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (h->root_fd < 0)
                return stage1_message_failed(failure, errno, "Failed to open the pod's root: %m");
        r = namespaces_to_join(h->req.leader, &h->namespaces);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to read the pod's namespaces: %m");

        /* Alive after we looked: the PIDs were theirs. */
        if (pidfd_send_signal_(h->leader_fd, 0) < 0 || (h->app_fd >= 0 && pidfd_send_signal_(h->app_fd, 0) < 0))
                return stage1_message_failed(failure, ESRCH, "The pod ended.");
        return 0;
}

/* In the command's process, in the pod's PID namespace but still on the host otherwise:
 * the pod's cgroup, its other namespaces, root and root user. The cgroup first, with the
 * host's view and credentials; the helper itself stays in its unit. */
static int exec_enter(const ExecHelper *h, Stage1Message *failure) {
        const ExecRequest *req = &h->req;
        int flags = h->namespaces & ~CLONE_NEWPID, r;

        /* In the pod's cgroup, its limits and its end are ours too. */
        for (char **procs = req->cgroup_procs; *procs; procs++) {
                r = write_file(*procs, "0");
                if (r < 0)
                        return stage1_message_failed(failure, r, "Failed to join the pod's cgroup (%s): %m", *procs);
        }

        if (h->app_fd >= 0)
                flags &= ~CLONE_NEWNS;
        if (flags != 0 && setns(h->leader_fd, flags) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the pod's namespaces: %m");
        if (h->app_fd >= 0 && setns(h->app_fd, CLONE_NEWNS) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the app's mount namespace: %m");

        if (fchdir(h->root_fd) < 0 || chroot(".") < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the pod's root: %m");

        /* The pod's root, the host's UID at the base of the pod's range with a user namespace. */
        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return stage1_message_failed(failure, errno, "Failed to become the pod's root: %m");
        return 0;
}

/* The command's process; returns only on failure. */
static int exec_command(ExecHelper *h, int sock, Stage1Message *failure) {
        const ExecRequest *req = &h->req;
        int stdio[3] = { h->stdio[0], h->stdio[1], h->stdio[2] };
        int r;

        if (reset_signals() < 0)
                return stage1_message_failed(failure, errno, "Failed to reset signals: %m");
        if (setsid() < 0)
                return stage1_message_failed(failure, errno, "Failed to create a session: %m");

        r = exec_enter(h, failure);
        if (r < 0)
                return r;

        if (stdio[0] < 0) {
                _cleanup_close_ int master = -EBADF;
                Stage1Message m = { .type = STAGE1_MESSAGE_READY };
                int slave;

                /* The pod's own devpts instance: the terminal is one of the pod's. */
                master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0)
                        return stage1_message_failed(failure, errno, "Failed to allocate a pseudo-terminal in the pod: %m");
                if (unlockpt(master) < 0)
                        return stage1_message_failed(failure, errno, "Failed to unlock the pseudo-terminal: %m");
                slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0)
                        return stage1_message_failed(failure, errno, "Failed to open the pseudo-terminal: %m");
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        return stage1_message_failed(failure, errno, "Failed to make the pseudo-terminal controlling: %m");
                r = stage1_message_send(sock, &m, &master, 1);
                if (r < 0)
                        return stage1_message_failed(failure, r, "Failed to pass on the pseudo-terminal: %m");
                stdio[0] = stdio[1] = stdio[2] = slave;
        }

        r = move_fds_to_stdio(stdio, 3);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to set up the standard file descriptors: %m");
        /* The socket stays until execve() says the command runs. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return stage1_message_failed(failure, errno, "Failed to close file descriptors: %m");

        umask(022);

        /* Exactly what the pod's init did to itself (see init_confine()), in its order;
         * then the user, as the init's apps do. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return stage1_message_failed(failure, errno, "Failed to become non-dumpable: %m");
        r = caps_apply(req->capabilities);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to drop capabilities: %m");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return stage1_message_failed(failure, errno, "Failed to set no_new_privs: %m");
        r = seccomp_load_program();
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to load the seccomp filter: %m");
        if (req->user) {
                r = pod_switch_user(req->user, "the pod", failure);
                if (r < 0)
                        return r;
        }

        if (chdir(req->working_directory ?: "/") < 0)
                return stage1_message_failed(failure, errno, "Failed to change to working directory '%s': %m",
                                             req->working_directory ?: "/");

        /* execvp() searches the PATH of environ, which must be the command's. */
        environ = req->environment;
        execvp(req->command[0], req->command);
        return stage1_message_failed(failure, errno, "Failed to execute '%s': %m", req->command[0]);
}

/* Forks the command into the pod. Returns its PID once execve() succeeded, with the
 * master of its terminal if it got one. */
static pid_t exec_helper_fork(ExecHelper *h, int *ret_pty, Stage1Message *failure) {
        _cleanup_close_ int inner = -EBADF, pty = -EBADF;
        int pair[2], r;
        Stage1Message m;
        pid_t pid;

        /* Into the pod's PID namespace for the child alone; we stay on the host. */
        if ((h->namespaces & CLONE_NEWPID) && setns(h->leader_fd, CLONE_NEWPID) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the pod's PID namespace: %m");
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return stage1_message_failed(failure, errno, "Failed to create a socket pair: %m");
        inner = pair[0];
        pid = fork();
        if (pid < 0) {
                safe_close(pair[1]);
                return stage1_message_failed(failure, errno, "Failed to fork: %m");
        }
        if (pid == 0) {
                inner = safe_close(inner);
                r = exec_command(h, pair[1], failure);
                (void) stage1_message_send(pair[1], failure, NULL, 0);
                _exit(r == -ENOENT ? 127 : 126);
        }
        safe_close(pair[1]);

        /* A message (the terminal, or why it failed), then EOF once execve() closed the socket. */
        for (;;) {
                size_t n_fds = 0;
                int fd = -EBADF;

                r = stage1_message_receive(inner, &m, &fd, 1, &n_fds);
                if (r == -EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (m.type == STAGE1_MESSAGE_FAILED) {
                        safe_close(fd);
                        (void) waitpid(pid, NULL, 0);
                        *failure = m;
                        return -(m.error ?: EIO);
                }
                if (m.type == STAGE1_MESSAGE_READY && n_fds == 1 && pty < 0)
                        pty = fd;
                else
                        safe_close(fd);
        }
        *ret_pty = TAKE_FD(pty);
        return pid;
}

static void forward_signal(int sig) {
        int saved = errno;

        (void) pidfd_send_signal_(command_pidfd, sig);
        errno = saved;
}

/* What systemd records as the unit's exit status: the command's, so that a client that
 * lost podmachined can read it from the unit. */
static int exit_like(int status) {
        if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);

                (void) signal(sig, SIG_DFL);
                (void) raise(sig);
                return 128 + sig;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE;
}

int exec_helper_run(int sock) {
        _cleanup_(exec_helper_done) ExecHelper h = {
                .leader_fd = -EBADF, .app_fd = -EBADF, .root_fd = -EBADF, .stdio = { -EBADF, -EBADF, -EBADF },
        };
        _cleanup_close_ int pty = -EBADF;
        Stage1Message m, failure;
        struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
        int fds[2], status;
        pid_t pid;

        /* Nothing of ours in a core file, and no one else's ptrace. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

        if (exec_helper_receive(sock, &h, &failure) < 0 || exec_helper_open_pod(&h, &failure) < 0)
                goto fail;
        pid = exec_helper_fork(&h, &pty, &failure);
        if (pid < 0)
                goto fail;

        command_pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (command_pidfd < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                (void) stage1_message_failed(&failure, errno, "Failed to open the command's process: %m");
                goto fail;
        }
        fds[0] = command_pidfd;
        fds[1] = pty;
        m = (Stage1Message) { .type = STAGE1_MESSAGE_STARTED, .status = (int) pid };
        if (stage1_message_send(sock, &m, fds, pty >= 0 ? 2 : 1) < 0) {
                /* podmachined went before it could answer: no one knows of the command. */
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return EXIT_FAILURE;
        }
        pty = safe_close(pty);
        exec_helper_done(&h);

        /* Stopping our unit stops the command, as a signal to a process stops it. */
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);

        /* All that is left to do is wait, and to forward signals. */
        (void) caps_apply(CAP_MASK(CAP_KILL));

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return EXIT_FAILURE;
        m = (Stage1Message) { .type = STAGE1_MESSAGE_EXITED, .status = status };
        (void) stage1_message_send(sock, &m, NULL, 0);
        return exit_like(status);

fail:
        (void) stage1_message_send(sock, &failure, NULL, 0);
        return EXIT_FAILURE;
}
