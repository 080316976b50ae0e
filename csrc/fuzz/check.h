/* Checks of the C core through its public API (ollalog.h) only: a validator of every Arrow batch
 * the engine exports, and a driver that reads bytes as one or two files in any chunking and
 * returns a digest of everything the engine produced (rows, line accounting, unknown lines), so
 * that two readings of the same bytes can be compared.
 *
 * Used by the libFuzzer target (fuzz_engine.c) and the C tests (c_tests.c); knows nothing of the
 * engine's internals, so it checks any engine that keeps the header's contract. Every failure
 * prints one line saying what is wrong and aborts (a fuzzer then keeps the input).
 */
#ifndef OLLALOG_FUZZ_CHECK_H
#define OLLALOG_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ollalog.h"

/* The message catalogue and month names, read from the project's TSV files (formats/). */
typedef struct {
  char **event, **text;
  int *scope, *match;
  int n_rules;
  char** month_name;
  int* month;
  int n_months;
} ck_formats;

/* dir: the folder of messages.tsv and months.tsv; NULL: $OLLALOG_FORMATS, else the build's default.
 * Returns 0, or -1 with a message on stderr. */
int ck_load_formats(ck_formats* f, const char* dir);

/* How to read the bytes. */
typedef struct {
  int64_t batch_rows, max_line; /* 0: the engine's defaults */
  int keep_unknown;
  int two_files;                /* the bytes after `split` are a second read of the file, resumed */
  size_t split;
  const char* host;             /* default host, or NULL */
  int force_host;
  int year;                     /* ol_engine_date_hint */
  int64_t mtime_us;
  int has_mtime;
  int odd_resume;               /* resume from a position whose time context is changed (ck_odd_*) */
  int64_t odd_tz, odd_ref;
  int export_anywhere;          /* also call export() when batch_ready() says no (must refuse or work) */
  /* chunking: sizes drawn from a xorshift stream seeded with `seed`, 1..max_chunk; 0: one feed */
  uint32_t seed;
  size_t max_chunk;
} ck_config;

/* What a reading produced: digests of the rows of each table (batch boundaries do not count), of
 * the unknown lines, and of each file's line accounting. */
typedef struct {
  uint64_t rows[2], unknown, stats;
  int64_t n_rows[2], n_unknown, batches;
} ck_result;

/* Read `data` as the config says, validating every batch and every file's line accounting;
 * aborts on the first violation. ck_run makes an engine for it (with the config's options and
 * these formats); ck_read reads with an engine made by ck_engine, which may have read before
 * (files are independent: the same bytes must read the same). */
void ck_run(const ck_formats* f, const uint8_t* data, size_t n, const ck_config* cfg, ck_result* out);
ol_engine* ck_engine(const ck_formats* f, const ck_config* cfg);
void ck_read(ol_engine* e, const uint8_t* data, size_t n, const ck_config* cfg, ck_result* out);

/* The formats one input can use, for speed (an engine made with fewer rules and months is much
 * quicker to make under ASan): the rules and month names whose text occurs in `data`, the first
 * rule of each scope and match, and the English month names. Points into `all`; valid until the
 * next call. */
void ck_formats_for(const ck_formats* all, const uint8_t* data, size_t n, ck_formats* sub);

/* Abort with "ollalog check: <what>" when two readings differ (label names the second). */
void ck_same(const ck_result* a, const ck_result* b, const char* label);

/* Validate one exported table batch against the engine's dictionaries: Arrow's layout rules
 * (lengths, offsets monotonic and in bounds, validity bitmaps and null counts, UTF-8 strings, map
 * keys not null, dictionary indices in range; every buffer byte the layout names is read, so a
 * short buffer is a sanitizer report), and what the rows may hold: line numbers in
 * [min_line, max_line], byte offsets in [min_offset, max_offset]. Returns the number of rows. */
int64_t ck_validate_batch(const ol_engine* e, int table, const struct ArrowArray* a, int64_t min_line,
                          int64_t max_line, int64_t min_offset, int64_t max_offset);

/* 1 if p[0..n) is valid UTF-8 (independent of the engine's own check). */
int ck_utf8_valid(const uint8_t* p, size_t n);

/* print "ollalog check: ..." and abort() */
void ck_fail(const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((noreturn, format(printf, 1, 2)))
#endif
    ;

#endif
