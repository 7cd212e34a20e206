#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podctl image import (directory, tar, tar.gz), list (text and JSON), rm; every
# failure names its cause and leaves nothing behind in /var/lib/podctl/images.
set -eux
. "$(dirname "$0")/lib.sh"

make_busybox_rootfs "$T/tree"
make_busybox_tar "$T/bb.tar"
make_busybox_tar "$T/bb.tar.gz" gz

# A directory.
"$PODCTL" image import "$T/tree" img-dir
# A tar archive, plain and compressed.
"$PODCTL" image import "$T/bb.tar" img-tar
"$PODCTL" image import "$T/bb.tar.gz" img-targz
# From a pipe.
cat "$T/bb.tar" | "$PODCTL" image import - img-pipe

assert_eq "$(image_names | tr '\n' ' ')" "img-dir img-pipe img-tar img-targz "

# JSON: [{name,format,size,created_usec,verified,key_name,pods}]
json=$("$PODCTL" image list --json)
echo "$json" | jq -e 'type == "array" and length == 4'
echo "$json" | jq -e 'all(.[]; (keys - ["created_usec","format","name","pods","size","verified","key_name"]) == [] and
        (.name|type) == "string" and (.format|type) == "string" and (.size|type) == "number" and
        (.created_usec|type) == "number" and .pods == 0 and .verified == "no" and .key_name == null)'
now_usec=$(($(date +%s) * 1000000))
for n in img-dir img-tar img-targz img-pipe; do
        created=$(echo "$json" | jq -r ".[] | select(.name == \"$n\") | .created_usec")
        # Created just now (within the last hour, and not in the future).
        [ "$created" -gt $((now_usec - 3600000000)) ] && [ "$created" -le $((now_usec + 60000000)) ] ||
                fail "$n created_usec $created is not now ($now_usec)"
        size=$(echo "$json" | jq -r ".[] | select(.name == \"$n\") | .size")
        # busybox is ~2 MB; the image holds at least that.
        [ "$size" -ge 1000000 ] || fail "$n size $size is too small"
done
assert_eq "$(echo "$json" | jq -r '.[] | select(.name == "img-dir") | .format')" directory
assert_eq "$(echo "$json" | jq -r '.[] | select(.name == "img-tar") | .format')" tar

# Text: columns NAME FORMAT SIZE CREATED VERIFIED KEY PODS.
text=$("$PODCTL" image list)
assert_match "$(head -n1 <<<"$text")" '^NAME +FORMAT +SIZE +CREATED +VERIFIED +KEY +PODS *$' "image list header"
assert_match "$text" '^img-tar +tar ' "image list row"
assert_eq "$("$PODCTL" image list | grep -c '^img-')" 4

# The imported tree is the source tree.
for n in img-dir img-tar img-targz img-pipe; do
        p=$(busctl get-property io.podctl.pod1 "$(busctl call io.podctl.pod1 /io/podctl/pod1 \
                io.podctl.pod1.Manager GetImage s $n | awk '{print $2}' | tr -d '"')" \
                io.podctl.pod1.Image Path | awk '{print $2}' | tr -d '"')
        assert_match "$p" "^$IMAGES/" "image path"
        cmp "$p/bin/busybox" /bin/busybox
        assert_eq "$(readlink "$p/bin/sh")" /bin/busybox "$n /bin/sh"
        assert_eq "$(stat -c %a "$p/tmp")" 1777 "$n /tmp mode"
        grep -q '^root:x:0:0:' "$p/etc/passwd"
done

images_before=$(dir_entries "$IMAGES")
# After every failed import, once the call has returned: nothing new, hidden or not.
unchanged_images() {
        assert_eq "$(dir_entries "$IMAGES")" "$images_before" "images/ after a failed import"
}

# Missing source.
expect_fail 'No such file' "$PODCTL" image import "$T/does-not-exist" img-missing
unchanged_images
expect_fail 'No such file' "$PODCTL" image import "$T/does-not-exist.tar" img-missing
unchanged_images
# Invalid names.
expect_fail 'InvalidName|invalid' "$PODCTL" image import "$T/bb.tar" ../x
unchanged_images
expect_fail 'InvalidName|invalid' "$PODCTL" image import "$T/bb.tar" "$(printf 'a%.0s' $(seq 65))"
unchanged_images
expect_fail 'InvalidName|invalid' "$PODCTL" image import "$T/bb.tar" ''
unchanged_images
expect_fail 'InvalidName|invalid' "$PODCTL" image import "$T/bb.tar" 'a/b'
unchanged_images
expect_fail 'InvalidName|invalid' "$PODCTL" image import "$T/bb.tar" '.hidden'
unchanged_images
# 64 characters is still a valid name.
long=$(printf 'b%.0s' $(seq 64))
"$PODCTL" image import "$T/bb.tar" "$long"
"$PODCTL" image rm "$long"
# Duplicates, from either kind of source.
expect_fail 'ImageExists|already exists|exists' "$PODCTL" image import "$T/bb.tar" img-tar
unchanged_images
expect_fail 'ImageExists|already exists|exists' "$PODCTL" image import "$T/tree" img-tar
unchanged_images
# Garbage.
head -c 100000 /dev/urandom >"$T/garbage.tar"
expect_fail 'ImportFailed|import failed|failed to import|not.*archive|unrecognized' \
        "$PODCTL" image import "$T/garbage.tar" img-garbage
unchanged_images
: >"$T/empty.tar"
expect_fail 'ImportFailed|import failed|failed to import|not.*archive|empty|unrecognized' \
        "$PODCTL" image import "$T/empty.tar" img-empty
unchanged_images
# A truncated archive.
head -c 300000 "$T/bb.tar" >"$T/truncated.tar"
expect_fail 'ImportFailed|import failed|failed to import|truncated|unexpected end|premature' \
        "$PODCTL" image import "$T/truncated.tar" img-truncated
unchanged_images
# An archive that escapes its root.
mkdir -p "$T/evil"
ln -s /etc "$T/evil/link"
tar -C "$T/evil" -cf "$T/evil.tar" link
printf 'x' >"$T/pwned"
tar -C "$T" -rf "$T/evil.tar" --transform 's|^pwned$|link/podctl-pwned|' pwned
"$PODCTL" image import "$T/evil.tar" img-evil || true
test ! -e /etc/podctl-pwned || fail "an archive wrote through a symlink outside the image"
"$PODCTL" image rm img-evil 2>/dev/null || true
tar -C "$T" -cf "$T/dotdot.tar" --transform 's|^pwned$|../../../../podctl-pwned2|' --absolute-names pwned
"$PODCTL" image import "$T/dotdot.tar" img-dotdot || true
test ! -e /podctl-pwned2 && test ! -e "$STATE/podctl-pwned2" || fail "an archive wrote outside its root with ../"
"$PODCTL" image rm img-dotdot 2>/dev/null || true

# None of that left anything, hidden or not.
assert_eq "$(dir_entries "$IMAGES")" "$images_before" "images/ after failed imports"
assert_eq "$(image_names | tr '\n' ' ')" "img-dir img-pipe img-tar img-targz "

# rm: unknown, invalid, in use.
expect_fail 'NoSuchImage|does not exist|no such image' "$PODCTL" image rm no-such-image
expect_fail 'InvalidName|invalid' "$PODCTL" image rm ../x
"$PODCTL" create --name uses-img img-tar true
assert_eq "$("$PODCTL" image list --json | jq -r '.[] | select(.name == "img-tar") | .pods')" 1
expect_fail 'ImageInUse|in use' "$PODCTL" image rm img-tar
image_names | grep -qx img-tar
"$PODCTL" rm uses-img
assert_eq "$("$PODCTL" image list --json | jq -r '.[] | select(.name == "img-tar") | .pods')" 0
"$PODCTL" image rm img-tar

for n in img-dir img-targz img-pipe; do "$PODCTL" image rm "$n"; done
assert_eq "$("$PODCTL" image list --json)" "[]"
assert_eq "$(dir_entries "$IMAGES")" ""
text=$("$PODCTL" image list)
assert_no_match "$text" '^img-' "empty image list"
# Removed means removed: the name can be used again.
"$PODCTL" image import "$T/bb.tar" img-tar
"$PODCTL" image rm img-tar
echo "OK $SCENARIO"
