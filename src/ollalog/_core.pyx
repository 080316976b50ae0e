# cython: language_level=3, boundscheck=False, wraparound=False
"""Adapter from the C engine (csrc/) to Python: owns the engine, releases the GIL while it
parses, turns status codes into exceptions and C Data Interface arrays into pyarrow batches.
Same interface as reference.ReferenceParser."""
from libc.stdint cimport int64_t, uintptr_t
from libc.stdlib cimport calloc, free

import pyarrow as pa

from . import schema as S
from .formats import MATCHES, SCOPES, load_months, load_rules

FEED_SLICE = 16 << 20  # bytes fed at most between two checks for a ready batch
FILE_STATS = ("bytes", "physical", "parsed", "unknown", "malformed", "blank", "continued",
              "invalid_utf8", "oversized", "slog", "log", "gin", "runner", "llama", "probe",
              "panic", "system", "other", "time_unresolved")


cdef int check(int rc, ol_error* err) except -1:
    if rc == OL_OK:
        return 0
    msg = err.message.decode("utf-8", "replace")
    if rc == OL_ENOMEM:
        raise MemoryError(msg)
    if rc == OL_ERANGE:
        raise OverflowError(msg)
    raise ValueError(msg)


cdef list _names(const char* const* v, int n):
    return [v[i].decode("utf-8") for i in range(n)]


def _check_columns():
    """The C column order must be the Python schema's (one source of truth, checked at import)."""
    cdef int n = 0
    cdef const char* const* v
    for table, code in (("events", OL_TABLE_EVENTS), ("requests", OL_TABLE_REQUESTS)):
        v = ol_column_names(code, &n)
        names = _names(v, n)
        want = [f.name for f in S.engine_schema(table)]
        if names != want:
            raise ImportError(f"ollalog._core {table} columns {names} differ from schema.py {want}")


_check_columns()


def _drift(got, want) -> str:
    """The columns of two schemas that differ, as `name: type (schema.py: name: type)`."""
    diffs = [f"{g.name}: {g.type} (schema.py: {w.name}: {w.type})"
             for g, w in zip(got, want) if not g.equals(w)]
    if len(got) != len(want):
        diffs.append(f"{len(got)} columns (schema.py: {len(want)})")
    return "; ".join(diffs)


cdef class Engine:
    cdef ol_engine* e
    cdef public dict schemas  # what schema.py says each table is: every batch is checked against it
    cdef list batches
    cdef list kinds
    cdef list transports
    cdef bint in_file

    def __cinit__(self, int64_t batch_rows=32768, int64_t max_line=1 << 20, rules=None, bint keep_unknown=False,
                  months=None, bint skip_requests=False, bint named_only=False):
        cdef ol_error err
        cdef ol_options opt
        cdef int n = 0
        opt.batch_rows = batch_rows
        opt.max_line = max_line
        opt.keep_unknown = keep_unknown
        opt.skip_requests = skip_requests
        opt.named_only = named_only
        check(ol_engine_new(&self.e, &opt, &err), &err)
        for r in (rules if rules is not None else load_rules()):
            ev = r.event.encode()
            text = r.text.encode()
            check(ol_engine_add_rule(self.e, ev, len(ev), SCOPES.index(r.scope), MATCHES.index(r.match),
                                     text, len(text), &err), &err)
        for name, month in (months if months is not None else load_months()).items():
            b = name.encode()
            check(ol_engine_add_month(self.e, b, len(b), month, &err), &err)
        cdef const char* const* v = ol_kind_names(&n)
        self.kinds = _names(v, n)
        v = ol_transport_names(&n)
        self.transports = _names(v, n)
        self.schemas = {t: S.engine_schema(t) for t in ("events", "requests")}
        self.batches = []

    def __dealloc__(self):
        ol_engine_free(self.e)

    def begin_file(self, str name, host=None, bint force_host=False, year=None, mtime_us=None, dict at=None):
        """Start a file; `at` (a position() of an earlier read of it) goes on from where that stopped."""
        cdef ol_error err
        cdef ol_position pos
        cdef bytes b = name.encode("utf-8", "surrogateescape")
        cdef bytes h
        cdef const char* hp = NULL
        cdef size_t hn = 0
        if host is not None:
            h = host.encode("utf-8", "surrogateescape")
            hp = h
            hn = len(h)
        if at is None:
            check(ol_engine_begin_file(self.e, b, len(b), hp, hn, force_host, &err), &err)
        else:
            pos.line = at["line"]
            pos.offset = at["offset"]
            pos.has_tz_server = at["tz_server"] is not None
            pos.tz_server = at["tz_server"] or 0
            pos.has_tz_prefix = at["tz_prefix"] is not None
            pos.tz_prefix = at["tz_prefix"] or 0
            pos.has_ref = at["ref_us"] is not None
            pos.ref_us = at["ref_us"] or 0
            check(ol_engine_resume_file(self.e, b, len(b), hp, hn, force_host, &pos, &err), &err)
        check(ol_engine_date_hint(self.e, year or 0, mtime_us if mtime_us is not None else 0,
                                  mtime_us is not None, &err), &err)
        self.in_file = True

    def position(self):
        """After end_file(): where a read of the same file, grown, goes on (for begin_file(at=))."""
        cdef ol_position pos
        ol_engine_position(self.e, &pos)
        return {"line": pos.line, "offset": pos.offset,
                "tz_server": pos.tz_server if pos.has_tz_server else None,
                "tz_prefix": pos.tz_prefix if pos.has_tz_prefix else None,
                "ref_us": pos.ref_us if pos.has_ref else None}

    def feed(self, data):
        cdef const unsigned char[::1] view = data
        cdef ol_error err
        cdef int rc
        cdef size_t n = view.shape[0], at = 0, k
        # a batch holds what the feeds between two exports give: a huge buffer goes in slices
        while at < n:
            k = min(n - at, FEED_SLICE)
            with nogil:
                rc = ol_engine_feed(self.e, <const char*>&view[at], k, &err)
            check(rc, &err)
            if ol_engine_batch_ready(self.e):
                self._export()
            at += k

    def end_file(self):
        cdef ol_error err
        cdef ol_file_stats st
        cdef dict raw
        check(ol_engine_end_file(self.e, &st, &err), &err)
        self.in_file = False
        self._export()
        raw = st  # a C struct coerces to a dict
        d = {k: raw[k] for k in FILE_STATS}
        d["first_time"] = st.first_time if st.has_time else None
        d["last_time"] = st.last_time if st.has_time else None
        d["tz_assumed"] = bool(st.tz_assumed)
        d["transport"] = self.transports[st.transport] if st.transport >= 0 else None
        d["host"] = self._name(OL_DICT_HOST, st.host) if st.host >= 0 else None
        return d

    def take_batches(self):
        out, self.batches = self.batches, []
        return out

    def take_unknown(self):
        """[(line, text)] of the unknown lines since the last call (with keep_unknown)."""
        cdef int64_t i, line, n = ol_engine_unknown_count(self.e)
        cdef size_t ln
        cdef const char* p
        out = []
        for i in range(n):
            p = ol_engine_unknown(self.e, i, &line, &ln)
            out.append((line, p[:ln].decode("utf-8", "replace")))
        ol_engine_unknown_clear(self.e)
        return out

    cdef str _name(self, int which, int64_t i):
        cdef size_t ln
        cdef const char* p = ol_engine_dict_item(self.e, which, i, &ln)
        return p[:ln].decode("utf-8", "replace")

    cdef _export(self):
        cdef ol_error err
        cdef ArrowArray* arr
        cdef ArrowSchema* sch
        for name, code in (("events", OL_TABLE_EVENTS), ("requests", OL_TABLE_REQUESTS)):
            if ol_engine_rows(self.e, code) == 0:
                continue
            arr = <ArrowArray*>calloc(1, sizeof(ArrowArray))
            sch = <ArrowSchema*>calloc(1, sizeof(ArrowSchema))
            if arr == NULL or sch == NULL:
                free(arr)
                free(sch)
                raise MemoryError()
            rc = ol_engine_export_batch(self.e, code, arr, sch, &err)
            if rc != OL_OK:
                free(arr)  # on failure the engine released what it had made
                free(sch)
                check(rc, &err)
            try:
                batch = pa.RecordBatch._import_from_c(<uintptr_t>arr, <uintptr_t>sch)
            finally:
                free(arr)  # pyarrow moved the contents; the structs themselves are ours
                free(sch)
            want = self.schemas[name]
            if not batch.schema.equals(want, check_metadata=False):
                raise TypeError(f"ollalog._core exported {name} columns that differ from schema.py: "
                                + _drift(batch.schema, want))
            self.batches.append((name, pa.RecordBatch.from_arrays(_own_dictionaries(batch), schema=want)))


def _own_dictionaries(batch):
    """The batch's columns, dictionaries copied into Arrow's memory. pyarrow frees an imported batch
    only when nothing refers to any of its buffers: a filtered or taken subset shares the
    dictionaries, and would otherwise pin the whole batch the engine made (a loads-only read keeps
    such subsets for the whole read)."""
    out = []
    for col in batch.columns:
        if pa.types.is_dictionary(col.type):
            d = col.dictionary
            col = pa.DictionaryArray.from_arrays(col.indices, d.take(pa.array(range(len(d)), pa.int32())))
        out.append(col)
    return out
