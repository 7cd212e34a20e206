/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pod-escape: tries the ways out of a pod and prints one line per check,
 *
 *     NAME RESULT
 *
 * where RESULT is the errno name of the failed attempt (EPERM, ENOSYS, ...), "ok" when
 * it succeeded, or a word the check explains (kcore "masked", chroot_escape "escaped").
 * test/integration/10-confinement.sh runs it inside a pod, where every attempt must be
 * refused, and as root outside any pod (the positive control), where it must get past
 * the permission check.
 *
 *     pod-escape [--list] [NAME...]
 *
 * Every attempt is harmless when it succeeds: its arguments make the kernel fail after
 * the permission check (a bad magic, size, flag or path), or it changes only a mount
 * or UTS namespace the check unshared first, or a scratch directory it removes. It
 * never writes to /proc or /sys files, only opens them. Each check runs in a child of
 * its own. Built static so that it runs in a busybox image. Exits 0; the caller judges.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC 0x62656572
#endif
#ifndef NETLINK_AUDIT
#define NETLINK_AUDIT 9
#endif

/* A result: "" means ok; otherwise an errno name or a word. */
typedef char Result[64];

/* A scratch directory the parent makes before a check and removes after it. */
static char scratch[256];

static void set_errno(Result r, int e) {
        const char *n = strerrorname_np(e);
        if (n)
                snprintf(r, sizeof(Result), "%s", n);
        else
                snprintf(r, sizeof(Result), "errno-%d", e);
}

/* Sets r from a syscall's return value: ok or the errno name. */
static void from_ret(Result r, long ret) {
        if (ret < 0)
                set_errno(r, errno);
        else
                r[0] = 0;
}

/* A private mount namespace for the checks that mount: where the attempt succeeds it
 * changes nothing outside this child. Best effort: when it fails (no CAP_SYS_ADMIN),
 * the mount that follows fails too. */
static void private_mounts(void) {
        if (unshare(CLONE_NEWNS) == 0)
                (void) mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* --- mounts ------------------------------------------------------------------------ */

static void check_mount_tmpfs(Result r) {
        private_mounts();
        from_ret(r, mount("pod-escape", scratch, "tmpfs", 0, "size=64k"));
        if (!r[0])
                (void) umount2(scratch, MNT_DETACH);
}

static void check_umount_proc(Result r) {
        private_mounts();
        from_ret(r, umount2("/proc", MNT_DETACH));
}

static void check_pivot_root(Result r) {
        /* Permission first, then the paths: ENOENT as root. */
        from_ret(r, syscall(SYS_pivot_root, "/nonexistent-pod-escape", "/nonexistent-pod-escape2"));
}

/* The classic: chroot into a subdirectory while the working directory stays outside
 * it, walk up, chroot there. Escaped if "/" is no longer the directory it was. */
static void check_chroot_escape(Result r) {
        struct stat before, after;

        if (stat("/", &before) < 0 || chdir("/") < 0) {
                set_errno(r, errno);
                return;
        }
        if (chroot(scratch) < 0) {
                set_errno(r, errno);
                return;
        }
        for (int i = 0; i < 64; i++)
                (void) chdir("..");
        if (chroot(".") < 0) {
                set_errno(r, errno);
                return;
        }
        if (stat("/", &after) < 0) {
                set_errno(r, errno);
                return;
        }
        snprintf(r, sizeof(Result), "%s",
                 before.st_dev == after.st_dev && before.st_ino == after.st_ino ? "contained" : "escaped");
}

/* --- kernel modules, kexec, reboot, swap, accounting --------------------------------- */

static void check_init_module(Result r) {
        /* An empty image: ENOEXEC or EFAULT as root. */
        from_ret(r, syscall(SYS_init_module, NULL, 0UL, ""));
}

static void check_finit_module(Result r) {
        from_ret(r, syscall(SYS_finit_module, -1, "", 0));
}

static void check_delete_module(Result r) {
        from_ret(r, syscall(SYS_delete_module, "pod_escape_no_such_module", O_NONBLOCK));
}

static void check_kexec_load(Result r) {
        /* Flags the kernel does not know: EINVAL after the permission check. */
        from_ret(r, syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x0bad0000UL));
}

static void check_kexec_file_load(Result r) {
        from_ret(r, syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 0x0bad0000UL));
}

static void check_reboot(Result r) {
        /* Wrong magic: EINVAL after the permission check. */
        from_ret(r, syscall(SYS_reboot, 0, 0, 0, NULL));
}

static void check_swapon(Result r) {
        from_ret(r, swapon("/nonexistent-pod-escape", 0));
}

static void check_swapoff(Result r) {
        from_ret(r, swapoff("/nonexistent-pod-escape"));
}

static void check_acct(Result r) {
        from_ret(r, syscall(SYS_acct, "/nonexistent-pod-escape"));
}

static void check_quotactl(Result r) {
        from_ret(r, quotactl(QCMD(Q_QUOTAON, USRQUOTA), "/nonexistent-pod-escape", QFMT_VFS_V0,
                             (caddr_t) "/nonexistent-pod-escape"));
}

/* --- bpf, perf, handles, keys --------------------------------------------------------- */

static void check_bpf(Result r) {
        /* No such command: EINVAL. */
        from_ret(r, syscall(SYS_bpf, 0x7fff, NULL, 0U));
}

static void check_perf_event_open(Result r) {
        struct perf_event_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.size = 1; /* too small: E2BIG */
        from_ret(r, syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL));
}

static void check_open_by_handle_at(Result r) {
        struct {
                unsigned int handle_bytes;
                int handle_type;
                unsigned char f_handle[8];
        } h = { 0, 0, { 0 } }; /* no handle bytes: EINVAL */
        from_ret(r, syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY));
}

static void check_keyctl(Result r) {
        /* No such operation: EOPNOTSUPP. */
        from_ret(r, syscall(SYS_keyctl, 0x7fff, 0UL, 0UL, 0UL, 0UL));
}

static void check_add_key(Result r) {
        /* An empty key type: EINVAL. */
        from_ret(r, syscall(SYS_add_key, "", "pod-escape", NULL, 0UL, 0));
}

static void check_request_key(Result r) {
        from_ret(r, syscall(SYS_request_key, "", "pod-escape", NULL, 0));
}

/* --- time ------------------------------------------------------------------------------ */

static void check_clock_settime(Result r) {
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 2000000000L }; /* EINVAL */
        from_ret(r, syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
}

static void check_settimeofday(Result r) {
        /* The capability is checked before the time zone: EINVAL as root. */
        struct timezone tz = { .tz_minuteswest = 100000, .tz_dsttime = 0 };
        from_ret(r, syscall(SYS_settimeofday, NULL, &tz));
}

static void check_adjtimex(Result r) {
        /* The capability is checked before the tick: EINVAL as root. */
        struct timex tx;

        memset(&tx, 0, sizeof(tx));
        tx.modes = ADJ_TICK;
        tx.tick = 1;
        from_ret(r, syscall(SYS_adjtimex, &tx));
}

/* --- namespaces, ptrace --------------------------------------------------------------- */

static void check_setns_mnt(Result r) {
        int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                set_errno(r, errno);
                return;
        }
        from_ret(r, setns(fd, CLONE_NEWNS));
}

static void check_setns_net(Result r) {
        int fd = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                set_errno(r, errno);
                return;
        }
        from_ret(r, setns(fd, CLONE_NEWNET));
}

/* A user namespace whose root is the outside's root. */
static void check_userns_map_root(Result r) {
        int fd;

        if (unshare(CLONE_NEWUSER) < 0) {
                set_errno(r, errno);
                return;
        }
        fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                set_errno(r, errno);
                return;
        }
        if (write(fd, "0 0 1\n", 6) != 6) {
                set_errno(r, errno);
                return;
        }
        r[0] = 0;
}

static void check_ptrace_pid1(Result r) {
        /* SEIZE does not stop the tracee; it is detached when this child exits. */
        from_ret(r, ptrace(PTRACE_SEIZE, (pid_t) 1, NULL, NULL));
}

static void check_sethostname(Result r) {
        /* Its own UTS namespace if it may: then nothing outside changes. */
        (void) unshare(CLONE_NEWUTS);
        from_ret(r, sethostname("pod-escape", 10));
}

/* --- devices ----------------------------------------------------------------------------- */

static void check_mknod_block(Result r) {
        char p[300];

        snprintf(p, sizeof(p), "%s/sda", scratch);
        from_ret(r, mknod(p, S_IFBLK | 0600, makedev(8, 0)));
        if (!r[0])
                (void) unlink(p);
}

/* The machine's first disk, named as /sys/block names it (vda, sda, nvme0n1). */
static void check_open_disk(Result r) {
        char name[256] = "sda", p[300];
        DIR *d = opendir("/sys/block");
        struct dirent *e;
        int fd;

        if (d) {
                while ((e = readdir(d))) {
                        if (e->d_name[0] == '.' || !strncmp(e->d_name, "loop", 4) ||
                            !strncmp(e->d_name, "ram", 3) || !strncmp(e->d_name, "zram", 4) ||
                            !strncmp(e->d_name, "nbd", 3) || !strncmp(e->d_name, "dm-", 3))
                                continue;
                        snprintf(name, sizeof(name), "%s", e->d_name);
                        break;
                }
                closedir(d);
        }
        snprintf(p, sizeof(p), "/dev/%s", name);
        fprintf(stderr, "open_disk: %s\n", p);
        fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        from_ret(r, fd);
        if (fd >= 0)
                close(fd);
}

/* --- /proc and /sys ----------------------------------------------------------------------- */

/* Opens PATH (never writes): "masked" when what opened is not the real file (a bind of
 * /dev/null or an empty file over it), "ok" when it is. */
static void open_kernel_file(Result r, const char *path, int flags, long magic) {
        struct statfs sf;
        int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

        if (fd < 0) {
                set_errno(r, errno);
                return;
        }
        if (fstatfs(fd, &sf) < 0)
                set_errno(r, errno);
        else
                snprintf(r, sizeof(Result), "%s", (long) sf.f_type == magic ? "" : "masked");
        close(fd);
}

static void check_sysrq_trigger(Result r) {
        open_kernel_file(r, "/proc/sysrq-trigger", O_WRONLY, PROC_SUPER_MAGIC);
}

static void check_proc_sys_hostname(Result r) {
        open_kernel_file(r, "/proc/sys/kernel/hostname", O_WRONLY, PROC_SUPER_MAGIC);
}

static void check_proc_sys_core_pattern(Result r) {
        open_kernel_file(r, "/proc/sys/kernel/core_pattern", O_WRONLY, PROC_SUPER_MAGIC);
}

static void check_sys_kernel(Result r) {
        static const char *const files[] = {
                "/sys/kernel/uevent_helper",
                "/sys/kernel/profiling",
                "/sys/kernel/mm/transparent_hugepage/enabled",
        };
        const char *f = files[0];

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                if (access(files[i], F_OK) == 0) {
                        f = files[i];
                        break;
                }
        fprintf(stderr, "sys_kernel: %s\n", f);
        open_kernel_file(r, f, O_WRONLY, SYSFS_MAGIC);
}

static void check_proc_kcore(Result r) {
        char b[16];
        ssize_t n;
        int fd;

        open_kernel_file(r, "/proc/kcore", O_RDONLY, PROC_SUPER_MAGIC);
        if (r[0])
                return;
        fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                set_errno(r, errno);
                return;
        }
        n = read(fd, b, sizeof(b));
        if (n < 0)
                set_errno(r, errno);
        else if (n == 0)
                snprintf(r, sizeof(Result), "empty");
        close(fd);
}

/* Addresses in kallsyms: "ok" when real ones show, "zeros" when hidden. */
static void check_proc_kallsyms(Result r) {
        FILE *f;
        char line[256];
        bool nonzero = false;
        int n = 0;

        open_kernel_file(r, "/proc/kallsyms", O_RDONLY, PROC_SUPER_MAGIC);
        if (r[0])
                return;
        f = fopen("/proc/kallsyms", "re");
        if (!f) {
                set_errno(r, errno);
                return;
        }
        while (n < 100 && fgets(line, sizeof(line), f)) {
                n++;
                if (strspn(line, "0") < strcspn(line, " "))
                        nonzero = true;
        }
        fclose(f);
        if (n == 0)
                snprintf(r, sizeof(Result), "empty");
        else if (!nonzero)
                snprintf(r, sizeof(Result), "zeros");
}

static void check_proc_keys(Result r) {
        open_kernel_file(r, "/proc/keys", O_RDONLY, PROC_SUPER_MAGIC);
}

static void check_proc_timer_list(Result r) {
        open_kernel_file(r, "/proc/timer_list", O_RDONLY, PROC_SUPER_MAGIC);
}

/* --- sockets -------------------------------------------------------------------------------- */

static void check_socket_packet(Result r) {
        int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        from_ret(r, fd);
}

static void check_socket_netlink_audit(Result r) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        from_ret(r, fd);
}

/* --- what can be seen ------------------------------------------------------------------------ */

static bool pid1_is_systemd(void) {
        char comm[64] = "";
        FILE *f = fopen("/proc/1/comm", "re");

        if (f) {
                if (!fgets(comm, sizeof(comm), f))
                        comm[0] = 0;
                fclose(f);
        }
        return !strcmp(comm, "systemd\n") || !strcmp(comm, "init\n");
}

/* "host" when PID 1 is a system's init, "pod" when it is not. */
static void check_host_pid1(Result r) {
        snprintf(r, sizeof(Result), "%s", pid1_is_systemd() ? "host" : "pod");
}

/* Reading PID 1's environment: "host" when PID 1 is a system's init, "pod" when it is
 * the pod's own. */
static void check_proc1_environ(Result r) {
        char b[64];
        int fd = open("/proc/1/environ", O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                set_errno(r, errno);
                return;
        }
        if (read(fd, b, sizeof(b)) < 0)
                set_errno(r, errno);
        else
                snprintf(r, sizeof(Result), "%s", pid1_is_systemd() ? "host" : "pod");
        close(fd);
}

/* How many processes /proc shows. */
static void check_pid_count(Result r) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        int n = 0;

        if (!d) {
                set_errno(r, errno);
                return;
        }
        while ((e = readdir(d)))
                if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
                        n++;
        closedir(d);
        snprintf(r, sizeof(Result), "%d", n);
}

/* The network interfaces, comma-separated. */
static void check_netifs(Result r) {
        struct if_nameindex *ifs = if_nameindex(), *i;
        size_t len = 0;

        if (!ifs) {
                set_errno(r, errno);
                return;
        }
        r[0] = 0;
        for (i = ifs; i->if_index; i++)
                len += (size_t) snprintf(r + len, sizeof(Result) - len, "%s%s", len ? "," : "",
                                         i->if_name);
        if_freenameindex(ifs);
        if (!r[0])
                snprintf(r, sizeof(Result), "none");
}

/* "root" in a cgroup namespace (the own cgroup of the unified hierarchy, the "0::" line
 * also present on hybrid hosts, is "/"), "path" otherwise. */
static void check_cgroup_ns(Result r) {
        char line[512];
        const char *result = "none";
        FILE *f = fopen("/proc/self/cgroup", "re");

        if (!f) {
                set_errno(r, errno);
                return;
        }
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0) {
                        result = strcmp(line, "0::/\n") == 0 ? "root" : "path";
                        break;
                }
        fclose(f);
        snprintf(r, sizeof(Result), "%s", result);
}

static void check_no_new_privs(Result r) {
        int v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        if (v < 0)
                set_errno(r, errno);
        else
                snprintf(r, sizeof(Result), "%d", v);
}

/* ---------------------------------------------------------------------------------------- */

typedef struct {
        const char *name;
        void (*run)(Result r);
        bool needs_scratch;
} Check;

static const Check checks[] = {
        { "mount_tmpfs", check_mount_tmpfs, true },
        { "umount_proc", check_umount_proc, false },
        { "pivot_root", check_pivot_root, false },
        { "chroot_escape", check_chroot_escape, true },
        { "init_module", check_init_module, false },
        { "finit_module", check_finit_module, false },
        { "delete_module", check_delete_module, false },
        { "kexec_load", check_kexec_load, false },
        { "kexec_file_load", check_kexec_file_load, false },
        { "reboot", check_reboot, false },
        { "swapon", check_swapon, false },
        { "swapoff", check_swapoff, false },
        { "acct", check_acct, false },
        { "quotactl", check_quotactl, false },
        { "bpf", check_bpf, false },
        { "perf_event_open", check_perf_event_open, false },
        { "open_by_handle_at", check_open_by_handle_at, false },
        { "keyctl", check_keyctl, false },
        { "add_key", check_add_key, false },
        { "request_key", check_request_key, false },
        { "clock_settime", check_clock_settime, false },
        { "settimeofday", check_settimeofday, false },
        { "adjtimex", check_adjtimex, false },
        { "setns_mnt", check_setns_mnt, false },
        { "setns_net", check_setns_net, false },
        { "userns_map_root", check_userns_map_root, false },
        { "ptrace_pid1", check_ptrace_pid1, false },
        { "sethostname", check_sethostname, false },
        { "mknod_block", check_mknod_block, true },
        { "open_disk", check_open_disk, false },
        { "sysrq_trigger", check_sysrq_trigger, false },
        { "proc_sys_hostname", check_proc_sys_hostname, false },
        { "proc_sys_core_pattern", check_proc_sys_core_pattern, false },
        { "sys_kernel", check_sys_kernel, false },
        { "proc_kcore", check_proc_kcore, false },
        { "proc_kallsyms", check_proc_kallsyms, false },
        { "proc_keys", check_proc_keys, false },
        { "proc_timer_list", check_proc_timer_list, false },
        { "socket_packet", check_socket_packet, false },
        { "socket_netlink_audit", check_socket_netlink_audit, false },
        { "host_pid1", check_host_pid1, false },
        { "proc1_environ", check_proc1_environ, false },
        { "pid_count", check_pid_count, false },
        { "netifs", check_netifs, false },
        { "cgroup_ns", check_cgroup_ns, false },
        { "no_new_privs", check_no_new_privs, false },
};

/* Runs one check in a child of its own and prints its line. */
static void run_check(const Check *c) {
        Result r = "";
        int p[2], status;
        pid_t pid;
        ssize_t n;

        scratch[0] = 0;
        if (c->needs_scratch) {
                const char *tmp = getenv("TMPDIR");
                snprintf(scratch, sizeof(scratch), "%s/pod-escape.XXXXXX", tmp && *tmp ? tmp : "/tmp");
                if (!mkdtemp(scratch)) {
                        printf("%s setup-%s\n", c->name, strerrorname_np(errno) ?: "error");
                        fflush(stdout);
                        return;
                }
        }
        if (pipe2(p, O_CLOEXEC) < 0) {
                printf("%s setup-%s\n", c->name, strerrorname_np(errno) ?: "error");
                fflush(stdout);
                return;
        }
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                c->run(r);
                if (write(p[1], r, strlen(r) + 1) < 0)
                        _exit(1);
                _exit(0);
        }
        close(p[1]);
        n = pid < 0 ? -1 : read(p[0], r, sizeof(r) - 1);
        close(p[0]);
        if (pid > 0)
                (void) waitpid(pid, &status, 0);
        if (pid < 0)
                snprintf(r, sizeof(r), "setup-fork");
        else if (n <= 0 && WIFSIGNALED(status))
                snprintf(r, sizeof(r), "signal-%d", WTERMSIG(status));
        else if (n <= 0)
                snprintf(r, sizeof(r), "no-result");
        else
                r[n] = 0;
        if (c->needs_scratch)
                (void) rmdir(scratch);
        printf("%s %s\n", c->name, r[0] ? r : "ok");
        fflush(stdout);
}

int main(int argc, char **argv) {
        const size_t n = sizeof(checks) / sizeof(checks[0]);

        if (argc > 1 && (!strcmp(argv[1], "--list") || !strcmp(argv[1], "--help"))) {
                if (!strcmp(argv[1], "--help"))
                        printf("usage: %s [--list] [NAME...]\n", argv[0]);
                else
                        for (size_t i = 0; i < n; i++)
                                printf("%s\n", checks[i].name);
                return 0;
        }
        if (argc == 1)
                for (size_t i = 0; i < n; i++)
                        run_check(&checks[i]);
        for (int a = 1; a < argc; a++) {
                size_t i;
                for (i = 0; i < n; i++)
                        if (!strcmp(argv[a], checks[i].name)) {
                                run_check(&checks[i]);
                                break;
                        }
                if (i == n)
                        printf("%s unknown-check\n", argv[a]);
        }
        fflush(stdout);
        return 0;
}
