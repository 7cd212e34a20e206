#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A pod is the unit pod@NAME.service: systemctl starts, stops and enables it like any
# other, and the resource options of podctl run become properties of that unit.
set -eux
. "$(dirname "$0")/lib.sh"

import_busybox

# systemctl start of a pod created by podctl runs it.
"$PODCTL" create --name u1 busybox "${SLEEPER[@]}"
systemctl start pod@u1.service
assert_eq "$(unit_state pod@u1.service)" active
wait_until 60 pod_in_state u1 running
"$PODCTL" list --json | jq -e '.[] | select(.name == "u1") | .state == "running"'
"$PODCTL" list | grep -Eq '^u1 +running '
assert_eq "$(systemctl show -P Slice pod@u1.service)" machine.slice
grep -q 'pod@u1\.service' "/proc/$(pod_field u1 leader)/cgroup"
# systemctl stop.
systemctl stop pod@u1.service
wait_until 60 pod_in_state u1 exited
# podctl start and systemctl agree the other way round too.
"$PODCTL" start u1
wait_until 60 pod_in_state u1 running
assert_eq "$(unit_state pod@u1.service)" active
"$PODCTL" stop u1
wait_until 60 pod_in_state u1 exited
assert_ne "$(unit_state pod@u1.service)" active

# systemctl start of a pod that does not exist fails, and creates nothing.
r=0; systemctl start pod@u-none.service || r=$?
assert_ne "$r" 0 "systemctl start of a pod that was never created"
test ! -e "$PODS/u-none"
systemctl reset-failed pod@u-none.service 2>/dev/null || true

# enable: machines.target wants it.
systemctl enable pod@u1.service
test -L /etc/systemd/system/machines.target.wants/pod@u1.service
assert_eq "$(systemctl is-enabled pod@u1.service)" enabled
# ...and starting machines.target (as at boot) starts it.
systemctl start machines.target
wait_until 60 pod_in_state u1 running
systemctl disable pod@u1.service
test ! -e /etc/systemd/system/machines.target.wants/pod@u1.service
"$PODCTL" rm --force u1
assert_no_pod u1

# Resource options become unit properties.
"$PODCTL" run -d --name u2 --memory=64M --cpus=0.5 --tasks-max=50 --io-weight=200 busybox "${SLEEPER[@]}"
wait_until 60 pod_in_state u2 running
props=$(systemctl show pod@u2.service -p MemoryMax,CPUQuotaPerSecUSec,TasksMax,IOWeight,Slice)
assert_match "$props" '^MemoryMax=67108864$' "unit properties"
assert_match "$props" '^CPUQuotaPerSecUSec=500ms$' "unit properties"
assert_match "$props" '^TasksMax=50$' "unit properties"
assert_match "$props" '^IOWeight=200$' "unit properties"
assert_match "$props" '^Slice=machine\.slice$' "unit properties"
# The pod records them too.
"$PODCTL" status --json u2 | jq -e '.memory_max == 67108864 and .cpu_quota_per_sec_usec == 500000 and
        .tasks_max == 50 and .io_weight == 200'
# They are applied again at every start, systemctl's included.
"$PODCTL" stop u2
wait_until 60 pod_in_state u2 exited
systemctl start pod@u2.service
wait_until 60 pod_in_state u2 running
assert_eq "$(systemctl show -P MemoryMax pod@u2.service)" 67108864
assert_eq "$(systemctl show -P TasksMax pod@u2.service)" 50
"$PODCTL" rm --force u2
assert_no_pod u2

# Without options, no limits but the unit file's.
"$PODCTL" run -d --name u3 busybox "${SLEEPER[@]}"
wait_until 60 pod_in_state u3 running
assert_eq "$(systemctl show -P MemoryMax pod@u3.service)" infinity
assert_eq "$(systemctl show -P CPUQuotaPerSecUSec pod@u3.service)" infinity
"$PODCTL" rm --force u3

# Bad values are refused before anything is created.
for opt in --memory=lots --memory=-1 --cpus=abc --cpus=-1 --tasks-max=many --io-weight=0 --io-weight=10001; do
        expect_fail --status=125 'invalid|InvalidArgument|range|parse' "$PODCTL" run -d --name u4 "$opt" busybox true
        assert_no_pod u4
done
echo "OK $SCENARIO"
