/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/* At most this many authorization checks wait for polkit at once. */
#define POLKIT_QUERIES_MAX 1024

typedef struct PolkitQuery PolkitQuery;

/* The checks that wait for polkit's answer, and the answers that wait for their call to
 * be dispatched again; one per daemon, living longer than any method handler. */
typedef struct PolkitRegistry {
        PolkitQuery *queries;
        size_t n_queries;
} PolkitRegistry;

void polkit_registry_done(PolkitRegistry *registry);

static inline bool polkit_registry_busy(const PolkitRegistry *registry) {
        return registry->n_queries > 0;
}

/* Whether the caller of call may do action, asking polkit with the caller's bus name as
 * the subject; details are key, value, ..., NULL, with a "verb" such as "stop-pod" whose
 * last word is the key of its object's detail ("pod"), for rules and the error message. Root, and the
 * caller whose UID is good_user, are allowed without asking.
 *
 * Returns 1 if allowed (*ret_uid: the caller's UID), 0 if polkit was asked: the handler
 * must return 1 at once without answering and without having changed anything, as it
 * runs again for the same message when the answer is in. Returns < 0 with error set if
 * refused: org.freedesktop.DBus.Error.InteractiveAuthorizationRequired if an admin's
 * authentication would allow it but the call did not allow interactive authorization;
 * io.podctl.pod1.NotPermitted if denied, if no agent could ask, or if polkit is not there.
 *
 * So a handler reads and validates its arguments, calls this, and only then changes
 * anything; it must ask for the same action and details the second time. */
int bus_verify_polkit_async_full(sd_bus_message *call, const char *action, const char **details, uid_t good_user,
                                 PolkitRegistry *registry, uid_t *ret_uid, sd_bus_error *error);

static inline int bus_verify_polkit_async(sd_bus_message *call, const char *action, const char **details,
                                          PolkitRegistry *registry, uid_t *ret_uid, sd_bus_error *error) {
        return bus_verify_polkit_async_full(call, action, details, (uid_t) -1, registry, ret_uid, error);
}
