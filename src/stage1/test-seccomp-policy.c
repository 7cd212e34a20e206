/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "seccomp-load.h"
#include "seccomp-policy.h"
#include "tests.h"

static bool listed(const char *const *list, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], name) == 0)
                        return true;
        return false;
}

TEST(lists) {
        static const char *const must_deny[] = {
                "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "open_by_handle_at",
                "keyctl", "add_key", "request_key", "swapon", "swapoff", "init_module",
                "finit_module", "delete_module", "reboot", "quotactl", "quotactl_fd", "acct",
                "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "mount",
                "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount",
                "fspick", "mount_setattr", "setns", "iopl", "ioperm", "lookup_dcookie",
        };
        static const char *const must_allow[] = {
                "execve", "rseq", "statx", "faccessat2", "openat2", "close_range",
                "epoll_pwait2", "signalfd4", "wait4", "sendmsg", "recvmsg", "poll",
        };

        for (size_t i = 0; i < ELEMENTSOF(must_deny); i++) {
                ASSERT_TRUE(listed(seccomp_policy_denied, seccomp_policy_n_denied, must_deny[i]));
                ASSERT_FALSE(listed(seccomp_policy_allowed, seccomp_policy_n_allowed, must_deny[i]));
        }
        for (size_t i = 0; i < ELEMENTSOF(must_allow); i++)
                ASSERT_TRUE(listed(seccomp_policy_allowed, seccomp_policy_n_allowed, must_allow[i]));
        /* Its flags are out of the filter's sight. */
        ASSERT_FALSE(listed(seccomp_policy_allowed, seccomp_policy_n_allowed, "clone3"));
        /* Both lists are of names libseccomp knows, or typos would silently allow nothing. */
        for (size_t i = 0; i < seccomp_policy_n_allowed; i++)
                if (seccomp_syscall_resolve_name(seccomp_policy_allowed[i]) == __NR_SCMP_ERROR)
                        fprintf(stderr, "note: '%s' unknown to this libseccomp\n", seccomp_policy_allowed[i]);
}

TEST(build) {
        scmp_filter_ctx ctx;

        ASSERT_OK(seccomp_policy_build(&ctx));
#if defined(__x86_64__)
        ASSERT_EQ(seccomp_arch_exist(ctx, SCMP_ARCH_X86), 0);
        ASSERT_EQ(seccomp_arch_exist(ctx, SCMP_ARCH_X32), 0);
#endif
        seccomp_release(ctx);
}

static int thread_token;

static void *thread_main(void *p) {
        return p;
}

#define ASSERT_ERRNO(expr, e)                                                              \
        do {                                                                               \
                errno = 0;                                                                 \
                ASSERT_EQ((long) (expr), -1);                                              \
                ASSERT_EQ(errno, e);                                                       \
        } while (0)

/* Runs in a child: the filter cannot be unloaded. */
static void confined_child(void) {
        pthread_t t;
        void *v;
        int fd, status;
        pid_t pid;

        /* What stage1 loads: the program compiled at build time. */
        ASSERT_OK(seccomp_load_program());

        ASSERT_ERRNO(syscall(SYS_kexec_load, 0, 0, 0, 0), EPERM);
        ASSERT_ERRNO(syscall(SYS_init_module, NULL, 0, ""), EPERM);
        ASSERT_ERRNO(syscall(SYS_bpf, 0, NULL, 0), EPERM);
        ASSERT_ERRNO(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM);
        ASSERT_ERRNO(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
        ASSERT_ERRNO(syscall(SYS_setns, 0, 0), EPERM);
        ASSERT_ERRNO(unshare(CLONE_NEWUSER), EPERM);
        ASSERT_ERRNO(unshare(CLONE_NEWNS | CLONE_FILES), EPERM);
        ASSERT_ERRNO(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
        ASSERT_ERRNO(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT), EPERM);
        /* Not on the list: as if the kernel did not have it. */
        ASSERT_ERRNO(personality(READ_IMPLIES_EXEC), ENOSYS);
        ASSERT_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), ENOSYS);
        ASSERT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);

        /* Ordinary things still work. */
        ASSERT_TRUE(getpid() > 0);
        ASSERT_OK(unshare(CLONE_FILES));
        ASSERT_OK(personality(0xffffffff));
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_EQ(write(fd, "x", 1), 1);
        close(fd);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(fd);
        close(fd);
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        ASSERT_OK(fd);
        close(fd);
        /* glibc creates threads with clone3() and falls back to clone(). */
        ASSERT_EQ(pthread_create(&t, NULL, thread_main, &thread_token), 0);
        ASSERT_EQ(pthread_join(t, &v), 0);
        ASSERT_TRUE(v == &thread_token);

        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", "exit 7", NULL);
                _exit(99);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 7);
}

TEST(load_in_child) {
        int status;
        pid_t pid;

        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                confined_child();
                /* Not exit(): sanitizers' exit handlers are none of the filter's business. */
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* The program compiled at build time is the policy as libseccomp compiles it now. */
TEST(precompiled_matches_policy) {
        scmp_filter_ctx ctx;
        struct sock_filter insn;
        size_t n = 0;
        int fd;

        ASSERT_OK(seccomp_policy_build(&ctx));
        fd = memfd_create("bpf", MFD_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_OK(seccomp_export_bpf(ctx, fd));
        seccomp_release(ctx);
        ASSERT_OK(lseek(fd, 0, SEEK_SET));

        while (read(fd, &insn, sizeof insn) == (ssize_t) sizeof insn) {
                ASSERT_TRUE(n < seccomp_filter_length);
                ASSERT_EQ(insn.code, seccomp_filter_program[n].code);
                ASSERT_EQ(insn.jt, seccomp_filter_program[n].jt);
                ASSERT_EQ(insn.jf, seccomp_filter_program[n].jf);
                ASSERT_EQ(insn.k, seccomp_filter_program[n].k);
                n++;
        }
        ASSERT_EQ(n, seccomp_filter_length);
        close(fd);
}

int main(void) {
        RUN(lists);
        RUN(build);
        RUN(precompiled_matches_policy);
        RUN(load_in_child);
        return 0;
}
