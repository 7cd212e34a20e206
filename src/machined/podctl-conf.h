/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pod-config.h"

#define PODCTL_CONF_FILE "/etc/podctl/podctl.conf"
/* The file is the admin's and small; a larger one is a mistake. */
#define PODCTL_CONF_SIZE_MAX (64 * 1024)

#define USER_MAX_PODS_DEFAULT 16

/* What each user other than root gets, from [Users]: a bound on the pods the user owns,
 * and limits on the user's slice that all of those pods share. LIMIT_UNSET: unlimited. */
typedef struct UserLimits {
        uint64_t max_pods;
        uint64_t memory_max;  /* bytes */
        uint64_t cpu_weight;  /* 1..10000 */
        uint64_t tasks_max;
        uint64_t disk_max;    /* bytes per pod, btrfs store only */
} UserLimits;

typedef struct PodctlConf {
        UserLimits users;
} PodctlConf;

void podctl_conf_init(PodctlConf *c);

/* Parses the text of podctl.conf; source names it in messages. Unknown sections and keys
 * are warned about and ignored; anything else that does not parse is -EINVAL, logged with
 * its line, and *ret is untouched. */
int podctl_conf_parse(const char *text, size_t size, const char *source, PodctlConf *ret);

/* The defaults if path does not exist. */
int podctl_conf_load(const char *path, PodctlConf *ret);
