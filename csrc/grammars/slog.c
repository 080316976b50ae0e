/* Go slog records (`time=... level=... msg=...`) and key=value pairs with Go quoting. */
#include "../engine.h"

/* ---- slog and key=value ------------------------------------------------------------------------ */

/* parse_kv: pairs from s[i..n) into e->attrs */
void parse_kv(ol_engine* e, const char* s, size_t n, size_t i, int* truncated, int* malformed) {
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

int str_eq(ol_engine* e, ol_str s, const char* lit) {
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

void parse_slog(ol_engine* e, rec_t* r, const char* s, size_t n) {
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


/* the reference's SLOG_START: `msg=` or `source=X msg=` (a record whose time and level were cut) */
int slog_start(const char* p, size_t n) {
  if (starts(p, n, "msg=")) return 1;
  if (!starts(p, n, "source=")) return 0;
  size_t k = 7;
  while (k < n && !is_ws((unsigned char)p[k])) k++;
  return k > 7 && k + 5 <= n && p[k] == ' ' && !memcmp(p + k + 1, "msg=", 4);
}
