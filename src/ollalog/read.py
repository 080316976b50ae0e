"""Stages 2-3, parse and tabulate: drive an engine over the inputs and build the Arrow tables.

`read_batches()` streams `(table, RecordBatch)` pairs in bounded memory; `read()` collects them
into a `Tables`. The engine (C by default, the Python reference on request) turns bytes into
`events` and `requests` batches and per-file line counts; `loads` and `gpus` are assembled here
from the events the message catalogue names, one file at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from . import schema as S
from .assemble import Assembler
from .errors import InputError, UsageError
from .inputs import CHUNK, Source, chunks, resolve

ENGINES = ("c", "python")


@dataclass
class Tables:
    """The five tables of a read, plus the inputs that could not be read."""
    events: pa.Table
    requests: pa.Table
    loads: pa.Table
    gpus: pa.Table
    lines: pa.Table
    errors: list = field(default_factory=list)

    def __getitem__(self, name: str) -> pa.Table:
        return getattr(self, name)

    def items(self):
        return [(n, getattr(self, n)) for n in S.TABLES]


def make_engine(engine: str = "c", batch_rows: int | None = None, max_line: int | None = None,
                keep_unknown: bool = False):
    kw = {"keep_unknown": True} if keep_unknown else {}
    if batch_rows is not None:
        kw["batch_rows"] = batch_rows
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


ASSEMBLER_COLUMNS = ["line", "host", "time", "msg", "attrs", "event"]


def _catalogued(batch: pa.RecordBatch, seen_summaries: set) -> pa.RecordBatch:
    """The catalogued events of a batch (all columns), in Arrow.

    DEBUG scheduler lines repeat a running model's `runner.*` summary on every request; loads
    need the first per model only, so the repeats are dropped."""
    ev = batch.column(batch.schema.get_field_index("event"))
    if ev.null_count == len(ev):
        return batch.slice(0, 0)
    sub = batch.filter(pc.is_valid(ev)) if ev.null_count else batch
    names = sub.column("event")
    summary = pc.equal(names.dictionary, "runner_summary").to_pylist()
    if any(summary):
        code = summary.index(True)
        is_sum = pc.equal(names.indices, code)
        keys = pc.map_lookup(sub.column("attrs"), "runner.model", "first")
        keep = pc.invert(is_sum)
        first = {}
        for i, k in enumerate(pc.if_else(is_sum, keys, None).to_pylist()):
            if k is not None and k not in seen_summaries and k not in first:
                first[k] = i
        if first:
            seen_summaries.update(first)
            mask = [False] * len(sub)
            for i in first.values():
                mask[i] = True
            keep = pc.or_(keep, pa.array(mask))
        sub = sub.filter(keep)
    return sub


def _taken(eng, asm: Assembler, seen: set, want: frozenset, named_only: bool) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The engine's finished batches; their catalogued events go to the file's assembler on the
    way. Tables nobody asked for are dropped here; with `named_only` the events table keeps only
    what loads are made of (catalogued events, without repeated runner summaries)."""
    for name, batch in eng.take_batches():
        if name == "events":
            named = _catalogued(batch, seen)
            for ev in named.select(ASSEMBLER_COLUMNS).to_pylist():
                asm.feed(ev)
            if named_only:
                if not named.num_rows:
                    continue
                batch = named
        if name in want:
            yield name, batch


def _wanted(tables, events: str) -> tuple[frozenset, bool]:
    want = frozenset(S.TABLES if tables is None else tables)
    unknown = sorted(want - set(S.TABLES))
    if unknown:
        raise UsageError(f"unknown table {unknown[0]!r} (tables: {', '.join(S.TABLES)})")
    if events not in ("all", "named"):
        raise UsageError(f"events={events!r}: choose all or named")
    return want, events == "named"


def read_batches(paths: Iterable[str] | str, *, host: str | None = None, engine: str = "c",
                 chunk_size: int = CHUNK, batch_rows: int | None = None, max_line: int | None = None,
                 on_error: Callable[[InputError], None] | None = None,
                 on_progress: Callable[[int], None] | None = None,
                 sources: list[Source] | None = None, tables: Iterable[str] | None = None,
                 events: str = "all",
                 on_unknown: Callable[[str, int, str], None] | None = None) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Yield (table name, RecordBatch) for every input, streaming.

    `tables` names the tables to produce (default all five); `events="named"` keeps only the
    catalogued events (those that feed `loads`), which is what `why` needs. Inputs that cannot be
    read are reported through `on_error` (or raised when it is None) and skipped; a file cut short
    (a truncated .gz) keeps what was read and reports the cut. `on_unknown(file, line, text)`
    receives every line no grammar read (blank lines aside).
    """
    want, named_only = _wanted(tables, events)
    if isinstance(paths, str):
        paths = [paths]
    if sources is None:
        sources, errors = resolve(list(paths), host)
        for e in errors:
            if on_error is None:
                raise e
            on_error(e)
    eng = make_engine(engine, batch_rows, max_line, keep_unknown=on_unknown is not None)
    for src in sources:
        asm = Assembler(src.name)
        seen: set = set()
        eng.begin_file(src.name, src.host, host is not None)
        error = None
        try:
            for data in chunks(src, chunk_size):
                eng.feed(data)
                if on_progress is not None:
                    on_progress(len(data))
                if on_unknown is not None:
                    for line, text in eng.take_unknown():
                        on_unknown(src.name, line, text)
                yield from _taken(eng, asm, seen, want, named_only)
        except InputError as e:
            error = e
        stats = eng.end_file()
        if on_unknown is not None:
            for line, text in eng.take_unknown():
                on_unknown(src.name, line, text)
        yield from _taken(eng, asm, seen, want, named_only)
        if error is not None:
            if on_error is None:
                raise error
            on_error(error)
        loads, gpus = asm.finish()
        if loads and "loads" in want:
            yield "loads", _rows_batch("loads", loads)
        if gpus and "gpus" in want:
            yield "gpus", _rows_batch("gpus", gpus)
        stats.update(file=src.name, error=error.reason if error else None)
        if "lines" in want:
            yield "lines", _rows_batch("lines", [stats])


def read(paths: Iterable[str] | str, **kw) -> Tables:
    """Read logs into five Arrow tables (events, requests, loads, gpus, lines)."""
    errors: list[InputError] = []
    kw.setdefault("on_error", errors.append)
    parts: dict[str, list[pa.RecordBatch]] = {n: [] for n in S.TABLES}
    for name, batch in read_batches(paths, **kw):
        parts[name].append(batch)
    tables = {n: pa.Table.from_batches(b, schema=S.schema(n)) for n, b in parts.items()}
    return Tables(errors=errors, **tables)
