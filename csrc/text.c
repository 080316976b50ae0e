#include "text.h"

#include <math.h>
#include <stdlib.h>

/* ---- UTF-8 ----------------------------------------------------------------------------------- */

/* length of the valid sequence at p (1..4), or -(bytes of the maximal invalid subpart) */
static inline int utf8_seq(const unsigned char* p, size_t n) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  int need;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) need = 1;
  else if (c == 0xE0) { need = 2; lo = 0xA0; }
  else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
  else if (c == 0xED) { need = 2; hi = 0x9F; }
  else if (c == 0xF0) { need = 3; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) need = 3;
  else if (c == 0xF4) { need = 3; hi = 0x8F; }
  else return -1;
  for (int k = 1; k <= need; k++) {
    if ((size_t)k >= n) return -k;
    unsigned b = p[k];
    unsigned l = (k == 1) ? lo : 0x80, h = (k == 1) ? hi : 0xBF;
    if (b < l || b > h) return -k;
  }
  return need + 1;
}

int ol_utf8_valid(const unsigned char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    /* ASCII fast path, eight bytes at a time */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    if (p[i] < 0x80) { i++; continue; }
    int k = utf8_seq(p + i, n - i);
    if (k < 0) return 0;
    i += (size_t)k;
  }
  return 1;
}

int ol_utf8_repair(const unsigned char* p, size_t n, ol_buf* out) {
  static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
  size_t i = 0, start = 0;
  while (i < n) {
    if (p[i] < 0x80) { i++; continue; }
    int k = utf8_seq(p + i, n - i);
    if (k > 0) { i += (size_t)k; continue; }
    if (ol_buf_put(out, p + start, (int64_t)(i - start)) || ol_buf_put(out, fffd, 3)) return OL_ENOMEM;
    i += (size_t)(-k);
    start = i;
  }
  return ol_buf_put(out, p + start, (int64_t)(n - start));
}

static int put_utf8(ol_buf* out, uint32_t cp) {
  char b[4];
  int n;
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) { b[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { b[0] = (char)(0xC0 | (cp >> 6)); b[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | (cp >> 12)); b[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    b[0] = (char)(0xF0 | (cp >> 18)); b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  return ol_buf_put(out, b, n);
}

static uint32_t hexval(const char* s, int k) {
  uint32_t v = 0;
  for (int j = 0; j < k; j++) {
    int c = (unsigned char)s[j];
    v = v * 16 + (uint32_t)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

static int all_hex(const char* s, size_t n, size_t i, int k) {
  if (i + (size_t)k > n) return 0;
  for (int j = 0; j < k; j++)
    if (!is_hex((unsigned char)s[i + j])) return 0;
  return 1;
}

size_t ol_go_unquote(const char* s, size_t n, size_t i, ol_buf* out, int* terminated) {
  i++;
  size_t run = i;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      ol_buf_put(out, s + run, (int64_t)(i - run));
      *terminated = 1;
      return i + 1;
    }
    if (c == '\\' && i + 1 < n) {
      ol_buf_put(out, s + run, (int64_t)(i - run));
      char e = s[i + 1];
      char simple = 0;
      switch (e) {
        case 'n': simple = '\n'; break;
        case 't': simple = '\t'; break;
        case 'r': simple = '\r'; break;
        case '\\': simple = '\\'; break;
        case '"': simple = '"'; break;
        case '\'': simple = '\''; break;
        case 'a': simple = '\a'; break;
        case 'b': simple = '\b'; break;
        case 'f': simple = '\f'; break;
        case 'v': simple = '\v'; break;
      }
      if (simple) {
        ol_buf_putc(out, simple);
        i += 2;
      } else if ((e == 'x' || e == 'u' || e == 'U') && all_hex(s, n, i + 2, e == 'x' ? 2 : e == 'u' ? 4 : 8)) {
        int k = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = hexval(s + i + 2, k);
        if (e == 'x') ol_buf_putc(out, (char)v);
        else put_utf8(out, v);
        i += 2 + (size_t)k;
      } else if (e >= '0' && e <= '7' && i + 4 <= n && s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
                 s[i + 3] <= '7' && ((e - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')) < 256) {
        ol_buf_putc(out, (char)((e - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
        i += 4;
      } else {
        ol_buf_putc(out, '\\');
        i += 1;
      }
      run = i;
      continue;
    }
    i++;
  }
  ol_buf_put(out, s + run, (int64_t)(i - run));
  *terminated = 0;
  return i;
}

/* ---- civil time ------------------------------------------------------------------------------ */

int64_t ol_days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = floordiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void ol_civil_from_days(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  int64_t era = floordiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yy + (*m <= 2);
}

int ol_days_in_month(int64_t y, int mo) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) return 29;
  return days[mo - 1];
}

/* a date that exists (no Feb 31) and a time of day (a leap second allowed) */
int ol_valid_civil(int y, int mo, int d, int h, int mi, int s) {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= ol_days_in_month(y, mo) && h < 24 && mi < 60 && s < 61;
}

int64_t ol_civil_us(int y, int mo, int d, int h, int mi, int s, int64_t frac_us) {
  return (ol_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * US + frac_us;
}

int64_t ol_frac_us(const char* p, size_t n) {
  int64_t v = 0;
  for (size_t i = 0; i < 6; i++) v = v * 10 + (i < n ? p[i] - '0' : 0);
  return v;
}

int64_t ol_round_offset(int64_t seconds) {
  int64_t q = (int64_t)nearbyint((double)seconds / 900.0) * 900;
  while (q > 14 * 3600) q -= 86400;
  while (q < -12 * 3600) q += 86400;
  return q;
}

int64_t ol_journal_date_us(int64_t ref_local_us, int day, int64_t sod_us) {
  int64_t ref_day = floordiv(ref_local_us, DAY_US);
  int64_t ry, rm, rd;
  ol_civil_from_days(ref_day, &ry, &rm, &rd);
  int found = 0;
  int64_t best_dist = 0, best = 0;
  for (int dm = -1; dm <= 1; dm++) {
    int64_t y = ry, m = rm + dm;
    if (m == 0) { y -= 1; m = 12; }
    else if (m == 13) { y += 1; m = 1; }
    int64_t dd = ol_days_from_civil(y, m, day);
    int64_t cy, cm, cd;
    ol_civil_from_days(dd, &cy, &cm, &cd);
    if (cd != day) continue;
    int64_t dist = dd > ref_day ? dd - ref_day : ref_day - dd;
    if (!found || dist < best_dist) { found = 1; best_dist = dist; best = dd; }
  }
  return (found ? best : ref_day) * DAY_US + sod_us;
}

/* days since the epoch of a date that exists; 0 (and *ok = 0) for Feb 30 or Feb 29 of a common year */
static int64_t date_days(int64_t y, int64_t m, int64_t d, int* ok) {
  int64_t dd = ol_days_from_civil(y, m, d), cy, cm, cd;
  ol_civil_from_days(dd, &cy, &cm, &cd);
  *ok = cy == y && cm == m && cd == d;
  return dd;
}

int64_t ol_journal_month_date_us(int64_t ref_local_us, int month, int day, int64_t sod_us) {
  int64_t ref_day = floordiv(ref_local_us, DAY_US);
  int64_t ry, rm, rd;
  ol_civil_from_days(ref_day, &ry, &rm, &rd);
  int found = 0;
  int64_t best_dist = 0, best = 0;
  for (int64_t y = ry - 1; y <= ry + 1; y++) {
    int ok;
    int64_t dd = date_days(y, month, day, &ok);
    if (!ok) continue;
    int64_t dist = dd > ref_day ? dd - ref_day : ref_day - dd;
    if (!found || dist < best_dist) { found = 1; best_dist = dist; best = dd; }
  }
  if (!found) return ol_journal_date_us(ref_local_us, day, sod_us);
  return best * DAY_US + sod_us;
}

int ol_journal_hint_date_us(int month, int day, int64_t sod_us, int year, int64_t mtime_local_us, int has_mtime,
                            int64_t* out) {
  int ok;
  if (year) {
    int64_t dd = date_days(year, month, day, &ok);
    if (!ok) return 0;
    *out = dd * DAY_US + sod_us;
    return 1;
  }
  if (!has_mtime) return 0;
  int64_t limit = floordiv(mtime_local_us, DAY_US) + 1, y, m, d;
  ol_civil_from_days(limit, &y, &m, &d);
  for (int64_t yy = y; yy > y - 8; yy--) {
    int64_t dd = date_days(yy, month, day, &ok);
    if (ok && dd <= limit) {
      *out = dd * DAY_US + sod_us;
      return 1;
    }
  }
  return 0;
}

/* ---- numbers ----------------------------------------------------------------------------------- */

int ol_duration_ms(const char* s, size_t n, double* out) {
  while (n && is_ws((unsigned char)s[0])) { s++; n--; }
  while (n && is_ws((unsigned char)s[n - 1])) n--;
  if (!n) return 0;
  double total = 0;
  size_t i = 0;
  char num[64];
  while (i < n) {
    size_t j = i;
    while (j < n && is_digit((unsigned char)s[j])) j++;
    if (j == i) return 0;
    if (j + 1 < n && s[j] == '.' && is_digit((unsigned char)s[j + 1])) {
      j++;
      while (j < n && is_digit((unsigned char)s[j])) j++;
    }
    if (j - i >= sizeof(num)) return 0;
    double v;
    /* exact fast path: at most 15 significant digits over a power of ten <= 1e22 is one
     * correctly rounded division, the same double strtod (and Python's float()) gives */
    uint64_t m = 0;
    int digits = 0, frac = 0, seen_dot = 0;
    for (size_t q = i; q < j; q++) {
      if (s[q] == '.') { seen_dot = 1; continue; }
      m = m * 10 + (uint64_t)(s[q] - '0');
      digits++;
      frac += seen_dot;
    }
    if (digits <= 15 && frac <= 22) {
      static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
      v = (double)m / p10[frac];
    } else {
      memcpy(num, s + i, j - i);
      num[j - i] = 0;
      v = strtod(num, NULL);
    }
    /* units in the reference's alternation order: ns us µs μs ms s m h */
    const char* u = s + j;
    size_t left = n - j;
    double f;
    size_t ul;
    if (left >= 2 && u[0] == 'n' && u[1] == 's') { f = 1e-6; ul = 2; }
    else if (left >= 2 && u[0] == 'u' && u[1] == 's') { f = 1e-3; ul = 2; }
    else if (left >= 3 && (unsigned char)u[0] == 0xC2 && (unsigned char)u[1] == 0xB5 && u[2] == 's') { f = 1e-3; ul = 3; }
    else if (left >= 3 && (unsigned char)u[0] == 0xCE && (unsigned char)u[1] == 0xBC && u[2] == 's') { f = 1e-3; ul = 3; }
    else if (left >= 2 && u[0] == 'm' && u[1] == 's') { f = 1.0; ul = 2; }
    else if (left >= 1 && u[0] == 's') { f = 1e3; ul = 1; }
    else if (left >= 1 && u[0] == 'm') { f = 6e4; ul = 1; }
    else if (left >= 1 && u[0] == 'h') { f = 3.6e6; ul = 1; }
    else return 0;
    total += v * f;
    i = j + ul;
  }
  *out = total;
  return 1;
}

/* ---- JSON -------------------------------------------------------------------------------------- */

static size_t json_ws(const char* s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
  return i;
}

/* unescape the string at s[i] == '"' into arena; returns index after, or 0 on error */
static size_t json_string(const char* s, size_t n, size_t i, ol_buf* a) {
  i++;
  size_t run = i;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      ol_buf_put(a, s + run, (int64_t)(i - run));
      return i + 1;
    }
    if (c == '\\') {
      ol_buf_put(a, s + run, (int64_t)(i - run));
      if (i + 1 >= n) return 0;
      char e = s[i + 1];
      if (e == '"' || e == '\\' || e == '/') { ol_buf_putc(a, e); i += 2; }
      else if (e == 'b') { ol_buf_putc(a, '\b'); i += 2; }
      else if (e == 'f') { ol_buf_putc(a, '\f'); i += 2; }
      else if (e == 'n') { ol_buf_putc(a, '\n'); i += 2; }
      else if (e == 'r') { ol_buf_putc(a, '\r'); i += 2; }
      else if (e == 't') { ol_buf_putc(a, '\t'); i += 2; }
      else if (e == 'u' && all_hex(s, n, i + 2, 4)) {
        uint32_t cp = hexval(s + i + 2, 4);
        i += 6;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < n && s[i] == '\\' && s[i + 1] == 'u' && all_hex(s, n, i + 2, 4)) {
          uint32_t lo = hexval(s + i + 2, 4);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        put_utf8(a, cp);
      } else return 0;
      run = i;
      continue;
    }
    i++;
  }
  return 0;
}

static size_t json_skip(const char* s, size_t n, size_t i) {
  if (i < n && (s[i] == '[' || s[i] == '{')) {
    int depth = 0, in_str = 0;
    while (i < n) {
      char c = s[i];
      if (in_str) {
        if (c == '\\') i++;
        else if (c == '"') in_str = 0;
      } else if (c == '"') in_str = 1;
      else if (c == '[' || c == '{') depth++;
      else if (c == ']' || c == '}') {
        if (--depth == 0) return i + 1;
      }
      i++;
    }
    return 0;
  }
  size_t j = i;
  while (j < n && s[j] != ',' && s[j] != '}' && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n') j++;
  return j;
}

int ol_json_object(const char* s, size_t n, ol_jfield* f, int max, ol_buf* a) {
  size_t i = json_ws(s, n, 0);
  if (i >= n || s[i] != '{') return -1;
  i = json_ws(s, n, i + 1);
  int count = 0;
  if (i < n && s[i] == '}') return json_ws(s, n, i + 1) == n ? 0 : -1;
  for (;;) {
    if (i >= n || s[i] != '"') return -1;
    if (count >= max) return -1;
    ol_jfield* fl = &f[count];
    fl->koff = a->len;
    size_t j = json_string(s, n, i, a);
    if (!j) return -1;
    fl->klen = a->len - fl->koff;
    i = json_ws(s, n, j);
    if (i >= n || s[i] != ':') return -1;
    i = json_ws(s, n, i + 1);
    fl->voff = a->len;
    if (i < n && s[i] == '"') {
      j = json_string(s, n, i, a);
      if (!j) return -1;
      fl->is_str = 1;
    } else {
      j = json_skip(s, n, i);
      if (!j || j == i) return -1;
      ol_buf_put(a, s + i, (int64_t)(j - i));
      fl->is_str = 0;
    }
    fl->vlen = a->len - fl->voff;
    count++;
    i = json_ws(s, n, j);
    if (i < n && s[i] == ',') {
      i = json_ws(s, n, i + 1);
      continue;
    }
    if (i < n && s[i] == '}') return json_ws(s, n, i + 1) == n ? count : -1;
    return -1;
  }
}
