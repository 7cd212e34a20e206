/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The caller's effective UID, as the bus (not /proc) says. */
int bus_query_caller_uid(sd_bus_message *call, uid_t *ret);

/* Reads a D-Bus "as" of at most max entries, each shorter than max_len bytes. */
int bus_read_strv_bounded(sd_bus_message *m, size_t max, size_t max_len, char ***ret, sd_bus_error *error);

/* Reads an a{sv} of options: for each, handler reads the variant of key and returns 1, or
 * 0 if key is not one it knows (an InvalidArgument error naming it, and what, follows), or
 * a negative errno. */
typedef int (*BusOptionHandler)(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error);
int bus_read_options(sd_bus_message *m, const char *what, BusOptionHandler handler, void *userdata, sd_bus_error *error);
