#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The installed polkit policy as polkitd reads it: every action podmachined checks is
# known, with the implicit authorizations (any / inactive / active) podmachined(8)
# documents. xmllint accepts values polkitd rejects; pkaction asks polkitd itself.
set -eux
. "$(dirname "$0")/lib.sh"

declare -A want=(
        [start-signed]="auth_admin_keep auth_admin_keep yes"
        [import-signed]="auth_admin_keep auth_admin_keep yes"
        [start-untrusted]="auth_admin auth_admin auth_admin"
        [import-untrusted]="auth_admin auth_admin auth_admin"
        [start-privileged]="auth_admin auth_admin auth_admin"
        [manage-pods]="auth_admin_keep auth_admin_keep auth_admin_keep"
        [manage-images]="auth_admin_keep auth_admin_keep auth_admin_keep"
        [manage-trust]="auth_admin auth_admin auth_admin"
)

# implicit ACTION: "ANY INACTIVE ACTIVE" as polkitd reports them.
implicit() {
        pkaction --verbose --action-id "io.podctl.pod1.$1" |
                awk -F': *' '/implicit any:/ { a = $2 } /implicit inactive:/ { i = $2 } /implicit active:/ { v = $2 }
                             END { print a, i, v }'
}

# polkitd notices a new policy file by inotify: the install may have been a moment ago.
wait_until 30 pkaction --action-id io.podctl.pod1.manage-trust

# Exactly these actions, no more.
assert_eq "$(pkaction | grep '^io\.podctl\.pod1\.' | sort | tr '\n' ' ')" \
        "$(printf 'io.podctl.pod1.%s\n' "${!want[@]}" | sort | tr '\n' ' ')" "podctl's actions"

for a in "${!want[@]}"; do
        assert_eq "$(implicit "$a")" "${want[$a]}" "implicit authorizations of $a"
        out=$(pkaction --verbose --action-id "io.podctl.pod1.$a")
        assert_match "$out" 'vendor: +podctl$' "vendor of $a"
        assert_match "$out" 'description: +[A-Z].+' "description of $a"
        assert_match "$out" 'message: +Authentication is required to .+\.$' "message of $a"
done

# An action polkitd does not know is an error, not a default: the check above is real.
! pkaction --action-id io.podctl.pod1.no-such-action
