#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The live objects implement exactly the interfaces of dbus/*.xml: the manager, a pod
# and an image, compared member by member (check-introspection.py).
set -eux
. "$(dirname "$0")/lib.sh"

ref=$PODCTL_SRCDIR/dbus
check=$(dirname "$(readlink -f "$0")")/check-introspection.py
for i in Manager Pod Image; do
        xmllint --noout "$ref/io.podctl.pod1.$i.xml"
        # The installed reference is the source's.
        cmp "$ref/io.podctl.pod1.$i.xml" "/usr/share/dbus-1/interfaces/io.podctl.pod1.$i.xml"
done

python3 "$check" "$ref/io.podctl.pod1.Manager.xml" io.podctl.pod1 /io/podctl/pod1

import_busybox intro-image
"$PODCTL" create --name intro-pod intro-image true

image_path=$(busctl call io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager GetImage s intro-image | awk '{print $2}' | tr -d '"')
pod_path=$(busctl call io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager GetPod s intro-pod | awk '{print $2}' | tr -d '"')
assert_match "$image_path" '^/io/podctl/pod1/image/' "image object path"
assert_match "$pod_path" '^/io/podctl/pod1/pod/' "pod object path"
# sd_bus_path_encode: '-' is escaped.
assert_eq "$pod_path" /io/podctl/pod1/pod/intro_2dpod
assert_eq "$image_path" /io/podctl/pod1/image/intro_2dimage

python3 "$check" "$ref/io.podctl.pod1.Pod.xml" io.podctl.pod1 "$pod_path"
python3 "$check" "$ref/io.podctl.pod1.Image.xml" io.podctl.pod1 "$image_path"

# The objects are enumerable (node enumerators) and their properties say what they are.
busctl tree --list io.podctl.pod1 | grep -qx "$pod_path"
busctl tree --list io.podctl.pod1 | grep -qx "$image_path"
assert_eq "$(busctl get-property io.podctl.pod1 "$pod_path" io.podctl.pod1.Pod Name)" 's "intro-pod"'
assert_eq "$(busctl get-property io.podctl.pod1 "$pod_path" io.podctl.pod1.Pod State)" 's "created"'
assert_eq "$(busctl get-property io.podctl.pod1 "$pod_path" io.podctl.pod1.Pod Unit)" 's "pod@intro-pod.service"'
assert_eq "$(busctl get-property io.podctl.pod1 "$pod_path" io.podctl.pod1.Pod Image)" 's "intro-image"'
assert_eq "$(busctl get-property io.podctl.pod1 "$image_path" io.podctl.pod1.Image Name)" 's "intro-image"'
assert_eq "$(busctl get-property io.podctl.pod1 "$image_path" io.podctl.pod1.Image Pods)" 'u 1'

# Bad input at the D-Bus level gets named errors.
M=io.podctl.pod1.Manager
expect_fail 'io.podctl.pod1.NoSuchPod' bus_call /io/podctl/pod1 $M.GetPod no-such-pod
expect_fail 'io.podctl.pod1.NoSuchImage' bus_call /io/podctl/pod1 $M.GetImage no-such-image
expect_fail 'io.podctl.pod1.InvalidName' bus_call /io/podctl/pod1 $M.GetPod ../x
expect_fail 'io.podctl.pod1.InvalidName' bus_call /io/podctl/pod1 $M.StartPod ../x '@ah []'
expect_fail 'io.podctl.pod1.NoSuchPod' bus_call /io/podctl/pod1 $M.StopPod no-such-pod
expect_fail 'io.podctl.pod1.NoSuchPod' bus_call /io/podctl/pod1 $M.RemovePod no-such-pod false
expect_fail 'io.podctl.pod1.NoSuchImage' bus_call /io/podctl/pod1 $M.RemoveImage no-such-image false
expect_fail 'io.podctl.pod1.NoSuchImage' bus_call /io/podctl/pod1 $M.CreatePod p no-such-image "['true']" '@a{sv} {}'
expect_fail 'io.podctl.pod1.PodExists' bus_call /io/podctl/pod1 $M.CreatePod intro-pod intro-image "['true']" '@a{sv} {}'
expect_fail 'io.podctl.pod1.InvalidName' bus_call /io/podctl/pod1 $M.CreatePod ../x intro-image "['true']" '@a{sv} {}'
expect_fail 'io.podctl.pod1.InvalidArgument' bus_call /io/podctl/pod1 $M.CreatePod p8 intro-image "['true']" "{'IOWeight': <uint64 0>}"
expect_fail 'io.podctl.pod1.InvalidArgument' bus_call /io/podctl/pod1 $M.CreatePod p8 intro-image "['true']" "{'WorkingDirectory': <'relative'>}"
expect_fail 'io.podctl.pod1.InvalidArgument|SignatureInvalid|InvalidArgs' bus_call /io/podctl/pod1 $M.CreatePod p8 intro-image "['true']" "{'MemoryMax': <'lots'>}"
expect_fail 'io.podctl.pod1.InvalidArgument' bus_call /io/podctl/pod1 $M.CreatePod p8 intro-image "['true']" "{'NoSuchOption': <true>}"
expect_fail 'io.podctl.pod1.InvalidArgument' bus_call /io/podctl/pod1 $M.KillPod intro-pod nobody 15
expect_fail 'io.podctl.pod1.PodNotRunning' bus_call /io/podctl/pod1 $M.StopPod intro-pod
expect_fail 'org.freedesktop.DBus.Error.UnknownMethod' bus_call /io/podctl/pod1 $M.NoSuchMethod
# (busctl: gdbus would convert the argument to the introspected signature.)
expect_fail 'Invalid arguments|InvalidArgs' busctl call io.podctl.pod1 /io/podctl/pod1 $M GetPod u 1
expect_fail 'org.freedesktop.DBus.Error.UnknownObject|org.freedesktop.DBus.Error.UnknownMethod' \
        bus_call /io/podctl/pod1/pod/no_2dsuch io.podctl.pod1.Pod.Stop
# None of those created a pod.
assert_eq "$(pod_names | tr '\n' ' ')" "intro-pod "
# The daemon is still there.
busctl call io.podctl.pod1 /io/podctl/pod1 io.podctl.pod1.Manager ListPods >/dev/null

"$PODCTL" rm intro-pod
"$PODCTL" image rm intro-image
expect_fail 'UnknownObject|UnknownInterface|NoSuchPod' \
        bus_call "$pod_path" org.freedesktop.DBus.Properties.Get io.podctl.pod1.Pod Name
echo "OK $SCENARIO"
