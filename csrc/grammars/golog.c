/* Go `log` lines (`YYYY/MM/DD hh:mm:ss file.go:N: message key=value`) and records whose prefix was
 * cut (read when the catalogue knows the message). */
#include "../engine.h"

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
int bare_record(ol_engine* e, rec_t* r, const char* p, size_t n) {
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

int golog_line(ol_engine* e, rec_t* r, const char* p, size_t n) {
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
