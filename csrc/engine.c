/* The engine: physical lines -> wrappers -> grammars -> rows, with time resolution.
 * Function for function this follows src/ollalog/reference.py (same names where possible);
 * the differential tests hold the two to the same tables for any input and any chunking. */
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "ollalog.h"
#include "text.h"

#define PENDING_CAP 65536
/* rows wait for their time over at most this many max_line lengths of input: their strings stay
 * in the batch being built, so the bound keeps memory (and int32 string offsets) bounded */
#define PENDING_LINES 64
#define MAX_ATTRS 4096
#define MAX_JSON 256
#define STR_BYTES_READY (96LL << 20)

/* ---- names --------------------------------------------------------------------------------- */

enum { K_SLOG, K_LOG, K_RUNNER, K_LLAMA, K_PROBE, K_PANIC, K_GIN, K_SYSTEM, K_FRAGMENT, K_REQUEST };
static const char* const KIND_NAMES[] = {"slog", "log", "runner", "llama", "probe", "panic", "gin", "system", "fragment"};
enum { T_PLAIN, T_JOURNALD, T_JOURNALD_JSON, T_DOCKER, T_DOCKER_JSON, T_DESKTOP, T_COMPOSE, T_CRI, T_PINO };
static const char* const TRANSPORT_NAMES[] = {"plain", "journald", "journald-json", "docker", "docker-json",
                                              "docker-desktop", "compose", "cri", "pino"};
static const char* const EVENT_COLS[] = {"file", "line", "byte_offset", "host", "time", "level", "source", "msg", "attrs",
                                         "kind", "event", "pid", "transport", "truncated", "end_line",
                                         "prefix_time"};
static const char* const REQUEST_COLS[] = {"file", "line", "byte_offset", "host", "time", "status", "latency_ms", "client",
                                           "method", "path", "pid", "transport", "truncated", "prefix_time"};
enum { EC_FILE, EC_LINE, EC_OFFSET, EC_HOST, EC_TIME, EC_LEVEL, EC_SOURCE, EC_MSG, EC_ATTRS, EC_KIND, EC_EVENT, EC_PID,
       EC_TRANSPORT, EC_TRUNC, EC_END_LINE, EC_PTIME, EC_N };
enum { RC_FILE, RC_LINE, RC_OFFSET, RC_HOST, RC_TIME, RC_STATUS, RC_LATENCY, RC_CLIENT, RC_METHOD, RC_PATH, RC_PID,
       RC_TRANSPORT, RC_TRUNC, RC_PTIME, RC_N };

const char* const* ol_kind_names(int* n) { *n = 9; return KIND_NAMES; }
const char* const* ol_transport_names(int* n) { *n = 9; return TRANSPORT_NAMES; }
const char* const* ol_column_names(int table, int* n) {
  if (table == OL_TABLE_EVENTS) { *n = EC_N; return EVENT_COLS; }
  *n = RC_N;
  return REQUEST_COLS;
}

/* ---- types ----------------------------------------------------------------------------------- */

typedef struct { int64_t off, len; } ol_str; /* a string in the record arena; len < 0: null */

typedef struct {
  int transport;
  int64_t host_off, host_len; /* into the ctx arena; host_len < 0: none */
  int64_t ident_off, ident_len;
  int32_t pid; int has_pid;
  int64_t t_abs; int has_abs;
  int64_t t_desktop; int has_desktop;
  int jday; int64_t jsod; int has_journal;
  int jmonth; size_t jtok;       /* month from the name (0 unknown); the name is the prefix's first jtok bytes */
  int64_t ptime_off, ptime_len;  /* the journald prefix's time as printed, in the arena; len < 0: none */
  int json, cri_partial;
  const char* cri_raw; size_t cri_raw_n; /* a CRI line's text after `stdout P `, blanks kept */
  int cri_sep; /* the space after `P` was inside the line, not among its end blanks */
  ol_buf arena; /* host, ident and prefix time bytes */
} ctx_t;

typedef struct {
  int kind, event;
  ol_str level, source, msg;
  int64_t attr_first, attr_count; /* into e->attrs */
  int64_t t_abs; int has_abs;
  int64_t t_local; int has_local;
  int truncated, malformed;
  /* request */
  int status; int has_status;
  double latency; int has_latency;
  ol_str client, method, path;
} rec_t;

typedef struct { ol_str k, v; } attr_t;

typedef struct {
  int table; int64_t row;
  int kind; /* 0 server, 1 prefix, 2 journal */
  int64_t local; int jday; int64_t jsod; int jmonth;
} pending_t;

typedef struct { char* text; size_t len; int event; } rule_t;
typedef struct {
  rule_t *exact, *prefix, *contains;
  int n_exact, n_prefix, n_contains;
} catalogue_t;

typedef struct { char* p; size_t n; } name_t;
typedef struct { char* p; size_t n; int month; } month_t; /* open-addressing slot; p == NULL: empty */

struct ol_engine {
  ol_options opt;
  catalogue_t cat[2];
  name_t* events; int n_events;
  name_t* files; int64_t n_files;
  name_t* hosts; int64_t n_hosts, last_host;
  month_t* months; size_t cap_months, n_months; /* month names of every locale */
  ol_col ev[EC_N], rq[RC_N];
  int64_t ev_rows, rq_rows;
  /* per file */
  int64_t file_id, default_host; int force_host;
  ol_file_stats st;
  int64_t prefix_host; /* first host a prefix named */
  ol_buf carry; int carry_over; int first;
  int64_t lineno;
  /* byte offsets (in the file, after decompression): where the current physical line and the next
   * one start; a held slog record's and a CRI record's first line */
  int64_t line_off, next_off, held_off, cri_off, base_off;
  int64_t tz_server; int has_tz_server;
  int64_t tz_prefix; int has_tz_prefix;
  int64_t ref_us; int has_ref;
  int hint_year; int64_t hint_mtime_us; int has_hint_mtime; /* dates journald prefixes with no ref */
  pending_t* pending; int64_t n_pending, cap_pending;
  int64_t pending_from; /* offset of the line that made the first row of `pending` wait */
  /* held slog record (a wrapped record continues on the next lines) */
  int held; int64_t held_line, held_end; ol_buf held_text; ctx_t held_ctx;
  int64_t span_end; /* last physical line of the record being emitted */
  /* quoting state at the end of held_text, computed at the first continuation candidate (most
   * records have none) and then carried piece by piece; the record is cut at max_line */
  int held_inq, held_skip, held_qknown, held_capped;
  /* CRI partial lines */
  int cri; int64_t cri_line, cri_end; ol_buf cri_text; ctx_t cri_ctx; int cri_capped;
  const char* trail_p; size_t trail_n; /* blanks cut from the end of the current physical line */
  /* scratch */
  ol_buf line, tmp, arena, jarena, joined;
  /* unknown lines (opt.keep_unknown): the last unknown payload of the current line, and those taken */
  int unk_has; int64_t unk_cur_line; ol_buf unk_cur;
  ol_buf unk_text; int64_t *unk_lines, *unk_offs; int64_t n_unk, cap_unk;
  attr_t* attrs; int64_t n_attrs, cap_attrs;
};

static int month_of(const ol_engine* e, const char* s, size_t n);

/* ---- small utilities ------------------------------------------------------------------------ */

static int err_set(ol_error* err, int code, const char* msg) {
  if (err) {
    err->code = code;
    size_t n = strlen(msg);
    if (n >= sizeof(err->message)) n = sizeof(err->message) - 1;
    memcpy(err->message, msg, n);
    err->message[n] = 0;
  }
  return code;
}

static int starts(const char* s, size_t n, const char* lit) {
  size_t k = strlen(lit);
  return n >= k && memcmp(s, lit, k) == 0;
}

static const char* find_sub(const char* s, size_t n, const char* lit, size_t k) {
  if (k == 0) return s;
  if (n < k) return NULL;
  const char* end = s + n - k + 1;
  const char* p = s;
  while (p < end) {
    p = (const char*)memchr(p, lit[0], (size_t)(end - p));
    if (!p) return NULL;
    if (memcmp(p, lit, k) == 0) return p;
    p++;
  }
  return NULL;
}

/* strip WS from both ends of [*p, *p+*n) */
static void strip_ws(const char** p, size_t* n) {
  while (*n && is_ws((unsigned char)(*p)[0])) { (*p)++; (*n)--; }
  while (*n && is_ws((unsigned char)(*p)[*n - 1])) (*n)--;
}
static void strip_st(const char** p, size_t* n) { /* " \t" only */
  while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) { (*p)++; (*n)--; }
  while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t')) (*n)--;
}

static int all_digits(const char* s, size_t n) {
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_digit((unsigned char)s[i])) return 0;
  return 1;
}

static int64_t parse_digits(const char* s, size_t n) {
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

/* the reference's _int32: -?digits, at most 10 digits, in int32 range */
static int int32_of(const char* s, size_t n, int32_t* out) {
  int neg = n && s[0] == '-';
  const char* d = s + neg;
  size_t k = n - (size_t)neg;
  if (!all_digits(d, k) || k > 10) return 0;
  int64_t v = parse_digits(d, k);
  if (neg) v = -v;
  if (v < -2147483648LL || v > 2147483647LL) return 0;
  *out = (int32_t)v;
  return 1;
}

/* strings of the current record live in e->arena */
static ol_str arena_put(ol_engine* e, const char* p, size_t n) {
  ol_str s = {e->arena.len, (int64_t)n};
  ol_buf_put(&e->arena, p, (int64_t)n);
  return s;
}
static const ol_str NOSTR = {0, -1};

/* put raw bytes, repairing UTF-8 (values produced by \x escapes may be invalid) */
static ol_str arena_put_repaired(ol_engine* e, const char* p, size_t n) {
  ol_str s = {e->arena.len, 0};
  if (ol_utf8_valid((const unsigned char*)p, n)) ol_buf_put(&e->arena, p, (int64_t)n);
  else ol_utf8_repair((const unsigned char*)p, n, &e->arena);
  s.len = e->arena.len - s.off;
  return s;
}

static ol_str arena_unquote(ol_engine* e, const char* s, size_t n, size_t* i, int* term) {
  e->tmp.len = 0;
  *i = ol_go_unquote(s, n, *i, &e->tmp, term);
  return arena_put_repaired(e, e->tmp.p, (size_t)e->tmp.len);
}

static void add_attr(ol_engine* e, ol_str k, ol_str v) {
  if (e->n_attrs >= e->cap_attrs) {
    int64_t cap = e->cap_attrs ? e->cap_attrs * 2 : 64;
    attr_t* a = (attr_t*)realloc(e->attrs, (size_t)cap * sizeof(attr_t));
    if (!a) return;
    e->attrs = a;
    e->cap_attrs = cap;
  }
  e->attrs[e->n_attrs].k = k;
  e->attrs[e->n_attrs].v = v;
  e->n_attrs++;
}

static void rec_init(ol_engine* e, rec_t* r, int kind) {
  memset(r, 0, sizeof(*r));
  r->kind = kind;
  r->event = -1;
  r->level = r->source = r->msg = r->client = r->method = r->path = NOSTR;
  r->attr_first = e->n_attrs;
}

static void ctx_init(ctx_t* c) {
  ol_buf a = c->arena;
  memset(c, 0, sizeof(*c));
  a.len = 0;
  c->arena = a;
  c->transport = -1;
  c->host_len = -1;
  c->ident_len = -1;
  c->ptime_len = -1;
}

static void ctx_copy(ctx_t* dst, const ctx_t* src) {
  ol_buf a = dst->arena;
  *dst = *src;
  a.len = 0;
  ol_buf_put(&a, src->arena.p, src->arena.len);
  dst->arena = a;
}

/* ---- catalogue ------------------------------------------------------------------------------- */

static int lookup(const catalogue_t* c, const char* s, size_t n) {
  for (int i = 0; i < c->n_exact; i++)
    if (c->exact[i].len == n && memcmp(c->exact[i].text, s, n) == 0) return c->exact[i].event;
  for (int i = 0; i < c->n_prefix; i++)
    if (n >= c->prefix[i].len && memcmp(c->prefix[i].text, s, c->prefix[i].len) == 0) return c->prefix[i].event;
  for (int i = 0; i < c->n_contains; i++)
    if (find_sub(s, n, c->contains[i].text, c->contains[i].len)) return c->contains[i].event;
  return -1;
}

static int event_id(ol_engine* e, const char* name, size_t n) {
  for (int i = 0; i < e->n_events; i++)
    if (e->events[i].n == n && memcmp(e->events[i].p, name, n) == 0) return i;
  name_t* v = (name_t*)realloc(e->events, (size_t)(e->n_events + 1) * sizeof(name_t));
  if (!v) return -1;
  e->events = v;
  v[e->n_events].p = (char*)malloc(n + 1);
  if (!v[e->n_events].p) return -1;
  memcpy(v[e->n_events].p, name, n);
  v[e->n_events].p[n] = 0;
  v[e->n_events].n = n;
  return e->n_events++;
}

int ol_engine_add_rule(ol_engine* e, const char* event, size_t event_len, int scope, int match,
                       const char* text, size_t text_len, ol_error* err) {
  if (scope < 0 || scope > 1 || match < 0 || match > 2) return err_set(err, OL_EINVAL, "bad rule scope or match");
  int id = event_id(e, event, event_len);
  if (id < 0) return err_set(err, OL_ENOMEM, "out of memory");
  catalogue_t* c = &e->cat[scope];
  rule_t** list = match == 0 ? &c->exact : match == 1 ? &c->prefix : &c->contains;
  int* count = match == 0 ? &c->n_exact : match == 1 ? &c->n_prefix : &c->n_contains;
  if (match == 0) /* exact rules: the first one for a text wins */
    for (int i = 0; i < c->n_exact; i++)
      if (c->exact[i].len == text_len && memcmp(c->exact[i].text, text, text_len) == 0) return OL_OK;
  rule_t* v = (rule_t*)realloc(*list, (size_t)(*count + 1) * sizeof(rule_t));
  if (!v) return err_set(err, OL_ENOMEM, "out of memory");
  *list = v;
  v[*count].text = (char*)malloc(text_len + 1);
  if (!v[*count].text) return err_set(err, OL_ENOMEM, "out of memory");
  memcpy(v[*count].text, text, text_len);
  v[*count].len = text_len;
  v[*count].event = id;
  (*count)++;
  return OL_OK;
}

/* ---- dictionaries ---------------------------------------------------------------------------- */

static int64_t name_add(name_t** v, int64_t* n, const char* p, size_t len) {
  name_t* w = (name_t*)realloc(*v, (size_t)(*n + 1) * sizeof(name_t));
  if (!w) return -1;
  *v = w;
  w[*n].p = (char*)malloc(len + 1);
  if (!w[*n].p) return -1;
  memcpy(w[*n].p, p, len);
  w[*n].p[len] = 0;
  w[*n].n = len;
  return (*n)++;
}

static int64_t host_id(ol_engine* e, const char* p, size_t n) {
  if (e->last_host >= 0 && e->hosts[e->last_host].n == n && memcmp(e->hosts[e->last_host].p, p, n) == 0)
    return e->last_host;
  for (int64_t i = 0; i < e->n_hosts; i++)
    if (e->hosts[i].n == n && memcmp(e->hosts[i].p, p, n) == 0) return e->last_host = i;
  return e->last_host = name_add(&e->hosts, &e->n_hosts, p, n);
}

int64_t ol_engine_dict_size(const ol_engine* e, int which) {
  return which == OL_DICT_FILE ? e->n_files : which == OL_DICT_HOST ? e->n_hosts : e->n_events;
}

const char* ol_engine_dict_item(const ol_engine* e, int which, int64_t i, size_t* len) {
  const name_t* v = which == OL_DICT_FILE ? e->files : which == OL_DICT_HOST ? e->hosts : e->events;
  *len = v[i].n;
  return v[i].p;
}

/* ---- time -------------------------------------------------------------------------------------- */

static void settle(ol_engine* e, int table, int64_t row, int64_t t) {
  ol_col_set_i64(table == OL_TABLE_EVENTS ? &e->ev[EC_TIME] : &e->rq[RC_TIME], row, t);
  if (!e->st.has_time || t < e->st.first_time) e->st.first_time = t;
  if (!e->st.has_time || t > e->st.last_time) e->st.last_time = t;
  e->st.has_time = 1;
}

/* 1 resolved (*t set), 0 not yet, -1 unresolvable (final) */
static int try_time(ol_engine* e, const pending_t* p, int final, int64_t* t) {
  int has_tz;
  int64_t tz;
  if (p->kind == 0) { has_tz = e->has_tz_server; tz = e->tz_server; }
  else if (e->has_tz_prefix) { has_tz = 1; tz = e->tz_prefix; }
  else { has_tz = e->has_tz_server; tz = e->tz_server; }
  if (p->kind == 2) {
    if (!e->has_ref) {
      /* no absolute time in the file (yet): at the end, date it from the year hint or the mtime */
      if (!final) return 0;
      if (!p->jmonth) return -1;
      int64_t z = has_tz ? tz : 0, local;
      if (!ol_journal_hint_date_us(p->jmonth, p->jday, p->jsod, e->hint_year, e->hint_mtime_us + z * US,
                                   e->has_hint_mtime, &local))
        return -1;
      if (!has_tz) e->st.tz_assumed = 1;
      e->ref_us = local - z * US; /* the next prefixes are dated from this one */
      e->has_ref = 1;
      *t = e->ref_us;
      return 1;
    }
    if (!has_tz) {
      if (!final) return 0;
      tz = 0;
      e->st.tz_assumed = 1;
    }
    if (p->jmonth) *t = ol_journal_month_date_us(e->ref_us + tz * US, p->jmonth, p->jday, p->jsod) - tz * US;
    else *t = ol_journal_date_us(e->ref_us + tz * US, p->jday, p->jsod) - tz * US;
    return 1;
  }
  if (!has_tz) {
    if (!final) return 0;
    tz = 0;
    e->st.tz_assumed = 1;
  }
  *t = p->local - tz * US;
  return 1;
}

static void resolve_pending(ol_engine* e, int final) {
  int64_t keep = 0;
  for (int64_t i = 0; i < e->n_pending; i++) {
    int64_t t;
    int r = try_time(e, &e->pending[i], final, &t);
    if (r == 0) e->pending[keep++] = e->pending[i];
    else if (r < 0) e->st.time_unresolved++;
    else settle(e, e->pending[i].table, e->pending[i].row, t);
  }
  e->n_pending = keep;
}

static void pend(ol_engine* e, pending_t p) {
  int64_t t;
  if (try_time(e, &p, 0, &t)) {
    settle(e, p.table, p.row, t);
    return;
  }
  if (e->n_pending >= e->cap_pending) {
    int64_t cap = e->cap_pending ? e->cap_pending * 2 : 256;
    pending_t* v = (pending_t*)realloc(e->pending, (size_t)cap * sizeof(pending_t));
    if (!v) return;
    e->pending = v;
    e->cap_pending = cap;
  }
  if (!e->n_pending) e->pending_from = e->next_off;
  e->pending[e->n_pending++] = p;
  if (e->n_pending > PENDING_CAP) resolve_pending(e, 1);
}

static void set_prefix_tz(ol_engine* e, int64_t off) {
  if (!e->has_tz_prefix || e->tz_prefix != off) {
    e->tz_prefix = off;
    e->has_tz_prefix = 1;
    resolve_pending(e, 0);
  }
}

static void set_server_tz(ol_engine* e, int64_t off) {
  if (!e->has_tz_server || e->tz_server != off) {
    e->tz_server = off;
    e->has_tz_server = 1;
    resolve_pending(e, 0);
  }
}

static void row_time(ol_engine* e, int table, int64_t row, const rec_t* r, const ctx_t* c) {
  int has_abs = r->has_abs || c->has_abs;
  int64_t absolute = r->has_abs ? r->t_abs : c->t_abs;
  if (has_abs) {
    if (c->has_journal) {
      int64_t sod = floormod(absolute, DAY_US);
      int64_t diff = floordiv(c->jsod - sod, US);
      set_prefix_tz(e, ol_round_offset(floormod(diff + 43200, 86400) - 43200));
    } else if (c->has_desktop) {
      set_prefix_tz(e, ol_round_offset(floordiv(c->t_desktop - absolute, US)));
    }
    if (!e->has_ref) {
      e->ref_us = absolute;
      e->has_ref = 1;
      resolve_pending(e, 0);
    }
    e->ref_us = absolute;
    settle(e, table, row, absolute);
    return;
  }
  pending_t p = {table, row, 0, 0, 0, 0, 0};
  if (r->has_local) { p.kind = 0; p.local = r->t_local; }
  else if (c->has_desktop) { p.kind = 1; p.local = c->t_desktop; }
  else if (c->has_journal) { p.kind = 2; p.jday = c->jday; p.jsod = c->jsod; p.jmonth = c->jmonth; }
  else return;
  pend(e, p);
}

/* ---- rows ------------------------------------------------------------------------------------ */

/* (an arena that never held a byte has no buffer: an empty string is then "", not NULL + 0) */
static const char* astr(ol_engine* e, ol_str s) { return e->arena.p ? e->arena.p + s.off : ""; }

static void col_ostr(ol_engine* e, ol_col* c, ol_str s) {
  if (s.len < 0) ol_col_null(c);
  else ol_col_str(c, astr(e, s), s.len);
}

static void emit(ol_engine* e, rec_t* r, const ctx_t* c, int64_t lineno) {
  ol_file_stats* st = &e->st;
  /* a record starts on the current line, or is the held slog record released by a later line */
  int64_t offset = lineno == e->lineno ? e->line_off : e->held_off;
  int transport = c->transport < 0 ? T_PLAIN : c->transport;
  if (st->transport < 0) st->transport = transport;
  int64_t host = e->default_host;
  if (!e->force_host && c->host_len > 0) {
    host = host_id(e, c->arena.p + c->host_off, (size_t)c->host_len);
    if (e->prefix_host < 0) e->prefix_host = host;
  }
  if (r->kind == K_REQUEST) {
    st->gin++;
    ol_col* q = e->rq;
    ol_col_i32(&q[RC_FILE], (int32_t)e->file_id);
    ol_col_i64(&q[RC_LINE], lineno);
    ol_col_i64(&q[RC_OFFSET], offset);
    if (host < 0) ol_col_null(&q[RC_HOST]); else ol_col_i32(&q[RC_HOST], (int32_t)host);
    ol_col_null(&q[RC_TIME]);
    if (r->has_status) ol_col_i16(&q[RC_STATUS], (int16_t)r->status); else ol_col_null(&q[RC_STATUS]);
    if (r->has_latency) ol_col_f64(&q[RC_LATENCY], r->latency); else ol_col_null(&q[RC_LATENCY]);
    col_ostr(e, &q[RC_CLIENT], r->client);
    col_ostr(e, &q[RC_METHOD], r->method);
    col_ostr(e, &q[RC_PATH], r->path);
    if (c->has_pid) ol_col_i32(&q[RC_PID], c->pid); else ol_col_null(&q[RC_PID]);
    ol_col_i32(&q[RC_TRANSPORT], transport);
    ol_col_bool(&q[RC_TRUNC], r->truncated);
    if (c->ptime_len < 0) ol_col_null(&q[RC_PTIME]);
    else ol_col_str(&q[RC_PTIME], c->arena.p + c->ptime_off, c->ptime_len);
    row_time(e, OL_TABLE_REQUESTS, e->rq_rows++, r, c);
  } else {
    switch (r->kind) {
      case K_SLOG: st->slog++; break;
      case K_LOG: st->log++; break;
      case K_RUNNER: st->runner++; break;
      case K_LLAMA: st->llama++; break;
      case K_PROBE: st->probe++; break;
      case K_PANIC: st->panic++; break;
      case K_SYSTEM: st->system++; break;
      default: st->other++;
    }
    ol_col* v = e->ev;
    ol_col_i32(&v[EC_FILE], (int32_t)e->file_id);
    ol_col_i64(&v[EC_LINE], lineno);
    ol_col_i64(&v[EC_OFFSET], offset);
    if (host < 0) ol_col_null(&v[EC_HOST]); else ol_col_i32(&v[EC_HOST], (int32_t)host);
    ol_col_null(&v[EC_TIME]);
    col_ostr(e, &v[EC_LEVEL], r->level);
    col_ostr(e, &v[EC_SOURCE], r->source);
    col_ostr(e, &v[EC_MSG], r->msg);
    ol_col* m = &v[EC_ATTRS];
    for (int64_t i = r->attr_first; i < r->attr_first + r->attr_count; i++) {
      ol_col_str(m->keys, astr(e, e->attrs[i].k), e->attrs[i].k.len);
      ol_col_str(m->vals, astr(e, e->attrs[i].v), e->attrs[i].v.len);
    }
    ol_col_map_end(m);
    ol_col_i32(&v[EC_KIND], r->kind);
    if (r->event < 0) ol_col_null(&v[EC_EVENT]); else ol_col_i32(&v[EC_EVENT], r->event);
    if (c->has_pid) ol_col_i32(&v[EC_PID], c->pid); else ol_col_null(&v[EC_PID]);
    ol_col_i32(&v[EC_TRANSPORT], transport);
    ol_col_bool(&v[EC_TRUNC], r->truncated);
    ol_col_i64(&v[EC_END_LINE], e->span_end > lineno ? e->span_end : lineno);
    if (c->ptime_len < 0) ol_col_null(&v[EC_PTIME]);
    else ol_col_str(&v[EC_PTIME], c->arena.p + c->ptime_off, c->ptime_len);
    row_time(e, OL_TABLE_EVENTS, e->ev_rows++, r, c);
  }
}

/* ---- slog and key=value ------------------------------------------------------------------------ */

/* parse_kv: pairs from s[i..n) into e->attrs */
static void parse_kv(ol_engine* e, const char* s, size_t n, size_t i, int* truncated, int* malformed) {
  for (;;) {
    while (i < n && s[i] == ' ') i++;
    if (i >= n) break;
    ol_str key;
    if (s[i] == '"') {
      int term;
      key = arena_unquote(e, s, n, &i, &term);
      if (!term) { *truncated = 1; break; }
    } else {
      size_t j = i;
      while (j < n && s[j] != ' ' && s[j] != '=') j++;
      key = arena_put(e, s + i, j - i);
      i = j;
    }
    if (i >= n) { *truncated = 1; break; }
    if (s[i] != '=') { *malformed = 1; continue; }
    i++;
    ol_str val;
    if (i < n && s[i] == '"') {
      int term;
      val = arena_unquote(e, s, n, &i, &term);
      if (!term) {
        *truncated = 1;
        if (val.len > 0 && e->arena.p[val.off + val.len - 1] == '>') val.len--;
        add_attr(e, key, val);
        break;
      }
    } else {
      const char* sp = (const char*)memchr(s + i, ' ', n - i);
      size_t j = sp ? (size_t)(sp - s) : n;
      if (j == n && j > i && s[j - 1] == '>' && !memchr(s + i, '<', j - i)) {
        *truncated = 1; /* a pager cut the line at the terminal width: the value is a fragment */
        break;
      }
      val = arena_put(e, s + i, j - i);
      i = j;
    }
    add_attr(e, key, val);
  }
}

static int str_eq(ol_engine* e, ol_str s, const char* lit) {
  size_t k = strlen(lit);
  return s.len == (int64_t)k && memcmp(astr(e, s), lit, k) == 0;
}

/* "2024-06-06T11:17:05.123+02:00" (whole string): absolute us and offset seconds */
static int slog_time(const char* s, size_t n, int64_t* us, int64_t* off) {
  int y = digits_at(s, n, 0, 4), mo, d, h, mi, se;
  if (y < 0 || n < 20 || s[4] != '-' || (mo = digits_at(s, n, 5, 2)) < 0 || s[7] != '-' ||
      (d = digits_at(s, n, 8, 2)) < 0 || s[10] != 'T' || (h = digits_at(s, n, 11, 2)) < 0 || s[13] != ':' ||
      (mi = digits_at(s, n, 14, 2)) < 0 || s[16] != ':' || (se = digits_at(s, n, 17, 2)) < 0)
    return 0;
  size_t i = 19, fs = 0, fn = 0;
  if (i < n && s[i] == '.') {
    fs = ++i;
    while (i < n && is_digit((unsigned char)s[i]) && i - fs < 9) i++;
    fn = i - fs;
    if (fn == 0) return 0;
  }
  int64_t o;
  if (i < n && s[i] == 'Z') { o = 0; i++; }
  else if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = digits_at(s, n, i + 1, 2), om = digits_at(s, n, i + 4, 2);
    if (oh < 0 || om < 0) return 0;
    o = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    i += 6;
  } else return 0;
  if (i != n || !ol_valid_civil(y, mo, d, h, mi, se)) return 0;
  *us = ol_civil_us(y, mo, d, h, mi, se, ol_frac_us(s + fs, fn)) - o * US;
  *off = o;
  return 1;
}

static void parse_slog(ol_engine* e, rec_t* r, const char* s, size_t n) {
  rec_init(e, r, K_SLOG);
  int64_t first = e->n_attrs;
  parse_kv(e, s, n, 0, &r->truncated, &r->malformed);
  int64_t end = e->n_attrs;
  int64_t out = first;
  int has_attrs = 0;
  for (int64_t i = first; i < end; i++) {
    attr_t a = e->attrs[i];
    if (str_eq(e, a.k, "time") && !r->has_abs && !has_attrs && r->msg.len < 0) {
      int64_t us, off;
      if (slog_time(astr(e, a.v), (size_t)a.v.len, &us, &off)) {
        r->t_abs = us;
        r->has_abs = 1;
        set_server_tz(e, off);
      } else r->malformed = 1;
    } else if (str_eq(e, a.k, "level") && r->level.len < 0 && r->msg.len < 0) r->level = a.v;
    else if (str_eq(e, a.k, "source") && r->source.len < 0 && r->msg.len < 0) r->source = a.v;
    else if (str_eq(e, a.k, "msg") && r->msg.len < 0) r->msg = a.v;
    else { e->attrs[out++] = a; has_attrs = 1; }
  }
  e->n_attrs = out;
  r->attr_first = first;
  r->attr_count = out - first;
  if (r->msg.len >= 0) r->event = lookup(&e->cat[OL_SCOPE_MSG], astr(e, r->msg), (size_t)r->msg.len);
}

/* ---- journald prefix --------------------------------------------------------------------------- */

static size_t utf8_chars(const char* s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

/* [^\s\[\]]+ */
static size_t tok_ident(const char* s, size_t n, size_t i) {
  while (i < n && !is_ws((unsigned char)s[i]) && s[i] != '[' && s[i] != ']') i++;
  return i;
}

/* ident[pid]:( |$) at i; fills ident/pid; returns end or 0 */
static size_t ident_pid(const char* s, size_t n, size_t i, size_t* id_end, int64_t* pid_s, size_t* pid_e) {
  size_t j = tok_ident(s, n, i);
  if (j == i || j >= n || s[j] != '[') return 0;
  size_t k = j + 1;
  while (k < n && is_digit((unsigned char)s[k])) k++;
  if (k == j + 1 || k + 1 >= n + 1 || k >= n || s[k] != ']' || k + 1 >= n || s[k + 1] != ':') return 0;
  size_t end = k + 2;
  if (end < n) {
    if (s[end] != ' ') return 0;
    end++;
  }
  *id_end = j;
  *pid_s = (int64_t)(j + 1);
  *pid_e = k;
  return end;
}

/* (?:(host)\s+)?(ident)\[(pid)\]:(?: |$) with one or more spaces after host (journal form) or
 * exactly one (syslog tail form) */
static size_t host_ident(const char* s, size_t n, size_t i, int many_spaces, size_t* hs, size_t* he, size_t* is,
                         size_t* ie, size_t* ps, size_t* pe) {
  size_t j = tok_ident(s, n, i);
  if (j > i) {
    size_t k = j;
    if (many_spaces) while (k < n && is_ws((unsigned char)s[k])) k++;
    else if (k < n && s[k] == ' ') k++;
    if (k > j) {
      size_t id_end; int64_t p0; size_t p1;
      size_t end = ident_pid(s, n, k, &id_end, &p0, &p1);
      if (end) {
        *hs = i; *he = j; *is = k; *ie = id_end; *ps = (size_t)p0; *pe = p1;
        return end;
      }
    }
  }
  size_t id_end; int64_t p0; size_t p1;
  size_t end = ident_pid(s, n, i, &id_end, &p0, &p1);
  if (!end) return 0;
  *hs = *he = 0; *is = i; *ie = id_end; *ps = (size_t)p0; *pe = p1;
  return end;
}

static void ctx_syslog(ctx_t* c, const char* s, size_t hs, size_t he, size_t is, size_t ie, size_t ps, size_t pe) {
  if (c->transport < 0 || c->transport == T_DOCKER) c->transport = T_JOURNALD;
  if (he > hs) {
    c->host_off = c->arena.len;
    c->host_len = (int64_t)(he - hs);
    ol_buf_put(&c->arena, s + hs, (int64_t)(he - hs));
  }
  c->ident_off = c->arena.len;
  c->ident_len = (int64_t)(ie - is);
  ol_buf_put(&c->arena, s + is, (int64_t)(ie - is));
  int32_t pid;
  if (int32_of(s + ps, pe - ps, &pid)) { c->pid = pid; c->has_pid = 1; }
  else c->has_pid = 0;
}

/* the rest of a journald short prefix after the month token: \s+DD\s+hh:mm:ss(.f)?\s+host? ident[pid]: */
static size_t journal_rest(const char* s, size_t n, size_t i, ctx_t* c, int apply) {
  size_t j = i;
  while (j < n && is_ws((unsigned char)s[j])) j++;
  if (j == i) return 0;
  size_t ds = j;
  while (j < n && is_digit((unsigned char)s[j]) && j - ds < 2) j++;
  if (j == ds || j >= n || !is_ws((unsigned char)s[j])) return 0;
  int day = (int)parse_digits(s + ds, j - ds);
  while (j < n && is_ws((unsigned char)s[j])) j++;
  int h = digits_at(s, n, j, 2), mi, se;
  if (h < 0 || j + 8 > n || s[j + 2] != ':' || (mi = digits_at(s, n, j + 3, 2)) < 0 || s[j + 5] != ':' ||
      (se = digits_at(s, n, j + 6, 2)) < 0)
    return 0;
  j += 8;
  size_t fs = 0, fn = 0;
  if (j < n && s[j] == '.') {
    size_t k = j + 1;
    while (k < n && is_digit((unsigned char)s[k]) && k - (j + 1) < 9) k++;
    if (k > j + 1) { fs = j + 1; fn = k - fs; j = k; }
  }
  size_t w = j;
  while (w < n && is_ws((unsigned char)s[w])) w++;
  if (w == j) return 0;
  size_t hs, he, is, ie, ps, pe;
  size_t end = host_ident(s, n, w, 1, &hs, &he, &is, &ie, &ps, &pe);
  if (!end) return 0;
  if (apply) {
    if (h < 24 && mi < 60 && se < 61) {
      c->has_journal = 1;
      c->jday = day;
      c->jsod = (int64_t)(h * 3600 + mi * 60 + se) * US + ol_frac_us(s + fs, fn);
      c->jtok = i;
      c->ptime_off = c->arena.len;
      c->ptime_len = (int64_t)j;
      ol_buf_put(&c->arena, s, (int64_t)j);
    }
    ctx_syslog(c, s, hs, he, is, ie, ps, pe);
  }
  return end;
}

/* JOURNAL: a locale month token (one or two words, or "5月"), then journal_rest */
static size_t journal_prefix(const char* s, size_t n, ctx_t* c, int apply) {
  if (!n || is_ws((unsigned char)s[0])) return 0;
  if (!is_digit((unsigned char)s[0])) {
    size_t t1 = 0;
    while (t1 < n && !is_ws((unsigned char)s[t1])) t1++;
    if (utf8_chars(s, t1) > 10) return 0;
    /* with a second word */
    if (t1 + 1 < n && s[t1] == ' ' && !is_ws((unsigned char)s[t1 + 1]) && !is_digit((unsigned char)s[t1 + 1])) {
      size_t t2 = t1 + 1;
      while (t2 < n && !is_ws((unsigned char)s[t2])) t2++;
      if (utf8_chars(s + t1 + 1, t2 - t1 - 1) <= 6) {
        size_t end = journal_rest(s, n, t2, c, apply);
        if (end) return end;
      }
    }
    return journal_rest(s, n, t1, c, apply);
  }
  size_t d = 0;
  while (d < n && is_digit((unsigned char)s[d]) && d < 2) d++;
  if (d < n && is_digit((unsigned char)s[d])) return 0;
  if (d + 3 <= n && ((unsigned char)s[d] == 0xE6 && (unsigned char)s[d + 1] == 0x9C && (unsigned char)s[d + 2] == 0x88))
    return journal_rest(s, n, d + 3, c, apply);
  if (d + 3 <= n && ((unsigned char)s[d] == 0xEC && (unsigned char)s[d + 1] == 0x9B && (unsigned char)s[d + 2] == 0x94))
    return journal_rest(s, n, d + 3, c, apply);
  return 0;
}

/* ---- wrappers ---------------------------------------------------------------------------------- */

/* RFC3339 + space; returns length including the space, 0 if none; *us absolute when valid */
static size_t rfc3339(const char* s, size_t n, int64_t* us, int* valid) {
  int y = digits_at(s, n, 0, 4), mo, d, h, mi, se;
  if (y < 0 || n < 21 || s[4] != '-' || (mo = digits_at(s, n, 5, 2)) < 0 || s[7] != '-' ||
      (d = digits_at(s, n, 8, 2)) < 0 || s[10] != 'T' || (h = digits_at(s, n, 11, 2)) < 0 || s[13] != ':' ||
      (mi = digits_at(s, n, 14, 2)) < 0 || s[16] != ':' || (se = digits_at(s, n, 17, 2)) < 0)
    return 0;
  size_t i = 19, fs = 0, fn = 0;
  if (i < n && s[i] == '.') {
    size_t k = i + 1;
    while (k < n && is_digit((unsigned char)s[k])) k++;
    if (k - (i + 1) >= 1 && k - (i + 1) <= 9) { fs = i + 1; fn = k - fs; i = k; }
    else return 0;
  }
  int64_t o;
  if (i < n && s[i] == 'Z') { o = 0; i++; }
  else if (i + 3 <= n && (s[i] == '+' || s[i] == '-')) {
    int oh = digits_at(s, n, i + 1, 2);
    if (oh < 0) return 0;
    size_t k = i + 3;
    if (k < n && s[k] == ':') k++;
    int om = digits_at(s, n, k, 2);
    if (om < 0) return 0;
    o = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    i = k + 2;
  } else return 0;
  if (i >= n || s[i] != ' ') return 0;
  *valid = ol_valid_civil(y, mo, d, h, mi, se);
  if (*valid) *us = ol_civil_us(y, mo, d, h, mi, se, ol_frac_us(s + fs, fn)) - o * US;
  return i + 1;
}

static int rfc3339_text(const char* s, size_t n, int64_t* us) {
  /* the reference's _rfc3339_us: the whole text, followed by nothing */
  char buf[64];
  if (n + 1 > sizeof(buf)) return 0;
  memcpy(buf, s, n);
  buf[n] = ' ';
  int valid = 0;
  size_t k = rfc3339(buf, n + 1, us, &valid);
  return k == n + 1 && valid;
}

enum { D_MD = 1, D_SPIN = 2, D_CATN = 4, D_JSON = 8, D_TS = 16, D_DESK = 32, D_JOURNAL = 64, D_IDENT = 128,
       D_COMPOSE = 256 };

typedef struct { const char* p; size_t n; } span_t;

static int process_payload(ol_engine* e, const char* p, size_t n, ctx_t* c, int oversized);
static int json_wrapper(ol_engine* e, const char* s, size_t n, ctx_t* c, span_t* inner);

/* unwrap: strips wrappers from s; calls process_payload on each payload; returns line status.
 * Status: 0 unknown, 1 parsed, 2 malformed, 3 held. Aggregated like the reference's _line. */
#define ST_UNKNOWN 0
#define ST_PARSED 1
#define ST_MALFORMED 2
#define ST_HELD 3

typedef struct { int any_parsed, any_malformed, count; } agg_t;

static void agg_add(agg_t* a, int st) {
  a->count++;
  if (st == ST_MALFORMED) a->any_malformed = 1;
  if (st == ST_PARSED || st == ST_HELD) a->any_parsed = 1;
}

/* the reference's _status: a line's status from its payloads' (whole == 2: a JSON record) */
static int line_status(int whole, const agg_t* a, int oversized) {
  if (whole == 2) return ST_PARSED;
  if (!a->count) return ST_UNKNOWN;
  if (a->any_malformed || oversized) return ST_MALFORMED;
  return a->any_parsed ? ST_PARSED : ST_UNKNOWN;
}

static int unwrap(ol_engine* e, const char* s, size_t n, ctx_t* c, int depth, int oversized, agg_t* agg, int done) {
  /* fast path: no wrapper can start with "time=" or "[GIN] ", the bulk of a plain log */
  if (n >= 6 && ((s[0] == 't' && !memcmp(s, "time=", 5)) || (s[0] == '[' && !memcmp(s, "[GIN] ", 6)))) {
    agg_add(agg, process_payload(e, s, n, c, oversized));
    return 1;
  }
  for (;;) {
    while (n && (s[0] == ' ' || s[0] == '\t')) { s++; n--; }
    if (!(done & D_MD) && n >= 2 && s[0] == '>' && s[1] == ' ') { done |= D_MD; s += 2; n -= 2; continue; }
    if (!(done & D_SPIN) && n >= 3 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] >= 0xA0 &&
        (unsigned char)s[1] <= 0xA3) {
      size_t k = 0;
      while (k + 3 <= n && (unsigned char)s[k] == 0xE2 && (unsigned char)s[k + 1] >= 0xA0 &&
             (unsigned char)s[k + 1] <= 0xA3 && ((unsigned char)s[k + 2] & 0xC0) == 0x80)
        k += 3;
      if (k > 0 && k < n && s[k] == ' ') { done |= D_SPIN; s += k + 1; n -= k + 1; continue; }
    }
    if (!(done & D_CATN) && n && is_digit((unsigned char)s[0])) {
      size_t k = 0;
      while (k < n && is_digit((unsigned char)s[k])) k++;
      if (k < n && s[k] == '\t') { done |= D_CATN; s += k + 1; n -= k + 1; continue; }
    }
    if (depth == 0 && !(done & D_JSON) && n && s[0] == '{') {
      done |= D_JSON;
      span_t inner;
      int r = json_wrapper(e, s, n, c, &inner);
      if (r == 2) return 2; /* itself a record: the line is parsed, whatever else */
      if (r == 1) {
        /* copy: the JSON arena is reused by nested calls */
        ol_buf text = {0, 0, 0};
        ol_buf_put(&text, inner.p, (int64_t)inner.n);
        const char* t = text.p;
        size_t tn = (size_t)text.len;
        if (tn && t[tn - 1] == '\n') tn--;
        size_t start = 0;
        for (;;) {
          const char* nl = tn > start ? (const char*)memchr(t + start, '\n', tn - start) : NULL;
          size_t end = nl ? (size_t)(nl - t) : tn;
          size_t pn = end - start;
          if (pn && t[start + pn - 1] == '\r') pn--;
          unwrap(e, t + start, pn, c, depth + 1, oversized, agg, 0);
          if (!nl) break;
          start = end + 1;
        }
        ol_buf_free(&text);
        return 1;
      }
      continue;
    }
    if (!(done & D_TS) && n && is_digit((unsigned char)s[0])) {
      int64_t us = 0;
      int valid = 0;
      size_t k = rfc3339(s, n, &us, &valid);
      if (k) {
        done |= D_TS;
        if (valid) { c->t_abs = us; c->has_abs = 1; }
        c->transport = T_DOCKER;
        s += k; n -= k;
        if ((starts(s, n, "stdout ") || starts(s, n, "stderr ")) && n >= 8 && (s[7] == 'F' || s[7] == 'P')) {
          c->transport = T_CRI;
          c->cri_partial = s[7] == 'P';
          size_t m = 8 + (n > 8 && s[8] == ' ');
          s += m; n -= m;
          c->cri_raw = s;
          c->cri_raw_n = n;
          c->cri_sep = m == 9;
          done |= D_DESK | D_JOURNAL | D_IDENT | D_COMPOSE;
        } else {
          size_t hs, he, is, ie, ps, pe;
          size_t end = host_ident(s, n, 0, 0, &hs, &he, &is, &ie, &ps, &pe);
          if (end) {
            ctx_syslog(c, s, hs, he, is, ie, ps, pe);
            s += end; n -= end;
            done |= D_JOURNAL | D_IDENT;
          }
        }
        continue;
      }
    }
    if (!(done & D_DESK) && n >= 19 && is_digit((unsigned char)s[0])) {
      int y = digits_at(s, n, 0, 4), mo, d, h, mi, se;
      if (y >= 0 && s[4] == '-' && (mo = digits_at(s, n, 5, 2)) >= 0 && s[7] == '-' &&
          (d = digits_at(s, n, 8, 2)) >= 0 && s[10] == ' ' && (h = digits_at(s, n, 11, 2)) >= 0 && s[13] == ':' &&
          (mi = digits_at(s, n, 14, 2)) >= 0 && s[16] == ':' && (se = digits_at(s, n, 17, 2)) >= 0 &&
          (n == 19 || s[19] == ' ')) {
        done |= D_DESK;
        if (ol_valid_civil(y, mo, d, h, mi, se)) { c->t_desktop = ol_civil_us(y, mo, d, h, mi, se, 0); c->has_desktop = 1; }
        c->transport = T_DESKTOP;
        size_t adv = n == 19 ? 19 : 20; /* a prefix of an empty line ends the line */
        s += adv; n -= adv;
        continue;
      }
    }
    if (!(done & D_JOURNAL) && n && (is_digit((unsigned char)s[0]) || s[0] == '[')) {
      /* short-unix "1717665425.123456 " or short-monotonic "[ 1234.567890] ", then the syslog tail */
      size_t k = 0, ts = 0, te = 0, fs = 0, fe = 0;
      int unix_ts = 0, ok = 0;
      if (is_digit((unsigned char)s[0])) {
        while (k < n && is_digit((unsigned char)s[k])) k++;
        if (k >= 9 && k <= 11 && k < n && s[k] == '.') {
          ts = 0; te = k;
          size_t f = k + 1;
          while (f < n && is_digit((unsigned char)s[f])) f++;
          if (f > k + 1 && f - (k + 1) <= 9 && f < n && s[f] == ' ') { fs = k + 1; fe = f; k = f + 1; ok = unix_ts = 1; }
        }
      } else {
        k = 1;
        while (k < n && is_ws((unsigned char)s[k])) k++;
        size_t d0 = k;
        while (k < n && is_digit((unsigned char)s[k])) k++;
        if (k > d0 && k < n && s[k] == '.') {
          size_t f = k + 1;
          while (f < n && is_digit((unsigned char)s[f])) f++;
          if (f > k + 1 && f + 1 < n && s[f] == ']' && s[f + 1] == ' ') { k = f + 2; ok = 1; }
        }
      }
      if (ok) {
        size_t hs, he, is, ie, ps, pe;
        size_t end = host_ident(s, n, k, 0, &hs, &he, &is, &ie, &ps, &pe);
        if (end) {
          done |= D_JOURNAL | D_IDENT;
          if (unix_ts) { c->t_abs = parse_digits(s + ts, te - ts) * US + ol_frac_us(s + fs, fe - fs); c->has_abs = 1; }
          ctx_syslog(c, s, hs, he, is, ie, ps, pe);
          s += end; n -= end;
          continue;
        }
      }
    }
    if (!(done & D_JOURNAL)) {
      size_t k = journal_prefix(s, n, c, 1);
      if (k) {
        if (c->has_journal) c->jmonth = month_of(e, s, c->jtok);
        done |= D_JOURNAL | D_IDENT; s += k; n -= k; continue;
      }
    }
    if (!(done & D_IDENT) && n) {
      size_t k = 0;
      while (k < n && (is_word((unsigned char)s[k]) || s[k] == '.' || s[k] == '@' || s[k] == '-')) k++;
      if (k > 0 && k < n && s[k] == '[') {
        size_t id_end; int64_t p0; size_t p1;
        size_t end = ident_pid(s, n, 0, &id_end, &p0, &p1);
        if (end && id_end == k) {
          done |= D_IDENT | D_JOURNAL;
          ctx_syslog(c, s, 0, 0, 0, k, (size_t)p0, p1);
          s += end; n -= end;
          continue;
        }
      }
    }
    if (!(done & D_COMPOSE) && n && (is_alpha((unsigned char)s[0]) || is_digit((unsigned char)s[0]))) {
      size_t k = 1;
      while (k < n && (is_word((unsigned char)s[k]) || s[k] == '.' || s[k] == '-')) k++;
      size_t w = k;
      while (w < n && is_ws((unsigned char)s[w])) w++;
      if (w > k && w + 1 < n && s[w] == '|' && s[w + 1] == ' ') {
        done |= D_COMPOSE;
        c->transport = T_COMPOSE;
        c->host_off = c->arena.len;
        c->host_len = (int64_t)k;
        ol_buf_put(&c->arena, s, (int64_t)k);
        s += w + 2; n -= w + 2;
        continue;
      }
    }
    agg_add(agg, process_payload(e, s, n, c, oversized));
    return 1;
  }
}

static int find_field(ol_engine* e, const ol_jfield* f, int nf, const char* key, const ol_buf* a) {
  size_t k = strlen(key);
  for (int i = 0; i < nf; i++)
    if (f[i].klen == (int64_t)k && memcmp(a->p + f[i].koff, key, k) == 0) return i;
  return -1;
}

/* 0 not a wrapper, 1 wrapper (inner set), 2 the object was itself a record (emitted) */
static int json_wrapper(ol_engine* e, const char* s, size_t n, ctx_t* c, span_t* inner) {
  ol_jfield f[MAX_JSON];
  ol_buf* a = &e->jarena;
  a->len = 0;
  int nf = ol_json_object(s, n, f, MAX_JSON, a);
  if (nf < 0) return 0;
#define FV(i) (a->p + f[i].voff)
#define FL(i) ((size_t)f[i].vlen)
  int im = find_field(e, f, nf, "MESSAGE", a);
  if (im >= 0) {
    if (f[im].is_str) { inner->p = FV(im); inner->n = FL(im); }
    else {
      /* an array of byte values */
      const char* t = FV(im);
      size_t tn = FL(im);
      strip_ws(&t, &tn);
      if (tn < 1 || t[0] != '[' || t[tn - 1] != ']') return 0;
      ol_buf bytes = {0, 0, 0};
      size_t i = 1;
      while (tn >= 2 && i < tn - 1) {
        const char* comma = (const char*)memchr(t + i, ',', tn - 1 - i);
        size_t end = comma ? (size_t)(comma - t) : tn - 1;
        const char* x = t + i;
        size_t xn = end - i;
        strip_ws(&x, &xn);
        if (xn) {
          if (!all_digits(x, xn)) { ol_buf_free(&bytes); return 0; }
          unsigned v = 0;
          for (size_t q = 0; q < xn; q++) v = (v * 10 + (unsigned)(x[q] - '0')) & 0xFF;
          ol_buf_putc(&bytes, (char)v);
        }
        i = end + 1;
      }
      int64_t off = a->len;
      ol_utf8_repair((const unsigned char*)bytes.p, (size_t)bytes.len, a);
      ol_buf_free(&bytes);
      inner->p = a->p + off;
      inner->n = (size_t)(a->len - off);
    }
    c->transport = T_JOURNALD_JSON;
    c->json = 1;
    int ih = find_field(e, f, nf, "_HOSTNAME", a);
    if (ih >= 0 && f[ih].is_str) {
      c->host_off = c->arena.len;
      c->host_len = f[ih].vlen;
      ol_buf_put(&c->arena, FV(ih), f[ih].vlen);
    }
    int ip = find_field(e, f, nf, "_PID", a);
    int32_t pid;
    if (ip >= 0) {
      if (int32_of(FV(ip), FL(ip), &pid)) { c->pid = pid; c->has_pid = 1; }
      else c->has_pid = 0;
    }
    int it = find_field(e, f, nf, "__REALTIME_TIMESTAMP", a);
    if (it >= 0 && all_digits(FV(it), FL(it)) && FL(it) <= 18) { c->t_abs = parse_digits(FV(it), FL(it)); c->has_abs = 1; }
    /* inner may point into the arena: it stays valid until the next json_wrapper call */
    return 1;
  }
  int il = find_field(e, f, nf, "log", a), is = find_field(e, f, nf, "stream", a);
  if (il >= 0 && f[il].is_str && is >= 0) {
    c->transport = T_DOCKER_JSON;
    c->json = 1;
    int it = find_field(e, f, nf, "time", a);
    int64_t us;
    if (it >= 0 && f[it].is_str && rfc3339_text(FV(it), FL(it), &us)) { c->t_abs = us; c->has_abs = 1; }
    inner->p = FV(il);
    inner->n = FL(il);
    return 1;
  }
  int ig = find_field(e, f, nf, "msg", a), ihn = find_field(e, f, nf, "hostname", a),
      ipd = find_field(e, f, nf, "pid", a), ilv = find_field(e, f, nf, "level", a);
  if (ig >= 0 && f[ig].is_str && (ihn >= 0 || ipd >= 0) && ilv >= 0 && !f[ilv].is_str) {
    c->transport = T_PINO;
    c->json = 1;
    if (ihn >= 0 && f[ihn].is_str) {
      c->host_off = c->arena.len;
      c->host_len = f[ihn].vlen;
      ol_buf_put(&c->arena, FV(ihn), f[ihn].vlen);
    }
    int32_t pid;
    if (ipd >= 0) {
      if (int32_of(FV(ipd), FL(ipd), &pid)) { c->pid = pid; c->has_pid = 1; }
      else c->has_pid = 0;
    }
    int it = find_field(e, f, nf, "time", a);
    if (it >= 0 && !f[it].is_str && all_digits(FV(it), FL(it)) && FL(it) <= 15) {
      c->t_abs = parse_digits(FV(it), FL(it)) * 1000;
      c->has_abs = 1;
    }
    inner->p = FV(ig);
    inner->n = FL(ig);
    return 1;
  }
  int ifn = find_field(e, f, nf, "function", a);
  if (ifn >= 0 && ig >= 0 && f[ig].is_str) {
    rec_t r;
    e->arena.len = 0;
    e->n_attrs = 0;
    rec_init(e, &r, K_RUNNER);
    if (ilv >= 0 && f[ilv].is_str) r.level = arena_put(e, FV(ilv), FL(ilv));
    if (f[ifn].is_str) r.source = arena_put(e, FV(ifn), FL(ifn));
    r.msg = arena_put(e, FV(ig), FL(ig));
    for (int i = 0; i < nf; i++) {
      if (i == ifn || i == ig || i == ilv) continue;
      const char* k = a->p + f[i].koff;
      size_t kn = (size_t)f[i].klen;
      if ((kn == 8 && !memcmp(k, "function", 8)) || (kn == 5 && !memcmp(k, "level", 5)) || (kn == 3 && !memcmp(k, "msg", 3)))
        continue;
      ol_str ks = arena_put(e, k, kn), vs = arena_put(e, FV(i), FL(i));
      add_attr(e, ks, vs);
    }
    r.attr_count = e->n_attrs - r.attr_first;
    int its = find_field(e, f, nf, "timestamp", a);
    if (its >= 0 && !f[its].is_str && all_digits(FV(its), FL(its)) && FL(its) <= 12) {
      r.t_abs = parse_digits(FV(its), FL(its)) * US;
      r.has_abs = 1;
    }
    r.event = lookup(&e->cat[OL_SCOPE_MSG], astr(e, r.msg), (size_t)r.msg.len);
    emit(e, &r, c, e->lineno);
    return 2;
  }
#undef FV
#undef FL
  return 0;
}

/* ---- grammars ---------------------------------------------------------------------------------- */

static void native_rec(ol_engine* e, rec_t* r, const char* src, size_t srcn, int has_src, const char* m, size_t mn) {
  rec_init(e, r, K_LLAMA);
  strip_st(&m, &mn);
  if (has_src) r->source = arena_put(e, src, srcn);
  r->msg = arena_put(e, m, mn);
  /* "- kv N: key type = value" */
  int done = 0;
  if (mn >= 4 && !memcmp(m, "- kv", 4)) {
    size_t i = 4, j;
    j = i; while (j < mn && is_ws((unsigned char)m[j])) j++;
    if (j > i) {
      i = j; while (i < mn && is_digit((unsigned char)m[i])) i++;
      if (i > j && i < mn && m[i] == ':') {
        j = i + 1; while (j < mn && is_ws((unsigned char)m[j])) j++;
        if (j > i + 1) {
          size_t k = j; while (k < mn && !is_ws((unsigned char)m[k])) k++;
          if (k > j) {
            size_t t = k; while (t < mn && is_ws((unsigned char)m[t])) t++;
            if (t > k) {
              size_t u = t; while (u < mn && !is_ws((unsigned char)m[u])) u++;
              if (u > t) {
                size_t v = u; while (v < mn && is_ws((unsigned char)m[v])) v++;
                if (v < mn && m[v] == '=') {
                  const char* val = m + v + 1;
                  size_t vn = mn - v - 1;
                  strip_st(&val, &vn);
                  ol_str ks = arena_put(e, m + j, k - j), vs = arena_put(e, val, vn);
                  add_attr(e, ks, vs);
                  done = 1;
                }
              }
            }
          }
        }
      }
    }
  }
  if (!done) {
    const char* eq = (const char*)memchr(m, '=', mn);
    if (eq && eq > m) {
      size_t kn = (size_t)(eq - m);
      while (kn && (m[kn - 1] == ' ' || m[kn - 1] == '\t')) kn--;
      int ok = kn >= 1 && kn <= 64 && (is_alpha((unsigned char)m[0]) || m[0] == '_');
      for (size_t i = 1; ok && i < kn; i++) {
        int c = (unsigned char)m[i];
        ok = is_word(c) || c == '.' || c == ' ' || c == '(' || c == ')' || c == '/' || c == '-';
      }
      if (ok) {
        const char* val = eq + 1;
        size_t vn = (size_t)(m + mn - val);
        strip_st(&val, &vn);
        ol_str ks = arena_put(e, m, kn), vs = arena_put(e, val, vn);
        add_attr(e, ks, vs);
      }
    }
  }
  r->attr_count = e->n_attrs - r->attr_first;
  r->event = lookup(&e->cat[OL_SCOPE_NATIVE], m, mn);
}

static int gin_line(ol_engine* e, rec_t* r, const char* p, size_t n) {
  rec_init(e, r, K_REQUEST);
  /* [GIN] YYYY/MM/DD - hh:mm:ss | */
  int y = digits_at(p, n, 6, 4), mo, d, h, mi, se;
  if (y < 0 || n < 29 || p[10] != '/' || (mo = digits_at(p, n, 11, 2)) < 0 || p[13] != '/' ||
      (d = digits_at(p, n, 14, 2)) < 0 || memcmp(p + 16, " - ", 3) != 0 || (h = digits_at(p, n, 19, 2)) < 0 ||
      p[21] != ':' || (mi = digits_at(p, n, 22, 2)) < 0 || p[24] != ':' || (se = digits_at(p, n, 25, 2)) < 0 ||
      p[27] != ' ' || p[28] != '|') {
    r->malformed = 1;
    return 0;
  }
  if (ol_valid_civil(y, mo, d, h, mi, se)) { r->t_local = ol_civil_us(y, mo, d, h, mi, se, 0); r->has_local = 1; }
  else r->malformed = 1;
  const char* s = p + 29;
  size_t rest = n - 29;
  span_t parts[4];
  int np = 0;
  size_t i = 0;
  while (np < 3) {
    const char* bar = (const char*)memchr(s + i, '|', rest - i);
    if (!bar) break;
    parts[np].p = s + i;
    parts[np].n = (size_t)(bar - (s + i));
    np++;
    i = (size_t)(bar - s) + 1;
  }
  parts[np].p = s + i;
  parts[np].n = rest - i;
  np++;
  {
    const char* t = parts[0].p;
    size_t tn = parts[0].n;
    strip_ws(&t, &tn);
    if (all_digits(t, tn) && tn <= 4) { r->status = (int)parse_digits(t, tn); r->has_status = 1; }
    else if (tn) r->malformed = 1;
  }
  if (np >= 2) {
    double ms;
    if (ol_duration_ms(parts[1].p, parts[1].n, &ms)) { r->latency = ms; r->has_latency = 1; }
    else {
      const char* t = parts[1].p;
      size_t tn = parts[1].n;
      strip_ws(&t, &tn);
      if (tn) r->malformed = 1;
    }
  }
  if (np >= 3) {
    const char* t = parts[2].p;
    size_t tn = parts[2].n;
    while (tn && t[0] == ' ') { t++; tn--; }
    while (tn && t[tn - 1] == ' ') tn--;
    r->client = arena_put(e, t, tn);
  }
  if (np >= 4) {
    const char* t = parts[3].p;
    size_t tn = parts[3].n, k = 0;
    while (k < tn && is_ws((unsigned char)t[k])) k++;
    size_t ms = k;
    while (k < tn && is_upper((unsigned char)t[k])) k++;
    if (k > ms) {
      r->method = arena_put(e, t + ms, k - ms);
      while (k < tn && is_ws((unsigned char)t[k])) k++;
      if (k < tn && t[k] == '"') {
        int term;
        r->path = arena_unquote(e, t, tn, &k, &term);
        if (!term) r->truncated = 1;
      } else r->truncated = 1;
    } else r->truncated = 1;
  } else r->truncated = 1;
  return 1;
}

/* (?:^| )(?:[A-Za-z_][\w.]*|"[^"]*")= : index of the boundary (the space, or 0), or -1 */
static int64_t attr_boundary(const char* s, size_t n) {
  for (size_t p = 0; p < n; p++) {
    size_t ks[2];
    int nk = 0;
    if (p == 0) ks[nk++] = 0;
    if (s[p] == ' ') ks[nk++] = p + 1;
    for (int t = 0; t < nk; t++) {
      size_t k = ks[t];
      if (k < n && (is_alpha((unsigned char)s[k]) || s[k] == '_')) {
        size_t j = k + 1;
        while (j < n && (is_word((unsigned char)s[j]) || s[j] == '.')) j++;
        if (j < n && s[j] == '=') return (int64_t)p;
      } else if (k < n && s[k] == '"') {
        const char* q = (const char*)memchr(s + k + 1, '"', n - k - 1);
        if (q && (size_t)(q - s) + 1 < n && q[1] == '=') return (int64_t)p;
      }
    }
  }
  return -1;
}

/* `[file.go:N: ][LEVEL ]message key=value ...` of a Go log line (r already initialised) */
static void golog_rest(ol_engine* e, rec_t* r, const char* s, size_t sn) {
  /* file.go:123: */
  {
    size_t k = 0;
    while (k < sn && (is_word((unsigned char)s[k]) || s[k] == '.' || s[k] == '-')) k++;
    if (k > 3 && !memcmp(s + k - 3, ".go", 3) && k < sn && s[k] == ':') {
      size_t j = k + 1;
      while (j < sn && is_digit((unsigned char)s[j])) j++;
      if (j > k + 1 && j + 1 < sn + 1 && j < sn && s[j] == ':' && j + 1 < sn && s[j + 1] == ' ') {
        r->source = arena_put(e, s, j);
        s += j + 2; sn -= j + 2;
      }
    }
  }
  static const char* levels[] = {"DEBUG ", "INFO ", "WARN ", "ERROR "};
  for (int k = 0; k < 4; k++)
    if (starts(s, sn, levels[k])) {
      size_t ln = strlen(levels[k]);
      r->level = arena_put(e, s, ln - 1);
      s += ln; sn -= ln;
      break;
    }
  int64_t b = attr_boundary(s, sn);
  if (b >= 0) {
    size_t mn = (size_t)b;
    const char* m = s;
    while (mn && m[0] == ' ') { m++; mn--; }
    while (mn && m[mn - 1] == ' ') mn--;
    r->msg = arena_put(e, m, mn);
    int mal = 0;
    parse_kv(e, s, sn, (size_t)b, &r->truncated, &mal);
    r->malformed |= mal;
    r->attr_count = e->n_attrs - r->attr_first;
  } else {
    size_t mn = sn;
    while (mn && s[mn - 1] == ' ') mn--;
    r->msg = arena_put(e, s, mn);
  }
  r->event = lookup(&e->cat[OL_SCOPE_MSG], astr(e, r->msg), (size_t)r->msg.len);
}

/* the reference's GOLOG_SRC: `[\w.-]+\.go:\d+: ` at the start */
static int golog_src_at(const char* s, size_t sn) {
  size_t k = 0;
  while (k < sn && (is_word((unsigned char)s[k]) || s[k] == '.' || s[k] == '-')) k++;
  if (k < 4 || memcmp(s + k - 3, ".go", 3) != 0 || k >= sn || s[k] != ':') return 0;
  size_t j = k + 1;
  while (j < sn && is_digit((unsigned char)s[j])) j++;
  return j > k + 1 && j + 1 < sn && s[j] == ':' && s[j + 1] == ' ';
}

/* the reference's _bare: a record whose prefix was cut, read only when the catalogue knows it */
static int bare_record(ol_engine* e, rec_t* r, const char* p, size_t n) {
  if (golog_src_at(p, n)) {
    rec_init(e, r, K_LOG);
    golog_rest(e, r, p, n);
    return r->msg.len > 0 && r->event >= 0;
  }
  rec_init(e, r, K_SLOG);
  if (n && p[0] == '"') {
    size_t i = 0;
    int term;
    r->msg = arena_unquote(e, p, n, &i, &term);
    if (!term || (i < n && p[i] != ' ')) return 0;
    parse_kv(e, p, n, i, &r->truncated, &r->malformed);
  } else {
    int64_t b = attr_boundary(p, n);
    if (b >= 0) {
      const char* m = p;
      size_t mn = (size_t)b;
      while (mn && m[0] == ' ') { m++; mn--; }
      while (mn && m[mn - 1] == ' ') mn--;
      r->msg = arena_put(e, m, mn);
      parse_kv(e, p, n, (size_t)b, &r->truncated, &r->malformed);
    } else {
      size_t mn = n;
      while (mn && p[mn - 1] == ' ') mn--;
      r->msg = arena_put(e, p, mn);
    }
  }
  r->attr_count = e->n_attrs - r->attr_first;
  if (r->msg.len <= 0) return 0;
  r->event = lookup(&e->cat[OL_SCOPE_MSG], astr(e, r->msg), (size_t)r->msg.len);
  return r->event >= 0;
}

static int golog_line(ol_engine* e, rec_t* r, const char* p, size_t n) {
  int y = digits_at(p, n, 0, 4), mo, d, h, mi, se;
  if (y < 0 || n < 20 || p[4] != '/' || (mo = digits_at(p, n, 5, 2)) < 0 || p[7] != '/' ||
      (d = digits_at(p, n, 8, 2)) < 0 || p[10] != ' ' || (h = digits_at(p, n, 11, 2)) < 0 || p[13] != ':' ||
      (mi = digits_at(p, n, 14, 2)) < 0 || p[16] != ':' || (se = digits_at(p, n, 17, 2)) < 0)
    return 0;
  size_t i = 19, fs = 0, fn = 0;
  if (i < n && p[i] == '.') {
    size_t k = i + 1;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    if (k - (i + 1) < 1 || k - (i + 1) > 6) return 0;
    fs = i + 1; fn = k - fs; i = k;
  }
  if (i >= n || p[i] != ' ') return 0;
  i++;
  rec_init(e, r, K_LOG);
  if (ol_valid_civil(y, mo, d, h, mi, se)) { r->t_local = ol_civil_us(y, mo, d, h, mi, se, ol_frac_us(p + fs, fn)); r->has_local = 1; }
  else r->malformed = 1;
  golog_rest(e, r, p + i, n - i);
  return 1;
}

static int extsrv_line(ol_engine* e, rec_t* r, const char* p, size_t n) {
  static const char* lv[] = {"INFO", "WARN", "WARNING", "ERROR", "DEBUG", "VERB"};
  for (int q = 0; q < 6; q++) {
    size_t ln = strlen(lv[q]);
    if (!starts(p, n, lv[q])) continue;
    size_t i = ln;
    size_t j = i;
    while (j < n && is_ws((unsigned char)p[j])) j++;
    if (j == i || j >= n || p[j] != '[') continue;
    j++;
    while (j < n && is_ws((unsigned char)p[j])) j++;
    size_t fs = j;
    while (j < n && is_word((unsigned char)p[j])) j++;
    if (j == fs || j >= n || p[j] != ']') continue;
    size_t fe = j;
    j++;
    size_t w = j;
    while (j < n && is_ws((unsigned char)p[j])) j++;
    if (j == w) continue;
    /* (.*) : the rest, no newlines */
    if (memchr(p + j, '\n', n - j)) continue;
    rec_init(e, r, K_RUNNER);
    r->level = arena_put(e, p, ln);
    r->source = arena_put(e, p + fs, fe - fs);
    const char* rest = p + j;
    size_t rn = n - j;
    const char* bar = find_sub(rest, rn, " | ", 3);
    if (bar) {
      const char* m = rest;
      size_t mn = (size_t)(bar - rest);
      strip_ws(&m, &mn);
      r->msg = arena_put(e, m, mn);
      parse_kv(e, rest, rn, (size_t)(bar - rest) + 3, &r->truncated, &r->malformed);
      r->attr_count = e->n_attrs - r->attr_first;
    } else {
      const char* m = rest;
      size_t mn = rn;
      strip_ws(&m, &mn);
      r->msg = arena_put(e, m, mn);
    }
    for (int64_t i2 = r->attr_first; i2 < r->attr_first + r->attr_count; i2++) {
      attr_t a = e->attrs[i2];
      if (str_eq(e, a.k, "timestamp")) {
        if (all_digits(astr(e, a.v), (size_t)a.v.len) && a.v.len <= 12) {
          r->t_abs = parse_digits(astr(e, a.v), (size_t)a.v.len) * US;
          r->has_abs = 1;
          break;
        }
      }
    }
    r->event = lookup(&e->cat[OL_SCOPE_MSG], astr(e, r->msg), (size_t)r->msg.len);
    return 1;
  }
  return 0;
}

static int hex_run(const char* s, size_t n, size_t i, size_t* end) {
  size_t k = i;
  while (k < n && (is_digit((unsigned char)s[k]) || (s[k] >= 'a' && s[k] <= 'f'))) k++;
  *end = k;
  return k > i;
}

static int ext_in(const char* x, size_t n, const char* const* set) {
  for (int i = 0; set[i]; i++)
    if (strlen(set[i]) == n && !memcmp(x, set[i], n)) return 1;
  return 0;
}

/* the reference's PANIC alternation and _go_frame */
static int is_panic(const char* p, size_t n, int* start) {
  *start = starts(p, n, "panic: ") || starts(p, n, "fatal error: ") || starts(p, n, "signal arrived during ");
  if (starts(p, n, "SIG")) {
    size_t k = 3;
    while (k < n && is_upper((unsigned char)p[k])) k++;
    if (k > 3 && k + 1 < n && p[k] == ':' && p[k + 1] == ' ') *start = 1;
  }
  if (*start) return 1;
  if (starts(p, n, "created by ") || starts(p, n, "PC=0x") || starts(p, n, "[Inferior ") ||
      starts(p, n, "[signal ") || starts(p, n, "[New Thread") || starts(p, n, "[Thread debugging"))
    return starts(p, n, "[Inferior ") ? (n > 10 && is_digit((unsigned char)p[10])) : 1;
  if (starts(p, n, "goroutine ")) {
    size_t k = 10;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    if (k > 10 && k + 1 < n && p[k] == ' ' && p[k + 1] == '[') return 1;
  }
  if (starts(p, n, "exit status ")) {
    size_t k = 12;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    if (k > 12 && k == n) return 1;
  }
  if (n && p[0] == '#') {
    size_t k = 1;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    size_t w = k;
    while (w < n && is_ws((unsigned char)p[w])) w++;
    size_t he;
    if (k > 1 && w > k && starts(p + w, n - w, "0x") && hex_run(p, n, w + 2, &he) && he < n && p[he] == ' ') return 1;
  }
  /* a source file line of a stack trace: [module/path/]file.go:N [+0x..] */
  size_t f0 = 0;
  while (f0 < n && (is_word((unsigned char)p[f0]) || p[f0] == '.' || p[f0] == '-')) f0++;
  if (n && f0 < n && p[f0] == '/') {
    size_t t = 0;
    while (t < n && !is_ws((unsigned char)p[t])) t++;
    int tail_ok = t == n;
    if (!tail_ok && t + 3 < n + 1 && starts(p + t, n - t, " +0x")) {
      size_t he;
      tail_ok = hex_run(p, n, t + 4, &he) && he == n;
    }
    if (tail_ok) {
      size_t colon = t;
      while (colon > 0 && p[colon - 1] != ':') colon--;
      if (colon > 0 && colon < t && all_digits(p + colon, t - colon)) {
        size_t dot = colon - 1;
        while (dot > 0 && p[dot - 1] != '.') dot--;
        static const char* const exts[] = {"go", "s", "c", "cc", "cpp", "h", "cu", NULL};
        if (dot > f0 + 2 && ext_in(p + dot, colon - 1 - dot, exts)) {
          for (size_t q = 1; q < dot - 1; q++)
            if (is_ws((unsigned char)p[q])) return 0;
          return 1;
        }
      }
    }
  }
  if (n >= 2 && p[0] == 'r') {
    size_t k = 1;
    while (k < n && (is_lower((unsigned char)p[k]) || is_digit((unsigned char)p[k])) && k < 4) k++;
    size_t w = k;
    while (w < n && is_ws((unsigned char)p[w])) w++;
    size_t he;
    if (k >= 2 && w > k && starts(p + w, n - w, "0x") && hex_run(p, n, w + 2, &he) && he == n) return 1;
  }
  /* Go frame: pkg/path.(*T).Method(...) */
  if (n && (is_alpha((unsigned char)p[0]) || p[0] == '_') && p[n - 1] == ')') {
    const char* par = (const char*)memchr(p, '(', n);
    if (par && par > p) {
      size_t k = (size_t)(par - p);
      int dot = 0;
      for (size_t q = 0; q < k; q++) {
        int c = (unsigned char)p[q];
        if (c == '.') dot = 1;
        if (!(is_word(c) || c == '.' || c == '-' || c == '/' || c == '*')) return 0;
      }
      if (dot) return 1;
    }
  }
  return 0;
}

static int is_probe(const char* p, size_t n) {
  static const char* const lits[] = {"initializing /", "dlsym: ", "calling cu", "CUDA driver version",
                                     "cuda driver library", "nvml ", "releasing cuda", "releasing nvml",
                                     "releasing oneapi", NULL};
  for (int i = 0; lits[i]; i++)
    if (starts(p, n, lits[i])) return 1;
  if (starts(p, n, "device count ") && n > 13 && is_digit((unsigned char)p[13])) return 1;
  if (starts(p, n, "[GPU-")) {
    size_t k = 5;
    while (k < n && (is_hex((unsigned char)p[k]) && !is_upper((unsigned char)p[k]) ? 1 : p[k] == '-')) k++;
    if (k > 5 && k + 1 < n && p[k] == ']' && p[k + 1] == ' ') return 1;
  }
  if (n && p[0] == '[') {
    size_t k = 1;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    if (k > 1 && starts(p + k, n - k, "] CUDA ")) return 1;
  }
  return 0;
}

static int is_native_err(const char* p, size_t n) {
  static const char* const errs[] = {"CUDA error", "ROCm error", "HIP error", "SYCL error", "Vulkan error",
                                     "Metal error", "current device: ", "GGML_ASSERT", NULL};
  for (int i = 0; errs[i]; i++)
    if (starts(p, n, errs[i])) return 1;
  size_t t = 0;
  while (t < n && !is_ws((unsigned char)p[t])) t++;
  /* X.ext:digits: then a space */
  if (t < 4 || t >= n || p[t] != ' ' || p[t - 1] != ':') return 0;
  size_t d = t - 1;
  while (d > 0 && is_digit((unsigned char)p[d - 1])) d--;
  if (d == t - 1 || d == 0 || p[d - 1] != ':') return 0;
  size_t colon = d - 1, dot = colon;
  while (dot > 0 && p[dot - 1] != '.') dot--;
  static const char* const exts[] = {"cu", "cpp", "c", "h", "m", NULL};
  return dot > 1 && ext_in(p + dot, colon - dot, exts);
}

/* where a slog record glued after other text starts: its time ("...context 800time=2025-...")
 * or, when a pipeline cut the front, its level (" level=INFO source=" / " msg="); -1 if none */
static int64_t glued_at(const char* p, size_t n) {
  int64_t best = -1;
  for (size_t q = 0; q + 16 <= n; q++) {
    const char* g = find_sub(p + q, n - q, "time=", 5);
    if (!g) break;
    size_t gi = (size_t)(g - p);
    if (gi + 16 <= n && digits_at(p, n, gi + 5, 4) >= 0 && p[gi + 9] == '-' && digits_at(p, n, gi + 10, 2) >= 0 &&
        p[gi + 12] == '-' && digits_at(p, n, gi + 13, 2) >= 0 && p[gi + 15] == 'T') {
      best = (int64_t)gi;
      break;
    }
    q = gi;
  }
  static const char* const levels[] = {"TRACE ", "DEBUG ", "INFO ", "WARN ", "ERROR ", NULL};
  for (size_t q = 1; q < n; q++) {
    if (best >= 0 && (int64_t)q >= best) break;
    const char* g = find_sub(p + q, n - q, "level=", 6);
    if (!g) break;
    size_t gi = (size_t)(g - p);
    if (best >= 0 && (int64_t)gi >= best) break;
    if (p[gi - 1] == ' ') {
      for (int k = 0; levels[k]; k++) {
        size_t ln = strlen(levels[k]);
        size_t r = gi + 6 + ln;
        if (starts(p + gi + 6, n - gi - 6, levels[k]) &&
            (starts(p + r, n - r, "source=") || starts(p + r, n - r, "msg=")))
          return (int64_t)gi;
      }
    }
    q = gi;
  }
  return best;
}

/* the reference's _classify_plain: panic, probe, system, llama.cpp; 0 when nothing matched */
static int classify_plain(ol_engine* e, rec_t* r, const char* p, size_t n, const ctx_t* c) {
  int start;
  const char* rs = p;
  size_t rn = n;
  while (rn && is_ws((unsigned char)rs[rn - 1])) rn--;
  if (is_panic(p, n, &start)) {
    rec_init(e, r, K_PANIC);
    r->msg = arena_put(e, rs, rn);
    if (start) r->event = event_id(e, "panic", 5);
    return 1;
  }
  if (is_probe(p, n)) {
    rec_init(e, r, K_PROBE);
    r->msg = arena_put(e, rs, rn);
    return 1;
  }
  if ((c->ident_len == 7 && !memcmp(c->arena.p + c->ident_off, "systemd", 7)) ||
      (n >= 6 && starts(p, n, "-- ") && p[n - 3] == ' ' && p[n - 2] == '-' && p[n - 1] == '-')) {
    rec_init(e, r, K_SYSTEM);
    if (c->ident_len == 7 && !memcmp(c->arena.p + c->ident_off, "systemd", 7)) r->source = arena_put(e, "systemd", 7);
    r->msg = arena_put(e, rs, rn);
    return 1;
  }
  /* llama.cpp: func: msg  |  mod  func: msg (a function name starts in lower case: not apt's "Install:") */
  if (n && (is_lower((unsigned char)p[0]) || p[0] == '_')) {
    size_t k = 1;
    while (k < n && is_word((unsigned char)p[k])) k++;
    if (k < n && p[k] == ':' && (k + 1 == n || p[k + 1] == ' ')) {
      native_rec(e, r, p, k, 1, k + 1 < n ? p + k + 2 : p + n, k + 1 < n ? n - k - 2 : 0);
      return 1;
    }
  }
  if (n && is_lower((unsigned char)p[0])) {
    size_t m = 0;
    while (m < n && is_lower((unsigned char)p[m])) m++;
    if (m >= 2 && m <= 5 && m < n && p[m] == ' ') {
      size_t f = m;
      while (f < n && p[f] == ' ') f++;
      if (f < n && (is_alpha((unsigned char)p[f]) || p[f] == '_')) {
        size_t g = f + 1;
        while (g < n && is_word((unsigned char)p[g])) g++;
        if (g < n && p[g] == ':' && (g + 1 == n || p[g + 1] == ' ')) {
          native_rec(e, r, p + f, g - f, 1, g + 1 < n ? p + g + 2 : p + n, g + 1 < n ? n - g - 2 : 0);
          return 1;
        }
      }
    }
  }
  const char* t = p;
  size_t tn = n;
  while (tn && (t[tn - 1] == '.' || t[tn - 1] == ' ')) tn--;
  if (starts(p, n, "Device ") || starts(p, n, "[SYCL] ") || is_native_err(p, n) || tn == 0 || starts(p, n, "...")) {
    native_rec(e, r, NULL, 0, 0, p, n);
    return 1;
  }
  return bare_record(e, r, p, n);
}

static int classify(ol_engine* e, const char* p, size_t n, const ctx_t* c, int oversized, int64_t lineno) {
  rec_t r;
  int st = ST_PARSED;
  if (starts(p, n, "[GIN] ")) {
    gin_line(e, &r, p, n);
  } else if (starts(p, n, "[GIN") || starts(p, n, "[Recovery]")) {
    rec_init(e, &r, K_GIN);
    const char* end = find_sub(p, n, "] ", 2);
    r.msg = end ? arena_put(e, end + 2, n - (size_t)(end + 2 - p)) : arena_put(e, p, n);
  } else if (golog_line(e, &r, p, n)) {
  } else if (extsrv_line(e, &r, p, n)) {
  } else {
    int64_t gi = glued_at(p, n);
    if (gi > 0) {
      /* text glued in front of a slog record: the text is read on its own */
      rec_t f;
      size_t hn = (size_t)gi;
      while (hn && (p[hn - 1] == ' ' || p[hn - 1] == '\t')) hn--;
      if (!classify_plain(e, &f, p, hn, c)) {
        rec_init(e, &f, K_FRAGMENT);
        f.msg = arena_put(e, p, hn);
      }
      f.truncated |= oversized;
      if (f.malformed) st = ST_MALFORMED;
      emit(e, &f, c, lineno);
      e->arena.len = 0;
      e->n_attrs = 0;
      parse_slog(e, &r, p + gi, n - (size_t)gi);
    } else if (!classify_plain(e, &r, p, n, c)) {
      return ST_UNKNOWN;
    }
  }
  r.truncated |= oversized;
  if (r.malformed) st = ST_MALFORMED;
  emit(e, &r, c, lineno);
  return st;
}

/* the reference's quote_state: carry (in_q, skip) over s[0..n) */
static void quote_state(const char* s, size_t n, int* in_q, int* skip) {
  size_t i = (*skip && *in_q) ? 1 : 0;
  int q = *in_q;
  while (i < n) {
    char c = s[i];
    if (q) {
      if (c == '\\') i++;
      else if (c == '"') q = 0;
    } else if (c == '"') q = 1;
    i++;
  }
  *in_q = q;
  *skip = i > n;
}

/* the reference's Joined.add: append what fits of p[0..n) under `limit` bytes, cut at a character
 * boundary; 1 when this piece reached the limit (*capped is set and nothing more is appended) */
static int capped_put(ol_buf* b, int64_t limit, int* capped, const char* p, size_t n) {
  if (*capped) return 0;
  int64_t room = limit - b->len;
  if ((int64_t)n > room) {
    size_t k = room > 0 ? (size_t)room : 0;
    while (k > 0 && k < n && ((unsigned char)p[k] & 0xC0) == 0x80) k--;
    ol_buf_put(b, p, (int64_t)k);
    *capped = 1;
    return 1;
  }
  ol_buf_put(b, p, (int64_t)n);
  return 0;
}

/* append " " + piece to the held record; 1 when it reached max_line (the rest is cut) */
static int held_add(ol_engine* e, const char* p, size_t n) {
  if (capped_put(&e->held_text, e->opt.max_line, &e->held_capped, " ", 1) ||
      capped_put(&e->held_text, e->opt.max_line, &e->held_capped, p, n))
    return 1;
  if (e->held_qknown) {
    quote_state(" ", 1, &e->held_inq, &e->held_skip);
    quote_state(p, n, &e->held_inq, &e->held_skip);
  }
  return 0;
}

static void release_held(ol_engine* e);
static int release_cri(ol_engine* e);

/* the reference's SLOG_START: `msg=` or `source=X msg=` (a record whose time and level were cut) */
static int slog_start(const char* p, size_t n) {
  if (starts(p, n, "msg=")) return 1;
  if (!starts(p, n, "source=")) return 0;
  size_t k = 7;
  while (k < n && !is_ws((unsigned char)p[k])) k++;
  return k > 7 && k + 5 <= n && p[k] == ' ' && !memcmp(p + k + 1, "msg=", 4);
}

static int process_payload(ol_engine* e, const char* p, size_t n, ctx_t* c, int oversized) {
  int64_t lineno = e->lineno;
  if (e->cri && c->transport != T_CRI) release_cri(e);
  if (c->transport == T_CRI && (c->cri_partial || e->cri)) {
    const char* q = p;
    size_t qn = n;
    if (!e->cri) {
      e->cri = 1;
      e->cri_line = lineno;
      e->cri_off = e->line_off;
      e->cri_text.len = 0;
      e->cri_capped = 0;
      ctx_copy(&e->cri_ctx, c);
    } else {
      /* a later part continues the text as it is, blanks included */
      q = c->cri_raw;
      qn = c->cri_raw_n;
    }
    e->cri_end = e->lineno;
    int over = capped_put(&e->cri_text, e->opt.max_line, &e->cri_capped, q, qn);
    if (c->cri_partial && !over) {
      size_t skip = !c->cri_sep && e->trail_n ? 1 : 0;
      over = capped_put(&e->cri_text, e->opt.max_line, &e->cri_capped, e->trail_p + skip, e->trail_n - skip);
    }
    if (over && !oversized) e->st.oversized++; /* the joined record reached the line limit: cut */
    if (oversized) e->cri_capped = 1;
    if (c->cri_partial) {
      e->st.continued++;
      return e->cri_capped ? ST_MALFORMED : ST_PARSED;
    }
    return release_cri(e);
  }
  const char* t = p;
  size_t tn = n;
  strip_ws(&t, &tn);
  if (!tn) {
    e->st.blank++;
    return ST_UNKNOWN;
  }
  e->arena.len = 0;
  e->n_attrs = 0;
  if (starts(p, n, "time=") || (starts(p, n, "level=") && n > 6 && is_upper((unsigned char)p[6])) ||
      slog_start(p, n)) {
    if (c->json || oversized) {
      rec_t r;
      parse_slog(e, &r, p, n);
      r.truncated |= oversized;
      emit(e, &r, c, lineno);
      return r.malformed ? ST_MALFORMED : ST_PARSED;
    }
    e->held = 1;
    e->held_line = lineno;
    e->held_off = e->line_off;
    e->held_end = e->span_end > lineno ? e->span_end : lineno;
    e->held_text.len = 0;
    ol_buf_put(&e->held_text, p, (int64_t)n);
    e->held_inq = e->held_skip = e->held_qknown = e->held_capped = 0;
    ctx_copy(&e->held_ctx, c);
    return ST_HELD;
  }
  int st = classify(e, p, n, c, oversized, lineno);
  if (st == ST_UNKNOWN && e->opt.keep_unknown) {
    e->unk_has = 1;
    e->unk_cur_line = lineno;
    e->unk_cur.len = 0;
    ol_buf_put(&e->unk_cur, p, (int64_t)n);
  }
  return st;
}

static void release_held(ol_engine* e) {
  if (!e->held) return;
  e->held = 0;
  e->arena.len = 0;
  e->n_attrs = 0;
  rec_t r;
  /* parse from a private copy: the text buffer is reused */
  ol_buf text = e->held_text;
  parse_slog(e, &r, text.p, (size_t)text.len);
  r.truncated |= e->held_capped;
  int64_t saved_end = e->span_end;
  e->span_end = e->held_end;
  emit(e, &r, &e->held_ctx, e->held_line);
  e->span_end = saved_end;
  if (r.malformed) {
    e->st.parsed--;
    e->st.malformed++;
  }
}

static int release_cri(ol_engine* e) {
  if (!e->cri) return ST_UNKNOWN;
  e->cri = 0;
  e->cri_ctx.cri_partial = 0;
  int64_t saved = e->lineno, saved_off = e->line_off, saved_end = e->span_end;
  e->lineno = e->cri_line;
  e->line_off = e->cri_off;
  e->span_end = e->cri_end;
  /* the joined text moves to `joined` so that process_payload may reuse cri_text */
  ol_buf tmp = e->joined;
  e->joined = e->cri_text;
  e->cri_text = tmp;
  ctx_t c;
  memset(&c, 0, sizeof(c));
  ctx_copy(&c, &e->cri_ctx);
  /* read as the line it was before Kubernetes cut it */
  agg_t agg = {0, 0, 0};
  int whole = unwrap(e, e->joined.p ? e->joined.p : "", (size_t)e->joined.len, &c, 0, e->cri_capped, &agg,
                     D_TS | D_DESK | D_JOURNAL | D_IDENT | D_COMPOSE);
  int st = line_status(whole, &agg, e->cri_capped);
  release_held(e);
  ol_buf_free(&c.arena);
  e->lineno = saved;
  e->line_off = saved_off;
  e->span_end = saved_end;
  return st;
}

/* ---- one physical line ------------------------------------------------------------------------- */

static void count(ol_engine* e, int st) {
  if (st == ST_MALFORMED) e->st.malformed++;
  else if (st == ST_PARSED || st == ST_HELD) e->st.parsed++;
  else e->st.unknown++;
}

static int is_box_tail(const unsigned char* s, size_t n) {
  /* U+2502 E2 94 82, U+2503 E2 94 83, U+2551 E2 95 91 */
  if (n < 3 || s[n - 3] != 0xE2) return 0;
  return (s[n - 2] == 0x94 && (s[n - 1] == 0x82 || s[n - 1] == 0x83)) || (s[n - 2] == 0x95 && s[n - 1] == 0x91);
}

static int continues(ol_engine* e, const char* s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  if (i == n) return 0;
  const char* b = s + i;
  size_t bn = n - i;
  if (!e->held_qknown) {
    quote_state(e->held_text.p, (size_t)e->held_text.len, &e->held_inq, &e->held_skip);
    e->held_qknown = 1;
  }
  if (e->held_inq) {
    ctx_t tmp;
    memset(&tmp, 0, sizeof(tmp));
    ctx_init(&tmp);
    int journal = journal_prefix(b, bn, &tmp, 0) > 0;
    ol_buf_free(&tmp.arena);
    return !(starts(b, bn, "time=") || starts(b, bn, "[GIN]") || journal);
  }
  if (b[0] == '"') {
    const char* q = (const char*)memchr(b + 1, '"', bn - 1);
    return q && (size_t)(q - b) + 1 < bn && q[1] == '=';
  }
  size_t k = 0;
  while (k < bn && (is_word((unsigned char)b[k]) || b[k] == '.')) k++;
  return k > 0 && k < bn && b[k] == '=';
}

/* keep the current line's unknown payload for ol_engine_unknown() */
static void keep_unknown(ol_engine* e) {
  if (e->n_unk >= e->cap_unk) {
    int64_t cap = e->cap_unk ? e->cap_unk * 2 : 256;
    int64_t* l = (int64_t*)realloc(e->unk_lines, (size_t)cap * sizeof(int64_t));
    if (!l) return;
    e->unk_lines = l;
    int64_t* o = (int64_t*)realloc(e->unk_offs, (size_t)(cap + 1) * sizeof(int64_t));
    if (!o) return;
    e->unk_offs = o;
    e->cap_unk = cap;
  }
  if (e->n_unk == 0) e->unk_offs[0] = 0;
  ol_buf_put(&e->unk_text, e->unk_cur.p, e->unk_cur.len);
  e->unk_lines[e->n_unk] = e->unk_cur_line;
  e->unk_offs[++e->n_unk] = e->unk_text.len;
}

static void physical(ol_engine* e, const char* raw, size_t n, int oversized) {
  ol_file_stats* st = &e->st;
  e->unk_has = 0;
  e->lineno++;
  e->span_end = e->lineno;
  st->physical++;
  if (oversized) st->oversized++;
  if (n && raw[n - 1] == '\r') n--;
  if (e->first) {
    e->first = 0;
    if (n >= 3 && (unsigned char)raw[0] == 0xEF && (unsigned char)raw[1] == 0xBB && (unsigned char)raw[2] == 0xBF) {
      raw += 3;
      n -= 3;
    }
  }
  const char* s = raw;
  if (!ol_utf8_valid((const unsigned char*)raw, n)) {
    e->line.len = 0;
    ol_utf8_repair((const unsigned char*)raw, n, &e->line);
    s = e->line.p;
    n = (size_t)e->line.len;
    st->invalid_utf8++;
  }
  if (n && memchr(s, 0x1b, n)) {
    /* strip ANSI CSI sequences \x1b[ [0-9;?]* letter */
    e->tmp.len = 0;
    size_t i = 0, run = 0;
    while (i < n) {
      if (s[i] == 0x1b && i + 1 < n && s[i + 1] == '[') {
        size_t k = i + 2;
        while (k < n && (is_digit((unsigned char)s[k]) || s[k] == ';' || s[k] == '?')) k++;
        if (k < n && is_alpha((unsigned char)s[k])) {
          ol_buf_put(&e->tmp, s + run, (int64_t)(i - run));
          i = run = k + 1;
          continue;
        }
      }
      i++;
    }
    ol_buf_put(&e->tmp, s + run, (int64_t)(n - run));
    ol_buf t = e->line;
    e->line = e->tmp;
    e->tmp = t;
    s = e->line.p;
    n = (size_t)e->line.len;
  }
  size_t full = n;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  e->trail_p = s + n;
  e->trail_n = full - n;
  if (is_box_tail((const unsigned char*)s, n)) {
    n -= 3;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    e->trail_n = 0;
  }
  if (e->held && n && (s[0] == ' ' || s[0] == '\t') && continues(e, s, n)) {
    const char* t = s;
    size_t tn = n;
    strip_st(&t, &tn);
    e->held_end = e->lineno;
    st->continued++;
    if (held_add(e, t, tn)) {
      /* the joined record reached the line limit: cut and counted like a long line */
      if (!oversized) st->oversized++;
      count(e, ST_MALFORMED);
      release_held(e);
      return;
    }
    count(e, oversized ? ST_MALFORMED : ST_PARSED);
    return;
  }
  release_held(e);
  if (!n) {
    st->blank++;
    st->unknown++;
    return;
  }
  ctx_t c;
  memset(&c, 0, sizeof(c));
  ctx_init(&c);
  agg_t agg = {0, 0, 0};
  int whole = unwrap(e, s, n, &c, 0, oversized, &agg, 0);
  ol_buf_free(&c.arena);
  int status = line_status(whole, &agg, oversized);
  count(e, status);
  if (status == ST_UNKNOWN && e->unk_has) keep_unknown(e);
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
  e->opt.batch_rows = opt && opt->batch_rows > 0 ? opt->batch_rows : 65536;
  e->opt.max_line = opt && opt->max_line > 0 ? opt->max_line : (1 << 20);
  e->opt.keep_unknown = opt ? opt->keep_unknown : 0;
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
  free(e);
}

int ol_engine_begin_file(ol_engine* e, const char* name, size_t name_len, const char* host, size_t host_len,
                         int force_host, ol_error* err) {
  e->file_id = name_add(&e->files, &e->n_files, name, name_len);
  if (e->file_id < 0) return err_set(err, OL_ENOMEM, "out of memory");
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
  return OL_OK;
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

static uint64_t month_hash(const char* s, size_t n) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

static int month_of(const ol_engine* e, const char* s, size_t n) {
  if (!e->cap_months) return 0;
  for (size_t i = (size_t)month_hash(s, n) & (e->cap_months - 1);; i = (i + 1) & (e->cap_months - 1)) {
    const month_t* m = &e->months[i];
    if (!m->p) return 0;
    if (m->n == n && memcmp(m->p, s, n) == 0) return m->month;
  }
}

int ol_engine_add_month(ol_engine* e, const char* name, size_t len, int month, ol_error* err) {
  if (month < 1 || month > 12 || !len) return err_set(err, OL_EINVAL, "month must be 1..12 with a name");
  if ((e->n_months + 1) * 2 > e->cap_months) { /* keep the table at most half full */
    size_t cap = e->cap_months ? e->cap_months * 2 : 1024;
    month_t* v = (month_t*)calloc(cap, sizeof(month_t));
    if (!v) return err_set(err, OL_ENOMEM, "out of memory");
    for (size_t i = 0; i < e->cap_months; i++) {
      month_t* m = &e->months[i];
      if (!m->p) continue;
      size_t j = (size_t)month_hash(m->p, m->n) & (cap - 1);
      while (v[j].p) j = (j + 1) & (cap - 1);
      v[j] = *m;
    }
    free(e->months);
    e->months = v;
    e->cap_months = cap;
  }
  size_t j = (size_t)month_hash(name, len) & (e->cap_months - 1);
  while (e->months[j].p) {
    if (e->months[j].n == len && memcmp(e->months[j].p, name, len) == 0) {
      e->months[j].month = month; /* a later line wins, as in the Python dict */
      return OL_OK;
    }
    j = (j + 1) & (e->cap_months - 1);
  }
  char* p = (char*)malloc(len);
  if (!p) return err_set(err, OL_ENOMEM, "out of memory");
  memcpy(p, name, len);
  e->months[j].p = p;
  e->months[j].n = len;
  e->months[j].month = month;
  e->n_months++;
  return OL_OK;
}

static void carry_add(ol_engine* e, const char* p, size_t n) {
  int64_t room = e->opt.max_line - e->carry.len;
  if ((int64_t)n > room) {
    if (room > 0) ol_buf_put(&e->carry, p, room);
    e->carry_over = 1;
  } else ol_buf_put(&e->carry, p, (int64_t)n);
}

int ol_engine_feed(ol_engine* e, const char* data, size_t len, ol_error* err) {
  int64_t at = e->base_off + e->st.bytes; /* offset of data[0] */
  e->st.bytes += (int64_t)len;
  size_t start = 0;
  while (start < len) {
    const char* nl = (const char*)memchr(data + start, '\n', len - start);
    if (!nl) {
      carry_add(e, data + start, len - start);
      break;
    }
    size_t end = (size_t)(nl - data);
    if (e->carry.len == 0 && !e->carry_over) {
      /* the common case: the whole line is in this chunk */
      size_t ln = end - start;
      int over = 0;
      if ((int64_t)ln > e->opt.max_line) { ln = (size_t)e->opt.max_line; over = 1; }
      e->line_off = e->next_off;
      physical(e, data + start, ln, over);
    } else {
      carry_add(e, data + start, end - start);
      ol_buf c = e->carry;
      int over = e->carry_over;
      e->carry.p = NULL; e->carry.len = e->carry.cap = 0;
      e->line_off = e->next_off;
      physical(e, c.p ? c.p : "", (size_t)c.len, over);
      c.len = 0;
      if (e->carry.p) ol_buf_free(&e->carry);
      e->carry = c;
      e->carry_over = 0;
    }
    start = end + 1;
    e->next_off = at + (int64_t)start;
    if (e->n_pending && e->next_off - e->pending_from > PENDING_LINES * e->opt.max_line) resolve_pending(e, 1);
  }
  /* the held record must survive the caller freeing this chunk: it is already a copy */
  (void)err;
  return OL_OK;
}

int ol_engine_end_file(ol_engine* e, ol_file_stats* stats, ol_error* err) {
  if (e->carry.len || e->carry_over) {
    ol_buf c = e->carry;
    int over = e->carry_over;
    e->carry.p = NULL; e->carry.len = e->carry.cap = 0;
    e->line_off = e->next_off;
    physical(e, c.p ? c.p : "", (size_t)c.len, over);
    c.len = 0;
    e->carry = c;
    e->carry_over = 0;
    e->next_off = e->base_off + e->st.bytes;
  }
  release_held(e);
  release_cri(e);
  resolve_pending(e, 1);
  e->st.host = e->prefix_host >= 0 ? e->prefix_host : e->default_host;
  *stats = e->st;
  (void)err;
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

int ol_engine_export(ol_engine* e, int table, struct ArrowArray* out, ol_error* err) {
  int rc;
  /* a waiting row is settled later by its index in the batch being built: it must stay there */
  if (e->n_pending) return err_set(err, OL_EINVAL, "rows wait for their time: export when a batch is ready");
  if (table == OL_TABLE_EVENTS) {
    rc = ol_struct_export(e->ev, EC_N, e->ev_rows, out);
    e->ev_rows = 0;
  } else {
    rc = ol_struct_export(e->rq, RC_N, e->rq_rows, out);
    e->rq_rows = 0;
  }
  if (rc) return err_set(err, rc, "out of memory exporting a batch");
  return OL_OK;
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
