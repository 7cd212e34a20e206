/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "exec-helper.h"
#include "log.h"

int main(int argc, char *argv[]) {
        int sock, null;

        /* The pod's name, for ps and systemctl status only. */
        if (argc > 2) {
                log_error("Usage: %s [POD]", program_invocation_short_name);
                return EXIT_FAILURE;
        }

        /* podmachined's socket is our stdin; the command's stdio come through it. */
        sock = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (sock < 0)
                return log_error_errno(errno, "Failed to take the socket on stdin: %m"), EXIT_FAILURE;
        null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0)
                return log_error_errno(errno, "Failed to open /dev/null: %m"), EXIT_FAILURE;
        if (null != STDIN_FILENO)
                close(null);

        return exec_helper_run(sock);
}
