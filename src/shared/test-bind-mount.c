/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "bind-mount.h"
#include "fileio.h"
#include "pod-config.h"
#include "strv.h"
#include "tests.h"

static void check_spec(const char *spec, const char *source, const char *destination, const char *options) {
        _cleanup_free_ char *s = NULL, *d = NULL, *o = NULL;

        ASSERT_OK(bind_spec_parse(spec, &s, &d, &o));
        ASSERT_STREQ(s, source);
        ASSERT_STREQ(d, destination);
        if (options)
                ASSERT_STREQ(o, options);
        else
                ASSERT_TRUE(o == NULL);
}

TEST(spec) {
        char *s = NULL, *d = NULL, *o = NULL;

        check_spec("/srv/data", "/srv/data", "/srv/data", NULL);
        check_spec("/srv/data:/data", "/srv/data", "/data", NULL);
        check_spec("/srv/data:/data:norbind,rootidmap", "/srv/data", "/data", "norbind,rootidmap");
        check_spec("data:/data:", "data", "/data", "");
        check_spec("/a\\:b:/c\\\\d", "/a:b", "/c\\d", NULL);

        ASSERT_EQ(bind_spec_parse("", &s, &d, &o), -EINVAL);
        ASSERT_EQ(bind_spec_parse(":/x", &s, &d, &o), -EINVAL);
        ASSERT_EQ(bind_spec_parse("/x:", &s, &d, &o), -EINVAL);
        ASSERT_EQ(bind_spec_parse("/x:/y:rbind:more", &s, &d, &o), -EINVAL);
        ASSERT_TRUE(!s && !d && !o);
}

TEST(options) {
        BindIdmap idmap;
        bool recursive;

        ASSERT_OK(bind_options_parse(NULL, &recursive, &idmap));
        ASSERT_TRUE(recursive);
        ASSERT_EQ(idmap, _BIND_IDMAP_INVALID);
        ASSERT_OK(bind_options_parse("", &recursive, &idmap));
        ASSERT_TRUE(recursive);
        ASSERT_OK(bind_options_parse("norbind", &recursive, &idmap));
        ASSERT_FALSE(recursive);
        ASSERT_EQ(idmap, _BIND_IDMAP_INVALID);
        ASSERT_OK(bind_options_parse("norbind,idmap,rbind", &recursive, &idmap));
        ASSERT_TRUE(recursive);
        ASSERT_EQ(idmap, BIND_IDMAP_YES);
        ASSERT_OK(bind_options_parse("idmap,rootidmap", &recursive, &idmap));
        ASSERT_EQ(idmap, BIND_IDMAP_ROOT);
        ASSERT_OK(bind_options_parse("noidmap", &recursive, &idmap));
        ASSERT_EQ(idmap, BIND_IDMAP_NO);

        ASSERT_EQ(bind_options_parse("ro", &recursive, &idmap), -EINVAL);
        ASSERT_EQ(bind_options_parse("rbind,", &recursive, &idmap), 0);
        ASSERT_EQ(bind_options_parse("rbind,,x", &recursive, &idmap), -EINVAL);
        ASSERT_EQ(bind_options_parse("averyveryverylongoption", &recursive, &idmap), -EINVAL);

        BindMount b = { .recursive = false, .idmap = BIND_IDMAP_ROOT };
        _cleanup_free_ char *str = bind_options_to_string(&b);
        ASSERT_STREQ(str, "norbind,rootidmap");
        ASSERT_OK(bind_options_parse(str, &recursive, &idmap));
        ASSERT_FALSE(recursive);
        ASSERT_EQ(idmap, BIND_IDMAP_ROOT);
}

TEST(destination) {
        const char *good[] = { "/data", "/srv/data", "/run/data", "/tmp/x", "/devices", "/system", "/run/hosts", "/a/b.c/..d" };
        const char *bad[] = { "", "data", "/", "//data", "/data/", "/a//b", "/a/./b", "/a/../b", "/..", "/.",
                              "/proc", "/proc/sys", "/sys", "/sys/fs/cgroup", "/dev", "/dev/shm", "/run/host",
                              "/run/host/os-release", "/a\nb", "/a\tb" };
        _cleanup_free_ char *longest = malloc(BIND_PATH_MAX + 1);

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                if (bind_destination_invalid(good[i]))
                        fprintf(stderr, "%s: %s\n", good[i], bind_destination_invalid(good[i]));
                ASSERT_TRUE(bind_destination_invalid(good[i]) == NULL);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (!bind_destination_invalid(bad[i]))
                        fprintf(stderr, "accepted: '%s'\n", bad[i]);
                ASSERT_TRUE(bind_destination_invalid(bad[i]) != NULL);
        }

        ASSERT_TRUE(longest);
        longest[0] = '/';
        memset(longest + 1, 'a', BIND_PATH_MAX - 2);
        longest[BIND_PATH_MAX - 1] = 0;
        ASSERT_TRUE(bind_destination_invalid(longest) == NULL);
        longest[BIND_PATH_MAX - 1] = 'a';
        longest[BIND_PATH_MAX] = 0;
        ASSERT_TRUE(bind_destination_invalid(longest) != NULL);
}

TEST(json) {
        BindMount b = {
                .source = strdup("/home/alice/data"),
                .destination = strdup("/data"),
                .read_only = true,
                .recursive = false,
                .idmap = BIND_IDMAP_ROOT,
                .idmap_auto = true,
                .directory = true,
                .dev = 2049,
                .ino = UINT64_C(1) << 40,
                .owner_uid = 1000,
        }, c = {};
        _cleanup_json_ json_t *j = bind_mount_to_json(&b);

        ASSERT_TRUE(j);
        ASSERT_OK(bind_mount_from_json(j, &c));
        ASSERT_STREQ(c.source, b.source);
        ASSERT_STREQ(c.destination, b.destination);
        ASSERT_TRUE(c.read_only);
        ASSERT_FALSE(c.recursive);
        ASSERT_EQ(c.idmap, BIND_IDMAP_ROOT);
        ASSERT_TRUE(c.idmap_auto);
        ASSERT_TRUE(c.directory);
        ASSERT_EQ(c.dev, 2049);
        ASSERT_TRUE(c.ino == UINT64_C(1) << 40);
        ASSERT_EQ(c.owner_uid, 1000);
        bind_mount_done(&c);

        /* Anyone: an admin allowed it. */
        b.owner_uid = (uid_t) -1;
        json_decref(j);
        j = bind_mount_to_json(&b);
        ASSERT_TRUE(json_is_null(json_object_get(j, "owner_uid")));
        ASSERT_OK(bind_mount_from_json(j, &c));
        ASSERT_EQ(c.owner_uid, (uid_t) -1);
        bind_mount_done(&c);
        /* Absent: chosen explicitly. */
        ASSERT_OK(json_object_del(j, "idmap_auto"));
        ASSERT_OK(bind_mount_from_json(j, &c));
        ASSERT_FALSE(c.idmap_auto);
        bind_mount_done(&c);

        /* What a tampered pod.json could say. */
        ASSERT_OK(json_object_set_new(j, "destination", json_string("/proc/sys")));
        ASSERT_EQ(bind_mount_from_json(j, &c), -EBADMSG);
        ASSERT_OK(json_object_set_new(j, "destination", json_string("/data")));
        ASSERT_OK(json_object_set_new(j, "source", json_string("relative")));
        ASSERT_EQ(bind_mount_from_json(j, &c), -EBADMSG);
        ASSERT_OK(json_object_set_new(j, "source", json_string("/srv")));
        ASSERT_OK(json_object_set_new(j, "idmap", json_string("maybe")));
        ASSERT_EQ(bind_mount_from_json(j, &c), -EBADMSG);
        ASSERT_OK(json_object_set_new(j, "idmap", json_string("idmap")));
        ASSERT_OK(json_object_set_new(j, "owner_uid", json_integer(-5)));
        ASSERT_EQ(bind_mount_from_json(j, &c), -EBADMSG);
        ASSERT_OK(json_object_del(j, "owner_uid"));
        ASSERT_EQ(bind_mount_from_json(j, &c), -EBADMSG);

        bind_mount_done(&b);
}

TEST(pod_config) {
        char *cmd[] = { (char *) "true", NULL };
        PodApp a = { .name = strdup("a"), .image = strdup("i"), .command = strv_copy(cmd) };
        _cleanup_json_ json_t *j = NULL;
        PodConfig c, d;

        pod_config_init(&c);
        c.name = strdup("p");
        c.storage = STORAGE_OVERLAY;
        c.owner_uid = 0;
        ASSERT_OK(pod_config_add_app(&c, &a));

        /* A pod without binds writes none, and reads back none. */
        ASSERT_OK(pod_config_to_json(&c, &j));
        ASSERT_TRUE(json_object_get(j, "binds") == NULL);
        ASSERT_OK(pod_config_from_json(j, &d));
        ASSERT_EQ(d.n_binds, 0);
        pod_config_done(&d);
        json_decref(j);

        c.binds = calloc(2, sizeof(BindMount));
        c.n_binds = 2;
        c.binds[0] = (BindMount) { .source = strdup("/srv/a"), .destination = strdup("/a"), .recursive = true,
                                   .idmap = BIND_IDMAP_NO, .directory = true, .dev = 1, .ino = 2, .owner_uid = (uid_t) -1 };
        c.binds[1] = (BindMount) { .source = strdup("/srv/f"), .destination = strdup("/etc/f"), .read_only = true,
                                   .idmap = BIND_IDMAP_ROOT, .dev = 3, .ino = 4, .owner_uid = 1000 };
        ASSERT_OK(pod_config_to_json(&c, &j));
        ASSERT_OK(pod_config_from_json(j, &d));
        ASSERT_EQ(d.n_binds, 2);
        ASSERT_STREQ(d.binds[0].source, "/srv/a");
        ASSERT_TRUE(d.binds[0].directory);
        ASSERT_STREQ(d.binds[1].destination, "/etc/f");
        ASSERT_TRUE(d.binds[1].read_only);
        ASSERT_FALSE(d.binds[1].directory);
        ASSERT_EQ(d.binds[1].owner_uid, 1000);
        pod_config_done(&d);

        /* More than a pod may have is not a pod. */
        json_t *binds = json_object_get(j, "binds");
        while (json_array_size(binds) <= BIND_MOUNTS_MAX)
                ASSERT_OK(json_array_append(binds, json_array_get(binds, 0)));
        ASSERT_EQ(pod_config_from_json(j, &d), -EBADMSG);
        ASSERT_OK(json_array_clear(binds));
        ASSERT_OK(json_array_append_new(binds, json_string("/srv:/srv")));
        ASSERT_EQ(pod_config_from_json(j, &d), -EBADMSG);

        pod_config_done(&c);
}

int main(void) {
        RUN(spec);
        RUN(options);
        RUN(destination);
        RUN(json);
        RUN(pod_config);
        return 0;
}
