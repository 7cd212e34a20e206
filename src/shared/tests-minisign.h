/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* For unit tests that make their fixtures with the real minisign tool. */

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "tests.h"

extern char **environ;

/* Runs minisign ARGS in dir (if not NULL) with stdin and stdout on /dev/null and stderr
 * into stderr_file (or /dev/null: calls meant to fail would only mislead). Returns its
 * exit status, -1 if it could not run. */
static inline int run_minisign(const char *dir, const char *stderr_file, const char *const *args) {
        const char *argv[32] = { "minisign" };
        posix_spawn_file_actions_t fa;
        size_t n = 1;
        pid_t pid;
        int status;

        for (; *args; args++) {
                ASSERT_TRUE(n + 1 < ELEMENTSOF(argv));
                argv[n++] = *args;
        }
        argv[n] = NULL;

        ASSERT_EQ(posix_spawn_file_actions_init(&fa), 0);
        if (dir)
                ASSERT_EQ(posix_spawn_file_actions_addchdir_np(&fa, dir), 0);
        ASSERT_EQ(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), 0);
        ASSERT_EQ(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0), 0);
        ASSERT_EQ(posix_spawn_file_actions_addopen(&fa, 2, stderr_file ?: "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644),
                  0);
        if (posix_spawnp(&pid, "minisign", &fa, NULL, (char **) argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);

        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
