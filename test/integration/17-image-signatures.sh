#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Signed imports. A minisign signature beside an image file (or given by --signature) is
# checked against the admin's trust store before any image exists: a good prehashed
# signature by a trusted key records verified=signature with the key; a tampered file, a
# signature of another file, a key nobody trusts, a malformed signature and (unless
# allowed) a legacy one are refused, each with its own error, and leave nothing in the
# store. --verify=checksum checks --sha256; no signature means verified=no. An OCI
# layout is signed over its tar or over its index.json (which pins every blob). A vendor
# key the admin masks, or a key removed with trust rm, no longer verifies anything.
set -eux
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures-images.sh"

VENDOR_DIR=/usr/lib/podctl/trusted-keys.d
ETC_DIR=/etc/podctl/trusted-keys.d
# The test host lives on across scenarios: leave its trust store as we found it, and
# start clean if an earlier run of this scenario failed half-way.
clean_trust() {
        rm -f "$ETC_DIR/podctl-test.pub" "$ETC_DIR/podctl-test-vendor.pub" "$VENDOR_DIR/podctl-test-vendor.pub"
}
clean_trust

make_minisign_key "$T/key"
make_minisign_key "$T/other"
make_minisign_key "$T/vendor"
key_id=$(minisign_key_id "$T/key")
vendor_id=$(minisign_key_id "$T/vendor")
"$PODCTL" trust add --name=podctl-test "$T/key/key.pub"
"$PODCTL" trust list | grep -q podctl-test

make_busybox_tar "$T/base.tar"

# new_copy NAME: $T/NAME.tar, a copy of the base image without a signature.
new_copy() {
        cp "$T/base.tar" "$T/$1.tar"
}

# tamper FILE: changes one byte of a file's content inside the tar; it stays a valid tar.
tamper() {
        "$FIXTURE_PYTHON" - "$1" <<'EOF'
import sys
p = sys.argv[1]
data = open(p, "rb").read()
new = data.replace(b"podctl test image", b"podctl TEST image", 1)
assert new != data
open(p, "wb").write(new)
EOF
}

# verified_as NAME VERIFIED KEY_NAME: what inspect and list record of NAME.
verified_as() {
        local j
        j=$("$PODCTL" image inspect --json "$1")
        assert_eq "$(echo "$j" | jq -r .verified)" "$2" "$1's verified"
        assert_eq "$("$PODCTL" image list --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .verified')" \
                "$2" "$1's verified in image list"
        if [ -n "$3" ]; then
                assert_eq "$(echo "$j" | jq -r .key_name)" "$3" "$1's key_name"
                assert_eq "$("$PODCTL" image list --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .key_name')" \
                        "$3" "$1's key_name in image list"
        else
                echo "$j" | jq -e '(.key_name == null or .key_name == "") and (.key_id == null or .key_id == "")'
        fi
}

# The daemon makes images/ when it starts.
"$PODCTL" image list >/dev/null
before=$(dir_entries "$IMAGES")

# --- a good signature ------------------------------------------------------------------

new_copy good
sign "$T/good.tar" "$T/key"
"$PODCTL" image import "$T/good.tar" good
verified_as good signature podctl-test
"$PODCTL" image inspect --json good | jq -e --arg id "$key_id" \
        '(.key_id | ascii_upcase) == $id and .trusted_comment == "podctl test: good.tar"'
assert_match "$("$PODCTL" image list)" '^good +tar +[^ ]+ +[0-9-]+ [0-9:]+ +signature +podctl-test +0 *$' \
        "image list row of good"
assert_eq "$("$PODCTL" run --rm good sh -c '. /etc/os-release; echo $ID')" busybox
# The signature can be elsewhere, named by --signature.
new_copy elsewhere
sign "$T/elsewhere.tar" "$T/key"
mkdir "$T/sigs"
mv "$T/elsewhere.tar.minisig" "$T/sigs/elsewhere.sig"
"$PODCTL" image import --signature="$T/sigs/elsewhere.sig" "$T/elsewhere.tar" elsewhere
verified_as elsewhere signature podctl-test
before=$(dir_entries "$IMAGES")

# --- refused signatures: nothing is left -------------------------------------------------

# The file changed after it was signed.
new_copy tampered
sign "$T/tampered.tar" "$T/key"
tamper "$T/tampered.tar"
expect_fail 'SignatureInvalid|does not verify' "$PODCTL" image import "$T/tampered.tar" tampered
assert_import_left_nothing tampered "$before"
# A good signature of another file.
new_copy mismatch
new_copy other-file
tamper "$T/other-file.tar"
sign "$T/other-file.tar" "$T/key"
cp "$T/other-file.tar.minisig" "$T/mismatch.tar.minisig"
expect_fail 'SignatureInvalid|does not verify' "$PODCTL" image import "$T/mismatch.tar" mismatch
assert_import_left_nothing mismatch "$before"
# Signed by a key the admin does not trust.
new_copy untrusted
sign "$T/untrusted.tar" "$T/other"
expect_fail 'UntrustedKey|untrusted key|not trusted' "$PODCTL" image import "$T/untrusted.tar" untrusted
assert_import_left_nothing untrusted "$before"
# Not a signature: cut short, random bytes, empty.
new_copy malformed
sign "$T/malformed.tar" "$T/key"
head -n 2 "$T/malformed.tar.minisig" >"$T/cut.minisig"
mv "$T/cut.minisig" "$T/malformed.tar.minisig"
expect_fail 'SignatureMalformed|malformed' "$PODCTL" image import "$T/malformed.tar" malformed
assert_import_left_nothing malformed "$before"
head -c 300 /dev/urandom >"$T/malformed.tar.minisig"
expect_fail 'SignatureMalformed|malformed' "$PODCTL" image import "$T/malformed.tar" malformed
assert_import_left_nothing malformed "$before"
: >"$T/malformed.tar.minisig"
expect_fail 'SignatureMalformed|malformed' "$PODCTL" image import "$T/malformed.tar" malformed
assert_import_left_nothing malformed "$before"
# A legacy signature (of the whole file, not of its hash): refused unless allowed.
new_copy legacy
sign "$T/legacy.tar" "$T/key" legacy
sed -n 2p "$T/legacy.tar.minisig" | grep -q '^RW' # "Ed" (legacy); "ED" (prehashed) is RU
expect_fail 'LegacySignature|legacy' "$PODCTL" image import "$T/legacy.tar" legacy
assert_import_left_nothing legacy "$before"
"$PODCTL" image import --allow-legacy-signature "$T/legacy.tar" legacy
verified_as legacy signature podctl-test
before=$(dir_entries "$IMAGES")

# --- checksums, and no verification -------------------------------------------------------

new_copy summed
sum=$(sha256sum "$T/summed.tar" | cut -d' ' -f1)
expect_fail 'ChecksumMismatch|checksum' \
        "$PODCTL" image import --verify=checksum --sha256="$(printf '0%.0s' $(seq 64))" "$T/summed.tar" summed
assert_import_left_nothing summed "$before"
tamper "$T/summed.tar"
expect_fail 'ChecksumMismatch|checksum' "$PODCTL" image import --verify=checksum --sha256="$sum" "$T/summed.tar" summed
assert_import_left_nothing summed "$before"
new_copy summed
"$PODCTL" image import --verify=checksum --sha256="$sum" "$T/summed.tar" summed
verified_as summed checksum ""
assert_eq "$(image_field summed digest)" "sha256:$sum" "summed's digest"

# No signature beside it: imported, and recorded as unverified...
new_copy unsigned
"$PODCTL" image import "$T/unsigned.tar" unsigned
verified_as unsigned no ""
# ...unless a signature was asked for.
new_copy unsigned2
before=$(dir_entries "$IMAGES")
expect_fail 'signature|minisig' "$PODCTL" image import --verify=signature "$T/unsigned2.tar" unsigned2
assert_import_left_nothing unsigned2 "$before"
# --verify=no does not look at the signature beside the file.
"$PODCTL" image import --verify=no "$T/tampered.tar" tampered-unverified
verified_as tampered-unverified no ""
before=$(dir_entries "$IMAGES")

# --- OCI layouts ------------------------------------------------------------------------

# Signed over the tar of the layout.
make_oci_tar "$T/oci.tar" v1 signed-oci-tar
sign "$T/oci.tar" "$T/key"
"$PODCTL" image import "$T/oci.tar" oci-tar
verified_as oci-tar signature podctl-test
assert_eq "$(image_field oci-tar format)" oci
assert_eq "$("$PODCTL" run --rm oci-tar)" "$(oci_app_output signed-oci-tar)" "signed oci-tar's run"

# Signed over index.json, whose digests pin the manifests, configs and layers.
make_oci_layout "$T/layout" v1 signed-layout
sign "$T/layout/index.json" "$T/key"
mv "$T/layout/index.json.minisig" "$T/index.minisig"
cp -a "$T/layout" "$T/layout-index-changed"
cp -a "$T/layout" "$T/layout-blob-changed"
"$PODCTL" image import --signature="$T/index.minisig" "$T/layout" layout
verified_as layout signature podctl-test
assert_eq "$("$PODCTL" run --rm layout)" "$(oci_app_output signed-layout)" "signed layout's run"
before=$(dir_entries "$IMAGES")
# index.json changed after signing.
jq -c '.annotations = {"changed": "yes"}' "$T/layout/index.json" >"$T/layout-index-changed/index.json"
expect_fail 'SignatureInvalid|does not verify' \
        "$PODCTL" image import --signature="$T/index.minisig" "$T/layout-index-changed" layout-index-changed
assert_import_left_nothing layout-index-changed "$before"
# A blob changed (the config, same size): the signed index.json no longer matches it.
d=$(jq -r '.manifests[0].digest' "$T/layout/index.json")
config=$T/layout-blob-changed/blobs/sha256/$(jq -r .config.digest "$T/layout/blobs/sha256/${d#sha256:}" | cut -d: -f2)
sed -i 's/from cmd/from CMD/' "$config"
expect_fail 'ImportFailed|digest|checksum|does not match|sha256|corrupt|SignatureInvalid|does not verify' \
        "$PODCTL" image import --signature="$T/index.minisig" "$T/layout-blob-changed" layout-blob-changed
assert_import_left_nothing layout-blob-changed "$before"

# --- vendor keys and masks; trust rm ----------------------------------------------------------

mkdir -p "$VENDOR_DIR"
cp "$T/vendor/key.pub" "$VENDOR_DIR/podctl-test-vendor.pub"
new_copy vendor1
sign "$T/vendor1.tar" "$T/vendor"
"$PODCTL" image import "$T/vendor1.tar" vendor1
verified_as vendor1 signature podctl-test-vendor
"$PODCTL" image inspect --json vendor1 | jq -e --arg id "$vendor_id" '(.key_id | ascii_upcase) == $id'
# An empty file of the same name in /etc masks the vendor's key.
mkdir -p "$ETC_DIR"
: >"$ETC_DIR/podctl-test-vendor.pub"
new_copy vendor2
sign "$T/vendor2.tar" "$T/vendor"
before=$(dir_entries "$IMAGES")
expect_fail 'UntrustedKey|untrusted key|not trusted' "$PODCTL" image import "$T/vendor2.tar" vendor2
assert_import_left_nothing vendor2 "$before"
# What was verified at import stays recorded.
verified_as vendor1 signature podctl-test-vendor

# A key removed from the store verifies nothing new.
"$PODCTL" trust rm podctl-test
new_copy after-rm
sign "$T/after-rm.tar" "$T/key"
expect_fail 'UntrustedKey|untrusted key|not trusted' "$PODCTL" image import "$T/after-rm.tar" after-rm
assert_import_left_nothing after-rm "$before"

clean_trust
for n in $(image_names); do "$PODCTL" image rm "$n"; done
assert_eq "$(dir_entries "$IMAGES")" ""
assert_eq "$(store_hidden)" ""
echo "OK $SCENARIO"
