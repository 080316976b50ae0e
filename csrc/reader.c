/* The reader: chunks -> physical lines (carry across chunks, the line limit), line hygiene (CR,
 * BOM, UTF-8 repair, ANSI colours, trailing blanks and box borders), continuation lines joined
 * to the slog record above, CRI partial lines joined, and each line's accounting. */
#include "engine.h"

static void release_held(ol_engine* e);
static int release_cri(ol_engine* e);

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


int process_payload(ol_engine* e, const char* p, size_t n, ctx_t* c, int oversized) {
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
    if (!l) {
      ol_fault_set(OL_FAULT_NOMEM);
      return;
    }
    e->unk_lines = l;
    int64_t* o = (int64_t*)realloc(e->unk_offs, (size_t)(cap + 1) * sizeof(int64_t));
    if (!o) {
      ol_fault_set(OL_FAULT_NOMEM);
      return;
    }
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
    s = e->line.p ? e->line.p : ""; /* a line of escape sequences only leaves nothing, not a buffer */
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

static void carry_add(ol_engine* e, const char* p, size_t n) {
  int64_t room = e->opt.max_line - e->carry.len;
  if ((int64_t)n > room) {
    if (room > 0) ol_buf_put(&e->carry, p, room);
    e->carry_over = 1;
  } else ol_buf_put(&e->carry, p, (int64_t)n);
}

/* the carried line (a line cut by a chunk's end) read as one physical line; its buffer is kept
 * for the next carry */
static void flush_carry(ol_engine* e) {
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

int ol_engine_feed(ol_engine* e, const char* data, size_t len, ol_error* err) {
  int api_rc = api_enter(e, err);
  if (api_rc) return api_rc;
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
      flush_carry(e);
    }
    start = end + 1;
    e->next_off = at + (int64_t)start;
    if (e->n_pending && e->next_off - e->pending_from > PENDING_LINES * e->opt.max_line) resolve_pending(e, 1);
  }
  /* the held record must survive the caller freeing this chunk: it is already a copy */
  return api_leave(e, err);
}

int ol_engine_end_file(ol_engine* e, ol_file_stats* stats, ol_error* err) {
  int api_rc = api_enter(e, err);
  if (api_rc) return api_rc;
  if (e->carry.len || e->carry_over) {
    flush_carry(e);
    e->next_off = e->base_off + e->st.bytes;
  }
  release_held(e);
  release_cri(e);
  resolve_pending(e, 1);
  e->st.host = e->prefix_host >= 0 ? e->prefix_host : e->default_host;
  *stats = e->st;
  return api_leave(e, err);
}
