#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Per-user fairness: a user's pods run in the user's own slice, which carries the limits
# of /etc/podctl/podctl.conf [Users] for all of them together; a user may not ask a pod
# for more than those limits nor own more than MaxPodsPerUser pods. Root is not bound.
set -eux
. "$(dirname "$0")/lib.sh"

CONF=/etc/podctl/podctl.conf
trap 'rc=$?; rm -f "$CONF"; set +e; (exit $rc); lib_exit' EXIT

id alice >/dev/null 2>&1 || useradd --create-home --shell /bin/sh alice
alice_uid=$(id -u alice)
slice=machine-pods-u$alice_uid.slice
assert_eq "$(as_active alice sh -c 'loginctl show-session -P Active "$XDG_SESSION_ID"')" yes "alice's session"

# alice may start pods from a signed image without asking anyone (see 20-polkit).
minisign -G -W -p "$T/release.pub" -s "$T/release.key" >/dev/null
"$PODCTL" trust add --name=release "$T/release.pub"
make_busybox_tar "$T/signed.tar"
minisign -S -s "$T/release.key" -m "$T/signed.tar" >/dev/null
"$PODCTL" image import "$T/signed.tar" signed

as_alice() {
        as_active alice "$PODCTL" --no-ask-password "$@"
}
json() { # POD KEY
        "$PODCTL" status --json "$1" | jq -r ".$2"
}

mkdir -p /etc/podctl
cat >"$CONF" <<EOF
# The admin's limits for each user.
[Users]
MaxPodsPerUser=2
MemoryMax=64M
TasksMax=100
CPUWeight=50
NoSuchKey=1
EOF
systemctl restart podmachined.service
journalctl --sync
wait_until 10 sh -c "journalctl -b -u podmachined.service --no-pager | grep -q 'unknown key NoSuchKey= in \[Users\]'"

# alice's pod runs in her slice, under machine-pods.slice, with her limits on the slice.
as_alice create --name a1 signed "${SLEEPER[@]}"
as_alice start a1
wait_until 60 pod_in_state a1 running
assert_eq "$(json a1 owner_uid)" "$alice_uid" "owner of a1"
assert_eq "$(systemctl show -P Slice pod@a1.service)" "$slice" "slice of pod@a1"
assert_eq "$(json a1 slice)" "$slice" "podctl status: slice"
assert_eq "$(systemctl show -P ControlGroup pod@a1.service)" "/machine.slice/machine-pods.slice/$slice/pod@a1.service"
assert_eq "$(systemctl show -P MemoryMax "$slice")" $((64 * 1024 * 1024)) "MemoryMax of $slice"
assert_eq "$(systemctl show -P TasksMax "$slice")" 100 "TasksMax of $slice"
assert_eq "$(systemctl show -P CPUWeight "$slice")" 50 "CPUWeight of $slice"
# The machine machined registered: its leader is in that cgroup.
assert_match "$(cat /proc/"$(machinectl show -p Leader --value a1)"/cgroup)" "^0::/machine.slice/machine-pods.slice/$slice/pod@a1.service(/|$)"
# A pod's own limits that it does not set are the user's.
assert_eq "$(json a1 memory_max)" $((64 * 1024 * 1024)) "MemoryMax of a1"
assert_eq "$(systemctl show -P MemoryMax pod@a1.service)" $((64 * 1024 * 1024)) "MemoryMax of pod@a1"
assert_eq "$(systemctl show -P TasksMax pod@a1.service)" 100 "TasksMax of pod@a1"

# Above the user's limits: refused, and nothing is created. Below: allowed.
expect_fail 'MemoryMax=1G is above your limit of 64M' \
        as_alice create --name big --memory=1G signed true
assert_no_pod big
expect_fail 'TasksMax=1000 is above your limit of 100' as_alice create --name big --tasks-max=1000 signed true
assert_no_pod big
as_alice create --name a2 --memory=16M signed "${SLEEPER[@]}"
assert_eq "$(json a2 memory_max)" $((16 * 1024 * 1024)) "MemoryMax of a2"
as_alice start a2
wait_until 60 pod_in_state a2 running
assert_eq "$(systemctl show -P MemoryMax pod@a2.service)" $((16 * 1024 * 1024)) "MemoryMax of pod@a2"

# A third pod is one too many; removing one makes room again.
expect_fail 'You own 2 pods.*MaxPodsPerUser=2' as_alice create --name a3 signed true
assert_no_pod a3
as_alice rm --force a2
[ ! -e /etc/systemd/system/pod@a2.service.d/50-podctl-slice.conf ] || fail "slice drop-in of a2 left behind"
as_alice create --name a3 signed true
assert_eq "$(json a3 slice)" "$slice"
as_alice rm a3
# A pod of the same name as alice's removed a2, now root's: in machine.slice, whether
# or not systemd still held alice's pod@a2.service.
"$PODCTL" create --name a2 signed "${SLEEPER[@]}"
"$PODCTL" start a2
wait_until 60 pod_in_state a2 running
assert_eq "$(systemctl show -P ControlGroup pod@a2.service)" /machine.slice/pod@a2.service "cgroup of root's a2"
"$PODCTL" rm --force a2

# Root (positive control): machine.slice, not bound by the users' limits.
for n in r1 r2 r3; do
        "$PODCTL" create --name "$n" --memory=1G signed "${SLEEPER[@]}"
done
"$PODCTL" start r1
wait_until 60 pod_in_state r1 running
assert_eq "$(systemctl show -P Slice pod@r1.service)" machine.slice "slice of root's pod"
assert_eq "$(json r3 slice)" machine.slice
assert_eq "$(systemctl show -P MemoryMax pod@r1.service)" $((1024 * 1024 * 1024)) "MemoryMax of pod@r1"
[ ! -e /etc/systemd/system/pod@r1.service.d ] || fail "root's pod got a slice drop-in"

# An invalid podctl.conf bars users (it is read again at each creation), not root.
printf '[Users]\nMemoryMax=lots\n' >"$CONF"
expect_fail 'podctl.conf is invalid' as_alice create --name a4 signed true
assert_no_pod a4
"$PODCTL" create --name r4 signed true

# Without podctl.conf: the defaults, which do not limit memory.
rm -f "$CONF"
as_alice create --name a5 signed true
assert_eq "$(systemctl show -P MemoryMax "$slice")" infinity "MemoryMax of $slice without podctl.conf"
assert_eq "$(json a5 memory_max)" null "MemoryMax of a5"

# A restarted daemon finds the slice of alice's running pod as it was.
systemctl restart podmachined.service
assert_eq "$(json a1 slice)" "$slice"
assert_eq "$(json a1 state)" running

# At boot, systemd starts a pod enabled for machines.target before podmachined ever ran:
# the slice and the pod's drop-in must be on persistent storage. Simulated: podmachined
# masked, what a reboot wipes from /run removed, systemd reloaded, the unit started.
"$PODCTL" stop a1
wait_until 60 pod_in_state a1 exited
systemctl stop podmachined.service
systemctl mask --runtime podmachined.service
dropin=/etc/systemd/system/pod@a1.service.d/50-podctl-slice.conf
assert_match "$(systemctl show -P DropInPaths pod@a1.service)" "$dropin" "drop-ins of pod@a1"
rm -rf /run/systemd/system/pod@a1.service.d /run/systemd/system/machine-pods* /run/systemd/system.control/pod@a1.service.d
systemctl daemon-reload
systemctl start pod@a1.service
assert_eq "$(systemctl show -P ControlGroup pod@a1.service)" "/machine.slice/machine-pods.slice/$slice/pod@a1.service" \
        "cgroup of pod@a1 started by systemd alone"
assert_eq "$(systemctl is-active podmachined.service || true)" inactive "podmachined while pod@a1 started"
systemctl stop pod@a1.service
# Positive control: without the drop-in, the same start lands in machine.slice.
mv "$dropin" "$T/dropin.conf"
systemctl daemon-reload
systemctl start pod@a1.service
assert_eq "$(systemctl show -P ControlGroup pod@a1.service)" /machine.slice/pod@a1.service "cgroup without the drop-in"
systemctl stop pod@a1.service
mv "$T/dropin.conf" "$dropin"
systemctl unmask --runtime podmachined.service
systemctl daemon-reload

# DiskLimit= bounds all of a user's pods together (btrfs: a qgroup 1/UID holding the
# snapshots of all of the user's pods, with simple quotas), not each pod.
fs=$(stat -f -c %T "$STATE")
if [ "$fs" = btrfs ]; then
        printf '[Users]\nDiskLimit=24M\n' >"$CONF"
        WRITE=(sh -c 'dd if=/dev/zero of=/root/data bs=1M count=16 conv=fsync 2>&1 && sync && echo wrote')
        expect_fail 'DiskLimit=32M is above your limit of 24M' as_alice create --name d0 --disk-limit=32M signed true
        assert_no_pod d0
        # Each of alice's pods writes 16 MiB: the first fits, the second would pass 24 MiB.
        for n in d1 d2; do
                as_alice create --name "$n" signed "${WRITE[@]}"
                as_alice start "$n"
                wait_until 60 pod_in_state "$n" exited
        done
        assert_match "$(journalctl -u pod@d1.service --no-pager -o cat)" '^wrote$' "alice's first 16 MiB"
        assert_match "$(journalctl -u pod@d2.service --no-pager -o cat)" 'Disk quota exceeded' "alice's second 16 MiB"
        assert_match "$(btrfs qgroup show -pe --raw "$STATE" | awk -v g="1/$alice_uid" '$1 == g { print $4 }')" \
                '^25165824$' "limit of qgroup 1/$alice_uid"
        # Positive control: root's pods are not bound; both write their 16 MiB.
        for n in d3 d4; do
                "$PODCTL" create --name "$n" signed "${WRITE[@]}"
                "$PODCTL" start "$n"
                wait_until 60 pod_in_state "$n" exited
                assert_match "$(journalctl -u pod@$n.service --no-pager -o cat)" '^wrote$' "root's $n"
        done
        for n in d1 d2 d3 d4; do "$PODCTL" rm "$n"; done
        rm -f "$CONF"
fi

for n in a1 a5 r1 r2 r3 r4; do
        "$PODCTL" rm --force "$n"
done
