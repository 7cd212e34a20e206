#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The pod's PID 1: it reaps orphans, forwards SIGTERM, SIGINT and SIGHUP to the app,
# passes the app's exit status or signal through, and a stop still ends a pod whose app
# ignores SIGTERM.
set -eux
. "$(dirname "$0")/lib.sh"

import_busybox

# --- Zombies are reaped ---------------------------------------------------------------

# Makes three orphans: each subshell exits at once, so its background job is re-parented
# to PID 1 of the PID namespace; the job reports its parent and exits, after which only
# PID 1 can reap it. Then waits (bounded: a guard) until all three have ended and PID 1
# has $1 zombie children, and prints the process table as "proc PID (COMM) STATE PPID".
# Runs under busybox sh in the pod and under the host's sh in the control.
ORPHANS='want=$1
dir=/tmp/orphans.$$
mkdir "$dir"
for i in 1 2 3; do
        ( { sleep 0.2; read -r pid comm state ppid rest </proc/self/stat
            echo "orphan $pid ppid=$ppid"; : >"$dir/$pid"; } & )
done
count() { n=0; for f in "$dir"/*; do [ -e "$f" ] && n=$((n + 1)); done; echo $n; }
zombies_of_1() {
        n=0
        for f in /proc/[0-9]*/stat; do
                { read -r pid comm state ppid rest <"$f"; } 2>/dev/null || continue
                [ "$state" = Z ] && [ "$ppid" = 1 ] && n=$((n + 1))
        done
        echo $n
}
i=0
until [ "$(count)" = 3 ] && [ "$(zombies_of_1)" = "$want" ]; do
        [ $i -lt 150 ] || break
        sleep 0.1
        i=$((i + 1))
done
rm -rf "$dir"
for f in /proc/[0-9]*/stat; do
        { read -r pid comm state ppid rest <"$f"; } 2>/dev/null && echo "proc $pid $comm $state $ppid"
done
echo "app $$"'

# In a pod, while its app still runs: the orphans were PID 1's children, and none of
# them is left a zombie; nothing in the pod is.
out=$("$PODCTL" run --rm busybox sh -c "$ORPHANS" sh 0)
assert_eq "$(grep -cE '^orphan [0-9]+ ppid=1$' <<<"$out")" 3 "orphans re-parented to PID 1 in the pod"
assert_no_match "$out" '^proc [0-9]+ \([^)]*\) Z ' "process table of the pod"
# PID 1 is the pod's init, not the app; the app is its child.
pid1=$(grep -E '^proc 1 ' <<<"$out") || fail "no PID 1 in the pod's process table: $out"
assert_match "$pid1" '^proc 1 \([^)]+\) [RS] 0$' "PID 1 of the pod"
app=$(sed -n 's/^app //p' <<<"$out")
assert_ne "$app" 1 "PID of the app"
assert_match "$out" "^proc $app \\(sh\\) [RS] 1\$" "the app in the pod's process table"

# Control: the same script in a PID namespace whose PID 1 (sleep) never waits leaves the
# three orphans as zombies, children of PID 1, which the same table shows.
unshare --pid --fork --mount-proc --kill-child sleep 100000 &
ns=$!
wait_until 30 pgrep -P "$ns"
ns_init=$(pgrep -P "$ns")
out=$(nsenter --target "$ns_init" --pid --mount sh -c "$ORPHANS" sh 3)
assert_eq "$(grep -cE '^orphan [0-9]+ ppid=1$' <<<"$out")" 3 "orphans re-parented to PID 1 in the control"
assert_eq "$(grep -cE '^proc [0-9]+ \([^)]*\) Z 1$' <<<"$out")" 3 "zombies under a PID 1 that does not wait"
# Its PID 1 takes the namespace with it (unshare itself ignores SIGTERM).
kill -KILL "$ns_init"
wait "$ns" || true
! kill -0 "$ns_init" 2>/dev/null || fail "PID 1 of the control namespace is left"

# --- Signals are forwarded ----------------------------------------------------------

# An app that reports each of the three signals, keeps running after SIGHUP and SIGINT,
# and exits 7 on SIGTERM. Its output comes back through an attached podctl run.
SIGNALLED='trap "echo got-HUP" HUP
trap "echo got-INT" INT
trap "echo got-TERM; exit 7" TERM
sleep 100000 &
s=$!
echo ready
while :; do wait $s; done'
"$PODCTL" run --name sig busybox sh -c "$SIGNALLED" >"$T/sig.out" 2>"$T/sig.err" &
runner=$!
wait_until 60 grep -qx ready "$T/sig.out"
pod_in_state sig running
# Control: nothing is reported before a signal is sent.
assert_no_match "$(cat "$T/sig.out")" '^got-' "app output before any signal"

"$PODCTL" kill --kill-whom=leader --signal=HUP sig
wait_until 30 grep -qx got-HUP "$T/sig.out"
assert_no_match "$(cat "$T/sig.out")" '^got-(INT|TERM)$' "app output after SIGHUP"
"$PODCTL" kill --kill-whom=leader --signal=SIGINT sig
wait_until 30 grep -qx got-INT "$T/sig.out"
assert_no_match "$(cat "$T/sig.out")" '^got-TERM$' "app output after SIGINT"
# Neither ended it.
assert_eq "$(pod_state sig)" running
kill -0 "$runner"

# stop: SIGTERM, which the app handles by exiting 7.
"$PODCTL" stop sig
r=0; wait "$runner" || r=$?
assert_eq "$r" 7 "exit status of podctl run after the TERM trap"
assert_eq "$(grep -c '^got-' "$T/sig.out")" 3 "signals the app reported"
grep -qx got-TERM "$T/sig.out"
wait_until 30 pod_in_state sig exited
assert_eq "$("$PODCTL" status --json sig | jq -c '[.exit_code, .exit_status]')" '["exited",7]' "end of pod sig"
assert_match "$("$PODCTL" status sig)" 'exited, status=7' "status of pod sig"

# --- Exit statuses pass through -----------------------------------------------------

r=0; "$PODCTL" run --rm busybox sh -c 'exit 42' || r=$?
assert_eq "$r" 42 "exit status of 'exit 42'"
r=0; "$PODCTL" run --rm busybox sh -c 'exit 0' || r=$?
assert_eq "$r" 0 "exit status of 'exit 0'"

# Killed by a signal: 128+N, and the pod records the signal. The app is not PID 1 of its
# namespace, so it can kill itself.
r=0; "$PODCTL" run --name ekill busybox sh -c 'kill -KILL $$' || r=$?
assert_eq "$r" 137 "exit status of an app killed by SIGKILL"
assert_eq "$(pod_state ekill)" exited
assert_eq "$("$PODCTL" status --json ekill | jq -c '[.exit_code, .exit_status]')" '["killed",9]' "end of pod ekill"
assert_match "$("$PODCTL" status ekill)" 'killed, signal=(SIG)?KILL' "status of pod ekill"

r=0; "$PODCTL" run --name eusr1 busybox sh -c 'kill -USR1 $$' || r=$?
assert_eq "$r" 138 "exit status of an app killed by SIGUSR1"
assert_eq "$("$PODCTL" status --json eusr1 | jq -c '[.exit_code, .exit_status]')" '["killed",10]' "end of pod eusr1"

# SIGSEGV dumps core where the core limit allows it: killed or dumped, either way SEGV.
r=0; "$PODCTL" run --name esegv busybox sh -c 'kill -SEGV $$' || r=$?
assert_eq "$r" 139 "exit status of an app killed by SIGSEGV"
"$PODCTL" status --json esegv | jq -e '(.exit_code == "killed" or .exit_code == "dumped") and .exit_status == 11'

# --- Stop escalation ----------------------------------------------------------------

# An app that survives SIGTERM (and says so): the stop ends it anyway, by SIGKILL after
# the unit's stop timeout, and nothing of the pod is left.
STUBBORN='trap "echo got-TERM-ignored" TERM
sleep 100000 &
s=$!
echo ready
while :; do wait $s; done'
"$PODCTL" run -d --name stubborn busybox sh -c "$STUBBORN"
journal() { journalctl --no-pager -o cat --since="@$SCENARIO_START" -u "pod@$1.service"; }
wait_until 60 eval 'journal stubborn | grep -qx ready'
# The processes of a pod's unit, by their cgroup as the host sees it.
unit_pids() { { grep -l "pod@$1\.service" /proc/[0-9]*/cgroup 2>/dev/null || true; } | cut -d/ -f3 | sort -n | tr '\n' ' '; }
pids=$(unit_pids stubborn)
# stage1, the pod's init, the app and its sleep.
[ "$(wc -w <<<"$pids")" -ge 4 ] || fail "processes of pod stubborn: $pids"

"$PODCTL" stop stubborn
wait_until 30 pod_in_state stubborn exited
# SIGTERM reached the app, which outlived it.
journal stubborn | grep -qx got-TERM-ignored || fail "the app of pod stubborn did not get SIGTERM: $(journal stubborn)"
assert_eq "$("$PODCTL" status --json stubborn | jq -c '[.exit_code, .exit_status]')" '["killed",9]' "end of pod stubborn"
assert_match "$("$PODCTL" status stubborn)" 'killed, signal=(SIG)?KILL' "status of pod stubborn"
assert_eq "$(systemctl show -P MainPID pod@stubborn.service)" 0 "MainPID of pod@stubborn"
assert_match "$(unit_state pod@stubborn.service)" '^(inactive|failed)$' "ActiveState of pod@stubborn"
for p in $pids; do
        [ ! -e "/proc/$p" ] || fail "process $p of pod stubborn is left: $(tr '\0' ' ' <"/proc/$p/cmdline")"
done
assert_eq "$(unit_pids stubborn)" "" "processes in pod@stubborn.service"

# Control: the pod whose app obeyed SIGTERM ended by exiting, not by SIGKILL (above).
assert_eq "$(pod_field sig exit_code)" exited

# --- Clean up -----------------------------------------------------------------------

for p in sig ekill eusr1 esegv stubborn; do
        "$PODCTL" rm "$p"
        assert_no_pod "$p"
done
assert_eq "$("$PODCTL" list --json)" "[]"
echo "OK $SCENARIO"
