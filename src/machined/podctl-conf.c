/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "podctl-conf.h"

#define CONF_LINE_MAX 4096

void podctl_conf_init(PodctlConf *c) {
        *c = (PodctlConf) {
                .users = {
                        .max_pods = USER_MAX_PODS_DEFAULT,
                        .memory_max = LIMIT_UNSET,
                        .cpu_weight = LIMIT_UNSET,
                        .tasks_max = LIMIT_UNSET,
                        .disk_max = LIMIT_UNSET,
                },
        };
}

typedef enum ValueKind {
        VALUE_COUNT,   /* decimal, or "infinity" */
        VALUE_SIZE,    /* parse_size(), or "infinity" */
        VALUE_WEIGHT,  /* 1..10000 */
} ValueKind;

static const struct {
        const char *key;
        ValueKind kind;
        size_t offset;
} user_keys[] = {
        { "MaxPodsPerUser", VALUE_COUNT, offsetof(UserLimits, max_pods) },
        { "MemoryMax", VALUE_SIZE, offsetof(UserLimits, memory_max) },
        { "CPUWeight", VALUE_WEIGHT, offsetof(UserLimits, cpu_weight) },
        { "TasksMax", VALUE_COUNT, offsetof(UserLimits, tasks_max) },
        { "DiskLimit", VALUE_SIZE, offsetof(UserLimits, disk_max) },
};

static int parse_value(ValueKind kind, const char *v, uint64_t *ret) {
        if (kind != VALUE_WEIGHT && strcmp(v, "infinity") == 0) {
                *ret = LIMIT_UNSET;
                return 0;
        }
        switch (kind) {
        case VALUE_COUNT:
                return parse_uint64_range(v, 0, LIMIT_UNSET - 1, ret);
        case VALUE_SIZE: {
                uint64_t s;
                int r = parse_size(v, &s);
                if (r < 0)
                        return r;
                if (s == 0 || s == LIMIT_UNSET)
                        return -ERANGE;
                *ret = s;
                return 0;
        }
        case VALUE_WEIGHT:
                return parse_uint64_range(v, 1, 10000, ret);
        }
        return -EINVAL;
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

int podctl_conf_parse(const char *text, size_t size, const char *source, PodctlConf *ret) {
        PodctlConf c, defaults;
        enum { SECTION_NONE, SECTION_USERS, SECTION_UNKNOWN } section = SECTION_NONE;
        unsigned line = 0;
        size_t pos = 0;

        podctl_conf_init(&c);
        podctl_conf_init(&defaults);

        while (pos < size) {
                char buf[CONF_LINE_MAX], *l, *eq, *key, *value;
                const char *nl = memchr(text + pos, '\n', size - pos);
                size_t len = (nl ? (size_t) (nl - text) : size) - pos;
                bool known = false;

                line++;
                if (len >= sizeof buf) {
                        log_error("%s:%u: line too long.", source, line);
                        return -EINVAL;
                }
                memcpy(buf, text + pos, len);
                buf[len] = 0;
                pos += len + 1;
                if (strlen(buf) != len) {
                        log_error("%s:%u: NUL byte.", source, line);
                        return -EINVAL;
                }

                l = strip(buf);
                if (*l == 0 || *l == '#' || *l == ';')
                        continue;

                if (*l == '[') {
                        size_t n = strlen(l);

                        if (l[n - 1] != ']') {
                                log_error("%s:%u: invalid section header '%s'.", source, line, l);
                                return -EINVAL;
                        }
                        l[n - 1] = 0;
                        if (strcmp(l + 1, "Users") == 0)
                                section = SECTION_USERS;
                        else {
                                log_warning("%s:%u: unknown section [%s], ignoring.", source, line, l + 1);
                                section = SECTION_UNKNOWN;
                        }
                        continue;
                }

                eq = strchr(l, '=');
                if (!eq) {
                        log_error("%s:%u: expected KEY=VALUE, got '%s'.", source, line, l);
                        return -EINVAL;
                }
                *eq = 0;
                key = strip(l);
                value = strip(eq + 1);

                if (section == SECTION_NONE) {
                        log_error("%s:%u: %s= outside of a section.", source, line, key);
                        return -EINVAL;
                }
                if (section == SECTION_UNKNOWN)
                        continue;

                for (size_t k = 0; k < ELEMENTSOF(user_keys); k++) {
                        uint64_t *field = (uint64_t *) ((uint8_t *) &c.users + user_keys[k].offset);

                        if (strcmp(key, user_keys[k].key) != 0)
                                continue;
                        known = true;
                        if (*value == 0) /* an empty value resets to the default */
                                *field = *(const uint64_t *) ((const uint8_t *) &defaults.users + user_keys[k].offset);
                        else if (parse_value(user_keys[k].kind, value, field) < 0) {
                                log_error("%s:%u: invalid value for %s=: '%s'.", source, line, key, value);
                                return -EINVAL;
                        }
                }
                if (!known)
                        log_warning("%s:%u: unknown key %s= in [Users], ignoring.", source, line, key);
        }

        *ret = c;
        return 0;
}

int podctl_conf_load(const char *path, PodctlConf *ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno != ENOENT)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
                podctl_conf_init(ret);
                return 0;
        }

        r = read_fd_bounded(fd, PODCTL_CONF_SIZE_MAX, &text, &size);
        if (r == -EFBIG)
                return log_error_errno(r, "%s is larger than %d bytes.", path, PODCTL_CONF_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);

        return podctl_conf_parse(text, size, path, ret);
}
