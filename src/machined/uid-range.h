/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The window pods' UID/GID ranges come from, as systemd-nspawn's -U picks them: above
 * the host's users, below what 32-bit IDs and nobody (65534 in a 16-bit world) reach. */
#define UID_RANGE_FIRST UINT32_C(0x80000)
#define UID_RANGE_LAST  UINT32_C(0x6FFF0000) /* exclusive */

/* The lowest 64K-aligned base in the window whose range [base, base + 65536) holds none
 * of the bases in used (other pods') and none of the IDs in taken (host users and
 * groups). Pure, so that it can be tested; -EBUSY when the window is full. */
int uid_range_pick(const uint32_t *used, size_t n_used, const uint32_t *taken, size_t n_taken, uint32_t *ret);

/* Every UID and GID of passwd and group (NSS), for uid_range_pick()'s taken. */
int uid_range_host_ids(uint32_t **ret, size_t *ret_n);
