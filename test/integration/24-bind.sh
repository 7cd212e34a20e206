#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bind mounts: host directories and files in a pod, read-write and read-only; how their
# owners look in the pod's user namespace; users may bind what they own and need an
# admin for anything else; the source is re-checked at every start, so swapping it for a
# symlink to /etc after the pod was allowed gains nothing; destinations that would undo
# the pod's confinement are refused.
set -eux
. "$(dirname "$0")/lib.sh"

add_users alice bob
import_signed_busybox signed
import_busybox
chmod 0755 "$T"
alice_uid=$(id -u alice)
bob_uid=$(id -u bob)
assert_eq "$(as_active alice sh -c 'loginctl show-session -P Active "$XDG_SESSION_ID"')" yes "alice's session"

# create_pod_raw NAME FD_PATH DESTINATION OPTIONS: CreatePod with one BindMounts entry over
# D-Bus, as root; prints the D-Bus error name, or "ok".
create_pod_raw() {
        python3 - "$@" <<'PY'
import os, sys, dbus
name, src, dst, opts = sys.argv[1:5]
fd = os.open(src, os.O_PATH | os.O_CLOEXEC)
m = dbus.Interface(dbus.SystemBus().get_object('io.podctl.pod1', '/io/podctl/pod1'), 'io.podctl.pod1.Manager')
try:
    m.CreatePod(name, 'busybox', ['true'],
                {'BindMounts': dbus.Array([dbus.Struct((dbus.types.UnixFd(fd), dst, False, opts))], signature='(hsbs)')})
    print('ok')
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name())
    print(e.get_dbus_message(), file=sys.stderr)
PY
}

# --- root: read-write and read-only ------------------------------------------------------
mkdir "$T/rw" "$T/ro"
echo host >"$T/ro/f"
echo file >"$T/one-file"
out=$("$PODCTL" run --rm --bind="$T/rw:/data" --bind-ro="$T/ro:/srv/ro" --bind-ro="$T/one-file:/etc/one" busybox \
        sh -c 'echo pod >/data/new && cat /srv/ro/f /etc/one')
assert_eq "$out" "$(printf 'host\nfile')" "what the pod read"
assert_eq "$(cat "$T/rw/new")" pod "what the pod wrote, on the host"
# Root's directory, rootidmap by default: the pod's root writes as its owner.
assert_eq "$(stat -c %u "$T/rw/new")" 0 "owner of the pod's file on the host"
expect_fail 'Read-only file system' "$PODCTL" run --rm --bind-ro="$T/ro:/ro" busybox sh -c 'echo x >/ro/g'
[ ! -e "$T/ro/g" ] || fail "a read-only bind was written"
expect_fail 'Read-only file system' "$PODCTL" run --rm --bind-ro="$T/one-file:/one" busybox sh -c 'echo x >/one'
assert_eq "$(cat "$T/one-file")" file "the read-only file"
# DST defaults to SRC; nosuid and nodev, recursive by default.
mkdir -p "$T/tree/sub"
mount -t tmpfs -o size=1m tmpfs "$T/tree/sub"
echo below >"$T/tree/sub/x"
out=$("$PODCTL" run --rm --bind="$T/tree" busybox sh -c "cat $T/tree/sub/x; grep ' $T/tree ' /proc/self/mountinfo")
assert_match "$out" "^below" "the mount below the source (rbind)"
assert_match "$out" "nosuid" "options of the bind"
assert_match "$out" "nodev" "options of the bind"
out=$("$PODCTL" run --rm --bind="$T/tree:/t:norbind" busybox sh -c 'ls /t/sub')
assert_eq "$out" "" "below a norbind source"
umount "$T/tree/sub"

# status and the Pod's BindMounts property.
"$PODCTL" create --name shown --bind="$T/rw:/data:norbind,noidmap" --bind-ro="$T/ro:/ro" busybox true >/dev/null
assert_match "$("$PODCTL" status shown)" "Binds: $T/rw:/data \\(rw, norbind,noidmap\\)" "status"
assert_match "$("$PODCTL" status shown)" "$T/ro:/ro \\(ro, rbind,rootidmap\\)" "status"
assert_eq "$("$PODCTL" status --json shown | jq -c '.binds[1]')" \
        "{\"source\":\"$T/ro\",\"destination\":\"/ro\",\"read_only\":true,\"options\":\"rbind,rootidmap\"}" "status --json"
assert_eq "$(bus_call "$(bus_call /io/podctl/pod1 io.podctl.pod1.Manager.GetPod shown | sed "s/^(objectpath '\\(.*\\)',)$/\\1/")" \
        org.freedesktop.DBus.Properties.Get io.podctl.pod1.Pod BindMounts)" \
        "(<[('$T/rw', '/data', false, 'norbind,noidmap'), ('$T/ro', '/ro', true, 'rbind,rootidmap')]>,)" "BindMounts property"
# A pod started at boot waits for the file systems of its sources.
assert_eq "$(systemctl show -P RequiresMountsFor pod@shown.service | tr ' ' '\n' | grep -cxF -e "$T/rw" -e "$T/ro")" 2 \
        "RequiresMountsFor of pod@shown"
"$PODCTL" rm shown
[ ! -e /etc/systemd/system/pod@shown.service.d/50-podctl-binds.conf ] || fail "binds drop-in of shown left behind"

# --- how owners look: noidmap, idmap, rootidmap ----------------------------------------
mkdir "$T/owned"
echo a >"$T/owned/alices"
chown "$alice_uid:$alice_uid" "$T/owned" "$T/owned/alices"
chmod 0777 "$T/owned"
# rootidmap (the default): the source's owner is the pod's root, others are nobody.
out=$("$PODCTL" run --rm --bind="$T/owned:/o" busybox sh -c 'stat -c %u /o /o/alices; echo x >/o/by-root')
assert_eq "$out" "$(printf '0\n0')" "owners in the pod with rootidmap"
assert_eq "$(stat -c %u "$T/owned/by-root")" "$alice_uid" "the pod's root writes as the source's owner"
# idmap: owner N is N in the pod.
out=$("$PODCTL" run --rm --bind="$T/owned:/o:idmap" busybox stat -c %u /o/alices)
assert_eq "$out" "$alice_uid" "owner in the pod with idmap"
# noidmap: the pod's range applies; the host's users are nobody, what the pod's root
# writes is owned by the range's base.
out=$("$PODCTL" run --name plain --bind="$T/owned:/o:noidmap" busybox sh -c 'stat -c %u /o/alices; echo x >/o/by-plain')
assert_eq "$out" 65534 "owner in the pod with noidmap"
assert_eq "$(stat -c %u "$T/owned/by-plain")" "$(pod_field plain uid_shift)" "owner of the noidmap pod's file"
"$PODCTL" rm plain
# Without a user namespace there is nothing to map.
expect_fail 'InvalidBindMount|needs the pod.s own user namespace' \
        "$PODCTL" create --name nope --private-users=no --bind="$T/owned:/o:rootidmap" busybox true
assert_no_pod nope
out=$("$PODCTL" run --rm --private-users=no --bind="$T/owned:/o" busybox stat -c %u /o/alices)
assert_eq "$out" "$alice_uid" "owner in a pod without a user namespace"

# --- several apps: every app gets the binds -------------------------------------------------
out=$("$PODCTL" run --rm --bind-ro="$T/ro:/ro" --app busybox cat /ro/f --app busybox cat /ro/f)
assert_eq "$out" "$(printf 'host\nhost')" "both apps' binds"

# --- a pod file's binds, after the command line's -----------------------------------------
cat >"$T/pod.json" <<EOF
{ "bind_ro": ["$T/ro:/from-file"], "bind": ["$T/rw:/rw-from-file:norbind"],
  "apps": [{ "image": "busybox", "command": ["sh", "-c", "cat /from-file/f /cli/f; touch /rw-from-file/ok"] }] }
EOF
out=$("$PODCTL" run --name filed --pod-file="$T/pod.json" --bind-ro="$T/ro:/cli")
assert_eq "$out" "$(printf 'host\nhost')" "binds of the pod file"
[ -e "$T/rw/ok" ] || fail "the pod file's read-write bind"
assert_eq "$("$PODCTL" status --json filed | jq -r '[.binds[] | .destination + " " + (.read_only | tostring) + " " + .options] | join(",")')" \
        "/cli true rbind,rootidmap,/rw-from-file false norbind,rootidmap,/from-file true rbind,rootidmap" \
        "binds: the command line's, the pod file's bind, then its bind_ro"
"$PODCTL" rm filed

# --- users ----------------------------------------------------------------------------
# A directory of alice's own on tmpfs, which can be idmapped.
install -d -o alice -g alice "$T/alice"
as_active alice sh -c "mkdir $T/alice/data && echo mine >$T/alice/data/m"
out=$(as_active alice "$PODCTL" --no-ask-password run --rm --bind="$T/alice/data:/data" signed \
        sh -c 'cat /data/m; stat -c %u /data/m; echo pod >/data/p')
assert_eq "$out" "$(printf 'mine\n0')" "alice's own directory in her pod"
assert_eq "$(stat -c %u "$T/alice/data/p")" "$alice_uid" "owner of what alice's pod wrote"
# Hers, but of bob's group (as root or a setgid directory can make it): the pod's root is
# her and her primary group, so nothing of bob's group can be written or made (a file
# setgid to it, say); the same directory in her own group is hers entirely.
install -d -o alice -g bob -m 0777 "$T/alice/bobs-group"
out=$(as_active alice "$PODCTL" --no-ask-password run --rm --bind="$T/alice/bobs-group:/s" signed \
        sh -c 'stat -c %g /s; touch /s/f 2>/dev/null || echo refused')
assert_eq "$out" "$(printf '65534\nrefused')" "bob's group in alice's pod"
[ ! -e "$T/alice/bobs-group/f" ] || fail "alice's pod wrote into a directory of bob's group"
chgrp alice "$T/alice/bobs-group"
out=$(as_active alice "$PODCTL" --no-ask-password run --rm --bind="$T/alice/bobs-group:/s" signed \
        sh -c 'stat -c %g /s; touch /s/f; chmod 2755 /s/f; chgrp 65534 /s/f 2>/dev/null || echo refused')
assert_eq "$out" "$(printf '0\nrefused')" "alice's group in alice's pod"
assert_eq "$(stat -c '%a %g' "$T/alice/bobs-group/f")" "2755 $(id -g alice)" "the pod's setgid file on the host"
# Her home is on the test host's overlayfs, which cannot be idmapped: the default gives
# way to noidmap there (an explicit rootidmap does not).
assert_eq "$(stat -f -c %T /home/alice)" overlayfs "file system of alice's home"
as_active alice sh -c 'mkdir -p /home/alice/data && echo mine >/home/alice/data/m'
out=$(as_active alice "$PODCTL" --no-ask-password run --rm --bind=/home/alice/data:/data signed sh -c 'cat /data/m; stat -c %u /data/m')
assert_eq "$out" "$(printf 'mine\n65534')" "alice's home directory in her pod"
expect_fail "Failed to idmap '/home/alice/data' \\(rootidmap\\)" \
        as_active alice "$PODCTL" --no-ask-password run --rm --bind=/home/alice/data:/data:rootidmap signed true
# ...and not anyone else's.
mkdir "$T/bobs"
chown "$bob_uid:$bob_uid" "$T/bobs"
for src in /etc "$T/bobs"; do
        expect_fail 'Interactive authentication required to create pod .*io\.podctl\.pod1\.start-privileged' \
                as_active alice "$PODCTL" --no-ask-password create --name nope --bind="$src:/x" signed true
        assert_no_pod nope
done
# Her own process's /proc directory is the kernel's, not hers.
expect_fail 'start-privileged|Invalid bind mount' \
        as_active alice "$PODCTL" --no-ask-password create --name nope --bind=/proc/self:/x signed true
assert_no_pod nope
# Her own, but idmap (the pod's root would be the host's on it), or into a pod that runs as
# the host's root: an admin's.
for opt in --bind=/home/alice/data:/d:idmap "--private-users=no --bind=/home/alice/data:/d"; do
        # shellcheck disable=SC2086
        expect_fail 'Interactive authentication required to create pod .*io\.podctl\.pod1\.start-privileged' \
                as_active alice "$PODCTL" --no-ask-password create --name nope $opt signed true
        assert_no_pod nope
done
# Positive control: root may.
out=$("$PODCTL" run --rm --bind-ro=/etc:/hostetc busybox cat /hostetc/hostname)
assert_eq "$out" "$(cat /etc/hostname)" "root's bind of /etc"
"$PODCTL" run --rm --bind="$T/bobs:/x" busybox true

# --- the source is checked at every start ----------------------------------------------
# What an earlier run on this test host left.
as_active alice sh -c 'rm -rf ~/swap ~/swap.old ~/control && mkdir ~/swap ~/control && touch ~/control/ok'
as_active alice "$PODCTL" --no-ask-password create --name control --bind=/home/alice/control:/data signed ls /data >/dev/null
as_active alice "$PODCTL" --no-ask-password create --name swapped --bind=/home/alice/swap:/data signed \
        sh -c 'ls /data; echo pwned >/data/pwned' >/dev/null
as_active alice "$PODCTL" --no-ask-password create --name replaced --bind=/home/alice/swap:/data signed true >/dev/null
as_active alice "$PODCTL" --no-ask-password create --name chowned --bind=/home/alice/control:/data signed true >/dev/null
# Where alice keeps things is hers to know: others see the destination only.
assert_eq "$(as_inactive bob "$PODCTL" status --json control | jq -c '.binds[0] | [.source, .destination]')" '[null,"/data"]' \
        "alice's bind as bob sees it"
assert_match "$(as_inactive bob "$PODCTL" status control)" 'Binds: \(hidden\):/data' "alice's bind in bob's status"
assert_eq "$(as_inactive alice "$PODCTL" status --json control | jq -r '.binds[0].source')" /home/alice/control \
        "alice's bind as she sees it"
# Positive control: unchanged, it starts.
as_active alice "$PODCTL" --no-ask-password start control
wait_until 30 pod_in_state control exited
assert_eq "$(pod_field control exit_code)/$(pod_field control exit_status)" exited/0 "the control pod"
# The swap: the directory becomes a symlink to /etc.
as_active alice sh -c 'mv ~/swap ~/swap.old && ln -s /etc ~/swap'
expect_fail "Refusing to bind '/home/alice/swap' onto '/data' in pod 'swapped': its path now leads through a symlink" \
        as_active alice "$PODCTL" --no-ask-password start swapped
[ ! -e /etc/pwned ] || fail "the pod wrote into /etc"
assert_match "$(pod_field swapped exit_message)" "symlink" "exit message of the swapped pod"
assert_match "$(journalctl -u pod@swapped.service -o cat --no-pager)" "Refusing to bind '/home/alice/swap'" "journal"
# Another directory at the same path: another inode.
as_active alice sh -c 'rm ~/swap && mkdir ~/swap'
expect_fail "Refusing to bind '/home/alice/swap' .*replaced since the pod was created" \
        as_active alice "$PODCTL" --no-ask-password start replaced
# The same directory, now someone else's.
chown bob /home/alice/control
expect_fail "Refusing to bind '/home/alice/control' .*no longer owned" \
        as_active alice "$PODCTL" --no-ask-password start chowned
chown alice /home/alice/control
as_active alice "$PODCTL" --no-ask-password start chowned
wait_until 30 pod_in_state chowned exited
# Root's binds are checked the same way (no owner recorded: an admin allowed them).
mkdir "$T/root-swap"
"$PODCTL" create --name rootswap --bind="$T/root-swap:/data" busybox true >/dev/null
mv "$T/root-swap" "$T/root-swap.old" && ln -s /etc "$T/root-swap"
expect_fail "Refusing to bind '$T/root-swap' .*symlink" "$PODCTL" start rootswap
"$PODCTL" rm control swapped replaced chowned rootswap

# --- destinations, options and sources the service refuses ---------------------------------
for dst in /proc /proc/sys /sys/x /dev/x /run/host /run/host/x / relative /a/../b /a//b /a/; do
        assert_eq "$(create_pod_raw nope "$T/rw" "$dst" "" 2>"$T/err")" io.podctl.pod1.InvalidBindMount "error for $dst"
        assert_match "$(cat "$T/err")" "Invalid bind mount onto" "message for $dst"
        assert_no_pod nope
done
assert_eq "$(create_pod_raw nope "$T/rw" /ok bogus 2>/dev/null)" io.podctl.pod1.InvalidBindMount "unknown option"
assert_eq "$(create_pod_raw nope /dev/null /ok "" 2>/dev/null)" io.podctl.pod1.InvalidBindMount "a device as source"
assert_no_pod nope
# Positive control for the helper.
assert_eq "$(create_pod_raw raw "$T/rw" /ok norbind)" ok "a valid bind over D-Bus"
"$PODCTL" rm raw
# The client's own errors name the bind.
expect_fail "Failed to create pod 'nope': Invalid bind mount onto '/proc/x'" \
        "$PODCTL" create --name nope --bind="$T/rw:/proc/x" busybox true
expect_fail "Failed to open '$T/missing' of bind mount '$T/missing:/x'" \
        "$PODCTL" create --name nope --bind="$T/missing:/x" busybox true
expect_fail "Invalid bind mount '$T/rw:/x:rbind:more'" "$PODCTL" create --name nope --bind="$T/rw:/x:rbind:more" busybox true
expect_fail "unknown options 'ro'" "$PODCTL" create --name nope --bind="$T/rw:/x:ro" busybox true
# A symlink in the image is resolved inside it, never on the host: the destination is made
# where it leads in the image, and a dangling one is refused.
mkdir -p "$T/evil-rootfs"
cp -a "$T/busybox-rootfs/." "$T/evil-rootfs/"
mkdir -p "$T/evil-rootfs/srv/inside-$$"
ln -s "/srv/inside-$$" "$T/evil-rootfs/link"
ln -s "/tmp/escaped-$$" "$T/evil-rootfs/dangling"
"$PODCTL" image import "$T/evil-rootfs" evil
[ ! -e "/srv/inside-$$" ] || fail "/srv/inside-$$ exists on the host"
assert_eq "$("$PODCTL" run --rm --bind-ro="$T/ro:/link/x" evil cat "/srv/inside-$$/x/f")" host "the bind below the image's symlink"
[ ! -e "/srv/inside-$$" ] || fail "a destination was made on the host through the image's symlink"
expect_fail "Failed to bind onto '/dangling/x' in app 'evil' .*No such file" \
        "$PODCTL" run --rm --bind-ro="$T/ro:/dangling/x" evil true
[ ! -e "/tmp/escaped-$$" ] || fail "a destination escaped the image through its symlink"
# At most 16, what one message may carry over the system bus.
binds16=$(bash -c 'for i in $(seq 16); do printf -- "--bind-ro=%s:/b%s " "$1" "$i"; done' _ "$T/ro")
# shellcheck disable=SC2086
assert_eq "$("$PODCTL" run --rm $binds16 busybox cat /b1/f /b16/f)" "$(printf 'host\nhost')" "16 binds"
# shellcheck disable=SC2086
expect_fail 'Too many bind mounts, a pod has at most 16' "$PODCTL" create --name nope $binds16 --bind="$T/rw:/b17" busybox true
assert_no_pod nope
