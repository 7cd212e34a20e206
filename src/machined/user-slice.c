/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-errors.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "paths.h"
#include "user-slice.h"

#define UNIT_FILE_MAX 4096

int pod_slice_name(uid_t owner, char **ret) {
        char *s;

        if (owner == 0)
                s = strdup(POD_DEFAULT_SLICE);
        else if (asprintf(&s, "machine-pods-u%" PRIu32 ".slice", (uint32_t) owner) < 0)
                s = NULL;
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Replaces dir_fd/name with text unless it holds that already; 1 if it changed. */
static int write_if_changed(int dir_fd, const char *name, const char *text) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(text);
        char old[UNIT_FILE_MAX];
        ssize_t n;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
                n = read(fd, old, sizeof old);
                if (n == (ssize_t) len && memcmp(old, text, len) == 0)
                        return 0;
        }

        int r = write_file_atomic_at(dir_fd, name, text, len, 0644);
        return r < 0 ? r : 1;
}

static int open_dir(const char *path) {
        int fd;

        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? -errno : fd;
}

int user_slice_write(const char *unit_dir, uid_t uid, const UserLimits *l) {
        _cleanup_free_ char *slice = NULL, *text = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        char memory[32] = "infinity", tasks[32] = "infinity", weight[32] = "";
        int r, changed;

        r = pod_slice_name(uid, &slice);
        if (r < 0)
                return r;
        if (uid == 0)
                return 0; /* machine.slice is systemd's */

        dir_fd = open_dir(unit_dir);
        if (dir_fd < 0)
                return log_error_errno(dir_fd, "Failed to open %s: %m", unit_dir);

        r = write_if_changed(dir_fd, POD_USERS_SLICE,
                             "# Written by podmachined.\n"
                             "[Unit]\n"
                             "Description=Pods of users\n"
                             "Documentation=man:podmachined(8)\n");
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/%s: %m", unit_dir, POD_USERS_SLICE);
        changed = r;

        if (l->memory_max != LIMIT_UNSET)
                snprintf(memory, sizeof memory, "%" PRIu64, l->memory_max);
        if (l->tasks_max != LIMIT_UNSET)
                snprintf(tasks, sizeof tasks, "%" PRIu64, l->tasks_max);
        if (l->cpu_weight != LIMIT_UNSET)
                snprintf(weight, sizeof weight, "%" PRIu64, l->cpu_weight);
        if (asprintf(&text,
                     "# Written by podmachined from " PODCTL_CONF_FILE ", [Users].\n"
                     "[Unit]\n"
                     "Description=Pods of user %" PRIu32 "\n"
                     "Documentation=man:podmachined(8)\n"
                     "\n"
                     "[Slice]\n"
                     "MemoryMax=%s\n"
                     "TasksMax=%s\n"
                     "CPUWeight=%s\n",
                     (uint32_t) uid, memory, tasks, weight) < 0)
                return -ENOMEM;

        r = write_if_changed(dir_fd, slice, text);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/%s: %m", unit_dir, slice);
        return changed || r;
}

static int dropin_dir(const char *unit_dir, const char *unit, char **ret) {
        return asprintf(ret, "%s/%s.d", unit_dir, unit) < 0 ? -ENOMEM : 0;
}

/* Writes unit_dir/UNIT.d/name unless it holds text already; 1 if it changed. */
static int dropin_write(const char *unit_dir, const char *unit, const char *name, const char *text) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        int r;

        r = dropin_dir(unit_dir, unit, &dir);
        if (r < 0)
                return r;
        if (mkdir(unit_dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create %s: %m", unit_dir);
        dir_fd = open_dir(dir);
        if (dir_fd < 0)
                return log_error_errno(dir_fd, "Failed to open %s: %m", dir);
        r = write_if_changed(dir_fd, name, text);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/%s: %m", dir, name);
        return r;
}

int pod_slice_dropin_write(const char *unit_dir, const char *unit, uid_t owner) {
        _cleanup_free_ char *slice = NULL, *text = NULL;
        int r;

        r = pod_slice_name(owner, &slice);
        if (r < 0)
                return r;
        if (asprintf(&text,
                     "# Written by podmachined: the pod's owner is UID %" PRIu32 ".\n"
                     "[Service]\n"
                     "Slice=%s\n",
                     (uint32_t) owner, slice) < 0)
                return -ENOMEM;
        return dropin_write(unit_dir, unit, POD_SLICE_DROPIN, text);
}

static int dropin_remove(const char *unit_dir, const char *unit, const char *name) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        int r;

        r = dropin_dir(unit_dir, unit, &dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : -errno;
        (void) rmdir(dir);
        return 1;
}

int pod_slice_dropin_remove(const char *unit_dir, const char *unit) {
        return dropin_remove(unit_dir, unit, POD_SLICE_DROPIN);
}

void pod_dropins_remove(const char *unit_dir, const char *unit) {
        (void) dropin_remove(unit_dir, unit, POD_SLICE_DROPIN);
        (void) dropin_remove(unit_dir, unit, POD_BINDS_DROPIN);
}

/* A path as one quoted word of RequiresMountsFor=: specifiers and quotes escaped. Paths with
 * control characters have no safe spelling there: skipped. */
static int append_quoted_path(FILE *f, const char *path) {
        for (const char *p = path; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return 0;
        fputs(" \"", f);
        for (const char *p = path; *p; p++) {
                if (*p == '%')
                        fputc('%', f);
                else if (*p == '"' || *p == '\\')
                        fputc('\\', f);
                fputc(*p, f);
        }
        fputc('"', f);
        return 1;
}

int pod_binds_dropin_write(const char *unit_dir, const char *unit, const PodConfig *c) {
        _cleanup_free_ char *text = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0, n = 0;

        if (c->n_binds == 0)
                return dropin_remove(unit_dir, unit, POD_BINDS_DROPIN);

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fputs("# Written by podmachined: the file systems of the pod's bind mounts.\n"
              "[Unit]\n"
              "RequiresMountsFor=", f);
        for (size_t i = 0; i < c->n_binds; i++)
                n += append_quoted_path(f, c->binds[i].source);
        fputc('\n', f);
        if (fclose(TAKE_PTR(f)) != 0)
                return -ENOMEM;
        if (n == 0)
                return dropin_remove(unit_dir, unit, POD_BINDS_DROPIN);
        return dropin_write(unit_dir, unit, POD_BINDS_DROPIN, text);
}

/* The user's limit as the pod's default, or refuses a pod above it. */
static int apply_one(const char *key, uint64_t limit, bool bytes, uint64_t *v, sd_bus_error *error) {
        char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX];

        if (limit == LIMIT_UNSET)
                return 0;
        if (*v == LIMIT_UNSET) {
                *v = limit;
                return 0;
        }
        if (*v <= limit)
                return 0;
        if (bytes)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "%s=%s is above your limit of %s.", key,
                                         format_bytes(a, sizeof a, *v), format_bytes(b, sizeof b, limit));
        return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "%s=%" PRIu64 " is above your limit of %" PRIu64 ".",
                                 key, *v, limit);
}

int user_limits_apply(const UserLimits *l, size_t n_owned, PodConfig *c, sd_bus_error *error) {
        int r;

        if (l->max_pods != LIMIT_UNSET && n_owned >= l->max_pods)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED,
                                         "You own %zu pods, the most each user may (MaxPodsPerUser=%" PRIu64 " in %s).",
                                         n_owned, l->max_pods, PODCTL_CONF_FILE);

        r = apply_one("MemoryMax", l->memory_max, true, &c->memory_max, error);
        if (r < 0)
                return r;
        r = apply_one("TasksMax", l->tasks_max, false, &c->tasks_max, error);
        if (r < 0)
                return r;
        /* DiskLimit= bounds all of the user's pods together (a qgroup of theirs, see
         * pod_quota()): a pod may ask for as much at most, and is not given a limit of its
         * own otherwise. */
        if (c->disk_max != LIMIT_UNSET)
                r = apply_one("DiskLimit", l->disk_max, true, &c->disk_max, error);
        return r;
}
