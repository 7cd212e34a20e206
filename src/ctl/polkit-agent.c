/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "polkit-agent.h"

static pid_t agent_pid = 0;

static _noreturn_ void agent_exec(int notify_fd, pid_t parent) {
        char fd_arg[16];

        /* The agent is for as long as podctl runs. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);

        /* It prompts on the terminal stdin is, even where output is redirected. */
        if (!isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO)) {
                int tty = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);

                if (tty >= 0) {
                        if (!isatty(STDOUT_FILENO))
                                (void) dup2(tty, STDOUT_FILENO);
                        if (!isatty(STDERR_FILENO))
                                (void) dup2(tty, STDERR_FILENO);
                        close(tty);
                }
        }

        /* The notify fd was made above 2 and is the only one the agent inherits. */
        if ((notify_fd > 3 && close_range(3, (unsigned) notify_fd - 1, 0) < 0) ||
            close_range((unsigned) notify_fd + 1, ~0U, 0) < 0 ||
            fcntl(notify_fd, F_SETFD, 0) < 0)
                _exit(EXIT_FAILURE);

        snprintf(fd_arg, sizeof fd_arg, "%d", notify_fd);
        execl(POLKIT_AGENT_PATH, POLKIT_AGENT_PATH, "--notify-fd", fd_arg, "--fallback", (char *) NULL);
        /* Nothing to tell the parent: the pipe closes, and calls go on without an agent. */
        _exit(EXIT_FAILURE);
}

void polkit_agent_open(void) {
        struct pollfd p;
        int pipe_fd[2];
        pid_t parent = getpid(), pid;

        if (agent_pid > 0 || geteuid() == 0 || !isatty(STDIN_FILENO) || access(POLKIT_AGENT_PATH, X_OK) < 0)
                return;

        if (pipe2(pipe_fd, O_CLOEXEC) < 0) {
                log_debug_errno(errno, "Failed to make a pipe for the polkit agent: %m");
                return;
        }
        if (pipe_fd[1] <= STDERR_FILENO) {
                /* Only with stdio closed: do without an agent. */
                close(pipe_fd[0]);
                close(pipe_fd[1]);
                return;
        }

        pid = fork();
        if (pid < 0) {
                log_debug_errno(errno, "Failed to start the polkit agent: %m");
                close(pipe_fd[0]);
                close(pipe_fd[1]);
                return;
        }
        if (pid == 0)
                agent_exec(pipe_fd[1], parent);

        agent_pid = pid;
        close(pipe_fd[1]);

        /* The agent closes its end once it is registered (or when it exits). */
        p = (struct pollfd) { .fd = pipe_fd[0], .events = POLLIN };
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
                ;
        close(pipe_fd[0]);
}

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;

        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT);
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}
