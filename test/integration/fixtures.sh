# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Test images made from Debian's busybox-static. Sourced by lib.sh, tools/demo and
# bench/start-latency; needs nothing but bash and coreutils.

# Whether an executable needs no dynamic loader (ldd refuses static ones).
file_is_static() {
        ! ldd "$1" >/dev/null 2>&1
}

# make_busybox_rootfs DIR [EXTRA_FILE_MB]: a minimal OS tree from Debian's
# busybox-static: /bin/busybox with its applet links, passwd, group, os-release.
make_busybox_rootfs() {
        local d=$1
        if ! [ -x /bin/busybox ] || ! file_is_static /bin/busybox; then
                echo "make_busybox_rootfs: no static /bin/busybox (apt-get install busybox-static)" >&2
                return 1
        fi
        mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,var/tmp}
        chmod 1777 "$d/tmp" "$d/var/tmp"
        cp /bin/busybox "$d/bin/busybox"
        chroot "$d" /bin/busybox --install -s
        cat >"$d/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOT
        cat >"$d/etc/group" <<'EOT'
root:x:0:
nogroup:x:65534:
EOT
        cat >"$d/etc/os-release" <<'EOT'
NAME="podctl busybox"
ID=busybox
PRETTY_NAME="podctl test image (busybox)"
EOT
        if [ -n "${2:-}" ]; then
                head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$d/payload"
        fi
        test -x "$d/bin/sh"
}

