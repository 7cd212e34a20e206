/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* import_run() as the import child runs it: staging, checksums, minisign signatures
 * against a trust store (fixtures made with the real minisign tool), format detection,
 * and the named error of each failure. Needs root (owners are kept) and minisign. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bus-errors.h"
#include "fileio.h"
#include "import.h"
#include "tests.h"

static char dir[] = "/var/tmp/test-import-XXXXXX";
static char trusted[PATH_MAX], untrusted[PATH_MAX], vendor[PATH_MAX];

static void sh(const char *format, ...) _printf_(1, 2);
static void sh(const char *format, ...) {
        _cleanup_free_ char *cmd = NULL, *full = NULL;
        va_list ap;

        va_start(ap, format);
        ASSERT_TRUE(vasprintf(&cmd, format, ap) > 0);
        va_end(ap);
        ASSERT_TRUE(asprintf(&full, "cd %s && { %s; } >/dev/null 2>&1", dir, cmd) > 0);
        if (system(full) != 0) {
                fprintf(stderr, "failed: %s\n", cmd);
                abort();
        }
}

static int open_in(const char *name) {
        _cleanup_free_ char *p = NULL;
        int fd;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) > 0);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        return fd;
}

/* Runs one import of file (with signature sig, if not NULL) into fresh directories;
 * returns import_run()'s result (or the signature parser's), the error name in *ret_error (or
 * NULL) and the record. */
static int run(const char *file, const char *sig, ImportOptions o, const char **ret_error, json_t **ret_record) {
        _cleanup_(import_error_done) ImportError e = {};
        _cleanup_close_ int source = open_in(file), work_fd = -EBADF, tree_fd = -EBADF;
        MinisignSignature signature;
        char work[PATH_MAX], tree[PATH_MAX];
        json_t *record = NULL;
        int r;

        /* The daemon parses it from the call, before the import, and refuses a malformed one. */
        if (sig) {
                _cleanup_close_ int sig_fd = open_in(sig);

                r = minisign_signature_load_fd(sig_fd, &signature);
                if (r < 0) {
                        *ret_error = BUS_ERROR_SIGNATURE_MALFORMED;
                        return r;
                }
                o.signature = &signature;
        }
        snprintf(work, sizeof work, "%s/work", dir);
        snprintf(tree, sizeof tree, "%s/tree", dir);
        ASSERT_OK(mkdir(work, 0700));
        ASSERT_OK(mkdir(tree, 0755));
        work_fd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        tree_fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(work_fd >= 0 && tree_fd >= 0);
        if (!o.trust_etc_dir)
                o.trust_etc_dir = trusted;
        o.trust_vendor_dir = vendor;
        o.progress_fd = -EBADF;
        if (o.limits.max_bytes == 0)
                o.limits = EXTRACT_LIMITS_DEFAULT;

        r = import_run(source, work_fd, tree_fd, &o, &record, &e);
        *ret_error = e.name;
        if (r < 0)
                ASSERT_TRUE(e.name && e.message);
        if (ret_record)
                *ret_record = record;
        else
                json_decref(record);

        ASSERT_OK(rm_rf_at(AT_FDCWD, work));
        ASSERT_OK(rm_rf_at(AT_FDCWD, tree));
        return r;
}

static const ImportOptions plain = { .format = IMAGE_FORMAT_AUTO, .verify = IMPORT_VERIFY_NO };

static void setup(void) {
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(trusted, sizeof trusted, "%s/trusted", dir);
        snprintf(untrusted, sizeof untrusted, "%s/untrusted", dir);
        snprintf(vendor, sizeof vendor, "%s/vendor", dir);
        ASSERT_OK(mkdir(trusted, 0755));
        ASSERT_OK(mkdir(untrusted, 0755));

        /* A tree, its tar, a key pair the store trusts and one it does not. */
        sh("mkdir -p t/etc t/bin && echo hello >t/etc/greeting && ln -s ../etc/greeting t/bin/link");
        sh("tar -C t -cf img.tar . && gzip -k img.tar");
        sh("minisign -G -W -p good.pub -s good.key && minisign -G -W -p other.pub -s other.key");
        sh("cp good.pub trusted/good.pub");
        sh("minisign -S -s good.key -m img.tar -x img.tar.minisig -t 'release 1'");
        sh("minisign -S -s other.key -m img.tar -x img.tar.other.minisig");
        sh("minisign -S -l -s good.key -m img.tar -x img.tar.legacy.minisig");
        sh("minisign -S -s good.key -m img.tar.gz -x img.tar.gz.minisig");
        sh("cp img.tar tampered.tar && printf x >>tampered.tar");
        sh("head -c 40 img.tar.minisig >truncated.minisig && echo garbage >garbage.minisig");
        sh("head -c 100000 /dev/urandom >garbage.bin");
        sh("mkdir b && head -c 3000000 /dev/urandom >b/data && tar -C b -cf big.tar .");
        sh("minisign -S -s good.key -m big.tar -x big.tar.minisig");
}

TEST(unverified_tar) {
        const char *error;
        json_t *record;
        uint8_t hash[crypto_hash_sha256_BYTES];
        char hex[crypto_hash_sha256_BYTES * 2 + 1], want[80];
        _cleanup_close_ int fd = open_in("img.tar");
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;

        ASSERT_OK(run("img.tar", NULL, plain, &error, &record));
        ASSERT_TRUE(error == NULL);
        ASSERT_STREQ(json_string_value(json_object_get(record, "format")), "tar");
        ASSERT_STREQ(json_string_value(json_object_get(record, "verified")), "no");
        ASSERT_TRUE(json_object_get(record, "key_id") == NULL);

        /* The digest is the sha256 of the bytes imported. */
        ASSERT_OK(fstat(fd, &st));
        buf = malloc((size_t) st.st_size);
        ASSERT_TRUE(buf && read(fd, buf, (size_t) st.st_size) == st.st_size);
        crypto_hash_sha256(hash, buf, (unsigned long long) st.st_size);
        sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
        snprintf(want, sizeof want, "sha256:%s", hex);
        ASSERT_STREQ(json_string_value(json_object_get(record, "digest")), want);
        ASSERT_EQ(json_integer_value(json_object_get(record, "source_size")), st.st_size);
        json_decref(record);

        /* Compressed, detected as a tar all the same. */
        ASSERT_OK(run("img.tar.gz", NULL, plain, &error, &record));
        ASSERT_STREQ(json_string_value(json_object_get(record, "format")), "tar");
        json_decref(record);
}

TEST(checksum) {
        ImportOptions o = plain;
        const char *error;
        json_t *record;

        o.verify = IMPORT_VERIFY_CHECKSUM;
        ASSERT_OK(run("img.tar", NULL, plain, &error, &record));
        o.sha256 = json_string_value(json_object_get(record, "digest")) + strlen("sha256:");
        ASSERT_OK(run("img.tar", NULL, o, &error, NULL));
        json_decref(record);

        o.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
        ASSERT_EQ(run("img.tar", NULL, o, &error, NULL), -EBADMSG);
        ASSERT_STREQ(error, BUS_ERROR_CHECKSUM_MISMATCH);
}

TEST(signatures) {
        ImportOptions o = plain;
        const char *error;
        json_t *record;

        o.verify = IMPORT_VERIFY_SIGNATURE;
        ASSERT_OK(run("img.tar", "img.tar.minisig", o, &error, &record));
        ASSERT_STREQ(json_string_value(json_object_get(record, "verified")), "signature");
        ASSERT_STREQ(json_string_value(json_object_get(record, "key_name")), "good");
        ASSERT_STREQ(json_string_value(json_object_get(record, "trusted_comment")), "release 1");
        ASSERT_TRUE(strlen(json_string_value(json_object_get(record, "key_id"))) <= 16);
        json_decref(record);
        ASSERT_OK(run("img.tar.gz", "img.tar.gz.minisig", o, &error, NULL));

        /* Each way it can be wrong has its own error. */
        ASSERT_TRUE(run("tampered.tar", "img.tar.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_SIGNATURE_INVALID);
        ASSERT_TRUE(run("img.tar.gz", "img.tar.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_SIGNATURE_INVALID);
        ASSERT_TRUE(run("img.tar", "img.tar.other.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_UNTRUSTED_KEY);
        ASSERT_TRUE(run("img.tar", "truncated.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_SIGNATURE_MALFORMED);
        ASSERT_TRUE(run("img.tar", "garbage.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_SIGNATURE_MALFORMED);
        ASSERT_TRUE(run("img.tar", "img.tar.legacy.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_LEGACY_SIGNATURE);

        /* Positive controls: the same with the key trusted, legacy allowed. */
        o.trust_etc_dir = untrusted;
        ASSERT_TRUE(run("img.tar", "img.tar.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_UNTRUSTED_KEY);
        o.trust_etc_dir = NULL;
        o.allow_legacy_signature = true;
        ASSERT_OK(run("img.tar", "img.tar.legacy.minisig", o, &error, NULL));
}

TEST(broken_input) {
        const char *error;

        ASSERT_TRUE(run("garbage.bin", NULL, plain, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_IMPORT_FAILED);

        /* Bounded before anything is unpacked. */
        ImportOptions o = plain;
        o.limits = EXTRACT_LIMITS_DEFAULT;
        o.limits.max_bytes = 1000;
        ASSERT_TRUE(run("img.tar", NULL, o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_UNSAFE_ARCHIVE);

        /* Stopped while staging, with both hashers running: past the first buffer by the
         * bound, and by a read error (a directory). ASan checks nothing is left behind. */
        o.verify = IMPORT_VERIFY_SIGNATURE;
        o.limits.max_bytes = 2000000;
        ASSERT_TRUE(run("big.tar", "big.tar.minisig", o, &error, NULL) < 0);
        ASSERT_STREQ(error, BUS_ERROR_UNSAFE_ARCHIVE);
        o.limits.max_bytes = 4000000;
        ASSERT_OK(run("big.tar", "big.tar.minisig", o, &error, NULL));
        o.limits = EXTRACT_LIMITS_DEFAULT;
        ASSERT_EQ(run(".", "img.tar.minisig", o, &error, NULL), -EISDIR);
        ASSERT_STREQ(error, BUS_ERROR_IMPORT_FAILED);
}

TEST(detect) {
        _cleanup_close_ int tar = -EBADF, gz = -EBADF, sq = -EBADF, ero = -EBADF;

        tar = open_in("img.tar");
        gz = open_in("img.tar.gz");
        ASSERT_EQ(import_detect_format(tar), IMAGE_FORMAT_TAR);
        ASSERT_EQ(import_detect_format(gz), IMAGE_FORMAT_TAR);
        sh("mksquashfs t img.squashfs -quiet -noappend && mkfs.erofs img.erofs t");
        sq = open_in("img.squashfs");
        ero = open_in("img.erofs");
        ASSERT_EQ(import_detect_format(sq), IMAGE_FORMAT_SQUASHFS);
        ASSERT_EQ(import_detect_format(ero), IMAGE_FORMAT_EROFS);
}

int main(void) {
        if (geteuid() != 0)
                return 77;
        ASSERT_TRUE(sodium_init() >= 0);
        setup();
        RUN(unverified_tar);
        RUN(checksum);
        RUN(signatures);
        RUN(broken_input);
        RUN(detect);
        ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
        return 0;
}
