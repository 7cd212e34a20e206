/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-errors.h"
#include "ctl-image.h"
#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "name.h"
#include "paths.h"
#include "strv.h"
#include "parse.h"
#include "table.h"
#include "tar-stream.h"
#include "verify-minisign.h"

enum {
        ARG_FORMAT = _ARG_COMMON_MAX,
        ARG_TAG,
        ARG_VERIFY,
        ARG_SIGNATURE,
        ARG_SHA256,
        ARG_ALLOW_LEGACY_SIGNATURE,
        ARG_ALLOW_DEVICES,
};

typedef struct ImportArgs {
        const char *format;
        const char *tag;
        const char *verify;
        const char *signature;
        const char *sha256;
        bool allow_legacy_signature;
        bool allow_devices;
} ImportArgs;

static int parse_import_option(int c, const char *arg, void *userdata) {
        ImportArgs *a = userdata;

        switch (c) {
        case ARG_FORMAT:
                if (!STR_IN_SET(arg, "auto", "tar", "directory", "oci", "docker-archive", "squashfs", "erofs", "raw"))
                        return log_error_errno(EINVAL, "Invalid --format= value '%s', expected auto, tar, directory, oci, "
                                               "docker-archive, squashfs, erofs or raw.", arg);
                a->format = arg;
                return 1;
        case ARG_TAG:
                a->tag = arg;
                return 1;
        case ARG_VERIFY:
                if (!STR_IN_SET(arg, "signature", "checksum", "no"))
                        return log_error_errno(EINVAL, "Invalid --verify= value '%s', expected signature, checksum or no.", arg);
                a->verify = arg;
                return 1;
        case ARG_SIGNATURE:
                a->signature = arg;
                return 1;
        case ARG_SHA256:
                if (strlen(arg) != 64 || strspn(arg, "0123456789abcdefABCDEF") != 64)
                        return log_error_errno(EINVAL, "Invalid --sha256= value '%s', expected 64 hexadecimal digits.", arg);
                a->sha256 = arg;
                return 1;
        case ARG_ALLOW_LEGACY_SIGNATURE:
                a->allow_legacy_signature = true;
                return 1;
        case ARG_ALLOW_DEVICES:
                a->allow_devices = true;
                return 1;
        default:
                return 0;
        }
}

/* The progress of an import, drawn on a terminal from the image's ImportBytesDone. */
typedef struct ImportProgress {
        uint64_t total;
        uint64_t start_usec;
        bool drawn;
        int error;
        bool done;
        sd_bus_error bus_error;
} ImportProgress;

static void progress_draw(ImportProgress *p, uint64_t done) {
        char d[FORMAT_BYTES_MAX], t[FORMAT_BYTES_MAX], rate[FORMAT_BYTES_MAX];
        uint64_t elapsed = now_usec() - p->start_usec;
        uint64_t bps = elapsed > 0 ? (uint64_t) ((double) done * 1e6 / (double) elapsed) : 0;

        if (p->total > 0) {
                unsigned width = 30, filled = (unsigned) (done >= p->total ? width : done * width / p->total);
                char bar[32];

                memset(bar, '#', filled);
                memset(bar + filled, '.', width - filled);
                bar[width] = 0;
                fprintf(stderr, "\r[%s] %3u%% %s/%s %s/s ", bar, (unsigned) (done >= p->total ? 100 : done * 100 / p->total),
                        format_bytes(d, sizeof d, done), format_bytes(t, sizeof t, p->total), format_bytes(rate, sizeof rate, bps));
        } else
                fprintf(stderr, "\r%s %s/s ", format_bytes(d, sizeof d, done), format_bytes(rate, sizeof rate, bps));
        p->drawn = true;
}

static int on_import_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ImportProgress *p = userdata;
        const char *interface;
        uint64_t done;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *name;

                if (sd_bus_message_read(m, "s", &name) < 0)
                        return 0;
                if (streq(name, "ImportBytesDone") && sd_bus_message_read(m, "v", "t", &done) >= 0)
                        progress_draw(p, done);
                else if (sd_bus_message_skip(m, "v") < 0)
                        return 0;
                if (sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        return 0;
}

static int on_import_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ImportProgress *p = userdata;

        p->done = true;
        if (sd_bus_message_is_method_error(m, NULL)) {
                p->error = -(sd_bus_message_get_errno(m) ?: EIO);
                (void) sd_bus_error_copy(&p->bus_error, sd_bus_message_get_error(m));
        }
        return 0;
}

/* Calls m, drawing the import's progress on stderr if that is a terminal. */
static int import_call(sd_bus *bus, sd_bus_message *m, const char *name, uint64_t total, sd_bus_error *error) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *match = NULL, *call = NULL;
        _cleanup_free_ char *path = NULL;
        ImportProgress p = { .total = total, .start_usec = now_usec(), .bus_error = SD_BUS_ERROR_NULL };
        int r;

        if (arg_quiet || !isatty(STDERR_FILENO))
                return sd_bus_call(bus, m, BUS_TIMEOUT_IMPORT, error, NULL);

        r = sd_bus_path_encode(PODCTL_BUS_IMAGE_PREFIX, name, &path);
        if (r < 0)
                return r;
        /* Not fatal: without it there is no bar, the import is the same. */
        (void) sd_bus_match_signal(bus, &match, PODCTL_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                   "PropertiesChanged", on_import_properties, &p);

        r = sd_bus_call_async(bus, &call, m, on_import_reply, &p, BUS_TIMEOUT_IMPORT);
        if (r < 0)
                return r;
        while (!p.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
                        break;
        }
        if (p.drawn)
                fputs("\r\033[K", stderr);
        if (r < 0)
                return r;
        if (p.error < 0) {
                sd_bus_error_move(error, &p.bus_error);
                return p.error;
        }
        return 0;
}

/* The signature: --signature=, else SOURCE.minisig if it sits beside SOURCE. It goes in the
 * call itself, for the daemon to read its key id before asking polkit. */
static int read_signature(const ImportArgs *a, const char *source, const struct stat *st, char **ret_text,
                          size_t *ret_size, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *p = a->signature;
        int r;

        if (!p) {
                if (!S_ISREG(st->st_mode) || (a->verify && !streq(a->verify, "signature")))
                        return 0;
                if (asprintf(&path, "%s.minisig", source) < 0)
                        return log_oom();
                p = path;
        }
        fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT && !a->signature)
                        return 0;
                return log_error_errno(errno, "Failed to open signature '%s': %m", p);
        }
        r = read_fd_bounded(fd, MINISIGN_SIGNATURE_FILE_MAX, ret_text, ret_size);
        if (r == -EFBIG)
                return log_error_errno(EBADMSG, "Signature '%s' is malformed: larger than %d bytes.", p,
                                       MINISIGN_SIGNATURE_FILE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read signature '%s': %m", p);
        *ret_path = path ? TAKE_PTR(path) : NULL;
        return 1;
}

static int verb_image_import(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "format",                 required_argument, NULL, ARG_FORMAT                 },
                { "tag",                    required_argument, NULL, ARG_TAG                    },
                { "verify",                 required_argument, NULL, ARG_VERIFY                 },
                { "signature",              required_argument, NULL, ARG_SIGNATURE              },
                { "sha256",                 required_argument, NULL, ARG_SHA256                 },
                { "allow-legacy-signature", no_argument,       NULL, ARG_ALLOW_LEGACY_SIGNATURE },
                { "allow-devices",          no_argument,       NULL, ARG_ALLOW_DEVICES          },
                {}
        };
        static const VerbSyntax syntax = {
                .name = "image import",
                .options = options,
                .parse_option = parse_import_option,
                .min_args = 1,
                .max_args = 2,
                .what = "a source",
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int fd = -EBADF, stream_fd = -EBADF;
        _cleanup_free_ char *derived = NULL, *child_message = NULL, *sig = NULL, *sig_path = NULL;
        size_t sig_size = 0;
        TarStream stream = TAR_STREAM_NULL;
        ImportArgs a = {};
        const char *source, *name, *format;
        struct stat st;
        int i, r, k;

        r = parse_verb_syntax(argc, argv, &syntax, &a, &i);
        if (r <= 0)
                return r;
        source = argv[i];

        if (argc - i >= 2)
                name = argv[i + 1];
        else if (strcmp(source, "-") == 0)
                return log_error_errno(EINVAL, "Importing from standard input needs an image NAME.");
        else {
                r = image_name_from_path(source, &derived);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 || !name_is_valid(derived))
                        return log_error_errno(EINVAL, "Cannot derive a valid image name from '%s', please pass NAME.",
                                               source);
                name = derived;
        }
        if (!name_is_valid(name))
                return log_error_errno(EINVAL, "Invalid image name '%s'.", name);
        if (a.verify && streq(a.verify, "checksum") && !a.sha256)
                return log_error_errno(EINVAL, "--verify=checksum needs --sha256=HEX.");

        /* Opened with our rights, not the daemon's: it never opens caller paths. */
        if (strcmp(source, "-") == 0)
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", source);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat '%s': %m", source);

        /* A directory is a tree, unless it is an OCI layout (which the daemon could only
         * tell from the stream). */
        if (a.format)
                format = a.format;
        else if (S_ISDIR(st.st_mode))
                format = faccessat(fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) >= 0 &&
                         faccessat(fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) >= 0 ? "oci" : "directory";
        else
                format = "auto";
        if (streq(format, "directory") && !S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "Failed to import '%s': Not a directory", source);
        /* A directory is sent as a tar stream of it: an OCI layout too. */
        if (S_ISDIR(st.st_mode) && !STR_IN_SET(format, "directory", "oci", "auto"))
                return log_error_errno(EISDIR, "Failed to import '%s': Is a directory", source);

        r = read_signature(&a, source, &st, &sig, &sig_size, &sig_path);
        if (r < 0)
                return r;
        if (a.verify && streq(a.verify, "signature") && !sig)
                return log_error_errno(ENOENT, "Failed to import '%s': no signature: neither --signature= nor '%s.minisig'.",
                                       source, source);

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        if (S_ISDIR(st.st_mode)) {
                r = tar_stream_fork(fd, &stream, &stream_fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to start archiving '%s': %m", source);
        }

        r = bus_new_manager_call(bus, "ImportImage", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sh", name, stream_fd >= 0 ? stream_fd : fd);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Format", "s", format);
        if (r >= 0 && a.tag)
                r = sd_bus_message_append(m, "{sv}", "Tag", "s", a.tag);
        if (r >= 0 && a.verify)
                r = sd_bus_message_append(m, "{sv}", "Verify", "s", a.verify);
        if (r >= 0 && sig && (!a.verify || streq(a.verify, "signature"))) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "Signature");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', sig, sig_size);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && a.sha256)
                r = sd_bus_message_append(m, "{sv}", "SHA256", "s", a.sha256);
        if (r >= 0 && a.allow_legacy_signature)
                r = sd_bus_message_append(m, "{sv}", "AllowLegacySignature", "b", 1);
        if (r >= 0 && a.allow_devices)
                r = sd_bus_message_append(m, "{sv}", "AllowDevices", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0) {
                /* The daemon holds its own copy now; ours would keep the child's pipe open. */
                stream_fd = safe_close(stream_fd);
                r = import_call(bus, m, name, S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0, &error);
        } else
                sd_bus_error_set_errno(&error, r);
        stream_fd = safe_close(stream_fd);
        /* The message holds a copy of the pipe's read end: drop it, or a child whose
         * reader gave up early would block forever instead of getting EPIPE. */
        m = sd_bus_message_unref(m);

        k = tar_stream_wait(&stream, &child_message);

        /* A child that failed made the stream short: that is the cause to name. A child
         * that got EPIPE only saw the daemon give up: then the daemon's error is. */
        if (k < 0 && k != -EPIPE) {
                if (child_message)
                        return log_error_errno(k, "Failed to archive '%s': %s", source, child_message);
                return log_error_errno(k, "Failed to archive '%s': %m", source);
        }
        if (r < 0)
                return log_bus_error(r, &error, "Failed to import image '%s'", name);
        if (k < 0)
                return log_error_errno(k, "Failed to archive '%s': %s", source, child_message ?: strerror(-k));

        if (!arg_quiet)
                printf("Imported image '%s'%s%s.\n", name, sig_path ? ", verified with " : "", sig_path ?: "");
        return 0;
}

static int read_image_row(sd_bus_message *reply, Table *table) {
        const char *name, *format, *path, *verified, *key;
        char sz[FORMAT_BYTES_MAX], ts[FORMAT_TIMESTAMP_MAX];
        uint64_t size, created;
        uint32_t pods;
        int r;

        r = sd_bus_message_read(reply, "(ssttusso)", &name, &format, &size, &created, &pods, &verified, &key, &path);
        if (r <= 0)
                return r;

        if (table_add_string(table, name) < 0 ||
            table_add_string(table, format) < 0 ||
            table_add_cell(table, format_bytes(sz, sizeof(sz), size), json_integer((json_int_t) size)) < 0 ||
            table_add_cell(table, format_timestamp(ts, sizeof(ts), created), json_integer((json_int_t) created)) < 0 ||
            table_add_string(table, verified) < 0 ||
            table_add_cell(table, *key ? key : "-", *key ? json_string(key) : json_null()) < 0 ||
            table_add_uint64(table, pods) < 0)
                return -ENOMEM;
        return 1;
}

static int verb_image_list(int argc, char *argv[]) {
        _cleanup_table_ Table *table = NULL;

        table = table_new("NAME", "name", "FORMAT", "format", "SIZE", "size", "CREATED", "created_usec",
                          "VERIFIED", "verified", "KEY", "key_name", "PODS", "pods", NULL);
        if (!table)
                return log_oom();

        return run_list_verb(argc, argv, "ListImages", "(ssttusso)", table, read_image_row, "images");
}

/* "image inspect": the image's record, as JSON or as lines. */
static int inspect_one(sd_bus *bus, const char *name, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ json_t *j = NULL;
        const char *text, *key;
        json_t *v;
        int r;

        r = sd_bus_path_encode(PODCTL_BUS_IMAGE_PREFIX, name, &path);
        if (r < 0)
                return log_oom();
        r = sd_bus_call_method(bus, PODCTL_BUS_NAME, path, PODCTL_IMAGE_INTERFACE, "Inspect", &error, &reply, NULL);
        if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                sd_bus_error_free(&error);
                sd_bus_error_setf(&error, BUS_ERROR_NO_SUCH_IMAGE, "Image '%s' does not exist.", name);
        }
        if (r < 0)
                return log_bus_error(r, &error, "Failed to inspect image '%s'", name);
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the reply of Inspect: %m");
        j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        if (!j)
                return log_error_errno(EBADMSG, "Failed to parse the record of image '%s'.", name);

        if (arg_json)
                return json_print(j, stdout);

        printf("%s (image)\n", name);
        json_object_foreach(j, key, v) {
                _cleanup_free_ char *value = json_is_string(v) ? strdup(json_string_value(v)) :
                                                                 json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

                if (streq(key, "name"))
                        continue;
                printf("%20s: %s\n", key, value ?: "-");
        }
        return 0;
}

static int verb_image_inspect(int argc, char *argv[]) {
        static const VerbSyntax syntax = {
                .name = "image inspect",
                .min_args = 1,
                .max_args = -1,
                .what = "at least one image name",
        };

        return for_each_name(argc, argv, &syntax, NULL, inspect_one);
}

static int verb_image_prune(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        int i, r;

        r = parse_verb_args(argc, argv, 0, 0, NULL, &i);
        if (r <= 0)
                return r;
        r = bus_connect(&bus);
        if (r < 0)
                return r;
        r = bus_call_manager(bus, "PruneImages", BUS_TIMEOUT_DEFAULT, &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(r, &error, "Failed to prune images");
        r = sd_bus_message_read_strv(reply, &removed);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the reply of PruneImages: %m");
        for (char **n = removed; n && *n; n++)
                printf("Removed image '%s'.\n", *n);
        return 0;
}

static int rm_one(sd_bus *bus, const char *name, void *userdata) {
        const bool *force = userdata;

        return bus_call_for_name(bus, "image", name, "RemoveImage", "remove", "sb", name, (int) *force);
}

static int verb_image_rm(int argc, char *argv[]) {
        static const VerbSyntax syntax = {
                .name = "image rm",
                .short_options = FORCE_SHORT_OPTIONS,
                .options = force_options,
                .parse_option = parse_force_option,
                .min_args = 1,
                .max_args = -1,
                .what = "at least one image name",
        };
        bool force = false;

        return for_each_name(argc, argv, &syntax, &force, rm_one);
}

int verb_image(int argc, char *argv[]) {
        static const Verb verbs[] = {
                { "import",  verb_image_import  },
                { "inspect", verb_image_inspect },
                { "list",    verb_image_list    },
                { "prune",   verb_image_prune   },
                { "ls",      verb_image_list    },
                { "rm",      verb_image_rm      },
                { "remove",  verb_image_rm      },
        };

        return dispatch_group_verb(argc, argv, verbs, ELEMENTSOF(verbs), "import, inspect, list, prune or rm");
}
