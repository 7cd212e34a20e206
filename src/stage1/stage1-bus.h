/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "pod-config.h"

typedef struct UnitLimit {
        const char *property; /* of org.freedesktop.systemd1.Service, all of type "t" */
        uint64_t value;
} UnitLimit;

#define POD_UNIT_LIMITS 4

/* Every limit stage1 manages, with the configured value or, for an unset one, the value
 * that resets it: runtime drop-ins of an earlier pod of the same name would remain. */
void pod_unit_limits(const PodConfig *c, UnitLimit ret[static POD_UNIT_LIMITS]);

/* The D-Bus error's message if there is one, else the errno's. */
const char *bus_error_message(const sd_bus_error *e, int error);

/* Sets the pod's limits on its unit, as runtime properties. */
int bus_set_unit_limits(sd_bus *bus, const char *unit, const PodConfig *c, sd_bus_error *error);

/* Registers the pod with systemd-machined as a container whose leader is the pod's init;
 * machined takes the unit from the leader. */
int bus_register_machine(sd_bus *bus, const char *name, pid_t leader, const char *root_directory, sd_bus_error *error);

/* Asks podmachined for the stdin, stdout and stderr of a client attached to the pod. The
 * returned fds are O_CLOEXEC. */
int bus_take_pod_stdio(sd_bus *bus, const char *name, int ret_fds[static 3], sd_bus_error *error);
