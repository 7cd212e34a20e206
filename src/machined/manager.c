/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "fileio.h"
#include "image-dbus.h"
#include "log.h"
#include "manager-dbus.h"
#include "manager.h"
#include "name.h"
#include "paths.h"
#include "pod-dbus.h"
#include "store.h"
#include "strv.h"
#include "user-slice.h"

typedef struct Deletion {
        int dir_fd; /* one of the manager's, not owned */
        char *name;
        struct Deletion *next;
} Deletion;

static void deletions_free(Deletion *d) {
        while (d) {
                Deletion *next = d->next;
                free(d->name);
                free(d);
                d = next;
        }
}

static int manager_start_deletions(Manager *m);

static int on_deleter_exited(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Manager *m = userdata;

        if (si->si_code != CLD_EXITED || si->si_status != 0)
                log_warning("The deleting child ended with %s %d; what it left is deleted at the next start.",
                            si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
        m->deleter_source = sd_event_source_disable_unref(m->deleter_source);
        m->deleter_pid = 0;
        /* What was removed meanwhile waits for the next round. */
        if (m->deletions && manager_start_deletions(m) < 0)
                log_warning("Failed to start deleting removed trees; they are deleted at the next start.");
        manager_check_idle(m);
        return 0;
}

/* Deleting a tree of many files takes seconds: a child does it, so that the event loop
 * answers meanwhile. The trees were renamed out of sight before, so nothing waits for
 * them; if we die, the child dies too and the next start-up sweeps what is left. */
static int manager_start_deletions(Manager *m) {
        Deletion *batch;
        pid_t pid;
        int r;

        if (m->deleter_pid > 0)
                return 0;

        batch = TAKE_PTR(m->deletions);
        pid = fork();
        if (pid < 0) {
                m->deletions = batch;
                return -errno;
        }
        if (pid == 0) {
                int failed = 0;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (Deletion *d = batch; d; d = d->next) {
                        r = rm_rf_at(d->dir_fd, d->name);
                        if (r < 0) {
                                log_warning_errno(r, "Failed to delete %s, leaving it for the next start: %m", d->name);
                                failed = 1;
                        }
                }
                _exit(failed);
        }
        deletions_free(batch);

        m->deleter_pid = pid;
        r = sd_event_add_child(m->event, &m->deleter_source, pid, WEXITED, on_deleter_exited, m);
        if (r < 0) {
                /* Unwatched: let it finish alone, and reap it. */
                (void) waitpid(pid, NULL, 0);
                m->deleter_pid = 0;
                return r;
        }
        return 0;
}

static int on_deletions(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        int r;

        m->deletion_source = sd_event_source_unref(m->deletion_source);
        r = manager_start_deletions(m);
        if (r < 0)
                log_warning_errno(r, "Failed to start deleting removed trees, leaving them for the next start: %m");
        manager_check_idle(m);
        return 0;
}

int manager_remove_tree(Manager *m, int dir_fd, const char *name) {
        _cleanup_free_ char *gone = NULL;
        int r;

        r = hidden_name(PODCTL_RM_PREFIX, name, &gone);
        if (r < 0)
                return r;
        if (renameat(dir_fd, name, dir_fd, gone) < 0)
                return -errno;
        (void) fsync(dir_fd);
        return manager_delete_later(m, dir_fd, gone);
}

int manager_delete_later(Manager *m, int dir_fd, const char *name) {
        Deletion *d;
        int r;

        d = calloc(1, sizeof *d);
        if (!d || !(d->name = strdup(name))) {
                free(d);
                return -ENOMEM;
        }
        d->dir_fd = dir_fd;

        if (!m->deletion_source) {
                r = sd_event_add_defer(m->event, &m->deletion_source, on_deletions, m);
                if (r < 0) {
                        free(d->name);
                        free(d);
                        return r;
                }
                /* After the replies of this iteration have been sent. */
                (void) sd_event_source_set_priority(m->deletion_source, SD_EVENT_PRIORITY_IDLE);
        }

        d->next = m->deletions;
        m->deletions = d;
        return 0;
}

int manager_new(Manager **ret) {
        Manager *m;
        const char *e;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;

        m->images_fd = m->pods_fd = m->image_meta_fd = -EBADF;
        m->exit_idle_usec = DEFAULT_EXIT_IDLE_USEC;
        podctl_conf_init(&m->conf);

        /* Tests shorten the idle time with a drop-in; 0 means never exit. */
        e = getenv("PODMACHINED_EXIT_IDLE_SEC");
        if (e) {
                char *end;
                unsigned long long s = strtoull(e, &end, 10);
                if (*e && !*end && s < UINT64_MAX / 1000000ULL)
                        m->exit_idle_usec = s * 1000000ULL;
                else
                        log_warning("Ignoring invalid PODMACHINED_EXIT_IDLE_SEC=%s.", e);
        }

        r = sd_event_default(&m->event);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);

        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        while (m->pods)
                pod_free(m->pods);
        while (m->images)
                image_free(m->images);
        /* The children die with us (PR_SET_PDEATHSIG): their readers see the end of the stream. */
        while (m->log_streams)
                log_stream_free(m->log_streams);

        /* Left for the start-up sweep of the next instance; a running deleter dies with
         * us (PR_SET_PDEATHSIG). */
        deletions_free(m->deletions);
        sd_event_source_unref(m->deletion_source);
        sd_event_source_disable_unref(m->deleter_source);
        /* Only on SIGTERM (idle exit waits for them): their callers get the bus's error when we disconnect. */
        polkit_registry_done(&m->polkit);
        sd_event_source_unref(m->idle_timer);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        safe_close(m->images_fd);
        safe_close(m->pods_fd);
        safe_close(m->image_meta_fd);
        free(m);
        return NULL;
}

Pod *manager_find_pod(Manager *m, const char *name) {
        for (Pod *p = m->pods; p; p = p->next)
                if (strcmp(p->config.name, name) == 0)
                        return p;
        return NULL;
}

Image *manager_find_image(Manager *m, const char *name) {
        for (Image *i = m->images; i; i = i->next)
                if (strcmp(i->name, name) == 0)
                        return i;
        return NULL;
}

unsigned manager_image_users(Manager *m, const char *image) {
        unsigned n = 0;

        for (Pod *p = m->pods; p; p = p->next)
                if (pod_config_uses_image(&p->config, image))
                        n++;
        return n;
}

static int open_state_dir(const char *path, mode_t mode) {
        int fd;

        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create %s: %m", path);

        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        return fd;
}

static bool is_leftover(const char *name) {
        return strncmp(name, PODCTL_TMP_PREFIX, strlen(PODCTL_TMP_PREFIX)) == 0 ||
               strncmp(name, PODCTL_RM_PREFIX, strlen(PODCTL_RM_PREFIX)) == 0;
}

/* Calls f for each visible entry of dir_fd after deleting what an interrupted
 * operation left behind. */
static int for_each_entry(Manager *m, int dir_fd, const char *what, int (*f)(Manager *m, const char *name)) {
        DIR *d;
        int r;

        r = opendir_fd(dir_fd, &d);
        if (r < 0)
                return r;

        for (struct dirent *de; (de = readdir(d));) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;

                if (is_leftover(de->d_name)) {
                        /* Its name is unique (random): nothing new collides with it. */
                        r = manager_delete_later(m, dir_fd, de->d_name);
                        if (r < 0)
                                log_warning_errno(r, "Failed to remove leftover %s '%s': %m", what, de->d_name);
                        else
                                log_info("Removing leftover %s '%s' of an interrupted operation.", what, de->d_name);
                        continue;
                }

                (void) f(m, de->d_name);
        }

        closedir(d);
        return 0;
}

static int load_image_meta(Manager *m, const char *file) {
        _cleanup_free_ char *name = NULL;
        size_t n = strlen(file);
        Image *i;
        int r;

        if (n <= 5 || strcmp(file + n - 5, ".json") != 0)
                return 0;
        name = strndup(file, n - 5);
        if (!name)
                return -ENOMEM;
        if (!name_is_valid(name) || manager_find_image(m, name))
                return 0;

        r = image_load(m, name, &i);
        if (r < 0) {
                /* Metadata without its tree: the tree's removal was interrupted. */
                log_warning_errno(r, "Dropping image '%s' with a missing or corrupt record: %m", name);
                (void) unlinkat(m->image_meta_fd, file, 0);
        }
        return 0;
}

static int sweep_image_tree(Manager *m, const char *name) {
        if (manager_find_image(m, name))
                return 0;

        /* A tree without metadata is an import that did not finish: out of the way of a
         * new import of that name first. */
        log_info("Removing unfinished image tree '%s'.", name);
        return manager_remove_tree(m, m->images_fd, name);
}

static int load_pod(Manager *m, const char *name) {
        Pod *p;
        int r;

        if (!name_is_valid(name) || manager_find_pod(m, name))
                return 0;

        r = pod_load(m, name, &p);
        if (r < 0)
                return log_warning_errno(r, "Ignoring pod '%s' with a missing or corrupt configuration: %m", name);
        return 0;
}

static int on_job_removed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(message, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (strncmp(unit, POD_UNIT_PREFIX, strlen(POD_UNIT_PREFIX)) == 0)
                pod_job_removed(userdata, path, result);
        return 0;
}

static bool manager_is_busy(Manager *m) {
        /* A reader following a pod's journal keeps us, as an import does. */
        if (m->deletions || m->deleter_pid > 0 || polkit_registry_busy(&m->polkit) || m->log_streams)
                return true;
        for (Pod *p = m->pods; p; p = p->next)
                if (pod_is_busy(p))
                        return true;
        for (Image *i = m->images; i; i = i->next)
                if (i->importing)
                        return true;
        return false;
}

static int on_name_released(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        log_debug("Exiting after being idle.");
        return sd_event_exit(m->event, 0);
}

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        if (manager_is_busy(m)) {
                manager_check_idle(m);
                return 0;
        }

        /* Release the name first: calls sent after that start a new instance, calls
         * queued before it are still answered here. */
        (void) sd_notify(false, "STOPPING=1");
        r = sd_bus_call_method_async(m->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "ReleaseName", on_name_released, m, "s", PODCTL_BUS_NAME);
        if (r < 0)
                return sd_event_exit(m->event, 0);
        return 0;
}

/* Whether systemd holds unit in memory (loaded, or remembered as not found): only then
 * does a changed file of it need a reload. A unit it does not hold, it reads afresh,
 * drop-ins included, when it is next referenced. Errors count as loaded. With ret_slice,
 * also the slice it has (NULL if that cannot be read). */
static bool unit_is_loaded(Manager *m, const char *unit, char **ret_slice) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        if (ret_slice)
                *ret_slice = NULL;
        r = sd_bus_call_method(m->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnit", &error, &reply, "s", unit);
        if (r < 0)
                return !sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit");
        if (ret_slice && sd_bus_message_read(reply, "o", &path) >= 0)
                (void) sd_bus_get_property_string(m->bus, SYSTEMD_DEST, path, "org.freedesktop.systemd1.Service", "Slice",
                                                  NULL, ret_slice);
        return true;
}

int manager_write_pod_dropins(Manager *m, const PodConfig *c, bool new_pod) {
        _cleanup_free_ char *unit = pod_unit_name(c->name), *slice = NULL;
        int r, changed = 0, binds;

        if (!unit)
                return -ENOMEM;
        r = pod_slice_name(c->owner_uid, &slice);
        if (r < 0)
                return r;

        if (c->owner_uid == 0) {
                r = pod_slice_dropin_remove(POD_UNIT_DIR, unit);
                if (r < 0)
                        return log_error_errno(r, "Failed to remove the slice drop-in of %s: %m", unit);
        } else {
                changed = user_slice_write(POD_UNIT_DIR, c->owner_uid, &m->conf.users);
                if (changed < 0)
                        return changed;
                r = pod_slice_dropin_write(POD_UNIT_DIR, unit, c->owner_uid);
                if (r < 0)
                        return r;
        }
        binds = pod_binds_dropin_write(POD_UNIT_DIR, unit, c);
        if (binds < 0)
                return binds;

        /* An existing pod whose files are as they were is as systemd last read it: nothing to
         * ask (podmachined's start-up). A new one may meet a unit of its name that systemd
         * still holds with a removed pod's slice. A reload costs systemd a second or more of
         * reading every unit file and stalls its jobs meanwhile: only when it would
         * otherwise go on with what it read before. */
        if (!new_pod && changed == 0 && r == 0 && binds == 0)
                return 0;
        if (changed > 0 && (unit_is_loaded(m, slice, NULL) || unit_is_loaded(m, POD_USERS_SLICE, NULL)))
                return 1;

        _cleanup_free_ char *current = NULL;
        if (!unit_is_loaded(m, unit, &current))
                return 0;
        return binds > 0 || !streq_ptr(current, slice);
}

int manager_reload_systemd(Manager *m, sd_bus_message_handler_t callback, void *userdata) {
        return sd_bus_call_method_async(m->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Reload",
                                        callback, userdata, NULL);
}

void manager_check_idle(Manager *m) {
        if (!m->idle_timer || m->exit_idle_usec == 0)
                return;
        (void) sd_event_source_set_time_relative(m->idle_timer, m->exit_idle_usec);
        (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT);
}

static int on_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        if (sd_bus_message_is_method_call(message, NULL, NULL))
                manager_check_idle(userdata);
        return 0;
}

static int manager_connect_bus(Manager *m) {
        int r;

        r = sd_bus_default_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        r = sd_bus_attach_event(m->bus, m->event, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        r = sd_bus_add_object_vtable(m->bus, NULL, PODCTL_BUS_PATH, PODCTL_MANAGER_INTERFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the manager object: %m");

        r = sd_bus_add_fallback_vtable(m->bus, NULL, PODCTL_BUS_POD_PREFIX, PODCTL_POD_INTERFACE, pod_vtable, pod_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add pod objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, PODCTL_BUS_POD_PREFIX, pod_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add pod enumerator: %m");

        r = sd_bus_add_fallback_vtable(m->bus, NULL, PODCTL_BUS_IMAGE_PREFIX, PODCTL_IMAGE_INTERFACE, image_vtable, image_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add image objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, PODCTL_BUS_IMAGE_PREFIX, image_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add image enumerator: %m");

        r = sd_bus_add_object_manager(m->bus, NULL, PODCTL_BUS_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add object manager: %m");

        r = sd_bus_add_filter(m->bus, NULL, on_message, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add message filter: %m");

        r = sd_bus_match_signal_async(m->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, NULL, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch systemd jobs: %m");

        /* systemd sends unit and job signals only while someone is subscribed. */
        r = sd_bus_call_method_async(m->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to subscribe to systemd: %m");

        return 0;
}

/* After an upgrade, or with a changed podctl.conf, write the slices again.
 * An invalid podctl.conf leaves the limits of the users' slices as they were. */
static void manager_sync_slices(Manager *m) {
        bool conf_ok, reload = false;

        conf_ok = podctl_conf_load(PODCTL_CONF_FILE, &m->conf) >= 0;
        if (!conf_ok)
                log_warning("Keeping the limits of the users' slices as they are.");

        for (Pod *p = m->pods; p; p = p->next) {
                int r;

                if (conf_ok || p->config.owner_uid == 0)
                        r = manager_write_pod_dropins(m, &p->config, /* new_pod= */ false);
                else {
                        r = pod_slice_dropin_write(POD_UNIT_DIR, p->unit, p->config.owner_uid);
                        if (r >= 0)
                                r = pod_binds_dropin_write(POD_UNIT_DIR, p->unit, &p->config) || r;
                }
                reload = reload || r > 0;
        }
        if (reload)
                (void) manager_reload_systemd(m, NULL, NULL);
}

int manager_startup(Manager *m) {
        _cleanup_close_ int state_fd = -EBADF;
        int r;

        state_fd = open_state_dir(PODCTL_STATE_DIR, 0755);
        if (state_fd < 0)
                return state_fd;
        m->images_fd = open_state_dir(PODCTL_IMAGES_DIR, 0700);
        if (m->images_fd < 0)
                return m->images_fd;
        m->pods_fd = open_state_dir(PODCTL_PODS_DIR, 0700);
        if (m->pods_fd < 0)
                return m->pods_fd;
        m->image_meta_fd = open_state_dir(PODCTL_IMAGE_META_DIR, 0700);
        if (m->image_meta_fd < 0)
                return m->image_meta_fd;

        m->storage = store_detect(m->images_fd);
        if ((int) m->storage < 0)
                return log_error_errno(m->storage, "Failed to detect the file system of %s: %m", PODCTL_IMAGES_DIR);
        log_debug("Storing images with %s.", storage_type_to_string(m->storage));

        r = manager_connect_bus(m);
        if (r < 0)
                return r;

        /* Metadata first: image trees without it are unfinished imports. */
        (void) for_each_entry(m, m->image_meta_fd, "image record", load_image_meta);
        (void) for_each_entry(m, m->images_fd, "image", sweep_image_tree);
        (void) for_each_entry(m, m->pods_fd, "pod", load_pod);

        for (Pod *p = m->pods; p; p = p->next)
                (void) pod_watch_unit(p, /* query= */ true);

        manager_sync_slices(m);

        /* "run --rm" pods whose client went away before removing them. */
        for (Pod *p = m->pods, *next; p; p = next) {
                next = p->next;
                if (p->config.auto_remove && !pod_is_active(p) && p->state == POD_EXITED)
                        (void) pod_remove(p);
        }

        r = sd_event_add_time_relative(m->event, &m->idle_timer, CLOCK_MONOTONIC, m->exit_idle_usec, 0, on_idle_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the idle timer: %m");
        if (m->exit_idle_usec == 0)
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_OFF);

        r = sd_bus_request_name(m->bus, PODCTL_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire bus name %s: %m", PODCTL_BUS_NAME);

        return 0;
}

int manager_run(Manager *m) {
        return sd_event_loop(m->event);
}
