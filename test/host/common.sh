# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared by test/host/{boot,run,install,shutdown}. Sourced, not run.
#
# A test host is a throw-away systemd booted by systemd-nspawn on a read-only view of
# this machine's own root file system (changes go to a tmpfs overlay and vanish at
# power-off), with /var/lib/podctl bound in from a real file system. Its state lives in
# $PODCTL_TEST_STATE/NAME on the outside; that directory must not be under /run or /tmp,
# which the boot hides (tmpfs on /run) or the test host cleans.

PODCTL_TEST_STATE=${PODCTL_TEST_STATE:-/var/tmp/podctl-test}
PODCTL_TEST_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

die() {
        echo "${0##*/}: $*" >&2
        exit 1
}

check_root() {
        [ "$(id -u)" = 0 ] || die "must run as root"
}

check_name() {
        [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,39}$ ]] ||
                die "invalid test host name '$1' (letters, digits and '-', at most 40)"
}

state_dir() {
        echo "$PODCTL_TEST_STATE/$1"
}

# pid_alive PID [COMM]: the process exists (and has that command name).
pid_alive() {
        [ -n "$1" ] && [ -e "/proc/$1" ] || return 1
        [ -z "${2:-}" ] || [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# The test host's PID 1 as this machine sees it, or fail.
host_leader() {
        local s leader
        s=$(state_dir "$1")
        [ -r "$s/leader" ] || die "test host '$1' is not booted (no $s/leader)"
        leader=$(cat "$s/leader")
        pid_alive "$leader" systemd || die "test host '$1' is not running (PID $leader gone)"
        echo "$leader"
}

# The environment commands get inside: nothing of the caller's but TERM.
host_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          HOME=/root LANG=C.UTF-8 "TERM=${TERM:-dumb}" SYSTEMD_PAGER= PAGER=cat
          SYSTEMD_COLORS=0)
