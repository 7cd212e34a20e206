/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t mask;
        int r;

        if (argc > 1) {
                if (strcmp(argv[1], "--version") == 0) {
                        printf("podmachined %s\n", PODCTL_VERSION);
                        return 0;
                }
                fprintf(stderr, "This program takes no arguments; it is started by D-Bus activation.\n");
                return 1;
        }

        umask(0022);

        /* Walking and removing deep image trees keeps an fd per level: use what the hard
         * limit allows (systemd leaves services a soft limit of 1024). */
        {
                struct rlimit rl;

                if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                        rl.rlim_cur = rl.rlim_max;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }

        /* sd-event handles these, and import children, through signalfd. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = manager_new(&m);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate manager: %m"), 1;

        r = manager_startup(m);
        if (r < 0)
                return 1;

        (void) sd_notify(false, "READY=1\nSTATUS=Processing requests...");

        r = manager_run(m);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), 1;

        return 0;
}
