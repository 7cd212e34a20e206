/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/netlink.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "macro.h"
#include "seccomp-policy.h"

const char *const seccomp_policy_allowed[] = {
        /* what every program needs: memory, threads, time, identity */
        "arch_prctl", "brk", "cacheflush", "exit", "exit_group", "futex", "futex_time64",
        "futex_waitv", "get_robust_list", "set_robust_list", "get_thread_area",
        "set_thread_area", "set_tid_address", "set_tls", "membarrier", "mmap", "mmap2",
        "mprotect", "munmap", "mremap", "madvise", "mincore", "msync", "remap_file_pages",
        "pkey_alloc", "pkey_free", "pkey_mprotect", "rseq", "restart_syscall", "getrandom",
        "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
        "clock_nanosleep", "clock_nanosleep_time64", "gettimeofday", "nanosleep", "time",
        "uname", "olduname", "oldolduname", "sysinfo", "getcpu", "pause",
        "getpid", "getppid", "gettid", "getpgid", "getpgrp", "getsid", "setpgid", "setsid",
        "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid",
        "getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups",
        "getgroups32",
        /* changing identity (the capabilities decide) */
        "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
        "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid",
        "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32", "capget",
        "capset",
        /* basic I/O */
        "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64",
        "pwritev", "pwritev2", "lseek", "_llseek", "close", "close_range", "dup", "dup2",
        "dup3", "fcntl", "fcntl64", "ioctl", "flock", "sendfile", "sendfile64", "splice",
        "tee", "vmsplice", "copy_file_range", "readahead", "fadvise64", "fadvise64_64",
        "arm_fadvise64_64", "fallocate", "fsync", "fdatasync", "sync", "syncfs",
        "sync_file_range", "sync_file_range2",
        /* file systems */
        "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chroot", "chmod",
        "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32",
        "fchownat", "lchown", "lchown32", "umask", "creat", "open", "openat", "openat2",
        "name_to_handle_at", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64",
        "fstatat64", "newfstatat", "oldstat", "oldlstat", "oldfstat", "statx", "statfs",
        "statfs64", "fstatfs", "fstatfs64", "getdents", "getdents64", "readdir", "mkdir",
        "mkdirat", "mknod", "mknodat", "rmdir", "link", "linkat", "symlink", "symlinkat",
        "unlink", "unlinkat", "rename", "renameat", "renameat2", "readlink", "readlinkat",
        "truncate", "truncate64", "ftruncate", "ftruncate64", "utime", "utimes",
        "utimensat", "utimensat_time64", "futimesat", "getxattr", "lgetxattr", "fgetxattr",
        "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr", "flistxattr",
        "removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
        "inotify_add_watch", "inotify_rm_watch", "memfd_create",
        /* events, timers, signals */
        "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll",
        "ppoll_time64", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
        "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "alarm", "getitimer",
        "setitimer", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
        "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
        "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo", "sigaction", "sigaltstack", "signal", "signalfd", "signalfd4",
        "sigpending", "sigprocmask", "sigreturn", "sigsuspend", "kill", "tkill", "tgkill",
        "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
        /* processes; clone() and unshare() are checked below */
        "execve", "execveat", "fork", "vfork", "wait4", "waitid", "waitpid", "getrusage",
        "times", "prctl", "kcmp", "ptrace", "process_vm_readv", "process_vm_writev",
        "process_madvise", "getrlimit", "ugetrlimit", "setrlimit", "prlimit64",
        "getpriority", "setpriority", "nice", "ioprio_get", "ioprio_set", "sched_yield",
        "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
        "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
        "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "get_mempolicy", "set_mempolicy", "mbind",
        "mlock", "mlock2", "mlockall", "munlock", "munlockall", "seccomp",
        "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
        /* the pod's own host name, its terminal (the capabilities decide) */
        "sethostname", "setdomainname", "vhangup",
        /* IPC */
        "pipe", "pipe2", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget",
        "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
        "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
        "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
        "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
        "io_pgetevents", "io_pgetevents_time64",
        /* network; socket() is checked below */
        "socketpair", "socketcall", "bind", "connect", "listen", "accept", "accept4",
        "getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown", "send",
        "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
        "recvmmsg_time64",
};
const size_t seccomp_policy_n_allowed = ELEMENTSOF(seccomp_policy_allowed);

const char *const seccomp_policy_denied[] = {
        /* the host's kernel, its modules and its power */
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "iopl", "ioperm",
        "syslog", "lookup_dcookie", "_sysctl", "uselib", "nfsservctl", "vm86", "vm86old",
        "modify_ldt",
        /* kernel attack surface beyond what services use */
        "bpf", "perf_event_open", "userfaultfd", "fanotify_init", "keyctl", "add_key",
        "request_key",
        /* the host's clock */
        "settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
        "clock_adjtime64", "adjtimex",
        /* no mounts until pods have their own user namespace */
        "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen",
        "fsconfig", "fsmount", "fspick", "mount_setattr",
        /* file handles bypass the pod's root; namespaces are the host's way in */
        "open_by_handle_at", "setns",
};
const size_t seccomp_policy_n_denied = ELEMENTSOF(seccomp_policy_denied);

#define NAMESPACE_FLAGS                                                                 \
        ((uint64_t) (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |           \
                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME))

static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name(names[i]), r;

                /* Not a system call of any of the filter's architectures. */
                if (nr == __NR_SCMP_ERROR)
                        continue;
                r = seccomp_rule_add(ctx, action, nr, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Forks and threads, never new namespaces: a user namespace in particular would give
 * the pod every capability over it. clone3() passes its flags in memory, where the
 * filter cannot see them: it is left out, and libcs fall back to clone(). */
static int add_namespace_rules(scmp_filter_ctx ctx) {
        static const char *const syscalls[] = { "clone", "unshare" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(syscalls); i++) {
                int nr = seccomp_syscall_resolve_name(syscalls[i]);

                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                     SCMP_A0_64(SCMP_CMP_MASKED_EQ, NAMESPACE_FLAGS, 0));
                if (r < 0)
                        return r;
                for (unsigned bit = 0; bit < 64; bit++) {
                        uint64_t flag = UINT64_C(1) << bit;

                        if (!(NAMESPACE_FLAGS & flag))
                                continue;
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                             SCMP_A0_64(SCMP_CMP_MASKED_EQ, flag, flag));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The audit subsystem is the host's. i386's socketcall() hides the arguments; there the
 * missing CAP_AUDIT_WRITE and CAP_AUDIT_READ refuse it. */
static int add_socket_rules(scmp_filter_ctx ctx) {
        int r;

        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                             SCMP_A0_32(SCMP_CMP_NE, AF_NETLINK));
        if (r < 0)
                return r;
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                             SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK),
                             SCMP_A2_32(SCMP_CMP_NE, NETLINK_AUDIT));
        if (r < 0)
                return r;
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2,
                                SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK),
                                SCMP_A2_32(SCMP_CMP_EQ, NETLINK_AUDIT));
}

/* Only Linux personalities, and the query; the others change how memory is mapped
 * (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE...) and get ENOSYS, as an unknown persona would:
 * libseccomp cannot compare one argument twice in a rule, so "none of these" cannot
 * be given EPERM. */
static int add_personality_rules(scmp_filter_ctx ctx) {
        static const uint32_t allowed[] = { PER_LINUX, PER_LINUX32, 0xffffffffU };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                                     SCMP_A0_32(SCMP_CMP_EQ, allowed[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}

int seccomp_policy_build(scmp_filter_ctx *ret) {
        scmp_filter_ctx ctx;
        int r;

        ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
        if (!ctx)
                return -ENOMEM;

#if defined(__x86_64__)
        /* A pod could run 32-bit programs; their system calls go through other numbers. */
        r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
        if (r < 0 && r != -EEXIST)
                goto fail;
        r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
        if (r < 0 && r != -EEXIST)
                goto fail;
#endif

        r = add_names(ctx, SCMP_ACT_ALLOW, seccomp_policy_allowed, seccomp_policy_n_allowed);
        if (r < 0)
                goto fail;
        r = add_names(ctx, SCMP_ACT_ERRNO(EPERM), seccomp_policy_denied, seccomp_policy_n_denied);
        if (r < 0)
                goto fail;
        r = add_namespace_rules(ctx);
        if (r < 0)
                goto fail;
        r = add_socket_rules(ctx);
        if (r < 0)
                goto fail;
        r = add_personality_rules(ctx);
        if (r < 0)
                goto fail;

        *ret = ctx;
        return 0;

fail:
        seccomp_release(ctx);
        return r;
}
