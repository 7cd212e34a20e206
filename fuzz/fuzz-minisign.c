/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signature files come from whoever imports an image; key files from the admin. Both parsers
 * get every input, and whatever parses goes through the verifier too. */
#include <stdint.h>
#include <string.h>

#include "verify-minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char content[] = "content";
        MinisignSignature sig;
        MinisignPublicKey key = {};
        char *text = NULL;

        if (minisign_public_key_parse((const char *) data, size, &key) >= 0 &&
            minisign_public_key_format(&key, &text) >= 0) {
                MinisignPublicKey again;

                /* The canonical form parses back to the same key. */
                if (minisign_public_key_parse(text, strlen(text), &again) < 0 ||
                    !minisign_public_key_equal(&key, &again) || strcmp(key.comment, again.comment) != 0)
                        __builtin_trap();
                free(text);
        }

        if (minisign_signature_parse((const char *) data, size, &sig) >= 0) {
                uint8_t prehash[MINISIGN_PREHASH_SIZE] = {};

                memcpy(key.id, sig.key_id, sizeof key.id);
                memset(key.key, 0x5a, sizeof key.key);
                if (minisign_verify(&sig, &key, prehash, content, STRLEN(content), true) == 0)
                        __builtin_trap();
        }
        return 0;
}
