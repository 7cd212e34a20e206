/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "import-tar.h"
#include "macro.h"

static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

static int fail(char **ret_message, int error, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_message, int error, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_message, fmt, ap) < 0)
                *ret_message = NULL;
        va_end(ap);
        return error;
}

static int archive_errno_or(struct archive *a, int fallback) {
        int e = archive_errno(a);
        return e > 0 ? -e : fallback;
}

int import_tar(int input_fd, int tree_fd, const ImportLimits *limits, uint64_t *ret_size, char **ret_message) {
        _cleanup_(archive_read_freep) struct archive *in = NULL;
        _cleanup_(archive_write_freep) struct archive *out = NULL;
        struct archive_entry *entry;
        uint64_t n_entries = 0, size = 0;
        int r;

        *ret_message = NULL;

        /* libarchive's disk writer resolves paths from the working directory. */
        if (fchdir(tree_fd) < 0)
                return fail(ret_message, -errno, "Failed to enter the image directory: %m");

        in = archive_read_new();
        out = archive_write_disk_new();
        if (!in || !out)
                return fail(ret_message, -ENOMEM, "Out of memory.");

        archive_read_support_filter_all(in);
        archive_read_support_format_tar(in);
        archive_read_support_format_gnutar(in);

        /* No "..", no absolute paths, no writing through symlinks the archive made. The
         * daemon is root: owners, modes and times are the archive's, as a pod expects. */
        archive_write_disk_set_options(out,
                                       ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                       ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK |
                                       ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);

        if (archive_read_open_fd(in, input_fd, 64 * 1024) != ARCHIVE_OK)
                return fail(ret_message, archive_errno_or(in, -EBADMSG), "Failed to read archive: %s", archive_error_string(in));

        for (;;) {
                const char *path;
                mode_t type;

                r = archive_read_next_header(in, &entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return fail(ret_message, archive_errno_or(in, -EBADMSG), "Failed to read archive: %s",
                                    archive_error_string(in) ?: "not a tar archive");

                path = archive_entry_pathname(entry);
                if (!path || !*path)
                        return fail(ret_message, -EBADMSG, "Archive entry without a name.");

                if (++n_entries > limits->max_entries)
                        return fail(ret_message, -EFBIG, "Archive has more than %llu entries.",
                                    (unsigned long long) limits->max_entries);

                type = archive_entry_filetype(entry);
                if (type == AE_IFCHR || type == AE_IFBLK)
                        return fail(ret_message, -EPERM, "Archive entry '%s' is a device node, refused.", path);

                if (type == AE_IFREG) {
                        int64_t s = archive_entry_size(entry);
                        if (s > 0)
                                size += (uint64_t) s;
                        if (size > limits->max_bytes)
                                return fail(ret_message, -EFBIG, "Archive is larger than %llu bytes.",
                                            (unsigned long long) limits->max_bytes);
                }

                r = archive_write_header(out, entry);
                if (r < ARCHIVE_WARN)
                        return fail(ret_message, archive_errno_or(out, -EIO), "Failed to extract '%s': %s", path,
                                    archive_error_string(out));

                if (type == AE_IFREG && archive_entry_size(entry) > 0) {
                        const void *buf;
                        size_t len;
                        int64_t offset;

                        while ((r = archive_read_data_block(in, &buf, &len, &offset)) == ARCHIVE_OK)
                                if (archive_write_data_block(out, buf, len, offset) < ARCHIVE_OK)
                                        return fail(ret_message, archive_errno_or(out, -EIO), "Failed to write '%s': %s",
                                                    path, archive_error_string(out));
                        if (r != ARCHIVE_EOF)
                                return fail(ret_message, archive_errno_or(in, -EBADMSG), "Failed to read '%s': %s", path,
                                            archive_error_string(in));
                }

                if (archive_write_finish_entry(out) < ARCHIVE_WARN)
                        return fail(ret_message, archive_errno_or(out, -EIO), "Failed to extract '%s': %s", path,
                                    archive_error_string(out));
        }

        if (n_entries == 0)
                return fail(ret_message, -EBADMSG, "Archive is empty.");

        /* Sets the directory times deferred until their contents were written. */
        if (archive_write_close(out) != ARCHIVE_OK)
                return fail(ret_message, archive_errno_or(out, -EIO), "Failed to finish extraction: %s", archive_error_string(out));

        *ret_size = size;
        return 0;
}
