#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pods of several apps (rkt's model): each app has its own root file system and mount
# namespace, all share the pod's PID, network, IPC, UTS and user namespaces; the pod ends
# by its exit policy and status reports each app's end; an app that fails to start takes
# the pod's start with it; --pod-file; bad requests are refused with nothing created.
set -eux
. "$(dirname "$0")/lib.sh"

pod_jq() { # POD FILTER
        "$PODCTL" status --json "$1" | jq -r "$2"
}

import_busybox
# A second image: the same tree with a marker only it has.
make_busybox_rootfs "$T/tools-rootfs"
echo tools-image >"$T/tools-rootfs/etc/tools-marker"
"$PODCTL" image import "$T/tools-rootfs" tools

# --- Namespaces and roots ------------------------------------------------------------

# Each app prints its namespaces; app "busybox" serves one line on the pod's loopback,
# which app "tools" reads: one network namespace.
NS='for n in pid net ipc uts user mnt; do echo "$n $(readlink /proc/self/ns/$n)"; done'
out=$("$PODCTL" run --rm --name duo \
        --app busybox sh -c "$NS | sed s/^/a:/; echo a:host \$(hostname); test -e /etc/tools-marker && echo a:marker;
                             echo written-by-a >/root/a-file; echo pong | nc -l -p 7777 127.0.0.1 >/dev/null; echo a:done" \
        --app tools sh -c "$NS | sed s/^/b:/; echo b:host \$(hostname); cat /etc/tools-marker | sed s/^/b:/;
                           test -e /root/a-file && echo b:sees-a-file;
                           i=0; until r=\$(nc 127.0.0.1 7777 </dev/null 2>/dev/null) && [ -n \"\$r\" ]; do
                                   i=\$((i + 1)); [ \$i -lt 100 ] || break; sleep 0.1; done; echo b:got \$r")
for n in pid net ipc uts user; do
        a=$(sed -n "s/^a:$n //p" <<<"$out")
        b=$(sed -n "s/^b:$n //p" <<<"$out")
        [ -n "$a" ] || fail "no $n namespace from app busybox: $out"
        assert_eq "$b" "$a" "$n namespace of app tools"
done
a=$(sed -n 's/^a:mnt //p' <<<"$out")
b=$(sed -n 's/^b:mnt //p' <<<"$out")
[ -n "$a" ] || fail "no mount namespace from app busybox: $out"
assert_ne "$b" "$a" "mount namespace of app tools (each app has its own)"
assert_match "$out" '^a:host duo$' "hostname in app busybox"
assert_match "$out" '^b:host duo$' "hostname in app tools"
# Own roots: only tools' image has the marker; what busybox writes stays in its root.
assert_no_match "$out" '^a:marker' "app busybox's root"
assert_match "$out" '^b:tools-image$' "app tools' root"
assert_no_match "$out" '^b:sees-a-file' "app tools' root"
assert_match "$out" '^b:got pong$' "loopback shared by the apps"
assert_match "$out" '^a:done$' "app busybox"

# --- Exit policies and per-app status --------------------------------------------------

# all (the default): the pod ends when both have; the first failure is the pod's.
expect_fail --status=3 '' "$PODCTL" run --name all-pol \
        --app busybox sh -c 'exit 0' --app tools sh -c 'sleep 0.5; exit 3'
j=$("$PODCTL" status --json all-pol)
assert_eq "$(jq -r .exit_policy <<<"$j")" all "exit policy"
assert_eq "$(jq -r '.exit_code + " " + (.exit_status|tostring)' <<<"$j")" "exited 3" "pod exit"
assert_eq "$(jq -r '[.apps[] | .name + "=" + .exit_code + ":" + (.exit_status|tostring)] | join(" ")' <<<"$j")" \
        "busybox=exited:0 tools=exited:3" "app exits"
text=$("$PODCTL" status all-pol)
assert_match "$text" 'Policy: all' "status text"
assert_match "$text" 'Apps: busybox \(busybox\): sh -c .exit 0.; exited, status=0' "status text"
assert_match "$text" 'tools \(tools\): .*exited, status=3' "status text"
"$PODCTL" rm all-pol

# any: the first app to exit ends the pod, the other is stopped with SIGTERM.
"$PODCTL" run --name any-pol --exit-policy=any --app busybox sh -c 'exit 0' --app tools sleep 1000
j=$("$PODCTL" status --json any-pol)
assert_eq "$(jq -r '.exit_code + " " + (.exit_status|tostring)' <<<"$j")" "exited 0" "pod exit (any)"
assert_eq "$(jq -r '[.apps[] | .name + "=" + .exit_code + ":" + (.exit_status|tostring)] | join(" ")' <<<"$j")" \
        "busybox=exited:0 tools=killed:15" "app exits (any)"
"$PODCTL" rm any-pol

# failure: the first failure ends the pod, even while another app still runs.
expect_fail --status=4 '' "$PODCTL" run --name fail-pol --exit-policy=failure \
        --app busybox sleep 1000 --app tools sh -c 'sleep 0.3; exit 4'
j=$("$PODCTL" status --json fail-pol)
assert_eq "$(jq -r '[.apps[] | .name + "=" + .exit_code + ":" + (.exit_status|tostring)] | join(" ")' <<<"$j")" \
        "busybox=killed:15 tools=exited:4" "app exits (failure)"
"$PODCTL" rm fail-pol
# ... and a success alone does not.
"$PODCTL" run --name fail-pol2 --exit-policy=failure --app busybox sh -c 'exit 0' --app tools sh -c 'sleep 0.5; exit 0'
assert_eq "$(pod_jq fail-pol2 '[.apps[].exit_code] | join(" ")')" "exited exited" "both apps ran to the end"
"$PODCTL" rm fail-pol2

# An app that ignores SIGTERM is killed after the stop timeout.
"$PODCTL" run --name stubborn --exit-policy=any \
        --app busybox sh -c 'sleep 0.3' --app tools sh -c "trap '' TERM; while :; do sleep 0.1; done"
assert_eq "$(pod_jq stubborn '[.apps[] | .exit_code + ":" + (.exit_status|tostring)] | join(" ")')" \
        "exited:0 killed:9" "app ignoring SIGTERM"
"$PODCTL" rm stubborn

# podctl stop stops every app.
"$PODCTL" run -d --name stopped --app busybox sleep 1000 --app tools sleep 1000
wait_until 30 pod_in_state stopped running
"$PODCTL" stop stopped
assert_eq "$(pod_jq stopped '[.apps[] | .exit_code + ":" + (.exit_status|tostring)] | join(" ")')" \
        "killed:15 killed:15" "apps after stop"
assert_eq "$(pod_state stopped)" exited "state after stop"
"$PODCTL" rm stopped

# --- Files: each app writes to its own copy-on-write root -----------------------------

"$PODCTL" create --name files --app busybox sh -c 'echo one >/root/f' --app tools sh -c 'echo two >/root/f'
"$PODCTL" start files
wait_until 30 pod_in_state files exited
shift_=$(pod_field files uid_shift)
root=$(pod_field files root_directory)
# On btrfs the snapshot is seen through an idmapped mount and keeps on-disk IDs as the
# image has them; overlayfs' upper layer is not idmapped and gets the shifted owner.
if [ "$(stat -f -c %T "$PODS")" = btrfs ]; then
        a_file=$PODS/files/rootfs/root/f
        b_file=$PODS/files/apps/tools/rootfs/root/f
        owner=0
else
        a_file=$PODS/files/upper/root/f
        b_file=$PODS/files/apps/tools/upper/root/f
        owner=$shift_
fi
assert_eq "$(cat "$a_file")" one "file of app busybox"
assert_eq "$(cat "$b_file")" two "file of app tools"
assert_eq "$(stat -c %u "$b_file")" "$owner" "owner of app tools' file on the host"
assert_eq "$root" "$PODS/files/rootfs" "RootDirectory (the first app's)"
# Both images are in use by the pod: neither can go.
expect_fail 'ImageInUse|in use' "$PODCTL" image rm tools
"$PODCTL" rm files
assert_no_pod files

# --- One app fails to start: the pod does not start -----------------------------------

expect_fail --status=127 "Failed to execute 'no-such-command' in app 'tools'" \
        "$PODCTL" run --name broken --app busybox sleep 1000 --app tools no-such-command
assert_eq "$(pod_field broken exit_code)" start-failed "exit code"
assert_eq "$(pod_state broken)" exited "state of the pod whose app failed"
[ -z "$(systemctl show -P MainPID pod@broken.service | grep -v '^0$')" ] || fail "pod@broken still has a main process"
"$PODCTL" rm broken

# --- Pod files ------------------------------------------------------------------------

cat >"$T/pod.json" <<'EOF'
{
  "name": "from-file",
  "exit_policy": "any",
  "apps": [
    { "name": "web", "image": "busybox", "command": ["sh", "-c", "echo web:$GREETING:$(pwd)"],
      "environment": ["GREETING=hello"], "working_directory": "/etc" },
    { "name": "sidecar", "image": "tools", "command": ["sleep", "1000"] }
  ]
}
EOF
out=$("$PODCTL" run --rm --pod-file "$T/pod.json")
assert_match "$out" '^web:hello:/etc$' "app output"
assert_no_pod from-file
"$PODCTL" create --pod-file "$T/pod.json" --name renamed >/dev/null
assert_eq "$(pod_jq renamed '[.apps[].name] | join(" ")')" "web sidecar" "app names from the pod file"
assert_eq "$(pod_field renamed exit_policy)" any "exit policy from the pod file"
"$PODCTL" rm renamed

# --- Refused requests, nothing created ------------------------------------------------

echo '{"apps": [{"image": "busybox"}, {"name": "busybox", "image": "tools"}]}' >"$T/dup.json"
expect_fail "app 'busybox' appears twice" "$PODCTL" create --name dup --pod-file "$T/dup.json"
assert_no_pod dup
expect_fail "Image 'no-such-image' does not exist" "$PODCTL" create --name noimg --app busybox --app no-such-image
assert_no_pod noimg
expect_fail 'exit policy' "$PODCTL" create --name badpol --exit-policy=some --app busybox
# Over D-Bus: the same checks in the service.
expect_fail 'InvalidArgument.*appears twice' bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePodWithApps \
        "'dup'" "[('a', 'busybox', @as [], @a{sv} {}), ('a', 'tools', @as [], @a{sv} {})]" "@a{sv} {}"
assert_no_pod dup
apps=$(for i in $(seq 17); do printf "('a%d', 'busybox', @as [], @a{sv} {})," "$i"; done)
expect_fail 'LimitExceeded' bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePodWithApps \
        "'many'" "[${apps%,}]" "@a{sv} {}"
assert_no_pod many
expect_fail 'InvalidArgument.*at least one app' bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePodWithApps \
        "'none'" "@a(ssasa{sv}) []" "@a{sv} {}"
expect_fail 'InvalidName' bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePodWithApps \
        "'badapp'" "[('../x', 'busybox', @as [], @a{sv} {})]" "@a{sv} {}"
expect_fail 'InvalidArgument.*Unknown option' bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePodWithApps \
        "'badopt'" "[('a', 'busybox', @as [], {'MemoryMax': <uint64 1>})]" "@a{sv} {}"
expect_fail 'InvalidArgument.*Unknown option' bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePodWithApps \
        "'badopt'" "[('a', 'busybox', @as [], @a{sv} {})]" "{'Environment': <['A=b']>}"
for n in badapp badopt none many; do assert_no_pod $n; done
"$PODCTL" image rm tools

# An empty environment is no environment (this once crashed the service).
bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePod "'empty-env'" "'busybox'" "@as []" "{'Environment': <@as []>}"
bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePodWithApps "'empty-env2'" \
        "[('a', 'busybox', @as [], {'Environment': <@as []>})]" "@a{sv} {}"
"$PODCTL" rm empty-env empty-env2
bus_call /io/podctl/pod1 io.podctl.pod1.Manager.CreatePod "'empty-caps'" "'busybox'" "@as []" "{'CapabilitiesAdd': <@as []>}"
"$PODCTL" rm empty-caps
