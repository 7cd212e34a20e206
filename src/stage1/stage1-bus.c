/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>

#include <systemd/sd-id128.h>

#include "macro.h"
#include "paths.h"
#include "stage1-bus.h"

void pod_unit_limits(const PodConfig *c, UnitLimit ret[static POD_UNIT_LIMITS]) {
        /* UINT64_MAX is systemd's "infinity" for MemoryMax= and TasksMax=, and resets
         * CPUQuota= and IOWeight= to unset.
         *
         * Sorted by the names of the drop-ins systemd writes (50-CPUQuota.conf, ...): systemd
         * 252 appends new drop-ins to its list in the order set and compares that with the
         * sorted list on disk, so another order makes it claim the unit needs a daemon-reload. */
        ret[0] = (UnitLimit) { "CPUQuotaPerSecUSec", c->cpu_quota_per_sec_usec };
        ret[1] = (UnitLimit) { "IOWeight", c->io_weight };
        ret[2] = (UnitLimit) { "MemoryMax", c->memory_max };
        ret[3] = (UnitLimit) {
                "TasksMax",
                c->tasks_max == LIMIT_UNSET ? POD_DEFAULT_TASKS_MAX : c->tasks_max,
        };
}

const char *bus_error_message(const sd_bus_error *e, int error) {
        if (e && e->message)
                return e->message;
        return strerror(error < 0 ? -error : error);
}

int bus_set_unit_limits(sd_bus *bus, const char *unit, const PodConfig *c, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        UnitLimit limits[POD_UNIT_LIMITS];
        int r;

        r = sd_bus_message_new_method_call(bus, &m,
                                           "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager",
                                           "SetUnitProperties");
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "sb", unit, 1);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;

        pod_unit_limits(c, limits);
        for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                r = sd_bus_message_append(m, "(sv)", limits[i].property, "t", limits[i].value);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;

        return sd_bus_call(bus, m, 0, error, NULL);
}

int bus_register_machine(sd_bus *bus, const char *name, pid_t leader, const char *root_directory, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_id128_t id;
        int r;

        /* A fresh ID per run, as nspawn does without --uuid. */
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_call(bus, &m,
                                           "org.freedesktop.machine1",
                                           "/org/freedesktop/machine1",
                                           "org.freedesktop.machine1.Manager",
                                           "RegisterMachine");
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', id.bytes, sizeof id.bytes);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ssus", "podctl", "container", (uint32_t) leader, root_directory);
        if (r < 0)
                return r;

        return sd_bus_call(bus, m, 0, error, NULL);
}

int bus_take_pod_stdio(sd_bus *bus, const char *name, int ret_fds[static 3], sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int fds[3], copies[3] = { -EBADF, -EBADF, -EBADF };
        int r;

        r = sd_bus_call_method(bus, PODCTL_BUS_NAME, PODCTL_BUS_PATH, PODCTL_MANAGER_INTERFACE,
                               "TakePodStdio", error, &reply, "s", name);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "hhh", &fds[0], &fds[1], &fds[2]);
        if (r < 0)
                return r;

        /* The message owns its fds. */
        for (size_t i = 0; i < 3; i++) {
                copies[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                if (copies[i] < 0) {
                        r = -errno;
                        for (size_t j = 0; j < i; j++)
                                safe_close(copies[j]);
                        return r;
                }
        }

        memcpy(ret_fds, copies, sizeof copies);
        return 0;
}
