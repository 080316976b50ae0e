/* Rows: a record and its transport context become one row of events or requests; time resolution
 * (zone-less times wait for the offset of the file's slog lines, journald dates for a reference). */
#include "engine.h"

/* ---- time -------------------------------------------------------------------------------------- */

/* row < 0: a line whose row is skipped (ol_options): only the file's times and context */
static void settle(ol_engine* e, int table, int64_t row, int64_t t) {
  if (row >= 0) ol_col_set_i64(table == OL_TABLE_EVENTS ? &e->ev[EC_TIME] : &e->rq[RC_TIME], row, t);
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

void resolve_pending(ol_engine* e, int final) {
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
    if (!v) {
      ol_fault_set(OL_FAULT_NOMEM);
      return;
    }
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

void set_server_tz(ol_engine* e, int64_t off) {
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


static void col_ostr(ol_engine* e, ol_col* c, ol_str s) {
  if (s.len < 0) ol_col_null(c);
  else ol_col_str(c, astr(e, s), s.len);
}

void emit(ol_engine* e, rec_t* r, const ctx_t* c, int64_t lineno) {
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
    if (e->opt.skip_requests) {
      row_time(e, OL_TABLE_REQUESTS, -1, r, c);
      return;
    }
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
    if (e->opt.named_only && r->event < 0) {
      row_time(e, OL_TABLE_EVENTS, -1, r, c);
      return;
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
