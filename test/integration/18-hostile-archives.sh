#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile archives cannot reach outside the image they make. Paths with "..", absolute
# paths and paths through symlinks resolve inside the image root: the import succeeds
# and the file lands in the image, where a pod would see it. Hard links out of the
# image, device nodes (unless --allow-devices), size and entry bombs, truncated, random
# and corrupt input fail with named errors and leave nothing in the store. OCI layers
# with the same tricks, and whiteouts and opaque whiteouts through ".." and symlinks,
# touch nothing of the host. Throughout, no canary appears in the host's /tmp, no host
# file is deleted, /etc/shadow does not change. A daemon killed with SIGKILL in the
# middle of an import leaves no listed image, and its next start removes what the
# import had written.
set -eux
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures-images.sh"

rm -f /tmp/canary-* /var/tmp/canary-* /var/tmp/podctl-victim*
shadow_sum=$(sha256sum /etc/shadow)
# Host files that the whiteouts of a hostile OCI layer aim at.
echo victim >/var/tmp/podctl-victim
echo victim >/var/tmp/podctl-victim2

# Nothing was written, linked or deleted outside the image trees.
host_untouched() {
        local left
        left=$(ls -d /tmp/canary-* /var/tmp/canary-* /canary-* "$STATE"/canary-* 2>/dev/null || true)
        [ -z "$left" ] || fail "written outside the image: $left"
        # The symlinks of the chain, had they been created where they lead.
        left=$(find / /var /var/lib "$STATE" "$IMAGES" -mindepth 1 -maxdepth 1 -name 'up[0-9]*' 2>/dev/null || true)
        [ -z "$left" ] || fail "symlinks created outside the image: $left"
        assert_eq "$(sha256sum /etc/shadow)" "$shadow_sum" "/etc/shadow"
        test -f /var/tmp/podctl-victim && test -f /var/tmp/podctl-victim2 ||
                fail "a whiteout deleted a file of the host"
}

# As 08-crash does: SIGKILL to the daemon's main process; the unit's KillMode=mixed has
# systemd kill what is left of it, an import child included. (systemctl kill -s KILL of
# the whole unit fails with EIO in the test host while an import child runs.)
kill_daemon() {
        local pid
        pid=$(daemon_pid)
        assert_ne "$pid" 0 "podmachined MainPID"
        kill -KILL "$pid"
        wait_until 60 eval '! unit_is podmachined.service active'
        systemctl reset-failed podmachined.service
}

host_untouched
# The daemon makes images/ when it starts.
"$PODCTL" image list >/dev/null
before=$(dir_entries "$IMAGES")

# --- hostile tars ------------------------------------------------------------------------

make_hostile_tars "$T/h"
# The same tricks through a decompressor.
gzip -c "$T/h/traversal.tar" >"$T/h/traversal-gz.tar.gz"
cp "$T/h/traversal.expect" "$T/h/traversal-gz.expect"
zstd -q -c "$T/h/symlink-root.tar" >"$T/h/symlink-root-zst.tar.zst"
cp "$T/h/symlink-root.expect" "$T/h/symlink-root-zst.expect"
xz -c "$T/h/hardlink-abs.tar" >"$T/h/hardlink-abs-xz.tar.xz"
cp "$T/h/hardlink-abs.expect" "$T/h/hardlink-abs-xz.expect"

for e in "$T"/h/*.expect; do
        c=$(basename "$e" .expect)
        f=$(ls "$T/h/$c".tar*)
        n=h-$c
        read -r kind arg <"$e"
        case "$kind" in
        inside)
                "$PODCTL" image import "$f" "$n"
                p=$(image_path "$n")
                test -f "$p$arg" || fail "$c: $arg is not in the image: $(find "$p" | head -n 20)"
                "$PODCTL" image rm "$n"
                ;;
        inside-somewhere)
                "$PODCTL" image import "$f" "$n"
                p=$(image_path "$n")
                [ -n "$(find "$p" -type f -name "$arg")" ] ||
                        fail "$c: no $arg in the image: $(find "$p" | head -n 20)"
                "$PODCTL" image rm "$n"
                ;;
        either)
                if "$PODCTL" image import "$f" "$n" 2>"$T/err"; then
                        "$PODCTL" image rm "$n"
                else
                        grep -Eqi -- "$arg" "$T/err" || fail "$c: the error does not match /$arg/: $(cat "$T/err")"
                        assert_import_left_nothing "$n" "$before"
                fi
                ;;
        error)
                expect_fail "$arg" "$PODCTL" image import "$f" "$n"
                assert_import_left_nothing "$n" "$before"
                ;;
        *)
                fail "$e: unknown expectation '$kind'"
                ;;
        esac
        host_untouched
done
assert_eq "$(dir_entries "$IMAGES")" "$before" "images/ after the hostile tars"

# Device nodes only with --allow-devices, as the archive has them.
"$PODCTL" image import --allow-devices "$T/h/nulldev.tar" h-nulldev
assert_eq "$(stat -c '%F %t:%T' "$(image_path h-nulldev)/dev/null-copy")" "character special file 1:3" \
        "the device node imported with --allow-devices"
"$PODCTL" image rm h-nulldev
host_untouched

# --- hostile OCI layers ---------------------------------------------------------------------

make_hostile_oci_layout "$T/hoci"
# Whiteouts and files through ".." and symlinks: inside the image, or refused.
if "$PODCTL" image import --tag=escape "$T/hoci" hoci-escape 2>"$T/err"; then
        p=$(image_path hoci-escape)
        [ -n "$(find "$p" -type f -name canary-oci-traversal)" ] || fail "no canary-oci-traversal in the image"
        [ -n "$(find "$p" -type f -name canary-oci-link)" ] || fail "no canary-oci-link in the image"
        "$PODCTL" image rm hoci-escape
else
        grep -Eqi 'UnsafeArchive|ImportFailed|unsafe|whiteout|symlink|outside' "$T/err" ||
                fail "hoci-escape: $(cat "$T/err")"
        assert_import_left_nothing hoci-escape "$before"
fi
host_untouched
expect_fail 'UnsafeArchive|ImportFailed|hard[- ]?link|outside|unsafe' \
        "$PODCTL" image import --tag=hardlink "$T/hoci" hoci-hardlink
assert_import_left_nothing hoci-hardlink "$before"
host_untouched
expect_fail 'UnsafeArchive|device' "$PODCTL" image import --tag=device "$T/hoci" hoci-device
assert_import_left_nothing hoci-device "$before"
host_untouched

# --- an entry bomb ---------------------------------------------------------------------------

# 1.5 million entries, streamed: more than any entry limit should let through.
many_entries_import() {
        hostile_many_entries 1500000 same | "$PODCTL" image import - many
}
expect_fail 'UnsafeArchive|more than [0-9]+ entries|too many|entries|limit' many_entries_import
assert_import_left_nothing many "$before"
host_untouched

# --- SIGKILL in the middle of an import ------------------------------------------------------

# An OCI layout tar of about 100 MB fed through a pipe: half of it, then the pipe is
# held open so that the import is under way and cannot finish.
make_oci_tar "$T/big.tar" v1 big 100
size=$(stat -c %s "$T/big.tar")
mkfifo "$T/fifo"
"$PODCTL" image import --format=oci - big <"$T/fifo" >"$T/import.log" 2>&1 &
importer=$!
exec 7>"$T/fifo"
# Returns once the daemon has read all but a pipe buffer of it.
head -c $((size / 2)) "$T/big.tar" >&7
store_hidden
kill_daemon
exec 7>&-
r=0
wait $importer || r=$?
cat "$T/import.log"
assert_ne "$r" 0 "the interrupted import's exit status"
# The next call starts the daemon again: the image is not there, nor anything it left.
! image_names | grep -qx big || fail "the interrupted import is listed"
expect_fail 'NoSuchImage|does not exist|no such image' "$PODCTL" image inspect big
assert_import_left_nothing big "$before"
# The name is free, and the same import now works.
"$PODCTL" image import --format=oci - big <"$T/big.tar"
assert_eq "$("$PODCTL" run --rm big)" "$(oci_app_output big)" "big's run"
"$PODCTL" image rm big
host_untouched

assert_eq "$(dir_entries "$IMAGES")" "$before"
assert_eq "$(store_hidden)" ""
rm -f /var/tmp/podctl-victim /var/tmp/podctl-victim2

# A full store (here an 8 MiB tmpfs over it): the import fails naming the file system's
# cause and leaves nothing; a small image still fits (the positive control).
podctl_reset
mount -t tmpfs -o size=8M,mode=0755 tmpfs "$STATE"
trap 'r=$?; podctl_reset; umount -l "$STATE"; (exit $r); lib_exit' EXIT
mkdir -p "$T/full" "$T/fits"
head -c 32M /dev/urandom >"$T/full/data"
tar -C "$T/full" -cf "$T/full.tar" .
echo small >"$T/fits/data"
tar -C "$T/fits" -cf "$T/fits.tar" .
expect_fail "StorageFailed|No space left on device" "$PODCTL" image import --verify=no "$T/full.tar" full
! image_names | grep -qx full || fail "the failed import is listed"
wait_until 60 eval '[ -z "$(store_hidden)" ]'
"$PODCTL" image import --verify=no "$T/fits.tar" fits
assert_eq "$("$PODCTL" image list --json | jq -r '.[].name')" fits "images on the small store"
"$PODCTL" image rm fits
echo "OK $SCENARIO"
