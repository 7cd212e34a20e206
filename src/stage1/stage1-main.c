/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stage1.h"

int main(int argc, char *argv[]) {
        if (argc == 3 && strcmp(argv[1], "--record-exit") == 0)
                return stage1_record_exit(argv[2]);

        if (argc != 2) {
                log_error("Usage: %s NAME | --record-exit NAME", program_invocation_short_name);
                return EXIT_FAILURE;
        }

        return stage1_run(argv[1]);
}
