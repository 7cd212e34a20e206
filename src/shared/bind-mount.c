/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bind-mount.h"
#include "fileio.h"
#include "strv.h"

static const char *const bind_idmap_table[_BIND_IDMAP_MAX] = {
        [BIND_IDMAP_NO] = "noidmap",
        [BIND_IDMAP_YES] = "idmap",
        [BIND_IDMAP_ROOT] = "rootidmap",
};

const char *bind_idmap_to_string(BindIdmap i) {
        return i >= 0 && i < _BIND_IDMAP_MAX ? bind_idmap_table[i] : NULL;
}

static BindIdmap bind_idmap_from_string(const char *s) {
        for (int i = 0; i < _BIND_IDMAP_MAX; i++)
                if (streq(bind_idmap_table[i], s))
                        return (BindIdmap) i;
        return _BIND_IDMAP_INVALID;
}

void bind_mount_done(BindMount *b) {
        free(b->source);
        free(b->destination);
        *b = (BindMount) { .idmap = _BIND_IDMAP_INVALID, .owner_uid = (uid_t) -1 };
}

void bind_mounts_free(BindMount *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                bind_mount_done(b + i);
        free(b);
}

int bind_options_parse(const char *s, bool *ret_recursive, BindIdmap *ret_idmap) {
        BindIdmap idmap = _BIND_IDMAP_INVALID;
        bool recursive = true;

        for (const char *p = s ?: ""; *p;) {
                size_t n = strcspn(p, ",");
                char word[16];

                if (n >= sizeof word)
                        return -EINVAL;
                memcpy(word, p, n);
                word[n] = 0;
                p += n + (p[n] == ',');

                if (streq(word, "rbind"))
                        recursive = true;
                else if (streq(word, "norbind"))
                        recursive = false;
                else if ((int) bind_idmap_from_string(word) >= 0)
                        idmap = bind_idmap_from_string(word);
                else
                        return -EINVAL;
        }

        *ret_recursive = recursive;
        *ret_idmap = idmap;
        return 0;
}

char *bind_options_to_string(const BindMount *b) {
        char *s;

        if (asprintf(&s, "%s,%s", b->recursive ? "rbind" : "norbind", bind_idmap_to_string(b->idmap) ?: "noidmap") < 0)
                return NULL;
        return s;
}

/* The pod's own file systems: a bind there would hide or replace what confines it. */
static const char *const destination_denied[] = { "/proc", "/sys", "/dev", "/run/host" };

const char *bind_destination_invalid(const char *path) {
        if (path[0] != '/')
                return "is not an absolute path";
        if (strlen(path) >= BIND_PATH_MAX)
                return "is too long";
        if (streq(path, "/"))
                return "is the pod's root";
        for (const char *p = path; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return "contains a control character";
        for (const char *p = path; *p;) {
                size_t n;

                p++; /* the '/' */
                n = strcspn(p, "/");
                if (n == 0)
                        return "is not normalized (empty component or trailing '/')";
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return "is not normalized ('.' or '..')";
                p += n;
        }
        for (size_t i = 0; i < ELEMENTSOF(destination_denied); i++) {
                const char *rest = startswith(path, destination_denied[i]);

                if (rest && (*rest == 0 || *rest == '/'))
                        return "is on or below /proc, /sys, /dev or /run/host, which the pod's confinement owns";
        }
        return NULL;
}

/* The next ':'-separated field at *p, unescaped; *p moves past it and past its ':', and
 * *ret_more says whether there was one. */
static char *spec_field(const char **p, bool *ret_more) {
        const char *s = *p;
        char *f, *o;

        f = o = malloc(strlen(s) + 1);
        if (!f)
                return NULL;
        for (; *s && *s != ':'; s++) {
                if (*s == '\\' && (s[1] == ':' || s[1] == '\\'))
                        s++;
                *o++ = *s;
        }
        *o = 0;
        *ret_more = *s == ':';
        *p = *ret_more ? s + 1 : s;
        return f;
}

int bind_spec_parse(const char *spec, char **ret_source, char **ret_destination, char **ret_options) {
        _cleanup_free_ char *source = NULL, *destination = NULL, *options = NULL;
        const char *p = spec;
        bool more;

        source = spec_field(&p, &more);
        if (!source)
                return -ENOMEM;
        if (more) {
                destination = spec_field(&p, &more);
                if (!destination)
                        return -ENOMEM;
        }
        if (more) {
                options = spec_field(&p, &more);
                if (!options)
                        return -ENOMEM;
        }
        if (more || !*source || (destination && !*destination))
                return -EINVAL;

        if (!destination) {
                destination = strdup(source);
                if (!destination)
                        return -ENOMEM;
        }
        *ret_source = TAKE_PTR(source);
        *ret_destination = TAKE_PTR(destination);
        *ret_options = TAKE_PTR(options);
        return 0;
}

json_t *bind_mount_to_json(const BindMount *b) {
        return json_pack("{s:s, s:s, s:b, s:b, s:s, s:b, s:b, s:I, s:I, s:o}",
                         "source", b->source,
                         "destination", b->destination,
                         "read_only", b->read_only,
                         "recursive", b->recursive,
                         "idmap", bind_idmap_to_string(b->idmap),
                         "idmap_auto", b->idmap_auto,
                         "directory", b->directory,
                         "dev", (json_int_t) b->dev,
                         "ino", (json_int_t) b->ino,
                         /* null: anyone may own it */
                         "owner_uid", b->owner_uid == (uid_t) -1 ? json_null() : json_integer((json_int_t) b->owner_uid));
}

int bind_mount_from_json(json_t *j, BindMount *ret) {
        const char *source, *destination, *idmap;
        json_int_t dev, ino;
        json_t *owner;
        int read_only, recursive, directory, idmap_auto = false;
        BindMount b;

        if (json_unpack(j, "{s:s, s:s, s:b, s:b, s:s, s?b, s:b, s:I, s:I, s:o}",
                        "source", &source, "destination", &destination, "read_only", &read_only,
                        "recursive", &recursive, "idmap", &idmap, "idmap_auto", &idmap_auto, "directory", &directory,
                        "dev", &dev, "ino", &ino, "owner_uid", &owner) < 0)
                return -EBADMSG;
        if (source[0] != '/' || strlen(source) >= BIND_PATH_MAX || bind_destination_invalid(destination) ||
            bind_idmap_from_string(idmap) < 0 || dev < 0 || ino < 0)
                return -EBADMSG;
        if (!json_is_null(owner) &&
            (!json_is_integer(owner) || json_integer_value(owner) < 0 || json_integer_value(owner) >= (json_int_t) UINT32_MAX))
                return -EBADMSG;

        b = (BindMount) {
                .source = strdup(source),
                .destination = strdup(destination),
                .read_only = read_only,
                .recursive = recursive,
                .idmap = bind_idmap_from_string(idmap),
                .idmap_auto = idmap_auto && bind_idmap_from_string(idmap) == BIND_IDMAP_ROOT,
                .directory = directory,
                .dev = (uint64_t) dev,
                .ino = (uint64_t) ino,
                .owner_uid = json_is_null(owner) ? (uid_t) -1 : (uid_t) json_integer_value(owner),
        };
        if (!b.source || !b.destination) {
                bind_mount_done(&b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}

int bind_source_open_path(const char *path) {
        struct open_how how = {
                /* Without O_NOFOLLOW: a symlink as the last component fails too (ELOOP). */
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };

        if (path[0] != '/')
                return -EINVAL;
        return RET_NERRNO((int) syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
}
