#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Who may do what, as polkitd and logind decide with podctl's policy: users in an active
# login session start pods from images signed by a trusted key, and own them; everything
# riskier needs an admin's authentication, which non-interactive calls cannot give
# (InteractiveAuthorizationRequired, naming the action); users outside a session fall back
# to auth_admin_keep; a rules file can grant more, or refuse outright (NotPermitted),
# through the details podmachined passes, the key ID of an import's signature among them;
# root may everything. (The admin answering a prompt: 25-polkit-agent.sh.)
set -eux
. "$(dirname "$0")/lib.sh"

# Scenarios after this one share the test host: the rule goes, whatever happens.
T_RULES=/etc/polkit-1/rules.d/50-podctl-test.rules
rm -f "$T_RULES"
trap 'rc=$?; rm -f "$T_RULES"; set +e; (exit $rc); lib_exit' EXIT

getent group pods >/dev/null || groupadd pods
add_users alice bob carol
usermod -a -G pods carol

# The session is what it must be for the rest to mean anything.
assert_eq "$(as_active alice sh -c 'loginctl show-session -P Active "$XDG_SESSION_ID"')" yes "alice's session"

owner_of() { # POD
        "$PODCTL" status --json "$1" | jq -r .owner_uid
}

# A trusted key, an image signed by it and one that is not.
import_signed_busybox signed
assert_eq "$("$PODCTL" image inspect --json signed | jq -r .verified)" signature "signed image"
import_busybox
assert_eq "$("$PODCTL" image inspect --json busybox | jq -r .verified)" no "unsigned image"
import_busybox other
chmod 0755 "$T"

alice_uid=$(id -u alice)
bob_uid=$(id -u bob)

# Active alice: a pod from the signed image runs, and is hers.
as_active alice "$PODCTL" --no-ask-password create --name alices signed "${SLEEPER[@]}"
assert_eq "$(owner_of alices)" "$alice_uid" "owner of alices"
as_active alice "$PODCTL" --no-ask-password start alices
wait_until 60 pod_in_state alices running
as_active alice "$PODCTL" --no-ask-password run --rm signed true

# Not from the unsigned image, nor with weakened confinement, nor the trust store.
expect_fail "Interactive authentication required to create pod 'nope' \(io\.podctl\.pod1\.start-untrusted\); --no-ask-password forbids asking for it\.\$" \
        as_active alice "$PODCTL" --no-ask-password create --name nope busybox true
assert_no_pod nope
for opt in --private-users=no --network=host --caps-add=cap_net_admin; do
        expect_fail 'Interactive authentication required to create pod .*io\.podctl\.pod1\.start-privileged' \
                as_active alice "$PODCTL" --no-ask-password create --name nope "$opt" signed true
        assert_no_pod nope
done
keys_before=$("$PODCTL" trust list --json)
expect_fail 'Interactive authentication required to add trusted key.*io\.podctl\.pod1\.manage-trust' \
        as_active alice "$PODCTL" --no-ask-password trust add --name=alices "$T/release.pub"
expect_fail 'Interactive authentication required to remove trusted key .release.*manage-trust' \
        as_active alice "$PODCTL" --no-ask-password trust rm release
assert_eq "$("$PODCTL" trust list --json)" "$keys_before" "trust store after refusals"
expect_fail 'Interactive authentication required to remove image .other.*manage-images' \
        as_active alice "$PODCTL" --no-ask-password image rm other
expect_fail 'Interactive authentication required to import image .theirs.*import-untrusted' \
        as_active alice "$PODCTL" --no-ask-password image import "$T/busybox-rootfs" theirs
# A signed import is allowed: the signature is checked by the import itself.
cp "$T/signed.tar" "$T/signed2.tar"
cp "$T/signed.tar.minisig" "$T/signed2.tar.minisig"
chmod 0644 "$T"/signed2.tar*
as_active alice "$PODCTL" --no-ask-password image import "$T/signed2.tar" alices-image
assert_eq "$("$PODCTL" image inspect --json alices-image | jq -r .verified)" signature
# ...and only one that verifies: a tampered file fails the import, not the authorization.
cp "$T/signed.tar" "$T/tampered.tar"
cp "$T/signed.tar.minisig" "$T/tampered.tar.minisig"
echo x >>"$T/tampered.tar"
chmod 0644 "$T"/tampered.tar*
expect_fail 'SignatureInvalid|does not verify|signature' \
        as_active alice "$PODCTL" --no-ask-password image import "$T/tampered.tar" tampered
! "$PODCTL" image inspect tampered >/dev/null 2>&1

# Owners manage their own pods; others' pods need an admin.
as_active bob "$PODCTL" --no-ask-password run -d --name bobs signed "${SLEEPER[@]}"
wait_until 60 pod_in_state bobs running
assert_eq "$(owner_of bobs)" "$bob_uid" "owner of bobs"
expect_fail "Interactive authentication required to stop pod 'bobs'.*manage-pods" as_active alice "$PODCTL" --no-ask-password stop bobs
expect_fail "Interactive authentication required to kill pod 'bobs'.*manage-pods" as_active alice "$PODCTL" --no-ask-password kill bobs
expect_fail "Interactive authentication required to remove pod 'bobs'.*manage-pods" as_active alice "$PODCTL" --no-ask-password rm --force bobs
assert_eq "$(pod_state bobs)" running "bobs after alice's attempts"
out=$(as_active alice gdbus call --system --dest io.podctl.pod1 --object-path /io/podctl/pod1 \
        --method io.podctl.pod1.Manager.StopPod bobs 2>&1 || true)
assert_match "$out" 'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired: Interactive authentication required to stop pod .bobs. \(io\.podctl\.pod1\.manage-pods\)'
as_active alice "$PODCTL" --no-ask-password stop alices
assert_eq "$(pod_state alices)" exited
as_active alice "$PODCTL" --no-ask-password rm alices
assert_no_pod alices

# Outside a session, even the signed image needs an admin (auth_admin_keep).
expect_fail 'Interactive authentication required to create pod .*io\.podctl\.pod1\.start-signed' \
        as_inactive alice "$PODCTL" --no-ask-password create --name nope signed true
assert_no_pod nope
# Also when the call allows interactive authorization but there is no agent to ask.
expect_fail 'Permission denied to create pod .*io\.podctl\.pod1\.start-signed.*no authentication agent' \
        as_inactive alice "$PODCTL" create --name nope signed true </dev/null
assert_no_pod nope
# Her own pod she still manages without asking.
as_inactive bob "$PODCTL" --no-ask-password stop bobs
assert_eq "$(pod_state bobs)" exited

# A second trusted key, and one the trust store does not have, each with an image it signed.
release_id=$("$PODCTL" trust list --json | jq -r '.[] | select(.name == "release") | .key_id')
for k in second stranger; do
        minisign -G -W -p "$T/$k.pub" -s "$T/$k.key" >/dev/null
        make_busybox_tar "$T/$k.tar"
        minisign -S -s "$T/$k.key" -m "$T/$k.tar" >/dev/null
done
"$PODCTL" trust add --name=second "$T/second.pub"
cp "$T/signed.tar" "$T/release.tar"
cp "$T/signed.tar.minisig" "$T/release.tar.minisig"
chmod 0644 "$T"/*.tar "$T"/*.minisig

# A rule may grant what the defaults do not, by the details of the request: members of
# "pods" may start pods from the unsigned "busybox", and only from it, and import images
# signed by the key "release", and only by it; carol may not manage images at all, not even
# with an admin's password.
cat >"$T_RULES" <<RULES
polkit.addRule(function(action, subject) {
        if (action.id == "io.podctl.pod1.start-untrusted" && subject.isInGroup("pods") &&
            action.lookup("verb") == "create-pod" && action.lookup("image") == "busybox" &&
            action.lookup("signed") == "no")
                return polkit.Result.YES;
        if (action.id == "io.podctl.pod1.import-signed" && subject.isInGroup("pods") &&
            action.lookup("verb") == "import-image" && action.lookup("signed") == "yes" &&
            action.lookup("key_id") == "$release_id")
                return polkit.Result.YES;
        if (action.id == "io.podctl.pod1.manage-images" && subject.user == "carol")
                return polkit.Result.NO;
});
RULES
# polkitd reloads rules on change: wait until this one is in force.
wait_until 30 as_inactive carol "$PODCTL" --no-ask-password create --name carols busybox "${SLEEPER[@]}"
assert_eq "$(owner_of carols)" "$(id -u carol)" "owner of carols"
as_inactive carol "$PODCTL" --no-ask-password start carols
wait_until 60 pod_in_state carols running
expect_fail 'Interactive authentication required to create pod .*start-untrusted' \
        as_inactive carol "$PODCTL" --no-ask-password create --name nope other true
expect_fail 'Interactive authentication required to create pod .*start-untrusted' \
        as_active alice "$PODCTL" --no-ask-password create --name nope busybox true
assert_no_pod nope
# The rule grants start-untrusted, not start-privileged.
expect_fail 'Interactive authentication required to create pod .*start-privileged' \
        as_inactive carol "$PODCTL" --no-ask-password create --name nope --network=host busybox true

# Imports by the signature's key ID: carol, without a session, imports what release signed...
as_inactive carol "$PODCTL" --no-ask-password image import "$T/release.tar" carols-image
assert_eq "$("$PODCTL" image inspect --json carols-image | jq -r .key_name)" release "key of carols-image"
# ...but not what the other trusted key signed, nor bob what release signed.
expect_fail "Interactive authentication required to import image 'nope' \(io\.podctl\.pod1\.import-signed\)" \
        as_inactive carol "$PODCTL" --no-ask-password image import "$T/second.tar" nope
expect_fail "Interactive authentication required to import image 'nope' \(io\.podctl\.pod1\.import-signed\)" \
        as_inactive bob "$PODCTL" --no-ask-password image import "$T/release.tar" nope
# A key the trust store does not have makes it an untrusted import, even for an active user.
expect_fail "Interactive authentication required to import image 'nope' \(io\.podctl\.pod1\.import-untrusted\)" \
        as_active alice "$PODCTL" --no-ask-password image import "$T/stranger.tar" nope
! "$PODCTL" image inspect nope >/dev/null 2>&1
# Positive control: the refused signature verifies, for whoever may import it.
"$PODCTL" image import "$T/second.tar" seconds-image
assert_eq "$("$PODCTL" image inspect --json seconds-image | jq -r .key_name)" second "key of seconds-image"

# A rule's outright no is NotPermitted, which no password would change.
expect_fail "Permission denied to remove image 'carols-image': not authorized \(io\.podctl\.pod1\.manage-images\)" \
        as_inactive carol "$PODCTL" --no-ask-password image rm carols-image
out=$(as_inactive carol gdbus call --system --dest io.podctl.pod1 --object-path /io/podctl/pod1 \
        --method io.podctl.pod1.Manager.PruneImages 2>&1 || true)
assert_match "$out" 'io\.podctl\.pod1\.NotPermitted: Permission denied to prune images: not authorized'
"$PODCTL" image inspect carols-image >/dev/null
rm -f "$T_RULES"

# Root may everything, others' pods included.
"$PODCTL" stop carols
"$PODCTL" rm carols bobs
"$PODCTL" run --rm --private-users=no --network=host busybox true
"$PODCTL" image rm other alices-image carols-image seconds-image
"$PODCTL" trust rm release second
assert_no_pod carols
assert_no_pod bobs
