/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus-errors.h"
#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "mount-setup.h"
#include "paths.h"
#include "pod-exec.h"
#include "pod.h"
#include "stage1-protocol.h"
#include "strv.h"
#include "user-slice.h"

/* How the command is run: podmachined asks systemd for a transient service,
 * pod-exec-POD-ID.service, whose ExecStart is podctl-exec-helper. Not our child, it has
 * none of our sandbox and is in none of our cgroup, and it outlives us. Its stdin is one
 * end of a SOCK_SEQPACKET socketpair we create, handed to systemd as
 * StandardInputFileDescriptor: an fd, so neither our private network namespace (no
 * abstract sockets shared with the host) nor a path in /run that a helper would have to
 * find again and others could connect to comes into it. On our end we send the request
 * before systemd even started the helper (the socket keeps it) and then read STARTED,
 * FAILED and EXITED. The caller's stdio travel in that first message, not as the unit's
 * standard fds: the helper's own output goes to the journal. See exec-helper.h. */

static int pidfd_open_(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_send_signal_(int pidfd, int sig) {
        return RET_NERRNO((int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

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
        sd_bus_slot_unref(e->start_slot);
        sd_bus_message_unref(e->call);
        free(e->caller);
        free(e->unit);
        safe_close(e->socket);
        safe_close(e->pidfd);
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

static int exec_send_signal(PodExec *e, const char *member, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *signal = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_signal(e->pod->manager->bus, &signal, e->pod->path, PODCTL_POD_INTERFACE, member);
        if (r >= 0)
                r = sd_bus_message_set_destination(signal, e->caller);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(signal, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_send(e->pod->manager->bus, signal, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to send %s for PID %d of pod '%s': %m", member, (int) e->pid, e->pod->config.name);
        return r;
}

static void exec_started(PodExec *e, pid_t pid, int pidfd, int pty) {
        e->pid = pid;
        e->pidfd = pidfd;
        log_debug("Executed a command in pod '%s' as PID %d in %s.", e->pod->config.name, (int) pid, e->unit);
        /* Before the reply, so that the caller can follow the unit should we go. */
        (void) exec_send_signal(e, "ExecStarted", "us", (uint32_t) pid, e->unit);
        if (pty >= 0)
                (void) sd_bus_reply_method_return(e->call, "ahu", 1, pty, (uint32_t) pid);
        else
                (void) sd_bus_reply_method_return(e->call, "ahu", 0, (uint32_t) pid);
        e->call = sd_bus_message_unref(e->call);
}

/* The helper is gone: with the command's wait status, or without (killed, or its unit stopped). */
static void exec_ended(PodExec *e, const int *wait_status) {
        ExitInfo info = { .code = EXIT_CODE_KILLED, .status = SIGKILL };

        if (e->call) {
                _cleanup_free_ char *text = NULL;

                if (asprintf(&text, "The exec helper ended before the command ran; see journalctl -u %s.", e->unit) < 0)
                        text = NULL;
                exec_reply_error(e, BUS_ERROR_EXEC_FAILED, EPROTO, text ?: "The exec helper ended before the command ran.");
                return;
        }
        if (e->pid <= 0)
                return;
        if (wait_status)
                (void) exit_info_from_wait_status(*wait_status, &info);
        (void) exec_send_signal(e, "ExecExited", "usi", (uint32_t) e->pid, exit_code_to_string(info.code), info.status);
        exit_info_done(&info);
}

/* Returns true once the exec is over. */
static bool exec_handle_message(PodExec *e, const Stage1Message *m, int *fds, size_t n_fds) {
        bool over = false;

        switch (m->type) {
        case STAGE1_MESSAGE_STARTED:
                if (e->call && m->status > 0 && n_fds >= 1) {
                        exec_started(e, m->status, fds[0], n_fds == 2 ? fds[1] : -EBADF);
                        fds[0] = -EBADF;
                }
                break;
        case STAGE1_MESSAGE_FAILED:
                exec_reply_error(e, m->error == ENOENT || m->error == EACCES ? NULL : BUS_ERROR_EXEC_FAILED,
                                 m->error, m->text);
                over = true;
                break;
        case STAGE1_MESSAGE_EXITED:
                exec_ended(e, &m->status);
                over = true;
                break;
        default:
                break;
        }
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
        return over;
}

static int on_exec_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PodExec *e = userdata;
        Manager *m = e->pod->manager;

        for (;;) {
                Stage1Message msg;
                int fds[2];
                size_t n_fds = 0;
                int r;

                r = stage1_message_receive(e->socket, &msg, fds, ELEMENTSOF(fds), &n_fds);
                if (r == -EINTR)
                        continue;
                if (r == -EAGAIN)
                        return 0;
                if (r < 0 && r != -EBADMSG)
                        log_warning_errno(r, "Failed to read from the exec helper %s: %m", e->unit);
                if (r == -EBADMSG)
                        continue;
                if (r <= 0) {
                        /* EOF: the helper went without a word, and systemd let go of its end. */
                        exec_ended(e, NULL);
                        break;
                }
                if (exec_handle_message(e, &msg, fds, n_fds))
                        break;
        }

        pod_exec_free(e);
        manager_check_idle(m);
        return 0;
}

static int on_unit_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PodExec *e = userdata;
        Manager *m = e->pod->manager;
        const sd_bus_error *error = sd_bus_message_get_error(reply);
        _cleanup_free_ char *text = NULL;

        e->start_slot = sd_bus_slot_unref(e->start_slot);
        if (!error)
                return 0; /* the helper reports from now on */

        log_warning("Failed to start %s: %s", e->unit, error->message);
        if (asprintf(&text, "Failed to start %s: %s", e->unit, error->message) < 0)
                text = NULL;
        exec_reply_error(e, BUS_ERROR_SYSTEMD_FAILED, EIO, text ?: "Failed to start the exec helper's unit.");
        pod_exec_free(e);
        manager_check_idle(m);
        return 0;
}

/* The request in a memfd, and the fds the helper needs, in the socket's first message. */
static int exec_send_request(int sock, const ExecRequest *req, int leader_fd, int app_fd, const int stdio[3]) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int memfd = -EBADF;
        Stage1Message m = { .type = STAGE1_MESSAGE_EXEC };
        int fds[2 + 1 + 3];
        size_t size, n = 0;
        int r;

        r = exec_request_serialize(req, &buf, &size);
        if (r < 0)
                return r;
        memfd = memfd_create("podctl-exec-request", MFD_CLOEXEC);
        if (memfd < 0)
                return -errno;
        r = write_all(memfd, buf, size);
        if (r < 0)
                return r;
        if (lseek(memfd, 0, SEEK_SET) < 0)
                return -errno;

        fds[n++] = memfd;
        fds[n++] = leader_fd;
        if (app_fd >= 0) {
                m.status |= STAGE1_EXEC_APP;
                fds[n++] = app_fd;
        }
        if (stdio[0] >= 0) {
                m.status |= STAGE1_EXEC_STDIO;
                for (size_t i = 0; i < 3; i++)
                        fds[n++] = stdio[i];
        }
        return stage1_message_send(sock, &m, fds, n);
}

static int exec_start_unit(PodExec *e, int helper_socket) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *slice = NULL, *description = NULL;
        Pod *p = e->pod;
        int r;

        r = pod_slice_name(p->config.owner_uid, &slice);
        if (r < 0)
                return r;
        if (asprintf(&description, "podctl exec in pod %s", p->config.name) < 0)
                return -ENOMEM;

        r = sd_bus_message_new_method_call(p->manager->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", e->unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)",
                                          "Description", "s", description,
                                          "Type", "s", "exec",
                                          "CollectMode", "s", "inactive-or-failed",
                                          "Slice", "s", slice,
                                          "StandardInputFileDescriptor", "h", helper_socket,
                                          "StandardOutput", "s", "journal",
                                          "StandardError", "s", "journal");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "ExecStart", "a(sasb)", 1,
                                          PODCTL_EXEC_HELPER_PATH, 2, "podctl-exec-helper", p->config.name, false);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        return sd_bus_call_async(p->manager->bus, &e->start_slot, m, on_unit_started, e, 0);
}

int pod_exec_start(Pod *p, sd_bus_message *call, const PodExecRequest *req, sd_bus_error *error) {
        _cleanup_strv_free_ char **procs = NULL;
        _cleanup_close_ int sock = -EBADF, helper_sock = -EBADF, leader_fd = -EBADF, app_fd = -EBADF;
        ExecRequest request = req->exec;
        const char *sender;
        PodExec *e;
        uint32_t id;
        int pair[2], r;

        if (p->n_execs >= POD_EXECS_MAX)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Pod '%s' runs %u commands already.",
                                         p->config.name, (unsigned) POD_EXECS_MAX);

        /* Where the init is: the unit's cgroup, or below it if the pod made its own. */
        r = cgroup_procs_files(request.leader, p->unit, &procs);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                leader_fd = pidfd_open_(request.leader);
                if (request.app > 0)
                        app_fd = pidfd_open_(request.app);
        }
        if (r < 0 || leader_fd < 0 || (request.app > 0 && app_fd < 0))
                return sd_bus_error_setf(error, BUS_ERROR_POD_NOT_RUNNING, "The init of pod '%s' is gone.", p->config.name);
        request.cgroup_procs = procs;

        sender = sd_bus_message_get_sender(call);
        if (!sender)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Exec needs a caller with a bus name.");

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to create a socket pair: %m");
        sock = pair[0];
        helper_sock = pair[1];
        /* The helper's end blocks, as a program expects of its stdin. */
        if (fcntl(helper_sock, F_SETFL, 0) < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to set up the socket pair: %m");

        r = exec_send_request(sock, &request, leader_fd, app_fd, req->stdio);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to pass on the command: %m");

        if (getrandom(&id, sizeof id, 0) != sizeof id)
                return sd_bus_error_set_errnof(error, errno, "Failed to get random bytes: %m");
        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        *e = (PodExec) { .pod = p, .socket = TAKE_FD(sock), .pidfd = -EBADF, .next = p->execs };
        p->execs = e;
        p->n_execs++;
        if (!(e->caller = strdup(sender)) ||
            asprintf(&e->unit, "pod-exec-%s-%08" PRIx32 ".service", p->config.name, id) < 0) {
                e->unit = NULL;
                pod_exec_free(e);
                return -ENOMEM;
        }

        r = sd_event_add_io(p->manager->event, &e->io_source, e->socket, EPOLLIN, on_exec_io, e);
        if (r >= 0)
                r = exec_start_unit(e, helper_sock);
        if (r < 0) {
                pod_exec_free(e);
                return sd_bus_error_set_errnof(error, r, "Failed to start the exec helper: %m");
        }
        e->call = sd_bus_message_ref(call);
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

/* A number field of /proc/PID/status ("PPid", "CapBnd"), in base. */
static int read_status_field(pid_t pid, const char *key, int base, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *status = NULL, *field = NULL;
        const char *b;
        char *end;

        if (asprintf(&path, "/proc/%d/status", (int) pid) < 0 || asprintf(&field, "\n%s:", key) < 0)
                return -ENOMEM;
        if (read_proc_file(path, &status) < 0)
                return -ESRCH;
        b = strstr(status, field);
        if (!b)
                return -EBADMSG;
        *ret = strtoull(b + strlen(field), &end, base);
        return end == b + strlen(field) ? -EBADMSG : 0;
}

int pod_exec_read_bounding_set(pid_t pid, uint64_t *ret) {
        return read_status_field(pid, "CapBnd", 16, ret);
}

static PodExec *pod_exec_find(Pod *p, pid_t pid) {
        for (PodExec *e = p->execs; e; e = e->next)
                if (e->pid == pid && e->pidfd >= 0)
                        return e;
        return NULL;
}

int pod_exec_kill(Pod *p, const char *caller, pid_t pid, int sig) {
        PodExec *e = pod_exec_find(p, pid);

        if (!e || !streq(e->caller, caller))
                return -ESRCH;
        return pidfd_send_signal_(e->pidfd, sig);
}

/* Whether unit is one of this pod's exec units, pod-exec-POD-ID.service, ID 8 hex digits. */
static bool pod_exec_unit_is_ours(Pod *p, const char *unit) {
        const char *id;

        id = startswith(unit, "pod-exec-");
        if (!id || !(id = startswith(id, p->config.name)) || *id++ != '-')
                return false;
        for (size_t i = 0; i < 8; i++)
                if (!id[i] || !strchr("0123456789abcdef", id[i]))
                        return false;
        return streq(id + 8, ".service");
}

/* Whether helper is the main process of one of this pod's live exec units, as systemd says. */
static int pod_exec_helper_check(Pod *p, pid_t helper) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *unit = NULL;
        const char *path;
        uint32_t main_pid = 0;
        int r;

        r = sd_bus_call_method(p->manager->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnitByPID", &error,
                               &reply, "u", (uint32_t) helper);
        if (r < 0)
                return -ESRCH;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(p->manager->bus, SYSTEMD_DEST, path, "org.freedesktop.systemd1.Unit", "Id",
                                       NULL, &unit);
        if (r < 0)
                return -ESRCH;
        if (!pod_exec_unit_is_ours(p, unit))
                return -ESRCH;
        r = sd_bus_get_property_trivial(p->manager->bus, SYSTEMD_DEST, path, "org.freedesktop.systemd1.Service",
                                        "MainPID", NULL, 'u', &main_pid);
        if (r < 0 || main_pid != (uint32_t) helper)
                return -ESRCH;
        return 0;
}

int pod_exec_kill_untracked(Pod *p, pid_t pid, int sig) {
        _cleanup_strv_free_ char **procs = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        uint64_t ppid;
        int r;

        if (pod_exec_find(p, pid))
                return -ESRCH; /* another caller's */

        /* Pinned first: what /proc says below is about this process if it still runs after. */
        pidfd = pidfd_open_(pid);
        if (pidfd < 0)
                return -ESRCH;
        r = cgroup_procs_files(pid, p->unit, &procs);
        if (r < 0)
                return r;
        r = read_status_field(pid, "PPid", 10, &ppid);
        if (r < 0)
                return -ESRCH;
        if (ppid <= 1 || ppid > INT32_MAX)
                return -ESRCH;
        r = pod_exec_helper_check(p, (pid_t) ppid);
        if (r < 0)
                return r;
        if (pidfd_send_signal_(pidfd, 0) < 0)
                return -ESRCH;
        log_info("Sending signal %d to PID %d in pod '%s', a command an earlier podmachined executed.", sig, (int) pid,
                 p->config.name);
        return pidfd_send_signal_(pidfd, sig);
}
