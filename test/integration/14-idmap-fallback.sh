#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Where the file system cannot idmap (here ramfs, which has no idmapped mounts), a pod
# with a user namespace still runs: its app gets its own copy of the image, shifted
# into the pod's UID range once, on its first start; the image stays unchanged, status
# says so, and later starts reuse the copy.
set -eux
. "$(dirname "$0")/lib.sh"

# On the regular store the pod's files are idmapped, or not mapped at all.
import_busybox
"$PODCTL" create --name mapped busybox true >/dev/null
"$PODCTL" create --name unmapped --private-users=no busybox true >/dev/null
assert_eq "$(pod_field mapped uid_mapping)" idmap "UID mapping on $(stat -f -c %T "$STATE")"
assert_eq "$(pod_field unmapped uid_mapping)" none "UID mapping without a user namespace"
podctl_reset

# Positive control: an idmapped mount works on the regular store, not on ramfs.
probe=$PODCTL_BUILDDIR/test/idmap-probe
assert_eq "$("$probe" "$STATE")" "idmap: yes" "idmapped mount of the regular store"
mount -t ramfs -o mode=0755 ramfs "$STATE"
trap 'r=$?; podctl_reset; umount -l "$STATE"; (exit $r); lib_exit' EXIT
assert_eq "$("$probe" "$STATE" || true)" "idmap: no: Invalid argument" "idmapped mount of ramfs"

import_busybox
image_before=$(cd "$IMAGES/busybox" && find . -printf '%p %U:%G %m\n' | sort | sha256sum)

out=$("$PODCTL" run --name shifted busybox sh -c 'id -u; stat -c %u /bin/busybox; cat /root/f 2>/dev/null; echo data >/root/f')
assert_eq "$out" "$(printf '0\n0')" "IDs seen in the pod"
base=$(pod_field shifted uid_shift)
assert_eq "$(pod_field shifted uid_mapping)" chown "UID mapping on ramfs"
assert_match "$("$PODCTL" status shifted)" "UID range: $base-[0-9]+ \\(chowned copy: the file system cannot idmap\\)" "status"
# The pod's own copy is shifted; the image is not.
assert_eq "$(stat -c %u:%g "$PODS/shifted/rootfs/bin/busybox")" "$base:$base" "owner of the copy's busybox"
assert_eq "$(stat -c %u:%g "$PODS/shifted/rootfs/root/f")" "$base:$base" "owner of a file the pod wrote"
assert_eq "$(stat -c %u "$IMAGES/busybox/bin/busybox")" 0 "owner of the image's busybox"
assert_eq "$(cat "$PODS/shifted/uid-shifted")" "$base" "the record of the shift"
assert_eq "$(cd "$IMAGES/busybox" && find . -printf '%p %U:%G %m\n' | sort | sha256sum)" "$image_before" "the image"

# The second start reuses the copy: the pod's file is still there, nothing is shifted again.
"$PODCTL" start shifted
wait_until 30 pod_in_state shifted exited
out=$(journalctl -u pod@shifted.service --no-pager -o cat)
assert_eq "$(grep -c '^Shifted ' <<<"$out")" 1 "shifts in the journal of pod@shifted: $out"
assert_eq "$(cat "$PODS/shifted/rootfs/root/f")" data "the pod's file after its second start"
"$PODCTL" rm shifted
assert_no_pod shifted

# Every app of a pod gets its own shifted copy.
out=$("$PODCTL" run --rm --name two --app busybox id -u --app busybox stat -c %u /bin/busybox)
assert_eq "$(sort <<<"$out" | tr '\n' ' ')" "0 0 " "IDs seen by both apps"
