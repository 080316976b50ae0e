/* Byte-level helpers shared by the scanner: UTF-8 repair, Go and JSON unquoting, time, numbers.
 * Each mirrors a function of src/ollalog/reference.py; the tests hold them to it. */
#ifndef OLLALOG_TEXT_H
#define OLLALOG_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "columns.h"

#define US 1000000LL
#define DAY_US (86400LL * US)

static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int is_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
static inline int is_alpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static inline int is_word(int c) { return is_alpha(c) || is_digit(c) || c == '_'; }
static inline int is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static inline int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static inline int is_lower(int c) { return c >= 'a' && c <= 'z'; }

static inline int64_t floordiv(int64_t a, int64_t b) { int64_t q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }
static inline int64_t floormod(int64_t a, int64_t b) { return a - floordiv(a, b) * b; }

/* 1 if [p, p+n) is valid UTF-8 */
int ol_utf8_valid(const unsigned char* p, size_t n);
/* append p[0..n) to out, replacing each maximal invalid subpart by U+FFFD (as CPython does) */
int ol_utf8_repair(const unsigned char* p, size_t n, ol_buf* out);

/* Go strconv unquote of s[i] == '"' into out (raw bytes; repair afterwards).
 * Returns the index after the string; *terminated tells whether the closing quote was found. */
size_t ol_go_unquote(const char* s, size_t n, size_t i, ol_buf* out, int* terminated);

int64_t ol_days_from_civil(int64_t y, int64_t m, int64_t d);
void ol_civil_from_days(int64_t z, int64_t* y, int64_t* m, int64_t* d);
int ol_days_in_month(int64_t y, int mo);
int ol_valid_civil(int y, int mo, int d, int h, int mi, int s);
int64_t ol_civil_us(int y, int mo, int d, int h, int mi, int s, int64_t frac_us);
int64_t ol_frac_us(const char* p, size_t n);
int64_t ol_round_offset(int64_t seconds);
int64_t ol_journal_date_us(int64_t ref_local_us, int day, int64_t sod_us);
/* with the month known (from its name): the year nearest the reference */
int64_t ol_journal_month_date_us(int64_t ref_local_us, int month, int day, int64_t sod_us);
/* with no reference: in `year` when non-zero, else the latest date no later than the day after the
 * file's modification time; 1 and *out set, or 0 when neither is known or the date cannot exist */
int ol_journal_hint_date_us(int month, int day, int64_t sod_us, int year, int64_t mtime_local_us, int has_mtime,
                            int64_t* out);

/* read exactly k digits at s[i..]; -1 if not digits */
static inline int digits_at(const char* s, size_t n, size_t i, int k) {
  if (i + (size_t)k > n) return -1;
  int v = 0;
  for (int j = 0; j < k; j++) {
    if (!is_digit((unsigned char)s[i + j])) return -1;
    v = v * 10 + (s[i + j] - '0');
  }
  return v;
}

/* Go Duration string ("2m3.5s", "546.252µs") to milliseconds; 0 on failure. */
int ol_duration_ms(const char* s, size_t n, double* out);

/* A flat JSON object. Strings are unescaped into `arena`; other values keep their JSON text. */
typedef struct {
  int64_t koff, klen, voff, vlen;
  int is_str;
} ol_jfield;
/* returns the number of fields (up to max kept), or -1 when s is not one JSON object */
int ol_json_object(const char* s, size_t n, ol_jfield* f, int max, ol_buf* arena);

#endif
