# Mirror of csrc/ollalog.h (one declaration per C declaration).
from libc.stdint cimport int64_t, int32_t

cdef extern from "ollalog.h" nogil:
    struct ArrowArray:
        int64_t length
        void (*release)(ArrowArray*)

    struct ArrowSchema:
        void (*release)(ArrowSchema*)

    enum:
        OL_OK
        OL_ENOMEM
        OL_EINVAL
        OL_ERANGE
        OL_TABLE_EVENTS
        OL_TABLE_REQUESTS
        OL_DICT_FILE
        OL_DICT_HOST
        OL_DICT_EVENT

    ctypedef struct ol_error:
        int code
        char message[256]

    ctypedef struct ol_options:
        int64_t batch_rows
        int64_t max_line
        int keep_unknown

    ctypedef struct ol_file_stats:
        int64_t bytes, physical, parsed, unknown, malformed, blank, continued, invalid_utf8, oversized
        int64_t slog, log, gin, runner, llama, probe, panic, system, other, time_unresolved
        int64_t first_time, last_time
        int has_time
        int tz_assumed
        int transport
        int64_t host

    ctypedef struct ol_position:
        int64_t line, offset
        int64_t tz_server, tz_prefix, ref_us
        int has_tz_server, has_tz_prefix, has_ref

    ctypedef struct ol_engine:
        pass

    int ol_engine_new(ol_engine** out, const ol_options* opt, ol_error* err)
    void ol_engine_free(ol_engine* e)
    int ol_engine_add_rule(ol_engine* e, const char* event, size_t event_len, int scope, int match,
                           const char* text, size_t text_len, ol_error* err)
    int ol_engine_begin_file(ol_engine* e, const char* name, size_t name_len, const char* host,
                             size_t host_len, int force_host, ol_error* err)
    int ol_engine_resume_file(ol_engine* e, const char* name, size_t name_len, const char* host,
                              size_t host_len, int force_host, const ol_position* at, ol_error* err)
    int ol_engine_add_month(ol_engine* e, const char* name, size_t len, int month, ol_error* err)
    int ol_engine_date_hint(ol_engine* e, int year, int64_t mtime_us, int has_mtime, ol_error* err)
    int ol_engine_feed(ol_engine* e, const char* data, size_t len, ol_error* err)
    int ol_engine_end_file(ol_engine* e, ol_file_stats* stats, ol_error* err)
    void ol_engine_position(const ol_engine* e, ol_position* out)
    int ol_engine_batch_ready(const ol_engine* e)
    int64_t ol_engine_rows(const ol_engine* e, int table)
    int ol_engine_export(ol_engine* e, int table, ArrowArray* out, ol_error* err)
    int ol_engine_export_batch(ol_engine* e, int table, ArrowArray* out, ArrowSchema* schema, ol_error* err)
    int64_t ol_engine_dict_size(const ol_engine* e, int which)
    const char* ol_engine_dict_item(const ol_engine* e, int which, int64_t i, size_t* len)
    int64_t ol_engine_unknown_count(const ol_engine* e)
    const char* ol_engine_unknown(const ol_engine* e, int64_t i, int64_t* line, size_t* len)
    void ol_engine_unknown_clear(ol_engine* e)
    const char* const* ol_kind_names(int* n)
    const char* const* ol_transport_names(int* n)
    const char* const* ol_column_names(int table, int* n)
