# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Images in every format `podctl image import` reads, minisign keys and signatures, and
# hostile archives. Sourced by the image scenarios after lib.sh (which sources
# fixtures.sh for make_busybox_rootfs); functions only. Run as root: the trees are
# owned by root as an image's are. Scratch space is $T when lib.sh made it, else
# $TMPDIR or /var/tmp.
#
# Needs umoci (0.4.7), skopeo, minisign, mksquashfs, mkfs.erofs, mkfs.ext4, python3, tar
# and jq, as tools/test-all installs them. The GPT of make_raw_gpt is written by Python:
# sfdisk (package fdisk) is not among those tools.

# The Debian interpreter where there is one, not whatever a user's PATH puts first.
FIXTURE_PYTHON=${FIXTURE_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# fixture_tmpdir: prints a new scratch directory; the caller removes it.
fixture_tmpdir() {
        mktemp -d "${T:-${TMPDIR:-/var/tmp}}/.fixture.XXXXXX"
}

# make_image_rootfs DIR MARKER [EXTRA_FILE_MB]: make_busybox_rootfs's tree, with MARKER
# (one line) in /etc/podctl-image so that a pod can tell which image it runs.
make_image_rootfs() {
        make_busybox_rootfs "$1" "${3:-}" || return 1
        printf '%s\n' "$2" >"$1/etc/podctl-image"
}

# --- OCI image layouts and docker archives -----------------------------------------

# The program an OCI image's config runs (see make_oci_layout): one line per fact.
_fixture_oci_app() {
        cat <<'EOT'
#!/bin/sh
echo "cwd=$(pwd)"
for a in "$@"; do echo "arg=$a"; done
echo "GREETING=$GREETING"
echo "PATH=$PATH"
echo "image=$(cat /etc/podctl-image)"
echo "layer2=$(cat /etc/layer2 2>/dev/null)"
echo "doomed=$(if [ -e /etc/doomed ]; then echo present; else echo absent; fi)"
set -- $(ls -A /data)
echo "data=$*"
EOT
}

# _fixture_oci_append_layer LAYOUT TAG SPEC: appends to the image TAG of the OCI layout a
# gzip'ed layer built with Python's tarfile, and updates the config (diff_ids, history),
# the manifest and index.json with correct sizes and digests. SPEC has one entry a line,
# paths taken literally (relative, or not: hostile layers use "../" and "/"):
#   dir PATH | file PATH CONTENT | symlink PATH TARGET | hardlink PATH TARGET |
#   chardev PATH MAJOR:MINOR | whiteout PATH (writes DIR/.wh.NAME) |
#   opaque DIR (writes DIR/.wh..wh..opq)
# For what umoci 0.4.7 cannot write: its repack turns a removed directory content into
# one .wh.NAME per file, never .wh..wh..opq, and the layers of its `insert --opaque`
# are cut short (no padding after the last file's data, no end-of-archive blocks).
_fixture_oci_append_layer() {
        "$FIXTURE_PYTHON" - "$1" "$2" "$3" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile, time
layout, tag, spec = sys.argv[1:]

def blob_path(digest):
    algo, hexd = digest.split(":")
    return os.path.join(layout, "blobs", algo, hexd)

def put_blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob_path(d), "wb") as f:
        f.write(data)
    return d

def get_json(digest):
    with open(blob_path(digest), "rb") as f:
        return json.load(f)

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    def add(name, type=tarfile.REGTYPE, data=b"", mode=0o644):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime, ti.size = type, mode, int(time.time()), len(data)
        t.addfile(ti, io.BytesIO(data) if data else None)
    for line in spec.splitlines():
        if not line.strip():
            continue
        kind, path, *rest = line.split(None, 2)
        if kind == "dir":
            add(path, tarfile.DIRTYPE, mode=0o755)
        elif kind == "file":
            add(path, data=(rest[0] + "\n").encode())
        elif kind in ("symlink", "hardlink"):
            ti = tarfile.TarInfo(path)
            ti.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
            ti.linkname, ti.mtime = rest[0], int(time.time())
            ti.mode = 0o777 if kind == "symlink" else 0o644
            t.addfile(ti)
        elif kind == "chardev":
            ti = tarfile.TarInfo(path)
            ti.type, ti.mode, ti.mtime = tarfile.CHRTYPE, 0o666, int(time.time())
            ti.devmajor, ti.devminor = map(int, rest[0].split(":"))
            t.addfile(ti)
        elif kind == "whiteout":
            head, base = os.path.split(path)
            add(os.path.join(head, ".wh." + base), mode=0o600)
        elif kind == "opaque":
            add(os.path.join(path, ".wh..wh..opq"), mode=0o600)
        else:
            sys.exit("bad spec line: " + line)
tar = buf.getvalue()
gz = gzip.compress(tar, mtime=0)
layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
         "digest": put_blob(gz), "size": len(gz)}

with open(os.path.join(layout, "index.json")) as f:
    index = json.load(f)
entries = [m for m in index["manifests"]
           if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
if len(entries) != 1:
    sys.exit("no single manifest tagged %r in %s" % (tag, layout))
entry = entries[0]
manifest = get_json(entry["digest"])
config = get_json(manifest["config"]["digest"])
config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
config.setdefault("history", []).append({
    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "created_by": "podctl test fixture: whiteouts"})
data = json.dumps(config, separators=(",", ":")).encode()
manifest["config"]["digest"], manifest["config"]["size"] = put_blob(data), len(data)
manifest["layers"].append(layer)
data = json.dumps(manifest, separators=(",", ":")).encode()
entry["digest"], entry["size"] = put_blob(data), len(data)
with open(os.path.join(layout, "index.json.new"), "w") as f:
    json.dump(index, f, separators=(",", ":"))
os.rename(os.path.join(layout, "index.json.new"), os.path.join(layout, "index.json"))
EOF
}

# make_oci_layout DIR TAG [MARKER [EXTRA_FILE_MB]]: adds the image TAG to the OCI image
# layout DIR (created if it does not exist), made with umoci, three gzip'ed layers:
#  1. a busybox tree (umoci repack) with MARKER (default "oci:TAG") in /etc/podctl-image,
#     /etc/doomed, /data/lower-a, /data/sub/lower-c, /srv/app and the program /app/show
#     (_fixture_oci_app); EXTRA_FILE_MB of random bytes in /payload if asked;
#  2. /etc/layer2 ("layer2") added (umoci repack);
#  3. made by hand (see _fixture_oci_append_layer): the whiteout etc/.wh.doomed, and
#     data/ made opaque (.wh..wh..opq) with data/upper ("upper") in the same layer;
# and a config (umoci config) with Entrypoint ["/app/show", "from-entrypoint"], Cmd
# ["from cmd", "second"], Env GREETING=hello from env and PATH, WorkingDir /srv/app.
# So a pod of it has /etc/layer2 and /data/upper but neither /etc/doomed nor
# /data/lower-a nor /data/sub, and `podctl run --rm IMG` prints oci_app_output MARKER.
# Each image of a layout is distinct (its marker and times differ), so a layout with
# two tags has two images.
make_oci_layout() {
        local dir=$1 tag=$2 marker=${3:-oci:$2} work rootfs r
        work=$(fixture_tmpdir) || return 1
        rootfs=$work/bundle/rootfs
        # A chain, not set -e: a caller's "make_oci_layout ... &&" would disable it here.
        { [ -e "$dir/index.json" ] || umoci init --layout "$dir"; } &&
                umoci new --image "$dir:$tag" &&
                umoci unpack --image "$dir:$tag" "$work/bundle" >/dev/null &&
                make_image_rootfs "$rootfs" "$marker" "${4:-}" &&
                echo doomed >"$rootfs/etc/doomed" &&
                mkdir -p "$rootfs/data/sub" "$rootfs/srv/app" "$rootfs/app" &&
                echo lower-a >"$rootfs/data/lower-a" &&
                echo lower-c >"$rootfs/data/sub/lower-c" &&
                _fixture_oci_app >"$rootfs/app/show" &&
                chmod 0755 "$rootfs/app/show" &&
                umoci repack --refresh-bundle --image "$dir:$tag" "$work/bundle" &&
                echo layer2 >"$rootfs/etc/layer2" &&
                umoci repack --refresh-bundle --image "$dir:$tag" "$work/bundle" &&
                _fixture_oci_append_layer "$dir" "$tag" "$(printf '%s\n' \
                        'whiteout etc/doomed' 'dir data/' 'opaque data' 'file data/upper upper')" &&
                umoci config --image "$dir:$tag" \
                        --config.entrypoint /app/show --config.entrypoint from-entrypoint \
                        --config.cmd 'from cmd' --config.cmd second \
                        --config.env 'GREETING=hello from env' \
                        --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                        --config.workingdir /srv/app &&
                umoci gc --layout "$dir"
        r=$?
        rm -rf "$work"
        return $r
}

# oci_app_output MARKER: what a pod of a make_oci_layout image with that MARKER prints
# when run without a command: /app/show run as its config says (Entrypoint + Cmd, in
# WorkingDir, with Env), in a tree with the whiteouts applied.
oci_app_output() {
        printf '%s\n' cwd=/srv/app arg=from-entrypoint 'arg=from cmd' arg=second \
                'GREETING=hello from env' PATH=/usr/sbin:/usr/bin:/sbin:/bin "image=$1" \
                layer2=layer2 doomed=absent data=upper
}

# make_hostile_oci_layout DIR: an OCI layout of three make_oci_layout images, each with
# a fourth, hostile layer (markers "hostile:TAG"):
#  escape:   a file through "../" (tmp/canary-oci-traversal), a file through a symlink
#            to / (canary-oci-link), whiteouts of the host files /var/tmp/podctl-victim
#            (through "../") and /var/tmp/podctl-victim2 (through a symlink to
#            /var/tmp), and an opaque whiteout through a symlink to /var/tmp: all
#            resolve inside the image, where they remove nothing of note, but a naive
#            extractor deletes the host's files or empties its /var/tmp;
#  hardlink: a hard link to /etc/shadow, then a file of that name written through it;
#  device:   a character device node (1:1, /dev/mem).
make_hostile_oci_layout() {
        local dir=$1
        make_oci_layout "$dir" escape hostile:escape &&
                _fixture_oci_append_layer "$dir" escape "$(printf '%s\n' \
                        'file ../../../../../../../tmp/canary-oci-traversal traversal' \
                        'symlink olink /' 'file olink/tmp/canary-oci-link link' \
                        'whiteout ../../../../../../../var/tmp/podctl-victim' \
                        'symlink wlink /var/tmp' 'whiteout wlink/podctl-victim2' \
                        'symlink qlink /var/tmp' 'opaque qlink')" &&
                make_oci_layout "$dir" hardlink hostile:hardlink &&
                _fixture_oci_append_layer "$dir" hardlink "$(printf '%s\n' \
                        'hardlink shadow-link /etc/shadow' 'file shadow-link pwned')" &&
                make_oci_layout "$dir" device hostile:device &&
                _fixture_oci_append_layer "$dir" device "$(printf '%s\n' \
                        'dir dev/' 'chardev dev/evil-mem 1:1')"
}

# make_oci_tar FILE [TAG [MARKER [EXTRA_FILE_MB]]]: an OCI image layout (make_oci_layout,
# default tag "latest") as a tar archive with oci-layout, index.json and blobs/ at its
# top, as `skopeo copy ... oci-archive:` writes it.
make_oci_tar() {
        local work r
        work=$(fixture_tmpdir) || return 1
        make_oci_layout "$work/layout" "${2:-latest}" "${3:-}" "${4:-}" &&
                tar -C "$work/layout" -cf "$1" oci-layout index.json blobs
        r=$?
        rm -rf "$work"
        return $r
}

# make_docker_archive FILE [REF [MARKER]]: a `docker save` archive of one image tagged
# REF (default example/app:v1), by skopeo from a make_oci_layout image (MARKER default
# "docker-archive"). Layers are plain tars there, whiteouts as in the layout.
make_docker_archive() {
        local work r ref=${2:-example/app:v1}
        work=$(fixture_tmpdir) || return 1
        make_oci_layout "$work/layout" src "${3:-docker-archive}" &&
                skopeo --insecure-policy copy --quiet "oci:$work/layout:src" "docker-archive:$1:$ref"
        r=$?
        rm -rf "$work"
        return $r
}

# --- file system images --------------------------------------------------------------

# make_squashfs FILE [MARKER]: a squashfs (gzip) of a busybox tree whose
# /etc/podctl-image says MARKER (default "squashfs").
make_squashfs() {
        local work r
        work=$(fixture_tmpdir) || return 1
        make_image_rootfs "$work/tree" "${2:-squashfs}" &&
                mksquashfs "$work/tree" "$1" -noappend -quiet -comp gzip >/dev/null
        r=$?
        rm -rf "$work"
        return $r
}

# make_erofs FILE [MARKER]: an EROFS image (uncompressed) of a busybox tree whose
# /etc/podctl-image says MARKER (default "erofs").
make_erofs() {
        local work r
        work=$(fixture_tmpdir) || return 1
        rm -f "$1"
        make_image_rootfs "$work/tree" "${2:-erofs}" &&
                mkfs.erofs --quiet "$1" "$work/tree" >/dev/null
        r=$?
        rm -rf "$work"
        return $r
}

# The Discoverable Partitions Specification's root partition type for this
# architecture; the generic Linux file system type where it names none.
gpt_root_type() {
        case "$(uname -m)" in
        x86_64) echo 4f68bce3-e8cd-4db1-96e7-fbcaf984b709 ;;
        aarch64) echo b921b045-1df0-41c3-af44-4c6f280d3fae ;;
        i?86) echo 44479540-f297-41b2-9af7-d131d5f0458a ;;
        armv7*) echo 69dad710-2ce4-4e3c-b16c-21a1d49abed3 ;;
        riscv64) echo 72ec70a6-cf74-40e6-bd49-4bda08e8f224 ;;
        *) echo 0fc63daf-8483-4772-8e79-3d69d8477de4 ;;
        esac
}

# make_raw_gpt FILE [MARKER]: a raw disk image: a GPT (written by Python: protective
# MBR, both headers and entry arrays, CRCs) with one partition, named "root", of the
# root type of this architecture (gpt_root_type), starting at 1 MiB and holding an
# ext4 file system (label "podctl-root") of a busybox tree whose /etc/podctl-image says
# MARKER (default "raw"). No loop device: mkfs.ext4 -d fills a file, dd puts it in.
make_raw_gpt() {
        local work r fs_mb
        work=$(fixture_tmpdir) || return 1
        make_image_rootfs "$work/tree" "${2:-raw}" &&
                fs_mb=$(($(du -sm "$work/tree" | cut -f1) + 16)) &&
                mkfs.ext4 -q -F -L podctl-root -d "$work/tree" "$work/root.ext4" "${fs_mb}M" >/dev/null &&
                rm -f "$1" &&
                # 1 MiB before the partition, 1 MiB after it for the backup GPT.
                truncate -s $(((fs_mb + 2) * 1024 * 1024)) "$1" &&
                dd if="$work/root.ext4" of="$1" bs=1M seek=1 conv=notrunc,sparse status=none &&
                _fixture_write_gpt "$1" "$(gpt_root_type)" $((fs_mb * 2048))
        r=$?
        rm -rf "$work"
        return $r
}

# _fixture_write_gpt FILE TYPE_UUID SECTORS: writes a protective MBR and a GPT (primary
# and backup headers and entry arrays, with their CRCs) to FILE, with one partition named
# "root" of that type from sector 2048 (1 MiB), SECTORS long.
_fixture_write_gpt() {
        "$FIXTURE_PYTHON" - "$@" <<'EOF'
import os, struct, sys, uuid, zlib
path, type_guid, part_sectors = sys.argv[1], uuid.UUID(sys.argv[2]), int(sys.argv[3])
SECTOR, N_ENTRIES, ENTRY_SIZE = 512, 128, 128
size = os.path.getsize(path)
last = size // SECTOR - 1
first_part = 2048
entries = bytearray(N_ENTRIES * ENTRY_SIZE)
struct.pack_into("<16s16sQQQ72s", entries, 0, type_guid.bytes_le, uuid.uuid4().bytes_le,
                 first_part, first_part + part_sectors - 1, 0, "root".encode("utf-16-le"))
entries_crc = zlib.crc32(entries)
disk_guid = uuid.uuid4().bytes_le

def header(current, backup, entries_lba):
    h = bytearray(struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x00010000, 92, 0, 0,
                              current, backup, 34, last - 33, disk_guid, entries_lba,
                              N_ENTRIES, ENTRY_SIZE, entries_crc))
    struct.pack_into("<I", h, 16, zlib.crc32(h))
    return bytes(h) + bytes(SECTOR - len(h))

mbr = bytearray(SECTOR)
struct.pack_into("<8BII", mbr, 446, 0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1, min(last, 0xFFFFFFFF))
mbr[510:512] = b"\x55\xaa"
with open(path, "r+b") as f:
    f.write(mbr)
    f.write(header(1, last, 2))
    f.write(entries)
    f.seek((last - 32) * SECTOR)
    f.write(entries)
    f.write(header(last, 1, last - 32))
EOF
}

# --- minisign ----------------------------------------------------------------------------

# make_minisign_key DIR: a minisign key pair without a password: DIR/key.pub, DIR/key.sec.
make_minisign_key() {
        mkdir -p "$1" && minisign -G -W -p "$1/key.pub" -s "$1/key.sec" >/dev/null
}

# minisign_key_id KEYDIR: the key id as minisign prints it (16 uppercase hex digits).
minisign_key_id() {
        "$FIXTURE_PYTHON" -c '
import base64, sys
raw = base64.b64decode(open(sys.argv[1]).read().splitlines()[1])
print("%X" % int.from_bytes(raw[2:10], "little"))' "$1/key.pub"
}

# sign FILE KEYDIR [legacy]: FILE.minisig by KEYDIR's key, prehashed (or legacy, which
# signs the file itself) with the trusted comment "podctl test: NAME of FILE".
sign() {
        local legacy=()
        [ "${3:-}" != legacy ] || legacy=(-l)
        minisign -S "${legacy[@]}" -s "$2/key.sec" -m "$1" -x "$1.minisig" \
                -t "podctl test: $(basename "$1")" >/dev/null
}

# --- hostile archives ------------------------------------------------------------------

# make_hostile_tars DIR: hostile archives CASE.tar (CASE.tar.gz for corrupt-gz) in DIR,
# made with Python's tarfile (GNU tar for the sparse bombs), each commented with what it
# aims at. CASE.expect holds the expected outcome, one line:
#   inside PATH             the import succeeds and the entry is at PATH in the image tree
#                           (where a pod would see it);
#   inside-somewhere NAME   it succeeds and a regular file NAME is somewhere in the tree
#                           (symlinks: resolved inside the root, or replaced, as long as
#                           nothing is written outside);
#   either ERE              it succeeds, or fails with an error matching ERE;
#   error ERE               it fails, with an error matching ERE (D-Bus error names and
#                           words of the message, as expect_fail matches them).
# What they aim at on the host: /tmp/canary-* and /etc/shadow.
make_hostile_tars() {
        mkdir -p "$1" || return 1
        "$FIXTURE_PYTHON" - "$1" <<'EOF' || return 1
import io, os, random, sys, tarfile, zlib
out = sys.argv[1]

def tar(case, expect, entries, fmt=tarfile.GNU_FORMAT):
    """entries: (name, type, data-or-linkname, extra TarInfo attributes)."""
    with tarfile.open(os.path.join(out, case + ".tar"), "w", format=fmt) as t:
        for e in entries:
            name, type, payload = e[:3]
            ti = tarfile.TarInfo(name)
            ti.type, ti.mtime, ti.uid, ti.gid = type, 1700000000, 0, 0
            ti.mode = {tarfile.DIRTYPE: 0o755, tarfile.SYMTYPE: 0o777}.get(type, 0o644)
            for k, v in (e[3] if len(e) > 3 else {}).items():
                setattr(ti, k, v)
            data = None
            if type in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                ti.linkname = payload
            elif type == tarfile.REGTYPE:
                data = payload if isinstance(payload, bytes) else payload.encode()
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
    with open(os.path.join(out, case + ".expect"), "w") as f:
        f.write(expect + "\n")

D, F, L, H = tarfile.DIRTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
tmp = ("tmp/", D, None)

# ".." climbing out of the root: resolves to the image's own /tmp.
tar("traversal", "inside /tmp/canary-traversal",
    [tmp, ("../../../../../../../tmp/canary-traversal", F, "traversal\n")])
# An absolute path: the image's /tmp, not the host's.
tar("absolute", "inside /tmp/canary-abs", [tmp, ("/tmp/canary-abs", F, "absolute\n")])
# A symlink to / and a file written through it: a naive extractor follows the link
# on the host.
tar("symlink-root", "inside-somewhere canary-link",
    [tmp, ("link", L, "/"), ("link/tmp/canary-link", F, "symlink\n")])
# A symlink to /tmp (absolute) and a file through it.
tar("symlink-tmp", "inside-somewhere canary-symtmp",
    [tmp, ("tmplink", L, "/tmp"), ("tmplink/canary-symtmp", F, "symlink\n")])
# A chain of symlinks, each to "..", each created through the ones before: lexically
# every link stays inside (d1/up/up2 -> .. looks like d1/up), but a naive extractor
# puts up2 where d1/up leads, the root, so it points above the root, up3 one more
# level up, and so on to the host's /, whatever the depth of the extraction directory.
chain, links = "d1/up", [("d1/", D, None), ("d1/up", L, "..")]
for i in range(2, 13):
    chain += "/up%d" % i
    links.append((chain, L, ".."))
tar("symlink-chain", "inside-somewhere canary-chain",
    [tmp] + links + [(chain + "/tmp/canary-chain", F, "chain\n")])
# Two symlinks pointing at each other, then a file through them: fails (ELOOP), or the
# extractor replaced a link by a directory and the file lands inside.
tar("symlink-loop", "either UnsafeArchive|ImportFailed|symbolic link|loop|unsafe",
    [tmp, ("a", L, "b"), ("b", L, "a"), ("a/canary-loop", F, "loop\n")])
# A regular file replaced by a symlink to /tmp, then a file through it.
tar("replace-with-symlink", "inside-somewhere canary-replace",
    [tmp, ("x", F, "plain\n"), ("x", L, "/tmp"), ("x/canary-replace", F, "replace\n")])
# A hard link to the host's /etc/shadow, then a regular file of that name: extractors
# that open the existing file write into /etc/shadow. No etc/shadow in the image.
tar("hardlink-abs", "error UnsafeArchive|ImportFailed|hard[- ]?link|outside|unsafe",
    [("etc/", D, None), ("shadow-link", H, "/etc/shadow"), ("shadow-link", F, "pwned\n")])
# The same through "..".
tar("hardlink-dotdot", "error UnsafeArchive|ImportFailed|hard[- ]?link|outside|unsafe",
    [("etc/", D, None), ("escape", H, "../../../../../../etc/shadow"), ("escape", F, "pwned\n")])
# The same through a symlink the archive made first.
tar("hardlink-via-symlink", "error UnsafeArchive|ImportFailed|hard[- ]?link|outside|unsafe|symlink",
    [("etclink", L, "/etc"), ("h", H, "etclink/shadow"), ("h", F, "pwned\n")])
# Device nodes: /dev/mem's numbers and the first SCSI disk's.
tar("chardev", "error UnsafeArchive|device",
    [("dev/", D, None), ("dev/evil-mem", tarfile.CHRTYPE, None, {"devmajor": 1, "devminor": 1, "mode": 0o666})])
tar("blockdev", "error UnsafeArchive|device",
    [("dev/", D, None), ("dev/evil-sda", tarfile.BLKTYPE, None, {"devmajor": 8, "devminor": 0, "mode": 0o666})])
# /dev/null's numbers: what --allow-devices must let through.
tar("nulldev", "error UnsafeArchive|device",
    [("dev/", D, None), ("dev/null-copy", tarfile.CHRTYPE, None, {"devmajor": 1, "devminor": 3, "mode": 0o666})])
# The same name twice: a file, then a directory with content (the later entry wins,
# as tar extracts it, or the archive is refused).
tar("duplicate", "either UnsafeArchive|ImportFailed|duplicate|exists|unsafe",
    [("dup", F, "file first\n"), ("dup/", D, None), ("dup/inner", F, "inner\n")])

# A header declaring 100 GiB and 1 MiB of data after it, then the end: the size must be
# refused from the header (or the archive found truncated) without writing 100 GiB.
with open(os.path.join(out, "bomb-declared.tar"), "wb") as f:
    ti = tarfile.TarInfo("zeros")
    ti.size, ti.mtime = 100 << 30, 1700000000
    f.write(ti.tobuf(tarfile.GNU_FORMAT))
    f.write(bytes(1 << 20))
with open(os.path.join(out, "bomb-declared.expect"), "w") as f:
    f.write("error UnsafeArchive|ImportFailed|large|size|limit|truncat|unexpected end\n")

# Cut in the middle of a file's data.
buf = io.BytesIO()
rnd = random.Random(4)
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
    for i in range(3):
        data = bytes(rnd.getrandbits(8) for _ in range(64 * 1024))
        ti = tarfile.TarInfo("file%d" % i)
        ti.size, ti.mtime = len(data), 1700000000
        t.addfile(ti, io.BytesIO(data))
whole = buf.getvalue()
with open(os.path.join(out, "truncated.tar"), "wb") as f:
    f.write(whole[:512 + 64 * 1024 + 512 + 20000])  # inside file1's data
with open(os.path.join(out, "truncated.expect"), "w") as f:
    f.write("error ImportFailed|truncat|unexpected end|premature|failed to read\n")

# Random bytes.
with open(os.path.join(out, "random.tar"), "wb") as f:
    f.write(random.Random(7).randbytes(256 * 1024))
with open(os.path.join(out, "random.expect"), "w") as f:
    f.write("error ImportFailed|UnsupportedFormat|not a tar|unrecognized|unsupported|failed to read|format\n")

# A tar.gz whose deflate stream is damaged in the middle: inflating it fails (checked
# here), not just its CRC.
text = "".join("line %d of a text that compresses well enough\n" % i for i in range(40000)).encode()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
    ti = tarfile.TarInfo("etc/text")
    ti.size, ti.mtime = len(text), 1700000000
    t.addfile(ti, io.BytesIO(text))
import gzip
gz = bytearray(gzip.compress(buf.getvalue(), mtime=0))
rnd = random.Random(11)
for attempt in range(1000):
    bad = bytearray(gz)
    at = len(bad) // 2 + attempt
    bad[at:at + 16] = rnd.randbytes(16)
    try:
        zlib.decompressobj(-15).decompress(bytes(bad[10:]))
    except zlib.error:
        break
else:
    sys.exit("could not damage the deflate stream")
with open(os.path.join(out, "corrupt-gz.tar.gz"), "wb") as f:
    f.write(bad)
with open(os.path.join(out, "corrupt-gz.expect"), "w") as f:
    f.write("error ImportFailed|corrupt|invalid|damaged|gzip|inflate|failed to read|truncat\n")
EOF
        # Sparse bombs, which GNU tar writes as PAX sparse files (the holes cost nothing
        # to write or store): a few KiB that hold 1 TiB in one file, and 8 files of 128
        # GiB each (1 TiB in all, each file under any per-file limit of 1 TiB).
        local work r
        work=$(fixture_tmpdir) || return 1
        truncate -s 1T "$work/sparse" &&
                printf 'tail' >>"$work/sparse" &&
                tar -C "$work" --sparse --format=posix --mtime=@1700000000 -cf "$1/bomb-sparse.tar" sparse &&
                echo 'error UnsafeArchive|large|size|limit' >"$1/bomb-sparse.expect" &&
                rm -f "$work/sparse" &&
                truncate -s 128G "$work/sparse"{1..8} &&
                tar -C "$work" --sparse --format=posix --mtime=@1700000000 -cf "$1/bomb-sparse-many.tar" \
                        sparse{1..8} &&
                echo 'error UnsafeArchive|large|size|limit' >"$1/bomb-sparse-many.expect"
        r=$?
        rm -rf "$work"
        return $r
}

# hostile_many_entries N [same]: writes to stdout a tar of N empty files, generated as it
# streams (about a second per million entries): pipe it into `podctl image import -` to
# try an entry limit without storing the archive. The files are all different (1000 per
# directory), or with "same" all the same file again and again: as many entries, but
# no million inodes to create and delete. A reader that stops early ends it quietly.
hostile_many_entries() {
        "$FIXTURE_PYTHON" - "$1" "${2:-distinct}" <<'EOF'
import signal, sys, tarfile
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
n, same = int(sys.argv[1]), sys.argv[2] == "same"
out = sys.stdout.buffer

def template(type):
    """A ustar header with an empty name, and the checksum of everything but the name."""
    ti = tarfile.TarInfo("")
    ti.type, ti.mtime = type, 1700000000
    ti.mode = 0o755 if type == tarfile.DIRTYPE else 0o644
    h = bytearray(ti.tobuf(tarfile.USTAR_FORMAT))
    h[148:156] = b" " * 8
    return bytes(h[100:148]), bytes(h[156:512]), sum(h[100:512])

FILE, DIR = template(tarfile.REGTYPE), template(tarfile.DIRTYPE)

def header(name, t):
    name = name.encode()
    mid, tail, base = t
    return name.ljust(100, b"\0") + mid + b"%06o\0 " % (base + sum(name)) + tail

if same:
    block = header("zero", FILE) * 4096
    for i in range(n // 4096):
        out.write(block)
    out.write(header("zero", FILE) * (n % 4096))
else:
    chunk = []
    for i in range(n):
        d, f = divmod(i, 1000)
        if f == 0:
            chunk.append(header("d%d/" % d, DIR))
        chunk.append(header("d%d/f%d" % (d, f), FILE))
        if len(chunk) >= 4096:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
out.write(bytes(1024))
out.flush()
EOF
}

# --- for the scenarios (these need lib.sh) ----------------------------------------------

# image_path NAME: the image's tree on this host (its D-Bus Path).
image_path() {
        local obj
        obj=$(busctl call io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager GetImage s "$1" |
                awk '{print $2}' | tr -d '"') || return 1
        busctl get-property io.podctl.pod1 "$obj" io.podctl.pod1.Image Path | awk '{print $2}' | tr -d '"'
}

# image_field NAME FIELD: a field of `podctl image inspect --json NAME`, as jq -r prints it.
image_field() {
        "$PODCTL" image inspect --json "$1" | jq -r ".$2"
}

# assert_import_left_nothing NAME IMAGES_BEFORE: after a failed import of NAME, once the
# daemon has cleaned up (a bounded wait: a failed import's tree may still be being
# deleted after the error was answered), NAME is neither listed nor recorded, images/
# is as before (dir_entries) and nothing hidden is left in the store.
assert_import_left_nothing() {
        local deadline=$((SECONDS + 60))
        ! image_names | grep -qx -- "$1" || fail "the failed import '$1' is listed"
        { set +x; } 2>/dev/null
        while [ -n "$(store_hidden)" ] && [ $SECONDS -lt $deadline ]; do
                sleep 0.2
        done
        set -x
        assert_eq "$(store_hidden)" "" "hidden entries in $STATE after the failed import of '$1'"
        assert_eq "$(dir_entries "$IMAGES")" "$2" "images/ after the failed import of '$1'"
        [ ! -e "$STATE/image-meta/$1.json" ] || fail "the failed import '$1' left its record"
}
