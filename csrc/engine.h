/* Internal to the C core: the engine's state and what its stages share. Not installed; the
 * public API is ollalog.h. The stages follow src/ollalog/reference.py function for function:
 *   reader.c (chunks, lines, carry, joins) -> transports.c (prefixes, wrappers) ->
 *   grammars/ (dispatch, slog, gin, golog, llama, probes) -> rows.c (rows, time) ; catalogue.c ; api.c */
#ifndef OLLALOG_ENGINE_H
#define OLLALOG_ENGINE_H

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
enum { T_PLAIN, T_JOURNALD, T_JOURNALD_JSON, T_DOCKER, T_DOCKER_JSON, T_DESKTOP, T_COMPOSE, T_CRI, T_PINO };
enum { EC_FILE, EC_LINE, EC_OFFSET, EC_HOST, EC_TIME, EC_LEVEL, EC_SOURCE, EC_MSG, EC_ATTRS, EC_KIND, EC_EVENT, EC_PID,
       EC_TRANSPORT, EC_TRUNC, EC_END_LINE, EC_PTIME, EC_N };
enum { RC_FILE, RC_LINE, RC_OFFSET, RC_HOST, RC_TIME, RC_STATUS, RC_LATENCY, RC_CLIENT, RC_METHOD, RC_PATH, RC_PID,
       RC_TRANSPORT, RC_TRUNC, RC_PTIME, RC_N };
/* ---- types ----------------------------------------------------------------------------------- */

/* A string of the record being read: a span of its text (p set: the line, the held or joined
 * record, a JSON wrapper's unescaped fields; all stable until the record is emitted) or bytes in
 * the record arena (p NULL: unquoted values with escapes, repaired text); len < 0: null. */
typedef struct { const char* p; int64_t off, len; } ol_str;

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
  /* a fault (allocation, size overflow) fails the engine for good: its columns may differ in length */
  int failed; ol_error failure;
  int32_t* remap; int64_t cap_remap; /* per-batch dictionaries: engine-wide index -> batch index */
};

/* ---- small utilities ------------------------------------------------------------------------ */

static inline int err_set(ol_error* err, int code, const char* msg) {
  if (err) {
    err->code = code;
    size_t n = strlen(msg);
    if (n >= sizeof(err->message)) n = sizeof(err->message) - 1;
    memcpy(err->message, msg, n);
    err->message[n] = 0;
  }
  return code;
}

static inline int starts(const char* s, size_t n, const char* lit) {
  size_t k = strlen(lit);
  return n >= k && memcmp(s, lit, k) == 0;
}

static inline const char* find_sub(const char* s, size_t n, const char* lit, size_t k) {
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
static inline void strip_ws(const char** p, size_t* n) {
  while (*n && is_ws((unsigned char)(*p)[0])) { (*p)++; (*n)--; }
  while (*n && is_ws((unsigned char)(*p)[*n - 1])) (*n)--;
}
static inline void strip_st(const char** p, size_t* n) { /* " \t" only */
  while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) { (*p)++; (*n)--; }
  while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t')) (*n)--;
}

static inline int all_digits(const char* s, size_t n) {
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_digit((unsigned char)s[i])) return 0;
  return 1;
}

static inline int64_t parse_digits(const char* s, size_t n) {
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

/* the reference's _int32: -?digits, at most 10 digits, in int32 range */
static inline int int32_of(const char* s, size_t n, int32_t* out) {
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

/* a span of the record's text: no copy */
static inline ol_str arena_put(ol_engine* e, const char* p, size_t n) {
  ol_str s = {p, 0, (int64_t)n};
  (void)e;
  return s;
}
static const ol_str NOSTR = {NULL, 0, -1};

/* (an arena that never held a byte has no buffer: an empty string is then "", not NULL + 0) */
static inline const char* astr(const ol_engine* e, ol_str s) {
  return s.p ? s.p : e->arena.p ? e->arena.p + s.off : "";
}

/* bytes copied into the arena, repairing UTF-8 (values produced by \x escapes may be invalid) */
static inline ol_str arena_copy_repaired(ol_engine* e, const char* p, size_t n) {
  ol_str s = {NULL, e->arena.len, 0};
  if (ol_utf8_valid((const unsigned char*)p, n)) ol_buf_put(&e->arena, p, (int64_t)n);
  else ol_utf8_repair((const unsigned char*)p, n, &e->arena);
  s.len = e->arena.len - s.off;
  return s;
}

/* the Go-quoted string at s[*i] == '"': a span of the text when no backslash comes before the
 * closing quote (the text is valid UTF-8 already), else unquoted into the arena */
static inline ol_str arena_unquote(ol_engine* e, const char* s, size_t n, size_t* i, int* term) {
  const char* b = s + *i + 1;
  const char* q = (const char*)memchr(b, '"', n - *i - 1);
  if (q && !memchr(b, '\\', (size_t)(q - b))) {
    ol_str r = {b, 0, (int64_t)(q - b)};
    *i = (size_t)(q - s) + 1;
    *term = 1;
    return r;
  }
  e->tmp.len = 0;
  *i = ol_go_unquote(s, n, *i, &e->tmp, term);
  return arena_copy_repaired(e, e->tmp.p, (size_t)e->tmp.len);
}

static inline void add_attr(ol_engine* e, ol_str k, ol_str v) {
  if (e->n_attrs >= e->cap_attrs) {
    int64_t cap = e->cap_attrs ? e->cap_attrs * 2 : 64;
    attr_t* a = (attr_t*)realloc(e->attrs, (size_t)cap * sizeof(attr_t));
    if (!a) {
      ol_fault_set(OL_FAULT_NOMEM);
      return;
    }
    e->attrs = a;
    e->cap_attrs = cap;
  }
  e->attrs[e->n_attrs].k = k;
  e->attrs[e->n_attrs].v = v;
  e->n_attrs++;
}

static inline void rec_init(ol_engine* e, rec_t* r, int kind) {
  memset(r, 0, sizeof(*r));
  r->kind = kind;
  r->event = -1;
  r->level = r->source = r->msg = r->client = r->method = r->path = NOSTR;
  r->attr_first = e->n_attrs;
}

static inline void ctx_init(ctx_t* c) {
  ol_buf a = c->arena;
  memset(c, 0, sizeof(*c));
  a.len = 0;
  c->arena = a;
  c->transport = -1;
  c->host_len = -1;
  c->ident_len = -1;
  c->ptime_len = -1;
}

static inline void ctx_copy(ctx_t* dst, const ctx_t* src) {
  ol_buf a = dst->arena;
  *dst = *src;
  a.len = 0;
  ol_buf_put(&a, src->arena.p, src->arena.len);
  dst->arena = a;
}
enum { D_MD = 1, D_SPIN = 2, D_CATN = 4, D_JSON = 8, D_TS = 16, D_DESK = 32, D_JOURNAL = 64, D_IDENT = 128,
       D_COMPOSE = 256 };

typedef struct { const char* p; size_t n; } span_t;


/* unwrap: strips wrappers from s; calls process_payload on each payload; returns line status.
 * Status: 0 unknown, 1 parsed, 2 malformed, 3 held. Aggregated like the reference's _line. */
#define ST_UNKNOWN 0
#define ST_PARSED 1
#define ST_MALFORMED 2
#define ST_HELD 3

typedef struct { int any_parsed, any_malformed, count; } agg_t;

/* The API's bracket around work: an engine that failed refuses everything; the calling thread's
 * fault flag is cleared before and checked after (api.c). */
static inline int api_enter(ol_engine* e, ol_error* err) {
  if (e->failed) {
    if (err) *err = e->failure;
    return e->failure.code;
  }
  ol_fault = OL_FAULT_NONE;
  return OL_OK;
}
int api_leave(ol_engine* e, ol_error* err);

/* ---- between the stages --------------------------------------------------------------------- */

/* catalogue.c */
int lookup(const catalogue_t* c, const char* s, size_t n);
int event_id(ol_engine* e, const char* name, size_t n);
int64_t name_add(name_t** v, int64_t* n, const char* p, size_t len);
int64_t host_id(ol_engine* e, const char* p, size_t n);
int month_of(const ol_engine* e, const char* s, size_t n);
/* rows.c */
void resolve_pending(ol_engine* e, int final);
void set_server_tz(ol_engine* e, int64_t off);
void emit(ol_engine* e, rec_t* r, const ctx_t* c, int64_t lineno);
/* grammars/slog.c */
void parse_kv(ol_engine* e, const char* s, size_t n, size_t i, int* truncated, int* malformed);
int str_eq(ol_engine* e, ol_str s, const char* lit);
void parse_slog(ol_engine* e, rec_t* r, const char* s, size_t n);
int slog_start(const char* p, size_t n);
/* transports.c */
size_t journal_prefix(const char* s, size_t n, ctx_t* c, int apply);
int line_status(int whole, const agg_t* a, int oversized);
int unwrap(ol_engine* e, const char* s, size_t n, ctx_t* c, int depth, int oversized, agg_t* agg, int done);
/* grammars/llama.c */
void native_rec(ol_engine* e, rec_t* r, const char* src, size_t srcn, int has_src, const char* m, size_t mn);
int extsrv_line(ol_engine* e, rec_t* r, const char* p, size_t n);
int is_native_err(const char* p, size_t n);
/* grammars/gin.c */
int gin_line(ol_engine* e, rec_t* r, const char* p, size_t n);
/* grammars/golog.c */
int bare_record(ol_engine* e, rec_t* r, const char* p, size_t n);
int golog_line(ol_engine* e, rec_t* r, const char* p, size_t n);
/* grammars/probes.c */
int ext_in(const char* x, size_t n, const char* const* set);
int is_panic(const char* p, size_t n, int* start);
int is_probe(const char* p, size_t n);
/* grammars/dispatch.c */
int classify(ol_engine* e, const char* p, size_t n, const ctx_t* c, int oversized, int64_t lineno);
/* reader.c */
int process_payload(ol_engine* e, const char* p, size_t n, ctx_t* c, int oversized);
/* api.c */

#endif
