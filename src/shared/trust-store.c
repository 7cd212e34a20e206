/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "paths.h"
#include "strv.h"
#include "trust-store.h"

/* What a file in a key directory is. */
enum {
        ENTRY_KEY,
        ENTRY_MASK,
};

static const char *const trust_key_origin_table[_TRUST_KEY_ORIGIN_MAX] = {
        [TRUST_KEY_ORIGIN_ETC] = "etc",
        [TRUST_KEY_ORIGIN_VENDOR] = "vendor",
};

const char *trust_key_origin_to_string(TrustKeyOrigin o) {
        return o >= 0 && o < _TRUST_KEY_ORIGIN_MAX ? trust_key_origin_table[o] : NULL;
}

bool trust_key_name_is_valid(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        /* Not hidden (our temporary files are), and not taken for an option. */
        if (n == 0 || n > TRUST_KEY_NAME_MAX || name[0] == '.' || name[0] == '-')
                return false;

        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_.@+-", *p)))
                        return false;
        return true;
}

/* The NAME of a "NAME.pub" directory entry into buf, or false if it is not one. */
static bool name_from_filename(const char *filename, char buf[TRUST_KEY_NAME_MAX + 1]) {
        size_t n = strlen(filename), l = STRLEN(TRUST_KEY_SUFFIX);

        if (n <= l || n - l > TRUST_KEY_NAME_MAX || strcmp(filename + n - l, TRUST_KEY_SUFFIX) != 0)
                return false;
        memcpy(buf, filename, n - l);
        buf[n - l] = 0;
        return trust_key_name_is_valid(buf);
}

static char *filename_from_name(const char *name) {
        char *s;

        return asprintf(&s, "%s" TRUST_KEY_SUFFIX, name) < 0 ? NULL : s;
}

/* ENTRY_MASK for an empty file or /dev/null, ENTRY_KEY (and *ret) for a key file; -ENOENT if
 * there is nothing (or a dangling symlink), other errors for a file that is no key. */
static int read_entry(int dir_fd, const char *filename, MinisignPublicKey *ret) {
        struct stat st;
        int r;

        if (fstatat(dir_fd, filename, &st, 0) < 0)
                return -errno;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return ENTRY_MASK;
        if (S_ISREG(st.st_mode) && st.st_size == 0)
                return ENTRY_MASK;

        r = minisign_public_key_load_at(dir_fd, filename, ret);
        return r < 0 ? r : ENTRY_KEY;
}

TrustStore *trust_store_free(TrustStore *s) {
        if (!s)
                return NULL;
        free(s->etc_dir);
        free(s->vendor_dir);
        free(s->keys);
        free(s);
        return NULL;
}

static int compare_keys(const void *a, const void *b) {
        const TrustKey *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : (int) x->origin - (int) y->origin;
}

/* Appends the NAME.pub files of dir to *keys (of *n_allocated entries); in this list 'masked'
 * marks a mask file. */
static int load_dir(const char *dir, TrustKeyOrigin origin, TrustKey **keys, size_t *n_keys,
                    size_t *n_allocated) {
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                TrustKey *k;
                char name[TRUST_KEY_NAME_MAX + 1];

                if (de->d_name[0] == '.' || !name_from_filename(de->d_name, name))
                        continue;
                if (*n_keys >= TRUST_STORE_KEYS_MAX) {
                        r = -E2BIG;
                        break;
                }

                if (*n_keys >= *n_allocated) {
                        size_t n = *n_allocated ? *n_allocated * 2 : 16;

                        k = reallocarray(*keys, n, sizeof **keys);
                        if (!k) {
                                r = -ENOMEM;
                                break;
                        }
                        *keys = k;
                        *n_allocated = n;
                }
                k = *keys + (*n_keys)++;
                *k = (TrustKey){
                        .origin = origin,
                };
                memcpy(k->name, name, sizeof name);

                r = read_entry(dirfd(d), de->d_name, &k->key);
                if (r == ENTRY_MASK && origin == TRUST_KEY_ORIGIN_ETC)
                        k->masked = true;
                else if (r == ENTRY_MASK)
                        k->error = -EBADMSG; /* an empty vendor file is just a broken key */
                else if (r < 0)
                        k->error = r;
                r = 0;
        }
        if (r == 0 && errno != 0)
                r = -errno;

        closedir(d);
        return r;
}

int trust_store_load(const char *etc_dir, const char *vendor_dir, TrustStore **ret) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        _cleanup_free_ TrustKey *all = NULL;
        size_t n_all = 0, n_allocated = 0;
        int r;

        if (!etc_dir || !ret)
                return -EINVAL;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->etc_dir = strdup(etc_dir);
        s->vendor_dir = vendor_dir ? strdup(vendor_dir) : NULL;
        if (!s->etc_dir || (vendor_dir && !s->vendor_dir))
                return -ENOMEM;

        r = load_dir(etc_dir, TRUST_KEY_ORIGIN_ETC, &all, &n_all, &n_allocated);
        if (r < 0)
                return r;
        if (vendor_dir) {
                r = load_dir(vendor_dir, TRUST_KEY_ORIGIN_VENDOR, &all, &n_all, &n_allocated);
                if (r < 0)
                        return r;
        }
        if (n_all == 0) {
                *ret = TAKE_PTR(s);
                return 0;
        }

        /* Sorted by name, the admin's file first: it decides what happens to the vendor's. */
        qsort(all, n_all, sizeof *all, compare_keys);

        s->keys = calloc(n_all, sizeof *s->keys);
        if (!s->keys)
                return -ENOMEM;

        for (size_t i = 0; i < n_all; i++) {
                TrustKey *k = all + i, *vendor = NULL;

                if (k->origin == TRUST_KEY_ORIGIN_ETC && i + 1 < n_all &&
                    strcmp(all[i + 1].name, k->name) == 0)
                        vendor = all + ++i;

                if (k->masked) {
                        /* A mask of nothing shows nowhere. */
                        if (!vendor)
                                continue;
                        vendor->masked = true;
                        k = vendor;
                }

                k->dir = k->origin == TRUST_KEY_ORIGIN_ETC ? s->etc_dir : s->vendor_dir;
                s->keys[s->n_keys++] = *k;
        }

        *ret = TAKE_PTR(s);
        return 0;
}

const TrustKey *trust_store_find_name(const TrustStore *s, const char *name) {
        if (!s || !name)
                return NULL;
        for (size_t i = 0; i < s->n_keys; i++)
                if (strcmp(s->keys[i].name, name) == 0)
                        return s->keys + i;
        return NULL;
}

const TrustKey *trust_store_find_id(const TrustStore *s, const uint8_t id[MINISIGN_KEY_ID_SIZE]) {
        if (!s || !id)
                return NULL;
        for (size_t i = 0; i < s->n_keys; i++)
                if (trust_key_is_usable(s->keys + i) &&
                    memcmp(s->keys[i].key.id, id, MINISIGN_KEY_ID_SIZE) == 0)
                        return s->keys + i;
        return NULL;
}

int trust_store_verify(const TrustStore *s, const MinisignSignature *sig,
                       const uint8_t prehash[MINISIGN_PREHASH_SIZE], const void *content,
                       size_t content_size, bool allow_legacy, const TrustKey **ret_key) {

        int r;

        if (!s || !sig)
                return -EINVAL;
        r = minisign_verify_precheck(sig, NULL, allow_legacy);
        if (r < 0)
                return r;

        /* Key ids are chosen by whoever made the key: two trusted keys may share one. */
        r = -EKEYREJECTED;
        for (size_t i = 0; i < s->n_keys; i++) {
                const TrustKey *k = s->keys + i;

                if (!trust_key_is_usable(k) || memcmp(k->key.id, sig->key_id, MINISIGN_KEY_ID_SIZE) != 0)
                        continue;

                r = minisign_verify(sig, &k->key, prehash, content, content_size, allow_legacy);
                if (r == 0) {
                        if (ret_key)
                                *ret_key = k;
                        return 0;
                }
        }
        return r;
}

static int mkdir_parents_and_self(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                char c = *s;

                if (c != '/' && c != 0)
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (c == 0)
                        return 0;
                *s = c;
        }
}

static int open_etc_dir(const char *etc_dir) {
        int r, fd;

        r = mkdir_parents_and_self(etc_dir, 0755);
        if (r < 0)
                return r;
        fd = open(etc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* -EBADF if the directory does not exist. */
static int open_vendor_dir(const char *vendor_dir) {
        int fd;

        if (!vendor_dir)
                return -EBADF;
        fd = open(vendor_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -EBADF : -errno;
        return fd;
}

/* Atomically: a crash leaves the old file or the new one. Unless replace, an existing file of
 * that name makes it fail with -EEXIST. */
static int write_key_file(int dir_fd, const char *filename, const char *data, size_t size, bool replace) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = hidden_name(PODCTL_TMP_PREFIX, filename, &tmp);
        if (r < 0)
                return r;

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;

        /* Not the umask's business: unprivileged `podctl trust list` reads these. */
        r = fchmod(fd, 0644) < 0 ? -errno : 0;
        for (const char *p = data; r >= 0 && size > 0;) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno != EINTR)
                                r = -errno;
                        continue;
                }
                p += n;
                size -= (size_t) n;
        }
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0) {
                if (replace)
                        r = RET_NERRNO(renameat(dir_fd, tmp, dir_fd, filename));
                else {
                        r = RET_NERRNO(renameat2(dir_fd, tmp, dir_fd, filename, RENAME_NOREPLACE));
                        /* File systems without RENAME_NOREPLACE: link() never replaces either. */
                        if (r == -EINVAL || r == -ENOSYS)
                                r = RET_NERRNO(linkat(dir_fd, tmp, dir_fd, filename, 0));
                }
        }
        (void) unlinkat(dir_fd, tmp, 0);
        if (r < 0)
                return r;

        /* The rename is durable only once the directory is. */
        (void) fsync(dir_fd);
        return 0;
}

int trust_store_add(const char *etc_dir, const char *vendor_dir, const MinisignPublicKey *key,
                    const char *name, char **ret_name) {

        _cleanup_free_ char *filename = NULL, *text = NULL, *used = NULL;
        _cleanup_close_ int etc_fd = -EBADF, vendor_fd = -EBADF;
        char id[MINISIGN_KEY_ID_STRING_MAX];
        MinisignPublicKey existing;
        bool replace = false;
        int r;

        if (!etc_dir || !key)
                return -EINVAL;
        if (!name)
                name = minisign_key_id_to_string(key->id, id);
        if (!trust_key_name_is_valid(name))
                return -EINVAL;

        r = minisign_public_key_format(key, &text);
        if (r < 0)
                return r;
        filename = filename_from_name(name);
        used = strdup(name);
        if (!filename || !used)
                return -ENOMEM;

        vendor_fd = open_vendor_dir(vendor_dir);
        if (vendor_fd < 0 && vendor_fd != -EBADF)
                return vendor_fd;
        etc_fd = open_etc_dir(etc_dir);
        if (etc_fd < 0)
                return etc_fd;

        r = read_entry(etc_fd, filename, &existing);
        if (r == ENTRY_MASK)
                /* The vendor key of that name stays hidden: this one shadows it. */
                replace = true;
        else if (r == ENTRY_KEY) {
                if (!minisign_public_key_equal(&existing, key))
                        return -EEXIST;
                r = 0;
                goto done;
        } else if (r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EISDIR)
                /* Not ours to overwrite: the admin may want to look at it. */
                return -EEXIST;
        else if (r != -ENOENT)
                return r;
        else if (vendor_fd >= 0) {
                r = read_entry(vendor_fd, filename, &existing);
                if (r == ENTRY_KEY) {
                        if (!minisign_public_key_equal(&existing, key))
                                return -EEXIST;
                        r = 0;
                        goto done;
                }
                if (r == ENTRY_MASK || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EISDIR)
                        return -EEXIST;
                if (r != -ENOENT)
                        return r;
        }

        r = write_key_file(etc_fd, filename, text, strlen(text), replace);
        if (r < 0)
                return r;
        r = 1;

done:
        if (ret_name)
                *ret_name = TAKE_PTR(used);
        return r;
}

int trust_store_remove(const char *etc_dir, const char *vendor_dir, const char *what, char ***ret_names) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        _cleanup_close_ int etc_fd = -EBADF, vendor_fd = -EBADF;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ const TrustKey **matches = NULL;
        const TrustKey *k;
        uint8_t id[MINISIGN_KEY_ID_SIZE];
        size_t n_matches = 0;
        int r;

        if (!etc_dir || !what)
                return -EINVAL;

        r = trust_store_load(etc_dir, vendor_dir, &s);
        if (r < 0)
                return r;

        matches = calloc(s->n_keys + 1, sizeof *matches);
        if (!matches)
                return -ENOMEM;

        /* A name first: the default name of a key is its id, and then both mean the same. */
        k = trust_store_find_name(s, what);
        if (k && !k->masked)
                matches[n_matches++] = k;
        else if (minisign_key_id_from_string(what, id) >= 0)
                for (size_t i = 0; i < s->n_keys; i++)
                        if (trust_key_is_usable(s->keys + i) &&
                            memcmp(s->keys[i].key.id, id, sizeof id) == 0)
                                matches[n_matches++] = s->keys + i;
        if (n_matches == 0)
                return -ENOENT;

        vendor_fd = open_vendor_dir(vendor_dir);
        if (vendor_fd < 0 && vendor_fd != -EBADF)
                return vendor_fd;
        etc_fd = open_etc_dir(etc_dir);
        if (etc_fd < 0)
                return etc_fd;

        for (size_t i = 0; i < n_matches; i++) {
                _cleanup_free_ char *filename = filename_from_name(matches[i]->name);
                struct stat st;
                bool mask;

                if (!filename)
                        return -ENOMEM;

                /* Deleting an admin key that shadows a vendor file would bring the vendor key back. */
                mask = matches[i]->origin == TRUST_KEY_ORIGIN_VENDOR ||
                       (vendor_fd >= 0 && fstatat(vendor_fd, filename, &st, AT_SYMLINK_NOFOLLOW) >= 0);
                if (mask)
                        r = write_key_file(etc_fd, filename, "", 0, /* replace= */ true);
                else {
                        r = RET_NERRNO(unlinkat(etc_fd, filename, 0));
                        if (r == -ENOENT)
                                r = 0;
                }
                if (r < 0)
                        return r;

                r = strv_extend(&names, matches[i]->name);
                if (r < 0)
                        return r;
        }
        (void) fsync(etc_fd);

        if (ret_names)
                *ret_names = TAKE_PTR(names);
        return (int) n_matches;
}
