/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "table.h"

typedef struct TableCell {
        char *text;
        json_t *json;
} TableCell;

struct Table {
        size_t n_columns;
        char **headers;
        char **keys;

        TableCell *cells; /* n_cells, row-major */
        size_t n_cells;
        size_t allocated;
};

void table_free(Table *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_columns; i++) {
                free(t->headers[i]);
                free(t->keys[i]);
        }
        free(t->headers);
        free(t->keys);
        for (size_t i = 0; i < t->n_cells; i++) {
                free(t->cells[i].text);
                json_decref(t->cells[i].json);
        }
        free(t->cells);
        free(t);
}

Table *table_new(const char *header, const char *json_key, ...) {
        _cleanup_table_ Table *t = NULL;
        va_list ap;
        size_t n = 0;

        if (!header || !json_key)
                return NULL;

        va_start(ap, json_key);
        for (n = 1;; n++) {
                if (!va_arg(ap, const char *))
                        break;
                (void) va_arg(ap, const char *);
        }
        va_end(ap);

        if (n == 0)
                return NULL;

        t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;
        t->headers = calloc(n, sizeof(char *));
        t->keys = calloc(n, sizeof(char *));
        if (!t->headers || !t->keys)
                return NULL;

        va_start(ap, json_key);
        for (const char *h = header, *k = json_key; h; ) {
                t->headers[t->n_columns] = strdup(h);
                t->keys[t->n_columns] = strdup(k);
                t->n_columns++;
                if (!t->headers[t->n_columns - 1] || !t->keys[t->n_columns - 1]) {
                        va_end(ap);
                        return NULL;
                }
                h = va_arg(ap, const char *);
                if (h)
                        k = va_arg(ap, const char *);
        }
        va_end(ap);

        return TAKE_PTR(t);
}

int table_add_cell(Table *t, const char *text, json_t *json) {
        char *s;

        if (!json)
                return -ENOMEM;

        if (t->n_cells >= t->allocated) {
                size_t a = t->allocated ? t->allocated * 2 : 32;
                TableCell *c = reallocarray(t->cells, a, sizeof(TableCell));

                if (!c) {
                        json_decref(json);
                        return -ENOMEM;
                }
                t->cells = c;
                t->allocated = a;
        }

        s = strdup(text ?: "");
        if (!s) {
                json_decref(json);
                return -ENOMEM;
        }

        t->cells[t->n_cells++] = (TableCell) { .text = s, .json = json };
        return 0;
}

int table_add_string(Table *t, const char *s) {
        return table_add_cell(t, s, json_string(s ?: ""));
}

int table_add_uint64(Table *t, uint64_t v) {
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return table_add_cell(t, buf, json_integer((json_int_t) v));
}

size_t table_get_rows(const Table *t) {
        return t->n_cells / t->n_columns;
}

static size_t sort_column;
static size_t sort_n_columns;

static int row_compare(const void *a, const void *b) {
        const TableCell *x = a, *y = b;

        return strcmp(x[sort_column].text, y[sort_column].text);
}

void table_sort(Table *t, size_t column) {
        if (column >= t->n_columns || t->n_cells % t->n_columns != 0)
                return;

        /* A row is n_columns consecutive cells, so sort the array in row-sized units. */
        sort_column = column;
        sort_n_columns = t->n_columns;
        qsort(t->cells, table_get_rows(t), sizeof(TableCell) * sort_n_columns, row_compare);
}

static const char *cell_text(const TableCell *c) {
        return c->text[0] ? c->text : "-";
}

static bool column_is_printed(const Table *t, size_t c) {
        return t->headers[c][0] != 0;
}

int table_print(const Table *t, FILE *f, bool header) {
        _cleanup_free_ size_t *width = NULL;
        size_t rows = table_get_rows(t), last = 0;

        width = calloc(t->n_columns, sizeof(size_t));
        if (!width)
                return -ENOMEM;

        for (size_t c = 0; c < t->n_columns; c++) {
                if (!column_is_printed(t, c))
                        continue;
                last = c;
                if (header)
                        width[c] = strlen(t->headers[c]);
                for (size_t r = 0; r < rows; r++) {
                        size_t l = strlen(cell_text(&t->cells[r * t->n_columns + c]));

                        if (l > width[c])
                                width[c] = l;
                }
        }

        for (size_t r = header ? 0 : 1; r <= rows; r++)
                for (size_t c = 0; c <= last; c++) {
                        const char *s;

                        if (!column_is_printed(t, c))
                                continue;
                        s = r == 0 ? t->headers[c] : cell_text(&t->cells[(r - 1) * t->n_columns + c]);
                        if (c < last)
                                fprintf(f, "%-*s  ", (int) width[c], s);
                        else
                                fprintf(f, "%s\n", s);
                }

        return 0;
}

int table_to_json(const Table *t, json_t **ret) {
        json_t *a;
        size_t rows = table_get_rows(t);

        a = json_array();
        if (!a)
                return -ENOMEM;

        for (size_t r = 0; r < rows; r++) {
                json_t *o = json_object();

                if (!o || json_array_append_new(a, o) < 0) {
                        json_decref(a);
                        return -ENOMEM;
                }
                for (size_t c = 0; c < t->n_columns; c++)
                        if (json_object_set(o, t->keys[c], t->cells[r * t->n_columns + c].json) < 0) {
                                json_decref(a);
                                return -ENOMEM;
                        }
        }

        *ret = a;
        return 0;
}

int json_print(json_t *j, FILE *f) {
        size_t flags = isatty(fileno(f)) ? JSON_INDENT(2) : JSON_COMPACT;

        if (json_dumpf(j, f, flags) < 0)
                return -EIO;
        fputc('\n', f);
        return 0;
}

int table_output(Table *t, FILE *f, bool json, bool legend, const char *what) {
        int r;

        table_sort(t, 0);

        if (json) {
                _cleanup_json_ json_t *j = NULL;

                r = table_to_json(t, &j);
                if (r < 0)
                        return log_oom();
                r = json_print(j, f);
                if (r < 0)
                        return log_error_errno(r, "Failed to write JSON.");
                return 0;
        }

        r = table_print(t, f, legend);
        if (r < 0)
                return log_oom();
        if (legend)
                fprintf(f, "\n%zu %s listed.\n", table_get_rows(t), what);
        return 0;
}
