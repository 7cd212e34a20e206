#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podctl exec and shell: the command runs inside the running pod with exactly the pod's
# confinement — its user namespace and UID range, capability sets, no_new_privs, seccomp
# filter, cgroup, PID namespace, hostname and root — as the host's /proc shows it, and
# nothing of podmachined's own sandbox (its capability bounding set lacks what pods keep)
# or cgroup: podctl-exec-helper runs it from a transient unit. A process put into the
# same pod by plain nsenter is the positive control: it shows what an unconfined exec
# would, so the comparison can tell the difference. The command outlives a killed
# podmachined and podctl still gets its exit status; SIGINT, SIGTERM and SIGHUP to podctl
# reach the command, also once podmachined was killed (the new one finds the command from
# its unit, for the owner and root but not for another user), with a terminal too; it runs
# as the app's User unless --user says otherwise. The owner may exec into a pod, another
# user may not, root may.
set -eux
. "$(dirname "$0")/lib.sh"

for u in alice bob; do
        id "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$u"
done
as_active() { # USER CMD...: in an active login session on seat0, as 20-polkit does
        local user=$1
        shift
        systemd-run --wait --pipe --quiet -p PAMName=login -E XDG_SEAT=seat0 -E XDG_SESSION_CLASS=user \
                -E XDG_SESSION_TYPE=tty --uid="$user" -- "$@"
}

status_field() { # FIELD: from /proc/.../status text on stdin
        awk -v f="$1:" '$1 == f { $1 = ""; sub(/^[ \t]+/, ""); print; exit }'
}

. "$(dirname "$0")/fixtures-images.sh"

# capability NUMBER in the hex mask MASK
has_cap() {
        (( (0x$1 >> $2) & 1 ))
}
CAP_NET_ADMIN=12

import_busybox
"$PODCTL" run -d --name p busybox "${SLEEPER[@]}"
wait_until 60 pod_in_state p running
leader=$(pod_field p leader)
[ "$leader" -gt 0 ] || leader=$(busctl get-property io.podctl.pod1 /io/podctl/pod1/pod/p io.podctl.pod1.Pod Leader | awk '{print $2}')
[ "$leader" -gt 0 ] || fail "pod p has no leader"
pod_status=$(cat "/proc/$leader/status")

# Inside: root of the pod, the pod's capabilities, no_new_privs, a filter.
inside=$("$PODCTL" exec p cat /proc/self/status)
assert_eq "$(status_field Uid <<<"$inside")" "0 0 0 0" "Uid inside"
for f in CapBnd CapPrm CapEff; do
        assert_eq "$(status_field "$f" <<<"$inside")" "$(status_field "$f" <<<"$pod_status")" "$f of exec vs the pod's init"
done
assert_eq "$(status_field NoNewPrivs <<<"$inside")" 1 "NoNewPrivs inside"
assert_eq "$(status_field Seccomp <<<"$inside")" 2 "Seccomp inside"
# The pod's filter alone: none of podmachined's (SystemCallFilter=, ProtectClock= ...).
assert_eq "$(status_field Seccomp_filters <<<"$inside")" "$(status_field Seccomp_filters <<<"$pod_status")" \
        "Seccomp_filters of exec vs the pod's init"
daemon_status=$(cat "/proc/$(systemctl show -P MainPID podmachined.service)/status")
assert_ne "$(status_field Seccomp_filters <<<"$daemon_status")" "$(status_field Seccomp_filters <<<"$pod_status")" \
        "Seccomp_filters of podmachined (control)"

# The pod keeps CAP_NET_ADMIN (in its own network namespace), podmachined does not: exec
# has it, and can use it, as the pod's processes can.
has_cap "$(status_field CapBnd <<<"$pod_status")" $CAP_NET_ADMIN || fail "pod p has no CAP_NET_ADMIN"
! has_cap "$(status_field CapBnd <<<"$daemon_status")" $CAP_NET_ADMIN || fail "podmachined keeps CAP_NET_ADMIN"
has_cap "$(status_field CapEff <<<"$inside")" $CAP_NET_ADMIN || fail "exec lacks CAP_NET_ADMIN"
"$PODCTL" exec p ip link set lo mtu 1280
assert_match "$("$PODCTL" exec p ip link show lo)" 'mtu 1280' "lo's MTU set in exec"
"$PODCTL" run -d --name nocap --caps-drop=cap_net_admin busybox "${SLEEPER[@]}"
wait_until 60 pod_in_state nocap running
expect_fail 'not permitted' "$PODCTL" exec nocap ip link set lo mtu 1280

# From the host: a long-running exec'd process, found by its marker.
"$PODCTL" exec p sh -c 'exec sleep 1234' &
exec_client=$!
wait_until 30 pgrep -f '^sleep 1234$'
pid=$(pgrep -f '^sleep 1234$')
assert_eq "$(cat "/proc/$pid/uid_map")" "$(cat "/proc/$leader/uid_map")" "uid_map of the exec'd process"
assert_ne "$(awk '{print $2}' "/proc/$pid/uid_map")" 0 "the exec'd process's UID range"
assert_eq "$(stat -c %u "/proc/$pid")" "$(stat -c %u "/proc/$leader")" "host UID of the exec'd process"
host_status=$(cat "/proc/$pid/status")
for f in CapBnd CapPrm CapEff NoNewPrivs Seccomp; do
        assert_eq "$(status_field "$f" <<<"$host_status")" "$(status_field "$f" <<<"$pod_status")" "$f from the host"
done
for ns in user mnt pid uts ipc net cgroup; do
        assert_eq "$(readlink "/proc/$pid/ns/$ns")" "$(readlink "/proc/$leader/ns/$ns")" "$ns namespace"
done
assert_eq "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "$(sed -n 's/^0:://p' "/proc/$leader/cgroup")" "cgroup"
assert_match "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" 'pod@p\.service' "cgroup"
assert_no_match "$(cat "/proc/$pid/cgroup")" 'podmachined' "cgroup"
# Its parent, the helper, in a transient unit of its own in the pod's slice, not in ours.
helper=$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status")
assert_match "$(sed -n 's/^0:://p' "/proc/$helper/cgroup")" '^/machine\.slice/pod-exec-p-[0-9a-f]+\.service$' "the helper's cgroup"
assert_eq "$(tr '\0' ' ' <"/proc/$helper/cmdline")" "podctl-exec-helper p " "the helper's command line"
unit=$(sed -n 's|^0::/machine\.slice/||p' "/proc/$helper/cgroup")
assert_eq "$(systemctl show -P ActiveState "$unit")" active "the helper's unit"
assert_eq "$(systemctl show -P MainPID "$unit")" "$helper" "the helper's unit's main PID"
kill "$pid"
st=0
wait "$exec_client" || st=$?
assert_eq "$st" 143 "exec'd command killed by SIGTERM"
# Collected once it ended.
wait_until 30 sh -c "! systemctl list-units --all --no-legend '$unit' | grep -q ."

# The positive control: nsenter into the same namespaces keeps root's full set and no filter.
ctl=$(nsenter -t "$leader" -a cat /proc/self/status)
assert_eq "$(status_field Seccomp <<<"$ctl")" 0 "Seccomp of nsenter (control)"
assert_ne "$(status_field CapEff <<<"$ctl")" "$(status_field CapEff <<<"$inside")" "CapEff of nsenter (control)"

# The pod's view: its processes, its hostname, its root.
assert_eq "$("$PODCTL" exec p hostname)" p "hostname"
assert_match "$("$PODCTL" exec p ps -o pid,args)" '^ *2 sh -c trap' "the pod's app as seen by exec"
# The pod's root, not the host's; and the init, non-dumpable, is no way out.
assert_eq "$("$PODCTL" exec p sh -c 'test -x /bin/busybox && test ! -e /usr/libexec/podctl && echo pod-root')" pod-root "root"
assert_eq "$("$PODCTL" exec p sh -c 'ls /proc/1/root/ 2>/dev/null || echo denied')" denied "/proc/1/root of the pod's init"
assert_eq "$("$PODCTL" exec -e FOO=bar -w /tmp p sh -c 'echo $FOO $PWD $container')" "bar /tmp podctl" "env and workdir"

# Exit statuses and errors pass through.
assert_eq "$("$PODCTL" exec p sh -c 'echo out; exit 7' || echo "status $?")" "$(printf 'out\nstatus 7')" "exit status"
assert_eq "$("$PODCTL" exec p sh -c 'kill -TERM $$' || echo "status $?")" "status 143" "killed by a signal"
expect_fail --status=127 'No such file|ENOENT|not found' "$PODCTL" exec p /no/such/command
expect_fail 'NoSuchPod|does not exist' "$PODCTL" exec nope true
"$PODCTL" create --name stopped busybox true
expect_fail 'not running' "$PODCTL" exec stopped true
echo in | "$PODCTL" exec p cat >"$T/stdin-out"
assert_eq "$(cat "$T/stdin-out")" in "stdin"

# Signals to podctl in pipe mode end the command as they would have ended podctl.
for sig in INT TERM HUP; do
        "$PODCTL" exec p sleep 100 </dev/null &
        exec_client=$!
        wait_until 30 pgrep -f '^sleep 100$'
        pid=$(pgrep -f '^sleep 100$')
        # Another connection cannot signal it.
        expect_fail 'NoSuchProcess|No command' busctl call io.podctl.pod1 /io/podctl/pod1/pod/p io.podctl.pod1.Pod \
                SignalExec ui "$pid" 9
        kill -"$sig" "$exec_client"
        st=0
        wait "$exec_client" || st=$?
        assert_eq "$st" "$((128 + $(kill -l "$sig")))" "podctl exec's status after SIG$sig"
        ! pgrep -f '^sleep 100$' || fail "the command outlived SIG$sig"
done

# podmachined killed during an exec: the command goes on, and podctl gets its status
# from the helper's unit.
"$PODCTL" exec p sh -c 'sleep 4; echo done; exit 5' >"$T/survivor" &
exec_client=$!
wait_until 30 pgrep -f '^sleep 4$'
daemon=$(systemctl show -P MainPID podmachined.service)
[ "$daemon" -gt 0 ] || fail "podmachined has no main PID"
kill -KILL "$daemon"
st=0
wait "$exec_client" || st=$?
assert_eq "$st" 5 "exit status of an exec that outlived podmachined"
assert_eq "$(cat "$T/survivor")" done "output of an exec that outlived podmachined"
assert_ne "$(systemctl show -P MainPID podmachined.service)" "$daemon" "podmachined after SIGKILL"
systemctl reset-failed podmachined.service || true

kill_daemon() { # SIGKILL to podmachined; returns once it is gone
        local daemon
        daemon=$(daemon_pid)
        [ "$daemon" -gt 0 ] || fail "podmachined has no main PID"
        kill -KILL "$daemon"
        wait_until 30 sh -c "! kill -0 $daemon && [ \"\$(systemctl show -P ActiveState podmachined.service)\" != active ]"
        systemctl reset-failed podmachined.service || true
}

# A signal to podctl after podmachined was killed still reaches the command: the new
# podmachined, started by the call, does not know the command but finds it from its unit.
"$PODCTL" exec p sleep 60 </dev/null 2>"$T/forward-err" &
exec_client=$!
wait_until 30 pgrep -f '^sleep 60$'
pid=$(pgrep -f '^sleep 60$')
kill_daemon
kill -0 "$pid" || fail "the command ended with podmachined"
# The pod's init is in the pod's cgroup but runs from no exec unit: not a command.
expect_fail 'NoSuchProcess|No command' busctl call io.podctl.pod1 /io/podctl/pod1/pod/p io.podctl.pod1.Pod \
        SignalExec ui "$leader" 28
kill -INT "$exec_client"
st=0
wait "$exec_client" || st=$?
assert_eq "$st" 130 "podctl exec's status after SIGINT, podmachined killed before"
! pgrep -f '^sleep 60$' || fail "the command outlived SIGINT after podmachined was killed"
assert_no_match "$(cat "$T/forward-err")" 'Failed to pass' "podctl's warnings"

# The same with a terminal: podctl exec -t outlives podmachined and gets the status.
script -qec "$PODCTL exec -t p sh -c 'sleep 3; exit 7'" /dev/null </dev/null >"$T/tty-out" &
tty_client=$!
wait_until 30 pgrep -f '^sleep 3$'
kill_daemon
pgrep -f '^sleep 3$' >/dev/null || fail "the command ended before podmachined was killed"
st=0
wait "$tty_client" || st=$?
assert_eq "$st" 7 "exit status of a terminal exec that outlived podmachined"

# The app's User, or --user, looked up in the pod's own /etc.
assert_eq "$("$PODCTL" exec --user=nobody p id -u)" 65534 "--user=nobody"
assert_eq "$("$PODCTL" exec -u 1234:nogroup p sh -c 'echo $(id -u):$(id -g)')" 1234:65534 "-u UID:GROUP"
assert_eq "$("$PODCTL" exec -u nobody p sh -c 'grep ^CapEff /proc/self/status')" "$(printf 'CapEff:\t0000000000000000')" \
        "capabilities of a user other than root"
expect_fail 'not in its /etc/passwd' "$PODCTL" exec -u nosuch p true
expect_fail 'not in its /etc/group' "$PODCTL" exec -u nobody:nosuch p true
w=$T/user-image
umoci init --layout "$w/layout"
umoci new --image "$w/layout:u"
umoci unpack --image "$w/layout:u" "$w/bundle" >/dev/null
make_busybox_rootfs "$w/bundle/rootfs"
echo 'app:x:1000:1000:app:/:/bin/sh' >>"$w/bundle/rootfs/etc/passwd"
echo 'app:x:1000:' >>"$w/bundle/rootfs/etc/group"
umoci repack --refresh-bundle --image "$w/layout:u" "$w/bundle"
umoci config --image "$w/layout:u" --config.user app --config.cmd sleep --config.cmd 100000
"$PODCTL" image import "$w/layout" withuser
"$PODCTL" run -d --name pu withuser
wait_until 60 pod_in_state pu running
assert_eq "$("$PODCTL" exec pu id -u)" 1000 "exec as the image's User"
assert_eq "$("$PODCTL" exec -u root pu id -u)" 0 "exec --user=root in a pod with a User"
assert_eq "$("$PODCTL" exec -u 0 pu id -u)" 0 "exec -u 0"

# shell: a terminal of the pod's own devpts.
if command -v script >/dev/null; then
        out=$(script -qec "$PODCTL shell p sh -c 'tty; echo \$TERM; exit 3'" /dev/null </dev/null | tr -d '\r\000') || st=$?
        assert_eq "${st:-0}" 3 "shell exit status"
        assert_match "$out" '(^|\^@)/dev/pts/[0-9]+$' "the shell's terminal"
        out=$(printf 'echo hi-$((6*7))\nexit\n' | script -qec "$PODCTL shell p" /dev/null | tr -d '\r')
        assert_match "$out" 'hi-42' "interactive shell"
fi

# Owner, other users, root.
make_busybox_tar "$T/signed.tar"
minisign -G -W -p "$T/release.pub" -s "$T/release.key" >/dev/null
"$PODCTL" trust add --name=release "$T/release.pub"
minisign -S -s "$T/release.key" -m "$T/signed.tar" >/dev/null
"$PODCTL" image import "$T/signed.tar" signed
chmod 0755 "$T"
as_active alice "$PODCTL" --no-ask-password run -d --name alices signed "${SLEEPER[@]}"
wait_until 60 pod_in_state alices running
assert_eq "$(as_active alice "$PODCTL" --no-ask-password exec alices id -u)" 0 "alice's exec"
expect_fail 'Permission denied|NotPermitted|manage-pods' as_active bob "$PODCTL" --no-ask-password exec alices id -u
assert_eq "$("$PODCTL" exec alices id -u)" 0 "root's exec into alice's pod"

# After a restart, the owner may signal a command of an exec that podmachined forgot,
# another user may not, nor through another pod.
as_active alice "$PODCTL" --no-ask-password exec alices sleep 1001 </dev/null &
alice_client=$!
wait_until 30 pgrep -f '^sleep 1001$'
pid=$(pgrep -f '^sleep 1001$')
kill_daemon
expect_fail 'NoSuchProcess|No command|NotPermitted|Permission denied' \
        as_active bob busctl call io.podctl.pod1 /io/podctl/pod1/pod/alices io.podctl.pod1.Pod SignalExec ui "$pid" 15
kill -0 "$pid" || fail "bob's SignalExec reached alice's command"
expect_fail 'NoSuchProcess|No command' busctl call io.podctl.pod1 /io/podctl/pod1/pod/p io.podctl.pod1.Pod \
        SignalExec ui "$pid" 15
kill -0 "$pid" || fail "SignalExec through another pod reached alice's command"
as_active alice busctl call io.podctl.pod1 /io/podctl/pod1/pod/alices io.podctl.pod1.Pod SignalExec ui "$pid" 15
st=0
wait "$alice_client" || st=$?
assert_eq "$st" 143 "alice's podctl exec after her SignalExec (SIGTERM)"
! pgrep -f '^sleep 1001$' || fail "alice's SignalExec did not end her command"

"$PODCTL" rm -f p alices stopped nocap pu
