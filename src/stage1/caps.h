/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "pod-config.h"

#define CAP_MASK(cap) (UINT64_C(1) << (cap))

/* The capabilities the processes of a pod keep, bit N = capability N: systemd-nspawn's
 * default set, narrowed while pods run as the host's root (no user namespace), with the
 * network ones only in a private network namespace, then the admin's capabilities_add
 * and capabilities_drop on top. */
uint64_t caps_retained(const PodConfig *c);

/* Makes mask the bounding, permitted, effective and inheritable sets of the calling
 * process and clears its ambient set. Capabilities the kernel does not know, or the
 * process does not have, are left out.
 * Needs CAP_SETPCAP, so it is called once, while the process still has everything. */
int caps_apply(uint64_t mask);
