/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "tar-stream.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry *, archive_entry_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry_linkresolver *, archive_entry_linkresolver_free);

static int archive_fail(struct archive *a, const char *what, const char *path, char **ret_message) {
        int e = archive_errno(a);

        if (e <= 0)
                e = EIO;
        if (ret_message && asprintf(ret_message, "%s%s%s%s: %s", what,
                                    path ? " '" : "", path ?: "", path ? "'" : "",
                                    archive_error_string(a) ?: strerror(e)) < 0)
                *ret_message = NULL;
        return -e;
}

static int write_entry(struct archive *disk, struct archive *out, struct archive_entry *entry,
                       bool with_data, char **ret_message) {
        const char *path = archive_entry_pathname(entry);
        char buf[64 * 1024];
        ssize_t n;
        int r;

        r = archive_write_header(out, entry);
        if (r == ARCHIVE_FAILED || r == ARCHIVE_WARN) {
                /* Not representable in tar (a socket, say): nothing of it was written. */
                fprintf(stderr, "Skipping '%s': a tar archive cannot hold it.\n", path);
                if (r == ARCHIVE_FAILED)
                        return 0;
        } else if (r != ARCHIVE_OK)
                return archive_fail(out, "Failed to write header of", path, ret_message);

        if (!with_data || archive_entry_filetype(entry) != AE_IFREG || archive_entry_size(entry) <= 0)
                return 0;

        while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
                if (archive_write_data(out, buf, (size_t) n) < 0)
                        return archive_fail(out, "Failed to write", path, ret_message);
        if (n < 0)
                return archive_fail(disk, "Failed to read", path, ret_message);

        return 0;
}

int tar_stream_directory(int dir_fd, int out_fd, char **ret_message) {
        _cleanup_(archive_read_freep) struct archive *disk = NULL;
        _cleanup_(archive_write_freep) struct archive *out = NULL;
        _cleanup_(archive_entry_linkresolver_freep) struct archive_entry_linkresolver *resolver = NULL;
        int r;

        if (ret_message)
                *ret_message = NULL;

        /* Paths relative to the opened directory, so the tree we archive is the one
         * the caller opened, whatever its name points to by now. */
        if (fchdir(dir_fd) < 0) {
                r = negative_errno();
                if (ret_message)
                        (void) asprintf(ret_message, "Failed to enter directory: %s", strerror(-r));
                return r;
        }

        disk = archive_read_disk_new();
        out = archive_write_new();
        resolver = archive_entry_linkresolver_new();
        if (!disk || !out || !resolver)
                return -ENOMEM;

        /* No user name look-ups: owners are numeric in the image. */
        if (archive_read_disk_set_symlink_physical(disk) != ARCHIVE_OK ||
            archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
                                                 ARCHIVE_READDISK_NO_FFLAGS) != ARCHIVE_OK)
                return archive_fail(disk, "Failed to set up reading", NULL, ret_message);

        if (archive_write_set_format_pax_restricted(out) != ARCHIVE_OK)
                return archive_fail(out, "Failed to set up writing", NULL, ret_message);
        /* One record per extended attribute, in the form GNU tar reads too. */
        (void) archive_write_set_format_option(out, "pax", "xattrheader", "SCHILY");
        if (
            archive_write_add_filter_none(out) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(out, 1) != ARCHIVE_OK ||
            archive_write_open_fd(out, out_fd) != ARCHIVE_OK)
                return archive_fail(out, "Failed to set up writing", NULL, ret_message);

        archive_entry_linkresolver_set_strategy(resolver, archive_format(out));

        if (archive_read_disk_open(disk, ".") != ARCHIVE_OK)
                return archive_fail(disk, "Failed to open", ".", ret_message);

        for (;;) {
                _cleanup_(archive_entry_freep) struct archive_entry *entry = NULL;
                struct archive_entry *sparse = NULL;

                entry = archive_entry_new();
                if (!entry)
                        return -ENOMEM;

                r = archive_read_next_header2(disk, entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r == ARCHIVE_WARN)
                        fprintf(stderr, "Warning: '%s': %s\n", archive_entry_pathname(entry) ?: "?",
                                archive_error_string(disk) ?: "unknown problem");
                else if (r != ARCHIVE_OK)
                        return archive_fail(disk, "Failed to read", archive_entry_pathname(entry), ret_message);

                if (archive_read_disk_can_descend(disk) &&
                    archive_read_disk_descend(disk) != ARCHIVE_OK)
                        return archive_fail(disk, "Failed to descend into", archive_entry_pathname(entry), ret_message);

                /* Later links to the same inode become hard-link entries without data. */
                archive_entry_linkify(resolver, &entry, &sparse);
                if (entry) {
                        r = write_entry(disk, out, entry, true, ret_message);
                        if (r < 0)
                                return r;
                }
                if (sparse) {
                        /* Deferred by a link strategy: its data is no longer at hand. */
                        r = write_entry(disk, out, sparse, false, ret_message);
                        archive_entry_free(sparse);
                        if (r < 0)
                                return r;
                }
        }

        for (;;) {
                struct archive_entry *entry = NULL, *sparse = NULL;

                archive_entry_linkify(resolver, &entry, &sparse);
                if (!entry)
                        break;
                r = write_entry(disk, out, entry, false, ret_message);
                archive_entry_free(entry);
                if (r < 0)
                        return r;
        }

        if (archive_write_close(out) != ARCHIVE_OK)
                return archive_fail(out, "Failed to finish archive", NULL, ret_message);

        return 0;
}

int tar_stream_fork(int dir_fd, TarStream *ret_stream, int *ret_read_fd) {
        _cleanup_close_ int data_read = -EBADF, data_write = -EBADF, err_read = -EBADF, err_write = -EBADF;
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        data_read = p[0];
        data_write = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        err_read = p[0];
        err_write = p[1];

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                _cleanup_free_ char *message = NULL;
                int r, e;

                data_read = safe_close(data_read);
                err_read = safe_close(err_read);

                /* A reader that went away is reported as EPIPE, not by dying silently. */
                (void) signal(SIGPIPE, SIG_IGN);
                (void) signal(SIGINT, SIG_DFL);
                (void) signal(SIGTERM, SIG_DFL);

                r = tar_stream_directory(dir_fd, data_write, &message);
                if (r >= 0)
                        _exit(EXIT_SUCCESS);

                /* (errno, message) for the parent, which tells the user. */
                e = -r;
                if (write(err_write, &e, sizeof(e)) == (ssize_t) sizeof(e) && message)
                        (void) !write(err_write, message, strlen(message));
                _exit(EXIT_FAILURE);
        }

        *ret_stream = (TarStream) { .pid = pid, .error_fd = TAKE_FD(err_read) };
        *ret_read_fd = TAKE_FD(data_read);
        return 0;
}

int tar_stream_wait(TarStream *s, char **ret_message) {
        char buf[4096];
        int e = 0, status;
        ssize_t n;

        *ret_message = NULL;

        if (s->pid <= 0)
                return 0;

        while (waitpid(s->pid, &status, 0) < 0)
                if (errno != EINTR) {
                        s->error_fd = safe_close(s->error_fd);
                        return negative_errno();
                }
        s->pid = 0;

        if (s->error_fd >= 0) {
                n = read(s->error_fd, &e, sizeof(e));
                if (n == (ssize_t) sizeof(e)) {
                        n = read(s->error_fd, buf, sizeof(buf) - 1);
                        if (n > 0) {
                                buf[n] = 0;
                                *ret_message = strdup(buf);
                        }
                } else
                        e = 0;
                s->error_fd = safe_close(s->error_fd);
        }

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return -(e > 0 ? e : EPROTO);
}
