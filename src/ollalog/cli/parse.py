"""`ollalog parse LOGS... [--out DIR]`: the tables as Parquet, and a summary."""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .. import schema as S
from ..errors import InputError, UsageError
from ..inputs import resolve
from ..read import ENGINES, read_batches
from . import app

PROGRESS_MIN_BYTES = 64 << 20
COUNTED = ("parsed", "unknown", "malformed", "blank", "continued", "invalid_utf8", "oversized",
           "physical", "bytes", "slog", "log", "gin", "runner", "llama", "probe", "panic", "system", "other")


def _schema_text() -> str:
    out = []
    for table in S.TABLES:
        out.append(f"{table}:")
        for name, typ, desc in S.describe(table):
            out.append(f"  {name:<24} {typ:<32} {desc}")
    return "\n".join(out)


@app.command("parse")
def parse(
    logs: Annotated[Optional[List[str]], typer.Argument(help="log files, directories, globs, or - for stdin")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="write each table as DIR/<table>.parquet")] = None,
    host: Annotated[Optional[str], typer.Option("--host", help="host name for every line (else from prefixes or folders)")] = None,
    engine: Annotated[str, typer.Option("--engine", help="c (fast) or python (the reference parser)")] = "c",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print nothing but errors")] = False,
    progress: Annotated[Optional[bool], typer.Option("--progress/--no-progress", help="progress bar (default: on a terminal, for inputs over 64 MiB)")] = None,
    schema_only: Annotated[bool, typer.Option("--schema", help="print the tables' columns and exit")] = False,
    unknown: Annotated[bool, typer.Option("--unknown", help="list the most frequent shapes of the lines no grammar read, numbers and ids masked, with a count and the first example (printed even with --quiet)")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Parse logs into events, requests, loads, gpus and lines tables."""
    if schema_only:
        print(_schema_text())
        return
    if not logs:
        raise typer.BadParameter("give at least one log file, directory, glob or -", param_hint="LOGS")
    if engine not in ENGINES:
        raise typer.BadParameter(f"choose from {', '.join(ENGINES)}", param_hint="--engine")
    if out is not None and os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out}: exists and is not a directory")

    failures: list[InputError] = []

    def report(e: InputError) -> None:
        failures.append(e)
        print(f"ollalog: error: {e}", file=sys.stderr)

    sources, errors = resolve(list(logs), host)
    for e in errors:
        report(e)
    total = sum(s.size or 0 for s in sources)
    show = progress if progress is not None else (sys.stderr.isatty() and total >= PROGRESS_MIN_BYTES)

    writers: dict = {}
    counts: Counter = Counter()
    placements: Counter = Counter()
    load_rows: list[dict] = []
    files = 0
    t0 = time.perf_counter()
    bar = None
    on_progress = None
    if show and not quiet:
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
        bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                       TransferSpeedColumn(), transient=True, console=None)
        bar.start()
        task = bar.add_task("parsing", total=total or None)
        on_progress = lambda n: bar.advance(task, n)  # noqa: E731
    shapes = None
    if unknown:
        from ..unknown import Shapes
        shapes = Shapes()
    try:
        for name, batch in read_batches(logs, host=host, engine=engine, on_error=report,
                                        on_progress=on_progress, sources=sources,
                                        on_unknown=shapes.add if shapes is not None else None):
            if out is not None:
                _write(writers, out, name, batch)
            if name == "lines":
                files += batch.num_rows
                for row in batch.to_pylist():
                    for k in COUNTED:
                        counts[k] += row[k] or 0
            elif name == "loads":
                for row in batch.to_pylist():
                    placements[row["placement"] or "unknown"] += 1
                    load_rows.append(row)
            elif name == "gpus":
                counts["gpus"] += batch.num_rows
            elif name == "requests":
                counts["requests"] += batch.num_rows
            elif name == "events":
                counts["events"] += batch.num_rows
    finally:
        if bar is not None:
            bar.stop()
        for w in writers.values():
            w.close()
    if out is not None:
        _write_empty(writers, out)
    elapsed = time.perf_counter() - t0
    if not quiet:
        _summary(files, counts, placements, load_rows, elapsed, out)
    if shapes is not None:
        print("\n".join(shapes.report()))
    if failures:
        raise typer.Exit(1)


def _write(writers: dict, out: str, name: str, batch) -> None:
    import pyarrow.parquet as pq
    w = writers.get(name)
    if w is None:
        os.makedirs(out, exist_ok=True)
        w = writers[name] = pq.ParquetWriter(os.path.join(out, f"{name}.parquet"), S.schema(name))
    w.write_batch(batch)


def _write_empty(writers: dict, out: str) -> None:
    """Every table gets a file, empty or not, so readers of DIR find all five."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(out, exist_ok=True)
    for name in S.TABLES:
        if name not in writers:
            pq.write_table(pa.table({f.name: pa.array([], f.type) for f in S.schema(name)},
                                    schema=S.schema(name)), os.path.join(out, f"{name}.parquet"))


def _fmt(n: int) -> str:
    return f"{n:,}"


def _summary(files, counts, placements, loads, elapsed, out) -> None:
    mb = counts["bytes"] / 1e6
    rate = f", {mb / elapsed:,.0f} MB/s" if elapsed > 0 and mb >= 1 else ""
    print(f"read {files} file{'s' if files != 1 else ''}: {_fmt(counts['physical'])} lines, "
          f"{mb:,.1f} MB in {elapsed:.2f} s{rate}")
    print(f"  lines    parsed {_fmt(counts['parsed'])}  unknown {_fmt(counts['unknown'])} "
          f"(blank {_fmt(counts['blank'])})  malformed {_fmt(counts['malformed'])}")
    extra = [f"{k} {_fmt(counts[k])}" for k in ("continued", "invalid_utf8", "oversized") if counts[k]]
    if extra:
        print("           " + "  ".join(extra))
    kinds = [f"{k} {_fmt(counts[k])}" for k in ("gin", "slog", "llama", "log", "runner", "probe", "panic",
                                               "system", "other") if counts[k]]
    print("  by kind  " + ("  ".join(kinds) if kinds else "-"))
    order = ("gpu", "partial", "cpu", "unknown")
    print(f"  loads    {len(loads)}" + ("  (" + "  ".join(f"{p} {placements[p]}" for p in order if placements[p]) + ")"
                                      if loads else ""))
    for row in loads[:20]:
        layers = ""
        if row["layers_offloaded"] is not None or row["layers_total"] is not None:
            layers = f"{_na(row['layers_offloaded'])}/{_na(row['layers_total'])} layers"
        ctx = f"ctx {row['ctx_size']}" if row["ctx_size"] else ""
        if row["ctx_size"] and row["parallel"]:
            ctx += f" ({row['num_ctx']} x {row['parallel']})"
        blob = (row["model_blob"] or "")[:12]
        bits = [b for b in (row["placement"] or "unknown", layers, ctx, row["outcome"] or "", blob) if b]
        print(f"           {os.path.basename(row['file'])}:{row['line']}  " + "  ".join(bits))
    if len(loads) > 20:
        print(f"           ... {len(loads) - 20} more (see loads.parquet)" if out else f"           ... {len(loads) - 20} more")
    print(f"  gpus     {counts['gpus']}")
    if out is not None:
        print(f"wrote {out}/{{{','.join(S.TABLES)}}}.parquet")


def _na(v) -> str:
    return "?" if v is None else str(v)
