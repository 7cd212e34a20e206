/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mount-setup.h"
#include "tests.h"

TEST(overlay_options) {
        char *o = NULL;

        ASSERT_OK(overlay_options_build("/var/lib/podctl/images/busybox",
                                        "/var/lib/podctl/pods/web/upper",
                                        "/var/lib/podctl/pods/web/work", &o));
        ASSERT_STREQ(o, "lowerdir=/var/lib/podctl/images/busybox,"
                        "upperdir=/var/lib/podctl/pods/web/upper,"
                        "workdir=/var/lib/podctl/pods/web/work");
        free(o);
}

TEST(overlay_options_unescapable) {
        char *o = NULL;

        ASSERT_EQ(overlay_options_build("/a,b", "/u", "/w", &o), -EINVAL);
        ASSERT_EQ(overlay_options_build("/a", "/u:x", "/w", &o), -EINVAL);
        ASSERT_EQ(overlay_options_build("/a", "/u", "/w\\", &o), -EINVAL);
        ASSERT_TRUE(o == NULL);
}

int main(void) {
        RUN(overlay_options);
        RUN(overlay_options_unescapable);
        return 0;
}
