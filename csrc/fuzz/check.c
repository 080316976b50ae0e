/* Batch validator and reading driver for the fuzz target and the C tests (see check.h). */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OLLALOG_FORMATS_DIR
#define OLLALOG_FORMATS_DIR "src/ollalog/formats"
#endif

void ck_fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("ollalog check: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  abort();
}

/* ---- UTF-8, written apart from the engine's (text.c) so that a bug there cannot hide ------------ */

int ck_utf8_valid(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) { i++; continue; }
    size_t need;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { need = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { need = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { need = 3; cp = c & 0x07; }
    else return 0;
    if (i + need >= n) return 0; /* the continuation bytes are p[i+1..i+need] */
    for (size_t k = 1; k <= need; k++) {
      if ((p[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += need + 1;
  }
  return 1;
}

/* ---- formats ---------------------------------------------------------------------------------- */

static char* read_all(const char* path, size_t* n) {
  FILE* fh = fopen(path, "rb");
  if (!fh) return NULL;
  size_t cap = 1 << 16, len = 0;
  char* p = (char*)malloc(cap + 1);
  for (;;) {
    if (len == cap) p = (char*)realloc(p, (cap *= 2) + 1);
    size_t k = fread(p + len, 1, cap - len, fh);
    if (!k) break;
    len += k;
  }
  fclose(fh);
  p[len] = 0;
  *n = len;
  return p;
}

static char* dup_n(const char* s, size_t n) {
  char* p = (char*)malloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

/* the TSV's data lines split at tabs: calls fn(fields, n_fields) */
static int each_row(const char* path, int (*fn)(ck_formats*, char**, size_t*, int), ck_formats* f) {
  size_t n;
  char* text = read_all(path, &n);
  if (!text) {
    fprintf(stderr, "ollalog check: cannot read %s (set OLLALOG_FORMATS to src/ollalog/formats)\n", path);
    return -1;
  }
  size_t i = 0;
  int rc = 0;
  while (i < n && rc == 0) {
    char* nl = (char*)memchr(text + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - text) : n;
    if (end > i && text[i] != '#') {
      char* fields[8];
      size_t lens[8];
      int k = 0;
      size_t s = i;
      for (size_t j = i; j <= end && k < 8; j++) {
        if (j == end || text[j] == '\t') {
          fields[k] = text + s;
          lens[k++] = j - s;
          s = j + 1;
        }
      }
      rc = fn(f, fields, lens, k);
    }
    i = end + 1;
  }
  free(text);
  if (rc) fprintf(stderr, "ollalog check: %s: a line does not have the expected fields\n", path);
  return rc;
}

static int add_rule_row(ck_formats* f, char** fl, size_t* ln, int k) {
  if (k != 4) return -1;
  static const char* scopes[] = {"msg", "native"};
  static const char* matches[] = {"exact", "prefix", "contains"};
  int scope = -1, match = -1;
  for (int i = 0; i < 2; i++)
    if (ln[1] == strlen(scopes[i]) && !memcmp(fl[1], scopes[i], ln[1])) scope = i;
  for (int i = 0; i < 3; i++)
    if (ln[2] == strlen(matches[i]) && !memcmp(fl[2], matches[i], ln[2])) match = i;
  if (scope < 0 || match < 0) return -1;
  int n = f->n_rules++;
  f->event = (char**)realloc(f->event, sizeof(char*) * (size_t)f->n_rules);
  f->text = (char**)realloc(f->text, sizeof(char*) * (size_t)f->n_rules);
  f->scope = (int*)realloc(f->scope, sizeof(int) * (size_t)f->n_rules);
  f->match = (int*)realloc(f->match, sizeof(int) * (size_t)f->n_rules);
  f->event[n] = dup_n(fl[0], ln[0]);
  f->text[n] = dup_n(fl[3], ln[3]);
  f->scope[n] = scope;
  f->match[n] = match;
  return 0;
}

static int add_month_row(ck_formats* f, char** fl, size_t* ln, int k) {
  if (k != 2 || ln[0] < 1 || ln[0] > 2 || !ln[1]) return -1;
  int m = atoi(fl[0]);
  if (m < 1 || m > 12) return -1;
  int n = f->n_months++;
  f->month_name = (char**)realloc(f->month_name, sizeof(char*) * (size_t)f->n_months);
  f->month = (int*)realloc(f->month, sizeof(int) * (size_t)f->n_months);
  f->month_name[n] = dup_n(fl[1], ln[1]);
  f->month[n] = m;
  return 0;
}

int ck_load_formats(ck_formats* f, const char* dir) {
  memset(f, 0, sizeof(*f));
  if (!dir) dir = getenv("OLLALOG_FORMATS");
  if (!dir || !*dir) dir = OLLALOG_FORMATS_DIR;
  char path[4096];
  snprintf(path, sizeof(path), "%s/messages.tsv", dir);
  if (each_row(path, add_rule_row, f)) return -1;
  snprintf(path, sizeof(path), "%s/months.tsv", dir);
  if (each_row(path, add_month_row, f)) return -1;
  if (!f->n_rules || !f->n_months) {
    fprintf(stderr, "ollalog check: no rules or months in %s\n", dir);
    return -1;
  }
  return 0;
}

/* ---- column layout ------------------------------------------------------------------------------ */

enum { C_I16, C_I32, C_I64, C_F64, C_BOOL, C_STR, C_MAP, C_DICT };
enum { DK_FILE = OL_DICT_FILE, DK_HOST = OL_DICT_HOST, DK_EVENT = OL_DICT_EVENT, DK_KIND = 10, DK_TRANSPORT = 11 };

typedef struct {
  const char* name;
  int type, dict;
  int required; /* never null */
} colspec;

/* The engine's columns by name (src/ollalog/schema.py, with dictionary columns as int32 indices). */
static const colspec SPECS[] = {
    {"file", C_DICT, DK_FILE, 1},      {"line", C_I64, 0, 1},           {"byte_offset", C_I64, 0, 1},
    {"host", C_DICT, DK_HOST, 0},      {"time", C_I64, 0, 0},           {"level", C_STR, 0, 0},
    {"source", C_STR, 0, 0},           {"msg", C_STR, 0, 0},            {"attrs", C_MAP, 0, 1},
    {"kind", C_DICT, DK_KIND, 1},      {"event", C_DICT, DK_EVENT, 0},  {"pid", C_I32, 0, 0},
    {"transport", C_DICT, DK_TRANSPORT, 1}, {"truncated", C_BOOL, 0, 1}, {"end_line", C_I64, 0, 1},
    {"prefix_time", C_STR, 0, 0},      {"status", C_I16, 0, 0},         {"latency_ms", C_F64, 0, 0},
    {"client", C_STR, 0, 0},           {"method", C_STR, 0, 0},         {"path", C_STR, 0, 0},
};

static const colspec* spec_of(const char* name) {
  for (size_t i = 0; i < sizeof(SPECS) / sizeof(SPECS[0]); i++)
    if (!strcmp(SPECS[i].name, name)) return &SPECS[i];
  ck_fail("column %s: no type known to csrc/fuzz/check.c (add it to SPECS)", name);
}

/* each table's columns as specs, and where line, byte_offset and end_line are (-1: none); looked
 * up once (comparisons in the hot path would feed the fuzzer's value profile with our own strings) */
typedef struct {
  int n;
  const colspec* col[64];
  int line, offset, end_line;
} layout_t;

static const layout_t* layout(int table) {
  static layout_t cache[2];
  static int done[2];
  layout_t* l = &cache[table == OL_TABLE_EVENTS ? 0 : 1];
  if (done[table == OL_TABLE_EVENTS ? 0 : 1]) return l;
  const char* const* names = ol_column_names(table, &l->n);
  if (l->n > 64) ck_fail("%d columns: more than the validator holds", l->n);
  l->line = l->offset = l->end_line = -1;
  for (int i = 0; i < l->n; i++) {
    l->col[i] = spec_of(names[i]);
    if (!strcmp(names[i], "line")) l->line = i;
    if (!strcmp(names[i], "byte_offset")) l->offset = i;
    if (!strcmp(names[i], "end_line")) l->end_line = i;
  }
  if (l->line < 0 || l->offset < 0) ck_fail("table %d: no line or byte_offset column", table);
  done[table == OL_TABLE_EVENTS ? 0 : 1] = 1;
  return l;
}

static int64_t dict_size(const ol_engine* e, int dict) {
  int n = 0;
  if (dict == DK_KIND) { ol_kind_names(&n); return n; }
  if (dict == DK_TRANSPORT) { ol_transport_names(&n); return n; }
  return ol_engine_dict_size(e, dict);
}

static const char* dict_item(const ol_engine* e, int dict, int64_t i, size_t* len) {
  int n = 0;
  if (dict == DK_KIND || dict == DK_TRANSPORT) {
    const char* const* v = dict == DK_KIND ? ol_kind_names(&n) : ol_transport_names(&n);
    *len = strlen(v[i]);
    return v[i];
  }
  return ol_engine_dict_item(e, dict, i, len);
}

static inline int bit(const uint8_t* bits, int64_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }

/* sum of everything read, kept so that the reads of whole buffers cannot be optimised away */
static volatile uint64_t g_sink;

typedef struct {
  const char* table;
  const char* col;
} where_t;

/* the common part of every child: length, offset, null count against its bitmap */
static const uint8_t* check_validity(const struct ArrowArray* c, int64_t length, int64_t n_buffers, where_t w,
                                     int required) {
  if (!c || !c->release) ck_fail("%s.%s: child missing or released", w.table, w.col);
  if (c->length != length) ck_fail("%s.%s: length %lld, the batch has %lld", w.table, w.col, (long long)c->length,
                                   (long long)length);
  if (c->offset < 0) ck_fail("%s.%s: negative offset", w.table, w.col);
  if (c->n_buffers != n_buffers) ck_fail("%s.%s: %lld buffers, want %lld", w.table, w.col, (long long)c->n_buffers,
                                         (long long)n_buffers);
  if (!c->buffers) ck_fail("%s.%s: no buffers array", w.table, w.col);
  if (c->null_count < 0 || c->null_count > length)
    ck_fail("%s.%s: null_count %lld of %lld rows", w.table, w.col, (long long)c->null_count, (long long)length);
  const uint8_t* valid = (const uint8_t*)c->buffers[0];
  if (c->null_count > 0 && !valid) ck_fail("%s.%s: nulls without a validity bitmap", w.table, w.col);
  if (valid) {
    int64_t nulls = 0;
    for (int64_t i = 0; i < length; i++) nulls += !bit(valid, c->offset + i);
    if (nulls != c->null_count)
      ck_fail("%s.%s: null_count %lld, the bitmap has %lld", w.table, w.col, (long long)c->null_count,
              (long long)nulls);
  }
  if (required && c->null_count) ck_fail("%s.%s: %lld nulls in a column never null", w.table, w.col,
                                         (long long)c->null_count);
  return valid;
}

static inline int is_valid(const uint8_t* valid, const struct ArrowArray* c, int64_t i) {
  return !valid || bit(valid, c->offset + i);
}

/* a utf8 array: offsets monotonic from >= 0, every byte read, every valid value UTF-8 */
static void check_strings(const struct ArrowArray* c, int64_t length, where_t w, int required) {
  const uint8_t* valid = check_validity(c, length, 3, w, required);
  const int32_t* off = (const int32_t*)c->buffers[1];
  const uint8_t* chars = (const uint8_t*)c->buffers[2];
  if (!off) {
    if (length) ck_fail("%s.%s: no offsets buffer", w.table, w.col);
    return;
  }
  int64_t o = c->offset;
  if (off[o] < 0) ck_fail("%s.%s: first offset %d", w.table, w.col, off[o]);
  for (int64_t i = 0; i < length; i++)
    if (off[o + i + 1] < off[o + i])
      ck_fail("%s.%s: offsets decrease at row %lld (%d then %d)", w.table, w.col, (long long)i, off[o + i],
              off[o + i + 1]);
  if (off[o + length] > off[o] && !chars) ck_fail("%s.%s: no data buffer", w.table, w.col);
  uint64_t s = 0;
  for (int32_t k = off[o]; k < off[o + length]; k++) s += chars[k];
  g_sink += s;
  for (int64_t i = 0; i < length; i++)
    if (is_valid(valid, c, i) && !ck_utf8_valid(chars + off[o + i], (size_t)(off[o + i + 1] - off[o + i])))
      ck_fail("%s.%s: row %lld is not valid UTF-8", w.table, w.col, (long long)i);
}

static void check_map(const struct ArrowArray* c, int64_t length, where_t w) {
  const uint8_t* valid = check_validity(c, length, 2, w, 1);
  (void)valid;
  const int32_t* off = (const int32_t*)c->buffers[1];
  if (!off) {
    if (length) ck_fail("%s.%s: no offsets buffer", w.table, w.col);
    return;
  }
  if (c->n_children != 1 || !c->children || !c->children[0]) ck_fail("%s.%s: a map has one child", w.table, w.col);
  int64_t o = c->offset;
  if (off[o] < 0) ck_fail("%s.%s: first offset %d", w.table, w.col, off[o]);
  for (int64_t i = 0; i < length; i++)
    if (off[o + i + 1] < off[o + i]) ck_fail("%s.%s: offsets decrease at row %lld", w.table, w.col, (long long)i);
  const struct ArrowArray* ent = c->children[0];
  if (!ent->release) ck_fail("%s.%s: entries released", w.table, w.col);
  if (ent->offset < 0 || ent->length < off[o + length] - 0 || ent->length < 0)
    ck_fail("%s.%s: entries hold %lld, the offsets reach %d", w.table, w.col, (long long)ent->length, off[o + length]);
  if (ent->null_count != 0) ck_fail("%s.%s: null map entries", w.table, w.col);
  if (ent->n_children != 2 || !ent->children || !ent->children[0] || !ent->children[1])
    ck_fail("%s.%s: map entries have a key and a value", w.table, w.col);
  if (ent->n_buffers != 1 || !ent->buffers) ck_fail("%s.%s: entries struct has one buffer", w.table, w.col);
  int64_t n = ent->length;
  where_t wk = {w.table, "attrs.key"}, wv = {w.table, "attrs.value"};
  check_strings(ent->children[0], ent->children[0]->length, wk, 1);
  check_strings(ent->children[1], ent->children[1]->length, wv, 0);
  if (ent->children[0]->length != n || ent->children[1]->length != n)
    ck_fail("%s.%s: %lld entries but %lld keys and %lld values", w.table, w.col, (long long)n,
            (long long)ent->children[0]->length, (long long)ent->children[1]->length);
}

/* the validity and the data buffer of a fixed-width or boolean column; NULL when there is no data */
static const uint8_t* fixed_data(const struct ArrowArray* c, int64_t length, where_t w, int required) {
  check_validity(c, length, 2, w, required);
  const uint8_t* data = (const uint8_t*)c->buffers[1];
  if (!data && length) ck_fail("%s.%s: no data buffer", w.table, w.col);
  return data;
}

static void check_fixed(const struct ArrowArray* c, int64_t length, where_t w, size_t width, int required) {
  const uint8_t* data = fixed_data(c, length, w, required);
  if (!data) return;
  uint64_t s = 0;
  const uint8_t* p = data + (size_t)c->offset * width;
  for (size_t k = 0; k < (size_t)length * width; k++) s += p[k];
  g_sink += s;
}

static void check_bools(const struct ArrowArray* c, int64_t length, where_t w, int required) {
  const uint8_t* data = fixed_data(c, length, w, required);
  if (!data) return;
  uint64_t s = 0;
  for (int64_t i = 0; i < length; i++) s += bit(data, c->offset + i);
  g_sink += s;
}

static const int64_t* i64s(const struct ArrowArray* c) { return (const int64_t*)c->buffers[1] + c->offset; }
static const int32_t* i32s(const struct ArrowArray* c) { return (const int32_t*)c->buffers[1] + c->offset; }

int64_t ck_validate_batch(const ol_engine* e, int table, const struct ArrowArray* a, int64_t min_line,
                          int64_t max_line, int64_t min_offset, int64_t max_offset) {
  const layout_t* lay = layout(table);
  int ncol = lay->n;
  const char* const* names = ol_column_names(table, &ncol);
  const char* tname = table == OL_TABLE_EVENTS ? "events" : "requests";
  if (!a->release) ck_fail("%s: exported batch has no release callback", tname);
  if (a->n_children != ncol || !a->children) ck_fail("%s: %lld children, %d columns", tname, (long long)a->n_children, ncol);
  if (a->length < 0 || a->offset != 0 || a->null_count != 0)
    ck_fail("%s: struct length %lld offset %lld null_count %lld", tname, (long long)a->length, (long long)a->offset,
            (long long)a->null_count);
  if (a->n_buffers != 1 || !a->buffers || a->buffers[0]) ck_fail("%s: a struct batch has one null bitmap buffer", tname);
  int64_t n = a->length;
  for (int i = 0; i < ncol; i++) {
    const colspec* sp = lay->col[i];
    const struct ArrowArray* c = a->children[i];
    where_t w = {tname, names[i]};
    switch (sp->type) {
      case C_I16: check_fixed(c, n, w, 2, sp->required); break;
      case C_I32: check_fixed(c, n, w, 4, sp->required); break;
      case C_I64: check_fixed(c, n, w, 8, sp->required); break;
      case C_F64: check_fixed(c, n, w, 8, sp->required); break;
      case C_BOOL: check_bools(c, n, w, sp->required); break;
      case C_STR: check_strings(c, n, w, sp->required); break;
      case C_MAP: check_map(c, n, w); break;
      case C_DICT: {
        check_fixed(c, n, w, 4, sp->required);
        /* indices into the batch's own dictionary (export_batch) or the engine-wide one (export) */
        int64_t size = dict_size(e, sp->dict);
        if (c->dictionary) {
          where_t wd = {tname, names[i]};
          check_strings(c->dictionary, c->dictionary->length, wd, 1);
          size = c->dictionary->length;
          if (sp->dict != DK_KIND && sp->dict != DK_TRANSPORT && size > n)
            ck_fail("%s.%s: a dictionary of %lld names for %lld rows (a batch's holds the names it uses)", tname,
                    names[i], (long long)size, (long long)n);
        }
        const uint8_t* valid = (const uint8_t*)c->buffers[0];
        for (int64_t r = 0; r < n; r++) {
          if (!is_valid(valid, c, r)) continue;
          int32_t v = i32s(c)[r];
          if (v < 0 || v >= size)
            ck_fail("%s.%s: row %lld has index %d, the dictionary holds %lld", tname, names[i], (long long)r, v,
                    (long long)size);
        }
        break;
      }
    }
  }
  const struct ArrowArray* line = a->children[lay->line];
  const struct ArrowArray* offset = a->children[lay->offset];
  const struct ArrowArray* end_line = lay->end_line >= 0 ? a->children[lay->end_line] : NULL;
  for (int64_t r = 0; r < n; r++) {
    int64_t l = i64s(line)[r], o = i64s(offset)[r];
    if (l < min_line || l > max_line)
      ck_fail("%s: row %lld is at line %lld, outside the %lld..%lld read", tname, (long long)r, (long long)l,
              (long long)min_line, (long long)max_line);
    if (o < min_offset || o > max_offset)
      ck_fail("%s: row %lld at byte %lld, outside the %lld..%lld read", tname, (long long)r, (long long)o,
              (long long)min_offset, (long long)max_offset);
    if (end_line) {
      int64_t el = i64s(end_line)[r];
      if (el < l || el > max_line)
        ck_fail("%s: row %lld ends at line %lld, starts at %lld, %lld lines read", tname, (long long)r,
                (long long)el, (long long)l, (long long)max_line);
    }
  }
  return n;
}

/* the dictionaries the indices point into: text read from logs must be UTF-8 */
static void check_dicts(const ol_engine* e) {
  static const int text_dicts[] = {DK_HOST, DK_EVENT};
  for (int d = 0; d < 2; d++) {
    int64_t size = dict_size(e, text_dicts[d]);
    for (int64_t i = 0; i < size; i++) {
      size_t len;
      const char* p = dict_item(e, text_dicts[d], i, &len);
      if (!p && len) ck_fail("dictionary %d item %lld: NULL", text_dicts[d], (long long)i);
      if (!ck_utf8_valid((const uint8_t*)p, len))
        ck_fail("dictionary %d item %lld is not valid UTF-8", text_dicts[d], (long long)i);
    }
  }
}

/* the schema of export_batch(): a struct of the table's columns in order, each of its type */
static void check_schema(int table, const struct ArrowSchema* s) {
  const layout_t* lay = layout(table);
  int ncol = 0;
  const char* const* names = ol_column_names(table, &ncol);
  const char* tname = table == OL_TABLE_EVENTS ? "events" : "requests";
  if (!s->release || !s->format || strcmp(s->format, "+s") || s->n_children != ncol || !s->children)
    ck_fail("%s: the schema is not a struct of %d columns", tname, ncol);
  static const char* const formats[] = {"s", "i", "l", "g", "b", "u", "+m", "i"};
  for (int i = 0; i < ncol; i++) {
    const struct ArrowSchema* c = s->children[i];
    const colspec* sp = lay->col[i];
    if (!c || !c->name || strcmp(c->name, names[i])) ck_fail("%s: schema column %d is not %s", tname, i, names[i]);
    const char* want = !strcmp(names[i], "time") ? "tsu:UTC" : formats[sp->type];
    if (!c->format || strcmp(c->format, want))
      ck_fail("%s.%s: schema format %s, want %s", tname, names[i], c->format ? c->format : "(null)", want);
    if ((sp->type == C_DICT) != (c->dictionary != NULL) ||
        (c->dictionary && (!c->dictionary->format || strcmp(c->dictionary->format, "u"))))
      ck_fail("%s.%s: schema dictionary", tname, names[i]);
    if (sp->type == C_MAP && (c->n_children != 1 || strcmp(c->children[0]->format, "+s") ||
                              c->children[0]->n_children != 2 || strcmp(c->children[0]->children[0]->format, "u") ||
                              strcmp(c->children[0]->children[1]->format, "u")))
      ck_fail("%s.%s: a map of strings to strings", tname, names[i]);
  }
}

/* ---- digests ---------------------------------------------------------------------------------- */

static inline void h_bytes(uint64_t* h, const void* p, size_t n) {
  const uint8_t* b = (const uint8_t*)p;
  uint64_t x = *h;
  for (size_t i = 0; i < n; i++) x = (x ^ b[i]) * 1099511628211ULL;
  *h = x;
}
static inline void h_i64(uint64_t* h, int64_t v) { h_bytes(h, &v, 8); }

static void h_string(uint64_t* h, const struct ArrowArray* c, int64_t r) {
  const int32_t* off = (const int32_t*)c->buffers[1] + c->offset;
  const uint8_t* chars = (const uint8_t*)c->buffers[2];
  int64_t len = off[r + 1] - off[r];
  h_i64(h, len);
  if (len) h_bytes(h, chars + off[r], (size_t)len);
}

/* rows in order, each column's value (dictionary columns as their text): batch boundaries and
 * dictionary numbering do not count */
static void digest_batch(uint64_t* h, const ol_engine* e, int table, const struct ArrowArray* a) {
  const layout_t* lay = layout(table);
  for (int64_t r = 0; r < a->length; r++) {
    for (int i = 0; i < lay->n; i++) {
      const colspec* sp = lay->col[i];
      const struct ArrowArray* c = a->children[i];
      const uint8_t* valid = (const uint8_t*)c->buffers[0];
      if (!is_valid(valid, c, r)) {
        h_i64(h, -1 - i);
        continue;
      }
      h_i64(h, i);
      switch (sp->type) {
        case C_I16: h_bytes(h, (const int16_t*)c->buffers[1] + c->offset + r, 2); break;
        case C_I32: h_bytes(h, i32s(c) + r, 4); break;
        case C_I64: h_bytes(h, i64s(c) + r, 8); break;
        case C_F64: h_bytes(h, (const double*)c->buffers[1] + c->offset + r, 8); break;
        case C_BOOL: h_i64(h, bit((const uint8_t*)c->buffers[1], c->offset + r)); break;
        case C_STR: h_string(h, c, r); break;
        case C_DICT: {
          size_t len;
          const char* p;
          if (c->dictionary) {
            const struct ArrowArray* d = c->dictionary;
            const int32_t* off = (const int32_t*)d->buffers[1] + d->offset;
            int32_t k = i32s(c)[r];
            p = (const char*)d->buffers[2] + off[k];
            len = (size_t)(off[k + 1] - off[k]);
          } else p = dict_item(e, sp->dict, i32s(c)[r], &len);
          h_i64(h, (int64_t)len);
          h_bytes(h, p, len);
          break;
        }
        case C_MAP: {
          const int32_t* off = (const int32_t*)c->buffers[1] + c->offset;
          const struct ArrowArray* ent = c->children[0];
          h_i64(h, off[r + 1] - off[r]);
          for (int32_t k = off[r]; k < off[r + 1]; k++) {
            h_string(h, ent->children[0], ent->offset + k);
            if (is_valid((const uint8_t*)ent->children[1]->buffers[0], ent->children[1], ent->offset + k))
              h_string(h, ent->children[1], ent->offset + k);
            else h_i64(h, -2);
          }
          break;
        }
      }
    }
  }
}

/* ---- the reading driver --------------------------------------------------------------------------- */

typedef struct {
  const ck_config* cfg;
  ol_engine* e;
  ck_result* out;
  /* the file being read */
  int file;
  int64_t line0, off0;    /* lines and bytes before this read (a resumed read goes on from them) */
  int64_t fed, newlines;  /* bytes fed so far, and the newlines among them */
  uint8_t last;           /* the last byte fed */
  int64_t rows;           /* rows of this file taken so far */
  int64_t last_unknown;   /* line of the last unknown line taken */
  int feeds;              /* feeds of this file so far */
} run_t;

static void must(int rc, const ol_error* err, const char* what) {
  if (rc != OL_OK) ck_fail("%s failed: code %d: %s", what, rc, err->message);
}

static int64_t lines_so_far(const run_t* r) {
  return r->line0 + r->newlines + (r->fed && r->last != '\n' ? 1 : 0);
}

static void take(run_t* r, int table, int anywhere) {
  ol_error err;
  memset(&err, 0, sizeof(err));
  if (ol_engine_rows(r->e, table) == 0 && !anywhere) return;
  int64_t before = ol_engine_rows(r->e, table);
  struct ArrowArray a;
  struct ArrowSchema s;
  memset(&a, 0, sizeof(a));
  memset(&s, 0, sizeof(s));
  /* both ways out, in turn: engine-wide indices, and a schema with per-batch dictionaries (what
   * the Python adapter takes); the digest reads names through either, so readings compare */
  int with_schema = (int)((r->out->batches + r->cfg->seed) & 1);
  int rc = with_schema ? ol_engine_export_batch(r->e, table, &a, &s, &err) : ol_engine_export(r->e, table, &a, &err);
  if (rc == OL_EINVAL && anywhere) {
    /* a refusal (rows still wait for their time) leaves everything as it was */
    if (a.release || s.release) ck_fail("export refused but filled the array");
    if (ol_engine_rows(r->e, table) != before) ck_fail("export refused but the rows changed");
    return;
  }
  must(rc, &err, with_schema ? "ol_engine_export_batch" : "ol_engine_export");
  if (with_schema) check_schema(table, &s);
  if (a.length != before) ck_fail("exported %lld rows, ol_engine_rows said %lld", (long long)a.length, (long long)before);
  if (ol_engine_rows(r->e, table) != 0) ck_fail("rows left after an export");
  int64_t n = ck_validate_batch(r->e, table, &a, r->line0 + 1, lines_so_far(r), r->off0, r->off0 + r->fed);
  digest_batch(&r->out->rows[table], r->e, table, &a);
  r->out->n_rows[table] += n;
  r->out->batches++;
  r->rows += n;
  a.release(&a);
  if (a.release) ck_fail("release() did not mark the array released");
  if (with_schema) {
    s.release(&s);
    if (s.release) ck_fail("release() did not mark the schema released");
  }
}

static void take_unknown(run_t* r) {
  int64_t n = ol_engine_unknown_count(r->e);
  if (n < 0) ck_fail("unknown count %lld", (long long)n);
  if (n && !r->cfg->keep_unknown) ck_fail("unknown lines kept without keep_unknown");
  for (int64_t i = 0; i < n; i++) {
    int64_t line = 0;
    size_t len = 0;
    const char* p = ol_engine_unknown(r->e, i, &line, &len);
    if (line <= r->last_unknown || line > lines_so_far(r))
      ck_fail("unknown line %lld after %lld, %lld lines read", (long long)line, (long long)r->last_unknown,
              (long long)lines_so_far(r));
    r->last_unknown = line;
    if (len && !p) ck_fail("unknown line %lld: NULL text", (long long)line);
    if (!ck_utf8_valid((const uint8_t*)p, len)) ck_fail("unknown line %lld is not valid UTF-8", (long long)line);
    h_i64(&r->out->unknown, line);
    h_i64(&r->out->unknown, (int64_t)len);
    h_bytes(&r->out->unknown, p, len);
    r->out->n_unknown++;
  }
  ol_engine_unknown_clear(r->e);
  if (ol_engine_unknown_count(r->e) != 0) ck_fail("unknown lines left after a clear");
}

static void feed(run_t* r, const uint8_t* p, size_t n) {
  ol_error err;
  memset(&err, 0, sizeof(err));
  /* a buffer of its own, freed at once: the engine may neither read past a chunk nor keep it */
  char* copy = (char*)malloc(n ? n : 1);
  memcpy(copy, p, n);
  must(ol_engine_feed(r->e, copy, n, &err), &err, "ol_engine_feed");
  memset(copy, 0xA5, n);
  free(copy);
  for (size_t i = 0; i < n; i++) r->newlines += p[i] == '\n';
  r->fed += (int64_t)n;
  if (n) r->last = p[n - 1];
  take_unknown(r); /* without keep_unknown there must be none */
  int ready = ol_engine_batch_ready(r->e);
  if (ready || r->cfg->export_anywhere) {
    take(r, OL_TABLE_EVENTS, !ready);
    take(r, OL_TABLE_REQUESTS, !ready);
  }
}

static uint64_t stats_digest(const ol_file_stats* s) {
  uint64_t h = 1469598103934665603ULL;
  const int64_t v[] = {s->bytes, s->physical, s->parsed, s->unknown, s->malformed, s->blank, s->continued,
                       s->invalid_utf8, s->oversized, s->slog, s->log, s->gin, s->runner, s->llama, s->probe,
                       s->panic, s->system, s->other, s->time_unresolved, s->has_time,
                       s->has_time ? s->first_time : 0, s->has_time ? s->last_time : 0, s->tz_assumed,
                       s->transport, s->host};
  h_bytes(&h, v, sizeof(v));
  return h;
}

static void check_stats(run_t* r, const ol_file_stats* s) {
  long long physical = (long long)(r->newlines + (r->fed && r->last != '\n' ? 1 : 0));
  if (s->bytes != r->fed) ck_fail("stats.bytes %lld, %lld fed", (long long)s->bytes, (long long)r->fed);
  if (s->physical != physical) ck_fail("stats.physical %lld, the bytes hold %lld lines", (long long)s->physical, physical);
  if (s->parsed + s->unknown + s->malformed != s->physical)
    ck_fail("parsed %lld + unknown %lld + malformed %lld != physical %lld", (long long)s->parsed,
            (long long)s->unknown, (long long)s->malformed, (long long)s->physical);
  const int64_t counts[] = {s->parsed, s->unknown, s->malformed, s->blank, s->continued, s->invalid_utf8,
                            s->oversized, s->time_unresolved};
  for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
    if (counts[i] < 0) ck_fail("stats: a negative count (%zu: %lld)", i, (long long)counts[i]);
  if (s->invalid_utf8 > s->physical || s->oversized > s->physical || s->continued > s->physical)
    ck_fail("stats: invalid_utf8 %lld, oversized %lld or continued %lld over physical %lld",
            (long long)s->invalid_utf8, (long long)s->oversized, (long long)s->continued, (long long)s->physical);
  int64_t kinds = s->slog + s->log + s->gin + s->runner + s->llama + s->probe + s->panic + s->system + s->other;
  if (kinds != r->rows) ck_fail("stats: %lld rows by kind, %lld rows exported", (long long)kinds, (long long)r->rows);
  if (s->time_unresolved > r->rows) ck_fail("stats: %lld unresolved times of %lld rows", (long long)s->time_unresolved,
                                            (long long)r->rows);
  if (s->has_time && s->first_time > s->last_time) ck_fail("stats: first_time after last_time");
  check_dicts(r->e);
  int nt = 0;
  ol_transport_names(&nt);
  if (s->transport < -1 || s->transport >= nt) ck_fail("stats.transport %d", s->transport);
  if (s->host < -1 || s->host >= ol_engine_dict_size(r->e, OL_DICT_HOST)) ck_fail("stats.host %lld", (long long)s->host);
}

#define FEED_BUDGET 128

static uint32_t xorshift(uint32_t* s) {
  uint32_t x = *s ? *s : 0x9E3779B9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static void read_part(run_t* r, const uint8_t* p, size_t n, uint32_t* seed) {
  const ck_config* cfg = r->cfg;
  if (!cfg->max_chunk) {
    if (n) feed(r, p, n);
    return;
  }
  size_t i = 0;
  while (i < n) {
    /* any chunk sizes for the first FEED_BUDGET feeds, then pieces of up to 4 KiB at least */
    size_t max = r->feeds++ < FEED_BUDGET || cfg->max_chunk >= 4096 ? cfg->max_chunk : 4096;
    size_t k = 1 + xorshift(seed) % max;
    if (k > n - i) k = n - i;
    feed(r, p + i, k);
    i += k;
  }
}

ol_engine* ck_engine(const ck_formats* f, const ck_config* cfg) {
  ol_error err;
  memset(&err, 0, sizeof(err));
  ol_options opt = {cfg->batch_rows, cfg->max_line, cfg->keep_unknown};
  ol_engine* e = NULL;
  must(ol_engine_new(&e, &opt, &err), &err, "ol_engine_new");
  for (int i = 0; i < f->n_rules; i++)
    must(ol_engine_add_rule(e, f->event[i], strlen(f->event[i]), f->scope[i], f->match[i], f->text[i],
                            strlen(f->text[i]), &err),
         &err, "ol_engine_add_rule");
  for (int i = 0; i < f->n_months; i++)
    must(ol_engine_add_month(e, f->month_name[i], strlen(f->month_name[i]), f->month[i], &err), &err,
         "ol_engine_add_month");
  return e;
}

void ck_read(ol_engine* e, const uint8_t* data, size_t n, const ck_config* cfg, ck_result* out) {
  memset(out, 0, sizeof(*out));
  out->rows[0] = out->rows[1] = out->unknown = out->stats = 1469598103934665603ULL;
  ol_error err;
  memset(&err, 0, sizeof(err));
  run_t r;
  memset(&r, 0, sizeof(r));
  r.cfg = cfg;
  r.out = out;
  r.e = e;
  size_t split = cfg->two_files ? (cfg->split < n ? cfg->split : n) : n;
  uint32_t seed = cfg->seed;
  static const char* names[2] = {"first.log", "second.log"};
  ol_position at;
  memset(&at, 0, sizeof(at));
  for (int file = 0; file < (cfg->two_files ? 2 : 1); file++) {
    const char* host = cfg->host;
    size_t hn = host ? strlen(host) : 0;
    if (file == 0) {
      must(ol_engine_begin_file(r.e, names[0], strlen(names[0]), host, hn, cfg->force_host, &err), &err,
           "ol_engine_begin_file");
    } else {
      if (cfg->odd_resume) {
        at.tz_server = cfg->odd_tz;
        at.has_tz_server = 1;
        at.tz_prefix = cfg->odd_tz == INT64_MIN ? INT64_MAX : -cfg->odd_tz; /* (-INT64_MIN overflows) */
        at.has_tz_prefix = 1;
        at.ref_us = cfg->odd_ref;
        at.has_ref = 1;
      }
      int rc = ol_engine_resume_file(r.e, names[1], strlen(names[1]), host, hn, cfg->force_host, &at, &err);
      int in_range = at.tz_server >= -OL_TZ_LIMIT_S && at.tz_server <= OL_TZ_LIMIT_S &&
                     at.tz_prefix >= -OL_TZ_LIMIT_S && at.tz_prefix <= OL_TZ_LIMIT_S &&
                     at.ref_us >= -OL_TIME_LIMIT_US && at.ref_us <= OL_TIME_LIMIT_US;
      if (rc == OL_EINVAL && !in_range) {
        /* refused as documented: go on from the position the first read gave */
        ol_engine_position(r.e, &at);
        rc = ol_engine_resume_file(r.e, names[1], strlen(names[1]), host, hn, cfg->force_host, &at, &err);
      }
      must(rc, &err, "ol_engine_resume_file");
    }
    must(ol_engine_date_hint(r.e, cfg->year, cfg->mtime_us, cfg->has_mtime, &err), &err, "ol_engine_date_hint");
    r.file = file;
    r.line0 = file ? at.line : 0;
    r.off0 = file ? at.offset : 0;
    r.fed = r.newlines = r.rows = 0;
    r.last = 0;
    r.last_unknown = r.line0;
    r.feeds = 0;
    if (file == 0) read_part(&r, data, split, &seed);
    else read_part(&r, data + split, n - split, &seed);
    ol_file_stats st;
    memset(&st, 0, sizeof(st));
    must(ol_engine_end_file(r.e, &st, &err), &err, "ol_engine_end_file");
    take_unknown(&r);
    take(&r, OL_TABLE_EVENTS, 0);
    take(&r, OL_TABLE_REQUESTS, 0);
    if (ol_engine_rows(r.e, OL_TABLE_EVENTS) || ol_engine_rows(r.e, OL_TABLE_REQUESTS))
      ck_fail("rows left after the last export of a file");
    check_stats(&r, &st);
    h_i64(&out->stats, (int64_t)stats_digest(&st));
    ol_engine_position(r.e, &at);
    if (at.line != r.line0 + st.physical) ck_fail("position.line %lld, %lld lines read from %lld", (long long)at.line,
                                                  (long long)st.physical, (long long)r.line0);
    if (at.offset != r.off0 + r.fed) ck_fail("position.offset %lld, %lld bytes read from %lld", (long long)at.offset,
                                             (long long)r.fed, (long long)r.off0);
  }
}

void ck_run(const ck_formats* f, const uint8_t* data, size_t n, const ck_config* cfg, ck_result* out) {
  ol_engine* e = ck_engine(f, cfg);
  ck_read(e, data, n, cfg, out);
  ol_engine_free(e);
}

/* ---- formats for one input ----------------------------------------------------------------------- */

static uint64_t fnv(const char* s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
  return h;
}
static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static int same(const char* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((uint8_t)a[i] != b[i]) return 0;
  return 1;
}

static int contains(const uint8_t* hay, size_t n, const char* needle, size_t k) {
  if (k > n) return 0;
  const uint8_t* end = hay + (n - k + 1); /* the last place the needle can start, plus one */
  for (const uint8_t* p = hay; (p = (const uint8_t*)memchr(p, needle[0], (size_t)(end - p))); p++) {
    size_t j = 1;
    while (j < k && p[j] == (uint8_t)needle[j]) j++; /* no memcmp: the fuzzer traces those */
    if (j == k) return 1;
  }
  return 0;
}

void ck_formats_for(const ck_formats* all, const uint8_t* data, size_t n, ck_formats* sub) {
  static uint8_t pairs[8192]; /* a bit per byte pair the input holds */
  memset(pairs, 0, sizeof(pairs));
  for (size_t i = 0; i + 1 < n; i++) {
    unsigned v = (unsigned)data[i] << 8 | data[i + 1];
    pairs[v >> 3] |= (uint8_t)(1u << (v & 7));
  }
#define PAIR(s, i) ((pairs[((unsigned)(uint8_t)(s)[i] << 8 | (uint8_t)(s)[(i) + 1]) >> 3] >> ((uint8_t)(s)[(i) + 1] & 7)) & 1)
#define HAS(s, len) ((len) < 2 ? memchr(data, (s)[0], n) != NULL                                                 \
                               : PAIR(s, 0) && PAIR(s, (len) - 2) && PAIR(s, ((len) - 2) / 2) && contains(data, n, (s), (len)))
  static int cap = 0;
  static char** ev;
  static char** tx;
  static int *sc, *ma, *mo;
  static char** mn;
  if (cap < all->n_rules + all->n_months) {
    cap = all->n_rules + all->n_months;
    ev = (char**)realloc(ev, sizeof(char*) * (size_t)cap);
    tx = (char**)realloc(tx, sizeof(char*) * (size_t)cap);
    sc = (int*)realloc(sc, sizeof(int) * (size_t)cap);
    ma = (int*)realloc(ma, sizeof(int) * (size_t)cap);
    mo = (int*)realloc(mo, sizeof(int) * (size_t)cap);
    mn = (char**)realloc(mn, sizeof(char*) * (size_t)cap);
  }
  memset(sub, 0, sizeof(*sub));
  sub->event = ev; sub->text = tx; sub->scope = sc; sub->match = ma; sub->month_name = mn; sub->month = mo;
  int seen[2][3] = {{0}};
  for (int i = 0; i < all->n_rules; i++) {
    size_t len = strlen(all->text[i]);
    int first = !seen[all->scope[i]][all->match[i]]++;
    if (!first && len && !HAS(all->text[i], len)) continue;
    int k = sub->n_rules++;
    ev[k] = all->event[i]; tx[k] = all->text[i]; sc[k] = all->scope[i]; ma[k] = all->match[i];
  }
  /* month names: the English ones, and those the input holds as a word or two words (where a
   * journald prefix has its month), found through a hash of every name */
  static int* slots;
  static size_t nslots;
  static unsigned* stamp;
  static unsigned now;
  if (!slots) {
    nslots = 1;
    while (nslots < (size_t)all->n_months * 4) nslots *= 2;
    slots = (int*)malloc(sizeof(int) * nslots);
    for (size_t i = 0; i < nslots; i++) slots[i] = -1;
    stamp = (unsigned*)calloc((size_t)all->n_months, sizeof(unsigned));
    for (int i = 0; i < all->n_months; i++) {
      const char* m = all->month_name[i];
      size_t j = (size_t)fnv(m, strlen(m)) & (nslots - 1);
      while (slots[j] >= 0) j = (j + 1) & (nslots - 1);
      slots[j] = i;
    }
  }
  now++;
  for (int i = 0; i < all->n_months; i++) {
    const char* m = all->month_name[i];
    if (strlen(m) == 3 && m[0] >= 'A' && m[0] <= 'Z' && strchr("JFMASOND", m[0]) && m[1] >= 'a') {
      stamp[i] = now;
      int k = sub->n_months++;
      mn[k] = all->month_name[i]; mo[k] = all->month[i];
    }
  }
  for (size_t i = 0; i < n;) {
    if (is_space(data[i])) { i++; continue; }
    size_t t1 = i;
    while (t1 < n && !is_space(data[t1])) t1++;
    size_t t2 = t1 + 1;
    while (t2 < n && !is_space(data[t2])) t2++;
    size_t ends[2] = {t1, t1 + 1 < n && data[t1] == ' ' && t2 > t1 + 1 ? t2 : 0};
    for (int w = 0; w < 2; w++) {
      if (!ends[w]) continue;
      size_t len = ends[w] - i;
      for (size_t j = (size_t)fnv((const char*)data + i, len) & (nslots - 1); slots[j] >= 0; j = (j + 1) & (nslots - 1)) {
        const char* m = all->month_name[slots[j]];
        if (strlen(m) != len || !same(m, data + i, len)) continue;
        if (stamp[slots[j]] != now) {
          stamp[slots[j]] = now;
          int k = sub->n_months++;
          mn[k] = all->month_name[slots[j]]; mo[k] = all->month[slots[j]];
        }
        break;
      }
    }
    i = t1;
  }
#undef HAS
#undef PAIR
}

void ck_same(const ck_result* a, const ck_result* b, const char* label) {
  if (a->n_rows[0] != b->n_rows[0] || a->rows[0] != b->rows[0])
    ck_fail("%s: events differ (%lld rows vs %lld)", label, (long long)a->n_rows[0], (long long)b->n_rows[0]);
  if (a->n_rows[1] != b->n_rows[1] || a->rows[1] != b->rows[1])
    ck_fail("%s: requests differ (%lld rows vs %lld)", label, (long long)a->n_rows[1], (long long)b->n_rows[1]);
  if (a->n_unknown != b->n_unknown || a->unknown != b->unknown)
    ck_fail("%s: unknown lines differ (%lld vs %lld)", label, (long long)a->n_unknown, (long long)b->n_unknown);
  if (a->stats != b->stats) ck_fail("%s: line accounting differs", label);
}
