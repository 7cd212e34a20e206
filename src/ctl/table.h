/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

/* One structure for both outputs of a listing: each cell holds the text a person
 * reads and the JSON value a program reads, so the two never disagree on rows. */
typedef struct Table Table;

/* Columns as (HEADER, json_key) pairs, NULL-terminated. A column with the header "" is in the
 * JSON output only. */
Table *table_new(const char *header, const char *json_key, ...) __attribute__((sentinel));
void table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
#define _cleanup_table_ _cleanup_(table_freep)

/* Cells are added row by row, left to right. json is consumed, also on failure. */
int table_add_cell(Table *t, const char *text, json_t *json);
int table_add_string(Table *t, const char *s);
int table_add_uint64(Table *t, uint64_t v);

size_t table_get_rows(const Table *t);

/* Sorts complete rows by the text of column. */
void table_sort(Table *t, size_t column);

/* Columns separated by two spaces, the last one not padded; empty text shows "-". */
int table_print(const Table *t, FILE *f, bool header);

/* An array with one object per row, keyed by the columns' json_key. */
int table_to_json(const Table *t, json_t **ret);

/* Compact on one line, indented when f is a terminal. */
int json_print(json_t *j, FILE *f);

/* A listing as the list verbs show it: sorted by the first column, then as JSON, or as text
 * with the legend (header, and "N WHAT listed." below). Logs failures. */
int table_output(Table *t, FILE *f, bool json, bool legend, const char *what);
