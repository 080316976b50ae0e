#include "columns.h"

#include <stdlib.h>

_Thread_local int ol_fault = OL_FAULT_NONE;

int ol_buf_grow(ol_buf* b, int64_t need) {
  if (need < 0 || need > INT64_MAX / 4) {
    ol_fault_set(OL_FAULT_RANGE);
    return OL_ENOMEM;
  }
  int64_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap *= 2;
  if ((uint64_t)cap > (uint64_t)SIZE_MAX) {
    ol_fault_set(OL_FAULT_RANGE);
    return OL_ENOMEM;
  }
  char* p = (char*)realloc(b->p, (size_t)cap);
  if (!p) {
    ol_fault_set(OL_FAULT_NOMEM);
    return OL_ENOMEM;
  }
  b->p = p;
  b->cap = cap;
  return OL_OK;
}

void ol_buf_free(ol_buf* b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static int col_start(ol_col* c) {
  /* offsets buffers begin with a 0 */
  if (c->type == OL_COL_STR || c->type == OL_COL_MAP) {
    int32_t zero = 0;
    return ol_buf_put(&c->data, &zero, 4);
  }
  return OL_OK;
}

int ol_col_init(ol_col* c, int type) {
  memset(c, 0, sizeof(*c));
  c->type = type;
  if (type == OL_COL_MAP) {
    c->keys = (ol_col*)calloc(1, sizeof(ol_col));
    c->vals = (ol_col*)calloc(1, sizeof(ol_col));
    if (!c->keys || !c->vals) {
      ol_fault_set(OL_FAULT_NOMEM);
      return OL_ENOMEM;
    }
    if (ol_col_init(c->keys, OL_COL_STR) || ol_col_init(c->vals, OL_COL_STR)) return OL_ENOMEM;
  }
  return col_start(c);
}

void ol_col_free(ol_col* c) {
  ol_buf_free(&c->valid);
  ol_buf_free(&c->data);
  ol_buf_free(&c->chars);
  if (c->keys) { ol_col_free(c->keys); free(c->keys); }
  if (c->vals) { ol_col_free(c->vals); free(c->vals); }
  c->keys = c->vals = NULL;
}

static inline int valid_bit(ol_col* c, int ok) {
  int64_t byte = c->length >> 3;
  if (byte >= c->valid.len) {
    if (ol_buf_reserve(&c->valid, 1)) return OL_ENOMEM;
    c->valid.p[c->valid.len++] = 0;
  }
  if (ok) c->valid.p[byte] |= (char)(1u << (c->length & 7));
  else c->null_count++;
  return OL_OK;
}

#define FIXED(name, T)                                    \
  int ol_col_##name(ol_col* c, T v) {                     \
    if (valid_bit(c, 1) || ol_buf_put(&c->data, &v, sizeof(T))) return OL_ENOMEM; \
    c->length++;                                          \
    return OL_OK;                                         \
  }
FIXED(i16, int16_t)
FIXED(i32, int32_t)
FIXED(i64, int64_t)
FIXED(f64, double)

int ol_col_bool(ol_col* c, int v) {
  int64_t byte = c->length >> 3;
  if (valid_bit(c, 1)) return OL_ENOMEM;
  if (byte >= c->data.len) {
    if (ol_buf_putc(&c->data, 0)) return OL_ENOMEM;
  }
  if (v) c->data.p[byte] |= (char)(1u << (c->length & 7));
  c->length++;
  return OL_OK;
}

static int put_offset(ol_col* c, int64_t end) {
  if (end > INT32_MAX) { /* an Arrow string column holds at most 2 GiB: the batch must be exported sooner */
    ol_fault_set(OL_FAULT_RANGE);
    return OL_ENOMEM;
  }
  int32_t o = (int32_t)end;
  return ol_buf_put(&c->data, &o, 4);
}

int ol_col_null(ol_col* c) {
  if (valid_bit(c, 0)) return OL_ENOMEM;
  int rc = OL_OK;
  switch (c->type) {
    case OL_COL_I16: { int16_t z = 0; rc = ol_buf_put(&c->data, &z, 2); break; }
    case OL_COL_I32: { int32_t z = 0; rc = ol_buf_put(&c->data, &z, 4); break; }
    case OL_COL_I64: { int64_t z = 0; rc = ol_buf_put(&c->data, &z, 8); break; }
    case OL_COL_F64: { double z = 0; rc = ol_buf_put(&c->data, &z, 8); break; }
    case OL_COL_BOOL:
      if ((c->length >> 3) >= c->data.len) rc = ol_buf_putc(&c->data, 0);
      break;
    case OL_COL_STR: rc = put_offset(c, c->chars.len); break;
    case OL_COL_MAP: rc = put_offset(c, c->keys->length); break;
  }
  if (rc) return rc;
  c->length++;
  return OL_OK;
}

int ol_col_str(ol_col* c, const char* p, int64_t n) {
  if (valid_bit(c, 1) || ol_buf_put(&c->chars, p, n) || put_offset(c, c->chars.len)) return OL_ENOMEM;
  c->length++;
  return OL_OK;
}

int ol_col_map_end(ol_col* c) {
  if (valid_bit(c, 1) || put_offset(c, c->keys->length)) return OL_ENOMEM;
  c->length++;
  return OL_OK;
}

void ol_col_set_i64(ol_col* c, int64_t i, int64_t v) {
  ((int64_t*)c->data.p)[i] = v;
  char* byte = c->valid.p + (i >> 3);
  char bit = (char)(1u << (i & 7));
  if (!(*byte & bit)) {
    *byte |= bit;
    c->null_count--;
  }
}

/* ---- export ------------------------------------------------------------------------------ */

typedef struct {
  const void* buffers[3];
  struct ArrowArray* children[2];
} export_private;

static void release_array(struct ArrowArray* a) {
  if (!a || !a->release) return;
  for (int64_t i = 0; i < a->n_buffers; i++) free((void*)a->buffers[i]);
  for (int64_t i = 0; i < a->n_children; i++) {
    if (!a->children[i]) continue;
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  if (a->dictionary) {
    if (a->dictionary->release) a->dictionary->release(a->dictionary);
    free(a->dictionary);
  }
  free(a->private_data);
  a->release = NULL;
}

/* a struct array: children and the buffers array are ours, the validity buffer is none */
static void release_struct(struct ArrowArray* a) {
  if (!a || !a->release) return;
  for (int64_t i = 0; i < a->n_children; i++) {
    if (!a->children[i]) continue;
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  free(a->children);
  free((void*)a->buffers);
  a->release = NULL;
}

/* the buffer's memory for export; the builder gets a fresh buffer with the same capacity */
static char* take(ol_buf* b, int64_t* hint) {
  char* p = b->p;
  if (!p) p = (char*)malloc(1);
  if (!p) ol_fault_set(OL_FAULT_NOMEM);
  *hint = b->len;
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

/* reserve what the last batch used, so that the next one does not regrow (and copy) its buffers */
static int reserve_to(ol_buf* b, int64_t hint) {
  int64_t need = hint + hint / 8 + 64;
  return hint && b->cap < need ? ol_buf_grow(b, need) : OL_OK;
}

static int col_reserve(ol_col* c) {
  return reserve_to(&c->valid, c->hint_valid) || reserve_to(&c->data, c->hint_data) ||
         reserve_to(&c->chars, c->hint_chars) ? OL_ENOMEM : OL_OK;
}

int ol_col_export(ol_col* c, struct ArrowArray* out) {
  memset(out, 0, sizeof(*out));
  export_private* pv = (export_private*)calloc(1, sizeof(export_private));
  if (!pv) {
    ol_fault_set(OL_FAULT_NOMEM);
    return OL_ENOMEM;
  }
  out->length = c->length;
  out->null_count = c->null_count;
  out->private_data = pv;
  out->buffers = pv->buffers;
  out->release = release_array;
  if (c->null_count) pv->buffers[0] = take(&c->valid, &c->hint_valid);
  else {
    c->hint_valid = c->valid.len;
    c->valid.len = 0; /* kept for the next batch */
  }
  switch (c->type) {
    case OL_COL_STR:
      out->n_buffers = 3;
      pv->buffers[1] = take(&c->data, &c->hint_data);
      pv->buffers[2] = take(&c->chars, &c->hint_chars);
      break;
    case OL_COL_MAP: {
      out->n_buffers = 2;
      pv->buffers[1] = take(&c->data, &c->hint_data);
      struct ArrowArray* entries = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
      struct ArrowArray** kids = (struct ArrowArray**)calloc(2, sizeof(struct ArrowArray*));
      const void** ebufs = (const void**)calloc(1, sizeof(void*));
      pv->children[0] = entries;
      out->n_children = 1;
      out->children = pv->children;
      if (!entries || !kids || !ebufs) {
        free(kids);
        free((void*)ebufs);
        ol_fault_set(OL_FAULT_NOMEM);
        return OL_ENOMEM; /* the caller releases `out` */
      }
      entries->length = c->keys->length;
      entries->n_buffers = 1;
      entries->buffers = ebufs;
      entries->n_children = 2;
      entries->children = kids;
      entries->release = release_struct;
      kids[0] = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
      kids[1] = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
      if (!kids[0] || !kids[1]) {
        ol_fault_set(OL_FAULT_NOMEM);
        return OL_ENOMEM;
      }
      if (ol_col_export(c->keys, kids[0]) || ol_col_export(c->vals, kids[1])) return OL_ENOMEM;
      break;
    }
    default:
      out->n_buffers = 2;
      pv->buffers[1] = take(&c->data, &c->hint_data);
  }
  for (int64_t i = 0; i < out->n_buffers; i++)
    if (i > 0 && !pv->buffers[i]) return OL_ENOMEM;
  /* the builder starts over, with room for a batch like this one */
  c->length = c->null_count = 0;
  if (col_reserve(c)) return OL_ENOMEM;
  return col_start(c);
}

int ol_strings_export(const char* const* items, const size_t* lens, int64_t n, struct ArrowArray* out) {
  ol_col c;
  if (ol_col_init(&c, OL_COL_STR)) {
    ol_col_free(&c);
    return OL_ENOMEM;
  }
  for (int64_t i = 0; i < n; i++)
    if (ol_col_str(&c, items[i], (int64_t)lens[i])) {
      ol_col_free(&c);
      return OL_ENOMEM;
    }
  c.hint_data = c.hint_chars = 0; /* no next batch */
  int rc = ol_col_export(&c, out);
  ol_col_free(&c);
  return rc;
}

int ol_struct_export(ol_col* cols, int n, int64_t length, struct ArrowArray* out) {
  memset(out, 0, sizeof(*out));
  struct ArrowArray** kids = (struct ArrowArray**)calloc((size_t)n, sizeof(struct ArrowArray*));
  const void** bufs = (const void**)calloc(1, sizeof(void*));
  if (!kids || !bufs) {
    free(kids);
    free((void*)bufs);
    ol_fault_set(OL_FAULT_NOMEM);
    return OL_ENOMEM;
  }
  out->length = length;
  out->n_buffers = 1;
  out->buffers = bufs;
  out->n_children = n;
  out->children = kids;
  out->release = release_struct;
  for (int i = 0; i < n; i++) {
    kids[i] = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
    if (!kids[i] || ol_col_export(&cols[i], kids[i])) {
      ol_fault_set(OL_FAULT_NOMEM);
      out->release(out);
      return OL_ENOMEM;
    }
  }
  return OL_OK;
}

/* ---- schemas ------------------------------------------------------------------------------- */

static void release_schema(struct ArrowSchema* s) {
  if (!s || !s->release) return;
  for (int64_t i = 0; i < s->n_children; i++) {
    if (!s->children[i]) continue;
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
    free(s->children[i]);
  }
  free(s->children);
  if (s->dictionary) {
    if (s->dictionary->release) s->dictionary->release(s->dictionary);
    free(s->dictionary);
  }
  s->release = NULL;
}

/* one node; format and name are static strings */
static int schema_node(struct ArrowSchema* s, const char* format, const char* name, int nullable, int n_children) {
  memset(s, 0, sizeof(*s));
  s->format = format;
  s->name = name;
  s->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  s->release = release_schema;
  if (n_children) {
    s->children = (struct ArrowSchema**)calloc((size_t)n_children, sizeof(struct ArrowSchema*));
    if (!s->children) return OL_ENOMEM;
    s->n_children = n_children;
    for (int i = 0; i < n_children; i++) {
      s->children[i] = (struct ArrowSchema*)calloc(1, sizeof(struct ArrowSchema));
      if (!s->children[i]) return OL_ENOMEM;
    }
  }
  return OL_OK;
}

static int field_schema(const ol_field* f, struct ArrowSchema* s) {
  int is_map = !strcmp(f->format, "+m");
  if (schema_node(s, f->dict_format ? f->format : f->format, f->name, f->nullable, is_map)) return OL_ENOMEM;
  if (is_map) {
    struct ArrowSchema* entries = s->children[0];
    if (schema_node(entries, "+s", "entries", 0, 2) || schema_node(entries->children[0], "u", "key", 0, 0) ||
        schema_node(entries->children[1], "u", "value", 1, 0))
      return OL_ENOMEM;
  }
  if (f->dict_format) {
    s->dictionary = (struct ArrowSchema*)calloc(1, sizeof(struct ArrowSchema));
    if (!s->dictionary || schema_node(s->dictionary, f->dict_format, NULL, 1, 0)) return OL_ENOMEM;
  }
  return OL_OK;
}

int ol_schema_export(const ol_field* fields, int n, struct ArrowSchema* out) {
  int rc = schema_node(out, "+s", "", 0, n);
  for (int i = 0; rc == OL_OK && i < n; i++) rc = field_schema(&fields[i], out->children[i]);
  if (rc != OL_OK) {
    ol_fault_set(OL_FAULT_NOMEM);
    out->release(out);
  }
  return rc;
}
