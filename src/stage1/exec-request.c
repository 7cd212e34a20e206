/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec-request.h"
#include "strv.h"

void exec_request_done(ExecRequest *r) {
        free(r->working_directory);
        free(r->user);
        strv_free(r->cgroup_procs);
        strv_free(r->command);
        strv_free(r->environment);
        *r = (ExecRequest) {};
}

static int field_append(FILE *f, const char *key, const char *value) {
        if (fprintf(f, "%s=%s", key, value) < 0 || fputc('\0', f) == EOF)
                return -ENOMEM;
        return 0;
}

static int fields_append(FILE *f, const char *key, char * const *l) {
        for (; l && *l; l++)
                if (field_append(f, key, *l) < 0)
                        return -ENOMEM;
        return 0;
}

int exec_request_serialize(const ExecRequest *r, char **ret, size_t *ret_size) {
        char *buf = NULL, num[32];
        size_t size = 0;
        FILE *f;
        int k = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        snprintf(num, sizeof num, "%d", (int) r->leader);
        k |= field_append(f, "leader", num);
        snprintf(num, sizeof num, "%d", (int) r->app);
        k |= field_append(f, "app", num);
        snprintf(num, sizeof num, "%" PRIx64, r->capabilities);
        k |= field_append(f, "capabilities", num);
        if (r->working_directory)
                k |= field_append(f, "workdir", r->working_directory);
        if (r->user)
                k |= field_append(f, "user", r->user);
        k |= fields_append(f, "cgroup", r->cgroup_procs);
        k |= fields_append(f, "arg", r->command);
        k |= fields_append(f, "env", r->environment);
        if (fclose(f) != 0 || k < 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_size = size;
        return 0;
}

static int parse_number(const char *s, int base, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long n;

        errno = 0;
        n = strtoull(s, &end, base);
        if (!*s || *end || errno != 0 || n > max || s[0] == '-')
                return -EBADMSG;
        *ret = n;
        return 0;
}

static int string_set(char **s, const char *value) {
        if (*s)
                return -EBADMSG;
        *s = strdup(value);
        return *s ? 0 : -ENOMEM;
}

int exec_request_parse(const char *buf, size_t size, ExecRequest *ret) {
        _cleanup_(exec_request_done) ExecRequest r = {};
        bool have_leader = false;
        const char *p = buf, *end = buf + size;
        int k;

        if (size == 0 || buf[size - 1] != '\0')
                return -EBADMSG;

        for (; p < end; p += strlen(p) + 1) {
                const char *v;
                uint64_t n;

                if ((v = startswith(p, "leader=")) || (v = startswith(p, "app="))) {
                        k = parse_number(v, 10, INT32_MAX, &n);
                        if (k < 0)
                                return k;
                        if (p[0] == 'l') {
                                if (n == 0)
                                        return -EBADMSG;
                                r.leader = (pid_t) n;
                                have_leader = true;
                        } else
                                r.app = (pid_t) n;
                } else if ((v = startswith(p, "capabilities="))) {
                        k = parse_number(v, 16, UINT64_MAX, &r.capabilities);
                } else if ((v = startswith(p, "workdir=")))
                        k = v[0] == '/' ? string_set(&r.working_directory, v) : -EBADMSG;
                else if ((v = startswith(p, "user=")))
                        k = v[0] ? string_set(&r.user, v) : -EBADMSG;
                else if ((v = startswith(p, "cgroup=")))
                        k = strv_extend(&r.cgroup_procs, v);
                else if ((v = startswith(p, "arg=")))
                        k = strv_extend(&r.command, v);
                else if ((v = startswith(p, "env=")))
                        k = strv_extend(&r.environment, v);
                else
                        k = -EBADMSG;
                if (k < 0)
                        return k;
        }

        if (!have_leader || strv_isempty(r.command) || !r.command[0][0] || strv_isempty(r.cgroup_procs))
                return -EBADMSG;
        /* An empty environment is one. */
        if (!r.environment) {
                r.environment = calloc(1, sizeof(char *));
                if (!r.environment)
                        return -ENOMEM;
        }
        *ret = r;
        r = (ExecRequest) {};
        return 0;
}
