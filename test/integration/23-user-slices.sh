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
[ ! -e /run/systemd/system/pod@a2.service.d/50-podctl-slice.conf ] || fail "slice drop-in of a2 left behind"
as_alice create --name a3 signed true
assert_eq "$(json a3 slice)" "$slice"
as_alice rm a3

# Root (positive control): machine.slice, not bound by the users' limits.
for n in r1 r2 r3; do
        "$PODCTL" create --name "$n" --memory=1G signed "${SLEEPER[@]}"
done
"$PODCTL" start r1
wait_until 60 pod_in_state r1 running
assert_eq "$(systemctl show -P Slice pod@r1.service)" machine.slice "slice of root's pod"
assert_eq "$(json r3 slice)" machine.slice
assert_eq "$(systemctl show -P MemoryMax pod@r1.service)" $((1024 * 1024 * 1024)) "MemoryMax of pod@r1"
[ ! -e /run/systemd/system/pod@r1.service.d ] || fail "root's pod got a slice drop-in"

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

for n in a1 a5 r1 r2 r3 r4; do
        "$PODCTL" rm --force "$n"
done
