#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podctl logs: the journal of a pod's unit, as "journalctl -u" shows it, streamed by the
# daemon over a pipe, so that the owner reads it without being in the journal's groups;
# the last N entries, following new ones; others need manage-pods; root reads all. A
# follower keeps the daemon, and goes when its reader does.
set -eux
. "$(dirname "$0")/lib.sh"

# A short idle time, to see that a follower keeps the daemon and that it exits after.
set_exit_idle 2

add_users alice bob
for u in alice bob; do
        assert_no_match "$(id -nG "$u")" '\b(systemd-journal|adm|wheel)\b' "groups of $u"
done
import_busybox
import_signed_busybox signed
chmod 0755 "$T"

in_journal() { # UNIT TEXT
        journalctl --no-pager -q -u "$1" | grep -qF -- "$2"
}
# journalctl's lines of POD's unit since it was created (to the second), boot separators
# left out.
journal_of() { # POD [ARG...]
        local pod=$1 since
        shift
        since=$(($(pod_field "$pod" created_usec) / 1000000))
        journalctl --no-pager -o short -u "pod@$pod.service" --since="@$since" "$@" | { grep -v '^-- ' || true; }
}

# A pod that prints known lines and then waits.
"$PODCTL" run -d --name lg-lines busybox sh -c 'echo line-one; echo line-two; echo line-three; trap "exit 0" TERM; sleep 100000 & wait'
wait_until 30 in_journal pod@lg-lines.service line-three

out=$("$PODCTL" logs lg-lines)
assert_match "$out" '^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ [^ ]+\[[0-9]+\]: line-one$' "logs of lines"
assert_eq "$(grep -o 'line-[a-z]*' <<<"$out" | tr '\n' ' ')" "line-one line-two line-three " "lines in order"
# What journalctl -u shows, line for line: systemd's own messages about the unit included.
assert_eq "$out" "$(journal_of lg-lines)" "logs against journalctl"
assert_match "$out" 'systemd\[1\]: .*pod@lg-lines' "systemd's messages"
assert_eq "$("$PODCTL" logs -n 2 lg-lines)" "$(tail -n 2 <<<"$out")" "logs -n 2"
assert_eq "$("$PODCTL" logs --lines=2 lg-lines)" "$(journal_of lg-lines | tail -n 2)" "logs --lines=2 against journalctl"
assert_eq "$("$PODCTL" logs -n 1000 lg-lines)" "$out" "more lines than there are"

# Bad input.
expect_fail 'lines|positive' "$PODCTL" logs -n 0 lg-lines
expect_fail 'lines|positive' "$PODCTL" logs -n x lg-lines
expect_fail 'NoSuchPod|no pod|not exist' "$PODCTL" logs no-such-pod
expect_fail 'needs a pod name' "$PODCTL" logs
lines_path=$(busctl call io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager GetPod s lg-lines | awk '{print $2}' | tr -d '"')
expect_fail 'io\.podctl\.pod1\.InvalidArgument.*Unknown option' \
        bus_call "$lines_path" io.podctl.pod1.Pod.GetLogs 0 false "{'Since': <uint64 0>}"

# Following: a line the pod prints after the reader started comes, and the reader keeps
# the daemon past its idle time; SIGINT ends it cleanly, and the daemon's child with it.
"$PODCTL" run -d --name ticker busybox sh -c 'i=0; trap "exit 0" TERM; while :; do i=$((i+1)); echo tick-$i; sleep 1 & wait; done'
wait_until 30 in_journal pod@ticker.service tick-2
max_tick() { # FILE-OR-TEXT on stdin: the highest tick number
        { grep -o 'tick-[0-9]*' || true; } | cut -d- -f2 | sort -n | tail -n 1
}
before=$("$PODCTL" logs ticker | max_tick)
"$PODCTL" logs -f ticker >"$T/follow" 2>"$T/follow.err" &
follower=$!
followed_past() { # N
        [ "$(max_tick <"$T/follow")" -gt "$1" ] 2>/dev/null
}
wait_until 30 followed_past "$((before + 1))"
# The daemon has a child writing the stream, and stays while it does.
daemon=$(daemon_pid)
assert_ne "$daemon" 0 "daemon's PID"
[ -n "$(pgrep -P "$daemon")" ] || fail "no log child under the daemon"
sleep 5
assert_eq "$(daemon_pid)" "$daemon" "daemon while a reader follows"
now=$(max_tick <"$T/follow")
wait_until 30 followed_past "$now"
kill -INT "$follower"
status=0
wait "$follower" || status=$?
assert_eq "$status" 0 "podctl logs -f after SIGINT"
assert_eq "$(cat "$T/follow.err")" "" "stderr of podctl logs -f"
# The child notices its reader is gone, and the daemon then exits when idle.
no_children() { [ -z "$(pgrep -P "$daemon")" ]; }
wait_until 30 no_children
wait_until 30 unit_is podmachined.service inactive
assert_eq "$(systemctl show -P Result podmachined.service)" success "daemon's idle exit"

# Owners read their pods' logs; the journal itself does not let them.
as_active alice "$PODCTL" --no-ask-password run -d --name alices -e SECRET=alice-env signed \
        sh -c 'echo alice-line; trap "exit 0" TERM; sleep 100000 & wait'
wait_until 30 in_journal pod@alices.service alice-line
assert_match "$(as_active alice "$PODCTL" --no-ask-password logs alices)" ': alice-line$' "alice's logs"
assert_match "$(as_inactive alice "$PODCTL" --no-ask-password logs -n 5 alices)" ': alice-line$' "alice's logs, no session"
# The positive control: without the daemon alice sees nothing of it.
alice_journal=$(as_inactive alice journalctl --no-pager -q -u pod@alices.service 2>&1 || true)
assert_no_match "$alice_journal" 'alice-line' "alice's own journalctl"
# Others need manage-pods, which is not granted without an admin.
expect_fail "Interactive authentication required to logs pod 'alices'.*manage-pods" \
        as_active bob "$PODCTL" --no-ask-password logs alices
alices_path=$(busctl call io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager GetPod s alices | awk '{print $2}' | tr -d '"')
out=$(as_active bob gdbus call --system --dest io.podctl.pod1 --object-path "$alices_path" \
        --method io.podctl.pod1.Pod.GetLogs 0 false '{}' 2>&1 || true)
assert_match "$out" 'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired'
# Root reads everyone's.
assert_match "$("$PODCTL" logs alices)" ': alice-line$' "root reads alice's logs"

# Status shows everyone's pods, but what another user's pod runs (command line,
# environment, working directory: they may hold secrets) only to its owner and root.
for who in alice root; do
        if [ $who = root ]; then st=$("$PODCTL" status --json alices); else st=$(as_inactive alice "$PODCTL" status --json alices); fi
        assert_match "$(jq -c .environment <<<"$st")" 'SECRET=alice-env' "environment as $who sees it"
        assert_match "$(jq -c .command <<<"$st")" 'alice-line' "command as $who sees it"
        assert_match "$(jq -c '.apps[0].command' <<<"$st")" 'alice-line' "app command as $who sees it"
done
assert_match "$(as_inactive alice "$PODCTL" status alices)" 'Command: sh -c' "alice's status"
st=$(as_inactive bob "$PODCTL" status --json alices)
assert_eq "$(jq -r .owner_uid <<<"$st")" "$(id -u alice)" "owner as bob sees it"
assert_eq "$(jq -c '[.command, .environment, .working_directory, .apps[0].command]' <<<"$st")" '[null,null,null,null]' \
        "what alices runs, as bob sees it"
st=$(as_inactive bob "$PODCTL" status alices)
assert_match "$st" 'Command: \(hidden' "bob's status of alices"
assert_no_match "$st" 'alice-line|alice-env' "bob's status of alices"
# ...and over D-Bus, whatever the client: Get, GetAll, GetManagedObjects.
P=io.podctl.pod1.Pod
assert_eq "$(as_inactive bob busctl get-property io.podctl.pod1 "$alices_path" $P Command)" 'as 0'
assert_eq "$(as_inactive bob busctl get-property io.podctl.pod1 "$alices_path" $P Environment)" 'as 0'
assert_eq "$(as_inactive bob busctl get-property io.podctl.pod1 "$alices_path" $P WorkingDirectory)" 's ""'
assert_match "$(as_inactive bob busctl get-property io.podctl.pod1 "$alices_path" $P Apps)" '^a\(ssassi\) 1 "[^"]*" "signed" 0 '
getall=$(as_inactive bob gdbus call --system --dest io.podctl.pod1 --object-path "$alices_path" \
        --method org.freedesktop.DBus.Properties.GetAll $P)
managed=$(as_inactive bob gdbus call --system --dest io.podctl.pod1 --object-path /io/podctl/pod1 \
        --method org.freedesktop.DBus.ObjectManager.GetManagedObjects)
for out in "$getall" "$managed"; do
        assert_match "$out" "'OwnerUID': <uint32 $(id -u alice)>" "bob's GetAll, GetManagedObjects"
        assert_no_match "$out" 'alice-line|alice-env' "bob's GetAll, GetManagedObjects"
done
assert_match "$(as_inactive alice busctl get-property io.podctl.pod1 "$alices_path" $P Environment)" 'SECRET=alice-env'
assert_match "$(busctl get-property io.podctl.pod1 "$alices_path" $P Command)" 'alice-line'

# A bound on what one user can make the daemon keep: 8 followers each.
pids=()
for i in 1 2 3 4 5 6 7 8; do
        # Not through the function: $! must be podctl's PID.
        setpriv --reuid=alice --regid=alice --init-groups --reset-env -- \
                "$PODCTL" --no-ask-password logs -f alices >/dev/null 2>"$T/f$i.err" &
        pids+=($!)
done
n_children() { [ "$(pgrep -c -P "$(daemon_pid)")" -ge "$1" ]; }
wait_until 30 n_children 8
expect_fail 'Too many log readers' as_inactive alice "$PODCTL" --no-ask-password logs -f alices
# Others are not held back by alice's.
assert_match "$("$PODCTL" logs -n 1 lg-lines)" 'line-three|pod@lg-lines'
daemon=$(daemon_pid)
kill -INT "${pids[@]}"
wait "${pids[@]}"
wait_until 30 no_children

# A pod gets only its own runs' logs: not those of an earlier pod of the same name.
"$PODCTL" run -d --name reused busybox echo secret-of-root
wait_until 30 in_journal pod@reused.service secret-of-root
wait_until 30 pod_in_state reused exited
"$PODCTL" rm reused
as_active alice "$PODCTL" --no-ask-password create --name reused signed true
assert_no_match "$(as_active alice "$PODCTL" --no-ask-password logs reused)" secret-of-root "alice's reused pod"
assert_no_match "$("$PODCTL" logs reused)" secret-of-root "root's view of the reused pod"

"$PODCTL" rm --force lg-lines ticker alices reused
echo "OK $SCENARIO"
