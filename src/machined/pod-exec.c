/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <sched.h>
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

#include "bus-errors.h"
#include "caps.h"
#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "mount-setup.h"
#include "paths.h"
#include "pod-exec.h"
#include "pod.h"
#include "process-util.h"
#include "seccomp-load.h"
#include "stage1-protocol.h"
#include "strv.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

extern char **environ;

/* What the helper needs after fork(): nothing it would have to allocate. */
typedef struct ExecChild {
        const PodExecRequest *req;
        int socket;
        int stdio[3];
        char **cgroup_procs;      /* the leader's cgroup.procs files on the host */
} ExecChild;

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

/* A small file of /proc, whole. */
static int read_proc_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        char *buf = NULL;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (getdelim(&buf, &size, '\0', f) < 0) {
                free(buf);
                return feof(f) ? -ENODATA : -errno;
        }
        *ret = buf;
        return 0;
}

static int write_proc_file(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, s, strlen(s));
        if (n < 0)
                return -errno;
        return n == (ssize_t) strlen(s) ? 0 : -EIO;
}

static int pidfd_open_(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
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

/* Closes every fd from 3 on but those in keep. */
static int close_all_but(const int *keep, size_t n) {
        int from = 3;

        for (;;) {
                int next = INT32_MAX;

                for (size_t i = 0; i < n; i++)
                        if (keep[i] >= from && keep[i] < next)
                                next = keep[i];
                if (next > from && close_range((unsigned) from, (unsigned) next - 1, 0) < 0)
                        return -errno;
                if (next == INT32_MAX)
                        return 0;
                from = next + 1;
        }
}

/* The command's process, in the pod's PID namespace; returns only on failure. */
static int exec_command(const ExecChild *c, int sock, Stage1Message *failure) {
        const PodExecRequest *req = c->req;
        int stdio[3] = { c->stdio[0], c->stdio[1], c->stdio[2] };
        int r;

        if (reset_signals() < 0)
                return stage1_message_failed(failure, errno, "Failed to reset signals: %m");
        if (setsid() < 0)
                return stage1_message_failed(failure, errno, "Failed to create a session: %m");

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

        /* Exactly what the pod's init did to itself (see init_confine()), in its order. */
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

        /* execvp() searches the PATH of environ, which must be the command's. */
        environ = req->environment;
        execvp(req->command[0], req->command);
        return stage1_message_failed(failure, errno, "Failed to execute '%s': %m", req->command[0]);
}

/* In the helper: the pod's cgroup, namespaces, root and root user. */
static int exec_enter(const ExecChild *c, Stage1Message *failure) {
        const PodExecRequest *req = c->req;
        _cleanup_close_ int leader_fd = -EBADF, app_fd = -EBADF, root_fd = -EBADF;
        pid_t target = req->app > 0 ? req->app : req->leader;
        char path[64];
        int flags = 0, r;

        leader_fd = pidfd_open_(req->leader);
        if (leader_fd < 0)
                return stage1_message_failed(failure, errno, "Failed to open the pod's init: %m");
        if (req->app > 0) {
                app_fd = pidfd_open_(req->app);
                if (app_fd < 0)
                        return stage1_message_failed(failure, errno, "Failed to open the app's process: %m");
        }

        snprintf(path, sizeof path, "/proc/%d/root", (int) target);
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return stage1_message_failed(failure, errno, "Failed to open the pod's root: %m");

        r = namespaces_to_join(req->leader, &flags);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to read the pod's namespaces: %m");

        /* In the pod's cgroup, its limits and its end are ours too. */
        for (char **procs = c->cgroup_procs; *procs; procs++) {
                r = write_proc_file(*procs, "0");
                if (r < 0)
                        return stage1_message_failed(failure, r, "Failed to join the pod's cgroup (%s): %m", *procs);
        }

        if (flags != 0 && setns(leader_fd, req->app > 0 ? flags & ~CLONE_NEWNS : flags) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the pod's namespaces: %m");
        if (app_fd >= 0 && setns(app_fd, CLONE_NEWNS) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the app's mount namespace: %m");

        if (fchdir(root_fd) < 0 || chroot(".") < 0)
                return stage1_message_failed(failure, errno, "Failed to enter the pod's root: %m");

        /* The pod's root, the host's UID at the base of the pod's range with a user namespace. */
        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return stage1_message_failed(failure, errno, "Failed to become the pod's root: %m");

        if (chdir(req->working_directory ?: "/") < 0)
                return stage1_message_failed(failure, errno, "Failed to change to working directory '%s': %m",
                                             req->working_directory ?: "/");
        return 0;
}

/* The helper: enters the pod, forks the command into its PID namespace, reports it and
 * waits for it. */
_noreturn_ static void exec_helper(const ExecChild *c) {
        int sock = c->socket, pair[2], pty = -EBADF, keep[4], r;
        Stage1Message m, failure;
        size_t n_fds = 0, n_keep = 0;
        pid_t pid;

        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

        /* The daemon's bus connection and state directories are none of the pod's business. */
        keep[n_keep++] = sock;
        for (size_t i = 0; i < 3; i++)
                if (c->stdio[i] >= 0)
                        keep[n_keep++] = c->stdio[i];
        r = close_all_but(keep, n_keep);
        if (r < 0) {
                (void) stage1_message_failed(&failure, r, "Failed to close file descriptors: %m");
                goto fail;
        }

        if (exec_enter(c, &failure) < 0)
                goto fail;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                (void) stage1_message_failed(&failure, errno, "Failed to create a socket pair: %m");
                goto fail;
        }
        pid = fork();
        if (pid < 0) {
                (void) stage1_message_failed(&failure, errno, "Failed to fork: %m");
                goto fail;
        }
        if (pid == 0) {
                r = exec_command(c, pair[1], &failure);
                (void) stage1_message_send(pair[1], &failure, NULL, 0);
                _exit(r == -ENOENT ? 127 : 126);
        }
        safe_close(pair[1]);

        /* A message (the terminal, or why it failed), then EOF once execve() closed the socket. */
        for (;;) {
                int fd = -EBADF;

                r = stage1_message_receive(pair[0], &m, &fd, 1, &n_fds);
                if (r == -EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (m.type == STAGE1_MESSAGE_FAILED) {
                        safe_close(fd);
                        (void) waitpid(pid, NULL, 0);
                        failure = m;
                        goto fail;
                }
                if (m.type == STAGE1_MESSAGE_READY && n_fds == 1 && pty < 0)
                        pty = fd;
                else
                        safe_close(fd);
        }
        safe_close(pair[0]);

        m = (Stage1Message) { .type = STAGE1_MESSAGE_STARTED, .status = (int) pid };
        (void) stage1_message_send(sock, &m, pty >= 0 ? &pty : NULL, pty >= 0 ? 1 : 0);
        safe_close(pty);
        for (size_t i = 0; i < 3; i++)
                safe_close(c->stdio[i]);

        /* All that is left to do is wait. */
        (void) caps_apply(0);

        for (;;) {
                int status;

                if (waitpid(pid, &status, 0) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(EXIT_FAILURE);
                }
                m = (Stage1Message) { .type = STAGE1_MESSAGE_EXITED, .status = status };
                (void) stage1_message_send(sock, &m, NULL, 0);
                _exit(EXIT_SUCCESS);
        }

fail:
        (void) stage1_message_send(sock, &failure, NULL, 0);
        _exit(EXIT_FAILURE);
}

PodExec *pod_exec_free(PodExec *e) {
        if (!e)
                return NULL;
        if (e->pod)
                for (PodExec **i = &e->pod->execs; *i; i = &(*i)->next)
                        if (*i == e) {
                                *i = e->next;
                                e->pod->n_execs--;
                                break;
                        }
        sd_event_source_disable_unref(e->io_source);
        sd_event_source_disable_unref(e->child_source);
        sd_bus_message_unref(e->call);
        free(e->caller);
        safe_close(e->socket);
        free(e);
        return NULL;
}

static void exec_reply_error(PodExec *e, const char *name, int error, const char *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;

        if (!e->call)
                return;
        if (name)
                (void) sd_bus_error_setf(&err, name, "%s", message);
        else
                (void) sd_bus_error_set_errnof(&err, error, "%s", message);
        (void) sd_bus_reply_method_error(e->call, &err);
        e->call = sd_bus_message_unref(e->call);
}

static void exec_handle_message(PodExec *e, const Stage1Message *m, int fd) {
        _cleanup_close_ int pty = fd;

        switch (m->type) {
        case STAGE1_MESSAGE_STARTED:
                if (!e->call || m->status <= 0)
                        return;
                e->pid = m->status;
                log_debug("Executed a command in pod '%s' as PID %d.", e->pod->config.name, (int) e->pid);
                if (pty >= 0)
                        (void) sd_bus_reply_method_return(e->call, "ahu", 1, pty, (uint32_t) e->pid);
                else
                        (void) sd_bus_reply_method_return(e->call, "ahu", 0, (uint32_t) e->pid);
                e->call = sd_bus_message_unref(e->call);
                return;
        case STAGE1_MESSAGE_FAILED:
                exec_reply_error(e, m->error == ENOENT || m->error == EACCES ? NULL : BUS_ERROR_EXEC_FAILED,
                                 m->error, m->text);
                return;
        case STAGE1_MESSAGE_EXITED:
                e->wait_status = m->status;
                e->exited = true;
                return;
        default:
                return;
        }
}

static void exec_drain(PodExec *e) {
        for (;;) {
                Stage1Message m;
                size_t n_fds = 0;
                int fd = -EBADF, r;

                r = stage1_message_receive(e->socket, &m, &fd, 1, &n_fds);
                if (r == -EINTR)
                        continue;
                if (r <= 0) {
                        /* EOF or nothing more now; the helper's exit follows EOF. */
                        if (r != -EAGAIN)
                                e->io_source = sd_event_source_disable_unref(e->io_source);
                        return;
                }
                exec_handle_message(e, &m, n_fds == 1 ? fd : -EBADF);
        }
}

static int on_exec_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        exec_drain(userdata);
        return 0;
}

static void exec_emit_exited(PodExec *e, const siginfo_t *si) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *signal = NULL;
        ExitInfo info = { .code = EXIT_CODE_KILLED, .status = SIGKILL };
        int r;

        if (e->exited)
                (void) exit_info_from_wait_status(e->wait_status, &info);
        else if (si->si_code != CLD_EXITED)
                /* The helper went with the pod (stopped, killed): so did the command. */
                info = (ExitInfo) { .code = EXIT_CODE_KILLED, .status = si->si_status };

        r = sd_bus_message_new_signal(e->pod->manager->bus, &signal, e->pod->path, PODCTL_POD_INTERFACE, "ExecExited");
        if (r >= 0)
                r = sd_bus_message_set_destination(signal, e->caller);
        if (r >= 0)
                r = sd_bus_message_append(signal, "usi", (uint32_t) e->pid, exit_code_to_string(info.code), info.status);
        if (r >= 0)
                r = sd_bus_send(e->pod->manager->bus, signal, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to send ExecExited for PID %d of pod '%s': %m", (int) e->pid, e->pod->config.name);
        exit_info_done(&info);
}

static int on_exec_helper_exited(sd_event_source *s, const siginfo_t *si, void *userdata) {
        PodExec *e = userdata;
        Manager *m = e->pod->manager;

        e->child_source = sd_event_source_disable_unref(e->child_source);
        if (e->io_source)
                exec_drain(e);

        if (e->call)
                exec_reply_error(e, BUS_ERROR_EXEC_FAILED, EPROTO, "the helper ended before the command ran.");
        else if (e->pid > 0)
                exec_emit_exited(e, si);

        pod_exec_free(e);
        manager_check_idle(m);
        return 0;
}

/* The cgroup.procs files of pid's cgroups that systemd tracks units by: the unified
 * hierarchy's, and on a hybrid host also the name=systemd one's. Each must be the unit's
 * or below it. */
static int cgroup_procs_files(pid_t pid, const char *unit, char ***ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_strv_free_ char **l = NULL;
        char *line, *save = NULL;
        int r;

        if (asprintf(&path, "/proc/%d/cgroup", (int) pid) < 0)
                return -ENOMEM;
        r = read_proc_file(path, &text);
        if (r < 0)
                return r;

        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *procs = NULL;
                const char *cg, *mount;

                if ((cg = startswith(line, "0::")))
                        mount = access("/sys/fs/cgroup/cgroup.controllers", F_OK) >= 0 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
                else if ((cg = strstr(line, ":name=systemd:")))
                        cg += STRLEN(":name=systemd:"), mount = "/sys/fs/cgroup/systemd";
                else
                        continue;
                if (cg[0] != '/' || strstr(cg, "/..") || !strstr(cg, unit))
                        return -ESRCH;
                if (asprintf(&procs, "%s%s/cgroup.procs", mount, cg) < 0 || strv_extend(&l, procs) < 0)
                        return -ENOMEM;
        }
        if (strv_isempty(l))
                return -ESRCH;
        *ret = TAKE_PTR(l);
        return 0;
}

int pod_exec_start(Pod *p, sd_bus_message *call, const PodExecRequest *req, sd_bus_error *error) {
        _cleanup_strv_free_ char **procs = NULL;
        _cleanup_close_ int sock = -EBADF, child_sock = -EBADF;
        const char *sender;
        PodExec *e;
        int pair[2], r;
        pid_t pid;

        if (p->n_execs >= POD_EXECS_MAX)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Pod '%s' runs %u commands already.",
                                         p->config.name, (unsigned) POD_EXECS_MAX);

        /* Where the init is: the unit's cgroup, or below it if the pod made its own. */
        r = cgroup_procs_files(req->leader, p->unit, &procs);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_POD_NOT_RUNNING, "The init of pod '%s' is gone.", p->config.name);

        sender = sd_bus_message_get_sender(call);
        if (!sender)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Exec needs a caller with a bus name.");

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to create a socket pair: %m");
        sock = pair[0];
        child_sock = pair[1];

        pid = fork();
        if (pid < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to fork: %m");
        if (pid == 0) {
                ExecChild c = {
                        .req = req,
                        .socket = child_sock,
                        .stdio = { req->stdio[0], req->stdio[1], req->stdio[2] },
                        .cgroup_procs = procs,
                };
                exec_helper(&c);
        }
        child_sock = safe_close(child_sock);

        r = fcntl(sock, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
        e = calloc(1, sizeof *e);
        if (r < 0 || !e || !(e->caller = strdup(sender))) {
                free(e);
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r < 0 ? r : -ENOMEM;
        }
        e->pod = p;
        e->helper = pid;
        e->socket = TAKE_FD(sock);
        e->call = sd_bus_message_ref(call);
        e->next = p->execs;
        p->execs = e;
        p->n_execs++;

        r = sd_event_add_child(p->manager->event, &e->child_source, pid, WEXITED, on_exec_helper_exited, e);
        if (r >= 0)
                r = sd_event_add_io(p->manager->event, &e->io_source, e->socket, EPOLLIN, on_exec_io, e);
        if (r < 0) {
                if (!e->child_source) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                }
                e->call = sd_bus_message_unref(e->call);
                pod_exec_free(e);
                return r;
        }
        return 0;
}

int pod_exec_find_app(pid_t leader, const char *name, pid_t *ret) {
        _cleanup_free_ char *path = NULL, *children = NULL;
        struct stat want, st;
        char *p, *end;

        if (asprintf(&path, "/proc/%d/root" POD_INIT_ROOT "/" POD_INIT_APPS_DIR "/%s", (int) leader, name) < 0)
                return -ENOMEM;
        if (stat(path, &want) < 0)
                return -errno;

        free(path);
        if (asprintf(&path, "/proc/%d/task/%d/children", (int) leader, (int) leader) < 0)
                return -ENOMEM;
        if (read_proc_file(path, &children) < 0)
                return -ESRCH;

        for (p = children; *p; p = end) {
                char root[64];
                long pid = strtol(p, &end, 10);

                if (end == p)
                        break;
                snprintf(root, sizeof root, "/proc/%ld/root", pid);
                if (stat(root, &st) >= 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino) {
                        *ret = (pid_t) pid;
                        return 0;
                }
        }
        return -ESRCH;
}

int pod_exec_read_bounding_set(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *status = NULL;
        const char *b;

        if (asprintf(&path, "/proc/%d/status", (int) pid) < 0)
                return -ENOMEM;
        if (read_proc_file(path, &status) < 0)
                return -ESRCH;
        b = strstr(status, "\nCapBnd:");
        if (!b)
                return -EBADMSG;
        *ret = strtoull(b + STRLEN("\nCapBnd:"), NULL, 16);
        return 0;
}
