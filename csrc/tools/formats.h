/* The catalogue and month files of src/ollalog/formats/ loaded into an engine, for the C tools
 * and tests (the Python adapter reads them itself). Not part of the core library. */
#ifndef OLLALOG_TOOLS_FORMATS_H
#define OLLALOG_TOOLS_FORMATS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ollalog.h"

static inline char* slurp(const char* path, size_t* n) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0;
  char* p = malloc(cap);
  size_t k;
  while (p && (k = fread(p + len, 1, cap - len, f)) > 0) {
    len += k;
    if (len == cap) {
      char* q = realloc(p, cap *= 2);
      if (!q) { free(p); p = NULL; }
      else p = q;
    }
  }
  fclose(f);
  *n = len;
  return p;
}

/* TSV lines "EVENT\tSCOPE\tMATCH\tTEXT" (messages) or "MONTH\tNAME" (months); # comments */
static inline int load_tsv(ol_engine* e, const char* path, int months, ol_error* err) {
  size_t n;
  char* p = slurp(path, &n);
  if (!p) { fprintf(stderr, "cannot read %s\n", path); return 1; }
  static const char* const scopes[] = {"msg", "native"};
  static const char* const matches[] = {"exact", "prefix", "contains"};
  char* line = p;
  char* end = p + n;
  while (line < end) {
    char* nl = memchr(line, '\n', (size_t)(end - line));
    char* le = nl ? nl : end;
    if (le > line && *line != '#') {
      char* f[4];
      size_t fl[4];
      int k = 0;
      char* s = line;
      while (k < 4) {
        char* tab = k < (months ? 1 : 3) ? memchr(s, '\t', (size_t)(le - s)) : NULL;
        f[k] = s;
        fl[k] = (size_t)((tab ? tab : le) - s);
        k++;
        if (!tab) break;
        s = tab + 1;
      }
      int rc = OL_OK;
      if (months && k == 2) rc = ol_engine_add_month(e, f[1], fl[1], atoi(f[0]), err);
      else if (!months && k == 4) {
        int sc = -1, ma = -1;
        for (int i = 0; i < 2; i++) if (fl[1] == strlen(scopes[i]) && !memcmp(f[1], scopes[i], fl[1])) sc = i;
        for (int i = 0; i < 3; i++) if (fl[2] == strlen(matches[i]) && !memcmp(f[2], matches[i], fl[2])) ma = i;
        rc = ol_engine_add_rule(e, f[0], fl[0], sc, ma, f[3], fl[3], err);
      }
      if (rc != OL_OK) { free(p); { fprintf(stderr, "%s: %s\n", path, err->message); return 1; } }
    }
    line = le + 1;
  }
  free(p);
  return 0;
}

/* messages.tsv and months.tsv of `dir` */
static inline int load_formats(ol_engine* e, const char* dir, ol_error* err) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/messages.tsv", dir);
  if (load_tsv(e, path, 0, err)) return 1;
  snprintf(path, sizeof(path), "%s/months.tsv", dir);
  return load_tsv(e, path, 1, err);
}

#endif
