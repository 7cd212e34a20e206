/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Pod and image names follow systemd-machined's machine-name rules: a valid hostname
 * (dot-separated labels of ASCII letters, digits and '-', no label starting or ending
 * with '-') of at most 64 bytes. They are used verbatim in paths and unit names. */
#define NAME_MAX_LEN 64

bool name_is_valid(const char *name);

/* "pod@NAME.service"; NULL if the name is invalid or on OOM. */
char *pod_unit_name(const char *name);

/* The reverse: the pod name of a "pod@NAME.service" unit, or NULL. */
char *pod_name_from_unit(const char *unit);
