/* [GIN] access lines: `[GIN] YYYY/MM/DD - hh:mm:ss | status | latency | client | METHOD "path"`. */
#include "../engine.h"

int gin_line(ol_engine* e, rec_t* r, const char* p, size_t n) {
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
