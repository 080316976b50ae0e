"""Stages 2-3, parse and tabulate: drive an engine over the inputs and build the Arrow tables.

`read_batches()` streams `(table, RecordBatch)` pairs in bounded memory; `read()` collects them
into a `Tables`. The engine (C by default, the Python reference on request) turns bytes into
`events` and `requests` batches and per-file line counts; `loads` and `gpus` are assembled here
from the events the message catalogue names, one file at a time.
"""
from __future__ import annotations

import time
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


def make_engine(engine: str = "c", batch_rows: int | None = None, max_line: int | None = None):
    kw = {}
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


def _named_events(batch: pa.RecordBatch, seen_summaries: set) -> list[dict]:
    """The catalogued events of a batch, as dicts for the assembler.

    DEBUG scheduler lines repeat a running model's `runner.*` summary on every request; the
    assembler needs the first per model only, so the repeats are dropped here, in Arrow."""
    ev = batch.column(batch.schema.get_field_index("event"))
    if ev.null_count == len(ev):
        return []
    sub = batch.filter(pc.is_valid(ev)).select(["line", "host", "time", "msg", "attrs", "event"])
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
    return sub.to_pylist()


def _taken(eng, asm: Assembler, seen: set) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The engine's finished batches; their named events go to the file's assembler on the way."""
    for name, batch in eng.take_batches():
        if name == "events":
            for ev in _named_events(batch, seen):
                asm.feed(ev)
        yield name, batch


def read_batches(paths: Iterable[str] | str, *, host: str | None = None, year: int | None = None, engine: str = "c",
                 chunk_size: int = CHUNK, batch_rows: int | None = None, max_line: int | None = None,
                 on_error: Callable[[InputError], None] | None = None,
                 on_progress: Callable[[int], None] | None = None,
                 sources: list[Source] | None = None) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Yield (table name, RecordBatch) for every input, streaming.

    Inputs that cannot be read are reported through `on_error` (or raised when it is None) and
    skipped; a file cut short (a truncated .gz) keeps what was read and reports the cut.
    """
    if isinstance(paths, str):
        paths = [paths]
    if sources is None:
        sources, errors = resolve(list(paths), host)
        for e in errors:
            if on_error is None:
                raise e
            on_error(e)
    eng = make_engine(engine, batch_rows, max_line)
    for src in sources:
        asm = Assembler(src.name)
        seen: set = set()
        mtime = src.mtime if src.mtime is not None else time.time()  # stdin: the time of reading
        eng.begin_file(src.name, src.host, host is not None, year=year, mtime_us=int(mtime * 1_000_000))
        error = None
        try:
            for data in chunks(src, chunk_size):
                eng.feed(data)
                if on_progress is not None:
                    on_progress(len(data))
                yield from _taken(eng, asm, seen)
        except InputError as e:
            error = e
        stats = eng.end_file()
        yield from _taken(eng, asm, seen)
        if error is not None:
            if on_error is None:
                raise error
            on_error(error)
        loads, gpus = asm.finish()
        if loads:
            yield "loads", _rows_batch("loads", loads)
        if gpus:
            yield "gpus", _rows_batch("gpus", gpus)
        stats.update(file=src.name, error=error.reason if error else None)
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
