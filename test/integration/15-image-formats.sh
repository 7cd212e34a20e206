#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podctl image import reads every image format it names, each imported and run on its
# own: an OCI image layout (a directory, a tar, a pipe) with its whiteouts, opaque
# directories and config (Entrypoint, Cmd, Env, WorkingDir) applied, --tag choosing one
# of several images and refusing to guess; a docker archive; squashfs; erofs; a raw GPT
# disk image; a plain directory. image inspect --json and image list say what each is;
# a wrong --format fails and leaves nothing; image prune removes only the images no pod
# uses; image rm refuses an image in use, and removes it once its pods are gone.
set -eux
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures-images.sh"

make_oci_layout "$T/oci" v1
make_oci_layout "$T/multi" one multi:one
make_oci_layout "$T/multi" two multi:two
make_oci_tar "$T/ocitar.tar" latest oci-tar
make_docker_archive "$T/docker.tar" example/app:v1 docker-archive
make_squashfs "$T/sq.squashfs" squashfs
make_erofs "$T/ero.erofs" erofs
make_raw_gpt "$T/disk.raw" raw
make_image_rootfs "$T/tree" directory

# The marker of the image that a pod of image $1 runs (images without a config).
run_marker() {
        "$PODCTL" run --rm "$1" cat /etc/podctl-image
}

# What the whiteouts and the opaque directory of a make_oci_layout image left in its tree.
check_oci_tree() { # NAME
        local p
        p=$(image_path "$1")
        assert_match "$p" "^$IMAGES/" "$1's path"
        assert_eq "$(cat "$p/etc/layer2")" layer2 "$1: the second layer's file"
        test ! -e "$p/etc/doomed" || fail "$1: the whiteout of /etc/doomed was not applied"
        assert_eq "$(ls -A "$p/data")" upper "$1: /data after its opaque whiteout"
        assert_eq "$(find "$p" -name '.wh.*' | head -n 5)" "" "$1: whiteout files left in the tree"
        cmp "$p/bin/busybox" /bin/busybox
}

# --- OCI image layouts ---------------------------------------------------------------

# A layout directory, recognized by its oci-layout file: the pod runs the config's
# Entrypoint + Cmd in WorkingDir with Env, and sees the layers with whiteouts applied.
"$PODCTL" image import "$T/oci" oci-dir
assert_eq "$("$PODCTL" run --rm oci-dir)" "$(oci_app_output oci:v1)" "oci-dir run with its config"
check_oci_tree oci-dir

# The same as a tar, named after the file by default, and from a pipe.
"$PODCTL" image import "$T/ocitar.tar" oci-tar
assert_eq "$("$PODCTL" run --rm oci-tar)" "$(oci_app_output oci-tar)" "oci-tar run with its config"
check_oci_tree oci-tar
"$PODCTL" image import "$T/ocitar.tar"
image_names | grep -qx ocitar
"$PODCTL" image import --format=oci - oci-pipe <"$T/ocitar.tar"
assert_eq "$("$PODCTL" run --rm oci-pipe)" "$(oci_app_output oci-tar)" "oci-pipe run with its config"

# Several images in one layout: without --tag it is an error, not a guess.
before=$(dir_entries "$IMAGES")
expect_fail 'several images|choose one by tag|ambiguous|--tag' "$PODCTL" image import "$T/multi" multi-any
assert_import_left_nothing multi-any "$before"
expect_fail "No image tagged|not found|no such tag|three" "$PODCTL" image import --tag=three "$T/multi" multi-three
assert_import_left_nothing multi-three "$before"
"$PODCTL" image import --tag=two "$T/multi" multi-two
"$PODCTL" image import --tag=one "$T/multi" multi-one
assert_eq "$("$PODCTL" run --rm multi-two)" "$(oci_app_output multi:two)" "--tag=two"
assert_eq "$("$PODCTL" run --rm multi-one)" "$(oci_app_output multi:one)" "--tag=one"
assert_eq "$(image_field multi-two ref_name)" two "multi-two's ref_name"
assert_eq "$(image_field multi-two manifest_digest)" \
        "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "two") | .digest' \
                "$T/multi/index.json")" "multi-two's manifest_digest"

# --format=directory takes a layout for a plain tree.
"$PODCTL" image import --format=directory "$T/oci" layout-as-tree
p=$(image_path layout-as-tree)
test -f "$p/index.json" && test -f "$p/oci-layout" && test -d "$p/blobs"
assert_eq "$(image_field layout-as-tree format)" directory "layout-as-tree's format"
"$PODCTL" image rm layout-as-tree

# --- docker archive, file system images, a directory ----------------------------------

"$PODCTL" image import "$T/docker.tar" docker
assert_eq "$("$PODCTL" run --rm docker)" "$(oci_app_output docker-archive)" "docker run with its config"
check_oci_tree docker
assert_match "$(image_field docker ref_name)" 'example/app:v1$' "docker's ref_name"

"$PODCTL" image import "$T/sq.squashfs" sq
assert_eq "$(run_marker sq)" squashfs
"$PODCTL" image import "$T/ero.erofs" ero
assert_eq "$(run_marker ero)" erofs
"$PODCTL" image import "$T/disk.raw" disk
assert_eq "$(run_marker disk)" raw
"$PODCTL" image import "$T/tree" tree
assert_eq "$(run_marker tree)" directory
for n in sq ero disk tree; do
        assert_eq "$("$PODCTL" run --rm "$n" sh -c '. /etc/os-release; echo $ID')" busybox "$n's os-release"
        p=$(image_path "$n")
        cmp "$p/bin/busybox" /bin/busybox
        assert_eq "$(readlink "$p/bin/sh")" /bin/busybox "$n /bin/sh"
        assert_eq "$(stat -c %a "$p/tmp")" 1777 "$n /tmp mode"
done
# An explicit --format, and the default name (the file name without its extension).
cp "$T/sq.squashfs" "$T/sqdefault.squashfs"
"$PODCTL" image import --format=squashfs "$T/sqdefault.squashfs"
assert_eq "$(run_marker sqdefault)" squashfs

# A --format that is not the file's fails and leaves nothing; an unknown one is refused.
before=$(dir_entries "$IMAGES")
expect_fail 'ImportFailed|UnsupportedFormat|squashfs|not a|format' \
        "$PODCTL" image import --format=squashfs "$T/ero.erofs" wrong-1
assert_import_left_nothing wrong-1 "$before"
expect_fail 'ImportFailed|UnsupportedFormat|erofs|not a|format' \
        "$PODCTL" image import --format=erofs "$T/disk.raw" wrong-2
assert_import_left_nothing wrong-2 "$before"
expect_fail 'ImportFailed|UnsupportedFormat|oci|index\.json|layout|not a|format' \
        "$PODCTL" image import --format=oci "$T/sq.squashfs" wrong-3
assert_import_left_nothing wrong-3 "$before"
expect_fail 'invalid|unknown|bogus|format' "$PODCTL" image import --format=bogus "$T/sq.squashfs" wrong-4
assert_import_left_nothing wrong-4 "$before"

# --- what inspect and list say -----------------------------------------------------------

all=(disk docker ero multi-one multi-two oci-dir oci-pipe oci-tar ocitar sq sqdefault tree)
assert_eq "$(image_names | tr '\n' ' ')" "${all[*]} "
declare -A format=([disk]=raw [docker]=docker-archive [ero]=erofs [multi-one]=oci [multi-two]=oci
        [oci-dir]=oci [oci-pipe]=oci [oci-tar]=oci [ocitar]=oci [sq]=squashfs [sqdefault]=squashfs
        [tree]=directory)
keys='["name","format","size","created_usec","verified","key_id","key_name","trusted_comment",
       "digest","config","ref_name","manifest_digest"]'
now_usec=$(($(date +%s) * 1000000))
for n in "${all[@]}"; do
        j=$("$PODCTL" image inspect --json "$n")
        echo "$j" | jq -e --arg n "$n" --arg f "${format[$n]}" --argjson now "$now_usec" "
                def none: . == null or . == \"\";
                ($keys - keys) == [] and .name == \$n and .format == \$f and
                (.size | type) == \"number\" and .size >= 1000000 and
                .created_usec > \$now - 3600000000 and .created_usec <= \$now + 60000000 and
                .verified == \"no\" and (.key_id | none) and (.key_name | none) and
                (.trusted_comment | none) and (.digest | test(\"^sha256:[0-9a-f]{64}\$\"))"
        case "${format[$n]}" in
        oci|docker-archive)
                echo "$j" | jq -e '.config.entrypoint == ["/app/show", "from-entrypoint"] and
                        .config.cmd == ["from cmd", "second"] and
                        (.config.environment | index("GREETING=hello from env")) != null and
                        .config.working_directory == "/srv/app" and (.config.user == null or .config.user == "")'
                ;;
        *)
                echo "$j" | jq -e '.config == null and (.ref_name == null or .ref_name == "") and
                        (.manifest_digest == null or .manifest_digest == "")'
                ;;
        esac
done
"$PODCTL" image inspect --json oci-dir | jq -e --arg d \
        "$(jq -r '.manifests[0].digest' "$T/oci/index.json")" '.ref_name == "v1" and .manifest_digest == $d'
text=$("$PODCTL" image inspect oci-dir)
assert_match "$text" 'oci-dir' "image inspect text"
assert_match "$text" '/app/show' "image inspect text"
expect_fail 'NoSuchImage|does not exist|no such image' "$PODCTL" image inspect no-such-image

json=$("$PODCTL" image list --json)
echo "$json" | jq -e --argjson n ${#all[@]} 'type == "array" and length == $n and
        all(.[]; (["name","format","size","created_usec","pods","verified","key_name"] - keys) == [] and
                .verified == "no" and (.key_name == null or .key_name == "") and .pods == 0)'
for n in "${all[@]}"; do
        assert_eq "$(echo "$json" | jq -r --arg n "$n" '.[] | select(.name == $n) | .format')" "${format[$n]}" \
                "$n's format in image list"
done
text=$("$PODCTL" image list)
assert_match "$(head -n1 <<<"$text")" '^NAME +FORMAT +SIZE +CREATED +VERIFIED +KEY +PODS *$' "image list header"
assert_match "$text" '^sq +squashfs +[^ ]+ +[0-9-]+ [0-9:]+ +no +(- +)?0 *$' "image list row of sq"
assert_match "$text" '^docker +docker-archive +[^ ]+ +[0-9-]+ [0-9:]+ +no +(- +)?0 *$' "image list row of docker"
assert_eq "$("$PODCTL" image list --no-legend | grep -c .)" ${#all[@]} "image list rows"

# --- prune and rm ------------------------------------------------------------------------

# A pod that uses sq keeps it; prune removes every other image and names each.
"$PODCTL" create --name uses-sq sq true
assert_eq "$("$PODCTL" image list --json | jq -r '.[] | select(.name == "sq") | .pods')" 1
out=$("$PODCTL" image prune)
for n in "${all[@]}"; do
        [ "$n" = sq ] || grep -qF -- "$n" <<<"$out" || fail "image prune did not name $n: $out"
done
assert_eq "$(image_names | tr '\n' ' ')" "sq "
settle_removals "$IMAGES"
assert_eq "$(store_hidden)" "" "hidden entries after image prune"
# Nothing more to prune.
out=$("$PODCTL" image prune)
assert_no_match "$out" '(^|[^[:alnum:]-])sq([^[:alnum:]-]|$)' "second image prune"
assert_eq "$(image_names | tr '\n' ' ')" "sq "

# In use: refused, and still there; once its pod is gone, removed.
expect_fail 'ImageInUse|in use' "$PODCTL" image rm sq
image_names | grep -qx sq
test -x "$(image_path sq)/bin/busybox"
"$PODCTL" rm uses-sq
assert_no_pod uses-sq
assert_eq "$("$PODCTL" image list --json | jq -r '.[] | select(.name == "sq") | .pods')" 0
"$PODCTL" image rm --force sq
assert_eq "$("$PODCTL" image list --json)" "[]"
assert_eq "$(dir_entries "$IMAGES")" ""
assert_eq "$(store_hidden)" ""
expect_fail 'NoSuchImage|does not exist|no such image' "$PODCTL" image rm sq
echo "OK $SCENARIO"
