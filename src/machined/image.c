/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bus-errors.h"
#include "fileio.h"
#include "image.h"
#include "image-dbus.h"
#include "import.h"
#include "log.h"
#include "manager.h"
#include "name.h"
#include "paths.h"
#include "store.h"

/* What an import child reports through its pipe; the record it leaves in its work
 * directory as RECORD_FILE. */
typedef struct ImportResult {
        int error;
        char error_name[64];
        char message[512];
} ImportResult;

#define RECORD_FILE "record.json"

static const char *const image_format_table[_IMAGE_FORMAT_MAX] = {
        [IMAGE_FORMAT_TAR] = "tar",
        [IMAGE_FORMAT_DIRECTORY] = "directory",
        [IMAGE_FORMAT_OCI] = "oci",
        [IMAGE_FORMAT_DOCKER_ARCHIVE] = "docker-archive",
        [IMAGE_FORMAT_SQUASHFS] = "squashfs",
        [IMAGE_FORMAT_EROFS] = "erofs",
        [IMAGE_FORMAT_RAW] = "raw",
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
        i->import_progress_fd = -EBADF;
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
        sd_event_source_unref(i->import_progress);
        safe_close(i->import_result_fd);
        safe_close(i->import_progress_fd);
        sd_bus_message_unref(i->import_call);
        json_decref(i->record);
        free(i->tmp_name);
        free(i->work_name);
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
        i->record = TAKE_PTR(j);
        *ret = i;
        return 0;
}

const char *image_record_string(const Image *i, const char *key) {
        return json_string_value(json_object_get(i->record, key));
}

static int image_save_meta(Image *i) {
        _cleanup_free_ char *meta = meta_name(i->name);

        if (!meta)
                return -ENOMEM;
        if (json_object_set_new(i->record, "name", json_string(i->name)) < 0 ||
            json_object_set_new(i->record, "format", json_string(image_format_to_string(i->format))) < 0 ||
            json_object_set_new(i->record, "size", json_integer((json_int_t) i->size)) < 0 ||
            json_object_set_new(i->record, "created_usec", json_integer((json_int_t) i->created_usec)) < 0)
                return -ENOMEM;
        return json_write_atomic_at(i->manager->image_meta_fd, meta, i->record);
}

/* The record the import child left: format, size, verification... */
static int image_read_record(Image *i) {
        _cleanup_close_ int work_fd = -EBADF;
        _cleanup_json_ json_t *j = NULL;
        const char *format;
        json_int_t size;
        int r;

        work_fd = openat(i->manager->images_fd, i->work_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (work_fd < 0)
                return -errno;
        r = json_read_at(work_fd, RECORD_FILE, &j);
        if (r < 0)
                return r;
        if (json_unpack(j, "{s:s, s:I}", "format", &format, "size", &size) < 0 ||
            image_format_from_string(format) < 0 || size < 0)
                return -EBADMSG;
        i->format = image_format_from_string(format);
        i->size = (uint64_t) size;
        json_decref(i->record);
        i->record = TAKE_PTR(j);
        return 0;
}

static void image_import_finish(Image *i, const ImportResult *result) {
        Manager *m = i->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = TAKE_PTR(i->import_call);
        int r;

        if (result->error != 0) {
                log_error("Failed to import image '%s': %s", i->name, result->message);
                (void) sd_bus_reply_method_errorf(call, result->error_name[0] ? result->error_name : BUS_ERROR_IMPORT_FAILED,
                                                  "%s", result->message);
                goto fail;
        }

        r = image_read_record(i);
        if (r >= 0)
                r = store_seal_tree(m->storage, m->images_fd, i->tmp_name);
        if (r >= 0 && renameat2(m->images_fd, i->tmp_name, m->images_fd, i->name, RENAME_NOREPLACE) < 0)
                r = -errno;
        if (r >= 0) {
                i->importing = false;
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

        (void) rm_rf_at(m->images_fd, i->work_name);
        log_info("Imported image '%s' (%s, %llu bytes, verified: %s%s%s).", i->name, image_format_to_string(i->format),
                 (unsigned long long) i->size, image_record_string(i, "verified") ?: "no",
                 image_record_string(i, "key_name") ? " by key " : "", image_record_string(i, "key_name") ?: "");
        (void) sd_bus_emit_properties_changed(m->bus, i->path, PODCTL_IMAGE_INTERFACE, "Importing", "Format", "Size", "CreatedAt", "Verified", "KeyId",
                                              "KeyName", "TrustedComment", "Digest", NULL);
        (void) sd_bus_emit_signal(m->bus, PODCTL_BUS_PATH, PODCTL_MANAGER_INTERFACE, "ImageNew", "so", i->name, i->path);
        (void) sd_bus_reply_method_return(call, "o", i->path);

        i->tmp_name = mfree(i->tmp_name);
        i->work_name = mfree(i->work_name);
        i->import_progress = sd_event_source_unref(i->import_progress);
        i->import_progress_fd = safe_close(i->import_progress_fd);
        manager_check_idle(m);
        return;

fail:
        (void) rm_rf_at(m->images_fd, i->tmp_name);
        (void) rm_rf_at(m->images_fd, i->work_name);
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
                result = (ImportResult) { .error = EPROTO };
                if (si->si_code == CLD_EXITED)
                        snprintf(result.message, sizeof result.message, "importer exited with status %d", si->si_status);
                else
                        snprintf(result.message, sizeof result.message, "importer killed by signal %s",
                                 sigabbrev_np(si->si_status) ?: "?");
        }
        result.message[sizeof result.message - 1] = '\0';
        result.error_name[sizeof result.error_name - 1] = '\0';

        image_import_finish(i, &result);
        return 0;
}

_noreturn_ static void import_child(int input_fd, int work_fd, int tree_fd, const ImportOptions *o, int result_fd) {
        _cleanup_(import_error_done) ImportError e = {};
        _cleanup_json_ json_t *record = NULL;
        ImportResult result = {};
        int r;

        /* Dies with the daemon: a half import is swept at the next start. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        r = import_run(input_fd, work_fd, tree_fd, o, &record, &e);
        if (r >= 0) {
                r = json_write_atomic_at(work_fd, RECORD_FILE, record);
                if (r < 0) {
                        e.name = BUS_ERROR_STORAGE_FAILED;
                        e.message = strdup("Failed to write the image's record.");
                }
        }
        if (r < 0) {
                result.error = -r;
                snprintf(result.error_name, sizeof result.error_name, "%s", e.name ?: BUS_ERROR_IMPORT_FAILED);
                snprintf(result.message, sizeof result.message, "%s", e.message ?: strerror(-r));
        }

        if (write(result_fd, &result, sizeof result) != (ssize_t) sizeof result)
                _exit(EXIT_FAILURE);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int on_import_progress(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Image *i = userdata;
        uint64_t done[64];
        ssize_t n;

        n = read(fd, done, sizeof done);
        if (n < (ssize_t) sizeof done[0]) {
                /* EOF: the child is gone; on_import_exited() follows. */
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                        i->import_progress = sd_event_source_disable_unref(i->import_progress);
                return 0;
        }
        i->import_bytes_done = done[n / sizeof done[0] - 1];
        (void) sd_bus_emit_properties_changed(i->manager->bus, i->path, PODCTL_IMAGE_INTERFACE, "ImportBytesDone", NULL);
        return 0;
}

int image_import_start(Manager *m, const char *name, const ImportOptions *o, int fd, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_free_ char *tmp = NULL, *work = NULL;
        _cleanup_close_ int tree_fd = -EBADF, work_fd = -EBADF, pipe_r = -EBADF, pipe_w = -EBADF,
                            progress_r = -EBADF, progress_w = -EBADF;
        ImportOptions child_options = *o;
        struct stat st;
        Image *i;
        pid_t pid;
        int p[2], r;

        r = hidden_name(PODCTL_TMP_PREFIX, name, &tmp);
        if (r >= 0)
                r = hidden_name(PODCTL_TMP_PREFIX, name, &work);
        if (r < 0)
                return r;

        r = store_make_tree(m->storage, m->images_fd, tmp);
        if (r < 0)
                return log_error_errno(r, "Failed to create directory for image '%s': %m", name);
        /* The staged source is root's alone, from copy to extraction. */
        if (mkdirat(m->images_fd, work, 0700) < 0) {
                r = -errno;
                goto fail;
        }

        tree_fd = openat(m->images_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        work_fd = openat(m->images_fd, work, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tree_fd < 0 || work_fd < 0 || pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        pipe_r = p[0];
        pipe_w = p[1];
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }
        progress_r = p[0];
        progress_w = p[1];
        child_options.progress_fd = progress_w;

        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                import_child(fd, work_fd, tree_fd, &child_options, pipe_w);

        r = image_new(m, name, &i);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                goto fail;
        }
        i->importing = true;
        i->import_pid = pid;
        i->import_result_fd = TAKE_FD(pipe_r);
        i->import_progress_fd = TAKE_FD(progress_r);
        i->import_call = sd_bus_message_ref(call);
        i->tmp_name = TAKE_PTR(tmp);
        i->work_name = TAKE_PTR(work);
        if (fstat(fd, &st) >= 0 && S_ISREG(st.st_mode))
                i->import_bytes_total = (uint64_t) st.st_size;

        r = sd_event_add_child(m->event, &i->import_child, pid, WEXITED, on_import_exited, i);
        if (r >= 0)
                r = sd_event_add_io(m->event, &i->import_progress, i->import_progress_fd, EPOLLIN, on_import_progress, i);
        if (r < 0) {
                (void) rm_rf_at(m->images_fd, i->tmp_name);
                (void) rm_rf_at(m->images_fd, i->work_name);
                image_free(i);
                return r;
        }
        return 0;

fail:
        (void) rm_rf_at(m->images_fd, tmp);
        if (work)
                (void) rm_rf_at(m->images_fd, work);
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
