/* ollalog C core: Ollama server log bytes -> Arrow columns. No Python here.
 *
 * An engine reads files one after another: begin_file(), feed() any chunking of the bytes,
 * end_file(). Rows accumulate in two tables (events, requests) that are exported through the
 * Arrow C Data Interface as struct arrays whose children follow src/ollalog/schema.py, with an
 * ArrowSchema (ol_engine_export_batch) or with the dictionary columns (file, host, kind, event,
 * transport) as int32 indices into the dictionaries that ol_engine_dict_*() name
 * (ol_engine_export). Every fallible call returns OL_OK or an error code and fills a fixed-size
 * error record; the error path never allocates.
 */
#ifndef OLLALOG_H
#define OLLALOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4
struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};
struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};
#endif

/* OL_ERANGE: a size past what Arrow or the machine can hold (a batch's strings over 2 GiB). After
 * OL_ENOMEM or OL_ERANGE from feed() or end_file() the engine has failed for good: every later call
 * returns the same error (its rows may be incomplete, so none is exported). */
enum { OL_OK = 0, OL_ENOMEM = 1, OL_EINVAL = 2, OL_ERANGE = 3 };
enum { OL_TABLE_EVENTS = 0, OL_TABLE_REQUESTS = 1 };
enum { OL_SCOPE_MSG = 0, OL_SCOPE_NATIVE = 1 };
enum { OL_MATCH_EXACT = 0, OL_MATCH_PREFIX = 1, OL_MATCH_CONTAINS = 2 };

typedef struct {
  int code;
  char message[256];
} ol_error;

typedef struct {
  int64_t batch_rows; /* rows after which a feed() makes a batch ready (default 32768) */
  int64_t max_line;   /* bytes kept of one physical line; the rest is cut (default 1 MiB) */
  int keep_unknown;   /* keep the text of unknown lines for ol_engine_unknown() (default 0) */
  /* Rows nobody asked for (default 0: every row). Skipped lines are read, counted and timed as
   * before (file stats, time context); only their rows are not built. */
  int skip_requests;  /* no requests rows */
  int named_only;     /* no events rows of uncatalogued messages (event null) */
} ol_options;

typedef struct {
  int64_t bytes, physical, parsed, unknown, malformed, blank, continued, invalid_utf8, oversized;
  int64_t slog, log, gin, runner, llama, probe, panic, system, other, time_unresolved;
  int64_t first_time, last_time; /* valid when has_time */
  int has_time;
  int tz_assumed;
  int transport;  /* index into ol_transport_names(), -1 when no row was emitted */
  int64_t host;   /* index into the host dictionary, -1 when none */
} ol_file_stats;

/* Where the read of a file stopped, for a later read of the same file grown longer: lines and bytes
 * read so far and the time context they leave (zone offsets and the reference time for dates
 * without a year). */
typedef struct {
  int64_t line, offset;
  int64_t tz_server, tz_prefix, ref_us;
  int has_tz_server, has_tz_prefix, has_ref;
} ol_position;

typedef struct ol_engine ol_engine;

int ol_engine_new(ol_engine** out, const ol_options* opt, ol_error* err);
void ol_engine_free(ol_engine* e);
/* The message catalogue, one rule at a time, in file order, before the first file. */
int ol_engine_add_rule(ol_engine* e, const char* event, size_t event_len, int scope, int match,
                       const char* text, size_t text_len, ol_error* err);
int ol_engine_begin_file(ol_engine* e, const char* name, size_t name_len, const char* host,
                         size_t host_len, int force_host, ol_error* err);
/* begin_file() that goes on from `at`: line numbers and offsets continue, zone-less times keep their
 * context. OL_EINVAL for a position no read gives: negative, |tz| over OL_TZ_LIMIT_S seconds, |ref_us|,
 * line or offset over OL_TIME_LIMIT_US. */
#define OL_TZ_LIMIT_S 1000000LL
#define OL_TIME_LIMIT_US (1LL << 62)
int ol_engine_resume_file(ol_engine* e, const char* name, size_t name_len, const char* host, size_t host_len,
                          int force_host, const ol_position* at, ol_error* err);
/* The month names of journald prefixes (any locale), one at a time, before the first file. */
int ol_engine_add_month(ol_engine* e, const char* name, size_t len, int month, ol_error* err);
/* After begin_file: what dates journald prefixes when the file holds no absolute time: `year`
 * (0: none), else the file's modification time in UTC microseconds (when has_mtime). A year outside
 * 1..9999 or a time beyond +-OL_HINT_LIMIT_US (year 10000) is no hint. */
#define OL_HINT_LIMIT_US 253402300800000000LL
int ol_engine_date_hint(ol_engine* e, int year, int64_t mtime_us, int has_mtime, ol_error* err);
int ol_engine_feed(ol_engine* e, const char* data, size_t len, ol_error* err);
int ol_engine_end_file(ol_engine* e, ol_file_stats* stats, ol_error* err);
/* After end_file(): where a read of the same file, grown, would go on (see ol_engine_resume_file). */
void ol_engine_position(const ol_engine* e, ol_position* out);
/* 1 when feed() left a batch to take (enough rows or string bytes, and no row waiting for its
 * time). A batch holds the rows of the feeds since the last export: feed at most some MiB between
 * two checks (the Python adapter feeds 16 MiB at most), so that string offsets stay within int32. */
int ol_engine_batch_ready(const ol_engine* e);
int64_t ol_engine_rows(const ol_engine* e, int table);
/* Move the table's rows into `out` (a struct array); the engine starts a new batch. The dictionary
 * columns are int32 indices into the engine-wide dictionaries of ol_engine_dict_item(). Refused
 * (OL_EINVAL) while rows wait for their time: export after batch_ready() or end_file(). */
int ol_engine_export(ol_engine* e, int table, struct ArrowArray* out, ol_error* err);
/* The same with the dictionary columns as Arrow dictionary arrays that hold only the names this
 * batch uses, and `schema` describing `out` (a struct of the columns of ol_column_names()). */
int ol_engine_export_batch(ol_engine* e, int table, struct ArrowArray* out, struct ArrowSchema* schema,
                           ol_error* err);

/* Unknown lines kept since the last clear (with opt.keep_unknown): the payload no grammar read
 * (after the transport prefix), and its line number. */
int64_t ol_engine_unknown_count(const ol_engine* e);
const char* ol_engine_unknown(const ol_engine* e, int64_t i, int64_t* line, size_t* len);
void ol_engine_unknown_clear(ol_engine* e);

/* Dictionaries of the int32 columns. */
int64_t ol_engine_dict_size(const ol_engine* e, int which);
const char* ol_engine_dict_item(const ol_engine* e, int which, int64_t i, size_t* len);
enum { OL_DICT_FILE = 0, OL_DICT_HOST = 1, OL_DICT_EVENT = 2 };
const char* const* ol_kind_names(int* n);
const char* const* ol_transport_names(int* n);
/* Column names of a table, for the adapter to check against the Python schema. */
const char* const* ol_column_names(int table, int* n);

#ifdef __cplusplus
}
#endif
#endif
