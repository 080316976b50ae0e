/* ollalog-scan: run the C engine alone over files (no Python), for profiling and timing.
 *
 *   ollalog-scan [-f FORMATS_DIR] [-c CHUNK] [-q] FILE...
 *
 * Feeds each file in CHUNK-byte pieces (default 4 MiB), exports and frees every batch as a
 * reader would, and prints each file's line accounting and the wall and CPU time. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats.h"
#include "ollalog.h"

static int fail(const char* what, const ol_error* err) {
  fprintf(stderr, "ollalog-scan: %s: %s\n", what, err->message);
  return 1;
}

static double now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void drain(ol_engine* e) {
  for (int t = 0; t < 2; t++) {
    if (!ol_engine_rows(e, t)) continue;
    struct ArrowArray a;
    ol_error err;
    if (ol_engine_export(e, t, &a, &err) != OL_OK) { fail("export", &err); exit(1); }
    a.release(&a);
  }
}

int main(int argc, char** argv) {
  const char* formats = "src/ollalog/formats";
  size_t chunk = 4 << 20;
  int quiet = 0, i = 1;
  ol_options opt = {0};
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "-f") && i + 1 < argc) formats = argv[++i];
    else if (!strcmp(argv[i], "-c") && i + 1 < argc) chunk = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "-q")) quiet = 1;
    else { fprintf(stderr, "usage: ollalog-scan [-f FORMATS_DIR] [-c CHUNK] [-q] FILE...\n"); return 2; }
  }
  ol_engine* e;
  ol_error err;
  if (ol_engine_new(&e, &opt, &err) != OL_OK) return fail("new", &err);
  if (load_formats(e, formats, &err)) return 1;
  char* buf = malloc(chunk ? chunk : 1);
  double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
  int64_t total = 0;
  for (; i < argc; i++) {
    FILE* f = fopen(argv[i], "rb");
    if (!f) { fprintf(stderr, "ollalog-scan: cannot open %s\n", argv[i]); return 1; }
    if (ol_engine_begin_file(e, argv[i], strlen(argv[i]), NULL, 0, 0, &err) != OL_OK) return fail("begin_file", &err);
    size_t k;
    while ((k = fread(buf, 1, chunk, f)) > 0) {
      if (ol_engine_feed(e, buf, k, &err) != OL_OK) return fail(argv[i], &err);
      if (ol_engine_batch_ready(e)) drain(e);
    }
    fclose(f);
    ol_file_stats st;
    if (ol_engine_end_file(e, &st, &err) != OL_OK) return fail(argv[i], &err);
    drain(e);
    total += st.bytes;
    if (!quiet)
      printf("%s: %lld bytes, %lld lines: %lld parsed, %lld unknown, %lld malformed; %lld slog, %lld gin\n", argv[i],
             (long long)st.bytes, (long long)st.physical, (long long)st.parsed, (long long)st.unknown,
             (long long)st.malformed, (long long)st.slog, (long long)st.gin);
  }
  double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
  printf("%.1f MB in %.3f s wall, %.3f s CPU: %.0f MB/s wall, %.0f MB/s per CPU second\n", total / 1e6, wall, cpu,
         total / 1e6 / wall, total / 1e6 / cpu);
  free(buf);
  ol_engine_free(e);
  return 0;
}
