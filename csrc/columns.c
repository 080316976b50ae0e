#include "columns.h"

#include <stdlib.h>

int ol_buf_grow(ol_buf* b, int64_t need) {
  int64_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap *= 2;
  char* p = (char*)realloc(b->p, (size_t)cap);
  if (!p) return OL_ENOMEM;
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
    if (!c->keys || !c->vals) return OL_ENOMEM;
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
  if (end > INT32_MAX) return OL_ENOMEM;
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
  /* past int32 offsets the value is left empty, so that the column stays whole (the engine makes
   * a batch ready long before: this is the last line of defence) */
  if (c->chars.len + n > INT32_MAX) n = 0;
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
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  free(a->private_data);
  a->release = NULL;
}

static void release_struct(struct ArrowArray* a) {
  if (!a || !a->release) return;
  for (int64_t i = 0; i < a->n_children; i++) {
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  free(a->children);
  free((void*)a->buffers);
  a->release = NULL;
}

static char* take(ol_buf* b) {
  char* p = b->p;
  if (!p) p = (char*)malloc(1);
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

int ol_col_export(ol_col* c, struct ArrowArray* out) {
  export_private* pv = (export_private*)calloc(1, sizeof(export_private));
  if (!pv) return OL_ENOMEM;
  memset(out, 0, sizeof(*out));
  out->length = c->length;
  out->null_count = c->null_count;
  out->private_data = pv;
  out->buffers = pv->buffers;
  out->release = release_array;
  pv->buffers[0] = c->null_count ? take(&c->valid) : NULL;
  if (!c->null_count) ol_buf_free(&c->valid);
  switch (c->type) {
    case OL_COL_STR:
      out->n_buffers = 3;
      pv->buffers[1] = take(&c->data);
      pv->buffers[2] = take(&c->chars);
      break;
    case OL_COL_MAP: {
      out->n_buffers = 2;
      pv->buffers[1] = take(&c->data);
      struct ArrowArray* entries = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
      struct ArrowArray** kids = (struct ArrowArray**)calloc(2, sizeof(struct ArrowArray*));
      const void** ebufs = (const void**)calloc(1, sizeof(void*));
      if (!entries || !kids || !ebufs) return OL_ENOMEM;
      kids[0] = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
      kids[1] = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
      if (!kids[0] || !kids[1]) return OL_ENOMEM;
      int64_t n = c->keys->length;
      if (ol_col_export(c->keys, kids[0]) || ol_col_export(c->vals, kids[1])) return OL_ENOMEM;
      entries->length = n;
      entries->n_buffers = 1;
      entries->buffers = ebufs;
      entries->n_children = 2;
      entries->children = kids;
      entries->release = release_struct;
      pv->children[0] = entries;
      out->n_children = 1;
      out->children = pv->children;
      break;
    }
    default:
      out->n_buffers = 2;
      pv->buffers[1] = take(&c->data);
  }
  /* the builder starts over */
  int type = c->type;
  ol_col* keys = c->keys;
  ol_col* vals = c->vals;
  memset(c, 0, sizeof(*c));
  c->type = type;
  c->keys = keys;
  c->vals = vals;
  return col_start(c);
}

int ol_struct_export(ol_col* cols, int n, int64_t length, struct ArrowArray* out) {
  memset(out, 0, sizeof(*out));
  struct ArrowArray** kids = (struct ArrowArray**)calloc((size_t)n, sizeof(struct ArrowArray*));
  const void** bufs = (const void**)calloc(1, sizeof(void*));
  if (!kids || !bufs) return OL_ENOMEM;
  out->length = length;
  out->n_buffers = 1;
  out->buffers = bufs;
  out->n_children = n;
  out->children = kids;
  out->release = release_struct;
  for (int i = 0; i < n; i++) {
    kids[i] = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
    if (!kids[i] || ol_col_export(&cols[i], kids[i])) return OL_ENOMEM;
  }
  return OL_OK;
}
