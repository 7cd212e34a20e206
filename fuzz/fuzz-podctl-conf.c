/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/podctl/podctl.conf through its parser: whatever it accepts holds to the bounds the
 * daemon relies on. */
#include <stdint.h>
#include <stdlib.h>

#include <syslog.h>

#include "log.h"
#include "src/machined/podctl-conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PodctlConf c;

        if (size > PODCTL_CONF_SIZE_MAX)
                return 0;
        /* The parser warns and logs every line it refuses: keep the fuzzer's output quiet. */
        log_set_max_level(LOG_CRIT);

        podctl_conf_init(&c);
        if (podctl_conf_parse((const char *) data, size, "fuzz", &c) < 0)
                return 0;
        if (c.users.cpu_weight != LIMIT_UNSET && (c.users.cpu_weight < 1 || c.users.cpu_weight > 10000))
                abort();
        return 0;
}
