/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-polkit.h"
#include "image.h"
#include "macro.h"
#include "pod.h"
#include "podctl-conf.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#include "pod-logs.h"

/* Bounds on what callers can make the daemon hold. */
#define PODS_MAX 4096
#define IMAGES_MAX 4096
#define IMPORTS_MAX 16

#define DEFAULT_EXIT_IDLE_USEC (30ULL * 1000000ULL)

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;

        Pod *pods;     /* linked list, bounded by PODS_MAX */
        size_t n_pods;
        Image *images; /* linked list, bounded by IMAGES_MAX; includes running imports */
        size_t n_images;

        StorageType storage;

        /* podctl.conf, read at start-up and again whenever a user creates a pod. */
        PodctlConf conf;

        /* Directory fds of the state tree, opened once at start-up. */
        int images_fd;
        int pods_fd;
        int image_meta_fd;

        /* Trees already renamed out of sight, deleted after the reply went out. */
        struct Deletion *deletions;
        sd_event_source *deletion_source;
        pid_t deleter_pid;                /* the child deleting a batch of removed trees */
        sd_event_source *deleter_source;

        /* Children writing pods' journals to readers, bounded by LOG_STREAMS_MAX. */
        LogStream *log_streams;
        size_t n_log_streams;

        /* Authorization checks waiting for polkit. */
        PolkitRegistry polkit;

        sd_event_source *idle_timer;
        uint64_t exit_idle_usec;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

int manager_startup(Manager *m);
int manager_run(Manager *m);

Pod *manager_find_pod(Manager *m, const char *name);
Image *manager_find_image(Manager *m, const char *name);
unsigned manager_image_users(Manager *m, const char *image);

/* Deletes dir_fd/name (a hidden .rm-* entry) in a child process, once the current call is
 * answered. */
int manager_delete_later(Manager *m, int dir_fd, const char *name);
/* Renames dir_fd/name to a hidden .rm-* name, which is the removal, and deletes it later. */
int manager_remove_tree(Manager *m, int dir_fd, const char *name);

/* Writes the drop-ins of c's unit: its owner's slice (root's pods need none, and lose one
 * left behind), and RequiresMountsFor= of its binds' sources. Returns 1 if systemd must
 * reload: it holds one of the units with files changed since (new_pod: c is being created;
 * otherwise systemd is only asked if a file changed). */
int manager_write_pod_dropins(Manager *m, const PodConfig *c, bool new_pod);
/* Asks systemd to reload its units; callback, if not NULL, gets the reply. */
int manager_reload_systemd(Manager *m, sd_bus_message_handler_t callback, void *userdata);

/* Called on every change of pending work: the idle timer only exits an idle daemon. */
void manager_check_idle(Manager *m);
