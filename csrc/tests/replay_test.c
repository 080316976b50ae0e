/* C tests of the core through its public API with the batch validator of csrc/fuzz/check.c,
 * meant to run under ASan + UBSan as well (cmake -DOLLALOG_SANITIZE=ON); engine_test.c holds
 * the cases with their expected values:
 *
 *   replay_test [--log PATH]... [--input PATH]...
 *
 * --log    a log file, or a folder of them (*.log): each is read in one piece and in many
 *          chunkings, batch sizes and line limits, as one file and as two reads of it (resumed);
 *          every batch is validated and every reading must equal the one-piece reading.
 * --input  a fuzz input (header + bytes, see fuzz_engine.c), or a folder of them: each is run
 *          through the fuzz target (the regression inputs of csrc/fuzz/regressions/).
 * Then the line accounting case below. Prints one line per failure (and aborts), else "ok: ...".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerInitialize(int* argc, char*** argv);

static ck_formats F;
static long readings, files, inputs, cases;

static uint8_t* slurp(const char* path, size_t* n) {
  FILE* fh = fopen(path, "rb");
  if (!fh) ck_fail("cannot open %s", path);
  fseek(fh, 0, SEEK_END);
  long len = ftell(fh);
  fseek(fh, 0, SEEK_SET);
  uint8_t* p = (uint8_t*)malloc(len > 0 ? (size_t)len : 1);
  if (len > 0 && fread(p, 1, (size_t)len, fh) != (size_t)len) ck_fail("cannot read %s", path);
  fclose(fh);
  *n = len > 0 ? (size_t)len : 0;
  return p;
}

static void run(const uint8_t* d, size_t n, const ck_config* c, ck_result* r) {
  ck_run(&F, d, n, c, r);
  readings++;
}

/* one log in every way of reading it: each must give what the one-piece reading gives */
static void check_log(const char* path) {
  size_t n;
  uint8_t* d = slurp(path, &n);
  char label[512];
  for (int variant = 0; variant < 4; variant++) {
    ck_config base;
    memset(&base, 0, sizeof(base));
    base.keep_unknown = variant & 1;
    base.max_line = (variant & 2) ? 100 : 0;
    ck_result want, got;
    run(d, n, &base, &want);
    static const size_t chunks[] = {1, 7, 4096, 65536};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
      if (chunks[k] == 1 && n > (256 << 10)) continue;
      ck_config c = base;
      c.max_chunk = chunks[k];
      c.seed = 0x1234u + (uint32_t)k;
      c.batch_rows = (int64_t)k * 3 + 1;
      c.export_anywhere = k & 1;
      run(d, n, &c, &got);
      snprintf(label, sizeof(label), "%s: chunks of 1..%zu, batch_rows %lld, keep_unknown %d, max_line %lld", path,
               chunks[k], (long long)c.batch_rows, c.keep_unknown, (long long)c.max_line);
      ck_same(&want, &got, label);
    }
    /* the file read in two parts, the second resumed: the same split in one piece and chunked */
    ck_config two = base;
    two.two_files = 1;
    two.split = n / 2;
    run(d, n, &two, &want);
    two.max_chunk = 333;
    two.batch_rows = 2;
    run(d, n, &two, &got);
    snprintf(label, sizeof(label), "%s: two reads, chunked", path);
    ck_same(&want, &got, label);
  }
  free(d);
  files++;
}

static int has_suffix(const char* s, const char* suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static void each(const char* path, int logs, void (*fn)(const char*)) {
  struct stat st;
  if (stat(path, &st) != 0) ck_fail("%s: no such file or directory", path);
  if (!S_ISDIR(st.st_mode)) {
    fn(path);
    return;
  }
  DIR* dir = opendir(path);
  if (!dir) ck_fail("%s: cannot list", path);
  char** names = NULL;
  size_t nn = 0;
  struct dirent* de;
  while ((de = readdir(dir))) {
    if (de->d_name[0] == '.') continue;
    if (logs && !has_suffix(de->d_name, ".log")) continue;
    names = (char**)realloc(names, sizeof(char*) * (nn + 1));
    size_t len = strlen(path) + strlen(de->d_name) + 2;
    names[nn] = (char*)malloc(len);
    snprintf(names[nn], len, "%s/%s", path, de->d_name);
    nn++;
  }
  closedir(dir);
  for (size_t i = 0; i < nn; i++) {
    struct stat s2;
    if (stat(names[i], &s2) == 0 && S_ISREG(s2.st_mode)) fn(names[i]);
    free(names[i]);
  }
  free(names);
}

static void run_input(const char* path) {
  size_t n;
  uint8_t* d = slurp(path, &n);
  LLVMFuzzerTestOneInput(d, n);
  free(d);
  inputs++;
}

/* ---- cases with their expected values ----------------------------------------------------------- */

static ol_engine* engine(int64_t batch_rows) {
  ol_error err;
  ol_options opt = {batch_rows, 0, 0};
  ol_engine* e = NULL;
  if (ol_engine_new(&e, &opt, &err)) ck_fail("ol_engine_new: %s", err.message);
  for (int i = 0; i < F.n_rules; i++)
    ol_engine_add_rule(e, F.event[i], strlen(F.event[i]), F.scope[i], F.match[i], F.text[i], strlen(F.text[i]), &err);
  return e;
}

static void feed_str(ol_engine* e, const char* s) {
  ol_error err;
  if (ol_engine_feed(e, s, strlen(s), &err)) ck_fail("ol_engine_feed: %s", err.message);
}

/* lines of each kind are counted once each */
static void case_accounting(void) {
  const char* text =
      "time=2025-04-27T10:00:00.000+02:00 level=INFO source=a.go:1 msg=\"inference compute\" id=0\n"
      "[GIN] 2025/04/27 - 10:00:05 | 200 |     546.252\xc2\xb5s |       127.0.0.1 | GET      \"/api/tags\"\n"
      "\n"
      "what is this\n"
      "time=2025-04-27T10:00:01Z level=INFO msg=\"cut\n"
      "bad \xff utf-8\n";
  ck_config c;
  memset(&c, 0, sizeof(c));
  ck_result r;
  ck_run(&F, (const uint8_t*)text, strlen(text), &c, &r);
  if (r.n_rows[0] != 2 || r.n_rows[1] != 1)
    ck_fail("case accounting: %lld events and %lld requests, want 2 and 1", (long long)r.n_rows[0],
            (long long)r.n_rows[1]);
  ol_engine* e = engine(0);
  ol_error err;
  ol_file_stats st;
  ol_engine_begin_file(e, "x", 1, NULL, 0, 0, &err);
  feed_str(e, text);
  ol_engine_end_file(e, &st, &err);
  if (st.physical != 6 || st.parsed != 3 || st.unknown != 3 || st.malformed != 0 || st.blank != 1 ||
      st.invalid_utf8 != 1 || st.gin != 1 || st.slog != 2)
    ck_fail("case accounting: physical %lld parsed %lld unknown %lld malformed %lld blank %lld invalid_utf8 %lld",
            (long long)st.physical, (long long)st.parsed, (long long)st.unknown, (long long)st.malformed,
            (long long)st.blank, (long long)st.invalid_utf8);
  ol_engine_free(e);
  cases++;
}

int main(int argc, char** argv) {
  if (ck_load_formats(&F, NULL)) return 2;
  LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--log") && i + 1 < argc) each(argv[++i], 1, check_log);
    else if (!strcmp(argv[i], "--input") && i + 1 < argc) each(argv[++i], 0, run_input);
    else {
      fprintf(stderr, "usage: %s [--log PATH]... [--input PATH]...\n", argv[0]);
      return 2;
    }
  }
  case_accounting();
  printf("ok: %ld logs (%ld readings), %ld fuzz inputs, %ld cases\n", files, readings, inputs, cases);
  return 0;
}
