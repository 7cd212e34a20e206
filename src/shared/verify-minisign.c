/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "digest.h"
#include "fileio.h"
#include "verify-minisign.h"

#define UNTRUSTED_COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_COMMENT_PREFIX "trusted comment: "

#define ALG_LEGACY "Ed"
#define ALG_PREHASHED "ED"
#define ALG_SIZE 2

/* The binary blobs behind the base64 lines. */
#define PUBLIC_KEY_RAW_SIZE (ALG_SIZE + MINISIGN_KEY_ID_SIZE + MINISIGN_KEY_SIZE)
#define SIGNATURE_RAW_SIZE (ALG_SIZE + MINISIGN_KEY_ID_SIZE + MINISIGN_SIGNATURE_SIZE)

/* Their exact base64 lengths, padding included. */
#define B64_LEN(n) (sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) - 1)

static const char *const minisign_algorithm_table[_MINISIGN_ALGORITHM_MAX] = {
        [MINISIGN_ALGORITHM_LEGACY] = "legacy",
        [MINISIGN_ALGORITHM_PREHASHED] = "prehashed",
};

const char *minisign_algorithm_to_string(MinisignAlgorithm a) {
        return a >= 0 && a < _MINISIGN_ALGORITHM_MAX ? minisign_algorithm_table[a] : NULL;
}

static int sodium_ready(void) {
        /* Idempotent and thread-safe; fails only without a usable entropy source. */
        return sodium_init() < 0 ? -EIO : 0;
}

char *minisign_key_id_to_string(const uint8_t id[MINISIGN_KEY_ID_SIZE],
                                char buf[MINISIGN_KEY_ID_STRING_MAX]) {
        uint64_t v = 0;

        /* minisign prints the id as a little-endian integer in hex (PRIX64): last byte first,
         * without leading zeros. */
        for (size_t i = 0; i < MINISIGN_KEY_ID_SIZE; i++)
                v |= (uint64_t) id[i] << (8 * i);
        snprintf(buf, MINISIGN_KEY_ID_STRING_MAX, "%" PRIX64, v);
        return buf;
}

static int unhex_char(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int minisign_key_id_from_string(const char *s, uint8_t ret[MINISIGN_KEY_ID_SIZE]) {
        size_t n = s ? strlen(s) : 0;
        uint64_t v = 0;

        /* As minisign prints it, without leading zeros, or padded to 16 digits. */
        if (n == 0 || n > 2 * MINISIGN_KEY_ID_SIZE)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                int d = unhex_char(s[i]);

                if (d < 0)
                        return -EINVAL;
                v = v << 4 | (uint64_t) d;
        }

        for (size_t i = 0; i < MINISIGN_KEY_ID_SIZE; i++)
                ret[i] = (uint8_t) (v >> (8 * i));
        return 0;
}

/* Printable UTF-8, as minisign wants of trusted comments: no control characters but tab (C0,
 * DEL or C1), no overlong forms, surrogates or code points past U+10FFFF. This also makes the
 * comments valid D-Bus strings and safe to print. */
static bool comment_is_valid(const char *s, size_t n) {
        const uint8_t *p = (const uint8_t *) s, *end = p + n;

        while (p < end) {
                uint8_t c = *p++;
                uint32_t cp;
                size_t need;

                if (c == '\t' || (c >= 0x20 && c < 0x7f))
                        continue;
                /* Controls, DEL, stray continuation bytes, overlong 2-byte leads, past U+10FFFF. */
                if (c < 0xc2 || c > 0xf4)
                        return false;

                need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
                if ((size_t) (end - p) < need)
                        return false;
                cp = c & (need == 1 ? 0x1f : need == 2 ? 0x0f : 0x07);
                for (size_t i = 0; i < need; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
                        return false;
                p += need;
        }
        return true;
}

/* The next line at *p without its "\n" or "\r\n"; only the last line may lack the newline,
 * which the caller tells by *p reaching end. A '\r' elsewhere is malformed. */
static int next_line(const char **p, const char *end, const char **ret, size_t *ret_len) {
        const char *line = *p, *nl;
        size_t n;

        if (line >= end)
                return -EBADMSG;

        nl = memchr(line, '\n', (size_t) (end - line));
        n = nl ? (size_t) (nl - line) : (size_t) (end - line);
        if (nl && n > 0 && line[n - 1] == '\r')
                n--;
        if (memchr(line, '\r', n))
                return -EBADMSG;

        *p = nl ? nl + 1 : end;
        *ret = line;
        *ret_len = n;
        return 0;
}

static bool has_prefix(const char *line, size_t n, const char *prefix) {
        size_t l = strlen(prefix);

        return n >= l && memcmp(line, prefix, l) == 0;
}

/* A comment line's text after prefix into buf (max bytes plus NUL). */
static int parse_comment(const char *line, size_t n, const char *prefix, char *buf, size_t max) {
        size_t l = strlen(prefix);

        if (!has_prefix(line, n, prefix))
                return -EBADMSG;
        line += l;
        n -= l;
        if (n > max || !comment_is_valid(line, n))
                return -EBADMSG;

        memcpy(buf, line, n);
        buf[n] = 0;
        return 0;
}

/* Exactly the canonical padded standard base64 of size bytes. */
static int parse_base64(const char *line, size_t n, uint8_t *ret, size_t size) {
        const char *b64_end = NULL;
        size_t len = 0;
        int r;

        if (n != B64_LEN(size))
                return -EBADMSG;
        /* libsodium also rejects non-zero bits in the padding, so there is one encoding only. */
        r = sodium_base642bin(ret, size, line, n, NULL, &len, &b64_end, sodium_base64_VARIANT_ORIGINAL);
        if (r != 0 || b64_end != line + n || len != size)
                return -EBADMSG;
        return 0;
}

int minisign_public_key_parse(const char *text, size_t size, MinisignPublicKey *ret) {
        MinisignPublicKey k = {};
        uint8_t raw[PUBLIC_KEY_RAW_SIZE];
        const char *p, *end, *line;
        bool commented;
        size_t n;
        int r;

        if ((!text && size > 0) || !ret)
                return -EINVAL;
        if (size == 0 || size > MINISIGN_PUBLIC_KEY_FILE_MAX || memchr(text, 0, size))
                return -EBADMSG;
        r = sodium_ready();
        if (r < 0)
                return r;

        p = text;
        end = text + size;
        r = next_line(&p, end, &line, &n);
        if (r < 0)
                return r;
        commented = has_prefix(line, n, UNTRUSTED_COMMENT_PREFIX);
        if (commented) {
                r = parse_comment(line, n, UNTRUSTED_COMMENT_PREFIX, k.comment,
                                  MINISIGN_UNTRUSTED_COMMENT_MAX);
                if (r < 0)
                        return r;
                r = next_line(&p, end, &line, &n);
                if (r < 0)
                        return r;
        }
        if (p != end)
                return -EBADMSG;

        r = parse_base64(line, n, raw, sizeof raw);
        if (r < 0)
                return r;
        if (memcmp(raw, ALG_LEGACY, ALG_SIZE) != 0)
                return -EPROTONOSUPPORT;

        memcpy(k.id, raw + ALG_SIZE, sizeof k.id);
        memcpy(k.key, raw + ALG_SIZE + sizeof k.id, sizeof k.key);
        if (!commented) {
                char id[MINISIGN_KEY_ID_STRING_MAX];

                /* What minisign -G writes. */
                snprintf(k.comment, sizeof k.comment, "minisign public key %s",
                         minisign_key_id_to_string(k.id, id));
        }

        *ret = k;
        return 0;
}

int minisign_public_key_format(const MinisignPublicKey *key, char **ret) {
        uint8_t raw[PUBLIC_KEY_RAW_SIZE];
        char b64[B64_LEN(PUBLIC_KEY_RAW_SIZE) + 1];
        size_t n;
        char *s;

        if (!key || !ret)
                return -EINVAL;
        /* The comment lands in a file: it must stay one line. */
        n = strnlen(key->comment, sizeof key->comment);
        if (n > MINISIGN_UNTRUSTED_COMMENT_MAX || !comment_is_valid(key->comment, n))
                return -EINVAL;
        if (sodium_ready() < 0)
                return -EIO;

        memcpy(raw, ALG_LEGACY, ALG_SIZE);
        memcpy(raw + ALG_SIZE, key->id, sizeof key->id);
        memcpy(raw + ALG_SIZE + sizeof key->id, key->key, sizeof key->key);
        sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);

        if (asprintf(&s, UNTRUSTED_COMMENT_PREFIX "%s\n%s\n", key->comment, b64) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

bool minisign_public_key_equal(const MinisignPublicKey *a, const MinisignPublicKey *b) {
        return memcmp(a->id, b->id, sizeof a->id) == 0 && memcmp(a->key, b->key, sizeof a->key) == 0;
}

int minisign_signature_parse(const char *text, size_t size, MinisignSignature *ret) {
        uint8_t raw[SIGNATURE_RAW_SIZE];
        const char *p, *end, *line;
        MinisignSignature *s;
        size_t n;
        int r;

        if ((!text && size > 0) || !ret)
                return -EINVAL;
        if (size == 0 || size > MINISIGN_SIGNATURE_FILE_MAX || memchr(text, 0, size))
                return -EBADMSG;
        r = sodium_ready();
        if (r < 0)
                return r;

        /* About 9 KiB: not on the stack of a fuzzer or a daemon's event loop. */
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;

        p = text;
        end = text + size;

        r = next_line(&p, end, &line, &n);
        if (r >= 0)
                r = parse_comment(line, n, UNTRUSTED_COMMENT_PREFIX, s->untrusted_comment,
                                  MINISIGN_UNTRUSTED_COMMENT_MAX);
        if (r >= 0)
                r = next_line(&p, end, &line, &n);
        if (r >= 0)
                r = parse_base64(line, n, raw, sizeof raw);
        if (r >= 0)
                r = next_line(&p, end, &line, &n);
        if (r >= 0)
                r = parse_comment(line, n, TRUSTED_COMMENT_PREFIX, s->trusted_comment,
                                  MINISIGN_TRUSTED_COMMENT_MAX);
        if (r >= 0)
                r = next_line(&p, end, &line, &n);
        if (r >= 0)
                r = parse_base64(line, n, s->global_signature, sizeof s->global_signature);
        if (r >= 0 && p != end)
                r = -EBADMSG;
        if (r >= 0) {
                /* Only once the rest is well-formed, so that garbage is always -EBADMSG. */
                if (memcmp(raw, ALG_PREHASHED, ALG_SIZE) == 0)
                        s->algorithm = MINISIGN_ALGORITHM_PREHASHED;
                else if (memcmp(raw, ALG_LEGACY, ALG_SIZE) == 0)
                        s->algorithm = MINISIGN_ALGORITHM_LEGACY;
                else
                        r = -EPROTONOSUPPORT;
        }
        if (r < 0) {
                free(s);
                return r;
        }

        memcpy(s->key_id, raw + ALG_SIZE, sizeof s->key_id);
        memcpy(s->signature, raw + ALG_SIZE + sizeof s->key_id, sizeof s->signature);
        *ret = *s;
        free(s);
        return 0;
}

static int open_regular_at(int dir_fd, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (!path)
                return -EINVAL;
        /* O_NONBLOCK: a FIFO planted here must not hang the open. */
        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        return TAKE_FD(fd);
}

int minisign_public_key_load_fd(int fd, MinisignPublicKey *ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        if (fd < 0 || !ret)
                return -EINVAL;
        r = read_fd_bounded(fd, MINISIGN_PUBLIC_KEY_FILE_MAX, &text, &size);
        if (r < 0)
                return r == -EFBIG ? -EBADMSG : r;
        return minisign_public_key_parse(text, size, ret);
}

int minisign_public_key_load_at(int dir_fd, const char *path, MinisignPublicKey *ret) {
        _cleanup_close_ int fd = -EBADF;

        fd = open_regular_at(dir_fd, path);
        if (fd < 0)
                return fd;
        return minisign_public_key_load_fd(fd, ret);
}

int minisign_signature_load_fd(int fd, MinisignSignature *ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        if (fd < 0 || !ret)
                return -EINVAL;
        r = read_fd_bounded(fd, MINISIGN_SIGNATURE_FILE_MAX, &text, &size);
        if (r < 0)
                return r == -EFBIG ? -EBADMSG : r;
        return minisign_signature_parse(text, size, ret);
}

int minisign_signature_load_at(int dir_fd, const char *path, MinisignSignature *ret) {
        _cleanup_close_ int fd = -EBADF;

        fd = open_regular_at(dir_fd, path);
        if (fd < 0)
                return fd;
        return minisign_signature_load_fd(fd, ret);
}

int minisign_hash_init(MinisignHash *h) {
        if (!h)
                return -EINVAL;
        return digest_new(DIGEST_BLAKE2B_512, &h->ctx);
}

int minisign_hash_update(MinisignHash *h, const void *data, size_t size) {
        if (!h || !h->ctx || (!data && size > 0))
                return -EINVAL;
        if (size == 0)
                return 0;
        return EVP_DigestUpdate(h->ctx, data, size) == 1 ? 0 : -EIO;
}

int minisign_hash_final(MinisignHash *h, uint8_t ret[MINISIGN_PREHASH_SIZE]) {
        uint8_t digest[MINISIGN_PREHASH_SIZE];
        int r;

        if (!h || !h->ctx || !ret)
                return -EINVAL;

        r = digest_final(h->ctx, digest);
        minisign_hash_done(h);
        if (r < 0)
                return r;

        memcpy(ret, digest, sizeof digest);
        return 0;
}

void minisign_hash_done(MinisignHash *h) {
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        h->ctx = NULL;
}

int minisign_verify_precheck(const MinisignSignature *sig, const MinisignPublicKey *key, bool allow_legacy) {
        if (!sig || sig->algorithm < 0 || sig->algorithm >= _MINISIGN_ALGORITHM_MAX)
                return -EINVAL;
        if (sig->algorithm == MINISIGN_ALGORITHM_LEGACY && !allow_legacy)
                return -EOPNOTSUPP;
        if (key && memcmp(sig->key_id, key->id, sizeof key->id) != 0)
                return -EKEYREJECTED;
        return 0;
}

int minisign_verify(const MinisignSignature *sig, const MinisignPublicKey *key,
                    const uint8_t prehash[MINISIGN_PREHASH_SIZE], const void *content, size_t content_size,
                    bool allow_legacy) {

        _cleanup_free_ uint8_t *signed_comment = NULL;
        uint8_t digest[MINISIGN_PREHASH_SIZE];
        const uint8_t *message;
        size_t message_size, comment_size;
        int r;

        if (!sig || !key || (!content && content_size > 0))
                return -EINVAL;
        r = minisign_verify_precheck(sig, key, allow_legacy);
        if (r < 0)
                return r;
        r = sodium_ready();
        if (r < 0)
                return r;

        if (sig->algorithm == MINISIGN_ALGORITHM_PREHASHED) {
                if (!prehash) {
                        if (!content)
                                return -EINVAL;
                        r = digest_buffer(DIGEST_BLAKE2B_512, content, content_size, digest);
                        if (r < 0)
                                return r;
                        prehash = digest;
                }
                message = prehash;
                message_size = MINISIGN_PREHASH_SIZE;
        } else {
                if (!content)
                        return -EINVAL;
                message = content;
                message_size = content_size;
        }

        if (crypto_sign_verify_detached(sig->signature, message, message_size, key->key) != 0)
                return -EPERM;

        /* The global signature binds the trusted comment to this file signature. */
        comment_size = strnlen(sig->trusted_comment, sizeof sig->trusted_comment);
        if (comment_size > MINISIGN_TRUSTED_COMMENT_MAX)
                return -EINVAL;
        signed_comment = malloc(sizeof sig->signature + comment_size);
        if (!signed_comment)
                return -ENOMEM;
        memcpy(signed_comment, sig->signature, sizeof sig->signature);
        memcpy(signed_comment + sizeof sig->signature, sig->trusted_comment, comment_size);

        if (crypto_sign_verify_detached(sig->global_signature, signed_comment,
                                        sizeof sig->signature + comment_size, key->key) != 0)
                return -EPERM;

        return 0;
}
