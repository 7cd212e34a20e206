#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The pod verbs: create, start, list, status, stop, kill, rm, run (-d, --rm, attached);
# exit statuses pass through; every mistake names its cause and leaves nothing behind.
set -eux
. "$(dirname "$0")/lib.sh"

import_busybox
storage=$([ "$(stat -f -c %T "$STATE")" = btrfs ] && echo btrfs || echo overlay)

# create prints the name; the pod exists but does not run.
assert_eq "$("$PODCTL" create --name p1 busybox "${SLEEPER[@]}")" p1
assert_eq "$(pod_state p1)" created
test -f "$PODS/p1/pod.json"
assert_eq "$(jq -r .name "$PODS/p1/pod.json")" p1
assert_ne "$(unit_state pod@p1.service)" active

# Without --name, a name is made up and printed.
gen=$("$PODCTL" create busybox true)
assert_match "$gen" '^[A-Za-z0-9][A-Za-z0-9-]*$' "generated name"
pod_names | grep -qx -- "$gen"

# start
"$PODCTL" start p1
wait_until 60 pod_in_state p1 running
assert_eq "$(unit_state pod@p1.service)" active

# list, text: NAME STATE IMAGE OWNER UNIT CREATED, then "N pods listed."
text=$("$PODCTL" list)
assert_match "$(head -n1 <<<"$text")" '^NAME +STATE +IMAGE +OWNER +UNIT +CREATED *$' "list header"
assert_match "$text" '^p1 +running +busybox +(root|0) +pod@p1\.service ' "list row of p1"
assert_match "$text" "^$gen +created +busybox " "list row of $gen"
assert_match "$(tail -n1 <<<"$text")" '^2 pods listed\.$' "list footer"
"$PODCTL" list --no-legend | grep -q '^p1 '
assert_no_match "$("$PODCTL" list --no-legend)" 'NAME|pods listed' "list --no-legend"

# list --json: [{name,state,image,owner_uid,unit,created_usec}]
json=$("$PODCTL" list --json)
echo "$json" | jq -e 'length == 2'
echo "$json" | jq -e 'all(.[]; (keys - ["created_usec","image","name","owner_uid","state","unit"]) == [])'
echo "$json" | jq -e '.[] | select(.name == "p1") | .state == "running" and .image == "busybox" and
        .owner_uid == 0 and .unit == "pod@p1.service" and .created_usec > 0'

# status --json
st=$("$PODCTL" status --json p1)
echo "$st" | jq -e '["name","state","image","owner_uid","unit","slice","leader","created_usec",
        "command","environment","working_directory","storage","root_directory","auto_remove",
        "memory_max","cpu_quota_per_sec_usec","tasks_max","io_weight","exit_code","exit_status",
        "exit_message","finished_usec"] - keys == []'
echo "$st" | jq -e '.name == "p1" and .state == "running" and .image == "busybox" and
        .unit == "pod@p1.service" and .slice == "machine.slice" and .leader > 1 and
        .owner_uid == 0 and .auto_remove == false and (.command | length) == 3 and
        .command[0] == "sh"'
assert_eq "$(echo "$st" | jq -r .storage)" "$storage"
assert_eq "$(echo "$st" | jq -r .root_directory)" "$PODS/p1/rootfs"
# The leader is a process of the pod's unit.
leader=$(echo "$st" | jq -r .leader)
grep -q 'pod@p1\.service' "/proc/$leader/cgroup" || fail "leader $leader is not in pod@p1.service: $(cat /proc/$leader/cgroup)"
# status, text, names the pod, its state and its unit.
text=$("$PODCTL" status p1)
assert_match "$text" 'p1' && assert_match "$text" 'running' && assert_match "$text" 'pod@p1\.service'

# Errors on a running pod.
expect_fail 'PodRunning|is running|already running' "$PODCTL" start p1
expect_fail 'PodRunning|is running' "$PODCTL" rm p1
assert_eq "$(pod_state p1)" running

# stop
"$PODCTL" stop p1
wait_until 60 pod_in_state p1 exited
assert_ne "$(unit_state pod@p1.service)" active
st=$("$PODCTL" status --json p1)
echo "$st" | jq -e '.finished_usec > 0 and .leader == 0 and (.exit_code == "exited" or .exit_code == "killed")'
expect_fail 'PodNotRunning|not running' "$PODCTL" stop p1
expect_fail 'PodNotRunning|not running' "$PODCTL" kill p1
# A stopped pod starts again, and its state is kept on disk across starts.
"$PODCTL" start p1
wait_until 60 pod_in_state p1 running
# kill --signal=SIGKILL
"$PODCTL" kill --signal=SIGKILL p1
wait_until 60 pod_in_state p1 exited
st=$("$PODCTL" status --json p1)
echo "$st" | jq -e '.exit_code == "killed" and .exit_status == 9'
expect_fail 'invalid|unknown|signal' "$PODCTL" kill --signal=SIGNOPE p1

# rm
"$PODCTL" rm p1
assert_no_pod p1
"$PODCTL" rm "$gen"
assert_no_pod "$gen"

# rm --force of a running pod.
"$PODCTL" create --name p2 busybox "${SLEEPER[@]}"
"$PODCTL" start p2
wait_until 60 pod_in_state p2 running
expect_fail 'PodRunning|is running' "$PODCTL" rm p2
"$PODCTL" rm --force p2
assert_no_pod p2
assert_ne "$(unit_state pod@p2.service)" active

# run -d prints the name and leaves the pod running.
assert_eq "$("$PODCTL" run -d --name p3 busybox "${SLEEPER[@]}")" p3
wait_until 60 pod_in_state p3 running
"$PODCTL" stop p3
"$PODCTL" rm p3
d=$("$PODCTL" run -d busybox "${SLEEPER[@]}")
pod_in_state "$d" running || wait_until 60 pod_in_state "$d" running
"$PODCTL" rm --force "$d"
assert_no_pod "$d"

# run --rm: output, stdin, exit statuses; nothing is left.
pods_before=$(dir_entries "$PODS")
assert_eq "$("$PODCTL" run --rm busybox echo hello)" hello
assert_eq "$(echo piped | "$PODCTL" run --rm busybox cat)" piped
assert_eq "$("$PODCTL" run --rm busybox sh -c 'echo out; echo err >&2' 2>"$T/err")" out
assert_eq "$(cat "$T/err")" err
assert_eq "$("$PODCTL" run --rm busybox sh -c 'echo "$0 $1"' a b)" "a b"
r=0; "$PODCTL" run --rm busybox sh -c 'exit 3' || r=$?
assert_eq "$r" 3 "exit status of 'exit 3'"
r=0; "$PODCTL" run --rm busybox false || r=$?
assert_eq "$r" 1 "exit status of false"
expect_fail --status=127 'No such file|not found|/no/such/command' "$PODCTL" run --rm busybox /no/such/command
# Killed by a signal: 128 + n. (From outside: the pod's PID 1 could not be killed from
# inside its own PID namespace.)
"$PODCTL" run --rm --name pk busybox "${SLEEPER[@]}" &
runner=$!
wait_until 60 pod_in_state pk running
"$PODCTL" kill --signal=SIGKILL pk
r=0; wait $runner || r=$?
assert_eq "$r" 137 "exit status of a pod killed by SIGKILL"
assert_no_pod pk
assert_eq "$(dir_entries "$PODS")" "$pods_before" "pods/ after run --rm"
assert_eq "$("$PODCTL" list --json | jq length)" 0

# run -d --rm: nobody waits for the pod, so podmachined removes it when it ends; without
# --rm (the control) the ended pod stays.
pod_gone() { ! pod_names | grep -qx -- "$1"; }
"$PODCTL" run -d --rm --name dr busybox sleep 2 >/dev/null
"$PODCTL" run -d --name dk busybox sleep 2 >/dev/null
wait_until 60 pod_gone dr
assert_no_pod dr
wait_until 60 pod_in_state dk exited
"$PODCTL" rm dk

# run without --rm waits, passes the status, keeps the pod.
r=0; "$PODCTL" run --name p4 busybox sh -c 'exit 5' || r=$?
assert_eq "$r" 5
assert_eq "$(pod_state p4)" exited
"$PODCTL" status --json p4 | jq -e '.exit_code == "exited" and .exit_status == 5'
"$PODCTL" rm p4
assert_no_pod p4

# The pod sees its own root, not the host's.
assert_eq "$("$PODCTL" run --rm busybox cat /etc/os-release | sed -n 's/^ID=//p')" busybox

# Errors: unknown pod.
for verb in start stop status rm kill; do
        expect_fail 'NoSuchPod|does not exist|no such pod' "$PODCTL" "$verb" no-such-pod
done
# Unknown image, podctl's own failure in run: 125.
expect_fail 'NoSuchImage|does not exist|no such image' "$PODCTL" create --name p5 no-such-image true
assert_no_pod p5
expect_fail --status=125 'NoSuchImage|does not exist|no such image' "$PODCTL" run --rm no-such-image true
expect_fail --status=125 'NoSuchImage|does not exist|no such image' "$PODCTL" run --name p5 no-such-image true
assert_no_pod p5
# Invalid names.
for bad in ../x "$(printf 'a%.0s' $(seq 65))" 'a b' '-x' 'a/b'; do
        expect_fail 'InvalidName|invalid' "$PODCTL" create --name "$bad" busybox true
        expect_fail 'InvalidName|invalid|NoSuchPod|does not exist' "$PODCTL" status -- "$bad"
done
expect_fail --status=125 'InvalidName|invalid' "$PODCTL" run --rm --name ../x busybox true
# 64 characters is fine.
long=$(printf 'p%.0s' $(seq 64))
"$PODCTL" create --name "$long" busybox true
"$PODCTL" rm "$long"
assert_no_pod "$long"
# Duplicate names.
"$PODCTL" create --name p6 busybox true
created=$(pod_field p6 created_usec)
expect_fail 'PodExists|already exists' "$PODCTL" create --name p6 busybox echo other
expect_fail --status=125 'PodExists|already exists' "$PODCTL" run --rm --name p6 busybox true
# The existing pod is untouched.
assert_eq "$(pod_field p6 created_usec)" "$created"
assert_eq "$("$PODCTL" status --json p6 | jq -c .command)" '["true"]'
"$PODCTL" rm p6
# No command: the daemon picks a default, and the pod records one.
"$PODCTL" create --name p7 busybox
"$PODCTL" status --json p7 | jq -e '(.command | length) > 0'
"$PODCTL" rm p7
assert_no_pod p7

# Nothing of it is left.
assert_eq "$("$PODCTL" list --json)" "[]"
assert_eq "$(dir_entries "$PODS")" "" "pods/"
assert_match "$("$PODCTL" list | tail -n1)" '^0 pods listed\.$' "empty list footer"
failed=$(systemctl list-units --all --plain --no-legend --state=failed 'pod@*' || true)
[ -z "$failed" ] || fail "failed pod units: $failed"
echo "OK $SCENARIO"
