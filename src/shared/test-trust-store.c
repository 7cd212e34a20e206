/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "strv.h"
#include "tests-minisign.h"
#include "tests.h"
#include "trust-store.h"

extern char **environ;

static char dir[] = "/var/tmp/test-trust-store-XXXXXX";
static char etc[sizeof dir + 16], vendor[sizeof dir + 16];
static int dir_fd = -EBADF;

/* Runs minisign in dir with stdio on /dev/null; its exit status, -1 if it could not run. */
static int minisign(const char *const *args) {
        return run_minisign(dir_fd >= 0 ? dir : NULL, NULL, args);
}

#define MINISIGN(...) minisign((const char *const[]){ __VA_ARGS__, NULL })

/* path relative to dir. */
static void write_file(const char *path, const char *s) {
        _cleanup_close_ int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t) strlen(s));
}

static char *read_file(const char *path) {
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf;

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(fstat(fd, &st));
        buf = malloc((size_t) st.st_size + 1);
        ASSERT_TRUE(buf);
        ASSERT_EQ(read(fd, buf, (size_t) st.st_size), st.st_size);
        buf[st.st_size] = 0;
        return buf;
}

static bool exists(const char *path) {
        return faccessat(dir_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

static void copy_file(const char *from, const char *to) {
        _cleanup_free_ char *s = read_file(from);
        write_file(to, s);
}

static MinisignPublicKey key_a, key_b, key_c;
static char id_a[MINISIGN_KEY_ID_STRING_MAX], id_b[MINISIGN_KEY_ID_STRING_MAX],
        id_c[MINISIGN_KEY_ID_STRING_MAX];

static TrustStore *load(void) {
        TrustStore *s = NULL;

        ASSERT_OK(trust_store_load(etc, vendor, &s));
        ASSERT_TRUE(s);
        return s;
}

TEST(setup) {
        ASSERT_TRUE(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        /* etc is left for trust_store_add() to create, parents included. */
        snprintf(etc, sizeof etc, "%s/etc/keys.d", dir);
        snprintf(vendor, sizeof vendor, "%s/vendor", dir);
        ASSERT_OK(mkdirat(dir_fd, "vendor", 0755));

        ASSERT_EQ(MINISIGN("-G", "-W", "-p", "a.pub", "-s", "a.key"), 0);
        ASSERT_EQ(MINISIGN("-G", "-W", "-p", "b.pub", "-s", "b.key"), 0);
        ASSERT_EQ(MINISIGN("-G", "-W", "-p", "c.pub", "-s", "c.key"), 0);
        write_file("data", "image\n");
        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "data", "-x", "data.a.minisig"), 0);
        ASSERT_EQ(MINISIGN("-S", "-s", "b.key", "-m", "data", "-x", "data.b.minisig"), 0);
        ASSERT_EQ(MINISIGN("-S", "-s", "c.key", "-m", "data", "-x", "data.c.minisig"), 0);
        ASSERT_EQ(MINISIGN("-S", "-l", "-s", "a.key", "-m", "data", "-x", "data.legacy.minisig"), 0);

        ASSERT_OK(minisign_public_key_load_at(dir_fd, "a.pub", &key_a));
        ASSERT_OK(minisign_public_key_load_at(dir_fd, "b.pub", &key_b));
        ASSERT_OK(minisign_public_key_load_at(dir_fd, "c.pub", &key_c));
        minisign_key_id_to_string(key_a.id, id_a);
        minisign_key_id_to_string(key_b.id, id_b);
        minisign_key_id_to_string(key_c.id, id_c);
}

TEST(names) {
        ASSERT_TRUE(trust_key_name_is_valid("a"));
        ASSERT_TRUE(trust_key_name_is_valid("release-2024"));
        ASSERT_TRUE(trust_key_name_is_valid("Vendor_Key.v2"));
        ASSERT_TRUE(trust_key_name_is_valid("ops+sign@example.org"));
        ASSERT_TRUE(trust_key_name_is_valid("0123456789ABCDEF"));
        ASSERT_TRUE(
                trust_key_name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));

        ASSERT_FALSE(trust_key_name_is_valid(NULL));
        ASSERT_FALSE(trust_key_name_is_valid(""));
        ASSERT_FALSE(trust_key_name_is_valid(
                "01234567890123456789012345678901234567890123456789012345678901234"));
        ASSERT_FALSE(trust_key_name_is_valid("."));
        ASSERT_FALSE(trust_key_name_is_valid(".."));
        ASSERT_FALSE(trust_key_name_is_valid(".hidden"));
        ASSERT_FALSE(trust_key_name_is_valid("-rf"));
        ASSERT_FALSE(trust_key_name_is_valid("a/b"));
        ASSERT_FALSE(trust_key_name_is_valid("../etc"));
        ASSERT_FALSE(trust_key_name_is_valid("a b"));
        ASSERT_FALSE(trust_key_name_is_valid("a\nb"));
        ASSERT_FALSE(trust_key_name_is_valid("clé"));
        ASSERT_FALSE(trust_key_name_is_valid("a*"));

        ASSERT_STREQ(trust_key_origin_to_string(TRUST_KEY_ORIGIN_ETC), "etc");
        ASSERT_STREQ(trust_key_origin_to_string(TRUST_KEY_ORIGIN_VENDOR), "vendor");
        ASSERT_TRUE(!trust_key_origin_to_string(_TRUST_KEY_ORIGIN_MAX));
}

TEST(empty) {
        _cleanup_trust_store_free_ TrustStore *s = load();

        /* Neither directory needs to exist. */
        ASSERT_EQ(s->n_keys, 0);
        ASSERT_TRUE(!trust_store_find_id(s, key_a.id));
        s = trust_store_free(s);
        ASSERT_OK(trust_store_load("/nonexistent/etc", NULL, &s));
        ASSERT_EQ(s->n_keys, 0);
        ASSERT_TRUE(!exists("etc"));
        ASSERT_EQ(trust_store_remove(etc, vendor, id_a, NULL), -ENOENT);
}

TEST(add) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        _cleanup_free_ char *name = NULL, *text = NULL, *original = NULL;
        MinisignPublicKey bad;
        struct stat st;
        mode_t old_umask;

        /* Written 0644 whatever the umask. */
        old_umask = umask(077);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_a, NULL, &name), 1);
        umask(old_umask);
        ASSERT_STREQ(name, id_a);
        free(name);
        name = NULL;

        {
                char path[64];

                snprintf(path, sizeof path, "etc/keys.d/%s.pub", id_a);
                ASSERT_OK(fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW));
                ASSERT_TRUE(S_ISREG(st.st_mode));
                ASSERT_EQ(st.st_mode & 07777, 0644);
                /* Exactly minisign's file. */
                text = read_file(path);
                original = read_file("a.pub");
                ASSERT_STREQ(text, original);
        }

        /* Again: nothing to do. Another key under that name: refused. */
        ASSERT_EQ(trust_store_add(etc, vendor, &key_a, NULL, NULL), 0);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, id_a, NULL), -EEXIST);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_a, "alice", &name), 1);
        ASSERT_STREQ(name, "alice");

        /* Bad names. */
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "", NULL), -EINVAL);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "../b", NULL), -EINVAL);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "b/c", NULL), -EINVAL);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, ".b", NULL), -EINVAL);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "-b", NULL), -EINVAL);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b,
                                  "01234567890123456789012345678901234567890123456789012345678901234", NULL),
                  -EINVAL);

        /* A comment that would break the file. */
        bad = key_b;
        strcpy(bad.comment, "two\nlines");
        ASSERT_EQ(trust_store_add(etc, vendor, &bad, "bad", NULL), -EINVAL);
        ASSERT_TRUE(!exists("etc/keys.d/bad.pub"));

        /* No temporary files left. */
        s = load();
        ASSERT_EQ(s->n_keys, 2);
        ASSERT_STREQ(s->keys[0].name, id_a);
        ASSERT_STREQ(s->keys[1].name, "alice");
        /* Sorted: hex digits before lowercase letters. */
        for (size_t i = 0; i < s->n_keys; i++) {
                ASSERT_EQ(s->keys[i].origin, TRUST_KEY_ORIGIN_ETC);
                ASSERT_STREQ(s->keys[i].dir, etc);
                ASSERT_FALSE(s->keys[i].masked);
                ASSERT_EQ(s->keys[i].error, 0);
                ASSERT_TRUE(minisign_public_key_equal(&s->keys[i].key, &key_a));
        }
        ASSERT_TRUE(trust_store_find_id(s, key_a.id) == s->keys);
        ASSERT_TRUE(!trust_store_find_id(s, key_b.id));
        ASSERT_TRUE(trust_store_find_name(s, "alice") == s->keys + 1);
        ASSERT_TRUE(!trust_store_find_name(s, "bob"));
}

TEST(bad_key_files) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        _cleanup_free_ char *big = NULL;
        const TrustKey *k;
        MinisignPublicKey key;

        /* What `podctl trust add FILE` would be given. */
        write_file("garbage.pub", "untrusted comment: x\nnot base64\n");
        ASSERT_EQ(minisign_public_key_load_at(dir_fd, "garbage.pub", &key), -EBADMSG);
        ASSERT_EQ(minisign_public_key_load_at(dir_fd, "a.key", &key), -EBADMSG); /* a secret key */
        ASSERT_EQ(minisign_public_key_load_at(dir_fd, "data.a.minisig", &key), -EBADMSG);

        /* In the store: listed with their error, never used, and not overwritten. */
        write_file("etc/keys.d/broken.pub", "untrusted comment: x\nnot base64\n");
        big = malloc(MINISIGN_PUBLIC_KEY_FILE_MAX + 2);
        ASSERT_TRUE(big);
        memset(big, 'A', MINISIGN_PUBLIC_KEY_FILE_MAX + 1);
        big[MINISIGN_PUBLIC_KEY_FILE_MAX + 1] = 0;
        write_file("vendor/big.pub", big);
        ASSERT_OK(mkdirat(dir_fd, "vendor/dir.pub", 0755));

        s = load();
        k = trust_store_find_name(s, "broken");
        ASSERT_TRUE(k);
        ASSERT_EQ(k->error, -EBADMSG);
        ASSERT_FALSE(trust_key_is_usable(k));
        k = trust_store_find_name(s, "big");
        ASSERT_TRUE(k);
        ASSERT_EQ(k->origin, TRUST_KEY_ORIGIN_VENDOR);
        ASSERT_EQ(k->error, -EBADMSG);
        k = trust_store_find_name(s, "dir");
        ASSERT_TRUE(k);
        ASSERT_EQ(k->error, -EISDIR);

        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "broken", NULL), -EEXIST);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "big", NULL), -EEXIST);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "dir", NULL), -EEXIST);

        /* A broken admin file still removable by name. */
        ASSERT_EQ(trust_store_remove(etc, vendor, "broken", NULL), 1);
        ASSERT_TRUE(!exists("etc/keys.d/broken.pub"));
        ASSERT_OK(unlinkat(dir_fd, "vendor/big.pub", 0));
        ASSERT_OK(unlinkat(dir_fd, "vendor/dir.pub", AT_REMOVEDIR));
}

TEST(ignored_files) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        size_t n;

        s = load();
        n = s->n_keys;
        s = trust_store_free(s);

        copy_file("b.pub", "etc/keys.d/.hidden.pub");
        copy_file("b.pub", "etc/keys.d/.tmp-x.pub-0123");
        copy_file("b.pub", "etc/keys.d/README");
        copy_file("b.pub", "etc/keys.d/b.pub~");
        copy_file("b.pub", "etc/keys.d/.pub");
        copy_file("b.pub", "etc/keys.d/a b.pub");
        s = load();
        ASSERT_EQ(s->n_keys, n);
        ASSERT_TRUE(!trust_store_find_id(s, key_b.id));
}

TEST(vendor) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        const TrustKey *k;

        /* vendor: "shared" is b, "vend" is c; the admin's "shared" (a) wins. */
        copy_file("b.pub", "vendor/shared.pub");
        copy_file("c.pub", "vendor/vend.pub");
        copy_file("a.pub", "etc/keys.d/shared.pub");

        s = load();
        k = trust_store_find_name(s, "shared");
        ASSERT_TRUE(k);
        ASSERT_EQ(k->origin, TRUST_KEY_ORIGIN_ETC);
        ASSERT_STREQ(k->dir, etc);
        ASSERT_TRUE(minisign_public_key_equal(&k->key, &key_a));
        ASSERT_TRUE(!trust_store_find_id(s, key_b.id));

        k = trust_store_find_name(s, "vend");
        ASSERT_TRUE(k);
        ASSERT_EQ(k->origin, TRUST_KEY_ORIGIN_VENDOR);
        ASSERT_STREQ(k->dir, vendor);
        ASSERT_TRUE(trust_key_is_usable(k));
        ASSERT_TRUE(trust_store_find_id(s, key_c.id) == k);

        /* One entry per name. */
        for (size_t i = 0; i + 1 < s->n_keys; i++)
                ASSERT_TRUE(strcmp(s->keys[i].name, s->keys[i + 1].name) < 0);

        /* Adding under a vendor name: the same key is already there, another is refused. */
        ASSERT_EQ(trust_store_add(etc, vendor, &key_c, "vend", NULL), 0);
        ASSERT_EQ(trust_store_add(etc, vendor, &key_a, "vend", NULL), -EEXIST);
        ASSERT_TRUE(!exists("etc/keys.d/vend.pub"));
}

TEST(verify) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        const TrustKey *k = NULL;
        MinisignSignature sig;

        s = load();
        ASSERT_OK(minisign_signature_load_at(dir_fd, "data.a.minisig", &sig));
        ASSERT_EQ(trust_store_verify(s, &sig, NULL, "image\n", 6, false, &k), 0);
        ASSERT_TRUE(k && minisign_public_key_equal(&k->key, &key_a));
        ASSERT_EQ(trust_store_verify(s, &sig, NULL, "imagE\n", 6, false, NULL), -EPERM);

        /* b is shadowed by the admin's "shared". */
        ASSERT_OK(minisign_signature_load_at(dir_fd, "data.b.minisig", &sig));
        ASSERT_EQ(trust_store_verify(s, &sig, NULL, "image\n", 6, false, NULL), -EKEYREJECTED);

        ASSERT_OK(minisign_signature_load_at(dir_fd, "data.c.minisig", &sig));
        k = NULL;
        ASSERT_EQ(trust_store_verify(s, &sig, NULL, "image\n", 6, false, &k), 0);
        ASSERT_TRUE(k && strcmp(k->name, "vend") == 0);

        ASSERT_OK(minisign_signature_load_at(dir_fd, "data.legacy.minisig", &sig));
        ASSERT_EQ(trust_store_verify(s, &sig, NULL, "image\n", 6, false, NULL), -EOPNOTSUPP);
        ASSERT_EQ(trust_store_verify(s, &sig, NULL, "image\n", 6, true, NULL), 0);

        /* A key that merely claims a's id, sorted first, does not hide the real a. */
        {
                _cleanup_free_ char *text = NULL;
                MinisignPublicKey fake = key_b;

                memcpy(fake.id, key_a.id, sizeof fake.id);
                ASSERT_OK(minisign_public_key_format(&fake, &text));
                write_file("etc/keys.d/0-fake.pub", text);
                s = trust_store_free(s);
                s = load();
                ASSERT_STREQ(s->keys[0].name, "0-fake");
                ASSERT_OK(minisign_signature_load_at(dir_fd, "data.a.minisig", &sig));
                k = NULL;
                ASSERT_EQ(trust_store_verify(s, &sig, NULL, "image\n", 6, false, &k), 0);
                ASSERT_TRUE(k && minisign_public_key_equal(&k->key, &key_a));
                ASSERT_OK(unlinkat(dir_fd, "etc/keys.d/0-fake.pub", 0));
        }
}

TEST(mask) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        const TrustKey *k;
        MinisignSignature sig;

        /* An empty admin file masks the vendor's c. */
        write_file("etc/keys.d/vend.pub", "");
        s = load();
        k = trust_store_find_name(s, "vend");
        ASSERT_TRUE(k);
        ASSERT_TRUE(k->masked);
        ASSERT_EQ(k->origin, TRUST_KEY_ORIGIN_VENDOR);
        ASSERT_TRUE(minisign_public_key_equal(&k->key, &key_c)); /* still shown */
        ASSERT_TRUE(!trust_store_find_id(s, key_c.id));
        ASSERT_OK(minisign_signature_load_at(dir_fd, "data.c.minisig", &sig));
        ASSERT_EQ(trust_store_verify(s, &sig, NULL, "image\n", 6, false, NULL), -EKEYREJECTED);
        /* Masked keys are not removed again. */
        ASSERT_EQ(trust_store_remove(etc, vendor, "vend", NULL), -ENOENT);
        ASSERT_EQ(trust_store_remove(etc, vendor, id_c, NULL), -ENOENT);
        s = trust_store_free(s);

        /* So does a symlink to /dev/null. */
        ASSERT_OK(unlinkat(dir_fd, "etc/keys.d/vend.pub", 0));
        ASSERT_OK(symlinkat("/dev/null", dir_fd, "etc/keys.d/vend.pub"));
        s = load();
        k = trust_store_find_name(s, "vend");
        ASSERT_TRUE(k && k->masked);
        ASSERT_TRUE(!trust_store_find_id(s, key_c.id));
        s = trust_store_free(s);

        /* A mask of nothing shows nowhere. */
        write_file("etc/keys.d/nothing.pub", "");
        s = load();
        ASSERT_TRUE(!trust_store_find_name(s, "nothing"));
        ASSERT_OK(unlinkat(dir_fd, "etc/keys.d/nothing.pub", 0));
        s = trust_store_free(s);

        /* Adding a key under a masked name replaces the mask; the vendor key stays hidden. */
        ASSERT_EQ(trust_store_add(etc, vendor, &key_b, "vend", NULL), 1);
        s = load();
        k = trust_store_find_name(s, "vend");
        ASSERT_TRUE(k && !k->masked);
        ASSERT_EQ(k->origin, TRUST_KEY_ORIGIN_ETC);
        ASSERT_TRUE(minisign_public_key_equal(&k->key, &key_b));
        ASSERT_TRUE(!trust_store_find_id(s, key_c.id));
        ASSERT_TRUE(trust_store_find_id(s, key_b.id) == k);
}

TEST(remove) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *text = NULL;
        const TrustKey *k;

        /* An admin key with no vendor file of its name: deleted. */
        ASSERT_EQ(trust_store_remove(etc, vendor, "alice", &names), 1);
        ASSERT_STREQ(names[0], "alice");
        ASSERT_TRUE(!names[1]);
        ASSERT_TRUE(!exists("etc/keys.d/alice.pub"));

        /* An admin key shadowing a vendor one: masked, so the vendor key does not come back. */
        ASSERT_EQ(trust_store_remove(etc, vendor, "vend", NULL), 1);
        text = read_file("etc/keys.d/vend.pub");
        ASSERT_STREQ(text, "");
        s = load();
        k = trust_store_find_name(s, "vend");
        ASSERT_TRUE(k && k->masked && k->origin == TRUST_KEY_ORIGIN_VENDOR);
        ASSERT_TRUE(!trust_store_find_id(s, key_b.id));
        ASSERT_TRUE(!trust_store_find_id(s, key_c.id));
        s = trust_store_free(s);

        /* A vendor key, by id: masked with an empty 0644 file. */
        copy_file("c.pub", "vendor/other-c.pub");
        ASSERT_EQ(trust_store_remove(etc, vendor, id_c, NULL), 1);
        {
                struct stat st;

                ASSERT_OK(fstatat(dir_fd, "etc/keys.d/other-c.pub", &st, AT_SYMLINK_NOFOLLOW));
                ASSERT_TRUE(S_ISREG(st.st_mode));
                ASSERT_EQ(st.st_size, 0);
                ASSERT_EQ(st.st_mode & 07777, 0644);
        }
        ASSERT_TRUE(exists("vendor/other-c.pub"));

        /* By id, all keys with it: a is in etc as id_a and as "shared" (over the vendor's b). */
        strv_free(names);
        names = NULL;
        ASSERT_EQ(trust_store_remove(etc, vendor, id_a, &names), 1); /* the name id_a matches first */
        ASSERT_STREQ(names[0], id_a);
        {
                char lower[MINISIGN_KEY_ID_STRING_MAX];

                for (size_t i = 0; i < sizeof lower; i++)
                        lower[i] = (char) (id_a[i] >= 'A' && id_a[i] <= 'F' ? id_a[i] - 'A' + 'a' : id_a[i]);
                strv_free(names);
                names = NULL;
                ASSERT_EQ(trust_store_remove(etc, vendor, lower, &names), 1);
                ASSERT_STREQ(names[0], "shared");
        }
        s = load();
        k = trust_store_find_name(s, "shared");
        ASSERT_TRUE(k && k->masked && k->origin == TRUST_KEY_ORIGIN_VENDOR);
        ASSERT_TRUE(!trust_store_find_id(s, key_a.id));
        ASSERT_TRUE(!trust_store_find_id(s, key_b.id));
        for (size_t i = 0; i < s->n_keys; i++)
                ASSERT_FALSE(trust_key_is_usable(s->keys + i));

        ASSERT_EQ(trust_store_remove(etc, vendor, "nobody", NULL), -ENOENT);
        ASSERT_EQ(trust_store_remove(etc, vendor, "0123456789ABCDEF", NULL), -ENOENT);

        /* Unmasking is the admin deleting the mask. */
        ASSERT_OK(unlinkat(dir_fd, "etc/keys.d/other-c.pub", 0));
        s = trust_store_free(s);
        s = load();
        ASSERT_TRUE(trust_store_find_id(s, key_c.id));
}

TEST(limit) {
        _cleanup_trust_store_free_ TrustStore *s = NULL;
        char path[64];

        ASSERT_OK(mkdirat(dir_fd, "many", 0755));
        for (unsigned i = 0; i < TRUST_STORE_KEYS_MAX; i++) {
                snprintf(path, sizeof path, "many/k%u.pub", i);
                write_file(path, "");
        }
        snprintf(path, sizeof path, "%s/many", dir);
        ASSERT_OK(trust_store_load(path, NULL, &s));
        ASSERT_EQ(s->n_keys, 0); /* masks of nothing */
        s = trust_store_free(s);

        write_file("many/one-more.pub", "");
        ASSERT_EQ(trust_store_load(path, NULL, &s), -E2BIG);
        ASSERT_TRUE(!s);
}

int main(void) {
        const char *version[] = { "-v", NULL };

        /* Needs the minisign tool for its fixtures; CI installs it. */
        if (minisign(version) != 0) {
                fprintf(stderr, "minisign not found, skipping.\n");
                return 77;
        }

        RUN(setup);
        RUN(names);
        RUN(empty);
        RUN(add);
        RUN(bad_key_files);
        RUN(ignored_files);
        RUN(vendor);
        RUN(verify);
        RUN(mask);
        RUN(remove);
        RUN(limit);

        ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
        close(dir_fd);
        return 0;
}
