/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The minisign public keys image signatures are checked against: one NAME.pub file per key,
 * in the admin's directory and in the vendor's. For the same NAME the admin's file wins; an
 * empty file there (or a symlink to /dev/null) masks the vendor key of that name. Files whose
 * names start with '.' or are not NAME.pub with a valid NAME are ignored. Directories are
 * parameters so that tests can use their own; these are the real ones. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "verify-minisign.h"

#define TRUST_STORE_ETC_DIR "/etc/podctl/trusted-keys.d"
#define TRUST_STORE_VENDOR_DIR "/usr/lib/podctl/trusted-keys.d"
#define TRUST_KEY_SUFFIX ".pub"

/* Key names: 1 to 64 of [A-Za-z0-9_.@+-], not starting with '.' or '-'. */
#define TRUST_KEY_NAME_MAX 64
/* More NAME.pub files than this, in both directories together, fail the load with -E2BIG. */
#define TRUST_STORE_KEYS_MAX 1024

typedef enum TrustKeyOrigin {
        TRUST_KEY_ORIGIN_ETC, /* the admin's directory */
        TRUST_KEY_ORIGIN_VENDOR, /* the vendor's directory */
        _TRUST_KEY_ORIGIN_MAX,
        _TRUST_KEY_ORIGIN_INVALID = -EINVAL,
} TrustKeyOrigin;

/* "etc", "vendor". */
const char *trust_key_origin_to_string(TrustKeyOrigin o);

typedef struct TrustKey {
        char name[TRUST_KEY_NAME_MAX + 1];
        TrustKeyOrigin origin;
        const char *dir; /* the directory of the file, owned by the TrustStore */
        /* A vendor key masked by the admin: listed, never used. */
        bool masked;
        /* 0, or why the file could not be used (-EBADMSG, -EPROTONOSUPPORT, -errno): listed,
         * never used, and it still shadows a vendor file of the same name. */
        int error;
        MinisignPublicKey key; /* valid if error is 0 */
} TrustKey;

typedef struct TrustStore {
        char *etc_dir;
        char *vendor_dir;
        TrustKey *keys; /* sorted by name, one per name */
        size_t n_keys;
} TrustStore;

bool trust_key_name_is_valid(const char *name);

static inline bool trust_key_is_usable(const TrustKey *k) {
        return !k->masked && k->error == 0;
}

/* Missing directories are empty. -E2BIG past TRUST_STORE_KEYS_MAX files; a single bad file
 * does not fail the load (see TrustKey.error). */
int trust_store_load(const char *etc_dir, const char *vendor_dir, TrustStore **ret);
TrustStore *trust_store_free(TrustStore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(TrustStore *, trust_store_free);
#define _cleanup_trust_store_free_ _cleanup_(trust_store_freep)

/* Any entry of that name, masked and broken ones included; NULL if none. */
const TrustKey *trust_store_find_name(const TrustStore *s, const char *name);
/* The first usable key with that id; NULL if none. */
const TrustKey *trust_store_find_id(const TrustStore *s, const uint8_t id[MINISIGN_KEY_ID_SIZE]);

/* minisign_verify() against the usable keys with the signature's key id; ret_key is the one
 * that verified. Returns minisign_verify()'s codes: -EOPNOTSUPP for a refused legacy
 * signature, -EKEYREJECTED if no usable key has that id, -EPERM if the signature fails. */
int trust_store_verify(const TrustStore *s, const MinisignSignature *sig,
                       const uint8_t prehash[MINISIGN_PREHASH_SIZE], const void *content,
                       size_t content_size, bool allow_legacy, const TrustKey **ret_key);

/* `podctl trust add`: writes key (in its canonical form, mode 0644, atomically) to
 * etc_dir/NAME.pub, creating etc_dir if need be. name NULL means the key id in hex. A mask of
 * that name is replaced (the vendor key stays hidden behind the new one). Returns 1 if written,
 * 0 if the same key is already trusted under that name; -EINVAL for a bad name, -EEXIST if
 * that name holds another key or a broken file, in either directory. ret_name (optional) is
 * the name used. */
int trust_store_add(const char *etc_dir, const char *vendor_dir, const MinisignPublicKey *key,
                    const char *name, char **ret_name);

/* `podctl trust rm`: what is a name of an entry, or else a key id (hex, as minisign prints it) of usable
 * keys. An admin key is deleted, a vendor key masked; an admin key that shadowed a vendor
 * file of its name is replaced by a mask, so that removing it does not bring the vendor key
 * back. Masked entries are not matched. Returns the number of keys removed, -ENOENT if none
 * matched. ret_names (optional) lists their names. */
int trust_store_remove(const char *etc_dir, const char *vendor_dir, const char *what, char ***ret_names);
