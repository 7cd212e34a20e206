/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define BUS_ERROR_NO_SUCH_POD "io.podctl.pod1.NoSuchPod"
#define BUS_ERROR_POD_EXISTS "io.podctl.pod1.PodExists"
#define BUS_ERROR_POD_RUNNING "io.podctl.pod1.PodRunning"
#define BUS_ERROR_POD_NOT_RUNNING "io.podctl.pod1.PodNotRunning"
#define BUS_ERROR_POD_START_FAILED "io.podctl.pod1.PodStartFailed"
#define BUS_ERROR_EXEC_FAILED "io.podctl.pod1.ExecFailed"
#define BUS_ERROR_NO_SUCH_PROCESS "io.podctl.pod1.NoSuchProcess"   /* SignalExec: not a running command of the caller */
#define BUS_ERROR_NO_SUCH_IMAGE "io.podctl.pod1.NoSuchImage"
#define BUS_ERROR_IMAGE_EXISTS "io.podctl.pod1.ImageExists"
#define BUS_ERROR_IMAGE_IN_USE "io.podctl.pod1.ImageInUse"
#define BUS_ERROR_IMPORT_FAILED "io.podctl.pod1.ImportFailed"
#define BUS_ERROR_INVALID_NAME "io.podctl.pod1.InvalidName"
#define BUS_ERROR_INVALID_ARGUMENT "io.podctl.pod1.InvalidArgument"
#define BUS_ERROR_INVALID_BIND_MOUNT "io.podctl.pod1.InvalidBindMount" /* its destination, options or source */
#define BUS_ERROR_NOT_PERMITTED "io.podctl.pod1.NotPermitted"
#define BUS_ERROR_LIMIT_EXCEEDED "io.podctl.pod1.LimitExceeded"
#define BUS_ERROR_STORAGE_FAILED "io.podctl.pod1.StorageFailed"
#define BUS_ERROR_SYSTEMD_FAILED "io.podctl.pod1.SystemdFailed"

/* Image verification (minisign signatures and checksums). */
#define BUS_ERROR_SIGNATURE_INVALID "io.podctl.pod1.SignatureInvalid"     /* does not verify: tampered, or of another file */
#define BUS_ERROR_SIGNATURE_MALFORMED "io.podctl.pod1.SignatureMalformed" /* not a minisign signature */
#define BUS_ERROR_UNTRUSTED_KEY "io.podctl.pod1.UntrustedKey"             /* made by a key the admin does not trust */
#define BUS_ERROR_LEGACY_SIGNATURE "io.podctl.pod1.LegacySignature"       /* non-prehashed, refused unless allowed */
#define BUS_ERROR_CHECKSUM_MISMATCH "io.podctl.pod1.ChecksumMismatch"
#define BUS_ERROR_UNSUPPORTED_FORMAT "io.podctl.pod1.UnsupportedFormat"
#define BUS_ERROR_UNSAFE_ARCHIVE "io.podctl.pod1.UnsafeArchive"           /* hostile entries: traversal, devices, bombs */

/* The trust store. */
#define BUS_ERROR_NO_SUCH_KEY "io.podctl.pod1.NoSuchKey"
#define BUS_ERROR_KEY_EXISTS "io.podctl.pod1.KeyExists"
#define BUS_ERROR_INVALID_KEY "io.podctl.pod1.InvalidKey"
