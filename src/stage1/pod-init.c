/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "bind-setup.h"
#include "caps.h"
#include "mount-setup.h"
#include "name.h"
#include "pod-init.h"
#include "seccomp-load.h"
#include "stage1-protocol.h"
#include "process-util.h"
#include "strv.h"

extern char **environ;

/* The umask stage1 was started with, for the app; the init itself runs with 0 so that the
 * modes it asks for are the modes it gets. */
static mode_t saved_umask = 022;

_noreturn_ static void init_fail(int sock, const Stage1Message *failure) {
        (void) stage1_message_send(sock, failure, NULL, 0);
        _exit(EXIT_FAILURE);
}

static int compare_fds(const void *a, const void *b) {
        return *(const int *) a - *(const int *) b;
}

/* Whatever stage1 inherited or opened (the pod's directory, the other end of the socket)
 * is a way out to the host: the init keeps only stdio, its socket and the binds' mounts,
 * which it attaches before the app runs. */
static int close_other_fds(const PodInit *p) {
        int keep[1 + BIND_MOUNTS_MAX];
        size_t n = 0;
        unsigned from = 3;

        keep[n++] = p->socket;
        for (size_t i = 0; i < p->n_binds && i < BIND_MOUNTS_MAX; i++)
                keep[n++] = p->binds[i].fd;
        qsort(keep, n, sizeof(int), compare_fds);

        for (size_t i = 0; i < n; i++) {
                if (keep[i] < 3 || (unsigned) keep[i] < from)
                        continue;
                if ((unsigned) keep[i] > from && close_range(from, (unsigned) keep[i] - 1, 0) < 0)
                        return -errno;
                from = (unsigned) keep[i] + 1;
        }
        return RET_NERRNO(close_range(from, ~0U, 0));
}

static int init_confine(const PodInit *p, Stage1Message *failure);

/* In a pod of several apps, in the forked app process: its own mount namespace, in which
 * its root is the root and the other apps' are gone; then the pod's confinement. */
static int app_enter(const PodInit *p, const PodInitApp *a, Stage1Message *failure) {
        _cleanup_free_ char *root = NULL;
        int r;

        if (unshare(CLONE_NEWNS) < 0)
                return stage1_message_failed(failure, errno, "Failed to create the mount namespace of app '%s': %m", a->name);
        if (asprintf(&root, "/" POD_INIT_APPS_DIR "/%s", a->name) < 0)
                return stage1_message_failed(failure, ENOMEM, "Out of memory.");
        r = mount_setup_pivot(a->name, root, failure);
        if (r < 0)
                return r;
        return init_confine(p, failure);
}

/* A user or group given by number or by name, from the app's own /etc files (never through
 * NSS, which would load the image's libraries into this process). */
static int lookup_id(const char *s, bool group, uid_t *ret_id, gid_t *ret_primary_gid) {
        _cleanup_fclose_ FILE *f = NULL;
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(s, &end, 10);
        if (*s && !*end && errno == 0 && n < UINT32_MAX) {
                *ret_id = (uid_t) n;
                if (ret_primary_gid) {
                        struct passwd *pw;

                        /* A number's primary group is its passwd entry's, if it has one. */
                        *ret_primary_gid = 0;
                        f = fopen("/etc/passwd", "re");
                        while (f && (pw = fgetpwent(f)))
                                if (pw->pw_uid == (uid_t) n) {
                                        *ret_primary_gid = pw->pw_gid;
                                        break;
                                }
                }
                return 0;
        }

        f = fopen(group ? "/etc/group" : "/etc/passwd", "re");
        if (!f)
                return -ENOENT;
        if (group) {
                struct group *gr;

                while ((gr = fgetgrent(f)))
                        if (streq(gr->gr_name, s)) {
                                *ret_id = gr->gr_gid;
                                return 0;
                        }
        } else {
                struct passwd *pw;

                while ((pw = fgetpwent(f)))
                        if (streq(pw->pw_name, s)) {
                                *ret_id = pw->pw_uid;
                                if (ret_primary_gid)
                                        *ret_primary_gid = pw->pw_gid;
                                return 0;
                        }
        }
        return -ESRCH;
}

int pod_switch_user(const char *spec, const char *what, Stage1Message *failure) {
        _cleanup_free_ char *user = NULL;
        char *group;
        uid_t uid;
        gid_t gid;
        int r;

        user = strdup(spec);
        if (!user)
                return stage1_message_failed(failure, ENOMEM, "Out of memory.");
        group = strchr(user, ':');
        if (group)
                *group++ = 0;

        r = lookup_id(user, false, &uid, &gid);
        if (r == -ESRCH)
                return stage1_message_failed(failure, r, "User '%s' of %s is not in its /etc/passwd.", user, what);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to read /etc/passwd of %s for user '%s': %m", what, user);
        if (group) {
                r = lookup_id(group, true, &gid, NULL);
                if (r == -ESRCH)
                        return stage1_message_failed(failure, r, "Group '%s' of %s is not in its /etc/group.", group, what);
                if (r < 0)
                        return stage1_message_failed(failure, r, "Failed to read /etc/group of %s for group '%s': %m",
                                                     what, group);
        }

        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return stage1_message_failed(failure, errno, "Failed to become user %s of %s: %m", spec, what);
        return 0;
}

/* In the forked app process; returns only on failure. */
static int app_exec(const PodInit *p, const PodInitApp *a, int *stdio_fds, size_t n_stdio_fds, Stage1Message *failure) {
        const char *wd = a->working_directory ?: "/";
        int r;

        if (reset_signals() < 0)
                return stage1_message_failed(failure, errno, "Failed to reset the signals of app '%s': %m", a->name);
        /* Its own session and process group, as a service's main process has. */
        if (setsid() < 0)
                return stage1_message_failed(failure, errno, "Failed to create a session for app '%s': %m", a->name);
        r = move_fds_to_stdio(stdio_fds, n_stdio_fds);
        if (r < 0)
                return stage1_message_failed(failure, r, "Failed to connect app '%s' to the attached client: %m", a->name);

        if (p->n_apps > 1) {
                r = app_enter(p, a, failure);
                if (r < 0)
                        return r;
        }
        /* Otherwise capabilities, no_new_privs and the seccomp filter are the init's,
         * inherited through fork() and execve(): a second filter would only cost every
         * system call of the app a second run. */

        if (a->user) {
                char what[STRLEN("app ''") + NAME_MAX_LEN + 1];

                snprintf(what, sizeof what, "app '%s'", a->name);
                r = pod_switch_user(a->user, what, failure);
                if (r < 0)
                        return r;
        }

        umask(saved_umask);
        if (chdir(wd) < 0)
                return stage1_message_failed(failure, errno, "Failed to change to working directory '%s' of app '%s': %m",
                                             wd, a->name);

        /* execvp() searches the PATH of environ, which must be the app's. */
        environ = a->environment;
        execvp(a->command[0], a->command);
        return stage1_message_failed(failure, errno, "Failed to execute '%s' in app '%s': %m", a->command[0], a->name);
}

/* Forks and executes an app. Returns its PID once the exec succeeded. */
static pid_t app_start(const PodInit *p, const PodInitApp *a, int *stdio_fds, size_t n_stdio_fds, Stage1Message *failure) {
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
                return stage1_message_failed(failure, errno, "Failed to fork app '%s' of pod '%s': %m", a->name, p->name);
        if (pid == 0) {
                int r = app_exec(p, a, stdio_fds, n_stdio_fds, failure);

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
                return stage1_message_failed(failure, errno, "Failed to read the exec status of app '%s': %m", a->name);
        if (stage1_message_unpack(buf, (size_t) n, failure) < 0 || failure->type != STAGE1_MESSAGE_FAILED)
                return stage1_message_failed(failure, EPROTO, "App '%s' of pod '%s' failed to start.", a->name, p->name);
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

static void apps_kill(const PodInit *p, const pid_t *pids, int sig) {
        for (size_t i = 0; i < p->n_apps; i++)
                if (pids[i] > 0)
                        (void) kill(pids[i], sig);
}

_noreturn_ static void init_loop(const PodInit *p, int sock, int signal_fd, pid_t *pids) {
        size_t n_running = p->n_apps;
        bool ending = false;

        for (;;) {
                struct pollfd pfd[2] = {
                        { .fd = signal_fd, .events = POLLIN },
                        { .fd = sock, .events = POLLIN },
                };

                if (poll(pfd, ELEMENTSOF(pfd), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(EXIT_FAILURE);
                }

                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(signal_fd, &si, sizeof si) == sizeof si) {
                                /* The apps had their time: the kernel kills what is left with us. */
                                if (si.ssi_signo == SIGALRM && ending)
                                        _exit(EXIT_SUCCESS);
                                if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGALRM)
                                        apps_kill(p, pids, (int) si.ssi_signo);
                        }

                        /* SIGCHLDs coalesce: reap until nothing is left, orphans included. */
                        for (;;) {
                                Stage1Message m;
                                ExitInfo e;
                                size_t i;
                                int st;
                                pid_t pid = waitpid(-1, &st, WNOHANG);

                                if (pid <= 0)
                                        break;
                                for (i = 0; i < p->n_apps && pids[i] != pid; i++)
                                        ;
                                if (i >= p->n_apps)
                                        continue;

                                pids[i] = 0;
                                n_running--;
                                m = (Stage1Message) { .type = STAGE1_MESSAGE_EXITED, .status = st, .app = (unsigned) i };
                                (void) stage1_message_send(sock, &m, NULL, 0);

                                if (!ending && exit_info_from_wait_status(st, &e) >= 0 &&
                                    exit_policy_ends_pod(p->exit_policy, &e, n_running) && n_running > 0) {
                                        ending = true;
                                        apps_kill(p, pids, SIGTERM);
                                        alarm(POD_APP_STOP_TIMEOUT_SEC);
                                }
                        }

                        /* The kernel kills what is left of the pod with us. */
                        if (n_running == 0)
                                _exit(EXIT_SUCCESS);
                }

                /* Nothing more is expected from the outer process: any event here means it
                 * is gone, and the pod goes with it. */
                if (pfd[1].revents)
                        _exit(EXIT_FAILURE);
        }
}

/* Waits until the outer process wrote our maps, then becomes the pod's root. Until then
 * we are the host's root with no UID of this namespace. */
static int init_enter_userns(const PodInit *p, int *tree_fds, unsigned *ret_plain, Stage1Message *failure) {
        Stage1Message m;
        size_t n_fds = 0;
        int r;

        r = stage1_message_receive(p->socket, &m, tree_fds, p->n_apps, &n_fds);
        if (r <= 0)
                _exit(EXIT_FAILURE);
        if (m.type != STAGE1_MESSAGE_MAPPED || n_fds != p->n_apps)
                return stage1_message_failed(failure, EBADMSG, "Expected the idmapped roots of pod '%s'.", p->name);
        *ret_plain = (unsigned) m.status;

        /* As the host's root we still pass the pod's directory (0700, root's); the pod's
         * root could not, so the paths from here on are relative to it. */
        if (chdir(p->pod_dir) < 0)
                return stage1_message_failed(failure, errno, "Failed to enter %s: %m", p->pod_dir);

        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return stage1_message_failed(failure, errno, "Failed to become root in the user namespace of pod '%s': %m", p->name);

        return 0;
}

/* Every app's root, with its API file systems; for several apps below the init's own root. */
/* Bit N of plain: app N's tree is its own shifted copy, mounted without overlayfs. */
static int init_mount_apps(const PodInit *p, const int *tree_fds, unsigned plain, Stage1Message *failure) {
        int r;

        if (p->n_apps > 1) {
                char *names[POD_APPS_MAX + 1] = {};

                for (size_t i = 0; i < p->n_apps; i++)
                        names[i] = (char *) p->apps[i].name;
                r = mount_setup_init_root(p->name, names, failure);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < p->n_apps; i++) {
                const PodInitApp *a = p->apps + i;

                r = mount_setup_root(p->name, a->root, a->source, plain & (1U << i) ? NULL : a->overlay_options,
                                     tree_fds[i], failure);
                if (r < 0)
                        return r;
                r = mount_setup_api(p->name, a->root, !p->private_users || p->private_network, failure);
                if (r < 0)
                        return r;
        }

        /* Bind by bind, so that a later bind below an earlier one's destination is not
         * in the copy of that one the next app gets. */
        for (size_t k = 0; k < p->n_binds; k++)
                for (size_t i = 0; i < p->n_apps; i++) {
                        const PodInitBind *b = p->binds + k;

                        r = bind_attach(p->apps[i].root, b->destination, b->directory, b->recursive, b->fd, i > 0);
                        if (r < 0)
                                return stage1_message_failed(failure, r, "Failed to bind onto '%s' in app '%s' of pod '%s': %m",
                                                             b->destination, p->apps[i].name, p->name);
                }

        for (size_t i = 0; p->read_only && i < p->n_apps; i++) {
                r = mount_setup_read_only(p->name, p->apps[i].root, failure);
                if (r < 0)
                        return r;
        }

        return mount_setup_pivot(p->name, p->n_apps > 1 ? POD_INIT_ROOT : p->apps[0].root, failure);
}

int pod_init_main(void *userdata) {
        const PodInit *p = userdata;
        int sock = p->socket, fds[STAGE1_STDIO_FDS], tree_fds[POD_APPS_MAX], signal_fd, r;
        pid_t pids[POD_APPS_MAX] = {};
        Stage1Message m, failure;
        unsigned plain = 0;
        size_t n_fds = 0;
        sigset_t ss;

        /* Also covers a SIGKILLed outer process; the socket's EOF covers the race. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        for (size_t i = 0; i < ELEMENTSOF(tree_fds); i++)
                tree_fds[i] = -EBADF;

        r = close_other_fds(p);
        if (r < 0) {
                (void) stage1_message_failed(&failure, r, "Failed to close file descriptors: %m");
                init_fail(sock, &failure);
        }
        saved_umask = umask(0);

        if (p->n_apps == 0 || p->n_apps > POD_APPS_MAX) {
                (void) stage1_message_failed(&failure, EINVAL, "Pod '%s' has %zu apps.", p->name, p->n_apps);
                init_fail(sock, &failure);
        }

        if (p->private_users) {
                r = init_enter_userns(p, tree_fds, &plain, &failure);
                if (r < 0)
                        init_fail(sock, &failure);
        }

        if (init_mount_apps(p, tree_fds, plain, &failure) < 0)
                init_fail(sock, &failure);
        for (size_t i = 0; i < p->n_apps; i++)
                tree_fds[i] = safe_close(tree_fds[i]);
        for (size_t i = 0; i < p->n_binds; i++)
                safe_close(p->binds[i].fd);

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

        /* One app inherits the init's confinement; several confine themselves, each after
         * entering its own root, and the init follows once they run. */
        if (p->n_apps == 1 && init_confine(p, &failure) < 0)
                init_fail(sock, &failure);

        m = (Stage1Message) { .type = STAGE1_MESSAGE_READY };
        if (stage1_message_send(sock, &m, NULL, 0) < 0)
                _exit(EXIT_FAILURE);

        r = stage1_message_receive(sock, &m, fds, ELEMENTSOF(fds), &n_fds);
        if (r <= 0 || m.type != STAGE1_MESSAGE_GO)
                _exit(EXIT_FAILURE);
        if (n_fds != 0 && n_fds != STAGE1_STDIO_FDS) {
                (void) stage1_message_failed(&failure, EBADMSG, "Received %zu stdio file descriptors.", n_fds);
                init_fail(sock, &failure);
        }

        /* From here on signals are events; the outer process blocked those it forwards. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGALRM);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0) {
                (void) stage1_message_failed(&failure, errno, "Failed to block signals: %m");
                init_fail(sock, &failure);
        }
        signal_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0) {
                (void) stage1_message_failed(&failure, errno, "Failed to create signalfd: %m");
                init_fail(sock, &failure);
        }

        /* All or nothing: if one app fails to start, the init exits and the kernel takes
         * the others with it. */
        for (size_t i = 0; i < p->n_apps; i++) {
                pids[i] = app_start(p, p->apps + i, fds, n_fds, &failure);
                if (pids[i] < 0)
                        init_fail(sock, &failure);
        }

        /* The apps have their copies; ours would keep the client from seeing EOF. */
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);

        if (p->n_apps > 1 && init_confine(p, &failure) < 0)
                init_fail(sock, &failure);

        m = (Stage1Message) { .type = STAGE1_MESSAGE_STARTED };
        if (stage1_message_send(sock, &m, NULL, 0) < 0)
                _exit(EXIT_FAILURE);

        init_loop(p, sock, signal_fd, pids);
}
