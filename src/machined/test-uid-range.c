/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>

#include "tests.h"
#include "uid-range.h"

TEST(first_free) {
        uint32_t base = 0;

        ASSERT_OK(uid_range_pick(NULL, 0, NULL, 0, &base));
        ASSERT_EQ(base, 0x80000);
}

TEST(skips_used_and_taken) {
        const uint32_t used[] = { 0x80000, 0xA0000 };
        /* Host users below the window do not matter; one inside 0x90000's range does. */
        const uint32_t taken[] = { 0, 1000, 65534, 0x9FFFF };
        uint32_t base = 0;

        ASSERT_OK(uid_range_pick(used, 2, taken, 4, &base));
        ASSERT_EQ(base, 0xB0000);

        /* The first ID after a range is the next range's. */
        const uint32_t edge[] = { 0x90000 + 0x10000 };
        ASSERT_OK(uid_range_pick(used, 1, edge, 1, &base));
        ASSERT_EQ(base, 0x90000);
}

TEST(full) {
        uint32_t taken[(UID_RANGE_LAST - UID_RANGE_FIRST) / 0x10000], base = 7;
        size_t n = 0;

        for (uint32_t b = UID_RANGE_FIRST; b < UID_RANGE_LAST; b += 0x10000)
                taken[n++] = b + 5;
        ASSERT_EQ(uid_range_pick(NULL, 0, taken, n, &base), -EBUSY);
        ASSERT_EQ(base, 7);
}

TEST(host_ids) {
        uint32_t *ids = NULL;
        size_t n = 0;
        bool root = false;

        ASSERT_OK(uid_range_host_ids(&ids, &n));
        for (size_t i = 0; i < n; i++)
                root = root || ids[i] == 0;
        ASSERT_TRUE(root);
        free(ids);
}

int main(void) {
        RUN(first_free);
        RUN(skips_used_and_taken);
        RUN(full);
        RUN(host_ids);
        return 0;
}
