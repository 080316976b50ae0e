/* The public API of ollalog.h: engine lifetime, files, batches and their export. */
#include "engine.h"

static const char* const KIND_NAMES[] = {"slog", "log", "runner", "llama", "probe", "panic", "gin", "system", "fragment"};

static const char* const TRANSPORT_NAMES[] = {"plain", "journald", "journald-json", "docker", "docker-json",
                                              "docker-desktop", "compose", "cri", "pino"};
static const char* const EVENT_COLS[] = {"file", "line", "byte_offset", "host", "time", "level", "source", "msg", "attrs",
                                         "kind", "event", "pid", "transport", "truncated", "end_line",
                                         "prefix_time"};
static const char* const REQUEST_COLS[] = {"file", "line", "byte_offset", "host", "time", "status", "latency_ms", "client",
                                           "method", "path", "pid", "transport", "truncated", "prefix_time"};

const char* const* ol_kind_names(int* n) { *n = 9; return KIND_NAMES; }
const char* const* ol_transport_names(int* n) { *n = 9; return TRANSPORT_NAMES; }
const char* const* ol_column_names(int table, int* n) {
  if (table == OL_TABLE_EVENTS) { *n = EC_N; return EVENT_COLS; }
  *n = RC_N;
  return REQUEST_COLS;
}

/* ---- engine API ---------------------------------------------------------------------------------- */

static int init_cols(ol_engine* e) {
  static const int ev_types[EC_N] = {OL_COL_I32, OL_COL_I64, OL_COL_I64, OL_COL_I32, OL_COL_I64, OL_COL_STR, OL_COL_STR,
                                     OL_COL_STR, OL_COL_MAP, OL_COL_I32, OL_COL_I32, OL_COL_I32, OL_COL_I32,
                                     OL_COL_BOOL, OL_COL_I64, OL_COL_STR};
  static const int rq_types[RC_N] = {OL_COL_I32, OL_COL_I64, OL_COL_I64, OL_COL_I32, OL_COL_I64, OL_COL_I16, OL_COL_F64,
                                     OL_COL_STR, OL_COL_STR, OL_COL_STR, OL_COL_I32, OL_COL_I32, OL_COL_BOOL,
                                     OL_COL_STR};
  for (int i = 0; i < EC_N; i++)
    if (ol_col_init(&e->ev[i], ev_types[i])) return OL_ENOMEM;
  for (int i = 0; i < RC_N; i++)
    if (ol_col_init(&e->rq[i], rq_types[i])) return OL_ENOMEM;
  return OL_OK;
}

int ol_engine_new(ol_engine** out, const ol_options* opt, ol_error* err) {
  ol_engine* e = (ol_engine*)calloc(1, sizeof(ol_engine));
  if (!e) return err_set(err, OL_ENOMEM, "out of memory");
  e->opt.batch_rows = opt && opt->batch_rows > 0 ? opt->batch_rows : 32768;
  e->opt.max_line = opt && opt->max_line > 0 ? opt->max_line : (1 << 20);
  e->opt.keep_unknown = opt ? opt->keep_unknown : 0;
  e->opt.skip_requests = opt ? opt->skip_requests : 0;
  e->opt.named_only = opt ? opt->named_only : 0;
  e->last_host = -1;
  if (init_cols(e)) {
    ol_engine_free(e);
    return err_set(err, OL_ENOMEM, "out of memory");
  }
  *out = e;
  return OL_OK;
}

static void free_names(name_t* v, int64_t n) {
  for (int64_t i = 0; i < n; i++) free(v[i].p);
  free(v);
}

void ol_engine_free(ol_engine* e) {
  if (!e) return;
  for (int s = 0; s < 2; s++) {
    catalogue_t* c = &e->cat[s];
    for (int i = 0; i < c->n_exact; i++) free(c->exact[i].text);
    for (int i = 0; i < c->n_prefix; i++) free(c->prefix[i].text);
    for (int i = 0; i < c->n_contains; i++) free(c->contains[i].text);
    free(c->exact); free(c->prefix); free(c->contains);
  }
  free_names(e->events, e->n_events);
  free_names(e->files, e->n_files);
  free_names(e->hosts, e->n_hosts);
  for (size_t i = 0; i < e->cap_months; i++) free(e->months[i].p);
  free(e->months);
  for (int i = 0; i < EC_N; i++) ol_col_free(&e->ev[i]);
  for (int i = 0; i < RC_N; i++) ol_col_free(&e->rq[i]);
  free(e->pending);
  free(e->attrs);
  ol_buf_free(&e->carry); ol_buf_free(&e->held_text); ol_buf_free(&e->cri_text);
  ol_buf_free(&e->held_ctx.arena); ol_buf_free(&e->cri_ctx.arena);
  ol_buf_free(&e->line); ol_buf_free(&e->tmp); ol_buf_free(&e->arena); ol_buf_free(&e->jarena);
  ol_buf_free(&e->joined);
  ol_buf_free(&e->unk_cur); ol_buf_free(&e->unk_text);
  free(e->unk_lines); free(e->unk_offs);
  free(e->remap);
  free(e);
}

int ol_engine_begin_file(ol_engine* e, const char* name, size_t name_len, const char* host, size_t host_len,
                         int force_host, ol_error* err) {
  int rc = api_enter(e, err);
  if (rc) return rc;
  e->file_id = name_add(&e->files, &e->n_files, name, name_len);
  if (e->file_id < 0) return api_leave(e, err);
  e->default_host = host ? host_id(e, host, host_len) : -1;
  e->force_host = force_host;
  memset(&e->st, 0, sizeof(e->st));
  e->st.transport = -1;
  e->st.host = -1;
  e->prefix_host = -1;
  e->carry.len = 0;
  e->carry_over = 0;
  e->first = 1;
  e->lineno = 0;
  e->line_off = e->next_off = e->base_off = 0;
  e->has_tz_server = e->has_tz_prefix = e->has_ref = 0;
  e->hint_year = 0;
  e->has_hint_mtime = 0;
  e->hint_mtime_us = 0;
  e->n_pending = 0;
  e->held = 0;
  e->cri = 0;
  return api_leave(e, err);
}

int ol_engine_resume_file(ol_engine* e, const char* name, size_t name_len, const char* host, size_t host_len,
                          int force_host, const ol_position* at, ol_error* err) {
  int rc = ol_engine_begin_file(e, name, name_len, host, host_len, force_host, err);
  if (rc != OL_OK || !at) return rc;
  if (at->line < 0 || at->offset < 0) return err_set(err, OL_EINVAL, "negative resume position");
  /* beyond these the time arithmetic would overflow (a position is read back from a file) */
  if ((at->has_tz_server && (at->tz_server < -OL_TZ_LIMIT_S || at->tz_server > OL_TZ_LIMIT_S)) ||
      (at->has_tz_prefix && (at->tz_prefix < -OL_TZ_LIMIT_S || at->tz_prefix > OL_TZ_LIMIT_S)) ||
      (at->has_ref && (at->ref_us < -OL_TIME_LIMIT_US || at->ref_us > OL_TIME_LIMIT_US)) ||
      at->line > OL_TIME_LIMIT_US || at->offset > OL_TIME_LIMIT_US)
    return err_set(err, OL_EINVAL, "resume position out of range");
  e->lineno = at->line;
  e->line_off = e->next_off = e->base_off = at->offset;
  e->first = at->offset == 0;
  e->tz_server = at->tz_server; e->has_tz_server = at->has_tz_server;
  e->tz_prefix = at->tz_prefix; e->has_tz_prefix = at->has_tz_prefix;
  e->ref_us = at->ref_us; e->has_ref = at->has_ref;
  return OL_OK;
}

void ol_engine_position(const ol_engine* e, ol_position* out) {
  out->line = e->lineno;
  out->offset = e->next_off;
  out->tz_server = e->tz_server; out->has_tz_server = e->has_tz_server;
  out->tz_prefix = e->tz_prefix; out->has_tz_prefix = e->has_tz_prefix;
  out->ref_us = e->ref_us; out->has_ref = e->has_ref;
}

int ol_engine_date_hint(ol_engine* e, int year, int64_t mtime_us, int has_mtime, ol_error* err) {
  (void)err;
  /* a year or time no date can have is no hint (a file's mtime can be anything on some file systems) */
  if (has_mtime && (mtime_us < -OL_HINT_LIMIT_US || mtime_us > OL_HINT_LIMIT_US)) has_mtime = 0;
  e->hint_year = year >= 1 && year <= 9999 ? year : 0;
  e->hint_mtime_us = has_mtime ? mtime_us : 0;
  e->has_hint_mtime = has_mtime != 0;
  return OL_OK;
}



int ol_engine_batch_ready(const ol_engine* e) {
  if (e->n_pending) return 0;
  if (e->ev_rows >= e->opt.batch_rows || e->rq_rows >= e->opt.batch_rows) return 1;
  /* the bytes of every string column: each must stay far below int32 offsets */
  int64_t bytes = e->ev[EC_ATTRS].keys->chars.len + e->ev[EC_ATTRS].vals->chars.len;
  for (int i = 0; i < EC_N; i++) bytes += e->ev[i].chars.len;
  for (int i = 0; i < RC_N; i++) bytes += e->rq[i].chars.len;
  return bytes > STR_BYTES_READY;
}

int64_t ol_engine_rows(const ol_engine* e, int table) {
  return table == OL_TABLE_EVENTS ? e->ev_rows : e->rq_rows;
}

int api_leave(ol_engine* e, ol_error* err) {
  if (ol_fault == OL_FAULT_NONE) return OL_OK;
  e->failed = 1;
  if (ol_fault == OL_FAULT_RANGE)
    err_set(&e->failure, OL_ERANGE, "a batch grew past what Arrow can hold (2 GiB of strings): export batches sooner");
  else
    err_set(&e->failure, OL_ENOMEM, "out of memory: the engine cannot go on");
  ol_fault = OL_FAULT_NONE;
  if (err) *err = e->failure;
  return e->failure.code;
}

/* every column of a table holds the same number of rows (a fault would have failed the engine first) */
static int same_lengths(const ol_col* cols, int n, int64_t rows) {
  for (int i = 0; i < n; i++)
    if (cols[i].length != rows) return 0;
  return 1;
}

static int export_check(ol_engine* e, int table, ol_error* err) {
  int rc = api_enter(e, err);
  if (rc) return rc;
  if (table != OL_TABLE_EVENTS && table != OL_TABLE_REQUESTS) return err_set(err, OL_EINVAL, "no such table");
  if (e->n_pending)
    return err_set(err, OL_EINVAL, "rows are waiting for their time: export after batch_ready() or end_file()");
  if (table == OL_TABLE_EVENTS ? !same_lengths(e->ev, EC_N, e->ev_rows) : !same_lengths(e->rq, RC_N, e->rq_rows)) {
    e->failed = 1;
    return err_set(err, err_set(&e->failure, OL_EINVAL, "columns of different lengths (an earlier failure)"),
                   e->failure.message);
  }
  return OL_OK;
}

static int export_rows(ol_engine* e, int table, struct ArrowArray* out, ol_error* err) {
  int rc;
  if (table == OL_TABLE_EVENTS) {
    rc = ol_struct_export(e->ev, EC_N, e->ev_rows, out);
    e->ev_rows = 0;
  } else {
    rc = ol_struct_export(e->rq, RC_N, e->rq_rows, out);
    e->rq_rows = 0;
  }
  if (rc) {
    api_leave(e, err);
    return err_set(err, OL_ENOMEM, "out of memory exporting a batch");
  }
  return api_leave(e, err);
}

int ol_engine_export(ol_engine* e, int table, struct ArrowArray* out, ol_error* err) {
  int rc = export_check(e, table, err);
  return rc ? rc : export_rows(e, table, out, err);
}

/* ---- export with a schema and per-batch dictionaries ------------------------------------------ */

#define DICT(n) n, "i", 1, "u"
static const ol_field EVENT_FIELDS[EC_N] = {
    {DICT("file")}, {"line", "l", 1, NULL}, {"byte_offset", "l", 1, NULL}, {DICT("host")},
    {"time", "tsu:UTC", 1, NULL}, {"level", "u", 1, NULL}, {"source", "u", 1, NULL}, {"msg", "u", 1, NULL},
    {"attrs", "+m", 1, NULL}, {DICT("kind")}, {DICT("event")}, {"pid", "i", 1, NULL}, {DICT("transport")},
    {"truncated", "b", 1, NULL}, {"end_line", "l", 1, NULL}, {"prefix_time", "u", 1, NULL}};
static const ol_field REQUEST_FIELDS[RC_N] = {
    {DICT("file")}, {"line", "l", 1, NULL}, {"byte_offset", "l", 1, NULL}, {DICT("host")},
    {"time", "tsu:UTC", 1, NULL}, {"status", "s", 1, NULL}, {"latency_ms", "g", 1, NULL}, {"client", "u", 1, NULL},
    {"method", "u", 1, NULL}, {"path", "u", 1, NULL}, {"pid", "i", 1, NULL}, {DICT("transport")},
    {"truncated", "b", 1, NULL}, {"prefix_time", "u", 1, NULL}};
#undef DICT

/* the names of `n` items as a dictionary array */
static int names_export(const name_t* names, const int32_t* pick, int64_t n, struct ArrowArray* out) {
  const char** items = (const char**)malloc((size_t)(n ? n : 1) * sizeof(char*));
  size_t* lens = (size_t*)malloc((size_t)(n ? n : 1) * sizeof(size_t));
  int rc = OL_ENOMEM;
  if (items && lens) {
    for (int64_t i = 0; i < n; i++) {
      const name_t* v = &names[pick ? pick[i] : i];
      items[i] = v->p;
      lens[i] = v->n;
    }
    rc = ol_strings_export(items, lens, n, out);
  } else ol_fault_set(OL_FAULT_NOMEM);
  free(items);
  free(lens);
  return rc;
}

static int static_names_export(const char* const* names, int n, struct ArrowArray* out) {
  size_t lens[16];
  for (int i = 0; i < n; i++) lens[i] = strlen(names[i]);
  return ol_strings_export(names, lens, n, out);
}

/* Rewrite a column of engine-wide indices (exported as `arr`) into indices of the names this batch
 * uses, in the order of first use, and attach those names as the dictionary. */
static int batch_dict(ol_engine* e, struct ArrowArray* arr, const name_t* names, int64_t n_names) {
  if (n_names > e->cap_remap) {
    int32_t* m = (int32_t*)realloc(e->remap, (size_t)n_names * 2 * sizeof(int32_t));
    if (!m) {
      ol_fault_set(OL_FAULT_NOMEM);
      return OL_ENOMEM;
    }
    e->remap = m;
    e->cap_remap = n_names;
  }
  int32_t* back = e->remap + n_names; /* batch index -> engine-wide index */
  for (int64_t i = 0; i < n_names; i++) e->remap[i] = -1;
  int32_t used = 0;
  int32_t* v = (int32_t*)arr->buffers[1];
  const uint8_t* valid = (const uint8_t*)arr->buffers[0];
  for (int64_t i = 0; i < arr->length; i++) {
    if (valid && !(valid[i >> 3] & (1u << (i & 7)))) continue;
    int32_t k = v[i];
    if (k < 0 || k >= n_names) return OL_EINVAL;
    if (e->remap[k] < 0) {
      back[used] = k;
      e->remap[k] = used++;
    }
    v[i] = e->remap[k];
  }
  arr->dictionary = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
  if (!arr->dictionary) {
    ol_fault_set(OL_FAULT_NOMEM);
    return OL_ENOMEM;
  }
  return names_export(names, back, used, arr->dictionary);
}

static int fixed_dict(struct ArrowArray* arr, const char* const* names, int n) {
  arr->dictionary = (struct ArrowArray*)calloc(1, sizeof(struct ArrowArray));
  if (!arr->dictionary) {
    ol_fault_set(OL_FAULT_NOMEM);
    return OL_ENOMEM;
  }
  return static_names_export(names, n, arr->dictionary);
}

int ol_engine_export_batch(ol_engine* e, int table, struct ArrowArray* out, struct ArrowSchema* schema,
                           ol_error* err) {
  int rc = export_check(e, table, err);
  if (rc) return rc;
  int ev = table == OL_TABLE_EVENTS;
  if (ol_schema_export(ev ? EVENT_FIELDS : REQUEST_FIELDS, ev ? EC_N : RC_N, schema)) {
    api_leave(e, err);
    return err_set(err, OL_ENOMEM, "out of memory exporting a schema");
  }
  rc = export_rows(e, table, out, err);
  if (rc) {
    schema->release(schema);
    return rc;
  }
  struct ArrowArray** k = out->children;
  rc = batch_dict(e, k[ev ? EC_FILE : RC_FILE], e->files, e->n_files);
  if (!rc) rc = batch_dict(e, k[ev ? EC_HOST : RC_HOST], e->hosts, e->n_hosts);
  if (!rc) rc = fixed_dict(k[ev ? EC_TRANSPORT : RC_TRANSPORT], TRANSPORT_NAMES, 9);
  if (!rc && ev) rc = fixed_dict(k[EC_KIND], KIND_NAMES, 9);
  if (!rc && ev) rc = batch_dict(e, k[EC_EVENT], e->events, e->n_events);
  if (rc) {
    out->release(out);
    schema->release(schema);
    if (rc == OL_EINVAL) return err_set(err, OL_EINVAL, "a dictionary index out of range");
    api_leave(e, err);
    return err_set(err, OL_ENOMEM, "out of memory exporting a batch's dictionaries");
  }
  return api_leave(e, err);
}

int64_t ol_engine_unknown_count(const ol_engine* e) { return e->n_unk; }

const char* ol_engine_unknown(const ol_engine* e, int64_t i, int64_t* line, size_t* len) {
  *line = e->unk_lines[i];
  *len = (size_t)(e->unk_offs[i + 1] - e->unk_offs[i]);
  return e->unk_text.p + e->unk_offs[i];
}

void ol_engine_unknown_clear(ol_engine* e) {
  e->n_unk = 0;
  e->unk_text.len = 0;
}
