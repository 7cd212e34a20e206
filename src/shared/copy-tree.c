/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "archive-util.h"
#include "copy-tree.h"
#include "log.h"

int copy_tree(const char *source, const CopyTreeOptions *o, uint64_t *ret_bytes) {
        _cleanup_(archive_read_freep) struct archive *in = NULL;
        _cleanup_(archive_write_freep) struct archive *out = NULL;
        size_t prefix = strlen(source);
        struct archive_entry *e;
        uint64_t bytes = 0;
        int r;

        in = archive_read_disk_new();
        out = archive_write_disk_new();
        if (!in || !out)
                return -ENOMEM;
        archive_read_disk_set_symlink_physical(in);
        if (archive_read_disk_set_behavior(in, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_FFLAGS) != ARCHIVE_OK ||
            archive_write_disk_set_options(out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT) != ARCHIVE_OK)
                return -EIO;
        if (archive_read_disk_open(in, source) != ARCHIVE_OK)
                return log_error_errno(archive_errno(in) ?: EIO, "Failed to read %s: %s", source, archive_error_string(in));

        while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
                const char *path = archive_entry_pathname(e);
                const void *buf;
                size_t size;
                int64_t offset;

                (void) archive_read_disk_descend(in);
                /* "SOURCE/x" is "./x" here; SOURCE itself is ".". */
                if (strncmp(path, source, prefix) != 0)
                        return log_error_errno(EINVAL, "Unexpected path %s below %s.", path, source);
                if (path[prefix] == '\0') {
                        archive_entry_set_pathname(e, ".");
                } else {
                        _cleanup_free_ char *rel = NULL;

                        if (asprintf(&rel, ".%s", path + prefix) < 0)
                                return -ENOMEM;
                        archive_entry_set_pathname(e, rel);
                }

                if (o && o->refuse_devices && IN_SET(archive_entry_filetype(e), AE_IFCHR, AE_IFBLK))
                        return log_error_errno(EPERM, "Refusing device node %s.", path);
                if (o && o->drop_setuid)
                        archive_entry_set_perm(e, archive_entry_perm(e) & ~(mode_t) (S_ISUID | S_ISGID));
                if (archive_entry_filetype(e) == AE_IFREG)
                        bytes += (uint64_t) archive_entry_size(e);

                if (archive_write_header(out, e) < ARCHIVE_WARN)
                        return log_error_errno(archive_errno(out) ?: EIO, "Failed to copy %s: %s", path, archive_error_string(out));
                if (archive_entry_size(e) > 0)
                        while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
                                if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
                                        return log_error_errno(archive_errno(out) ?: EIO, "Failed to copy %s: %s", path,
                                                               archive_error_string(out));
                if (archive_write_finish_entry(out) < ARCHIVE_WARN)
                        return log_error_errno(archive_errno(out) ?: EIO, "Failed to copy %s: %s", path, archive_error_string(out));
        }
        if (r != ARCHIVE_EOF)
                return log_error_errno(archive_errno(in) ?: EIO, "Failed to read %s: %s", source, archive_error_string(in));
        if (archive_write_close(out) != ARCHIVE_OK)
                return -EIO;
        if (ret_bytes)
                *ret_bytes = bytes;
        return 0;
}
