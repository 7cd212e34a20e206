/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "macro.h"
#include "process-util.h"

int reset_signals(void) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t ss;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        /* Fails for the signals glibc reserves; they are not ours to reset. */
                        (void) sigaction(sig, &sa, NULL);

        sigemptyset(&ss);
        return RET_NERRNO(sigprocmask(SIG_SETMASK, &ss, NULL));
}

int move_fds_to_stdio(int *fds, size_t n) {
        /* First above 2, so that no dup2() overwrites a descriptor still to be moved. */
        for (size_t i = 0; i < n; i++)
                if (fds[i] < 3) {
                        int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                        if (fd < 0)
                                return -errno;
                        fds[i] = fd;
                }

        /* dup2() clears O_CLOEXEC on the copy; the originals go away at exec. */
        for (size_t i = 0; i < n; i++)
                if (dup2(fds[i], (int) i) < 0)
                        return -errno;
        return 0;
}
