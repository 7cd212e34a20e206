/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define BUS_ERROR_NO_SUCH_POD "io.podctl.pod1.NoSuchPod"
#define BUS_ERROR_POD_EXISTS "io.podctl.pod1.PodExists"
#define BUS_ERROR_POD_RUNNING "io.podctl.pod1.PodRunning"
#define BUS_ERROR_POD_NOT_RUNNING "io.podctl.pod1.PodNotRunning"
#define BUS_ERROR_POD_START_FAILED "io.podctl.pod1.PodStartFailed"
#define BUS_ERROR_NO_SUCH_IMAGE "io.podctl.pod1.NoSuchImage"
#define BUS_ERROR_IMAGE_EXISTS "io.podctl.pod1.ImageExists"
#define BUS_ERROR_IMAGE_IN_USE "io.podctl.pod1.ImageInUse"
#define BUS_ERROR_IMPORT_FAILED "io.podctl.pod1.ImportFailed"
#define BUS_ERROR_INVALID_NAME "io.podctl.pod1.InvalidName"
#define BUS_ERROR_INVALID_ARGUMENT "io.podctl.pod1.InvalidArgument"
#define BUS_ERROR_NOT_PERMITTED "io.podctl.pod1.NotPermitted"
#define BUS_ERROR_LIMIT_EXCEEDED "io.podctl.pod1.LimitExceeded"
#define BUS_ERROR_STORAGE_FAILED "io.podctl.pod1.StorageFailed"
#define BUS_ERROR_SYSTEMD_FAILED "io.podctl.pod1.SystemdFailed"
