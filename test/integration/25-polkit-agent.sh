#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Authentication on a terminal, as a user at the console meets it: podctl starts polkit's
# text agent, which asks for the admin's password; the right one lets the import or the
# pod go ahead, a wrong one fails the call and leaves nothing behind, and
# --no-ask-password asks nothing and names the action that needed authentication. tmux is
# the terminal: it runs the client in an active login session, shows the prompt and types
# the answer.
set -eux
. "$(dirname "$0")/lib.sh"

ADMIN=podadmin
ADMIN_PASSWORD=admin-pw-$RANDOM$RANDOM
ADMIN_RULES=/etc/polkit-1/rules.d/10-podctl-test-admin.rules
TMUX=(tmux -L "podctl-$SCENARIO")

# Scenarios after this one share the test host: the rule and the terminals go, whatever happens.
rm -f "$ADMIN_RULES"
trap 'rc=$?; rm -f "$ADMIN_RULES"; "${TMUX[@]}" kill-server 2>/dev/null; set +e; (exit $rc); lib_exit' EXIT

add_users alice "$ADMIN"
echo "$ADMIN:$ADMIN_PASSWORD" | chpasswd

# The admin polkit asks for is $ADMIN alone (Debian's default is group sudo: whoever is in
# it on the host would be offered too). polkitd reloads rules on change; wait for that.
cursor=$(journalctl --show-cursor -n 0 -q | sed -n 's/^-- cursor: //p')
cat >"$ADMIN_RULES" <<RULES
polkit.addAdminRule(function(action, subject) {
        return ["unix-user:$ADMIN"];
});
RULES
wait_until 30 sh -c "journalctl -q --no-pager -u polkit.service --after-cursor='$cursor' | grep -q 'Finished loading'"

import_busybox
assert_eq "$("$PODCTL" image inspect --json busybox | jq -r .verified)" no "unsigned image"
make_busybox_tar "$T/bb.tar"
chmod 0755 "$T"
chmod 0644 "$T/bb.tar"

# in_terminal NAME USER CMD...: CMD on a terminal of its own (tmux session NAME), in an
# active login session of USER on seat0; its exit status goes to $T/NAME.status.
in_terminal() {
        local name=$1 user=$2
        shift 2
        rm -f "$T/$name.status"
        "${TMUX[@]}" new-session -d -s "$name" -x 200 -y 50 \
                "systemd-run --pty --wait --quiet -p PAMName=login -E XDG_SEAT=seat0 -E XDG_SESSION_CLASS=user \
                 -E XDG_SESSION_TYPE=tty --uid=$user -- $(printf '%q ' "$@"); echo \$? >$T/$name.status; sleep infinity"
}

screen() { # NAME: all the terminal showed
        "${TMUX[@]}" capture-pane -p -J -S - -t "$1"
}

screen_matches() { # NAME ERE
        screen "$1" | grep -Eq -- "$2"
}

# finished NAME: waits for the command of terminal NAME to end; prints its exit status.
finished() {
        wait_until 120 test -s "$T/$1.status"
        cat "$T/$1.status"
}

# answer NAME PASSWORD: waits for the agent's prompt on terminal NAME, then types PASSWORD.
answer() {
        wait_until 60 screen_matches "$1" '^Password:'
        "${TMUX[@]}" send-keys -t "$1" "$2" Enter
}

images_before=$(dir_entries "$IMAGES")

# An unsigned import needs the admin, who is asked on alice's terminal and says yes.
in_terminal import-ok alice "$PODCTL" image import "$T/bb.tar" agent-ok
answer import-ok "$ADMIN_PASSWORD"
assert_eq "$(finished import-ok)" 0 "import with the admin's password: $(screen import-ok)"
out=$(screen import-ok)
assert_match "$out" 'AUTHENTICATING FOR io\.podctl\.pod1\.import-untrusted'
assert_match "$out" "Authenticating as: .*$ADMIN"
assert_match "$out" "Imported image 'agent-ok'"
assert_eq "$("$PODCTL" image inspect --json agent-ok | jq -r .verified)" no "agent-ok verified"
"$PODCTL" image rm agent-ok
assert_eq "$(dir_entries "$IMAGES")" "$images_before" "image store after removing agent-ok"

# A wrong password: refused, and nothing imported.
in_terminal import-bad alice "$PODCTL" image import "$T/bb.tar" agent-bad
answer import-bad wrong-password
assert_ne "$(finished import-bad)" 0 "import with a wrong password"
assert_match "$(screen import-bad)" \
        "Permission denied to import image 'agent-bad': not authorized \(io\.podctl\.pod1\.import-untrusted\)"
! "$PODCTL" image inspect agent-bad >/dev/null 2>&1
assert_eq "$(dir_entries "$IMAGES")" "$images_before" "image store after a refused import"

# A pod from the unsigned image: the admin's password once, then it runs as alice's.
in_terminal run-ok alice "$PODCTL" run --name agentpod busybox sh -c 'echo pod-ran-as-$(id -u)'
answer run-ok "$ADMIN_PASSWORD"
assert_eq "$(finished run-ok)" 0 "run with the admin's password: $(screen run-ok)"
assert_match "$(screen run-ok)" 'AUTHENTICATING FOR io\.podctl\.pod1\.start-untrusted'
assert_match "$(screen run-ok)" 'pod-ran-as-0'
assert_eq "$(pod_state agentpod)" exited "agentpod"
assert_eq "$("$PODCTL" status --json agentpod | jq -r .owner_uid)" "$(id -u alice)" "owner of agentpod"
"$PODCTL" rm agentpod
assert_no_pod agentpod

in_terminal run-bad alice "$PODCTL" run --name agentnope busybox true
answer run-bad wrong-password
assert_ne "$(finished run-bad)" 0 "run with a wrong password"
assert_match "$(screen run-bad)" "Permission denied to create pod 'agentnope': not authorized \(io\.podctl\.pod1\.start-untrusted\)"
assert_no_pod agentnope

# On a terminal but with --no-ask-password: no agent, no prompt, the action named.
in_terminal noask alice "$PODCTL" --no-ask-password image import "$T/bb.tar" agent-noask
assert_ne "$(finished noask)" 0 "import with --no-ask-password"
out=$(screen noask)
assert_match "$out" "Interactive authentication required to import image 'agent-noask' \(io\.podctl\.pod1\.import-untrusted\); --no-ask-password forbids asking for it\."
assert_no_match "$out" 'Password:|AUTHENTICATING'
! "$PODCTL" image inspect agent-noask >/dev/null 2>&1
assert_eq "$(dir_entries "$IMAGES")" "$images_before" "image store after --no-ask-password"
