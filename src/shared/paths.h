/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Persistent state: the daemon and stage1 both read it, only they write it. */
#define PODCTL_STATE_DIR "/var/lib/podctl"
#define PODCTL_IMAGES_DIR PODCTL_STATE_DIR "/images"
#define PODCTL_PODS_DIR PODCTL_STATE_DIR "/pods"

/* Runtime state that must not survive a reboot. */
#define PODCTL_RUNTIME_DIR "/run/podctl"

/* Files inside a pod's directory PODCTL_PODS_DIR/NAME/. */
#define POD_CONFIG_FILE "pod.json"
#define POD_EXIT_FILE "exit.json"
#define POD_ROOTFS_DIR "rootfs"
#define POD_UPPER_DIR "upper"
#define POD_WORK_DIR "work"
/* Beside an app's rootfs/: the kernel or file system could not idmap, so rootfs/ holds the
 * app's own copy of its image, shifted into the pod's UID range once (see stage1). */
#define POD_UID_SHIFTED_FILE "uid-shifted"
/* Where that copy is made before it is renamed onto rootfs/. */
#define POD_ROOTFS_SHIFT_DIR ".rootfs-shift"

/* Hidden prefixes for entries under construction or being removed; the daemon sweeps
 * them at start-up, so a crash at any point leaves nothing a listing shows. */
#define PODCTL_TMP_PREFIX ".tmp-"
#define PODCTL_RM_PREFIX ".rm-"

#define PODCTL_BUS_NAME "io.podctl.pod1"
#define PODCTL_BUS_PATH "/io/podctl/pod1"
#define PODCTL_BUS_POD_PREFIX PODCTL_BUS_PATH "/pod"
#define PODCTL_BUS_IMAGE_PREFIX PODCTL_BUS_PATH "/image"
#define PODCTL_MANAGER_INTERFACE PODCTL_BUS_NAME ".Manager"
#define PODCTL_POD_INTERFACE PODCTL_BUS_NAME ".Pod"
#define PODCTL_IMAGE_INTERFACE PODCTL_BUS_NAME ".Image"

#define POD_UNIT_PREFIX "pod@"
#define POD_UNIT_SUFFIX ".service"
#define POD_DEFAULT_SLICE "machine.slice"

/* Image metadata, one NAME.json per image, kept beside (not inside) the read-only trees. */
#define PODCTL_IMAGE_META_DIR PODCTL_STATE_DIR "/image-meta"
/* Marker files: a StartPod caller passed stdio that stage1 should take over. */
#define PODCTL_STDIO_DIR PODCTL_RUNTIME_DIR "/stdio"
