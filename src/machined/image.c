/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bus-errors.h"
#include "fileio.h"
#include "image.h"
#include "import-tar.h"
#include "log.h"
#include "manager.h"
#include "name.h"
#include "paths.h"
#include "store.h"

/* What an import child reports through its pipe. */
typedef struct ImportResult {
        int error;
        uint64_t size;
        char message[512];
} ImportResult;

static const char *const image_format_table[_IMAGE_FORMAT_MAX] = {
        [IMAGE_FORMAT_TAR] = "tar",
        [IMAGE_FORMAT_DIRECTORY] = "directory",
};

const char *image_format_to_string(ImageFormat f) {
        return f >= 0 && f < _IMAGE_FORMAT_MAX ? image_format_table[f] : NULL;
}

ImageFormat image_format_from_string(const char *s) {
        for (ImageFormat i = 0; i < _IMAGE_FORMAT_MAX; i++)
                if (s && strcmp(image_format_table[i], s) == 0)
                        return i;
        return _IMAGE_FORMAT_INVALID;
}

char *image_tree_path(const char *name) {
        char *p;

        if (asprintf(&p, PODCTL_IMAGES_DIR "/%s", name) < 0)
                return NULL;
        return p;
}

static int image_new(Manager *m, const char *name, Image **ret) {
        Image *i;

        i = calloc(1, sizeof *i);
        if (!i)
                return -ENOMEM;

        i->manager = m;
        i->import_result_fd = -EBADF;
        i->name = strdup(name);
        if (!i->name || sd_bus_path_encode(PODCTL_BUS_IMAGE_PREFIX, name, &i->path) < 0) {
                image_free(i);
                return -ENOMEM;
        }

        i->next = m->images;
        m->images = i;
        m->n_images++;

        *ret = i;
        return 0;
}

Image *image_free(Image *i) {
        if (!i)
                return NULL;

        if (i->manager)
                for (Image **j = &i->manager->images; *j; j = &(*j)->next)
                        if (*j == i) {
                                *j = i->next;
                                i->manager->n_images--;
                                break;
                        }

        if (i->import_pid > 0)
                (void) kill(i->import_pid, SIGKILL);
        sd_event_source_unref(i->import_child);
        safe_close(i->import_result_fd);
        sd_bus_message_unref(i->import_call);
        free(i->tmp_name);
        free(i->name);
        free(i->path);
        free(i);
        return NULL;
}

static char *meta_name(const char *name) {
        char *p;

        if (asprintf(&p, "%s.json", name) < 0)
                return NULL;
        return p;
}

int image_load(Manager *m, const char *name, Image **ret) {
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *meta = meta_name(name);
        const char *format;
        json_int_t size, created;
        struct stat st;
        Image *i;
        int r;

        if (!meta)
                return -ENOMEM;

        r = json_read_at(m->image_meta_fd, meta, &j);
        if (r < 0)
                return r;
        if (json_unpack(j, "{s:s, s:I, s:I}", "format", &format, "size", &size, "created_usec", &created) < 0 ||
            image_format_from_string(format) < 0 || size < 0 || created < 0)
                return -EBADMSG;

        if (fstatat(m->images_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;

        r = image_new(m, name, &i);
        if (r < 0)
                return r;

        i->format = image_format_from_string(format);
        i->size = (uint64_t) size;
        i->created_usec = (uint64_t) created;
        *ret = i;
        return 0;
}

static int image_save_meta(Image *i) {
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *meta = meta_name(i->name);

        j = json_pack("{s:s, s:s, s:I, s:I}",
                      "name", i->name,
                      "format", image_format_to_string(i->format),
                      "size", (json_int_t) i->size,
                      "created_usec", (json_int_t) i->created_usec);
        if (!j || !meta)
                return -ENOMEM;
        return json_write_atomic_at(i->manager->image_meta_fd, meta, j);
}

static void image_import_finish(Image *i, const ImportResult *result) {
        Manager *m = i->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = TAKE_PTR(i->import_call);
        int r;

        if (result->error != 0) {
                log_error("Failed to import image '%s': %s", i->name, result->message);
                (void) sd_bus_reply_method_errorf(call, BUS_ERROR_IMPORT_FAILED, "Failed to import image '%s': %s",
                                                  i->name, result->message);
                goto fail;
        }

        r = store_seal_tree(m->storage, m->images_fd, i->tmp_name);
        if (r >= 0 && renameat2(m->images_fd, i->tmp_name, m->images_fd, i->name, RENAME_NOREPLACE) < 0)
                r = -errno;
        if (r >= 0) {
                i->importing = false;
                i->size = result->size;
                i->created_usec = now_usec();
                /* The image exists once its metadata does; a crash before leaves a tree
                 * without it, which the next start-up deletes. */
                r = image_save_meta(i);
                if (r < 0)
                        (void) rm_rf_at(m->images_fd, i->name);
        }
        if (r < 0) {
                log_error_errno(r, "Failed to store image '%s': %m", i->name);
                (void) sd_bus_reply_method_errorf(call, BUS_ERROR_STORAGE_FAILED, "Failed to store image '%s': %s",
                                                  i->name, strerror(-r));
                goto fail;
        }
        (void) fsync(m->images_fd);

        log_info("Imported image '%s' (%llu bytes).", i->name, (unsigned long long) i->size);
        (void) sd_bus_emit_signal(m->bus, PODCTL_BUS_PATH, PODCTL_MANAGER_INTERFACE, "ImageNew", "so", i->name, i->path);
        (void) sd_bus_reply_method_return(call, "o", i->path);

        free(i->tmp_name);
        i->tmp_name = NULL;
        manager_check_idle(m);
        return;

fail:
        (void) rm_rf_at(m->images_fd, i->tmp_name);
        image_free(i);
        manager_check_idle(m);
}

static int on_import_exited(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Image *i = userdata;
        ImportResult result = {};
        ssize_t n;

        i->import_pid = 0;
        i->import_child = sd_event_source_unref(i->import_child);

        n = read(i->import_result_fd, &result, sizeof result);
        i->import_result_fd = safe_close(i->import_result_fd);

        if (n != (ssize_t) sizeof result) {
                result.error = EPROTO;
                if (si->si_code == CLD_EXITED)
                        snprintf(result.message, sizeof result.message, "importer exited with status %d", si->si_status);
                else
                        snprintf(result.message, sizeof result.message, "importer killed by signal %s",
                                 sigabbrev_np(si->si_status) ?: "?");
        }
        result.message[sizeof result.message - 1] = '\0';

        image_import_finish(i, &result);
        return 0;
}

_noreturn_ static void import_child(int input_fd, int tree_fd, int result_fd) {
        ImportLimits limits = IMPORT_LIMITS_DEFAULT;
        ImportResult result = {};
        _cleanup_free_ char *message = NULL;
        int r;

        /* Dies with the daemon: a half import is swept at the next start. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        r = import_tar(input_fd, tree_fd, &limits, &result.size, &message);
        if (r < 0) {
                result.error = -r;
                snprintf(result.message, sizeof result.message, "%s", message ?: strerror(-r));
        }

        if (write(result_fd, &result, sizeof result) != (ssize_t) sizeof result)
                _exit(EXIT_FAILURE);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

int image_import_start(Manager *m, const char *name, ImageFormat format, int fd, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int tree_fd = -EBADF, pipe_r = -EBADF, pipe_w = -EBADF;
        Image *i;
        pid_t pid;
        int p[2], r;

        r = hidden_name(PODCTL_TMP_PREFIX, name, &tmp);
        if (r < 0)
                return r;

        r = store_make_tree(m->storage, m->images_fd, tmp);
        if (r < 0)
                return log_error_errno(r, "Failed to create directory for image '%s': %m", name);

        tree_fd = openat(m->images_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tree_fd < 0 || pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        pipe_r = p[0];
        pipe_w = p[1];

        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                import_child(fd, tree_fd, pipe_w);

        r = image_new(m, name, &i);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                goto fail;
        }
        i->importing = true;
        i->format = format;
        i->import_pid = pid;
        i->import_result_fd = TAKE_FD(pipe_r);
        i->import_call = sd_bus_message_ref(call);
        i->tmp_name = TAKE_PTR(tmp);

        r = sd_event_add_child(m->event, &i->import_child, pid, WEXITED, on_import_exited, i);
        if (r < 0) {
                (void) rm_rf_at(m->images_fd, i->tmp_name);
                image_free(i);
                return r;
        }
        return 0;

fail:
        (void) rm_rf_at(m->images_fd, tmp);
        return r;
}

int image_remove(Image *i) {
        Manager *m = i->manager;
        _cleanup_free_ char *meta = meta_name(i->name), *gone = NULL;
        int r;

        if (!meta)
                return -ENOMEM;
        r = hidden_name(PODCTL_RM_PREFIX, i->name, &gone);
        if (r < 0)
                return r;

        /* Metadata first: without it the image is gone, whatever happens next. */
        if (unlinkat(m->image_meta_fd, meta, 0) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove image '%s': %m", i->name);
        (void) fsync(m->image_meta_fd);

        if (renameat(m->images_fd, i->name, m->images_fd, gone) < 0)
                log_warning_errno(errno, "Failed to move tree of image '%s' away, ignoring: %m", i->name);
        else {
                r = manager_delete_later(m, m->images_fd, gone);
                if (r < 0)
                        log_warning_errno(r, "Failed to schedule deleting tree of image '%s', leaving it for the next start: %m",
                                          i->name);
        }

        (void) sd_bus_emit_signal(m->bus, PODCTL_BUS_PATH, PODCTL_MANAGER_INTERFACE, "ImageRemoved", "so", i->name, i->path);
        log_info("Removed image '%s'.", i->name);
        image_free(i);
        return 0;
}
