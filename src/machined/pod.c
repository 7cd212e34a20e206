/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bus-errors.h"
#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "name.h"
#include "paths.h"
#include "strv.h"
#include "pod-dbus.h"
#include "pod.h"
#include "store.h"
#include "user-slice.h"

#define SYSTEMD_SERVICE "org.freedesktop.systemd1.Service"
#define SYSTEMD_UNIT_PREFIX "/org/freedesktop/systemd1/unit"

static const char *const pod_state_table[_POD_STATE_MAX] = {
        [POD_CREATED] = "created",
        [POD_STARTING] = "starting",
        [POD_RUNNING] = "running",
        [POD_STOPPING] = "stopping",
        [POD_EXITED] = "exited",
};

const char *pod_state_to_string(PodState s) {
        return s >= 0 && s < _POD_STATE_MAX ? pod_state_table[s] : NULL;
}

PodState pod_state_from_string(const char *s) {
        for (PodState i = 0; i < _POD_STATE_MAX; i++)
                if (s && strcmp(pod_state_table[i], s) == 0)
                        return i;
        return _POD_STATE_INVALID;
}

/* "none" without a user namespace; "chown" if stage1 gave an app a shifted copy (its
 * marker file), which happens at a first start; "idmap" otherwise. Read when the pod is
 * loaded and at each change of its state, not at each property read. */
static void pod_update_uid_mapping(Pod *p) {
        _cleanup_close_ int dir_fd = -EBADF;

        p->uid_mapping = "none";
        if (p->config.uid_shift == UID_INVALID)
                return;
        p->uid_mapping = "idmap";
        dir_fd = openat(p->manager->pods_fd, p->config.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        for (size_t i = 0; dir_fd >= 0 && i < p->config.n_apps; i++) {
                _cleanup_free_ char *dir = NULL, *marker = NULL;

                if (pod_app_dir(&p->config, i, &dir) < 0 || asprintf(&marker, "%s" POD_UID_SHIFTED_FILE, dir) < 0)
                        return;
                if (faccessat(dir_fd, marker, F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                        p->uid_mapping = "chown";
                        return;
                }
        }
}

static int pod_new(Manager *m, PodConfig *config, Pod **ret) {
        Pod *p;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;

        p->manager = m;
        p->stdio[0] = p->stdio[1] = p->stdio[2] = -EBADF;
        p->unit = pod_unit_name(config->name);
        if (!p->unit ||
            sd_bus_path_encode(SYSTEMD_UNIT_PREFIX, p->unit, &p->unit_path) < 0 ||
            sd_bus_path_encode(PODCTL_BUS_POD_PREFIX, config->name, &p->path) < 0) {
                pod_free(p);
                return -ENOMEM;
        }

        /* Takes over the configuration. */
        p->config = *config;
        pod_config_init(config);
        pod_update_uid_mapping(p);

        p->next = m->pods;
        m->pods = p;
        m->n_pods++;

        *ret = p;
        return 0;
}

static void pod_close_stdio(Pod *p) {
        _cleanup_free_ char *marker = NULL;

        for (size_t i = 0; i < 3; i++)
                p->stdio[i] = safe_close(p->stdio[i]);
        if (asprintf(&marker, PODCTL_STDIO_DIR "/%s", p->config.name) >= 0)
                (void) unlink(marker);
}

Pod *pod_free(Pod *p) {
        if (!p)
                return NULL;

        if (p->manager) {
                for (Pod **i = &p->manager->pods; *i; i = &(*i)->next)
                        if (*i == p) {
                                *i = p->next;
                                p->manager->n_pods--;
                                break;
                        }
        }

        while (p->jobs) {
                PodJob *j = p->jobs;
                p->jobs = j->next;
                sd_bus_slot_unref(j->slot);
                sd_bus_message_unref(j->call);
                free(j->path);
                free(j);
        }
        while (p->execs)
                pod_exec_free(p->execs);
        while (p->waiters) {
                PodWaiter *w = p->waiters;
                p->waiters = w->next;
                sd_bus_message_unref(w->call);
                free(w);
        }

        for (size_t i = 0; i < 3; i++)
                safe_close(p->stdio[i]);
        sd_bus_slot_unref(p->unit_match);
        sd_event_source_disable_unref(p->auto_remove_source);
        free(p->deferred_active_state);
        exit_info_done(&p->exit);
        pod_config_done(&p->config);
        free(p->unit);
        free(p->unit_path);
        free(p->path);
        free(p);
        return NULL;
}

/* What bounds the disk use of a pod's roots: each one's own limit, and the qgroup of its
 * owner (0: none) that bounds all of the owner's pods together. */
typedef struct PodQuota {
        uint64_t pod_max;
        uint64_t user_qgroup;
} PodQuota;

/* The app's root in the pod's directory (see pod_app_dir()): a snapshot of its image or an
 * overlay's mount point, upper and work directories. */
static int pod_create_app_root(Manager *m, const PodConfig *config, size_t i, int dir_fd, const PodQuota *q) {
        const PodApp *a = config->apps + i;
        /* With a user namespace the pod's init finds its roots and overlay directories here
         * as the pod's root, no longer the host's: it needs to search, not to list. */
        mode_t mode = config->uid_shift != UID_INVALID ? 0711 : 0700;
        _cleanup_close_ int image_fd = -EBADF, app_fd = -EBADF;
        _cleanup_free_ char *app_dir = NULL;
        int r;

        image_fd = openat(m->images_fd, a->image, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (image_fd < 0)
                return log_error_errno(errno, "Failed to open image '%s': %m", a->image);

        r = pod_app_dir(config, i, &app_dir);
        if (r < 0)
                return log_oom();
        if (i > 0) {
                if (mkdirat(dir_fd, POD_APPS_DIR, mode) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "Failed to create the apps directory of pod '%s': %m", config->name);
                if (mkdirat(dir_fd, app_dir, mode) < 0)
                        return log_error_errno(errno, "Failed to create the directory of app '%s' of pod '%s': %m",
                                               a->name, config->name);
                app_fd = openat(dir_fd, app_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        } else
                app_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (app_fd < 0)
                return log_error_errno(errno, "Failed to open the directory of app '%s' of pod '%s': %m", a->name, config->name);

        r = store_make_pod_root(config->storage, image_fd, app_fd, q->user_qgroup);
        if (r < 0)
                return log_error_errno(r, "Failed to create the root of app '%s' of pod '%s' from image '%s': %m",
                                       a->name, config->name, a->image);

        if (q->pod_max != LIMIT_UNSET) {
                r = store_set_disk_limit(app_fd, POD_ROOTFS_DIR, q->pod_max);
                if (r < 0)
                        return log_error_errno(r, "Failed to limit the disk use of app '%s' of pod '%s': %m", a->name, config->name);
        }

        /* Overlayfs writes the pod's files into upper/ as the pod's root; the image, seen
         * through an idmapped mount, needs no chown. */
        if (config->storage == STORAGE_OVERLAY && config->uid_shift != UID_INVALID &&
            (fchownat(app_fd, POD_UPPER_DIR, config->uid_shift, config->uid_shift, AT_SYMLINK_NOFOLLOW) < 0 ||
             fchownat(app_fd, POD_WORK_DIR, config->uid_shift, config->uid_shift, AT_SYMLINK_NOFOLLOW) < 0))
                return log_error_errno(errno, "Failed to hand the overlay directories of pod '%s' to its UID range: %m",
                                       config->name);
        return 0;
}

/* Turns quotas on for a pod with a disk limit, and for a user's pod under podctl.conf's
 * DiskLimit= finds the qgroup that bounds all of the user's pods together. */
static int pod_quota(Manager *m, const PodConfig *config, int dir_fd, PodQuota *ret) {
        uint64_t user_max = m->conf.users.disk_max;
        bool user_total = config->storage == STORAGE_BTRFS && config->owner_uid != 0 && user_max != LIMIT_UNSET;
        int r;

        *ret = (PodQuota) { .pod_max = config->disk_max };
        if (config->disk_max == LIMIT_UNSET && !user_total)
                return 0;

        r = store_enable_quota(dir_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to enable btrfs quotas for pod '%s': %m", config->name);
        if (!user_total)
                return 0;

        r = store_quota_is_simple(dir_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to query the btrfs features of the store: %m");
        if (r == 0) {
                /* Joining a parent qgroup would make full accounting inconsistent (and stop
                 * enforcing every limit) until a rescan of the whole file system. */
                log_warning("The store's btrfs accounts with full quotas, not simple ones: DiskLimit= of %s "
                            "bounds each pod of UID %" PRIu32 ", not all of them together.",
                            PODCTL_CONF_FILE, (uint32_t) config->owner_uid);
                if (ret->pod_max == LIMIT_UNSET)
                        ret->pod_max = user_max;
                return 0;
        }

        r = store_user_qgroup(dir_fd, config->owner_uid, user_max, &ret->user_qgroup);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the btrfs qgroup of UID %" PRIu32 ": %m",
                                       (uint32_t) config->owner_uid);
        return 0;
}

int pod_create(Manager *m, PodConfig *config, Pod **ret) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        PodQuota quota;
        int r;

        r = hidden_name(PODCTL_TMP_PREFIX, config->name, &tmp);
        if (r < 0)
                return r;

        /* Built under a hidden name and renamed into place: a crash leaves no half pod. */
        if (mkdirat(m->pods_fd, tmp, config->uid_shift != UID_INVALID ? 0711 : 0700) < 0)
                return log_error_errno(errno, "Failed to create directory for pod '%s': %m", config->name);

        dir_fd = openat(m->pods_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0) {
                r = log_error_errno(errno, "Failed to open directory for pod '%s': %m", config->name);
                goto fail;
        }

        r = pod_quota(m, config, dir_fd, &quota);
        if (r < 0)
                goto fail;

        for (size_t i = 0; i < config->n_apps; i++) {
                r = pod_create_app_root(m, config, i, dir_fd, &quota);
                if (r < 0)
                        goto fail;
        }

        r = pod_config_save_at(dir_fd, config);
        if (r < 0) {
                log_error_errno(r, "Failed to write configuration of pod '%s': %m", config->name);
                goto fail;
        }

        if (renameat2(m->pods_fd, tmp, m->pods_fd, config->name, RENAME_NOREPLACE) < 0) {
                r = log_error_errno(errno, "Failed to move pod '%s' into place: %m", config->name);
                goto fail;
        }
        (void) fsync(m->pods_fd);

        r = pod_new(m, config, ret);
        if (r < 0)
                return r;
        (*ret)->state = POD_CREATED;
        return 0;

fail:
        (void) rm_rf_at(m->pods_fd, tmp);
        return r;
}

static int pod_read_exit(Pod *p) {
        _cleanup_close_ int dir_fd = -EBADF;
        ExitInfo e = {};
        int r;

        dir_fd = openat(p->manager->pods_fd, p->config.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;

        r = exit_info_load_at(dir_fd, &e);
        if (r == -ENOENT) {
                p->has_exit = false;
                return 0;
        }
        if (r < 0)
                return log_warning_errno(r, "Failed to read exit status of pod '%s', ignoring: %m", p->config.name);

        exit_info_done(&p->exit);
        p->exit = e;
        p->has_exit = true;
        return 1;
}

/* When stage1 was killed with its pod (SIGKILL to the whole unit, the OOM killer), systemd
 * still knows how the unit's main process ended; a failed unit keeps that until it is reset. */
static int pod_record_exit_from_unit(Pod *p) {
        _cleanup_close_ int dir_fd = -EBADF;
        int32_t code = 0, status = 0;
        uint64_t exited_usec = 0;
        ExitInfo e;
        int r;

        r = sd_bus_get_property_trivial(p->manager->bus, SYSTEMD_DEST, p->unit_path, SYSTEMD_SERVICE,
                                        "ExecMainExitTimestamp", NULL, 't', &exited_usec);
        if (r < 0)
                return r;
        /* Nothing ran since this pod was created (a unit of an earlier pod of this name). */
        if (exited_usec <= p->config.created_usec)
                return 0;

        if (sd_bus_get_property_trivial(p->manager->bus, SYSTEMD_DEST, p->unit_path, SYSTEMD_SERVICE,
                                        "ExecMainCode", NULL, 'i', &code) < 0 ||
            sd_bus_get_property_trivial(p->manager->bus, SYSTEMD_DEST, p->unit_path, SYSTEMD_SERVICE,
                                        "ExecMainStatus", NULL, 'i', &status) < 0)
                return -EIO;

        e = (ExitInfo) { .status = status, .finished_usec = exited_usec };
        switch (code) {
        case CLD_EXITED:
                e.code = EXIT_CODE_EXITED;
                break;
        case CLD_KILLED:
                e.code = EXIT_CODE_KILLED;
                break;
        case CLD_DUMPED:
                e.code = EXIT_CODE_DUMPED;
                break;
        default:
                return 0;
        }

        dir_fd = openat(p->manager->pods_fd, p->config.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        r = exit_info_save_at(dir_fd, &e);
        if (r < 0)
                return log_warning_errno(r, "Failed to record the end of pod '%s': %m", p->config.name);

        exit_info_done(&p->exit);
        p->exit = e;
        p->has_exit = true;
        return 1;
}

int pod_load(Manager *m, const char *name, Pod **ret) {
        _cleanup_close_ int dir_fd = -EBADF;
        PodConfig c;
        Pod *p;
        int r;

        dir_fd = openat(m->pods_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;

        r = pod_config_load_at(dir_fd, &c);
        if (r < 0)
                return r;
        if (strcmp(c.name, name) != 0) {
                pod_config_done(&c);
                return -EBADMSG;
        }

        r = pod_new(m, &c, &p);
        if (r < 0) {
                pod_config_done(&c);
                return r;
        }

        (void) pod_read_exit(p);
        p->state = p->has_exit ? POD_EXITED : POD_CREATED;
        *ret = p;
        return 0;
}

bool pod_is_active(Pod *p) {
        return p->state == POD_STARTING || p->state == POD_RUNNING || p->state == POD_STOPPING;
}

bool pod_is_busy(Pod *p) {
        return p->jobs || p->waiters || p->stdio[0] >= 0 || p->execs;
}

int pod_get_leader(Pod *p, pid_t *ret) {
        _cleanup_free_ char *machine = NULL;
        uint32_t leader = 0;
        int r;

        if (p->state != POD_RUNNING)
                return -ESRCH;
        r = sd_bus_path_encode("/org/freedesktop/machine1/machine", p->config.name, &machine);
        if (r < 0)
                return r;
        r = sd_bus_get_property_trivial(p->manager->bus, "org.freedesktop.machine1", machine,
                                        "org.freedesktop.machine1.Machine", "Leader", NULL, 'u', &leader);
        if (r < 0)
                return r;
        if (leader == 0)
                return -ESRCH;
        *ret = (pid_t) leader;
        return 0;
}

static void pod_emit_state(Pod *p) {
        int r;

        pod_update_uid_mapping(p);
        r = sd_bus_emit_properties_changed(p->manager->bus, p->path, PODCTL_POD_INTERFACE,
                                           "State", "Leader", "ExitCode", "ExitStatus", "ExitMessage", "FinishedAt", "Apps",
                                           "UIDMapping", NULL);
        if (r < 0)
                log_debug_errno(r, "Failed to emit PropertiesChanged for pod '%s': %m", p->config.name);
}

static void pod_set_state(Pod *p, PodState s) {
        if (p->state == s)
                return;
        log_debug("Pod '%s' is now %s.", p->config.name, pod_state_to_string(s));
        p->state = s;
        pod_emit_state(p);
}

static bool pod_has_job(Pod *p, PodJobKind kind) {
        for (PodJob *j = p->jobs; j; j = j->next)
                if (j->kind == kind)
                        return true;
        return false;
}

static void pod_answer_waiters(Pod *p) {
        while (p->waiters) {
                PodWaiter *w = p->waiters;
                p->waiters = w->next;
                (void) bus_pod_reply_exit(p, w->call);
                sd_bus_message_unref(w->call);
                free(w);
        }
}

static int on_auto_remove(sd_event_source *s, void *userdata) {
        Pod *p = userdata;
        int r;

        p->auto_remove_source = sd_event_source_disable_unref(p->auto_remove_source);
        if (pod_is_active(p) || pod_is_busy(p))
                return 0; /* started again, or somebody is waiting for it after all */
        r = pod_remove(p);
        if (r < 0)
                log_warning_errno(r, "Failed to remove pod '%s' (AutoRemove) after it ended: %m", p->config.name);
        return 0;
}

/* A pod run with AutoRemove and started without a caller's stdio ("podctl run -d --rm",
 * systemctl start) has nobody to remove it when it ends: we do, outside of the unit's
 * signal handler that got us here. An attached client removes its pod itself, after
 * reading how it ended. A pod that ends while podmachined is not running is removed when
 * it next starts. */
static void pod_auto_remove_later(Pod *p) {
        int r;

        if (p->auto_remove_source)
                return;
        r = sd_event_add_defer(p->manager->event, &p->auto_remove_source, on_auto_remove, p);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule removing pod '%s' (AutoRemove): %m", p->config.name);
}

void pod_set_active_state(Pod *p, const char *active_state) {
        bool was_active = pod_is_active(p);
        PodState s;

        if (!active_state)
                return;

        log_debug("Unit %s is %s.", p->unit, active_state);

        if (strcmp(active_state, "active") == 0 || strcmp(active_state, "reloading") == 0)
                s = POD_RUNNING;
        else if (strcmp(active_state, "activating") == 0)
                s = POD_STARTING;
        else if (strcmp(active_state, "deactivating") == 0)
                s = POD_STOPPING;
        else if (pod_has_job(p, POD_JOB_START)) {
                /* systemd reports the unit inactive while our start job is still queued;
                 * what it says last is applied when the job ends. */
                char *copy = strdup(active_state);
                if (copy) {
                        free(p->deferred_active_state);
                        p->deferred_active_state = copy;
                }
                return;
        } else {
                /* inactive or failed: stage1 has written exit.json unless the pod never ran
                 * or stage1 itself was killed. */
                if (pod_read_exit(p) == 0)
                        (void) pod_record_exit_from_unit(p);
                s = p->has_exit ? POD_EXITED : POD_CREATED;
        }

        /* Later news replaces what was held back during the job. */
        free(p->deferred_active_state);
        p->deferred_active_state = NULL;

        pod_set_state(p, s);

        if (!pod_is_active(p)) {
                pod_close_stdio(p);
                pod_answer_waiters(p);
                if (was_active && p->config.auto_remove && !p->attached)
                        pod_auto_remove_later(p);
        }
        manager_check_idle(p->manager);
}

static int pod_query_active_state(Pod *p) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL;
        int r;

        r = sd_bus_get_property_string(p->manager->bus, SYSTEMD_DEST, p->unit_path, "org.freedesktop.systemd1.Unit",
                                       "ActiveState", &error, &state);
        if (r < 0)
                return log_warning_errno(r, "Failed to query state of unit %s: %s", p->unit, error.message ?: strerror(-r));

        pod_set_active_state(p, state);
        return 0;
}

static int on_unit_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        const char *iface;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || strcmp(iface, "org.freedesktop.systemd1.Unit") != 0)
                return 0;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return 0;

        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *value;

                if (sd_bus_message_read(m, "s", &key) < 0)
                        return 0;
                if (strcmp(key, "ActiveState") != 0) {
                        if (sd_bus_message_skip(m, "v") < 0)
                                return 0;
                } else if (sd_bus_message_read(m, "v", "s", &value) >= 0) {
                        pod_set_active_state(p, value);
                        return 0;
                } else
                        return 0;
                if (sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        return 0;
}

int pod_watch_unit(Pod *p, bool query) {
        int r;

        /* Installed before the query, and the bus keeps order: no change is missed. */
        r = sd_bus_match_signal_async(p->manager->bus, &p->unit_match, SYSTEMD_DEST, p->unit_path,
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                      on_unit_properties_changed, NULL, p);
        if (r < 0)
                return log_error_errno(r, "Failed to watch unit %s: %m", p->unit);

        return query ? pod_query_active_state(p) : 0;
}

static PodJob *pod_add_job(Pod *p, PodJobKind kind, sd_bus_message *call) {
        PodJob *j = calloc(1, sizeof *j), **tail;

        if (!j)
                return NULL;
        j->pod = p;
        j->kind = kind;
        j->call = sd_bus_message_ref(call);

        /* Kept in call order. */
        for (tail = &p->jobs; *tail; tail = &(*tail)->next)
                ;
        *tail = j;
        return j;
}

static void pod_drop_job(Pod *p, PodJob *job) {
        for (PodJob **i = &p->jobs; *i; i = &(*i)->next)
                if (*i == job) {
                        *i = job->next;
                        break;
                }
        sd_bus_slot_unref(job->slot);
        sd_bus_message_unref(job->call);
        free(job->path);
        free(job);
        manager_check_idle(p->manager);
}

/* The reply to StartUnit/StopUnit carries the job we then wait for. */
static int on_job_queued(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PodJob *job = userdata;
        Pod *p = job->pod;
        const sd_bus_error *e;
        const char *path;

        job->slot = sd_bus_slot_unref(job->slot);

        e = sd_bus_message_get_error(reply);
        if (e) {
                log_error("Failed to queue job for unit %s: %s", p->unit, e->message);
                (void) sd_bus_reply_method_errorf(job->call, BUS_ERROR_SYSTEMD_FAILED, "Failed to %s unit %s: %s",
                                                  job->kind == POD_JOB_START ? "start" : "stop", p->unit, e->message);
                pod_drop_job(p, job);
                (void) pod_query_active_state(p);
                return 0;
        }

        if (sd_bus_message_read(reply, "o", &path) < 0 || !(job->path = strdup(path))) {
                (void) sd_bus_reply_method_errorf(job->call, BUS_ERROR_SYSTEMD_FAILED, "Unexpected reply from systemd.");
                pod_drop_job(p, job);
        }
        return 0;
}

static int pod_queue_job(Pod *p, const char *method, PodJobKind kind, sd_bus_message *call) {
        PodJob *job;
        int r;

        job = pod_add_job(p, kind, call);
        if (!job)
                return -ENOMEM;

        r = sd_bus_call_method_async(p->manager->bus, &job->slot, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method,
                                     on_job_queued, job, "ss", p->unit, "replace");
        if (r < 0) {
                pod_drop_job(p, job);
                return r;
        }
        return 0;
}

int pod_start_unit(Pod *p, sd_bus_message *call, int stdio[3], sd_bus_error *error) {
        int r;

        if (pod_is_active(p))
                return sd_bus_error_setf(error, BUS_ERROR_POD_RUNNING, "Pod '%s' is already running.", p->config.name);

        pod_close_stdio(p);
        p->attached = stdio != NULL;
        if (stdio) {
                _cleanup_free_ char *marker = NULL;
                _cleanup_close_ int fd = -EBADF;

                for (size_t i = 0; i < 3; i++) {
                        p->stdio[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
                        if (p->stdio[i] < 0) {
                                r = -errno;
                                pod_close_stdio(p);
                                return r;
                        }
                }

                if (asprintf(&marker, PODCTL_STDIO_DIR "/%s", p->config.name) < 0)
                        return -ENOMEM;
                (void) mkdir(PODCTL_RUNTIME_DIR, 0755);
                (void) mkdir(PODCTL_STDIO_DIR, 0700);
                fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0) {
                        r = log_error_errno(errno, "Failed to create %s: %m", marker);
                        pod_close_stdio(p);
                        return r;
                }
        }

        r = pod_queue_job(p, "StartUnit", POD_JOB_START, call);
        if (r < 0) {
                pod_close_stdio(p);
                return r;
        }

        pod_set_state(p, POD_STARTING);
        return 0;
}

int pod_stop_unit(Pod *p, sd_bus_message *call, PodJobKind kind, sd_bus_error *error) {
        int r;

        if (kind == POD_JOB_REMOVE) {
                /* "rm --force" does not wait out the app's stop timeout. */
                r = sd_bus_call_method_async(p->manager->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                             "KillUnit", NULL, NULL, "ssi", p->unit, "all", SIGKILL);
                if (r < 0)
                        return r;
        }

        return pod_queue_job(p, "StopUnit", kind, call);
}

static int on_kill_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        sd_bus_message *call = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e)
                (void) sd_bus_reply_method_errorf(call, BUS_ERROR_SYSTEMD_FAILED, "Failed to send signal: %s", e->message);
        else
                (void) sd_bus_reply_method_return(call, NULL);
        sd_bus_message_unref(call);
        return 0;
}

int pod_kill_unit(Pod *p, const char *whom, int signo, sd_bus_error *error) {
        sd_bus_message *call = sd_bus_get_current_message(p->manager->bus);
        int r;

        r = sd_bus_call_method_async(p->manager->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "KillUnit",
                                     on_kill_reply, sd_bus_message_ref(call), "ssi", p->unit,
                                     strcmp(whom, "leader") == 0 ? "main" : "all", signo);
        if (r < 0)
                sd_bus_message_unref(call);
        return r;
}

int pod_add_waiter(Pod *p, sd_bus_message *call) {
        PodWaiter *w;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->call = sd_bus_message_ref(call);
        w->next = p->waiters;
        p->waiters = w;
        return 0;
}

void pod_job_removed(Manager *m, const char *job_path, const char *result) {
        for (Pod *p = m->pods; p; p = p->next)
                for (PodJob *j = p->jobs; j; j = j->next) {
                        if (!j->path || strcmp(j->path, job_path) != 0)
                                continue;

                        bool ok = strcmp(result, "done") == 0;

                        if (j->kind == POD_JOB_START && !ok) {
                                (void) pod_read_exit(p);
                                if (p->has_exit && p->exit.message)
                                        (void) sd_bus_reply_method_errorf(j->call, BUS_ERROR_POD_START_FAILED,
                                                                          "%s", p->exit.message);
                                else
                                        (void) sd_bus_reply_method_errorf(j->call, BUS_ERROR_POD_START_FAILED,
                                                                          "Unit %s failed to start (%s), see 'journalctl -u %s'.",
                                                                          p->unit, result, p->unit);
                        } else if (j->kind == POD_JOB_REMOVE) {
                                _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = sd_bus_message_ref(j->call);
                                int r;

                                pod_drop_job(p, j);
                                r = pod_remove(p);
                                if (r < 0)
                                        (void) sd_bus_reply_method_errnof(call, r, "Failed to remove pod: %m");
                                else
                                        (void) sd_bus_reply_method_return(call, NULL);
                                return;
                        } else if (!ok && j->kind == POD_JOB_STOP)
                                (void) sd_bus_reply_method_errorf(j->call, BUS_ERROR_SYSTEMD_FAILED,
                                                                  "Failed to stop unit %s (%s).", p->unit, result);
                        else
                                (void) sd_bus_reply_method_return(j->call, NULL);

                        pod_drop_job(p, j);
                        if (p->deferred_active_state) {
                                _cleanup_free_ char *state = TAKE_PTR(p->deferred_active_state);
                                pod_set_active_state(p, state);
                        }
                        return;
                }
}

int pod_remove(Pod *p) {
        Manager *m = p->manager;
        _cleanup_strv_free_ char **images = NULL;
        _cleanup_free_ char *gone = NULL;
        int r;

        if (pod_is_active(p))
                return -EBUSY;

        r = hidden_name(PODCTL_RM_PREFIX, p->config.name, &gone);
        if (r < 0)
                return r;

        /* The rename is the removal; deleting the tree after it may fail or be
         * interrupted without the pod reappearing. */
        if (renameat(m->pods_fd, p->config.name, m->pods_fd, gone) < 0)
                return log_error_errno(errno, "Failed to remove pod '%s': %m", p->config.name);
        (void) fsync(m->pods_fd);

        r = manager_delete_later(m, m->pods_fd, gone);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule deleting %s of pod '%s', leaving it for the next start: %m",
                                  gone, p->config.name);

        /* No reload for it: a later pod of this name reloads at its creation if systemd
         * still holds the unit with this slice then. */
        pod_dropins_remove(POD_UNIT_DIR, p->unit);

        /* A failed pod@NAME.service would otherwise stay listed by systemctl. */
        (void) sd_bus_call_method_async(m->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "ResetFailedUnit",
                                        NULL, NULL, "s", p->unit);

        (void) sd_bus_emit_signal(m->bus, PODCTL_BUS_PATH, PODCTL_MANAGER_INTERFACE, "PodRemoved", "so",
                                  p->config.name, p->path);
        log_info("Removed pod '%s'.", p->config.name);

        images = pod_config_images(&p->config);
        pod_answer_waiters(p);
        pod_free(p);

        for (char **i = images; i && *i; i++)
                bus_image_emit_pods_changed(m, *i);
        manager_check_idle(m);
        return 0;
}
