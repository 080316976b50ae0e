/* Growable buffers and Arrow column builders, exported through the C Data Interface.
 *
 * Appends do not return their failure to the hot path: an allocation that fails or a size that
 * would overflow an Arrow offset sets the calling thread's `ol_fault` (sticky until cleared), and
 * the engine's API entry points check it once per call and report it (see api.c). A builder whose
 * append failed may hold columns of different lengths; the engine refuses to export them. */
#ifndef OLLALOG_COLUMNS_H
#define OLLALOG_COLUMNS_H

#include <stdint.h>
#include <string.h>

#include "ollalog.h"

enum { OL_FAULT_NONE = 0, OL_FAULT_NOMEM = 1, OL_FAULT_RANGE = 2 };
extern _Thread_local int ol_fault;
static inline void ol_fault_set(int f) {
  if (!ol_fault) ol_fault = f;
}

typedef struct {
  char* p;
  int64_t len, cap;
} ol_buf;

int ol_buf_grow(ol_buf* b, int64_t need);
static inline int ol_buf_reserve(ol_buf* b, int64_t extra) {
  return (b->len + extra <= b->cap) ? OL_OK : ol_buf_grow(b, b->len + extra);
}
static inline int ol_buf_put(ol_buf* b, const void* p, int64_t n) {
  if (ol_buf_reserve(b, n)) return OL_ENOMEM;
  if (n) memcpy(b->p + b->len, p, (size_t)n);
  b->len += n;
  return OL_OK;
}
static inline int ol_buf_putc(ol_buf* b, char c) {
  if (ol_buf_reserve(b, 1)) return OL_ENOMEM;
  b->p[b->len++] = c;
  return OL_OK;
}
void ol_buf_free(ol_buf* b);

enum { OL_COL_I16, OL_COL_I32, OL_COL_I64, OL_COL_F64, OL_COL_BOOL, OL_COL_STR, OL_COL_MAP };

typedef struct ol_col {
  int type;
  int64_t length, null_count;
  ol_buf valid;          /* validity bitmap, one bit a row */
  ol_buf data;           /* fixed-width values, or int32 offsets for strings and maps */
  ol_buf chars;          /* string bytes */
  struct ol_col* keys;   /* map entries */
  struct ol_col* vals;
  int64_t hint_valid, hint_data, hint_chars; /* the last batch's sizes: the next one reserves them */
} ol_col;

int ol_col_init(ol_col* c, int type);
void ol_col_free(ol_col* c);
int ol_col_null(ol_col* c);
int ol_col_i16(ol_col* c, int16_t v);
int ol_col_i32(ol_col* c, int32_t v);
int ol_col_i64(ol_col* c, int64_t v);
int ol_col_f64(ol_col* c, double v);
int ol_col_bool(ol_col* c, int v);
int ol_col_str(ol_col* c, const char* p, int64_t n);
/* map rows: entries are added to keys/vals, then ol_col_map_end() closes the row */
int ol_col_map_end(ol_col* c);
/* overwrite row `i` of an int64 column with a valid value (late time resolution) */
void ol_col_set_i64(ol_col* c, int64_t i, int64_t v);
/* move the column into `out`; the builder is empty afterwards, its buffers reserved at the sizes
 * this batch reached */
int ol_col_export(ol_col* c, struct ArrowArray* out);
/* a string array of `n` items (a dictionary), copied */
int ol_strings_export(const char* const* items, const size_t* lens, int64_t n, struct ArrowArray* out);
int ol_struct_export(ol_col* cols, int n, int64_t length, struct ArrowArray* out);

/* ---- schemas ------------------------------------------------------------------------------- */

/* A field of a schema: Arrow C format string, nullability, and for a dictionary column the format
 * of its values; a map's entries are string keys and nullable string values. */
typedef struct {
  const char* name;
  const char* format;
  int nullable;
  const char* dict_format; /* NULL: not dictionary-encoded */
} ol_field;

/* a struct schema ("+s") of the fields, in order */
int ol_schema_export(const ol_field* fields, int n, struct ArrowSchema* out);

#endif
