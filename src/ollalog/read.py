"""Stages 2-3, parse and tabulate: drive an engine over the inputs and build the Arrow tables.

`read_batches()` streams `(table, RecordBatch)` pairs in bounded memory; `read()` collects them
into a `Tables`. The engine (C by default, the Python reference on request) turns bytes into
`events` and `requests` batches and per-file line counts; `loads` and `gpus` are assembled here
from the events the message catalogue names, one file at a time.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from typing import Callable, Generator, Iterable, Iterator, Union

import pyarrow as pa
import pyarrow.compute as pc

from . import schema as S
from .assemble import Assembler
from .errors import InputError, UsageError
from .inputs import CHUNK, Source, chunks, open_source, resolve

ENGINES = ("c", "python")
HEAD_BYTES = 4096  # the file's first bytes that its identity hashes
TAIL_BYTES = 4096  # the last bytes read that FileRead keeps (a resumed read checks them)


@dataclass
class Tables:
    """What `read()` returns: five `pyarrow.Table`s and the inputs that could not be read.

    events    every parsed line that is not a request (slog, Go log, runner, llama.cpp, ...)
    requests  every `[GIN]` access line
    loads     one row per model load attempt: placement, layers, context, memory figures
    gpus      GPU inventory lines (the server's and the runner's)
    lines     one row per file: its line accounting (parsed + unknown + malformed = physical)
    errors    the `InputError`s passed to `on_error` (empty when `on_error` was not given)

    `ollalog.describe(name)` or `ollalog parse --schema` lists each table's columns. The tables
    are Arrow: `t.loads.to_pylist()`, `t.loads.to_pandas()` (with the `[pandas]` extra), or
    DuckDB (`duckdb.sql("SELECT ... FROM loads")` with `loads = t.loads`).
    """
    events: pa.Table
    requests: pa.Table
    loads: pa.Table
    gpus: pa.Table
    lines: pa.Table
    errors: list = field(default_factory=list)

    def __getitem__(self, name: str) -> pa.Table:
        """The table called `name` ("events", "requests", "loads", "gpus" or "lines")."""
        if name not in S.TABLES:
            raise KeyError(f"no table {name!r} (tables: {', '.join(S.TABLES)})")
        return getattr(self, name)

    def items(self) -> list[tuple[str, pa.Table]]:
        """(name, table) for the five tables, in the order of `ollalog.TABLES`."""
        return [(n, getattr(self, n)) for n in S.TABLES]


# Rows per batch of a read (the engines' own default is 32768): on a 1 GiB log, batches of 16384
# rows lowered the peak of `read_batches` from 206 to 191 MB (of `parse --out` from 262 to about
# 247) at the same speed. When only catalogued events are built, 8192: their rows are several
# times the size of an average line's (model metadata, commands, device lists), and 32768 of them
# held about 50 MB more at the peak of a loads-only read (benchmarks/README.md).
BATCH_ROWS = 16384
NAMED_BATCH_ROWS = 8192


def make_engine(engine: str = "c", batch_rows: int | None = None, max_line: int | None = None,
                keep_unknown: bool = False, want: frozenset | None = None, named_only: bool | frozenset = False):
    """An engine; with `want` (the tables asked for) and `named_only` it builds no rows that
    would be dropped: no requests rows unless asked, no uncatalogued events unless the events
    table is asked for whole (the assembler reads catalogued events only)."""
    kw = {"keep_unknown": True} if keep_unknown else {}
    if want is not None and "requests" not in want:
        kw["skip_requests"] = True
    if named_only or (want is not None and "events" not in want):
        kw["named_only"] = True
    kw["batch_rows"] = batch_rows or (NAMED_BATCH_ROWS if kw.get("named_only") else BATCH_ROWS)
    if max_line is not None:
        kw["max_line"] = max_line
    if engine == "c":
        from ._core import Engine
        return Engine(**kw)
    if engine == "python":
        from .reference import ReferenceParser
        return ReferenceParser(**kw)
    raise UsageError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


def _rows_batch(table: str, rows: list[dict]) -> pa.RecordBatch:
    sch = S.schema(table)
    return pa.RecordBatch.from_arrays([pa.array([r.get(f.name) for r in rows], f.type) for f in sch], schema=sch)


def _with_file_id(batch: pa.RecordBatch, file_id: str) -> pa.RecordBatch:
    """An engine's batch with the per-file columns (S.PER_FILE) that no engine produces."""
    name = "events" if "kind" in batch.schema.names else "requests"
    sch = S.schema(name)
    const = pa.DictionaryArray.from_arrays(pa.repeat(pa.scalar(0, pa.int32()), batch.num_rows), pa.array([file_id]))
    cols = [const if f.name == "file_id" else batch.column(f.name) for f in sch]
    return pa.RecordBatch.from_arrays(cols, schema=sch)


def file_id_of(device: int | None, inode: int | None, head: bytes) -> str:
    """A file's identity: its device and inode (where it has them) and first bytes."""
    h = hashlib.sha256(f"{device}:{inode}:".encode())
    h.update(head)
    return h.hexdigest()[:16]


def load_rows(loads: list[dict], file_id: str) -> list[dict]:
    for r in loads:
        r["file_id"] = file_id
        r["load_id"] = f"{file_id}:{r['line']}"
    return loads


ASSEMBLER_COLUMNS = ["line", "host", "time", "msg", "attrs", "event"]
_EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
HANDLED = Assembler.handled()


def _picked(names: pa.DictionaryArray, pick) -> pa.BooleanArray:
    """Per row of a dictionary column: does `pick(name)` accept its name (a null: no)."""
    wanted = pa.array([bool(pick(n)) for n in names.dictionary.to_pylist()], pa.bool_())
    return pc.fill_null(pc.take(wanted, names.indices), False)


def _codes(names: pa.DictionaryArray, pick) -> pa.Array:
    """The rows of a dictionary column whose name `pick(name)` accepts, as row indices."""
    return pc.indices_nonzero(_picked(names, pick))


_ARANGE: dict = {}


def _not_in(n: int, drop: list) -> pa.BooleanArray:
    """Per row of n: is its index in none of the index arrays `drop` (vectorised: no Python per row)."""
    idx = _ARANGE.get(n)
    if idx is None:
        if len(_ARANGE) > 8:  # batch sizes repeat: a few of them
            _ARANGE.clear()
        idx = _ARANGE[n] = pa.array(range(n), pa.uint64())
    return pc.invert(pc.is_in(idx, value_set=pa.concat_arrays([d.cast(pa.uint64()) for d in drop])))


def _repeated_summaries(batch: pa.RecordBatch, seen_summaries: set) -> pa.Array:
    """DEBUG scheduler lines repeat a running model's `runner.*` summary on every request; loads
    need the first per model only: the rows of the repeats (and of summaries naming no model)."""
    rows = _codes(batch.column("event"), lambda n: n == "runner_summary")
    if not len(rows):
        return rows
    keys = pc.map_lookup(pc.take(batch.column("attrs"), rows), "runner.model", "first")
    firsts = []
    for k in pc.unique(keys).to_pylist():
        if k is not None and k not in seen_summaries:
            seen_summaries.add(k)
            firsts.append(pc.index(keys, k).as_py())
    return pc.filter(rows, _not_in(len(rows), [pa.array(firsts, pa.uint64())])) if firsts else rows


def _without(batch: pa.RecordBatch, drop: pa.Array) -> pa.RecordBatch:
    return batch.filter(_not_in(batch.num_rows, [drop])) if len(drop) else batch


def _catalogued(batch: pa.RecordBatch, seen_summaries: set) -> pa.RecordBatch:
    """The catalogued events of a batch (all columns), in Arrow, without repeated summaries."""
    ev = batch.column(batch.schema.get_field_index("event"))
    if ev.null_count == len(ev):
        return batch.slice(0, 0)
    sub = batch.filter(pc.is_valid(ev)) if ev.null_count else batch
    return _without(sub, _repeated_summaries(sub, seen_summaries))


def _handled(named: pa.RecordBatch, seen_summaries: set | None = None) -> pa.RecordBatch:
    """The rows an assembler handler acts on, only the columns it reads: events it has a handler
    for, less those its handler ignores for want of a key (Assembler.NEEDS_KEY), and (with
    `seen_summaries`) less repeated runner summaries. One filter at the end: taking a map column
    is what costs."""
    sub = named.select(ASSEMBLER_COLUMNS)
    if not sub.num_rows:
        return sub
    keep = _picked(sub.column("event"), HANDLED.__contains__)
    drop = _ignored(sub)
    if seen_summaries is not None:
        drop.append(_repeated_summaries(sub, seen_summaries))
    drop = [d for d in drop if len(d)]
    if drop:
        keep = pc.and_(keep, _not_in(sub.num_rows, drop))
    if keep.true_count == sub.num_rows:
        return sub
    return sub.filter(keep)


def _ignored(batch: pa.RecordBatch) -> list[pa.Array]:
    """The rows (indices) of the events an assembler handler ignores for want of a key
    (Assembler.NEEDS_KEY), one array per such event."""
    names, attrs = batch.column("event"), batch.column("attrs")
    out = []
    for event, keys in Assembler.NEEDS_KEY.items():
        mine = _codes(names, lambda n: n == event)
        if not len(mine):
            continue
        has, theirs = None, pc.take(attrs, mine)  # the few rows first: a lookup reads every row
        for k in keys:
            hit = pc.is_valid(pc.map_lookup(theirs, k, "first"))
            has = hit if has is None else pc.or_(has, hit)
        out.append(pc.filter(mine, pc.invert(has)))
    return out


def without_ignored(events: pa.Table) -> pa.Table:
    """The events table less the rows an assembler handler ignores for want of a key (a `gguf_kv`
    line of a key other than general.name or general.architecture): no load is read from them, so
    no load's facts cite them. `why` keeps the rest."""
    out = []
    for b in events.to_batches():
        drop = _ignored(b)
        out.append(b.filter(_not_in(b.num_rows, drop)) if drop else b)
    return pa.Table.from_batches(out, schema=events.schema)


def _assembler_rows(named: pa.RecordBatch) -> list[dict]:
    """The rows the assembler reads, built column by column (cheaper than struct rows)."""
    if not named.num_rows:
        return []
    cols = {c: named.column(c).to_pylist() for c in ("line", "msg")}
    for c in ("host", "event"):
        cols[c] = named.column(c).dictionary_decode().to_pylist()
    # pyarrow's datetimes (UTC as a ZoneInfo), made directly: to_pylist() of a zoned timestamp
    # column is slow
    cols["time"] = [None if v is None else _EPOCH + timedelta(microseconds=v)
                    for v in named.column("time").cast(pa.int64()).to_pylist()]
    attrs = named.column("attrs")
    offs = attrs.offsets.to_pylist()
    keys, vals = attrs.keys.to_pylist(), attrs.items.to_pylist()
    valid = attrs.is_valid().to_pylist() if attrs.null_count else None
    out = []
    for i, (line, host, t, msg, ev) in enumerate(zip(cols["line"], cols["host"], cols["time"], cols["msg"],
                                                    cols["event"])):
        a, b = offs[i], offs[i + 1]
        out.append({"line": line, "host": host, "time": t, "msg": msg, "event": ev,
                    "attrs": list(zip(keys[a:b], vals[a:b])) if valid is None or valid[i] else None})
    return out


ALL = frozenset(S.TABLES)


def _taken(batches, asm: Assembler, seen: set, file_id: str, want: frozenset = ALL,
           named_only: bool | frozenset = False) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The engine's finished batches, (name, batch) pairs; their catalogued events go to the file's assembler on the
    way. Tables nobody asked for are dropped here; with `named_only` the events table keeps only
    what loads are made of (catalogued events, without repeated runner summaries)."""
    for name, batch in batches:
        if name == "events":
            if named_only:
                named = _catalogued(batch, seen)
                fed = _handled(named)
            else:
                fed = _handled(batch, seen)
            for ev in _assembler_rows(fed):
                asm.feed(ev)
            if named_only:
                if named.num_rows and isinstance(named_only, frozenset):  # only the events asked for
                    named = named.take(_codes(named.column("event"), named_only.__contains__))
                if not named.num_rows:
                    continue
                # kept for the whole read: a copy of the few rows, not the engine's whole batch
                batch = named if named is not batch else named.take(pa.array(range(named.num_rows), pa.int32()))
        if name in want:
            yield name, _with_file_id(batch, file_id)


def _ahead(it: Iterator[bytes], depth: int = 1) -> Iterator[bytes]:
    """`it`'s chunks read (and decompressed) on a thread of their own, at most `depth` ahead."""
    def produce(put):
        for data in it:
            put(data)
    return _pipelined(produce, depth)


class _Stopped(Exception):
    """The consumer of a pipelined read went away: the producer stops."""


def _pipelined(produce: Callable[[Callable], None], depth: int = 1) -> Iterator:
    """Run `produce(put)` on a thread and yield what it puts, in order; at most `depth` items wait
    (bounded memory). An exception in `produce` is raised here; when the consumer stops early the
    producer is stopped at its next put, and joined before this returns (the engine is then free)."""
    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def put(item, tag="item"):
        while not stop.is_set():
            try:
                q.put((tag, item), timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def run():
        try:
            produce(put)
            put(None, "done")
        except _Stopped:
            pass
        except BaseException as e:  # noqa: BLE001 -- handed to the consumer, raised there
            try:
                put(e, "error")
            except _Stopped:
                pass

    t = threading.Thread(target=run, name="ollalog-read", daemon=True)
    t.start()
    try:
        while True:
            tag, item = q.get()
            if tag == "done":
                return
            if tag == "error":
                raise item
            yield item
    finally:
        stop.set()
        t.join()


def _wanted(tables, events) -> tuple[frozenset, bool | frozenset]:
    """(the tables asked for, False | True | the event names to keep): what `events` asks of the
    events table (see `read()`)."""
    want = frozenset(S.TABLES if tables is None else tables)
    unknown = sorted(want - set(S.TABLES))
    if unknown:
        raise UsageError(f"unknown table {unknown[0]!r} (tables: {', '.join(S.TABLES)})")
    if isinstance(events, str):
        if events not in ("all", "named"):
            raise UsageError(f"events={events!r}: choose all or named, or give event names")
        return want, events == "named"
    names = frozenset(events)
    from .formats import event_names, load_rules
    known = set(event_names(load_rules()))
    odd = sorted(str(n) for n in names if not isinstance(n, str) or n not in known)
    if odd or not names:
        raise UsageError(f"events: {odd[0]!r} is no catalogued event (src/ollalog/formats/messages.tsv lists them)" if odd
                         else "events: give at least one event name (or leave the events table out of tables)")
    return want, names


@dataclass
class Resume:
    """Where a read of a file goes on from an earlier read of it (ollalog ingest): the engine's
    position, the file's load assembler and the runner summaries it has seen."""
    at: dict
    assembler: Assembler
    seen: set
    file_id: str


@dataclass
class FileRead:
    """What read_file() leaves when a file ends: its identity, line accounting and the state a
    later read of the same file, grown, resumes from."""
    file_id: str = ""
    head: bytes = b""
    device: int | None = None
    inode: int | None = None
    size: int | None = None
    stats: dict = field(default_factory=dict)
    position: dict | None = None
    assembler: Assembler | None = None
    seen: set = field(default_factory=set)
    error: InputError | None = None
    held_back: int = 0          # bytes after the last newline, left for the next read (whole_lines)
    tail: bytes = b""           # the last TAIL_BYTES read (of this read)

    def lines_row(self, name: str) -> dict:
        row = dict(self.stats)
        row.update(file=name, file_id=self.file_id, device=self.device, inode=self.inode, size=self.size,
                   head_hash=hashlib.sha256(self.head).hexdigest(),
                   error=self.error.reason if self.error else None)
        return row


def read_file(eng, src: Source, *, chunk_size: int = CHUNK, on_progress: Callable[[int], None] | None = None,
              resume: Resume | None = None, whole_lines: bool = False, raw=None, force_host: bool = False,
              file_id: str | None = None, want: frozenset = ALL, named_only: bool | frozenset = False,
              on_unknown: Callable[[str, int, str], None] | None = None, year: int | None = None,
              settle: bool = True) -> Generator[tuple[str, pa.RecordBatch], None, FileRead]:
    """Yield the events and requests batches of one source; return a FileRead.

    `resume` goes on from an earlier read (its bytes are not read again); `whole_lines` leaves
    bytes after the last newline unread (a line still being written); `raw` is the source already
    opened; `file_id` overrides the id its identity gives; `want`, `named_only` and `on_unknown`
    (the engine must keep unknown lines) and `year` as in read_batches; `settle` as for the
    Assembler (a new one: a resumed read goes on with its own). Unreadable input ends the file early with `FileRead.error` set."""
    out = FileRead()
    offset = resume.at["offset"] if resume else 0
    pre: list[bytes] = []
    it: Iterator[bytes] = iter(())
    try:
        if raw is None:
            raw, _ = open_source(src)
        if not src.is_stdin:
            st = os.fstat(raw.fileno())
            out.device, out.inode, out.size = st.st_dev, st.st_ino, st.st_size
        it = chunks(src, chunk_size, raw=raw, offset=offset)
        for data in it:  # the identity needs the first bytes before any batch leaves
            pre.append(data)
            out.head += data[:HEAD_BYTES - len(out.head)]
            if len(out.head) >= HEAD_BYTES:
                break
    except InputError as e:  # read what came before it, then report it
        out.error = e
        it = iter(())
    if resume is not None:
        out.file_id, asm, out.seen = resume.file_id, resume.assembler, resume.seen
        asm.file = src.name
        out.head = b""  # the head hashed is the file's, not this read's: the caller knows it
    else:
        out.file_id = file_id or file_id_of(out.device, out.inode, out.head)
        asm = Assembler(src.name, settle=settle)
    out.assembler = asm
    mtime = src.mtime if src.mtime is not None else time.time()  # stdin: the time of reading
    eng.begin_file(src.name, src.host, force_host, year=year, mtime_us=int(mtime * 1_000_000),
                   at=resume.at if resume else None)
    rest = bytearray()
    # a file of more than a few chunks, or a stream: read (and decompressed) on a third thread, so
    # that the engine's thread, the slowest of the three, only parses
    ahead = src.is_stdin or (out.size or 0) > 2 * chunk_size

    def produce(put):
        """The engine's side, on its own thread: read, feed (the C engine releases the GIL there),
        and pass on each chunk's size, unknown lines and finished batches, then the file's end."""
        nonlocal rest
        try:
            for data in itertools.chain(pre, _ahead(it) if ahead else it):
                if whole_lines:
                    cut = data.rfind(b"\n") + 1
                    if not cut:
                        rest += data
                        continue
                    if rest:
                        rest += data[:cut]
                        data, rest = bytes(rest), bytearray(data[cut:])
                    else:
                        data, rest = data[:cut], bytearray(data[cut:])
                eng.feed(data)
                out.tail = (out.tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]
                put((len(data), eng.take_unknown() if on_unknown is not None else (), list(eng.take_batches())))
        except InputError as e:
            out.error = out.error or e
        out.held_back = len(rest)
        out.stats = eng.end_file()
        out.position = eng.position()
        put((0, eng.take_unknown() if on_unknown is not None else (), list(eng.take_batches())))

    # this thread meanwhile hands the batches on and feeds the assembler: both cores at work
    for n, unknown, batches in _pipelined(produce):
        if on_progress is not None and n:
            on_progress(n)
        for line, text in unknown:
            on_unknown(src.name, line, text)
        yield from _taken(batches, asm, out.seen, out.file_id, want, named_only)
    return out


def drain(gen: Generator[tuple[str, pa.RecordBatch], None, FileRead],
          each: Callable[[str, pa.RecordBatch], None] | None = None) -> FileRead:
    """Run a read_file() generator to its end, handing each (table, batch) to `each`; its FileRead."""
    while True:
        try:
            name, batch = next(gen)
        except StopIteration as stop:
            return stop.value
        if each is not None:
            each(name, batch)


PathArg = Union[str, "os.PathLike[str]"]


def _paths(paths) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = [os.fspath(p) for p in paths]
    if not all(isinstance(p, str) for p in out):
        raise UsageError("paths must be file names (str or os.PathLike), not bytes")
    return out


def read_batches(paths: PathArg | Iterable[PathArg], *, host: str | None = None, year: int | None = None,
                 engine: str = "c", on_error: Callable[[InputError], None] | None = None,
                 on_progress: Callable[[int], None] | None = None, chunk_size: int = CHUNK,
                 batch_rows: int | None = None, max_line: int | None = None,
                 tables: Iterable[str] | None = None, events: str = "all",
                 sources: list[Source] | None = None,
                 on_unknown: Callable[[str, int, str], None] | None = None) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Read logs as a stream of `(table name, pyarrow.RecordBatch)` pairs, in bounded memory.

    paths, host, year, engine, on_error, tables, events: as for `read()`; and
      on_progress  called with the number of bytes of each chunk read (for a progress bar).
      chunk_size   bytes read at a time (default 4 MiB).
      batch_rows   rows per events/requests batch (default 16384; 8192 when only catalogued
                   events are built, as with `events="named"`).
      max_line     bytes kept of one physical line; the rest is cut and counted (default 1 MiB).
      sources      inputs already expanded by `ollalog.inputs.resolve()` (then `paths` is not
                   expanded again).
      on_unknown   called as on_unknown(file, line, text) for every line no grammar read (blank
                   lines aside): what `ollalog parse --unknown` counts.

    Batches of `events` and `requests` come as the parser fills them; `loads`, `gpus` and the
    file's `lines` row follow at the end of each file. Errors: as for `read()`; a file cut short
    yields what it held before the error is raised or reported.
    """
    names = _paths(paths)
    want, named_only = _wanted(tables, events)
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999):
        raise UsageError(f"year must be a whole year such as 2025, not {year!r}")
    if chunk_size < 1:
        raise UsageError(f"chunk_size must be at least 1, not {chunk_size!r}")
    if sources is None:
        sources, errors = resolve(names, host)
        for e in errors:
            if on_error is None:
                raise e
            on_error(e)
    eng = make_engine(engine, batch_rows, max_line, keep_unknown=on_unknown is not None, want=want,
                      named_only=named_only)
    for src in sources:
        res = yield from read_file(eng, src, chunk_size=chunk_size, on_progress=on_progress,
                                   force_host=host is not None, want=want, named_only=named_only,
                                   on_unknown=on_unknown, year=year)
        if res.error is not None:
            if on_error is None:
                raise res.error
            on_error(res.error)
        loads, gpus = res.assembler.finish()
        if loads and "loads" in want:
            yield "loads", _rows_batch("loads", load_rows(loads, res.file_id))
        if gpus and "gpus" in want:
            yield "gpus", _rows_batch("gpus", [dict(g, file_id=res.file_id) for g in gpus])
        if "lines" in want:
            yield "lines", _rows_batch("lines", [res.lines_row(src.name)])


def read(paths: PathArg | Iterable[PathArg], *, host: str | None = None, year: int | None = None,
         engine: str = "c", on_error: Callable[[InputError], None] | None = None,
         on_progress: Callable[[int], None] | None = None, chunk_size: int = CHUNK,
         batch_rows: int | None = None, max_line: int | None = None,
         tables: Iterable[str] | None = None, events: str = "all") -> Tables:
    """Read Ollama server logs into five Arrow tables: events, requests, loads, gpus, lines.

    paths     a file, directory (its *.log, *.log.N, *.gz, *.zst and *.txt files, recursively),
              glob, or "-" for stdin; or a list of them. Gzip and zstd are recognised by content;
              a file reached twice is read once.
    host      the host of every row; default: the transport prefix's host (journald, compose),
              else the file's folder when its name looks like a host (`gpu-box-7`, not `logs`).
    year      the year of journald `Apr 19 16:54:17` prefixes when the log has no absolute time
              to date them from; default: from the file's modification time.
    engine    "c" (the compiled parser, default) or "python" (the reference parser: same tables,
              slower).
    on_error  called with each `ollalog.InputError` (a missing, unreadable, binary or truncated
              input); that input is skipped (or kept up to the cut) and the rest is read, and the
              errors are also in `Tables.errors`. Without it the first such error is raised.
    tables    the tables to build (default all five); the others come back empty.
    events    "all" (default); "named": only the catalogued events, those that feed `loads`; or a
              collection of catalogued event names: only those (`loads` is still built from all).
    on_progress, chunk_size, batch_rows, max_line: see `read_batches()`.

    Raises `ollalog.InputError` (an `OSError`) for an input that cannot be read unless `on_error`
    is given, and `ollalog.UsageError` (a `ValueError`) for arguments that cannot work.
    Example: `t = ollalog.read("server.log"); t.loads.to_pylist()`.
    """
    errors: list[InputError] = []

    def report(e: InputError) -> None:
        errors.append(e)
        on_error(e)

    parts: dict[str, list[pa.RecordBatch]] = {n: [] for n in S.TABLES}
    for name, batch in read_batches(paths, host=host, year=year, engine=engine,
                                    on_error=report if on_error is not None else None,
                                    on_progress=on_progress, chunk_size=chunk_size, batch_rows=batch_rows,
                                    max_line=max_line, tables=tables, events=events):
        parts[name].append(batch)
    tables = {n: pa.Table.from_batches(b, schema=S.schema(n)) for n, b in parts.items()}
    return Tables(errors=errors, **tables)
