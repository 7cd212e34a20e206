#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A running pod is a machine of systemd-machined: listed, shown, and controllable
# with machinectl, and podctl and podmachined follow what machinectl does to it.
set -eux
. "$(dirname "$0")/lib.sh"

import_busybox

"$PODCTL" run -d --name m1 busybox "${SLEEPER[@]}"
wait_until 60 pod_in_state m1 running
leader=$(pod_field m1 leader)

# Listed and shown.
machinectl list --no-legend | grep -Eq '^m1 +container +podctl( |$)'
show=$(machinectl show m1)
assert_match "$show" '^Class=container$' "machinectl show m1"
assert_match "$show" '^Service=podctl$' "machinectl show m1"
assert_match "$show" '^Unit=pod@m1\.service$' "machinectl show m1"
assert_match "$show" '^State=running$' "machinectl show m1"
assert_eq "$(machinectl show -p Leader --value m1)" "$leader" "machine leader = pod leader"
assert_eq "$(machinectl show -p RootDirectory --value m1)" "$(pod_field m1 root_directory)"
machinectl status m1 --no-pager | grep -q 'pod@m1.service'
# machined knows the pod's processes by its unit.
assert_eq "$(busctl call org.freedesktop.machine1 /org/freedesktop/machine1 \
        org.freedesktop.machine1.Manager GetMachineByPID u "$leader" | awk '{print $2}' | tr -d '"')" \
        /org/freedesktop/machine1/machine/m1
# A pod that does not run is no machine.
"$PODCTL" create --name m-created busybox true
expect_fail 'No machine|not known|NoSuchMachine' machinectl show m-created
"$PODCTL" rm m-created

# machinectl terminate stops the pod's unit; podctl sees it exited.
machinectl terminate m1
wait_until 60 pod_in_state m1 exited
assert_ne "$(unit_state pod@m1.service)" active
wait_until 60 eval '! machinectl show m1'
assert_eq "$(pod_field m1 leader)" 0
assert_ne "$(unit_state podmachined.service)" failed
"$PODCTL" list --json | jq -e '.[] | select(.name == "m1") | .state == "exited"'

# It starts again and machinectl kill does the same.
"$PODCTL" start m1
wait_until 60 pod_in_state m1 running
machinectl list --no-legend | grep -q '^m1 '
machinectl kill --signal=SIGKILL m1
wait_until 60 pod_in_state m1 exited
assert_ne "$(unit_state pod@m1.service)" active
"$PODCTL" status --json m1 | jq -e '.finished_usec > 0'

# Default machinectl kill (SIGTERM to all processes): the sleeper's trap exits.
"$PODCTL" start m1
wait_until 60 pod_in_state m1 running
machinectl kill m1
wait_until 60 pod_in_state m1 exited

# machinectl poweroff (SIGRTMIN+4 to the leader) does not leave the daemon broken.
"$PODCTL" start m1
wait_until 60 pod_in_state m1 running
machinectl poweroff m1 || true
"$PODCTL" stop m1 2>/dev/null || true
wait_until 60 pod_in_state m1 exited

# The daemon lived through all of it, and still works.
assert_eq "$(unit_state podmachined.service)" active
assert_ne "$(systemctl show -P Result podmachined.service)" core-dump
"$PODCTL" rm m1
assert_no_pod m1
expect_fail 'No machine|not known' machinectl show m1

# Two pods, two machines.
"$PODCTL" run -d --name m2 busybox "${SLEEPER[@]}"
"$PODCTL" run -d --name m3 busybox "${SLEEPER[@]}"
wait_until 60 pod_in_state m2 running
wait_until 60 pod_in_state m3 running
assert_eq "$(machinectl list --no-legend | grep -Ec '^m[23] +container +podctl')" 2
"$PODCTL" rm --force m2
"$PODCTL" rm --force m3
wait_until 60 eval '[ -z "$(machinectl list --no-legend | grep -E "^m[23] ")" ]'
echo "OK $SCENARIO"
