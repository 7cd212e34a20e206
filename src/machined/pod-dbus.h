/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "pod.h"

extern const sd_bus_vtable pod_vtable[];

int pod_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error);
int pod_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

/* The method implementations, shared by the Pod object and the Manager's by-name
 * variants (which read the name and then hand over the rest of the message). */
int bus_pod_method_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_remove(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_exec(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_signal_exec(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_wait(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_get_logs(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* Answers a WaitPod call: (code, status, message) of the last run. */
int bus_pod_reply_exit(Pod *p, sd_bus_message *call);

/* Emits the image's changed Pods count. */
void bus_image_emit_pods_changed(Manager *m, const char *image);
