/* Which grammar reads a payload: the reference's _classify and _classify_plain. */
#include "../engine.h"

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

int classify(ol_engine* e, const char* p, size_t n, const ctx_t* c, int oversized, int64_t lineno) {
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
