/* libFuzzer target over the C core's public API.
 *
 * An input is a 16-byte header, then log bytes. The header chooses how the bytes are read: the
 * chunk sizes (a stream seeded from it, 1..max_chunk bytes each), the batch size, the line limit,
 * whether unknown lines are kept, whether the bytes are two reads of a file (the second resumed
 * from where the first stopped, as `ollalog ingest` does for a grown file), a default host,
 * journald date hints, and whether batches are also asked for when the engine says none is ready.
 * Every input is read twice by one engine, in one piece and in those chunks: every exported batch
 * is validated (check.c) and the two readings must give the same rows, unknown lines and line
 * accounting. The engine gets the catalogue rules and month names whose text the input holds
 * (ck_formats_for: quicker to make than with all of them; the C tests use all).
 *
 * Build: cmake -DOLLALOG_FUZZ=ON with clang (see docs/fuzzing.md). Any failure aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define HEADER 16

static ck_formats g_formats;
static int g_loaded;

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc;
  (void)argv;
  if (ck_load_formats(&g_formats, NULL)) abort();
  g_loaded = 1;
  return 0;
}

static uint32_t u32(const uint8_t* h) { return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24; }

/* the reading the header describes (see docs/fuzzing.md for the layout) */
void ol_fuzz_config(const uint8_t* h, size_t data_len, ck_config* c) {
  memset(c, 0, sizeof(*c));
  uint8_t flags = h[0];
  int extreme = (flags & 128) != 0;
  c->keep_unknown = flags & 1;
  c->two_files = (flags & 2) != 0;
  c->host = (flags & 8) ? "gpu-box-7" : NULL;
  c->force_host = (flags & 4) != 0;
  c->export_anywhere = (flags & 16) != 0;
  c->has_mtime = (flags & 32) != 0;
  c->odd_resume = (flags & 64) && c->two_files;
  c->max_line = h[1] == 0 ? 0 : h[1] < 192 ? h[1] : 256 + (int64_t)(h[1] - 192) * 1024;
  c->batch_rows = h[2] >= 192 ? 0 : h[2] < 64 ? 1 + h[2] % 4 : 1 + h[2] % 64;
  c->seed = u32(h + 3);
  c->max_chunk = (size_t)1 << (h[7] % 13);
  c->split = (size_t)(((uint64_t)(h[8] | h[9] << 8) * data_len) >> 16);
  uint32_t a = u32(h + 10), b = u32(h + 12);
  if (extreme) {
    c->year = (int)(int32_t)a;
    c->mtime_us = (int64_t)((uint64_t)a << 32 | b);
    /* at and past the documented bounds (ollalog.h), or anything */
    c->odd_tz = (b & 3) == 0 ? (int64_t)((uint64_t)b << 32 | a) : (b & 1 ? 1 : -1) * (OL_TZ_LIMIT_S - (a & 7));
    c->odd_ref = (a & 3) == 0 ? (int64_t)((uint64_t)a << 40 ^ (uint64_t)b)
                              : (a & 1 ? 1 : -1) * (OL_TIME_LIMIT_US - (int64_t)(b & 0xFFFFF));
  } else {
    c->year = (a & 1) ? 1970 + (int)((a >> 1) % 100) : 0;
    c->mtime_us = 1700000000000000LL + (int64_t)b * 1000000LL;
    c->odd_tz = (int64_t)(int32_t)b % (15 * 3600);
    c->odd_ref = 1700000000000000LL + (int64_t)a * 1000000LL;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_loaded) LLVMFuzzerInitialize(NULL, NULL);
  uint8_t h[HEADER] = {0};
  memcpy(h, data, size < HEADER ? size : HEADER);
  const uint8_t* log = size > HEADER ? data + HEADER : data + size;
  size_t n = size > HEADER ? size - HEADER : 0;
  ck_config chunked;
  ol_fuzz_config(h, n, &chunked);
  ck_config whole = chunked;
  whole.max_chunk = 0;
  whole.batch_rows = 0;
  whole.export_anywhere = 0;
  /* one engine reads both (files are independent); made with the formats this input can use */
  ck_formats sub;
  ck_formats_for(&g_formats, log, n, &sub);
  ol_engine* e = ck_engine(&sub, &chunked);
  ck_result a, b;
  ck_read(e, log, n, &whole, &a);
  ck_read(e, log, n, &chunked, &b);
  ck_same(&a, &b, "read in chunks");
  ol_engine_free(e);
  return 0;
}
