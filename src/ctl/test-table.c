/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fileio.h"
#include "table.h"
#include "tests.h"

static char *print_to_string(const Table *t, bool header) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ASSERT_TRUE(f);
        ASSERT_OK(table_print(t, f, header));
        ASSERT_EQ(fclose(f), 0);
        return buf;
}

static Table *make_table(void) {
        Table *t = table_new("NAME", "name", "STATE", "state", "OWNER", "owner_uid", NULL);

        ASSERT_TRUE(t);
        ASSERT_OK(table_add_string(t, "web"));
        ASSERT_OK(table_add_string(t, "running"));
        ASSERT_OK(table_add_cell(t, "root", json_integer(0)));
        ASSERT_OK(table_add_string(t, "db-primary"));
        ASSERT_OK(table_add_string(t, ""));
        ASSERT_OK(table_add_uint64(t, 1000));
        return t;
}

TEST(text) {
        _cleanup_table_ Table *t = make_table();
        char *s;

        ASSERT_EQ(table_get_rows(t), 2);

        s = print_to_string(t, true);
        ASSERT_STREQ(s,
                     "NAME        STATE    OWNER\n"
                     "web         running  root\n"
                     "db-primary  -        1000\n");
        free(s);

        table_sort(t, 0);
        s = print_to_string(t, false);
        ASSERT_STREQ(s,
                     "db-primary  -        1000\n"
                     "web         running  root\n");
        free(s);
}

TEST(json) {
        _cleanup_table_ Table *t = make_table();
        _cleanup_json_ json_t *j = NULL;
        char *s;

        ASSERT_OK(table_to_json(t, &j));
        s = json_dumps(j, JSON_COMPACT);
        ASSERT_STREQ(s, "[{\"name\":\"web\",\"state\":\"running\",\"owner_uid\":0},"
                        "{\"name\":\"db-primary\",\"state\":\"\",\"owner_uid\":1000}]");
        free(s);
}

TEST(empty) {
        _cleanup_table_ Table *t = table_new("NAME", "name", "SIZE", "size", NULL);
        _cleanup_json_ json_t *j = NULL;
        char *s;

        ASSERT_TRUE(t);
        s = print_to_string(t, true);
        ASSERT_STREQ(s, "NAME  SIZE\n");
        free(s);
        s = print_to_string(t, false);
        ASSERT_STREQ(s, "");
        free(s);

        ASSERT_OK(table_to_json(t, &j));
        s = json_dumps(j, JSON_COMPACT);
        ASSERT_STREQ(s, "[]");
        free(s);
}

TEST(json_only_columns) {
        _cleanup_table_ Table *t = table_new("NAME", "name", "", "path", "ORIGIN", "origin", "", "masked", NULL);
        _cleanup_json_ json_t *j = NULL;
        char *s;

        ASSERT_TRUE(t);
        ASSERT_OK(table_add_string(t, "release"));
        ASSERT_OK(table_add_string(t, "/etc/release.pub"));
        ASSERT_OK(table_add_string(t, "etc"));
        ASSERT_OK(table_add_cell(t, "", json_false()));
        ASSERT_OK(table_add_string(t, "old"));
        ASSERT_OK(table_add_string(t, "/usr/lib/old.pub"));
        ASSERT_OK(table_add_cell(t, "vendor (masked)", json_string("vendor")));
        ASSERT_OK(table_add_cell(t, "", json_true()));

        /* Not printed, and the last printed column is not padded. */
        s = print_to_string(t, true);
        ASSERT_STREQ(s,
                     "NAME     ORIGIN\n"
                     "release  etc\n"
                     "old      vendor (masked)\n");
        free(s);

        ASSERT_OK(table_to_json(t, &j));
        s = json_dumps(j, JSON_COMPACT);
        ASSERT_STREQ(s, "[{\"name\":\"release\",\"path\":\"/etc/release.pub\",\"origin\":\"etc\",\"masked\":false},"
                        "{\"name\":\"old\",\"path\":\"/usr/lib/old.pub\",\"origin\":\"vendor\",\"masked\":true}]");
        free(s);
}

int main(void) {
        RUN(text);
        RUN(json);
        RUN(empty);
        RUN(json_only_columns);
        return 0;
}
