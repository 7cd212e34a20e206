/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "extract.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"

/* Every lookup of an archive path: the tree is the root, and no mount point or
 * /proc-style link leads out of it. */
#define RESOLVE_IMAGE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
/* One component below a directory we hold, neither following nor leaving it. */
#define RESOLVE_CHILD (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV)

#define PROGRESS_STEP (64 * 1024)
/* Removing a tree keeps a descriptor per level open: bound them well below RLIMIT_NOFILE. */
#define REMOVE_DEPTH_MAX 256
/* Names in messages: they come from the archive. */
#define MESSAGE_NAME_MAX 256

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

typedef struct DirFixup {
        char *path; /* NULL once a later entry for the same directory superseded it */
        dev_t dev;
        ino_t ino;
        mode_t mode;
        struct timespec times[2];
} DirFixup;

/* Index of DirFixup by inode, and the set of directory entries the current layer made. */
typedef struct InodeKey {
        dev_t dev;
        ino_t ino;
        size_t index;
        char name[]; /* for created entries: the name in directory (dev, ino) */
} InodeKey;

typedef struct Extractor {
        const ExtractOptions *opts;
        struct archive *archive;
        int root_fd;
        dev_t root_dev;
        DirFixup *dirs;
        size_t n_dirs, n_dirs_allocated;
        void *dir_index;
        void *created; /* only when applying whiteouts */
        void *pruned;  /* directories (by inode) that hold only what this layer made */
        const char *entry;
        char **message;
        uint64_t last_progress;
} Extractor;

static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

static void extractor_done(Extractor *x) {
        for (size_t i = 0; i < x->n_dirs; i++)
                free(x->dirs[i].path);
        free(x->dirs);
        tdestroy(x->dir_index, free);
        tdestroy(x->created, free);
        tdestroy(x->pruned, free);
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static char *escape_name(const char *s) {
        size_t n = strnlen(s, MESSAGE_NAME_MAX);
        char *buf = malloc(n * 4 + 4), *p = buf;

        if (!buf)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
                        p += sprintf(p, "\\x%02x", c);
                else
                        *p++ = (char) c;
        }
        strcpy(p, s[n] ? "..." : "");
        return buf;
}

/* The first failure is the cause: later ones are consequences and keep it. */
static int fail(Extractor *x, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(Extractor *x, int r, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL, *name = NULL;
        va_list ap;
        int k;

        if (!x->message || *x->message)
                return r;

        va_start(ap, fmt);
        k = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (k < 0)
                return r;

        if (!x->entry) {
                *x->message = TAKE_PTR(text);
                return r;
        }
        name = escape_name(x->entry);
        if (!name || asprintf(x->message, "Entry '%s': %s", name, text) < 0)
                *x->message = NULL;
        return r;
}

static int archive_error(Extractor *x, const char *what) {
        int e = archive_errno(x->archive);
        int r;

        /* Format, truncation and decompression errors all mean the input is bad
         * (libarchive reports them as EILSEQ, EINVAL or -1); only failing to read or
         * to allocate is something else. */
        r = e == EIO || e == ENOMEM ? -e : -EBADMSG;
        return fail(x, r, "%s: %s", what, archive_error_string(x->archive) ?: strerror(-r));
}

static void report_progress(Extractor *x, bool final) {
        la_int64_t b;

        if (!x->opts->progress)
                return;
        b = archive_filter_bytes(x->archive, -1);
        if (b <= 0 || (uint64_t) b <= x->last_progress)
                return;
        if (!final && (uint64_t) b - x->last_progress < PROGRESS_STEP)
                return;
        x->last_progress = (uint64_t) b;
        x->opts->progress((uint64_t) b, x->opts->userdata);
}

static int open_in_root(int root_fd, const char *path, uint64_t flags) {
        struct open_how how = {
                .flags = flags | O_CLOEXEC,
                .resolve = RESOLVE_IMAGE,
        };

        for (unsigned attempt = 0;; attempt++) {
                int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof how);
                if (fd >= 0)
                        return fd;
                /* The kernel asks for a retry when a rename races with "..". */
                if (errno != EAGAIN || attempt >= 16)
                        return -errno;
        }
}

static int open_child(int dir_fd, const char *name, uint64_t flags) {
        struct open_how how = {
                .flags = flags | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_CHILD,
        };

        return RET_NERRNO((int) syscall(SYS_openat2, dir_fd, name, &how, sizeof how));
}

static int inode_compare(const void *a, const void *b) {
        const InodeKey *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

static int created_compare(const void *a, const void *b) {
        const InodeKey *x = a, *y = b;
        int r = inode_compare(a, b);

        return r != 0 ? r : strcmp(x->name, y->name);
}

/* The current layer made (or replaced) dir_fd/name: its whiteouts leave it alone. */
static int record_created(Extractor *x, int dir_fd, const char *name) {
        InodeKey *k, **found;
        struct stat st;
        size_t n = strlen(name);

        if (!x->opts->whiteouts)
                return 0;
        if (fstat(dir_fd, &st) < 0)
                return -errno;

        k = malloc(sizeof *k + n + 1);
        if (!k)
                return -ENOMEM;
        *k = (InodeKey) { .dev = st.st_dev, .ino = st.st_ino };
        memcpy(k->name, name, n + 1);

        found = tsearch(k, &x->created, created_compare);
        if (!found) {
                free(k);
                return -ENOMEM;
        }
        if (*found != k)
                free(k);
        return 0;
}

static bool is_created(Extractor *x, const struct stat *dir_st, const char *name) {
        size_t n = strlen(name);
        _cleanup_free_ InodeKey *k = malloc(sizeof *k + n + 1);

        if (!k)
                return true; /* keeping is the safe mistake */
        *k = (InodeKey) { .dev = dir_st->st_dev, .ino = dir_st->st_ino };
        memcpy(k->name, name, n + 1);
        return tfind(k, &x->created, created_compare) != NULL;
}

/* Once whiteouts pruned a directory, all in it is this layer's, and so is all the layer
 * adds later: pruning it again changes nothing. Remembering that keeps a layer that
 * repeats whiteouts linear. */
static bool is_pruned(Extractor *x, const struct stat *st) {
        InodeKey k = { .dev = st->st_dev, .ino = st->st_ino };

        return tfind(&k, &x->pruned, inode_compare) != NULL;
}

static int mark_pruned(Extractor *x, const struct stat *st) {
        InodeKey *k = malloc(sizeof *k + 1), **found;

        if (!k)
                return -ENOMEM;
        *k = (InodeKey) { .dev = st->st_dev, .ino = st->st_ino };
        k->name[0] = '\0';
        found = tsearch(k, &x->pruned, inode_compare);
        if (!found) {
                free(k);
                return -ENOMEM;
        }
        if (*found != k)
                free(k);
        return 0;
}

static int remove_children(Extractor *x, int fd, const struct stat *st, bool keep_created, unsigned depth);

/* Removes dir_fd/name, a whole tree if a directory, without following symlinks or
 * leaving the file system. With keep_created, what the current layer made stays, with
 * the directories that lead to it. Returns 1 if something stayed, 0 if all is gone. */
static int remove_entry(Extractor *x, int dir_fd, const struct stat *dir_st, const char *name, bool keep_created,
                        unsigned depth) {
        bool created;
        struct stat st;
        int fd, r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;

        created = keep_created && is_created(x, dir_st, name);
        if (!S_ISDIR(st.st_mode)) {
                if (created)
                        return 1;
                return RET_NERRNO(unlinkat(dir_fd, name, 0));
        }

        if (st.st_dev != x->root_dev)
                return -EXDEV;
        /* Pruned before: what it holds is this layer's, and stays. */
        if (keep_created && is_pruned(x, &st)) {
                if (created)
                        return 1;
                if (unlinkat(dir_fd, name, AT_REMOVEDIR) >= 0)
                        return 0;
                return errno == ENOTEMPTY || errno == EEXIST ? 1 : -errno;
        }
        if (depth >= REMOVE_DEPTH_MAX)
                return -ELOOP;

        fd = open_child(dir_fd, name, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        r = remove_children(x, fd, &st, keep_created, depth + 1);
        if (r != 0 || created)
                return r < 0 ? r : 1;

        return RET_NERRNO(unlinkat(dir_fd, name, AT_REMOVEDIR));
}

/* Takes fd: one descriptor per level of the tree. */
static int remove_children(Extractor *x, int fd, const struct stat *st, bool keep_created, unsigned depth) {
        DIR *d;
        int r = 0, kept = 0;

        if (keep_created && is_pruned(x, st)) {
                safe_close(fd);
                return 1;
        }

        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close(fd);
                return r;
        }

        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = remove_entry(x, dirfd(d), st, de->d_name, keep_created, depth);
                if (r < 0)
                        break;
                kept |= r;
        }

        closedir(d);
        if (r < 0)
                return r;
        if (keep_created) {
                r = mark_pruned(x, st);
                if (r < 0)
                        return r;
        }
        return kept;
}

/* Frees name in dir_fd for a new entry. A directory there stays if keep_dir, and then
 * 1 is returned. */
static int make_room(Extractor *x, int dir_fd, const char *name, bool keep_dir) {
        struct stat st, dir_st;
        int r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return fail(x, -errno, "failed to look at the existing entry: %s", strerror(errno));
        }

        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dir_fd, name, 0) < 0)
                        return fail(x, -errno, "failed to replace the existing entry: %s", strerror(errno));
                return 0;
        }
        if (keep_dir)
                return 1;

        if (fstat(dir_fd, &dir_st) < 0)
                return fail(x, -errno, "failed to look at the parent directory: %s", strerror(errno));
        r = remove_entry(x, dir_fd, &dir_st, name, false, 0);
        if (r < 0)
                return fail(x, r, "failed to remove the directory it replaces: %s", strerror(-r));
        return 0;
}

/* Opens the directory an entry goes in, creating what is missing of it (mode 0755,
 * owned by us), as tar does. Symlinks on the way resolve inside the tree. */
static int open_parent(Extractor *x, const char *parent, int *ret_fd) {
        _cleanup_free_ char *prefix = NULL;
        _cleanup_close_ int cur = -EBADF;
        size_t i = 0, len;
        int fd;

        fd = open_in_root(x->root_fd, parent, O_PATH | O_DIRECTORY);
        if (fd != -ENOENT) {
                *ret_fd = fd;
                return fd < 0 ? fd : 0;
        }

        /* Something is missing: walk component by component, creating it. */
        prefix = strdup(parent);
        if (!prefix)
                return -ENOMEM;
        len = strlen(prefix);

        cur = open_in_root(x->root_fd, "/", O_PATH | O_DIRECTORY);
        if (cur < 0)
                return cur;

        while (i < len) {
                const char *component;
                size_t start;
                char saved;

                while (i < len && prefix[i] == '/')
                        i++;
                if (i >= len)
                        break;
                start = i;
                while (i < len && prefix[i] != '/')
                        i++;
                component = prefix + start;
                if (i - start == 1 && component[0] == '.')
                        continue;

                saved = prefix[i];
                prefix[i] = '\0';
                fd = streq(component, "..") ? -ELOOP : open_child(cur, component, O_PATH | O_DIRECTORY);
                if (fd == -ELOOP || fd == -ENOTDIR)
                        /* ".." or a symlink: resolve the whole prefix, as the pod would. */
                        fd = open_in_root(x->root_fd, prefix, O_PATH | O_DIRECTORY);
                else if (fd == -ENOENT) {
                        fd = RET_NERRNO(mkdirat(cur, component, 0755));
                        if (fd >= 0)
                                fd = record_created(x, cur, component);
                        if (fd >= 0)
                                fd = open_child(cur, component, O_PATH | O_DIRECTORY);
                }
                prefix[i] = saved;
                if (fd < 0)
                        return fd;

                safe_close(cur);
                cur = fd;
        }

        *ret_fd = TAKE_FD(cur);
        return 0;
}

static int entry_owner(Extractor *x, struct archive_entry *e, uid_t *ret_uid, gid_t *ret_gid) {
        la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

        /* (uid_t) -1 means "unchanged" to chown(): not a valid owner either. */
        if (uid < 0 || uid >= (la_int64_t) UINT32_MAX || gid < 0 || gid >= (la_int64_t) UINT32_MAX)
                return fail(x, -EBADMSG, "owner %lld:%lld out of range.", (long long) uid, (long long) gid);
        *ret_uid = (uid_t) uid;
        *ret_gid = (gid_t) gid;
        return 0;
}

static mode_t entry_mode(Extractor *x, struct archive_entry *e, bool dir) {
        mode_t mode = archive_entry_perm(e) & 07777;

        /* setgid on a directory only passes its group on, and setuid means nothing there. */
        if (!x->opts->trusted && !dir)
                mode &= ~(mode_t) (S_ISUID | S_ISGID);
        return mode;
}

static void entry_times(struct archive_entry *e, struct timespec ret[2]) {
        long mtime_nsec = archive_entry_mtime_nsec(e), atime_nsec = archive_entry_atime_nsec(e);

        if (mtime_nsec < 0 || mtime_nsec > 999999999)
                mtime_nsec = 0;
        if (atime_nsec < 0 || atime_nsec > 999999999)
                atime_nsec = 0;

        ret[1] = archive_entry_mtime_is_set(e) ? (struct timespec) { archive_entry_mtime(e), mtime_nsec }
                                               : (struct timespec) { 0, UTIME_OMIT };
        ret[0] = archive_entry_atime_is_set(e) ? (struct timespec) { archive_entry_atime(e), atime_nsec } : ret[1];
}

static bool xattr_allowed(Extractor *x, const char *name, bool dir) {
        if (startswith(name, "user."))
                return true;
        if (streq(name, "system.posix_acl_access"))
                return true;
        if (streq(name, "system.posix_acl_default"))
                return dir;
        if (streq(name, "security.capability"))
                return x->opts->trusted;
        /* trusted.* (overlayfs' whiteouts and redirects among them), security.selinux and
         * the like describe the host that made the archive, not the image. */
        return false;
}

/* Only regular files and directories: user.* is refused on anything else, and the
 * fd of a device or FIFO is not ours to open. */
static int set_xattrs(Extractor *x, struct archive_entry *e, int fd, bool dir) {
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!name || !xattr_allowed(x, name, dir))
                        continue;
                if (fsetxattr(fd, name, value, size, 0) < 0) {
                        _cleanup_free_ char *escaped = NULL;
                        int r = -errno;

                        /* A file system without this kind of attribute: the image still works. */
                        if (r == -EOPNOTSUPP)
                                continue;
                        escaped = escape_name(name);
                        return fail(x, r, "failed to set extended attribute '%s': %s", escaped ?: "?", strerror(-r));
                }
        }
        return 0;
}

static int write_data(Extractor *x, int fd, uint64_t size) {
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t offset;
                int r;

                r = archive_read_data_block(x->archive, &buf, &len, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return archive_error(x, "failed to read data");

                /* Sparse maps come from the archive: no data past the size we accounted. */
                if (offset < 0 || (uint64_t) offset > size || len > size - (uint64_t) offset)
                        return fail(x, -EBADMSG, "data beyond the entry's size.");

                while (len > 0) {
                        ssize_t n = pwrite(fd, buf, len, offset);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return fail(x, -errno, "failed to write data: %s", strerror(errno));
                        }
                        buf = (const char *) buf + n;
                        offset += n;
                        len -= (size_t) n;
                }
                report_progress(x, false);
        }

        /* The hole a sparse file ends with. */
        if (ftruncate(fd, (off_t) size) < 0)
                return fail(x, -errno, "failed to write data: %s", strerror(errno));
        return 0;
}

static int link_fd(int fd, int dir_fd, const char *name) {
        char proc[STRLEN("/proc/self/fd/") + 12];

        if (linkat(fd, "", dir_fd, name, AT_EMPTY_PATH) >= 0)
                return 0;
        /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the magic link does not. */
        if (errno != ENOENT && errno != EPERM)
                return -errno;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        return RET_NERRNO(linkat(AT_FDCWD, proc, dir_fd, name, AT_SYMLINK_FOLLOW));
}

static int extract_regular(Extractor *x, struct archive_entry *e, int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *tmp = NULL;
        struct timespec times[2];
        la_int64_t size = archive_entry_size(e);
        uid_t uid;
        gid_t gid;
        int r;

        r = entry_owner(x, e, &uid, &gid);
        if (r < 0)
                return r;

        /* Unnamed until complete: a failure leaves nothing half-written under the name. */
        fd = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
                r = hidden_name(PODCTL_TMP_PREFIX, "extract", &tmp);
                if (r < 0)
                        return fail(x, r, "failed to create file: %s", strerror(-r));
                fd = openat(dir_fd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return fail(x, -errno, "failed to create file: %s", strerror(errno));

        r = write_data(x, fd, size > 0 ? (uint64_t) size : 0);
        if (r < 0)
                goto error;

        /* In this order: chown() drops setuid bits and file capabilities. */
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, entry_mode(x, e, false)) < 0) {
                r = fail(x, -errno, "failed to set owner or mode: %s", strerror(errno));
                goto error;
        }
        r = set_xattrs(x, e, fd, false);
        if (r < 0)
                goto error;
        entry_times(e, times);
        if (futimens(fd, times) < 0) {
                r = fail(x, -errno, "failed to set times: %s", strerror(errno));
                goto error;
        }

        r = make_room(x, dir_fd, name, false);
        if (r < 0)
                goto error;
        r = tmp ? RET_NERRNO(renameat(dir_fd, tmp, dir_fd, name)) : link_fd(fd, dir_fd, name);
        if (r < 0) {
                r = fail(x, r, "failed to create file: %s", strerror(-r));
                goto error;
        }
        return record_created(x, dir_fd, name);

error:
        if (tmp)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

static int defer_directory(Extractor *x, int fd, const char *path, mode_t mode, const struct timespec times[2]) {
        InodeKey *k, **found;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;

        if (x->n_dirs >= x->n_dirs_allocated) {
                size_t n = x->n_dirs_allocated ? x->n_dirs_allocated * 2 : 64;
                DirFixup *d = reallocarray(x->dirs, n, sizeof *d);
                if (!d)
                        return -ENOMEM;
                x->dirs = d;
                x->n_dirs_allocated = n;
        }

        k = malloc(sizeof *k + 1);
        if (!k)
                return -ENOMEM;
        *k = (InodeKey) { .dev = st.st_dev, .ino = st.st_ino, .index = x->n_dirs };
        k->name[0] = '\0';
        found = tsearch(k, &x->dir_index, inode_compare);
        if (!found) {
                free(k);
                return -ENOMEM;
        }
        if (*found != k) {
                /* The same directory again: the later entry's metadata wins. */
                DirFixup *old = &x->dirs[(*found)->index];
                free(old->path);
                old->path = NULL;
                (*found)->index = x->n_dirs;
                free(k);
        }

        x->dirs[x->n_dirs] = (DirFixup) {
                .path = strdup(path),
                .dev = st.st_dev,
                .ino = st.st_ino,
                .mode = mode,
                .times = { times[0], times[1] },
        };
        if (!x->dirs[x->n_dirs].path)
                return -ENOMEM;
        x->n_dirs++;
        return 0;
}

/* Owner and attributes now; mode and times once the children are in, since adding
 * them changes the times and a read-only mode would stop them. */
static int setup_directory(Extractor *x, struct archive_entry *e, int fd, const char *path) {
        struct timespec times[2];
        uid_t uid;
        gid_t gid;
        int r;

        r = entry_owner(x, e, &uid, &gid);
        if (r < 0)
                return r;
        if (fchown(fd, uid, gid) < 0)
                return fail(x, -errno, "failed to set owner: %s", strerror(errno));
        r = set_xattrs(x, e, fd, true);
        if (r < 0)
                return r;

        entry_times(e, times);
        r = defer_directory(x, fd, path, entry_mode(x, e, true), times);
        if (r < 0)
                return fail(x, r, "failed to remember the directory: %s", strerror(-r));
        return 0;
}

static int extract_directory(Extractor *x, struct archive_entry *e, int dir_fd, const char *name, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = make_room(x, dir_fd, name, true);
        if (r < 0)
                return r;
        if (r == 0 && mkdirat(dir_fd, name, 0700) < 0)
                return fail(x, -errno, "failed to create directory: %s", strerror(errno));

        fd = open_child(dir_fd, name, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fail(x, fd, "failed to open directory: %s", strerror(-fd));

        r = setup_directory(x, e, fd, path);
        if (r < 0)
                return r;
        return record_created(x, dir_fd, name);
}

static int extract_root(Extractor *x, struct archive_entry *e) {
        _cleanup_close_ int fd = -EBADF;

        if (archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFDIR)
                return fail(x, -EBADMSG, "names the root directory, but is not a directory.");

        fd = open_in_root(x->root_fd, "/", O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fail(x, fd, "failed to open the root directory: %s", strerror(-fd));
        return setup_directory(x, e, fd, "/");
}

static int finish_node(Extractor *x, struct archive_entry *e, int dir_fd, const char *name, bool symlink) {
        struct timespec times[2];
        uid_t uid;
        gid_t gid;
        int r;

        r = entry_owner(x, e, &uid, &gid);
        if (r < 0)
                return r;
        if (fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(x, -errno, "failed to set owner: %s", strerror(errno));
        /* A symlink's mode means nothing; for the rest, NOFOLLOW makes sure it is not one. */
        if (!symlink && fchmodat(dir_fd, name, entry_mode(x, e, false), AT_SYMLINK_NOFOLLOW) < 0)
                return fail(x, -errno, "failed to set mode: %s", strerror(errno));
        entry_times(e, times);
        if (utimensat(dir_fd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(x, -errno, "failed to set times: %s", strerror(errno));
        return record_created(x, dir_fd, name);
}

static int extract_symlink(Extractor *x, struct archive_entry *e, int dir_fd, const char *name) {
        const char *target = archive_entry_symlink(e);
        int r;

        if (!target || !*target)
                return fail(x, -EBADMSG, "symbolic link without a target.");
        if (strlen(target) > x->opts->limits.max_path_length)
                return fail(x, -ENAMETOOLONG, "link target longer than %zu bytes.", x->opts->limits.max_path_length);

        r = make_room(x, dir_fd, name, false);
        if (r < 0)
                return r;
        /* As given: absolute or not, it resolves inside the pod, and we never follow it here. */
        if (symlinkat(target, dir_fd, name) < 0)
                return fail(x, -errno, "failed to create symbolic link: %s", strerror(errno));
        return finish_node(x, e, dir_fd, name, true);
}

static int extract_node(Extractor *x, struct archive_entry *e, int dir_fd, const char *name, mode_t type) {
        dev_t rdev = 0;
        int r;

        if (type == AE_IFCHR || type == AE_IFBLK) {
                if (!x->opts->allow_devices)
                        return fail(x, -EPERM, "is a device node, refused.");
                rdev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        }

        r = make_room(x, dir_fd, name, false);
        if (r < 0)
                return r;
        if (mknodat(dir_fd, name, (type & S_IFMT) | 0600, rdev) < 0)
                return fail(x, -errno, "failed to create node: %s", strerror(errno));
        return finish_node(x, e, dir_fd, name, false);
}

static int extract_hardlink(Extractor *x, int dir_fd, const char *name, const char *target) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *escaped = NULL;
        struct stat st, existing;
        int r;

        if (!*target)
                return fail(x, -EBADMSG, "hard link without a target.");
        if (strlen(target) > x->opts->limits.max_path_length)
                return fail(x, -ENAMETOOLONG, "link target longer than %zu bytes.", x->opts->limits.max_path_length);
        escaped = escape_name(target);

        /* A path in the image, like any other: it cannot name anything outside. */
        fd = open_in_root(x->root_fd, target, O_PATH | O_NOFOLLOW);
        if (fd < 0)
                return fail(x, fd, "hard link target '%s' not in the image: %s", escaped ?: "?", strerror(-fd));
        if (fstat(fd, &st) < 0)
                return fail(x, -errno, "failed to look at hard link target: %s", strerror(errno));
        if (S_ISDIR(st.st_mode) || ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && !x->opts->allow_devices))
                return fail(x, -EPERM, "hard link target '%s' is a directory or a device, refused.", escaped ?: "?");

        if (fstatat(dir_fd, name, &existing, AT_SYMLINK_NOFOLLOW) >= 0 && existing.st_dev == st.st_dev &&
            existing.st_ino == st.st_ino)
                return record_created(x, dir_fd, name);

        r = make_room(x, dir_fd, name, false);
        if (r < 0)
                return r;
        r = link_fd(fd, dir_fd, name);
        if (r < 0)
                return fail(x, r, "failed to create hard link: %s", strerror(-r));
        return record_created(x, dir_fd, name);
}

/* Whiteouts only hide what lower layers made, whatever their place in the layer: what
 * this layer made is left alone, and what it makes later is not affected. */
static int apply_whiteout(Extractor *x, const char *parent, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        const char *victim = name + STRLEN(WHITEOUT_PREFIX);
        struct stat st;
        int r;

        if (!streq(name, WHITEOUT_OPAQUE) && startswith(name, WHITEOUT_META_PREFIX))
                return 0; /* other AUFS metadata, never extracted */
        if (!streq(name, WHITEOUT_OPAQUE) && (!*victim || streq(victim, ".") || streq(victim, "..")))
                return fail(x, -EBADMSG, "invalid whiteout.");

        fd = open_in_root(x->root_fd, parent, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0; /* nothing there to hide */
        if (fd < 0)
                return fail(x, fd, "failed to open the directory of the whiteout: %s", strerror(-fd));
        if (fstat(fd, &st) < 0)
                return fail(x, -errno, "failed to look at the directory of the whiteout: %s", strerror(errno));

        if (streq(name, WHITEOUT_OPAQUE))
                r = remove_children(x, TAKE_FD(fd), &st, true, 0);
        else
                r = remove_entry(x, fd, &st, victim, true, 0);
        if (r < 0)
                return fail(x, r, "failed to apply whiteout: %s", strerror(-r));
        return 0;
}

/* Splits an entry name into its directory and last component; *ret_name is NULL when
 * the entry names the root itself ("/", ".", "./"). */
static int split_path(Extractor *x, const char *path, char **ret_parent, char **ret_name) {
        _cleanup_free_ char *copy = strdup(path), *parent = NULL, *name = NULL;
        char *slash, *last;
        size_t len;

        if (!copy)
                return -ENOMEM;
        len = strlen(copy);
        while (len > 0 && copy[len - 1] == '/')
                copy[--len] = '\0';

        slash = strrchr(copy, '/');
        last = slash ? slash + 1 : copy;

        if (len == 0 || streq(last, ".")) {
                /* Only "." and "/" all along name the root; "a/." is refused. */
                if (strspn(copy, "./") != len)
                        return fail(x, -EBADMSG, "name ends in \".\".");
                for (const char *p = copy; (p = strstr(p, "..")); p++)
                        if ((p == copy || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
                                return fail(x, -EBADMSG, "name ends in \".\".");
                *ret_parent = NULL;
                *ret_name = NULL;
                return 0;
        }
        if (streq(last, ".."))
                return fail(x, -EBADMSG, "name ends in \"..\".");

        name = strdup(last);
        if (!name)
                return -ENOMEM;
        if (slash == copy)
                parent = strdup("/");
        else if (slash) {
                *slash = '\0';
                parent = strdup(copy);
        } else
                parent = strdup(".");
        if (!parent)
                return -ENOMEM;

        /* A layer's directories cannot have whiteout names. */
        if (x->opts->whiteouts)
                for (const char *p = parent; (p = strstr(p, WHITEOUT_PREFIX)); p++)
                        if (p == parent || p[-1] == '/')
                                return fail(x, -EBADMSG, "whiteout used as a directory.");

        *ret_parent = TAKE_PTR(parent);
        *ret_name = TAKE_PTR(name);
        return 0;
}

static int extract_entry(Extractor *x, struct archive_entry *e) {
        _cleanup_free_ char *parent = NULL, *name = NULL, *path_fixed = NULL, *escaped = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        const char *path = archive_entry_pathname(e), *hardlink;
        mode_t type;
        int r;

        x->entry = NULL;
        if (!path || !*path)
                return fail(x, -EBADMSG, "Archive entry without a name, or with one not in this locale.");
        x->entry = path;
        if (strlen(path) > x->opts->limits.max_path_length)
                return fail(x, -ENAMETOOLONG, "name longer than %zu bytes.", x->opts->limits.max_path_length);

        r = split_path(x, path, &parent, &name);
        if (r < 0)
                return fail(x, r, "%s", strerror(-r));
        if (!name)
                return extract_root(x, e);

        if (x->opts->whiteouts && startswith(name, WHITEOUT_PREFIX))
                return apply_whiteout(x, parent, name);

        r = open_parent(x, parent, &dir_fd);
        if (r < 0) {
                escaped = escape_name(parent);
                return fail(x, r, "failed to open directory '%s': %s", escaped ?: "?", strerror(-r));
        }

        hardlink = archive_entry_hardlink(e);
        if (hardlink)
                return extract_hardlink(x, dir_fd, name, hardlink);

        type = archive_entry_filetype(e);
        switch (type) {
        case AE_IFREG:
                return extract_regular(x, e, dir_fd, name);
        case AE_IFDIR:
                if (asprintf(&path_fixed, "%s/%s", parent, name) < 0)
                        return fail(x, -ENOMEM, "out of memory.");
                return extract_directory(x, e, dir_fd, name, path_fixed);
        case AE_IFLNK:
                return extract_symlink(x, e, dir_fd, name);
        case AE_IFIFO:
        case AE_IFSOCK:
        case AE_IFCHR:
        case AE_IFBLK:
                return extract_node(x, e, dir_fd, name, type);
        default:
                return fail(x, -EBADMSG, "unsupported file type 0%o.", (unsigned) type);
        }
}

static int fixup_directories(Extractor *x) {
        /* Children first: a parent's mode might otherwise stop us from reaching them. */
        for (size_t i = x->n_dirs; i > 0; i--) {
                DirFixup *d = &x->dirs[i - 1];
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (!d->path)
                        continue;
                x->entry = d->path;

                /* Later entries may have replaced or removed it: then it is not ours to touch. */
                fd = open_in_root(x->root_fd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
                        continue;
                if (fd < 0)
                        return fail(x, fd, "failed to open directory: %s", strerror(-fd));
                if (fstat(fd, &st) < 0)
                        return fail(x, -errno, "failed to look at directory: %s", strerror(errno));
                if (st.st_dev != d->dev || st.st_ino != d->ino)
                        continue;

                if (fchmod(fd, d->mode) < 0 || futimens(fd, d->times) < 0)
                        return fail(x, -errno, "failed to set mode or times: %s", strerror(errno));
        }
        x->entry = NULL;
        return 0;
}

int extract_archive(int input_fd, int root_fd, const ExtractOptions *opts, ExtractStats *ret_stats, char **ret_message) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_(extractor_done) Extractor x = {
                .opts = opts,
                .root_fd = root_fd,
                .message = ret_message,
        };
        ExtractStats stats = {};
        struct archive_entry *e;
        la_int64_t size_in;
        struct stat st;
        int r;

        if (ret_message)
                *ret_message = NULL;

        if (fstat(root_fd, &st) < 0)
                return fail(&x, -errno, "Failed to look at the image directory: %s", strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return fail(&x, -ENOTDIR, "The image root is not a directory.");
        x.root_dev = st.st_dev;

        a = archive_read_new();
        if (!a)
                return fail(&x, -ENOMEM, "Out of memory.");
        x.archive = a;

        /* Not _all(): some filters run external programs when built without their library. */
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_lzma(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_lz4(a);
        archive_read_support_filter_compress(a);
        archive_read_support_format_tar(a);

        if (archive_read_open_fd(a, input_fd, 64 * 1024) != ARCHIVE_OK)
                return archive_error(&x, "Failed to read archive");

        for (;;) {
                la_int64_t size;

                x.entry = NULL;
                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return archive_error(&x, "Failed to read archive");

                if (++stats.n_entries > opts->limits.max_entries)
                        return fail(&x, -EFBIG, "Archive has more than %llu entries.",
                                    (unsigned long long) opts->limits.max_entries);

                /* Counted before a byte is written, skipped data included. */
                size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
                if (size < 0 || (uint64_t) size > opts->limits.max_bytes - stats.n_bytes) {
                        x.entry = archive_entry_pathname(e);
                        return fail(&x, -EFBIG, "archive is larger than %llu bytes.",
                                    (unsigned long long) opts->limits.max_bytes);
                }
                stats.n_bytes += (uint64_t) size;

                r = extract_entry(&x, e);
                if (r < 0)
                        return fail(&x, r, "%s", strerror(-r));
                report_progress(&x, false);
        }

        if (stats.n_entries == 0 && !opts->whiteouts)
                return fail(&x, -EBADMSG, "Archive is empty.");

        r = fixup_directories(&x);
        if (r < 0)
                return r;

        report_progress(&x, true);
        size_in = archive_filter_bytes(a, -1);
        stats.input_bytes = size_in > 0 ? (uint64_t) size_in : 0;
        if (ret_stats)
                *ret_stats = stats;
        return 0;
}
