/* Go panics and stack frames, GPU probe debug output. */
#include "../engine.h"

static int hex_run(const char* s, size_t n, size_t i, size_t* end) {
  size_t k = i;
  while (k < n && (is_digit((unsigned char)s[k]) || (s[k] >= 'a' && s[k] <= 'f'))) k++;
  *end = k;
  return k > i;
}

int ext_in(const char* x, size_t n, const char* const* set) {
  for (int i = 0; set[i]; i++)
    if (strlen(set[i]) == n && !memcmp(x, set[i], n)) return 1;
  return 0;
}

/* the reference's PANIC alternation and _go_frame */
int is_panic(const char* p, size_t n, int* start) {
  *start = starts(p, n, "panic: ") || starts(p, n, "fatal error: ") || starts(p, n, "signal arrived during ");
  if (starts(p, n, "SIG")) {
    size_t k = 3;
    while (k < n && is_upper((unsigned char)p[k])) k++;
    if (k > 3 && k + 1 < n && p[k] == ':' && p[k + 1] == ' ') *start = 1;
  }
  if (*start) return 1;
  if (starts(p, n, "created by ") || starts(p, n, "PC=0x") || starts(p, n, "[Inferior ") ||
      starts(p, n, "[signal ") || starts(p, n, "[New Thread") || starts(p, n, "[Thread debugging"))
    return starts(p, n, "[Inferior ") ? (n > 10 && is_digit((unsigned char)p[10])) : 1;
  if (starts(p, n, "goroutine ")) {
    size_t k = 10;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    if (k > 10 && k + 1 < n && p[k] == ' ' && p[k + 1] == '[') return 1;
  }
  if (starts(p, n, "exit status ")) {
    size_t k = 12;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    if (k > 12 && k == n) return 1;
  }
  if (n && p[0] == '#') {
    size_t k = 1;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    size_t w = k;
    while (w < n && is_ws((unsigned char)p[w])) w++;
    size_t he;
    if (k > 1 && w > k && starts(p + w, n - w, "0x") && hex_run(p, n, w + 2, &he) && he < n && p[he] == ' ') return 1;
  }
  /* a source file line of a stack trace: [module/path/]file.go:N [+0x..] */
  size_t f0 = 0;
  while (f0 < n && (is_word((unsigned char)p[f0]) || p[f0] == '.' || p[f0] == '-')) f0++;
  if (n && f0 < n && p[f0] == '/') {
    size_t t = 0;
    while (t < n && !is_ws((unsigned char)p[t])) t++;
    int tail_ok = t == n;
    if (!tail_ok && t + 3 < n + 1 && starts(p + t, n - t, " +0x")) {
      size_t he;
      tail_ok = hex_run(p, n, t + 4, &he) && he == n;
    }
    if (tail_ok) {
      size_t colon = t;
      while (colon > 0 && p[colon - 1] != ':') colon--;
      if (colon > 0 && colon < t && all_digits(p + colon, t - colon)) {
        size_t dot = colon - 1;
        while (dot > 0 && p[dot - 1] != '.') dot--;
        static const char* const exts[] = {"go", "s", "c", "cc", "cpp", "h", "cu", NULL};
        if (dot > f0 + 2 && ext_in(p + dot, colon - 1 - dot, exts)) {
          for (size_t q = 1; q < dot - 1; q++)
            if (is_ws((unsigned char)p[q])) return 0;
          return 1;
        }
      }
    }
  }
  if (n >= 2 && p[0] == 'r') {
    size_t k = 1;
    while (k < n && (is_lower((unsigned char)p[k]) || is_digit((unsigned char)p[k])) && k < 4) k++;
    size_t w = k;
    while (w < n && is_ws((unsigned char)p[w])) w++;
    size_t he;
    if (k >= 2 && w > k && starts(p + w, n - w, "0x") && hex_run(p, n, w + 2, &he) && he == n) return 1;
  }
  /* Go frame: pkg/path.(*T).Method(...) */
  if (n && (is_alpha((unsigned char)p[0]) || p[0] == '_') && p[n - 1] == ')') {
    const char* par = (const char*)memchr(p, '(', n);
    if (par && par > p) {
      size_t k = (size_t)(par - p);
      int dot = 0;
      for (size_t q = 0; q < k; q++) {
        int c = (unsigned char)p[q];
        if (c == '.') dot = 1;
        if (!(is_word(c) || c == '.' || c == '-' || c == '/' || c == '*')) return 0;
      }
      if (dot) return 1;
    }
  }
  return 0;
}

int is_probe(const char* p, size_t n) {
  static const char* const lits[] = {"initializing /", "dlsym: ", "calling cu", "CUDA driver version",
                                     "cuda driver library", "nvml ", "releasing cuda", "releasing nvml",
                                     "releasing oneapi", NULL};
  for (int i = 0; lits[i]; i++)
    if (starts(p, n, lits[i])) return 1;
  if (starts(p, n, "device count ") && n > 13 && is_digit((unsigned char)p[13])) return 1;
  if (starts(p, n, "[GPU-")) {
    size_t k = 5;
    while (k < n && (is_hex((unsigned char)p[k]) && !is_upper((unsigned char)p[k]) ? 1 : p[k] == '-')) k++;
    if (k > 5 && k + 1 < n && p[k] == ']' && p[k + 1] == ' ') return 1;
  }
  if (n && p[0] == '[') {
    size_t k = 1;
    while (k < n && is_digit((unsigned char)p[k])) k++;
    if (k > 1 && starts(p + k, n - k, "] CUDA ")) return 1;
  }
  return 0;
}
