#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podctl trust add, list (text and JSON), rm with keys made by the real minisign: the
# admin's keys in /etc/podctl/trusted-keys.d, vendor keys in /usr/lib/podctl/trusted-keys.d
# and the masks that hide them; named errors for bad input. Anyone may list, only root (or
# whom polkit lets) may change the store, and the key file is opened by the client with the
# caller's rights.
set -eux
. "$(dirname "$0")/lib.sh"

ETC_KEYS=/etc/podctl/trusted-keys.d
VENDOR_KEYS=/usr/lib/podctl/trusted-keys.d
M=io.podctl.pod1.Manager

# new_key NAME: a passwordless key pair, $T/NAME.pub and $T/NAME.key.
new_key() {
        minisign -G -W -p "$T/$1.pub" -s "$T/$1.key" >/dev/null
}

# The key id of a public key file, from its bytes: "Ed", then the id, which minisign
# prints as a little-endian number (last byte first).
key_id() { # PUBFILE: as minisign prints it, without leading zeros
        tail -n 1 "$1" | base64 -d | od -An -tx1 -j2 -N8 | tr -s ' ' '\n' | grep . | tac |
                tr -d '\n' | tr a-f A-F | sed 's/^0*//'
}

key_names() {
        "$PODCTL" trust list --json | jq -r '.[].name' | tr '\n' ' '
}

key_field() { # NAME FIELD
        "$PODCTL" trust list --json | jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2"
}

# AddTrustedKey over the bus, the key file as the call's handle.
bus_add_key() { # FILE NAME
        bus_call /io/podctl/pod1 $M.AddTrustedKey 'handle 0' "$2" <"$1"
}

new_key a
new_key b
new_key c
id_a=$(key_id "$T/a.pub")
id_b=$(key_id "$T/b.pub")
id_c=$(key_id "$T/c.pub")
assert_match "$id_a" '^[0-9A-F]{1,16}$' "key id"
# minisign names its key by the same id.
assert_eq "$(head -n 1 "$T/a.pub")" "untrusted comment: minisign public key $id_a" "minisign's key id"

# Nothing trusted yet.
assert_eq "$("$PODCTL" trust list --json)" "[]"
text=$("$PODCTL" trust list)
assert_match "$(head -n 1 <<<"$text")" '^NAME +KEY ID +ORIGIN +COMMENT$' "trust list header"
assert_match "$text" '^0 trusted keys listed\.$' "trust list footer"

# The default name is the key id; the file is the key as minisign wrote it, readable by all.
assert_eq "$("$PODCTL" trust add "$T/a.pub")" "Trusted key $id_a ($id_a) added."
cmp "$T/a.pub" "$ETC_KEYS/$id_a.pub"
assert_eq "$(stat -c %a "$ETC_KEYS/$id_a.pub")" 644 "key file mode"
# The same key again is fine, and changes nothing.
assert_eq "$("$PODCTL" trust add "$T/a.pub")" "Trusted key $id_a ($id_a) added."
cmp "$T/a.pub" "$ETC_KEYS/$id_a.pub"

# --name, from standard input (a pipe).
assert_eq "$(cat "$T/b.pub" | "$PODCTL" trust add --name=release -)" "Trusted key release ($id_b) added."
"$PODCTL" trust add --name=release "$T/b.pub"
# Another key under a name in use.
expect_fail 'holds another key' "$PODCTL" trust add --name=release "$T/c.pub"
assert_eq "$FAIL_ERR" "Failed to add trusted key from '$T/c.pub': Key name 'release' holds another key; remove it first or choose another name."
expect_fail 'io\.podctl\.pod1\.KeyExists' bus_add_key "$T/c.pub" release
cmp "$T/b.pub" "$ETC_KEYS/release.pub"
# The same key under a second name.
assert_eq "$(bus_add_key "$T/a.pub" also-a)" "('also-a', '$id_a')"
wait_until 30 sh -c "journalctl -u podmachined.service --since=@$SCENARIO_START | grep -qF 'Trusted key also-a ($id_a) added.'"

# Listing: sorted by name, text and JSON from the same rows.
assert_eq "$(key_names)" "$id_a also-a release "
json=$("$PODCTL" trust list --json)
echo "$json" | jq -e 'all(.[]; (keys | sort) == ["comment","key_id","masked","name","origin","path"] and
        .origin == "etc" and .masked == false and (.key_id | test("^[0-9A-F]{1,16}$")))'
assert_eq "$(key_field release key_id)" "$id_b"
assert_eq "$(key_field release comment)" "minisign public key $id_b"
assert_eq "$(key_field release path)" "$ETC_KEYS/release.pub"
text=$("$PODCTL" trust list)
assert_match "$text" "^release +$id_b +etc +minisign public key $id_b\$" "trust list row"
assert_match "$text" '^3 trusted keys listed\.$' "trust list footer"
assert_eq "$("$PODCTL" trust list --no-legend | wc -l)" 3

# Files that are no key, each named by its cause, and nothing stored.
printf 'untrusted comment: x\nnot base64\n' >"$T/garbage.pub"
expect_fail 'not a minisign public key' "$PODCTL" trust add "$T/garbage.pub"
assert_eq "$FAIL_ERR" "Failed to add trusted key from '$T/garbage.pub': Invalid key: not a minisign public key."
expect_fail 'io\.podctl\.pod1\.InvalidKey' bus_add_key "$T/garbage.pub" ""
: >"$T/empty.pub"
expect_fail 'io\.podctl\.pod1\.InvalidKey' bus_add_key "$T/empty.pub" ""
{ cat "$T/c.pub"; head -c 5000 /dev/zero | tr '\0' ' '; } >"$T/big.pub"
expect_fail 'larger than 4096 bytes' "$PODCTL" trust add "$T/big.pub"
expect_fail 'io\.podctl\.pod1\.InvalidKey' bus_add_key "$T/big.pub" ""
# A signature is no public key.
echo data >"$T/data"
minisign -S -s "$T/c.key" -m "$T/data" >/dev/null
expect_fail 'io\.podctl\.pod1\.InvalidKey' bus_add_key "$T/data.minisig" ""
expect_fail 'neither a regular file nor a pipe' "$PODCTL" trust add "$T"
expect_fail 'No such file' "$PODCTL" trust add "$T/does-not-exist.pub"
# Names.
expect_fail 'Invalid key name' "$PODCTL" trust add --name=../x "$T/c.pub"
expect_fail 'io\.podctl\.pod1\.InvalidName' bus_add_key "$T/c.pub" ../x
expect_fail 'io\.podctl\.pod1\.InvalidName' bus_add_key "$T/c.pub" .hidden
expect_fail 'io\.podctl\.pod1\.InvalidName' bus_add_key "$T/c.pub" "$(printf 'k%.0s' $(seq 65))"
# A writer that never finishes does not hold the daemon: the call gives up.
mkfifo "$T/fifo"
sleep 60 >"$T/fifo" &
writer=$!
expect_fail 'did not end within' "$PODCTL" trust add "$T/fifo"
kill "$writer"
assert_eq "$(key_names)" "$id_a also-a release "

# Removal: unknown names and ids, by name, and by id: a name first (the default name is the
# id), or else every key of that id.
expect_fail 'NoSuchKey|No trusted key' "$PODCTL" trust rm no-such-key
assert_eq "$FAIL_ERR" "Failed to remove trusted key 'no-such-key': No trusted key has the name or key ID 'no-such-key'."
expect_fail 'io\.podctl\.pod1\.NoSuchKey' bus_call /io/podctl/pod1 $M.RemoveTrustedKey "$id_c"
expect_fail 'io\.podctl\.pod1\.InvalidName' bus_call /io/podctl/pod1 $M.RemoveTrustedKey ../x
assert_eq "$("$PODCTL" trust rm release)" "Trusted key release removed."
test ! -e "$ETC_KEYS/release.pub"
assert_eq "$(bus_call /io/podctl/pod1 $M.RemoveTrustedKey "$id_a")" "(['$id_a'],)"
"$PODCTL" trust add --name=a-copy "$T/a.pub"
assert_eq "$("$PODCTL" trust rm "$id_a")" "Trusted key a-copy removed.
Trusted key also-a removed."
assert_eq "$("$PODCTL" trust list --json)" "[]"
assert_eq "$(ls -A "$ETC_KEYS")" "" "$ETC_KEYS after removing every key"
# Removed means removed: the name can hold another key now.
assert_eq "$("$PODCTL" trust add --name=release "$T/c.pub")" "Trusted key release ($id_c) added."
"$PODCTL" trust rm release

# A broken file in the admin's directory is listed with its cause, and can be removed.
echo junk >"$ETC_KEYS/broken.pub"
assert_eq "$(key_field broken key_id)" ""
assert_eq "$(key_field broken comment)" "unusable: not a minisign public key"
expect_fail "holds an unusable file, $ETC_KEYS/broken.pub \\(not a minisign public key\\)" \
        "$PODCTL" trust add --name=broken "$T/c.pub"
"$PODCTL" trust rm broken
test ! -e "$ETC_KEYS/broken.pub"

# Vendor keys: listed as such; removing one masks it with an empty file in /etc.
mkdir -p "$VENDOR_KEYS"
cp "$T/c.pub" "$VENDOR_KEYS/distro.pub"
assert_eq "$(key_field distro origin)" vendor
assert_eq "$(key_field distro path)" "$VENDOR_KEYS/distro.pub"
assert_eq "$(key_field distro key_id)" "$id_c"
assert_eq "$(key_field distro masked)" false
# The vendor's key under its name is the same key: nothing to add.
"$PODCTL" trust add --name=distro "$T/c.pub"
test ! -e "$ETC_KEYS/distro.pub"
expect_fail 'holds another key' "$PODCTL" trust add --name=distro "$T/a.pub"
assert_eq "$("$PODCTL" trust rm distro)" "Trusted key distro removed."
test -f "$VENDOR_KEYS/distro.pub"
test -f "$ETC_KEYS/distro.pub" && test ! -s "$ETC_KEYS/distro.pub" || fail "no empty mask for the vendor key"
assert_eq "$(key_field distro masked)" true
assert_eq "$(key_field distro origin)" vendor
assert_match "$("$PODCTL" trust list)" "^distro +$id_c +vendor \(masked\) +minisign public key $id_c\$" "masked row"
wait_until 30 sh -c "journalctl -u podmachined.service --since=@$SCENARIO_START | grep -qF 'Vendor key distro ($id_c) masked.'"
# Masked keys are not matched again, by name or id.
expect_fail 'NoSuchKey|No trusted key' "$PODCTL" trust rm distro
expect_fail 'NoSuchKey|No trusted key' "$PODCTL" trust rm "$id_c"
# The admin's key replaces the mask and shadows the vendor's; removing it masks again.
assert_eq "$("$PODCTL" trust add --name=distro "$T/b.pub")" "Trusted key distro ($id_b) added."
assert_eq "$(key_field distro origin) $(key_field distro key_id)" "etc $id_b"
"$PODCTL" trust rm distro
assert_eq "$(key_field distro masked) $(key_field distro key_id)" "true $id_c"
test ! -s "$ETC_KEYS/distro.pub"

# Others may list, not change; refusals are named and change nothing.
"$PODCTL" trust add --name=release "$T/b.pub"
chmod 0755 "$T"
chmod 0644 "$T/c.pub"
as_nobody() {
        setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env -- "$@"
}
assert_match "$(as_nobody "$PODCTL" trust list --no-legend)" "^release +$id_b +etc " "list as nobody"
assert_eq "$(as_nobody "$PODCTL" trust list --json | jq -r '.[].name' | tr '\n' ' ')" "distro release "
store_before=$(ls -l --time-style=+ "$ETC_KEYS")
expect_fail 'Interactive authentication required to .*manage-trust' as_nobody "$PODCTL" --no-ask-password trust add --name=theirs "$T/c.pub"
expect_fail 'Interactive authentication required to .*manage-trust' as_nobody "$PODCTL" --no-ask-password trust rm release
expect_fail 'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired' as_nobody gdbus call --system --dest io.podctl.pod1 \
        --object-path /io/podctl/pod1 --method $M.AddTrustedKey 'handle 0' theirs <"$T/c.pub"
expect_fail 'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired' as_nobody gdbus call --system --dest io.podctl.pod1 \
        --object-path /io/podctl/pod1 --method $M.RemoveTrustedKey release
assert_eq "$(ls -l --time-style=+ "$ETC_KEYS")" "$store_before" "$ETC_KEYS after refused changes"
# A file the caller cannot read: the client cannot open it, and says so; the daemon,
# which could, is never asked.
cp "$T/c.pub" "$T/secret.pub"
chmod 0600 "$T/secret.pub"
expect_fail 'Permission denied' as_nobody "$PODCTL" trust add --name=theirs "$T/secret.pub"
assert_eq "$FAIL_ERR" "Failed to add trusted key from '$T/secret.pub': Permission denied"
assert_eq "$(ls -l --time-style=+ "$ETC_KEYS")" "$store_before" "$ETC_KEYS after an unreadable key file"
# Positive controls: root may.
assert_eq "$("$PODCTL" trust add --name=theirs "$T/secret.pub")" "Trusted key theirs ($id_c) added."
"$PODCTL" trust rm release theirs
assert_eq "$(key_names)" "distro "

rm -rf "$ETC_KEYS" "$VENDOR_KEYS"
rmdir /etc/podctl /usr/lib/podctl 2>/dev/null || true
echo "OK $SCENARIO"
