/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bus-errors.h"
#include "bus-polkit.h"
#include "bus-util.h"
#include "log.h"
#include "manager.h"
#include "strv.h"
#include "trust-dbus.h"
#include "trust-store.h"

/* The daemon answers one call at a time, so a pipe whose writer dawdles holds up every
 * caller: by then the key must have arrived. */
#define KEY_READ_TIMEOUT_MSEC 5000

static uint64_t now_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000ULL + (uint64_t) ts.tv_nsec / 1000000ULL;
}

/* Up to EOF: -EFBIG past MINISIGN_PUBLIC_KEY_FILE_MAX bytes, -ETIMEDOUT past
 * KEY_READ_TIMEOUT_MSEC. A regular file always polls readable; a pipe is read only when it
 * has data, so no read() waits for a writer. */
static int read_key_fd(int fd, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        uint64_t deadline = now_msec() + KEY_READ_TIMEOUT_MSEC;
        size_t size = 0;

        buf = malloc(MINISIGN_PUBLIC_KEY_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_msec();
                ssize_t n;

                if (now >= deadline)
                        return -ETIMEDOUT;
                n = poll(&p, 1, (int) (deadline - now));
                if (n == 0)
                        return -ETIMEDOUT;
                if (n > 0)
                        n = read(fd, buf + size, MINISIGN_PUBLIC_KEY_FILE_MAX + 1 - size);
                if (n < 0) {
                        /* EAGAIN: the caller's end is non-blocking and the caller read first. */
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > MINISIGN_PUBLIC_KEY_FILE_MAX)
                        return -EFBIG;
        }

        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* Why a file is no usable key: minisign_public_key_parse() and load errors. */
static const char *key_error_to_string(int error) {
        switch (error) {
        case -EBADMSG:
                return "not a minisign public key";
        case -EPROTONOSUPPORT:
                return "not an Ed25519 minisign key (unknown algorithm)";
        case -EISDIR:
                return "a directory";
        default:
                return strerror(-error);
        }
}

/* The key id as minisign prints it, or "" for a file that holds no usable key. */
static const char *key_id_string(const TrustKey *k, char buf[MINISIGN_KEY_ID_STRING_MAX]) {
        if (k->error != 0)
                return strcpy(buf, "");
        return minisign_key_id_to_string(k->key.id, buf);
}

static int check_key_name(const char *name, sd_bus_error *error) {
        if (!trust_key_name_is_valid(name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME,
                                         "Invalid key name '%.80s': use letters, digits, '_', '.', '@', '+' and '-', "
                                         "at most %d characters, not starting with '.' or '-'.",
                                         name, TRUST_KEY_NAME_MAX);
        return 0;
}

static int load_store(TrustStore **ret, sd_bus_error *error) {
        int r;

        r = trust_store_load(TRUST_STORE_ETC_DIR, TRUST_STORE_VENDOR_DIR, ret);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED, "Too many trusted key files (at most %d).",
                                         TRUST_STORE_KEYS_MAX);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILED, "Failed to read the trusted keys: %s",
                                         strerror(-r));
        return 0;
}

/* KeyExists for name, saying whether it holds a key or a file that is none. */
static int key_exists_error(const char *name, sd_bus_error *error) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        const TrustKey *k;

        if (trust_store_load(TRUST_STORE_ETC_DIR, TRUST_STORE_VENDOR_DIR, &s) >= 0) {
                k = trust_store_find_name(s, name);
                if (k && k->error != 0)
                        return sd_bus_error_setf(error, BUS_ERROR_KEY_EXISTS,
                                                 "Key name '%s' holds an unusable file, %s/%s" TRUST_KEY_SUFFIX
                                                 " (%s); remove it first or choose another name.",
                                                 name, k->dir, name, key_error_to_string(k->error));
        }
        return sd_bus_error_setf(error, BUS_ERROR_KEY_EXISTS,
                                 "Key name '%s' holds another key; remove it first or choose another name.", name);
}

/* AddTrustedKey(key_file, name) -> (name, key_id): key_file is what the caller opened with
 * its own rights; name "" is the key id. */
int bus_manager_method_add_trusted_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *text = NULL, *used = NULL;
        char id[MINISIGN_KEY_ID_STRING_MAX];
        MinisignPublicKey key;
        const char *name;
        struct stat st;
        size_t size = 0;
        int fd, r;

        r = sd_bus_message_read(message, "hs", &fd, &name);
        if (r < 0)
                return r;

        if (*name) {
                r = check_key_name(name, error);
                if (r < 0)
                        return r;
        }
        if (fstat(fd, &st) < 0)
                return sd_bus_error_set_errnof(error, errno, "Invalid file descriptor: %m");
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "The key file is neither a regular file nor a pipe.");

        /* Before reading: a pipe can keep the daemon waiting, which only those who may change
         * the store get to do. */
        r = bus_verify_polkit_async(message, "io.podctl.pod1.manage-trust",
                                    (const char *[]) { "verb", "add-trusted-key", *name ? "key" : NULL, name, NULL },
                                    &m->polkit, NULL, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        r = read_key_fd(fd, &text, &size);
        if (r == -EFBIG)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_KEY, "Invalid key: larger than %d bytes.",
                                         MINISIGN_PUBLIC_KEY_FILE_MAX);
        if (r == -ETIMEDOUT)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "The key file did not end within %d s.",
                                         KEY_READ_TIMEOUT_MSEC / 1000);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "Failed to read the key file: %s", strerror(-r));

        r = minisign_public_key_parse(text, size, &key);
        if (r == -ENOMEM || r == -EIO)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_KEY, "Invalid key: %s.", key_error_to_string(r));
        minisign_key_id_to_string(key.id, id);

        r = trust_store_add(TRUST_STORE_ETC_DIR, TRUST_STORE_VENDOR_DIR, &key, *name ? name : NULL, &used);
        if (r == -EEXIST)
                return key_exists_error(*name ? name : id, error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILED, "Failed to store key %s in %s: %s", id,
                                         TRUST_STORE_ETC_DIR, strerror(-r));
        if (r > 0)
                log_info("Trusted key %s (%s) added.", used, id);

        return sd_bus_reply_method_return(message, "ss", used, id);
}

/* ListTrustedKeys() -> a(name, key_id, comment, origin, path, masked), sorted by name. */
int bus_manager_method_list_trusted_keys(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        int r;

        r = load_store(&s, error);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssssb)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_keys; i++) {
                const TrustKey *k = s->keys + i;
                _cleanup_free_ char *path = NULL, *broken = NULL;
                char id[MINISIGN_KEY_ID_STRING_MAX];

                if (asprintf(&path, "%s/%s" TRUST_KEY_SUFFIX, k->dir, k->name) < 0)
                        return -ENOMEM;
                /* Listed so that the admin sees it, with what is wrong in place of the comment. */
                if (k->error != 0 && asprintf(&broken, "unusable: %s", key_error_to_string(k->error)) < 0)
                        return -ENOMEM;

                r = sd_bus_message_append(reply, "(sssssb)", k->name, key_id_string(k, id), broken ?: k->key.comment,
                                          trust_key_origin_to_string(k->origin), path, (int) k->masked);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* RemoveTrustedKey(name_or_id) -> removed_names: vendor keys are masked. */
int bus_manager_method_remove_trusted_key(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_trust_store_free_ TrustStore *before = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        const char *what;
        int r;

        r = sd_bus_message_read(message, "s", &what);
        if (r < 0)
                return r;
        /* Key ids are valid names too. */
        r = check_key_name(what, error);
        if (r < 0)
                return r;

        r = bus_verify_polkit_async(message, "io.podctl.pod1.manage-trust",
                                    (const char *[]) { "verb", "remove-trusted-key", "key", what, NULL }, &m->polkit, NULL, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        /* For the log: names alone do not say which keys went. */
        r = load_store(&before, error);
        if (r < 0)
                return r;

        r = trust_store_remove(TRUST_STORE_ETC_DIR, TRUST_STORE_VENDOR_DIR, what, &removed);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_KEY, "No trusted key has the name or key ID '%s'.", what);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILED, "Failed to change %s: %s", TRUST_STORE_ETC_DIR,
                                         strerror(-r));

        for (char **n = removed; n && *n; n++) {
                const TrustKey *k = trust_store_find_name(before, *n);
                char id[MINISIGN_KEY_ID_STRING_MAX] = "";

                if (k)
                        key_id_string(k, id);
                if (k && k->origin == TRUST_KEY_ORIGIN_VENDOR)
                        log_info("Vendor key %s (%s) masked.", *n, *id ? id : "unusable");
                else
                        log_info("Trusted key %s (%s) removed.", *n, *id ? id : "unusable");
        }

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(reply, removed);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
