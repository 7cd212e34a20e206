#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podmachined is started by D-Bus activation on the first call and, when told to,
# exits by itself once idle, cleanly (inactive, not failed).
set -eux
. "$(dirname "$0")/lib.sh"

# Installed where systemd and dbus-daemon look.
systemctl cat podmachined.service >/dev/null
test -f /usr/share/dbus-1/system-services/io.podctl.pod1.service
test -f /usr/share/dbus-1/system.d/io.podctl.pod1.conf
assert_eq "$(systemctl show -P LoadState podmachined.service)" loaded

# Nothing runs before the first call: not at boot, not after the install (when this
# scenario runs first, as test/run-integration does), not after the reset.
case "$(systemctl is-enabled podmachined.service || true)" in
static|disabled) ;;
*) fail "podmachined.service must be started by D-Bus only, is-enabled says $(systemctl is-enabled podmachined.service)" ;;
esac
[ -n "${PODCTL_TEST_FIRST:-}" ] && assert_eq "$PODMACHINED_INITIAL_STATE" inactive "podmachined before any call"
assert_eq "$(unit_state podmachined.service)" inactive

# The first call starts it.
"$PODCTL" image list
assert_eq "$(unit_state podmachined.service)" active
busctl status io.podctl.pod1 >/dev/null
assert_eq "$(busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s io.podctl.pod1)" "b true"
pid=$(daemon_pid)
assert_ne "$pid" 0 "MainPID"

# The bus sees the manager object, by both introspection tools.
busctl introspect io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager | grep -q '^\.ListPods '
busctl tree io.podctl.pod1 | grep -q /io/podctl/pod1
if command -v gdbus >/dev/null; then
        gdbus introspect --system --dest io.podctl.pod1 --object-path /io/podctl/pod1 |
                grep -q 'interface io.podctl.pod1.Manager'
fi

# A second call is served by the same daemon.
"$PODCTL" list
assert_eq "$(daemon_pid)" "$pid" "MainPID after a second call"

# Calling a name nobody owns still fails as it should: activation is by name only.
expect_fail 'ServiceUnknown|not activatable|not provided' \
        busctl call io.podctl.pod1.nonexistent /io/podctl/pod1 io.podctl.pod1.Manager ListPods

# With an idle timeout, it exits by itself and cleanly.
set_exit_idle 2
systemctl restart podmachined.service
assert_eq "$(unit_state podmachined.service)" active
"$PODCTL" image list
wait_until 60 unit_is podmachined.service inactive
assert_eq "$(systemctl show -P Result podmachined.service)" success
assert_ne "$(unit_state podmachined.service)" failed
assert_eq "$(busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s io.podctl.pod1)" "b false"

# ...and comes back on the next call.
"$PODCTL" image list --json | jq -e 'type == "array"'
assert_eq "$(unit_state podmachined.service)" active
wait_until 60 unit_is podmachined.service inactive
assert_eq "$(systemctl show -P Result podmachined.service)" success

rm -rf /run/systemd/system/podmachined.service.d
systemctl daemon-reload

# The installed polkit policy is one polkitd accepts (xmllint alone would take invalid
# defaults): its actions are known, with the defaults the file sets.
for action in io.podctl.pod1.manage-pods io.podctl.pod1.manage-images; do
        out=$(pkaction --verbose --action-id "$action")
        assert_match "$out" 'implicit any: +auth_admin_keep' "$action, any"
        assert_match "$out" 'implicit active: +auth_admin_keep' "$action, active"
done
# Control: an action that is not installed is refused.
expect_fail 'No action with action id' pkaction --verbose --action-id io.podctl.pod1.no-such-action
echo "OK $SCENARIO"
