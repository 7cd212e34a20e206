/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "bus-errors.h"
#include "bus-util.h"
#include "strv.h"

int bus_query_caller_uid(sd_bus_message *call, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uint64_t augmented;
        int r;

        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        /* Read from /proc after the fact, racy: never good enough to authorize. */
        augmented = sd_bus_creds_get_augmented_mask(creds);
        if (augmented & SD_BUS_CREDS_EUID)
                return -EPERM;
        return sd_bus_creds_get_euid(creds, ret);
}

int bus_read_strv_bounded(sd_bus_message *m, size_t max, size_t max_len, char ***ret, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;
        int r;

        r = sd_bus_message_read_strv(m, &l);
        if (r < 0)
                return r;

        n = strv_length(l);
        if (n > max)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Too many entries (%zu, at most %zu).", n, max);
        for (size_t i = 0; i < n; i++)
                if (strlen(l[i]) >= max_len)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Entry too long (at most %zu bytes).", max_len - 1);

        *ret = TAKE_PTR(l);
        return 0;
}

int bus_read_options(sd_bus_message *m, const char *what, BusOptionHandler handler, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                r = handler(m, key, userdata, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Unknown option '%.80s'%s%s.", key,
                                                 what ? " of " : "", what ?: "");
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}
