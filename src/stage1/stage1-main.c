/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "stage1.h"

int main(int argc, char *argv[]) {
        if (argc != 2) {
                log_error("Usage: %s NAME", program_invocation_short_name);
                return EXIT_FAILURE;
        }

        return stage1_run(argv[1]);
}
