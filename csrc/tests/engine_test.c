/* C tests of the core over its public API (ollalog.h), no Python:
 *
 *   engine_test FORMATS_DIR [SAMPLE_LOGS_DIR]
 *
 * Each check prints one line on failure; the exit status is the number of failures. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/formats.h"
#include "ollalog.h"

static int failures;
static const char* formats_dir;

#define CHECK(cond, ...)                                 \
  do {                                                   \
    if (!(cond)) {                                       \
      failures++;                                        \
      fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);    \
      fprintf(stderr, __VA_ARGS__);                      \
      fputc('\n', stderr);                               \
    }                                                    \
  } while (0)

static ol_engine* engine(int64_t batch_rows) {
  ol_engine* e;
  ol_error err;
  ol_options opt = {0};
  opt.batch_rows = batch_rows;
  if (ol_engine_new(&e, &opt, &err) != OL_OK || load_formats(e, formats_dir, &err)) {
    fprintf(stderr, "cannot make an engine: %s\n", err.message);
    exit(1);
  }
  return e;
}

typedef struct {
  int64_t rows[2];
  int batches;
} tally;

/* export every ready table with its schema and check the batch against it */
static void take(ol_engine* e, tally* t) {
  for (int table = 0; table < 2; table++) {
    int64_t n = ol_engine_rows(e, table);
    if (!n) continue;
    struct ArrowArray a;
    struct ArrowSchema s;
    ol_error err;
    int rc = ol_engine_export_batch(e, table, &a, &s, &err);
    CHECK(rc == OL_OK, "export_batch: %s", err.message);
    if (rc != OL_OK) continue;
    int ncols = 0;
    const char* const* names = ol_column_names(table, &ncols);
    CHECK(!strcmp(s.format, "+s") && s.n_children == ncols, "schema: %s with %lld children", s.format,
          (long long)s.n_children);
    CHECK(a.length == n && a.n_children == ncols, "batch of %lld rows, %lld children", (long long)a.length,
          (long long)a.n_children);
    for (int i = 0; i < ncols && i < s.n_children && i < a.n_children; i++) {
      CHECK(!strcmp(s.children[i]->name, names[i]), "column %d is %s, want %s", i, s.children[i]->name, names[i]);
      CHECK(a.children[i]->length == n, "column %s: %lld rows of %lld", names[i], (long long)a.children[i]->length,
            (long long)n);
      CHECK((s.children[i]->dictionary != NULL) == (a.children[i]->dictionary != NULL), "column %s: dictionary",
            names[i]);
      if (a.children[i]->dictionary) {
        /* every index is inside the batch's own dictionary */
        const int32_t* v = (const int32_t*)a.children[i]->buffers[1];
        const uint8_t* valid = (const uint8_t*)a.children[i]->buffers[0];
        int64_t size = a.children[i]->dictionary->length, bad = 0;
        for (int64_t r = 0; r < n; r++)
          if ((!valid || (valid[r >> 3] >> (r & 7)) & 1) && (v[r] < 0 || v[r] >= size)) bad++;
        CHECK(bad == 0, "column %s: %lld indices outside a dictionary of %lld", names[i], (long long)bad,
              (long long)size);
      }
    }
    t->rows[table] += n;
    t->batches++;
    a.release(&a);
    s.release(&s);
    CHECK(a.release == NULL && s.release == NULL, "release leaves release set");
  }
}

static ol_file_stats read_bytes(ol_engine* e, const char* name, const char* data, size_t n, size_t chunk, tally* t) {
  ol_error err;
  ol_file_stats st;
  memset(&st, 0, sizeof(st));
  CHECK(ol_engine_begin_file(e, name, strlen(name), NULL, 0, 0, &err) == OL_OK, "begin_file: %s", err.message);
  for (size_t i = 0; i < n; i += chunk) {
    size_t k = n - i < chunk ? n - i : chunk;
    CHECK(ol_engine_feed(e, data + i, k, &err) == OL_OK, "feed: %s", err.message);
    if (ol_engine_batch_ready(e)) take(e, t);
  }
  CHECK(ol_engine_end_file(e, &st, &err) == OL_OK, "end_file: %s", err.message);
  take(e, t);
  return st;
}

static int same_stats(const ol_file_stats* a, const ol_file_stats* b) {
  return a->bytes == b->bytes && a->physical == b->physical && a->parsed == b->parsed && a->unknown == b->unknown &&
         a->malformed == b->malformed && a->continued == b->continued && a->gin == b->gin && a->slog == b->slog &&
         a->llama == b->llama && a->first_time == b->first_time && a->last_time == b->last_time;
}

static const char LOG[] =
    "time=2025-02-01T10:00:00.100+01:00 level=INFO source=routes.go:1238 msg=\"Listening on [::]:11434 (version 0.5.7)\"\n"
    "[GIN] 2025/02/01 - 10:00:05 | 200 |     546.252\xc2\xb5s |       127.0.0.1 | GET      \"/api/tags\"\n"
    "time=2025-02-01T10:00:06.000+01:00 level=INFO source=server.go:104 msg=\"system memory\" total=\"62.7 GiB\"\n"
    "  free=\"58.1 GiB\"\n"
    "llm_load_tensors: offloaded 0/65 layers to GPU\n"
    "\n"
    "not a log line\n"
    "[GIN] 2025/02/01 - 10:00:30 | 200 |         24.5s |       127.0.0.1 | POST     \"/api/generate\"";

static void test_chunking(void) {
  tally whole = {{0, 0}, 0}, bytes = {{0, 0}, 0};
  ol_engine* e = engine(0);
  ol_file_stats a = read_bytes(e, "a.log", LOG, sizeof(LOG) - 1, sizeof(LOG), &whole);
  ol_file_stats b = read_bytes(e, "b.log", LOG, sizeof(LOG) - 1, 1, &bytes);
  CHECK(same_stats(&a, &b), "1-byte chunks change the line accounting");
  CHECK(a.physical == 8 && a.parsed + a.unknown + a.malformed == a.physical, "physical %lld", (long long)a.physical);
  CHECK(a.continued == 1 && a.blank == 1 && a.unknown == 2, "continued %lld blank %lld unknown %lld",
        (long long)a.continued, (long long)a.blank, (long long)a.unknown);
  CHECK(a.gin == 2 && a.slog == 2 && a.llama == 1, "gin %lld slog %lld llama %lld", (long long)a.gin,
        (long long)a.slog, (long long)a.llama);
  CHECK(whole.rows[0] == 3 && whole.rows[1] == 2, "rows %lld/%lld", (long long)whole.rows[0], (long long)whole.rows[1]);
  CHECK(whole.rows[0] == bytes.rows[0] && whole.rows[1] == bytes.rows[1], "rows differ by chunking");
  ol_engine_free(e);
}

static void test_small_batches(void) {
  tally t = {{0, 0}, 0};
  ol_engine* e = engine(1);
  read_bytes(e, "a.log", LOG, sizeof(LOG) - 1, 7, &t);
  CHECK(t.rows[0] == 3 && t.rows[1] == 2 && t.batches >= 3, "rows %lld/%lld in %d batches", (long long)t.rows[0],
        (long long)t.rows[1], t.batches);
  ol_engine_free(e);
}

static void test_export_refused_while_pending(void) {
  /* a [GIN] line has no zone: its time waits for the file's first slog line */
  static const char gin[] = "[GIN] 2025/02/01 - 10:00:05 | 200 |  1.5ms |  127.0.0.1 | GET  \"/\"\n";
  ol_engine* e = engine(1);
  ol_error err;
  struct ArrowArray a;
  struct ArrowSchema s;
  ol_engine_begin_file(e, "p.log", 5, NULL, 0, 0, &err);
  ol_engine_feed(e, gin, sizeof(gin) - 1, &err);
  CHECK(ol_engine_rows(e, OL_TABLE_REQUESTS) == 1 && !ol_engine_batch_ready(e), "a pending row makes no batch");
  CHECK(ol_engine_export(e, OL_TABLE_REQUESTS, &a, &err) == OL_EINVAL, "export while a row is pending");
  CHECK(ol_engine_export_batch(e, OL_TABLE_REQUESTS, &a, &s, &err) == OL_EINVAL, "export_batch while pending");
  ol_file_stats st;
  CHECK(ol_engine_end_file(e, &st, &err) == OL_OK && st.tz_assumed, "end_file settles it as UTC");
  CHECK(ol_engine_export_batch(e, OL_TABLE_REQUESTS, &a, &s, &err) == OL_OK, "export after end_file: %s", err.message);
  const int64_t* t = (const int64_t*)a.children[4]->buffers[1];
  CHECK(a.children[4]->null_count == 0 && t[0] == 1738404005000000LL, "time %lld", (long long)t[0]);
  a.release(&a);
  s.release(&s);
  ol_engine_free(e);
}

static void test_impossible_dates(void) {
  static const char log[] =
      "time=2025-02-31T10:00:00.000+01:00 level=INFO source=a.go:1 msg=\"no such day\"\n"
      "time=2024-02-29T10:00:00.000+01:00 level=INFO source=a.go:1 msg=\"leap day\"\n"
      "[GIN] 2025/04/31 - 10:00:05 | 200 |  1.5ms |  127.0.0.1 | GET  \"/\"\n";
  tally t = {{0, 0}, 0};
  ol_engine* e = engine(0);
  ol_file_stats st = read_bytes(e, "d.log", log, sizeof(log) - 1, 4096, &t);
  CHECK(st.malformed == 2 && st.parsed == 1, "Feb 31 and Apr 31 malformed, Feb 29 2024 parsed: %lld/%lld",
        (long long)st.malformed, (long long)st.parsed);
  ol_engine_free(e);
}

static void test_per_batch_dictionaries(void) {
  /* the 3rd file's batch names one file, not three */
  ol_engine* e = engine(0);
  ol_error err;
  ol_file_stats st;
  static const char line[] = "time=2025-02-01T10:00:00.100+01:00 level=INFO source=a.go:1 msg=x\n";
  const char* names[] = {"one.log", "two.log", "three.log"};
  for (int f = 0; f < 3; f++) {
    ol_engine_begin_file(e, names[f], strlen(names[f]), "h", 1, 0, &err);
    ol_engine_feed(e, line, sizeof(line) - 1, &err);
    ol_engine_end_file(e, &st, &err);
    struct ArrowArray a;
    struct ArrowSchema s;
    CHECK(ol_engine_export_batch(e, OL_TABLE_EVENTS, &a, &s, &err) == OL_OK, "export: %s", err.message);
    struct ArrowArray* d = a.children[0]->dictionary;
    const int32_t* off = (const int32_t*)d->buffers[1];
    CHECK(d->length == 1 && (size_t)(off[1] - off[0]) == strlen(names[f]) &&
              !memcmp((const char*)d->buffers[2] + off[0], names[f], strlen(names[f])),
          "file %d: dictionary of %lld names", f, (long long)d->length);
    a.release(&a);
    s.release(&s);
  }
  CHECK(ol_engine_dict_size(e, OL_DICT_FILE) == 3, "the engine-wide dictionary keeps every file");
  ol_engine_free(e);
}

static void test_sample_logs(const char* dir) {
  DIR* d = opendir(dir);
  CHECK(d != NULL, "cannot open %s", dir);
  if (!d) return;
  struct dirent* ent;
  int files = 0;
  while ((ent = readdir(d))) {
    size_t n = strlen(ent->d_name);
    if (n < 5 || strcmp(ent->d_name + n - 4, ".log")) continue;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
    size_t len;
    char* data = slurp(path, &len);
    CHECK(data != NULL, "cannot read %s", path);
    if (!data) continue;
    tally whole = {{0, 0}, 0}, small = {{0, 0}, 0};
    ol_engine* e = engine(0);
    ol_engine* f = engine(3);
    ol_file_stats a = read_bytes(e, path, data, len, len + 1, &whole);
    ol_file_stats b = read_bytes(f, path, data, len, 7, &small);
    CHECK(a.physical == a.parsed + a.unknown + a.malformed, "%s: lines do not add up", path);
    CHECK(a.malformed == 0, "%s: %lld malformed", path, (long long)a.malformed);
    CHECK(same_stats(&a, &b), "%s: 7-byte chunks and 3-row batches change the accounting", path);
    CHECK(whole.rows[0] == small.rows[0] && whole.rows[1] == small.rows[1], "%s: rows differ", path);
    ol_engine_free(e);
    ol_engine_free(f);
    free(data);
    files++;
  }
  closedir(d);
  CHECK(files > 0, "no .log files in %s", dir);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: engine_test FORMATS_DIR [SAMPLE_LOGS_DIR]\n");
    return 2;
  }
  formats_dir = argv[1];
  test_chunking();
  test_small_batches();
  test_export_refused_while_pending();
  test_impossible_dates();
  test_per_batch_dictionaries();
  if (argc > 2) test_sample_logs(argv[2]);
  if (failures) fprintf(stderr, "%d failures\n", failures);
  else printf("engine_test: all passed\n");
  return failures ? 1 : 0;
}
