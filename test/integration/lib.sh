# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Helpers for the integration scenarios. Sourced by every test/integration/NN-*.sh,
# which run as root inside a booted test host (test/host/boot) against the installed
# build, with the real systemd, dbus-daemon, systemd-machined and polkitd:
#
#   test/host/run NAME --cwd=$PWD/test/integration bash ./04-pods.sh
#
# Sourcing resets podctl's state (units, daemon, /var/lib/podctl) so that every
# scenario starts from a freshly installed system, makes $T (a scratch directory) and
# installs an EXIT trap that prints diagnostics on failure and cleans up.

set -eux -o pipefail

PODCTL=${PODCTL:-podctl}
STATE=/var/lib/podctl
IMAGES=$STATE/images
PODS=$STATE/pods
# The D-Bus interface files: the source tree's if we were told where it is.
PODCTL_SRCDIR=${PODCTL_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# The build directory installed in the test host (test programs such as pod-escape).
PODCTL_BUILDDIR=${PODCTL_BUILDDIR:-$PODCTL_SRCDIR/build}
SCENARIO=$(basename "$0" .sh)

FAIL_MSG=
fail() {
        { set +x; } 2>/dev/null
        FAIL_MSG="$*"
        exit 1
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
        [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

assert_ne() {
        [ "$1" != "$2" ] || fail "${3:-value}: expected anything but '$2'"
}

# assert_match TEXT ERE [WHAT]: TEXT matches the extended regular expression.
assert_match() {
        grep -Eq -- "$2" <<<"$1" || fail "${3:-text} does not match /$2/: $1"
}

assert_no_match() {
        ! grep -Eq -- "$2" <<<"$1" || fail "${3:-text} matches /$2/ but should not: $1"
}

# expect_fail [--status=N] PATTERN CMD...: CMD exits non-zero (with N if given) and
# its stderr matches PATTERN, an extended regular expression matched without regard
# to case ('NoSuchPod|does not exist' accepts either wording). The output is left in
# $FAIL_OUT and $FAIL_ERR, the status in $FAIL_STATUS.
expect_fail() {
        local want_status= pattern
        case "$1" in --status=*) want_status=${1#--status=}; shift ;; esac
        pattern=$1
        shift
        FAIL_STATUS=0
        { set +x; } 2>/dev/null
        "$@" >"$T/.out" 2>"$T/.err" || FAIL_STATUS=$?
        FAIL_OUT=$(cat "$T/.out")
        FAIL_ERR=$(cat "$T/.err")
        echo "expect_fail: status $FAIL_STATUS; stderr: $FAIL_ERR" >&2
        set -x
        [ "$FAIL_STATUS" != 0 ] || fail "'$*' succeeded, expected failure /$pattern/ (stdout: $FAIL_OUT)"
        [ -z "$want_status" ] || [ "$FAIL_STATUS" = "$want_status" ] ||
                fail "'$*' exited $FAIL_STATUS, expected $want_status (stderr: $FAIL_ERR)"
        grep -Eqi -- "$pattern" <<<"$FAIL_ERR" ||
                fail "'$*' stderr does not match /$pattern/: $FAIL_ERR"
}

# wait_until TIMEOUT CMD...: poll CMD until it succeeds. The timeout only guards
# against hanging; it is never what a test asserts.
wait_until() {
        local deadline=$((SECONDS + $1))
        shift
        { set +x; } 2>/dev/null
        until "$@" >/dev/null 2>&1; do
                if [ $SECONDS -ge $deadline ]; then
                        set -x
                        fail "timed out waiting for: $*"
                fi
                sleep 0.2
        done
        set -x
}

# bus_call PATH INTERFACE.METHOD [ARG...]: a call to podmachined with gdbus, arguments
# in GVariant text ("'x'", "uint32 1", "@as []"); unlike busctl, a failure names the
# D-Bus error.
bus_call() {
        local path=$1 method=$2
        shift 2
        gdbus call --system --dest io.podctl.pod1 --object-path "$path" --method "$method" "$@"
}

unit_state() { # UNIT: ActiveState
        systemctl show -P ActiveState "$1"
}

unit_is() { # UNIT STATE
        [ "$(systemctl show -P ActiveState "$1")" = "$2" ]
}

# Values from the JSON the client prints.
pod_field() { # POD FIELD
        "$PODCTL" status --json "$1" | jq -r ".$2"
}

pod_state() {
        pod_field "$1" state
}

pod_in_state() { # POD STATE
        [ "$(pod_state "$1")" = "$2" ]
}

pod_names() {
        "$PODCTL" list --json | jq -r '.[].name' | sort
}

image_names() {
        "$PODCTL" image list --json | jq -r '.[].name' | sort
}

# A pod command that runs until it is stopped, and stops at once on SIGTERM (as the
# pod's PID 1 a plain sleep would ignore SIGTERM and wait for the stop timeout).
SLEEPER=(sh -c 'trap "exit 0" TERM; sleep 100000 & wait')

# Whether anything of pod NAME is left: its directory, a unit, a mount.
pod_leftovers() { # NAME: prints what is left
        settle_removals "$PODS"
        ls -d "$PODS/$1" 2>/dev/null || true
        ls -A "$PODS" 2>/dev/null | grep -E '^\.(tmp|rm)-' || true
        systemctl list-units --all --plain --no-legend "pod@$1.service" | awk '$3 != "inactive"' || true
        findmnt -rn -o TARGET | grep -F "$PODS/$1" || true
}

assert_no_pod() { # NAME
        local left
        left=$(pod_leftovers "$1")
        [ -z "$left" ] || fail "pod $1 left: $left"
        ! pod_names | grep -qx -- "$1" || fail "pod $1 is still listed"
}

# set_exit_idle SEC: the daemon exits after SEC idle seconds from its next start on.
set_exit_idle() {
        mkdir -p /run/systemd/system/podmachined.service.d
        printf '[Service]\nEnvironment=PODMACHINED_EXIT_IDLE_SEC=%s\n' "$1" \
                >/run/systemd/system/podmachined.service.d/50-idle.conf
        systemctl daemon-reload
}

daemon_pid() {
        systemctl show -P MainPID podmachined.service
}

# store_hidden: the hidden entries (.tmp-*, .rm-*) anywhere in the first two levels of
# the store: images/, pods/, image-meta/ and whatever staging directory an import uses.
store_hidden() {
        find "$STATE" -mindepth 1 -maxdepth 2 \( -name '.tmp-*' -o -name '.rm-*' \) 2>/dev/null | sort
}

# What is in a state directory, hidden entries included.
# A removed pod's or image's tree is renamed to .rm-* (which already makes the removal
# final) and deleted right after the call is answered: wait for that before looking. The
# bound only guards against hanging; a tree that is never deleted still shows up.
settle_removals() { # DIR
        local deadline=$((SECONDS + 30))
        while ls -A "$1" 2>/dev/null | grep -q '^\.rm-' && [ $SECONDS -lt $deadline ]; do
                sleep 0.1
        done
}

dir_entries() {
        settle_removals "$1"
        # A directory the service has not made yet is empty.
        { ls -A "$1" 2>/dev/null || true; } | sort | tr '\n' ' '
}

# --- fixtures -----------------------------------------------------------------------

. "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"

# make_busybox_tar TARFILE [gz]: the same tree as a tar archive (gzip'ed if asked).
make_busybox_tar() {
        local tree=$T/.tartree.$$.$RANDOM
        make_busybox_rootfs "$tree"
        if [ "${2:-}" = gz ]; then
                tar -C "$tree" -czf "$1" .
        else
                tar -C "$tree" -cf "$1" .
        fi
        rm -rf "$tree"
}

# import_busybox [NAME]: imports a busybox image once per scenario (default "busybox").
import_busybox() {
        local name=${1:-busybox}
        [ -d "$T/busybox-rootfs" ] || make_busybox_rootfs "$T/busybox-rootfs"
        "$PODCTL" image import "$T/busybox-rootfs" "$name"
}

# import_signed_busybox NAME: trusts a new key "release" ($T/release.pub, .key) and imports
# an image signed by it ($T/signed.tar and its .minisig) as NAME.
import_signed_busybox() {
        minisign -G -W -p "$T/release.pub" -s "$T/release.key" >/dev/null
        "$PODCTL" trust add --name=release "$T/release.pub"
        make_busybox_tar "$T/signed.tar"
        minisign -S -s "$T/release.key" -m "$T/signed.tar" >/dev/null
        "$PODCTL" image import "$T/signed.tar" "$1"
}

# --- users --------------------------------------------------------------------------

# add_users NAME...: plain users, made once per test host.
add_users() {
        local u
        for u in "$@"; do
                id "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$u"
        done
}

# as_active USER CMD...: CMD in an active login session of USER on seat0, as polkit sees
# a user at the console.
as_active() {
        local user=$1
        shift
        systemd-run --wait --pipe --quiet -p PAMName=login -E XDG_SEAT=seat0 -E XDG_SESSION_CLASS=user \
                -E XDG_SESSION_TYPE=tty --uid="$user" -- "$@"
}

# as_inactive USER CMD...: no session at all: polkit's "any".
as_inactive() {
        local user=$1
        shift
        setpriv --reuid="$user" --regid="$user" --init-groups --reset-env -- "$@"
}

# --- state ------------------------------------------------------------------------

# Removes every subvolume under DIR on btrfs, read-only ones included, deepest first.
delete_subvolumes() {
        local p
        [ "$(stat -f -c %T "$1")" = btrfs ] || return 0
        btrfs subvolume list "$1" 2>/dev/null | sed 's/.* path //' | awk '{print length, $0}' |
                sort -rn | cut -d' ' -f2- | while read -r p; do
                btrfs property set -ts "$1/$p" ro false 2>/dev/null || true
                btrfs subvolume delete "$1/$p" >/dev/null || true
        done
}

# Back to a freshly installed system: no pods, images or trusted keys, daemon not running.
podctl_reset() {
        local u m
        for u in $(systemctl list-units --all --plain --no-legend 'pod@*.service' | awk '{print $1}'); do
                systemctl stop "$u" || systemctl kill -s KILL "$u" || true
                systemctl disable "$u" 2>/dev/null || true
        done
        systemctl stop podmachined.service || true
        systemctl reset-failed 'pod@*.service' podmachined.service 2>/dev/null || true
        for m in $(machinectl list --no-legend 2>/dev/null | awk '{print $1}'); do
                machinectl terminate "$m" || true
        done
        rm -rf /run/systemd/system/podmachined.service.d /etc/systemd/system/machines.target.wants/pod@*
        # What podmachined writes for users' pods, and the admin's limits for them.
        rm -rf /etc/systemd/system/pod@*.service.d /etc/systemd/system/machine-pods*.slice \
                /etc/podctl/podctl.conf
        systemctl daemon-reload
        findmnt -rn -o TARGET | grep "^$STATE/" | sort -r | xargs -r umount -l || true
        delete_subvolumes "$STATE"
        find "$STATE" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} +
        rm -rf /run/podctl
        rm -rf /etc/podctl/trusted-keys.d /usr/lib/podctl/trusted-keys.d
}

diagnostics() {
        { set +x; } 2>/dev/null
        echo "---- diagnostics for $SCENARIO ----"
        "$PODCTL" list 2>&1 || true
        "$PODCTL" image list 2>&1 || true
        systemctl list-units --all --no-pager --plain 'pod@*' podmachined.service 2>&1 || true
        machinectl list --no-pager 2>&1 || true
        find "$STATE" -maxdepth 3 2>&1 | head -40 || true
        journalctl --no-pager --since="@$SCENARIO_START" -u podmachined.service -u 'pod@*' \
                -u systemd-machined.service 2>&1 | tail -n 150 || true
        echo "---- end of diagnostics ----"
}

lib_exit() {
        local r=$?
        { set +x; } 2>/dev/null
        jobs -p | xargs -r kill 2>/dev/null || true
        if [ $r != 0 ]; then
                diagnostics >&2
                # Last, where a log tail shows it.
                if [ -n "$FAIL_MSG" ]; then
                        echo "FAIL($SCENARIO): $FAIL_MSG" >&2
                else
                        echo "FAIL($SCENARIO): exit status $r at line ${ERR_LINE:-?}: ${ERR_CMD:-?}" >&2
                fi
        fi
        cd /
        rm -rf "$T"
        exit $r
}

refuse() {
        echo "$SCENARIO: $*" >&2
        exit 1
}
[ "$(id -u)" = 0 ] || refuse "integration scenarios run as root inside a test host"
[ "$(cat /proc/1/comm)" = systemd ] || refuse "PID 1 is not systemd: run this inside test/host/boot's test host"
# The reset below deletes every pod and image: never on someone's real system.
[ "$(systemd-detect-virt --container 2>/dev/null)" = systemd-nspawn ] || [ -n "${PODCTL_TEST_ALLOW_HOST:-}" ] ||
        refuse "not in a test host (it deletes all pods and images); set PODCTL_TEST_ALLOW_HOST=1 to run here anyway"
command -v "$PODCTL" >/dev/null || refuse "$PODCTL is not installed: test/host/install NAME BUILDDIR"
T=$(mktemp -d /tmp/podctl-it.XXXXXX)
SCENARIO_START=$(date +%s)
set -E
trap 'ERR_LINE=$LINENO ERR_CMD=$BASH_COMMAND' ERR
trap lib_exit EXIT
# What the scenario found, before the reset: 01-activation asserts that nothing
# started the daemon before the first call.
PODMACHINED_INITIAL_STATE=$(unit_state podmachined.service)
podctl_reset
