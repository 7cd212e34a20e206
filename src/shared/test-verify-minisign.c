/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fixtures are made at test time by the real minisign, so this checks the format as minisign
 * writes it, not as we read its documentation. */
#include <ctype.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sodium.h>

#include "fileio.h"
#include "tests-minisign.h"
#include "tests.h"
#include "verify-minisign.h"

extern char **environ;

static char dir[] = "/var/tmp/test-verify-minisign-XXXXXX";
static int dir_fd = -EBADF;

/* Runs minisign in dir, stderr into stderr_file (or /dev/null). Returns its exit status,
 * -1 if it could not run. */
static int minisign(const char *stderr_file, const char *const *args) {
        return run_minisign(dir_fd >= 0 ? dir : NULL, stderr_file, args);
}

#define MINISIGN(...) minisign(NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void write_at(const char *name, const void *data, size_t size) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, data, size), (ssize_t) size);
}

static void write_string_at(const char *name, const char *s) {
        write_at(name, s, strlen(s));
}

/* The whole file, NUL-terminated. */
static char *read_at(const char *name, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf;

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(fstat(fd, &st));
        buf = malloc((size_t) st.st_size + 1);
        ASSERT_TRUE(buf);
        ASSERT_EQ(read(fd, buf, (size_t) st.st_size), st.st_size);
        buf[st.st_size] = 0;
        if (ret_size)
                *ret_size = (size_t) st.st_size;
        return buf;
}

/* text with its line number idx (from 0) replaced by line. */
static char *with_line(const char *text, unsigned idx, const char *line) {
        const char *start = text, *end;
        char *s;

        for (unsigned i = 0; i < idx; i++) {
                start = strchr(start, '\n');
                ASSERT_TRUE(start);
                start++;
        }
        end = strchr(start, '\n');
        ASSERT_TRUE(end);
        ASSERT_TRUE(asprintf(&s, "%.*s%s%s", (int) (start - text), text, line, end) > 0);
        return s;
}

/* Line idx, without its newline. */
static char *line_of(const char *text, unsigned idx) {
        for (unsigned i = 0; i < idx; i++) {
                text = strchr(text, '\n');
                ASSERT_TRUE(text);
                text++;
        }
        return strndup(text, strcspn(text, "\n"));
}

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);
        ASSERT_TRUE(s);
        memset(s, c, n);
        s[n] = 0;
        return s;
}

static int parse_sig_string(const char *text, MinisignSignature *ret) {
        return minisign_signature_parse(text, strlen(text), ret);
}

static uint8_t *data;
static size_t data_size;

TEST(setup) {
        ASSERT_TRUE(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);

        /* Large enough that streaming takes several pieces, not a multiple of any of them. */
        data_size = 300 * 1000 + 7;
        data = malloc(data_size);
        ASSERT_TRUE(data);
        for (size_t i = 0; i < data_size; i++)
                data[i] = (uint8_t) (i * 7 + i / 251);
        write_at("data", data, data_size);
        write_string_at("other", "another file\n");
        write_at("empty", "", 0);

        ASSERT_EQ(MINISIGN("-G", "-W", "-p", "a.pub", "-s", "a.key"), 0);
        ASSERT_EQ(MINISIGN("-G", "-W", "-p", "b.pub", "-s", "b.key"), 0);

        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "data", "-x", "data.minisig", "-c", "untrusted text",
                           "-t", "trusted text"),
                  0);
        ASSERT_EQ(MINISIGN("-S", "-s", "b.key", "-m", "data", "-x", "data.b.minisig", "-t", "by b"), 0);
        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "other", "-x", "other.minisig", "-t", "other"), 0);
        ASSERT_EQ(MINISIGN("-S", "-l", "-s", "a.key", "-m", "data", "-x", "data.legacy.minisig", "-t",
                           "legacy"),
                  0);
        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "empty", "-x", "empty.minisig", "-t", "empty"), 0);
        ASSERT_EQ(MINISIGN("-S", "-l", "-s", "a.key", "-m", "empty", "-x", "empty.legacy.minisig", "-t",
                           "empty"),
                  0);
        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "data", "-x", "data.utf8.minisig", "-t",
                           "Grüße\t✓ 𝄞 timestamp:1"),
                  0);
}

static void load_key(const char *name, MinisignPublicKey *ret) {
        ASSERT_OK(minisign_public_key_load_at(dir_fd, name, ret));
}

static void load_sig(const char *name, MinisignSignature *ret) {
        ASSERT_OK(minisign_signature_load_at(dir_fd, name, ret));
}

TEST(public_key) {
        _cleanup_free_ char *text = NULL, *formatted = NULL, *b64 = NULL, *s = NULL;
        char id[MINISIGN_KEY_ID_STRING_MAX], expected[128];
        MinisignPublicKey a, b, k;
        size_t size;

        text = read_at("a.pub", &size);
        ASSERT_OK(minisign_public_key_parse(text, size, &a));
        load_key("b.pub", &b);
        ASSERT_FALSE(minisign_public_key_equal(&a, &b));

        /* minisign names its keys by id in the comment; we print the id the same way. */
        snprintf(expected, sizeof expected, "minisign public key %s", minisign_key_id_to_string(a.id, id));
        ASSERT_STREQ(a.comment, expected);

        /* Our canonical form is byte for byte minisign's. */
        ASSERT_OK(minisign_public_key_format(&a, &formatted));
        ASSERT_STREQ(formatted, text);

        /* The bare base64 line, as minisign -P takes it, with or without newline. */
        b64 = line_of(text, 1);
        ASSERT_OK(minisign_public_key_parse(b64, strlen(b64), &k));
        ASSERT_TRUE(minisign_public_key_equal(&a, &k));
        ASSERT_STREQ(k.comment, expected);
        ASSERT_TRUE(asprintf(&s, "%s\n", b64) > 0);
        ASSERT_OK(minisign_public_key_parse(s, strlen(s), &k));
        free(s);

        /* CRLF line ends. */
        ASSERT_TRUE(asprintf(&s, "untrusted comment: x\r\n%s\r\n", b64) > 0);
        ASSERT_OK(minisign_public_key_parse(s, strlen(s), &k));
        ASSERT_STREQ(k.comment, "x");
        ASSERT_TRUE(minisign_public_key_equal(&a, &k));
        free(s);

        /* Malformed, and ret untouched. */
        memset(&k, 0x11, sizeof k);
        ASSERT_EQ(minisign_public_key_parse("", 0, &k), -EBADMSG);
        ASSERT_EQ(minisign_public_key_parse(NULL, 0, &k), -EBADMSG);
        ASSERT_EQ(k.id[0], 0x11);
        for (size_t i = 0; i + 1 < size; i++)
                ASSERT_EQ(minisign_public_key_parse(text, i, &k), -EBADMSG);
        ASSERT_OK(minisign_public_key_parse(text, size - 1, &k)); /* without the last newline */
        memset(&k, 0x11, sizeof k);
        ASSERT_TRUE(asprintf(&s, "%s\n", text) > 0); /* an empty line after */
        ASSERT_EQ(minisign_public_key_parse(s, strlen(s), &k), -EBADMSG);
        free(s);
        ASSERT_TRUE(asprintf(&s, "%sextra\n", text) > 0);
        ASSERT_EQ(minisign_public_key_parse(s, strlen(s), &k), -EBADMSG);
        free(s);
        ASSERT_TRUE(asprintf(&s, "untrusted comment: bell\a\n%s\n", b64) > 0);
        ASSERT_EQ(minisign_public_key_parse(s, strlen(s), &k), -EBADMSG);
        free(s);
        ASSERT_TRUE(asprintf(&s, "untrusted comment: cr\r in the middle\n%s\n", b64) > 0);
        ASSERT_EQ(minisign_public_key_parse(s, strlen(s), &k), -EBADMSG);
        free(s);
        ASSERT_TRUE(asprintf(&s, "untrusted comment: x\n%sAAAA\n", b64) > 0);
        ASSERT_EQ(minisign_public_key_parse(s, strlen(s), &k), -EBADMSG);
        free(s);
        s = strdup(text);
        s[3] = 0; /* an embedded NUL */
        ASSERT_EQ(minisign_public_key_parse(s, size, &k), -EBADMSG);
        free(s);
        ASSERT_EQ(k.id[0], 0x11);

        /* Another algorithm than "Ed". */
        {
                uint8_t raw[42];
                char enc[64];
                size_t len;

                ASSERT_EQ(sodium_base642bin(raw, sizeof raw, b64, strlen(b64), NULL, &len, NULL,
                                            sodium_base64_VARIANT_ORIGINAL),
                          0);
                ASSERT_EQ(len, sizeof raw);
                raw[1] = 'D';
                sodium_bin2base64(enc, sizeof enc, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
                ASSERT_EQ(minisign_public_key_parse(enc, strlen(enc), &k), -EPROTONOSUPPORT);
        }

        /* Files. */
        ASSERT_EQ(minisign_public_key_load_at(dir_fd, "missing.pub", &k), -ENOENT);
        ASSERT_EQ(minisign_public_key_load_at(dir_fd, ".", &k), -EISDIR);
        ASSERT_OK(mkfifoat(dir_fd, "fifo", 0600));
        ASSERT_EQ(minisign_public_key_load_at(dir_fd, "fifo", &k), -EBADMSG);
        s = repeat('A', MINISIGN_PUBLIC_KEY_FILE_MAX + 1);
        write_string_at("big.pub", s);
        ASSERT_EQ(minisign_public_key_load_at(dir_fd, "big.pub", &k), -EBADMSG);
        free(s);
        s = NULL;
        ASSERT_EQ(k.id[0], 0x11);
}

TEST(key_id) {
        _cleanup_free_ char *out = NULL;
        char a_id[MINISIGN_KEY_ID_STRING_MAX], b_id[MINISIGN_KEY_ID_STRING_MAX],
                lower[MINISIGN_KEY_ID_STRING_MAX];
        uint8_t id[MINISIGN_KEY_ID_SIZE];
        MinisignPublicKey a, b;

        load_key("a.pub", &a);
        load_key("b.pub", &b);
        minisign_key_id_to_string(a.id, a_id);
        minisign_key_id_to_string(b.id, b_id);
        ASSERT_TRUE(strlen(a_id) >= 1 && strlen(a_id) <= 16);

        /* minisign -V names both ids when they differ. */
        ASSERT_EQ(minisign("verify.err", (const char *const[]){ "-V", "-p", "a.pub", "-m", "data", "-x",
                                                                "data.b.minisig", NULL }),
                  1);
        out = read_at("verify.err", NULL);
        ASSERT_TRUE(strstr(out, a_id));
        ASSERT_TRUE(strstr(out, b_id));

        /* The id is little-endian: the last byte is printed first, without leading zeros
         * (minisign's PRIX64). */
        snprintf(lower, sizeof lower, "%X", a.id[7]);
        ASSERT_TRUE(a.id[7] == 0 || strncmp(a_id, lower, strlen(lower)) == 0);
        {
                const uint8_t small[MINISIGN_KEY_ID_SIZE] = { 0x89, 0xD7, 0xA4, 0x4E, 0x6E, 0x12, 0x30, 0x04 };
                char small_id[MINISIGN_KEY_ID_STRING_MAX];

                ASSERT_STREQ(minisign_key_id_to_string(small, small_id), "430126E4EA4D789");
                ASSERT_OK(minisign_key_id_from_string("0430126E4EA4D789", id));
                ASSERT_TRUE(memcmp(id, small, sizeof id) == 0);
                ASSERT_OK(minisign_key_id_from_string("430126E4EA4D789", id));
                ASSERT_TRUE(memcmp(id, small, sizeof id) == 0);
        }

        ASSERT_OK(minisign_key_id_from_string(a_id, id));
        ASSERT_TRUE(memcmp(id, a.id, sizeof id) == 0);
        for (size_t i = 0; i < sizeof lower; i++)
                lower[i] = (char) tolower(a_id[i]);
        memset(id, 0, sizeof id);
        ASSERT_OK(minisign_key_id_from_string(lower, id));
        ASSERT_TRUE(memcmp(id, a.id, sizeof id) == 0);

        ASSERT_EQ(minisign_key_id_from_string("", id), -EINVAL);
        ASSERT_EQ(minisign_key_id_from_string(NULL, id), -EINVAL);
        ASSERT_EQ(minisign_key_id_from_string("0123456789ABCDEF0", id), -EINVAL);
        ASSERT_EQ(minisign_key_id_from_string("0123456789ABCDEG", id), -EINVAL);
        ASSERT_EQ(minisign_key_id_from_string(" 123456789ABCDEF", id), -EINVAL);
}

/* The prehash of data, fed in pieces of the given size. */
static void hash_data(size_t piece, uint8_t ret[MINISIGN_PREHASH_SIZE]) {
        _cleanup_minisign_hash_ MinisignHash h = {};

        ASSERT_OK(minisign_hash_init(&h));
        for (size_t done = 0; done < data_size; done += piece)
                ASSERT_OK(minisign_hash_update(&h, data + done,
                                               done + piece > data_size ? data_size - done : piece));
        ASSERT_OK(minisign_hash_final(&h, ret));
}

TEST(hash) {
        _cleanup_minisign_hash_ MinisignHash h = {};
        uint8_t whole[MINISIGN_PREHASH_SIZE], streamed[MINISIGN_PREHASH_SIZE];

        ASSERT_EQ(crypto_generichash(whole, sizeof whole, data, data_size, NULL, 0), 0);
        for (size_t piece = 1; piece < data_size; piece = piece * 3 + 1) {
                hash_data(piece, streamed);
                ASSERT_TRUE(memcmp(whole, streamed, sizeof whole) == 0);
        }

        ASSERT_OK(minisign_hash_init(&h));
        ASSERT_OK(minisign_hash_update(&h, NULL, 0));
        ASSERT_EQ(minisign_hash_update(&h, NULL, 1), -EINVAL);
        ASSERT_OK(minisign_hash_final(&h, streamed));
        ASSERT_TRUE(!h.ctx);
        ASSERT_EQ(minisign_hash_update(&h, data, 1), -EINVAL);
        ASSERT_EQ(minisign_hash_final(&h, streamed), -EINVAL);
        minisign_hash_done(&h);
        minisign_hash_done(&h);
}

/* BLAKE2b-512 (RFC 7693, appendix A; the empty input from the reference implementation),
 * streamed and in one piece. */
TEST(hash_vectors) {
        static const uint8_t empty[MINISIGN_PREHASH_SIZE] = {
                0x78, 0x6a, 0x02, 0xf7, 0x42, 0x01, 0x59, 0x03, 0xc6, 0xc6, 0xfd, 0x85, 0x25, 0x52, 0xd2, 0x72,
                0x91, 0x2f, 0x47, 0x40, 0xe1, 0x58, 0x47, 0x61, 0x8a, 0x86, 0xe2, 0x17, 0xf7, 0x1f, 0x54, 0x19,
                0xd2, 0x5e, 0x10, 0x31, 0xaf, 0xee, 0x58, 0x53, 0x13, 0x89, 0x64, 0x44, 0x93, 0x4e, 0xb0, 0x4b,
                0x90, 0x3a, 0x68, 0x5b, 0x14, 0x48, 0xb7, 0x55, 0xd5, 0x6f, 0x70, 0x1a, 0xfe, 0x9b, 0xe2, 0xce,
        };
        static const uint8_t abc[MINISIGN_PREHASH_SIZE] = {
                0xba, 0x80, 0xa5, 0x3f, 0x98, 0x1c, 0x4d, 0x0d, 0x6a, 0x27, 0x97, 0xb6, 0x9f, 0x12, 0xf6, 0xe9,
                0x4c, 0x21, 0x2f, 0x14, 0x68, 0x5a, 0xc4, 0xb7, 0x4b, 0x12, 0xbb, 0x6f, 0xdb, 0xff, 0xa2, 0xd1,
                0x7d, 0x87, 0xc5, 0x39, 0x2a, 0xab, 0x79, 0x2d, 0xc2, 0x52, 0xd5, 0xde, 0x45, 0x33, 0xcc, 0x95,
                0x18, 0xd3, 0x8a, 0xa8, 0xdb, 0xf1, 0x92, 0x5a, 0xb9, 0x23, 0x86, 0xed, 0xd4, 0x00, 0x99, 0x23,
        };
        _cleanup_minisign_hash_ MinisignHash h = {};
        uint8_t d[MINISIGN_PREHASH_SIZE];

        ASSERT_OK(minisign_hash_init(&h));
        ASSERT_OK(minisign_hash_final(&h, d));
        ASSERT_TRUE(memcmp(d, empty, sizeof d) == 0);

        ASSERT_OK(minisign_hash_init(&h));
        ASSERT_OK(minisign_hash_update(&h, "a", 1));
        ASSERT_OK(minisign_hash_update(&h, "bc", 2));
        ASSERT_OK(minisign_hash_final(&h, d));
        ASSERT_TRUE(memcmp(d, abc, sizeof d) == 0);

        ASSERT_OK(digest_buffer(DIGEST_BLAKE2B_512, "abc", 3, d));
        ASSERT_TRUE(memcmp(d, abc, sizeof d) == 0);
        ASSERT_OK(digest_buffer(DIGEST_BLAKE2B_512, "", 0, d));
        ASSERT_TRUE(memcmp(d, empty, sizeof d) == 0);

        /* Left for the cleanup to free. */
        ASSERT_OK(minisign_hash_init(&h));
        ASSERT_OK(minisign_hash_update(&h, "abc", 3));
}

TEST(good) {
        MinisignSignature sig;
        MinisignPublicKey a;
        uint8_t prehash[MINISIGN_PREHASH_SIZE];

        load_key("a.pub", &a);
        load_sig("data.minisig", &sig);
        ASSERT_EQ(sig.algorithm, MINISIGN_ALGORITHM_PREHASHED);
        ASSERT_STREQ(minisign_algorithm_to_string(sig.algorithm), "prehashed");
        ASSERT_STREQ(sig.untrusted_comment, "untrusted text");
        ASSERT_STREQ(sig.trusted_comment, "trusted text");
        ASSERT_TRUE(memcmp(sig.key_id, a.id, sizeof a.id) == 0);

        hash_data(4096, prehash);
        ASSERT_EQ(minisign_verify_precheck(&sig, &a, false), 0);
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), 0);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, data, data_size, false), 0);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, NULL, 0, false), -EINVAL);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, NULL, 1, false), -EINVAL);

        /* Non-ASCII trusted comments survive the round trip. */
        load_sig("data.utf8.minisig", &sig);
        ASSERT_STREQ(sig.trusted_comment, "Grüße\t✓ 𝄞 timestamp:1");
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), 0);

        /* An empty file. */
        load_sig("empty.minisig", &sig);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, "", 0, false), 0);
        load_sig("empty.legacy.minisig", &sig);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, "", 0, true), 0);

        /* From a pipe. */
        {
                _cleanup_free_ char *text = NULL;
                int pipefd[2];
                size_t size;

                text = read_at("data.minisig", &size);
                ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
                ASSERT_EQ(write(pipefd[1], text, size), (ssize_t) size);
                close(pipefd[1]);
                ASSERT_OK(minisign_signature_load_fd(pipefd[0], &sig));
                close(pipefd[0]);
                ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), 0);
        }
}

TEST(tampered_file) {
        MinisignSignature sig;
        MinisignPublicKey a;
        uint8_t prehash[MINISIGN_PREHASH_SIZE];

        load_key("a.pub", &a);
        load_sig("data.minisig", &sig);

        data[data_size / 2] ^= 1;
        hash_data(65536, prehash);
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), -EPERM);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, data, data_size, false), -EPERM);
        data[data_size / 2] ^= 1;

        /* One byte short. */
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, data, data_size - 1, false), -EPERM);
        hash_data(65536, prehash);
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), 0);
}

TEST(untrusted_key) {
        MinisignSignature sig;
        MinisignPublicKey a, b;
        uint8_t prehash[MINISIGN_PREHASH_SIZE];

        load_key("a.pub", &a);
        load_key("b.pub", &b);
        load_sig("data.b.minisig", &sig);
        hash_data(65536, prehash);

        ASSERT_EQ(minisign_verify_precheck(&sig, &a, false), -EKEYREJECTED);
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), -EKEYREJECTED);
        ASSERT_EQ(minisign_verify(&sig, &b, prehash, NULL, 0, false), 0);

        /* A key claiming b's id is still not b. */
        memcpy(a.id, b.id, sizeof a.id);
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), -EPERM);
}

TEST(other_file) {
        MinisignSignature sig;
        MinisignPublicKey a;
        uint8_t prehash[MINISIGN_PREHASH_SIZE];

        load_key("a.pub", &a);
        load_sig("other.minisig", &sig);
        hash_data(65536, prehash);
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), -EPERM);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, "another file\n", 13, false), 0);
}

TEST(tampered_trusted_comment) {
        _cleanup_free_ char *text = NULL, *other = NULL, *s = NULL, *global = NULL;
        MinisignSignature sig;
        MinisignPublicKey a;
        uint8_t prehash[MINISIGN_PREHASH_SIZE];

        load_key("a.pub", &a);
        hash_data(65536, prehash);
        text = read_at("data.minisig", NULL);

        /* The file signature still holds; the global one does not. */
        s = with_line(text, 2, "trusted comment: trusted teXt");
        ASSERT_OK(parse_sig_string(s, &sig));
        ASSERT_STREQ(sig.trusted_comment, "trusted teXt");
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), -EPERM);
        free(s);

        s = with_line(text, 2, "trusted comment: trusted text ");
        ASSERT_OK(parse_sig_string(s, &sig));
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), -EPERM);
        free(s);

        /* The trusted comment and global signature of another signature by the same key. */
        other = read_at("other.minisig", NULL);
        global = line_of(other, 3);
        s = with_line(text, 2, "trusted comment: other");
        {
                _cleanup_free_ char *t = with_line(s, 3, global);
                ASSERT_OK(parse_sig_string(t, &sig));
                ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), -EPERM);
        }

        /* The untrusted comment is not signed. */
        free(s);
        s = with_line(text, 0, "untrusted comment: anything");
        ASSERT_OK(parse_sig_string(s, &sig));
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), 0);
}

TEST(malformed) {
        _cleanup_free_ char *text = NULL, *s = NULL, *t = NULL;
        MinisignSignature sig;
        size_t size;

        text = read_at("data.minisig", &size);
        memset(&sig, 0x11, sizeof sig);

        /* Every truncation but the one that drops the final newline. */
        for (size_t i = 0; i + 1 < size; i++)
                ASSERT_EQ(minisign_signature_parse(text, i, &sig), -EBADMSG);
        ASSERT_EQ(sig.key_id[0], 0x11);
        ASSERT_OK(minisign_signature_parse(text, size - 1, &sig));

        /* Garbage. */
        ASSERT_EQ(parse_sig_string("hello\n", &sig), -EBADMSG);
        ASSERT_EQ(minisign_signature_parse(NULL, 0, &sig), -EBADMSG);
        s = read_at("a.pub", &size);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        {
                uint8_t noise[512];

                randombytes_buf(noise, sizeof noise);
                ASSERT_EQ(minisign_signature_parse((const char *) noise, sizeof noise, &sig), -EBADMSG);
        }

        /* Lines added, doubled or missing. */
        ASSERT_TRUE(asprintf(&s, "%s\n", text) > 0);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        ASSERT_TRUE(asprintf(&s, "%sextra", text) > 0);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        ASSERT_TRUE(asprintf(&s, "\n%s", text) > 0);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 0, "");
        ASSERT_EQ(parse_sig_string(s + 1, &sig), -EBADMSG); /* no untrusted comment line */
        free(s);

        /* Prefixes. */
        s = with_line(text, 0, "Untrusted comment: x");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 0, "untrusted comment:x");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 2, "trusted comment:trusted text");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 2, "untrusted comment: trusted text");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);

        /* Comments must be printable UTF-8. */
        s = with_line(text, 2, "trusted comment: a\x01z");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 2, "trusted comment: \xc3\x28");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 2, "trusted comment: \xc0\xaf"); /* overlong '/' */
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 2, "trusted comment: \xed\xa0\x80"); /* a surrogate */
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 2, "trusted comment: \xc2\x85"); /* C1 NEL */
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 0, "untrusted comment: \x7f");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        s = with_line(text, 2, "trusted comment: a\rb");
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);

        /* An embedded NUL. */
        s = strdup(text);
        size = strlen(s);
        s[25] = 0;
        ASSERT_EQ(minisign_signature_parse(s, size, &sig), -EBADMSG);
        free(s);

        /* Base64: length, alphabet, padding, and non-canonical trailing bits. */
        t = line_of(text, 1);
        ASSERT_EQ(strlen(t), 100);
        ASSERT_EQ(t[99], '=');
        s = with_line(text, 1, t + 4);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        t[10] = '-';
        s = with_line(text, 1, t);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        free(t);
        t = line_of(text, 1);
        t[99] = 'A';
        s = with_line(text, 1, t);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        t[99] = '=';
        /* 74 bytes end in 2 bits of the last data character: '=' must follow a character
         * whose low 2 bits are zero. */
        t[98] = t[98] == 'B' ? 'C' : 'B';
        s = with_line(text, 1, t);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        free(t);
        t = line_of(text, 3);
        ASSERT_EQ(strlen(t), 88);
        t[87] = 0; /* one '=' short */
        s = with_line(text, 3, t);
        ASSERT_EQ(parse_sig_string(s, &sig), -EBADMSG);
        free(s);
        free(t);
        t = NULL;

        /* CRLF is fine. */
        {
                _cleanup_free_ char *crlf = malloc(strlen(text) * 2 + 1);
                char *w = crlf;
                MinisignPublicKey a;
                uint8_t prehash[MINISIGN_PREHASH_SIZE];

                for (const char *r = text; *r; r++) {
                        if (*r == '\n')
                                *w++ = '\r';
                        *w++ = *r;
                }
                *w = 0;
                ASSERT_OK(parse_sig_string(crlf, &sig));
                ASSERT_STREQ(sig.trusted_comment, "trusted text");
                load_key("a.pub", &a);
                hash_data(65536, prehash);
                ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, false), 0);
        }

        /* Too large. */
        memset(&sig, 0x11, sizeof sig);
        s = repeat('x', MINISIGN_SIGNATURE_FILE_MAX + 1);
        ASSERT_EQ(minisign_signature_parse(s, MINISIGN_SIGNATURE_FILE_MAX + 1, &sig), -EBADMSG);
        write_string_at("big.minisig", s);
        ASSERT_EQ(minisign_signature_load_at(dir_fd, "big.minisig", &sig), -EBADMSG);
        free(s);
        s = NULL;
        ASSERT_EQ(minisign_signature_load_at(dir_fd, "missing.minisig", &sig), -ENOENT);
        ASSERT_EQ(sig.key_id[0], 0x11);
}

/* The alg bytes of the .minisig text replaced. */
static char *with_algorithm(const char *text, const char alg[2]) {
        _cleanup_free_ char *line = line_of(text, 1);
        uint8_t raw[74];
        char enc[128];
        size_t len;

        ASSERT_EQ(sodium_base642bin(raw, sizeof raw, line, strlen(line), NULL, &len, NULL,
                                    sodium_base64_VARIANT_ORIGINAL),
                  0);
        ASSERT_EQ(len, sizeof raw);
        memcpy(raw, alg, 2);
        sodium_bin2base64(enc, sizeof enc, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
        return with_line(text, 1, enc);
}

TEST(algorithm) {
        _cleanup_free_ char *text = NULL, *s = NULL, *t = NULL;
        MinisignSignature sig;

        text = read_at("data.minisig", NULL);
        s = with_algorithm(text, "XX");
        ASSERT_EQ(parse_sig_string(s, &sig), -EPROTONOSUPPORT);
        free(s);
        s = with_algorithm(text, "ed");
        ASSERT_EQ(parse_sig_string(s, &sig), -EPROTONOSUPPORT);

        /* Malformed wins over an unknown algorithm. */
        t = with_line(s, 2, "trusted comment\n");
        ASSERT_EQ(parse_sig_string(t, &sig), -EBADMSG);
        free(s);

        /* Relabelled as legacy, the prehashed signature is wrong for the whole file. */
        s = with_algorithm(text, "Ed");
        ASSERT_OK(parse_sig_string(s, &sig));
        ASSERT_EQ(sig.algorithm, MINISIGN_ALGORITHM_LEGACY);
        {
                MinisignPublicKey a;

                load_key("a.pub", &a);
                ASSERT_EQ(minisign_verify(&sig, &a, NULL, data, data_size, true), -EPERM);
        }
}

TEST(legacy) {
        MinisignSignature sig;
        MinisignPublicKey a, b;
        uint8_t prehash[MINISIGN_PREHASH_SIZE];

        load_key("a.pub", &a);
        load_key("b.pub", &b);
        load_sig("data.legacy.minisig", &sig);
        ASSERT_EQ(sig.algorithm, MINISIGN_ALGORITHM_LEGACY);
        ASSERT_STREQ(minisign_algorithm_to_string(sig.algorithm), "legacy");
        ASSERT_STREQ(sig.trusted_comment, "legacy");
        hash_data(65536, prehash);

        ASSERT_EQ(minisign_verify_precheck(&sig, &a, false), -EOPNOTSUPP);
        ASSERT_EQ(minisign_verify_precheck(&sig, NULL, false), -EOPNOTSUPP);
        ASSERT_EQ(minisign_verify_precheck(&sig, &a, true), 0);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, data, data_size, false), -EOPNOTSUPP);
        /* Refused before the key is even looked at. */
        ASSERT_EQ(minisign_verify(&sig, &b, NULL, data, data_size, false), -EOPNOTSUPP);

        ASSERT_EQ(minisign_verify(&sig, &a, NULL, data, data_size, true), 0);
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, data, data_size, true), 0);
        /* A digest is not enough for a legacy signature. */
        ASSERT_EQ(minisign_verify(&sig, &a, prehash, NULL, 0, true), -EINVAL);
        ASSERT_EQ(minisign_verify(&sig, &b, NULL, data, data_size, true), -EKEYREJECTED);

        data[0] ^= 0x80;
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, data, data_size, true), -EPERM);
        data[0] ^= 0x80;
}

/* minisign's signer writes lines of at most 4095 bytes, its verifier reads longer trusted
 * comments: sign those ourselves, with the secret key minisign -G -W wrote (unencrypted:
 * "Ed", KDF "\0\0", "B2", salt[32], opslimit[8], memlimit[8], key id[8], secret key[64],
 * checksum[32]). */
static void sign_other(const char *sig_file, const char *trusted_comment) {
        _cleanup_free_ char *key_text = NULL, *key_b64 = NULL, *out = NULL;
        uint8_t raw[158], prehash[MINISIGN_PREHASH_SIZE], blob[74], global[64];
        char blob_b64[128], global_b64[128];
        const uint8_t *id = raw + 2 + 2 + 2 + 32 + 8 + 8, *sk = id + 8;
        size_t len, tc = strlen(trusted_comment);
        uint8_t *signed_comment;

        key_text = read_at("a.key", NULL);
        key_b64 = line_of(key_text, 1);
        ASSERT_EQ(sodium_base642bin(raw, sizeof raw, key_b64, strlen(key_b64), NULL, &len, NULL,
                                    sodium_base64_VARIANT_ORIGINAL),
                  0);
        ASSERT_EQ(len, sizeof raw);
        ASSERT_TRUE(memcmp(raw, "Ed\0\0B2", 6) == 0);

        ASSERT_EQ(
                crypto_generichash(prehash, sizeof prehash, (const uint8_t *) "another file\n", 13, NULL, 0),
                0);
        memcpy(blob, "ED", 2);
        memcpy(blob + 2, id, 8);
        ASSERT_EQ(crypto_sign_detached(blob + 10, NULL, prehash, sizeof prehash, sk), 0);

        signed_comment = malloc(64 + tc);
        ASSERT_TRUE(signed_comment);
        memcpy(signed_comment, blob + 10, 64);
        memcpy(signed_comment + 64, trusted_comment, tc);
        ASSERT_EQ(crypto_sign_detached(global, NULL, signed_comment, 64 + tc, sk), 0);
        free(signed_comment);

        sodium_bin2base64(blob_b64, sizeof blob_b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
        sodium_bin2base64(global_b64, sizeof global_b64, global, sizeof global,
                          sodium_base64_VARIANT_ORIGINAL);
        ASSERT_TRUE(asprintf(&out, "untrusted comment: made by the test\n%s\ntrusted comment: %s\n%s\n",
                             blob_b64, trusted_comment, global_b64) > 0);
        write_string_at(sig_file, out);
}

TEST(comment_limits) {
        _cleanup_free_ char *longest = NULL, *too_long = NULL;
        MinisignSignature sig;
        MinisignPublicKey a;

        load_key("a.pub", &a);

        /* Our signer agrees with minisign's. */
        sign_other("ours.minisig", "short");
        ASSERT_EQ(MINISIGN("-V", "-p", "a.pub", "-m", "other", "-x", "ours.minisig"), 0);

        /* The longest trusted comment minisign's verifier takes; so do we. One more byte and
         * neither does. */
        longest = repeat('t', MINISIGN_TRUSTED_COMMENT_MAX);
        sign_other("long.minisig", longest);
        ASSERT_EQ(MINISIGN("-V", "-p", "a.pub", "-m", "other", "-x", "long.minisig"), 0);
        load_sig("long.minisig", &sig);
        ASSERT_STREQ(sig.trusted_comment, longest);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, "another file\n", 13, false), 0);

        too_long = repeat('t', MINISIGN_TRUSTED_COMMENT_MAX + 1);
        sign_other("too-long.minisig", too_long);
        ASSERT_TRUE(MINISIGN("-V", "-p", "a.pub", "-m", "other", "-x", "too-long.minisig") != 0);
        ASSERT_EQ(minisign_signature_load_at(dir_fd, "too-long.minisig", &sig), -EBADMSG);
        free(longest);
        free(too_long);

        /* The longest trusted comment minisign's signer writes. */
        longest = repeat('t', 4096 - 1 - STRLEN("trusted comment: ") - 1);
        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "other", "-x", "long2.minisig", "-t", longest), 0);
        load_sig("long2.minisig", &sig);
        ASSERT_STREQ(sig.trusted_comment, longest);
        ASSERT_EQ(minisign_verify(&sig, &a, NULL, "another file\n", 13, false), 0);
        free(longest);

        /* The longest untrusted comment minisign reads back, and one more. */
        longest = repeat('u', MINISIGN_UNTRUSTED_COMMENT_MAX);
        too_long = repeat('u', MINISIGN_UNTRUSTED_COMMENT_MAX + 1);
        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "other", "-x", "u.minisig", "-c", longest), 0);
        ASSERT_EQ(MINISIGN("-V", "-p", "a.pub", "-m", "other", "-x", "u.minisig"), 0);
        load_sig("u.minisig", &sig);
        ASSERT_STREQ(sig.untrusted_comment, longest);
        ASSERT_EQ(MINISIGN("-S", "-s", "a.key", "-m", "other", "-x", "u2.minisig", "-c", too_long), 0);
        ASSERT_TRUE(MINISIGN("-V", "-p", "a.pub", "-m", "other", "-x", "u2.minisig") != 0);
        ASSERT_EQ(minisign_signature_load_at(dir_fd, "u2.minisig", &sig), -EBADMSG);
}

int main(void) {
        const char *version[] = { "-v", NULL };

        ASSERT_TRUE(sodium_init() >= 0);
        RUN(hash_vectors);
        /* The rest needs the minisign tool for its fixtures; CI installs it. */
        if (minisign(NULL, version) != 0) {
                fprintf(stderr, "minisign not found, skipping.\n");
                return 77;
        }

        RUN(setup);
        RUN(public_key);
        RUN(key_id);
        RUN(hash);
        RUN(good);
        RUN(tampered_file);
        RUN(untrusted_key);
        RUN(other_file);
        RUN(tampered_trusted_comment);
        RUN(malformed);
        RUN(algorithm);
        RUN(legacy);
        RUN(comment_limits);

        ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
        free(data);
        close(dir_fd);
        return 0;
}
