#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Confinement: every way out of a pod that test/escape/pod-escape tries is refused
# with the expected errno, and each refusal has a positive control: the same attempt by
# root outside any pod, from a unit of the same systemd the pods run under (so with
# whatever the test host itself imposes) but inside throw-away namespaces, gets past
# the permission check. A check whose control shows the confined result proves nothing
# and fails the scenario. From the host: the pod's app has no_new_privs, a seccomp
# filter of its own and no CAP_SYS_ADMIN in its bounding set.
set -eux
. "$(dirname "$0")/lib.sh"

bin=${PODCTL_BUILDDIR:?}/test/pod-escape
[ -x "$bin" ] || fail "$bin is missing: test/meson.build builds it (subdir('test'))"
file_is_static "$bin" || fail "$bin is not static"

# The image: busybox plus /pod-escape.
rootfs=$T/escape-rootfs
make_busybox_rootfs "$rootfs"
cp "$bin" "$rootfs/pod-escape"
"$PODCTL" image import "$rootfs" escape

# CHECK  CONTROL  POD-RESULT (an ERE, matched whole). Controls, all root, all from a
# transient unit (systemd-run) so they start where pod@.service starts:
#   ns      unshare of mount, UTS, IPC, net, PID namespaces with a fresh /proc, a fresh
#           sysfs and a devtmpfs /dev: mounts and sethostname change nothing outside
#   chroot  a plain chroot into the same busybox tree, in a private mount namespace
#   host    the test host itself (read-only looks at /proc)
#   net     a network namespace with a veth pair
# "optional" after the pattern: the kernel may lack the file (the control's ENOENT
# then says so, and the check is reported as not applicable rather than passed).
checks=(
        "mount_tmpfs            ns      EPERM"
        "umount_proc            ns      EPERM"
        "pivot_root             ns      EPERM"
        "chroot_escape          chroot  contained|EPERM"
        "init_module            ns      EPERM"
        "finit_module           ns      EPERM"
        "delete_module          ns      EPERM"
        "kexec_load             ns      EPERM"
        "kexec_file_load        ns      EPERM"
        "reboot                 ns      EPERM"
        "swapon                 ns      EPERM"
        "swapoff                ns      EPERM"
        "acct                   ns      EPERM"
        "quotactl               ns      EPERM"
        "bpf                    ns      EPERM"
        "perf_event_open        ns      EPERM"
        "open_by_handle_at      ns      EPERM"
        "keyctl                 ns      EPERM"
        "add_key                ns      EPERM"
        "request_key            ns      EPERM"
        "clock_settime          ns      EPERM"
        "settimeofday           ns      EPERM"
        "adjtimex               ns      EPERM|ENOSYS"
        "setns_mnt              ns      EPERM|EACCES"
        "setns_net              ns      EPERM|EACCES"
        "userns_map_root        ns      EPERM"
        "ptrace_pid1            ns      EPERM"
        "sethostname            ns      EPERM"
        "mknod_block            ns      EPERM"
        "open_disk              ns      ENOENT"
        "sysrq_trigger          ns      EROFS|EACCES|EPERM|ENOENT|masked optional"
        # In the pod's user namespace these host-root files refuse the write at the permission
        # check (EACCES), before the read-only mount (EROFS) would: both refuse it.
        "proc_sys_hostname      ns      EROFS|EACCES"
        "proc_sys_core_pattern  ns      EROFS|EACCES"
        "sys_kernel             ns      EROFS"
        "proc_kcore             ns      masked|empty|EPERM|EACCES|ENOENT optional"
        "proc_kallsyms          ns      masked|empty|zeros|EPERM|EACCES|ENOENT"
        "proc_keys              ns      masked|EPERM|EACCES|ENOENT optional"
        "proc_timer_list        ns      masked|EPERM|EACCES|ENOENT optional"
        "socket_packet          hostnet EPERM|EAFNOSUPPORT"
        "socket_netlink_audit   ns      EPERM|EAFNOSUPPORT|EPROTONOSUPPORT|EACCES"
        "host_pid1              host    pod"
        "proc1_environ          host    pod|EPERM|EACCES"
        "pid_count              host    [1-4]"
        "netifs                 net     lo"
        "cgroup_ns              ns      root"
        "no_new_privs           ns      1"
)
# Every check of the program is in the table, and nothing else.
assert_eq "$(printf '%s\n' "${checks[@]}" | awk '{print $1}' | sort | tr '\n' ' ')" \
        "$("$rootfs/pod-escape" --list | sort | tr '\n' ' ')" "the checks of pod-escape"

names_of() { # CONTROL
        printf '%s\n' "${checks[@]}" | awk -v c="$1" '$2 == c {print $1}'
}

# --- in the pod ----------------------------------------------------------------------
# shellcheck disable=SC2046 # one argument per check name
"$PODCTL" run --rm escape /pod-escape $(names_of ns) $(names_of chroot) $(names_of host) $(names_of net) \
        >"$T/pod.out" 2>"$T/pod.err" || fail "the escape pod failed: $(cat "$T/pod.err")"
# Raw sockets: a pod with its own network namespace (only loopback) keeps CAP_NET_RAW, as
# ping needs it; a pod on the host's network (an admin's choice) must not have it.
# shellcheck disable=SC2046
"$PODCTL" run --rm --network=host escape /pod-escape $(names_of hostnet) \
        >>"$T/pod.out" 2>"$T/pod.err" || fail "the host-network escape pod failed: $(cat "$T/pod.err")"
cat "$T/pod.out"

# --- positive controls ---------------------------------------------------------------
ctl() {
        systemd-run --wait --pipe --quiet --collect -- "$@"
}
# shellcheck disable=SC2016 # for the sh -c inside
ctl unshare --mount --uts --ipc --net --pid --fork --mount-proc \
        sh -c 'mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev && exec "$0" "$@"' \
        "$rootfs/pod-escape" $(names_of ns) >"$T/control.out"
ctl unshare --mount --pid --fork chroot "$rootfs" /pod-escape $(names_of chroot) >>"$T/control.out"
ctl "$rootfs/pod-escape" $(names_of host) >>"$T/control.out"
ctl "$rootfs/pod-escape" $(names_of hostnet) >>"$T/control.out"
# shellcheck disable=SC2016
ctl unshare --net sh -c 'ip link add pe0 type veth peer name pe1 && exec "$0" "$@"' \
        "$rootfs/pod-escape" $(names_of net) >>"$T/control.out"
cat "$T/control.out"

# --- judging -------------------------------------------------------------------------
{ set +x; } 2>/dev/null
bad=() na=() vacuous=0
printf '%-24s %-8s %-22s %-22s %s\n' CHECK CONTROL POD CONTROL-RESULT VERDICT
for line in "${checks[@]}"; do
        read -r name control pattern optional <<<"$line"
        got=$(awk -v n="$name" '$1 == n {print $2}' "$T/pod.out")
        ctl_got=$(awk -v n="$name" '$1 == n {print $2}' "$T/control.out")
        if [ -z "$got" ] || [ -z "$ctl_got" ]; then
                verdict="FAIL: no result"
        elif [ -n "$optional" ] && [ "$ctl_got" = ENOENT ]; then
                verdict="n/a: this kernel has no such file"
                na+=("$name")
        elif ! grep -Eqx -- "$pattern" <<<"$got"; then
                verdict="FAIL: not confined (want /$pattern/)"
        elif grep -Eqx -- "$pattern" <<<"$ctl_got"; then
                verdict="FAIL: vacuous, the control is refused too"
                vacuous=1
        else
                verdict=ok
        fi
        printf '%-24s %-8s %-22s %-22s %s\n' "$name" "$control" "${got:-?}" "${ctl_got:-?}" "$verdict"
        [[ "$verdict" != FAIL* ]] || bad+=("$name")
done
set -x
if [ $vacuous = 1 ]; then
        # The usual cause: the test host's own confinement (systemd-nspawn's seccomp
        # filter and bounding set), which its units and so the pods inherit.
        echo "the test host's PID 1: $(grep -E '^(CapBnd|NoNewPrivs|Seccomp)' /proc/1/status | tr '\n' ' ')" >&2
fi

# --- from the host: the pod's app -----------------------------------------------------
"$PODCTL" run -d --name escape-status escape "${SLEEPER[@]}"
wait_until 60 pod_in_state escape-status running
leader=$(pod_field escape-status leader)
descendants() { # PID: every process below it
        local c
        for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
                echo "$c"
                descendants "$c"
        done
}
app_pid() {
        local p
        for p in $(descendants "$leader"); do
                [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && echo "$p" && return 0
        done
        return 1
}
wait_until 30 app_pid
app=$(app_pid)
status_of() { # PID FIELD
        awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}
grep -E '^(Cap|NoNewPrivs|Seccomp)' "/proc/$app/status"
host_status=$(grep -E '^(CapBnd|NoNewPrivs|Seccomp)' /proc/1/status | tr '\n' ' ')
app_status=$(grep -E '^(CapBnd|NoNewPrivs|Seccomp)' "/proc/$app/status" | tr '\n' ' ')
[ "$(status_of "$app" NoNewPrivs)" = 1 ] || bad+=("host-view: NoNewPrivs of the app is not 1 ($app_status)")
[ "$(status_of "$app" Seccomp)" = 2 ] || bad+=("host-view: Seccomp of the app is not 2 ($app_status)")
# Positive controls: the test host's PID 1 (which starts pod@.service) has neither, or
# fewer filters; and CAP_SYS_ADMIN (bit 21) in its bounding set.
[ "$(status_of 1 NoNewPrivs)" = 0 ] || bad+=("host-view: vacuous, the test host's PID 1 has NoNewPrivs ($host_status)")
[ "$(status_of "$app" Seccomp_filters)" -gt "$(status_of 1 Seccomp_filters)" ] ||
        bad+=("host-view: the app has no seccomp filter beyond the test host's ($app_status / $host_status)")
(( (0x$(status_of "$app" CapBnd) >> 21) & 1 )) && bad+=("host-view: CAP_SYS_ADMIN in the app's bounding set ($app_status)")
(( (0x$(status_of 1 CapBnd) >> 21) & 1 )) || bad+=("host-view: vacuous, no CAP_SYS_ADMIN in the test host's PID 1's bounding set")
"$PODCTL" rm --force escape-status
assert_no_pod escape-status

# --- the admin's options, each against the default as its control ---------------------
# --read-only: the root refuses writes, /tmp and /run take them.
"$PODCTL" run --rm escape touch /x || bad+=("control: a default pod cannot write its root")
r=0; "$PODCTL" run --rm --read-only escape touch /x 2>"$T/ro.err" || r=$?
[ "$r" != 0 ] && grep -q "Read-only file system" "$T/ro.err" || bad+=("--read-only: the root took a write (status $r)")
"$PODCTL" run --rm --read-only escape sh -c 'touch /tmp/x /run/x' || bad+=("--read-only: /tmp or /run is not writable")
# --caps-drop takes from, --caps-add adds to the bounding set.
capbnd() { # PODCTL-OPTIONS...: the CapBnd of a pod's app, as a number
        echo $((0x$("$PODCTL" run --rm "$@" escape sh -c 'grep ^CapBnd /proc/self/status' | awk '{print $2}')))
}
default=$(capbnd)
(( (default >> 0) & 1 )) || bad+=("control: CAP_CHOWN not in the default set")
(( (default >> 25) & 1 )) && bad+=("control: CAP_SYS_TIME in the default set")
dropped=$(capbnd --caps-drop=cap_chown)
[ $((dropped)) = $((default & ~1)) ] || bad+=("--caps-drop=cap_chown: $dropped, default $default")
added=$(capbnd --caps-add=CAP_SYS_TIME)
[ $((added)) = $((default | (1 << 25))) ] || bad+=("--caps-add=CAP_SYS_TIME: $added, default $default")
expect_fail 'Unknown capability' "$PODCTL" create --caps-add=cap_nonsense escape true
expect_fail "Invalid network" "$PODCTL" create --network=bridge escape true

[ ${#na[@]} -eq 0 ] || echo "not applicable on this kernel: ${na[*]}"
[ ${#bad[@]} -eq 0 ] || fail "confinement checks failed: ${bad[*]}"
echo "OK $SCENARIO"
