#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The storage back end: on btrfs an image is a read-only subvolume and a pod's root a
# snapshot of it; elsewhere a pod's root is an overlay with the image as lower layer.
# Either way a pod costs no copy of its image, and what it writes stays its own.
set -eux
. "$(dirname "$0")/lib.sh"

fs=$(stat -f -c %T "$STATE")
if [ "$fs" = btrfs ]; then storage=btrfs; else storage=overlay; fi

mkdir -p "$T/big"
make_busybox_rootfs "$T/big" 50
"$PODCTL" image import "$T/big" big
image_path=$IMAGES/big
test -f "$image_path/payload"
assert_eq "$("$PODCTL" image list --json | jq -r '.[] | select(.name == "big") | .size >= 52428800')" true

"$PODCTL" create --name s1 big sh -c 'echo written-by-pod >/written; rm /etc/os-release; echo changed >/payload-copy; sleep 100000 & wait'
assert_eq "$(pod_field s1 storage)" "$storage"
"$PODCTL" start s1
wait_until 60 pod_in_state s1 running
wait_until 60 test -e "$PODS/s1/$([ $storage = btrfs ] && echo rootfs || echo upper)/payload-copy"

# A pod is no copy of its image: its directory holds far less than the 50 MB payload.
used_kb=$(du -skx "$PODS/s1" | cut -f1)
[ "$used_kb" -lt 10240 ] || fail "pod s1 uses ${used_kb} KiB: the image was copied"

if [ $storage = btrfs ]; then
        # The image: a read-only subvolume.
        btrfs subvolume show "$image_path" >/dev/null
        assert_eq "$(btrfs property get -ts "$image_path" ro)" ro=true
        # The pod's root: a writable snapshot of it.
        show=$(btrfs subvolume show "$PODS/s1/rootfs")
        image_uuid=$(btrfs subvolume show "$image_path" | awk '$1 == "UUID:" {print $2}')
        parent_uuid=$(awk '$1 == "Parent" && $2 == "UUID:" {print $3}' <<<"$show")
        assert_eq "$parent_uuid" "$image_uuid" "parent UUID of the pod's rootfs"
        assert_eq "$(btrfs property get -ts "$PODS/s1/rootfs" ro)" ro=false
        # What the pod wrote is in its snapshot only.
        assert_eq "$(cat "$PODS/s1/rootfs/written")" written-by-pod
        test ! -e "$PODS/s1/rootfs/etc/os-release"
        # du cannot see sharing of extents; btrfs can: the pod's exclusive data is small.
        btrfs filesystem du -s --raw "$PODS/s1/rootfs" | tail -n1 >"$T/fsdu"
        exclusive=$(awk '{print $2}' "$T/fsdu")
        [ "$exclusive" -lt 10485760 ] || fail "pod rootfs has $exclusive exclusive bytes: not a snapshot"
        # Writing into the image is refused.
        r=0; touch "$image_path/not-allowed" 2>/dev/null || r=$?
        assert_ne "$r" 0 "writing into a read-only image subvolume"
else
        # What the pod wrote lands in its upper layer...
        assert_eq "$(cat "$PODS/s1/upper/written")" written-by-pod
        assert_eq "$(cat "$PODS/s1/upper/payload-copy")" changed
        # ...a deletion as a whiteout (a 0/0 character device)...
        assert_eq "$(stat -c '%F %t %T' "$PODS/s1/upper/etc/os-release")" "character special file 0 0"
        test -d "$PODS/s1/work"
        # ...and the payload was not copied up.
        test ! -e "$PODS/s1/upper/payload"
fi
# Either way, the image is unchanged.
test ! -e "$image_path/written"
test ! -e "$image_path/payload-copy"
grep -q '^ID=busybox' "$image_path/etc/os-release"
cmp "$image_path/payload" "$T/big/payload"

# A second pod from the same image sees the image, not the first pod's changes.
assert_eq "$("$PODCTL" run --rm big sh -c 'test -e /written && echo leaked || echo clean')" clean
assert_eq "$("$PODCTL" run --rm big sh -c 'cat /etc/os-release | grep -c ^ID=busybox')" 1
assert_eq "$("$PODCTL" run --rm big sh -c 'wc -c </payload')" 52428800

# The pod's changes survive a restart of the pod, and go with the pod.
"$PODCTL" stop s1
wait_until 60 pod_in_state s1 exited
"$PODCTL" start s1
wait_until 60 pod_in_state s1 running
"$PODCTL" rm --force s1
assert_no_pod s1
test ! -e "$PODS/s1"
if [ $storage = btrfs ]; then
        ! btrfs subvolume list "$STATE" | grep -q 'pods/s1' || fail "the pod's subvolume is left"
fi

# Removing the image removes its subvolume or tree.
"$PODCTL" image rm big
test ! -e "$image_path"
if [ $storage = btrfs ]; then
        assert_eq "$(btrfs subvolume list "$STATE" | grep -c ' path images/big$' || true)" 0
fi
assert_eq "$(dir_entries "$IMAGES")" ""

# --- Disk limits (btrfs quotas on the pod's snapshot) ---------------------------------
make_busybox_rootfs "$T/quota-rootfs"
"$PODCTL" image import "$T/quota-rootfs" quota-img
WRITE=(sh -c 'dd if=/dev/zero of=/root/big bs=1M count=48 conv=fsync 2>&1 && sync && echo wrote')
if [ $storage = btrfs ]; then
        # Positive control: without a limit the pod writes 48 MiB.
        out=$("$PODCTL" run --rm quota-img "${WRITE[@]}")
        assert_match "$out" '^wrote$' "48 MiB written without a limit"
        "$PODCTL" create --name limited --disk-limit=16M quota-img "${WRITE[@]}" >/dev/null
        assert_eq "$(pod_field limited disk_max)" $((16 * 1024 * 1024)) "disk_max"
        assert_match "$("$PODCTL" status limited)" 'Limits: .*disk=16M' "status"
        out=$("$PODCTL" start limited; wait_until 60 pod_in_state limited exited; journalctl -u pod@limited.service --no-pager -o cat)
        assert_match "$out" 'Disk quota exceeded' "the pod's write beyond its limit"
        "$PODCTL" rm limited
else
        expect_fail 'needs the btrfs store' "$PODCTL" create --name limited --disk-limit=16M quota-img true
        assert_no_pod limited
fi
"$PODCTL" image rm quota-img
echo "OK $SCENARIO"
