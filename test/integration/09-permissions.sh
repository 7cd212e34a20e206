#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon is root and its callers are not: a user outside any login session (setpriv)
# may look, but every change asks polkit for an admin's authentication, which a call
# without interactive authorization cannot give: it is refused with a named error and
# changes nothing. Each refusal has a positive control: root doing the same succeeds. Only
# a pod's own stage1 may take its stdio. (What users in sessions may: 20-polkit.sh.)
set -eux
. "$(dirname "$0")/lib.sh"

import_busybox
id podtester >/dev/null 2>&1 || useradd --no-create-home --shell /bin/sh podtester
as_user() {
        setpriv --reuid=podtester --regid=podtester --init-groups --reset-env -- "$@"
}

"$PODCTL" create --name mine busybox "${SLEEPER[@]}"

# Looking is open to everyone.
as_user "$PODCTL" list --no-legend | grep -q '^mine '
as_user "$PODCTL" image list --no-legend | grep -q '^busybox '
assert_eq "$(as_user "$PODCTL" status --json mine | jq -r .state)" created

# Changes are refused, by name, and leave nothing behind.
expect_fail 'Interactive authentication required to' as_user "$PODCTL" --no-ask-password create --name theirs busybox true
assert_no_pod theirs
expect_fail 'Interactive authentication required to' as_user "$PODCTL" --no-ask-password start mine
assert_eq "$(pod_state mine)" created
expect_fail 'Interactive authentication required to' as_user "$PODCTL" --no-ask-password rm mine
test -d "$PODS/mine"
expect_fail 'Interactive authentication required to' as_user "$PODCTL" --no-ask-password image rm busybox
test -d "$IMAGES/busybox"
make_busybox_tar "$T/bb.tar"
chmod 0644 "$T/bb.tar"; chmod 0755 "$T"
images_before=$(dir_entries "$IMAGES")
expect_fail 'Interactive authentication required to' as_user "$PODCTL" --no-ask-password image import "$T/bb.tar" theirs
assert_eq "$(dir_entries "$IMAGES")" "$images_before" "image store after a refused import"

# The standard D-Bus error on the bus itself: an admin could allow it, the call did not ask.
out=$(as_user gdbus call --system --dest io.podctl.pod1 --object-path /io/podctl/pod1 \
        --method io.podctl.pod1.Manager.StopPod mine 2>&1 || true)
assert_match "$out" 'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired'

# Positive controls: root may.
"$PODCTL" start mine
wait_until 60 pod_in_state mine running
"$PODCTL" stop mine

# Only the pod's own stage1 may take the stdio a client passed, not even root
# elsewhere, and never another user.
out=$(bus_call /io/podctl/pod1 io.podctl.pod1.Manager.TakePodStdio mine 2>&1 || true)
assert_match "$out" 'io\.podctl\.pod1\.NotPermitted'
out=$(as_user gdbus call --system --dest io.podctl.pod1 --object-path /io/podctl/pod1 \
        --method io.podctl.pod1.Manager.TakePodStdio mine 2>&1 || true)
assert_match "$out" 'io\.podctl\.pod1\.NotPermitted'

"$PODCTL" rm mine
assert_no_pod mine
