#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Who may do what, as polkitd and logind decide with podctl's policy: users in an active
# login session start pods from images signed by a trusted key, and own them; everything
# riskier needs an admin's authentication, which non-interactive calls cannot give; users
# outside a session fall back to auth_admin_keep; a rules file can grant more through the
# details podmachined passes; root may everything.
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
expect_fail 'Permission denied to create pod .*io\.podctl\.pod1\.start-untrusted' \
        as_active alice "$PODCTL" --no-ask-password create --name nope busybox true
assert_no_pod nope
for opt in --private-users=no --network=host --caps-add=cap_net_admin; do
        expect_fail 'Permission denied to create pod .*io\.podctl\.pod1\.start-privileged' \
                as_active alice "$PODCTL" --no-ask-password create --name nope "$opt" signed true
        assert_no_pod nope
done
keys_before=$("$PODCTL" trust list --json)
expect_fail 'Permission denied to add trusted key.*io\.podctl\.pod1\.manage-trust' \
        as_active alice "$PODCTL" --no-ask-password trust add --name=alices "$T/release.pub"
expect_fail 'Permission denied to remove trusted key .release.*manage-trust' \
        as_active alice "$PODCTL" --no-ask-password trust rm release
assert_eq "$("$PODCTL" trust list --json)" "$keys_before" "trust store after refusals"
expect_fail 'Permission denied to remove image .other.*manage-images' \
        as_active alice "$PODCTL" --no-ask-password image rm other
expect_fail 'Permission denied to import image .theirs.*import-untrusted' \
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
expect_fail "Permission denied to stop pod 'bobs'.*manage-pods" as_active alice "$PODCTL" --no-ask-password stop bobs
expect_fail "Permission denied to kill pod 'bobs'.*manage-pods" as_active alice "$PODCTL" --no-ask-password kill bobs
expect_fail "Permission denied to remove pod 'bobs'.*manage-pods" as_active alice "$PODCTL" --no-ask-password rm --force bobs
assert_eq "$(pod_state bobs)" running "bobs after alice's attempts"
out=$(as_active alice gdbus call --system --dest io.podctl.pod1 --object-path /io/podctl/pod1 \
        --method io.podctl.pod1.Manager.StopPod bobs 2>&1 || true)
assert_match "$out" 'io\.podctl\.pod1\.NotPermitted'
as_active alice "$PODCTL" --no-ask-password stop alices
assert_eq "$(pod_state alices)" exited
as_active alice "$PODCTL" --no-ask-password rm alices
assert_no_pod alices

# Outside a session, even the signed image needs an admin (auth_admin_keep).
expect_fail 'Permission denied to create pod .*io\.podctl\.pod1\.start-signed' \
        as_inactive alice "$PODCTL" --no-ask-password create --name nope signed true
assert_no_pod nope
# Also when the call allows interactive authorization but there is no agent to ask.
expect_fail 'Permission denied to create pod .*io\.podctl\.pod1\.start-signed.*no authentication agent' \
        as_inactive alice "$PODCTL" create --name nope signed true </dev/null
assert_no_pod nope
# Her own pod she still manages without asking.
as_inactive bob "$PODCTL" --no-ask-password stop bobs
assert_eq "$(pod_state bobs)" exited

# A rule may grant what the defaults do not, by the details of the request: members of
# "pods" may start pods from the unsigned "busybox", and only from it.
cat >"$T_RULES" <<'RULES'
polkit.addRule(function(action, subject) {
        if (action.id == "io.podctl.pod1.start-untrusted" && subject.isInGroup("pods") &&
            action.lookup("verb") == "create-pod" && action.lookup("image") == "busybox" &&
            action.lookup("signed") == "no")
                return polkit.Result.YES;
});
RULES
# polkitd reloads rules on change: wait until this one is in force.
wait_until 30 as_inactive carol "$PODCTL" --no-ask-password create --name carols busybox "${SLEEPER[@]}"
assert_eq "$(owner_of carols)" "$(id -u carol)" "owner of carols"
as_inactive carol "$PODCTL" --no-ask-password start carols
wait_until 60 pod_in_state carols running
expect_fail 'Permission denied to create pod .*start-untrusted' \
        as_inactive carol "$PODCTL" --no-ask-password create --name nope other true
expect_fail 'Permission denied to create pod .*start-untrusted' \
        as_active alice "$PODCTL" --no-ask-password create --name nope busybox true
assert_no_pod nope
# The rule grants start-untrusted, not start-privileged.
expect_fail 'Permission denied to create pod .*start-privileged' \
        as_inactive carol "$PODCTL" --no-ask-password create --name nope --network=host busybox true
rm -f "$T_RULES"

# Root may everything, others' pods included.
"$PODCTL" stop carols
"$PODCTL" rm carols bobs
"$PODCTL" run --rm --private-users=no --network=host busybox true
"$PODCTL" image rm other alices-image
"$PODCTL" trust rm release
assert_no_pod carols
assert_no_pod bobs
