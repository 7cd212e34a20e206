#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podmachined killed with SIGKILL at bad moments: pods keep running (they are their own
# units), the next call brings the daemon back with the same view, and a half-done
# import leaves nothing a listing shows nor, once the daemon is back, on disk.
set -eux
. "$(dirname "$0")/lib.sh"

kill_daemon() {
        local pid
        pid=$(daemon_pid)
        assert_ne "$pid" 0 "podmachined MainPID"
        kill -KILL "$pid"
        # Inactive or failed: not deactivating, while systemd kills what is left in the
        # unit (a child that was deleting) and waits for the cgroup to be empty.
        wait_until 120 eval '! unit_is podmachined.service active && ! unit_is podmachined.service deactivating'
        # Five kills in ten seconds would hit the unit's start rate limit.
        systemctl reset-failed podmachined.service
}

import_busybox

# 1. Kill the daemon while a pod runs.
"$PODCTL" run -d --name c1 busybox "${SLEEPER[@]}"
wait_until 60 pod_in_state c1 running
before=$("$PODCTL" status --json c1 | jq -S 'del(.state)')
leader=$(pod_field c1 leader)
kill_daemon
# The pod did not notice.
assert_eq "$(unit_state pod@c1.service)" active
kill -0 "$leader"
grep -q 'pod@c1\.service' "/proc/$leader/cgroup"
# The next call brings the daemon back, with the same pod.
"$PODCTL" list | grep -Eq '^c1 +running '
assert_eq "$(unit_state podmachined.service)" active
assert_eq "$("$PODCTL" status --json c1 | jq -S 'del(.state)')" "$before"
assert_eq "$(pod_state c1)" running
# ...which it controls as before.
"$PODCTL" stop c1
wait_until 60 pod_in_state c1 exited
"$PODCTL" start c1
wait_until 60 pod_in_state c1 running

# 2. A pod that ends while the daemon is dead is seen as exited by the next one.
kill_daemon
systemctl stop pod@c1.service
assert_ne "$(unit_state podmachined.service)" active
assert_eq "$(pod_state c1)" exited
"$PODCTL" status --json c1 | jq -e '.exit_code == "exited" and .exit_status == 0 and .finished_usec > 0'
"$PODCTL" rm c1
assert_no_pod c1

# 3. Kill the daemon right after a create: the pod is there.
"$PODCTL" create --name c2 busybox "${SLEEPER[@]}"
kill_daemon
pod_names | grep -qx c2
assert_eq "$(pod_state c2)" created
"$PODCTL" start c2
wait_until 60 pod_in_state c2 running
"$PODCTL" rm --force c2
assert_no_pod c2

# 4. Kill the daemon in the middle of a large import from a pipe.
images_before=$(dir_entries "$IMAGES")
mkdir -p "$T/large"
make_busybox_rootfs "$T/large" 300
tar -C "$T/large" -cf "$T/large.tar" .
rm -rf "$T/large"
mkfifo "$T/fifo"
"$PODCTL" image import - large <"$T/fifo" >"$T/import.log" 2>&1 &
importer=$!
exec 7>"$T/fifo"
# Half of it, then hold the pipe open: the import is under way and cannot finish.
head -c 157286400 "$T/large.tar" >&7
wait_until 120 eval 'ls -A "$IMAGES" | grep -q "^\.tmp-"'
ls -A "$IMAGES"
kill_daemon
exec 7>&-
r=0; wait $importer || r=$?
assert_ne "$r" 0 "the interrupted import's exit status"
cat "$T/import.log"
# Not listed, and after the restart nothing is left on disk.
expect_fail 'NoSuchImage|does not exist|no such image' "$PODCTL" image rm large
! image_names | grep -qx large || fail "the interrupted import is listed"
assert_eq "$(dir_entries "$IMAGES")" "$images_before" "images/ after the restart"
# The name is free, and the same import now works.
"$PODCTL" image import - large <"$T/large.tar"
image_names | grep -qx large
assert_eq "$(busctl get-property io.podctl.pod1 /io/podctl/pod1/image/large io.podctl.pod1.Image Size | awk '{print ($2 >= 314572800)}')" 1
"$PODCTL" image rm large

# 5. Killed with a pod half removed (the daemon's .rm- entries) or created (.tmp-):
# fake both and check the start-up sweep.
mkdir -p "$PODS/.tmp-c3-0000000000000001" "$PODS/.rm-c4-0000000000000001" \
        "$IMAGES/.tmp-i1-0000000000000001"
echo '{}' >"$PODS/.tmp-c3-0000000000000001/pod.json"
kill_daemon
"$PODCTL" list
leftovers() { # DIR: how many hidden entries (.tmp-, .rm-) it has
        store_hidden | grep -c "^$1/" || true
}
no_leftovers() { [ -z "$(store_hidden)" ]; }
# A child deletes them, after the daemon answered.
wait_until 60 no_leftovers
assert_eq "$("$PODCTL" list --json)" "[]"

# 6. A removed tree of many files is deleted by a child of the daemon, which answers
# meanwhile; killed during it, the daemon takes its child along (PR_SET_PDEATHSIG), and
# the next start-up sweep deletes the rest. (On btrfs an image is a subvolume, deleted
# whole at once: nothing to catch half-way.)
if [ "$(stat -f -c %T "$STATE")" != btrfs ]; then
        mkdir -p "$T/many/d"
        (cd "$T/many/d" && seq 1 150000 | xargs touch)
        "$PODCTL" image import "$T/many" many
        daemon=$(daemon_pid)
        "$PODCTL" image rm many
        deleter=
        for _ in $(seq 600); do
                deleter=$(pgrep -P "$daemon" | head -n1) && [ -n "$deleter" ] && break
                sleep 0.05
        done
        [ -n "$deleter" ] || fail "no child of podmachined deleted image 'many'"
        kill -STOP "$deleter"
        # The deletion is stopped half-way: the daemon still answers, the image is gone
        # from the list, its tree waits under a hidden name.
        assert_eq "$(timeout 30 "$PODCTL" image list --json | jq -r '.[].name' | grep -cx many || true)" 0 \
                "image list during the deletion"
        assert_eq "$(leftovers "$IMAGES")" 1 "the tree being deleted"
        kill_daemon
        wait_until 30 sh -c "! kill -0 $deleter"
        assert_eq "$(leftovers "$IMAGES")" 1 "the tree after the daemon and its deleter were killed"
        "$PODCTL" list >/dev/null
        wait_until 120 no_leftovers
fi
echo "OK $SCENARIO"
