/* llama.cpp / ggml / llama-server output: `function: message` lines, their key = value dumps,
 * the llama.cpp server's text logs, native error lines. */
#include "../engine.h"

/* ---- grammars ---------------------------------------------------------------------------------- */

void native_rec(ol_engine* e, rec_t* r, const char* src, size_t srcn, int has_src, const char* m, size_t mn) {
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

int extsrv_line(ol_engine* e, rec_t* r, const char* p, size_t n) {
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

int is_native_err(const char* p, size_t n) {
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
