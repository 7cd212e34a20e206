#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# User namespaces by default: every pod's root is a 64K-aligned range of its own picked by
# the daemon, never the host's root; the image is seen through an idmapped mount and stays
# as it is; what the pod writes lands on its own copy-on-write layer.
set -eux
. "$(dirname "$0")/lib.sh"

fs=$(stat -f -c %T "$STATE")
if [ "$fs" = btrfs ]; then storage=btrfs; else storage=overlay; fi

import_busybox

image_sums() {
        (cd "$IMAGES/busybox" && find . -xdev \( -type f -o -type l -o -type d \) -printf '%p %u:%g %m %s\n' | sort &&
                find . -xdev -type f -print0 | sort -z | xargs -0 sha256sum)
}
before=$(image_sums)

# The app, the init's only child, as the host sees it.
app_pid() { # POD
        local leader
        leader=$(pod_field "$1" leader)
        pgrep -P "$leader" | head -n1
}

"$PODCTL" run -d --name u1 busybox sh -c 'echo written-by-pod >/written; sleep 100000'
"$PODCTL" run -d --name u2 busybox sleep 100000
wait_until 60 pod_in_state u1 running
wait_until 60 pod_in_state u2 running

base1=$(pod_field u1 uid_shift)
base2=$(pod_field u2 uid_shift)
[ "$base1" -ge $((0x80000)) ] && [ "$base1" -lt $((0x6FFF0000)) ] || fail "u1's range $base1 is outside the window"
assert_eq $((base1 % 65536)) 0 "alignment of u1's range"
assert_eq $((base2 % 65536)) 0 "alignment of u2's range"
# Disjoint: aligned ranges of the same size are either equal or apart.
assert_ne "$base1" "$base2" "the ranges of two running pods"
"$PODCTL" status u1 | grep -E "UID range: $base1-$((base1 + 65535))\$"
path=$(busctl call io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager GetPod s u1 | awk '{print $2}' | tr -d '"')
assert_eq "$(busctl get-property io.podctl.pod1 "$path" io.podctl.pod1.Pod UIDShift)" "u $base1"

for pod in u1 u2; do
        base=$(pod_field $pod uid_shift)
        wait_until 30 test -n "$(app_pid $pod)"
        pid=$(app_pid $pod)
        assert_eq "$(awk '{print $1, $2, $3}' /proc/$pid/uid_map)" "0 $base 65536"
        assert_eq "$(awk '{print $1, $2, $3}' /proc/$pid/gid_map)" "0 $base 65536"
        # Not the host's root: its real, effective, saved and file system UIDs are the base.
        assert_eq "$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' /proc/$pid/status)" "$base $base $base $base"
        assert_eq "$(awk '$1 == "Gid:" {print $2, $3, $4, $5}' /proc/$pid/status)" "$base $base $base $base"
        # Inside, it is root of its own namespace.
        assert_eq "$("$PODCTL" run --rm busybox id -u)" 0
done

# What the pod wrote: the pod's root owns it, seen through the pod's root mount; on disk
# it is on the pod's own layer, the image untouched.
pid=$(app_pid u1)
wait_until 30 test -e /proc/$pid/root/written
assert_eq "$(stat -c %u:%g /proc/$pid/root/written)" "$base1:$base1"
if [ $storage = overlay ]; then
        # overlayfs writes its upper layer as the pod's root.
        assert_eq "$(stat -c %u:%g "$PODS/u1/upper/written")" "$base1:$base1"
        assert_eq "$(stat -c %u:%g "$PODS/u1/upper")" "$base1:$base1"
else
        # The idmapped snapshot keeps on-disk IDs unshifted, as the image has them.
        assert_eq "$(cat "$PODS/u1/rootfs/written")" written-by-pod
        assert_eq "$(stat -c %u:%g "$PODS/u1/rootfs/written")" 0:0
fi
test ! -e "$IMAGES/busybox/written"

# The host's root does not leak in: no mount from the pod's root reaches the host's tree.
assert_no_match "$(findmnt -rn -o TARGET)" "^$IMAGES/busybox" "the host's mounts"

"$PODCTL" stop u1 u2
"$PODCTL" rm u1 u2
assert_eq "$(image_sums)" "$before" "the image's tree after two pods wrote to it"

# A range is free again once its pod is gone.
"$PODCTL" create --name u3 busybox true
assert_eq "$(pod_field u3 uid_shift)" "$base1"
"$PODCTL" rm u3

# --private-users=no: the host's root, as before user namespaces.
"$PODCTL" run -d --name c1 --private-users=no busybox sleep 100000
wait_until 60 pod_in_state c1 running
assert_eq "$(pod_field c1 uid_shift)" null
"$PODCTL" status c1 | grep -E "UID range: none"
wait_until 30 test -n "$(app_pid c1)"
assert_eq "$(awk '{print $1, $2, $3}' /proc/$(app_pid c1)/uid_map)" "0 0 4294967295"
"$PODCTL" rm --force c1

# --network=host under a user namespace: the host's /sys, read-only.
assert_eq "$("$PODCTL" run --rm --network=host busybox sh -c 'test -d /sys/class && touch /sys/x 2>/dev/null || echo ro')" ro

expect_fail "Invalid --private-users" "$PODCTL" create --private-users=maybe busybox true
