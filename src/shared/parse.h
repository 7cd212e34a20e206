/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "signal-util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pure helpers for podctl's arguments and output, and podmachined's configuration: no bus,
 * no I/O. */

/* "512", "512K", "1.5G", "2T", with an optional trailing "B"; base 1024. */
int parse_size(const char *s, uint64_t *ret);

/* Decimal CPU count ("0.5", "2", "1.25") as systemd's CPUQuotaPerSecUSec: 1 CPU is
 * 1000000 µs per second. At most six decimals; zero is refused. */
int parse_cpus(const char *s, uint64_t *ret);

/* Plain decimal in [min, max]. */
int parse_uint64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);


/* The image name an import of path defaults to: its last component without a tar
 * suffix. -EINVAL if nothing is left. */
int image_name_from_path(const char *path, char **ret);

/* Output formatting into a caller buffer; return buf. */
#define FORMAT_BYTES_MAX 16
char *format_bytes(char *buf, size_t n, uint64_t bytes);           /* "1.2M", "512B" */
#define FORMAT_TIMESTAMP_MAX 32
char *format_timestamp(char *buf, size_t n, uint64_t usec);        /* local, "-" if unset */
#define FORMAT_CPUS_MAX 32
char *format_cpus(char *buf, size_t n, uint64_t quota_per_sec_usec); /* "0.5" */

/* Joins argv for display, single-quoting words a shell would split. */
char *format_command(char * const *argv);

/* User name of uid, else the number. */
char *format_owner(uint32_t uid);

/* "NAME=VALUE" with NAME a shell variable name ([A-Za-z_][A-Za-z0-9_]*): what a caller may
 * set in a pod's or an exec'd command's environment. */
bool env_assignment_is_valid(const char *e);
/* "NAME=VALUE" with any non-empty NAME: what an image's configuration may carry (OCI sets
 * no rule for the name), and so what a pod's stored environment may hold. */
bool env_assignment_has_name(const char *e);
