/* Transports: the prefixes and wrappers around a payload (journald, docker, CRI, compose, JSON
 * wrappers, markdown, spinners, cat -n) and what they carry (host, pid, time). */
#include "engine.h"

static int json_wrapper(ol_engine* e, const char* s, size_t n, ctx_t* c, span_t* inner);

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
size_t journal_prefix(const char* s, size_t n, ctx_t* c, int apply) {
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


static void agg_add(agg_t* a, int st) {
  a->count++;
  if (st == ST_MALFORMED) a->any_malformed = 1;
  if (st == ST_PARSED || st == ST_HELD) a->any_parsed = 1;
}

/* the reference's _status: a line's status from its payloads' (whole == 2: a JSON record) */
int line_status(int whole, const agg_t* a, int oversized) {
  if (whole == 2) return ST_PARSED;
  if (!a->count) return ST_UNKNOWN;
  if (a->any_malformed || oversized) return ST_MALFORMED;
  return a->any_parsed ? ST_PARSED : ST_UNKNOWN;
}

int unwrap(ol_engine* e, const char* s, size_t n, ctx_t* c, int depth, int oversized, agg_t* agg, int done) {
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
        const char* t = text.p ? text.p : ""; /* an empty message leaves no buffer */
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
