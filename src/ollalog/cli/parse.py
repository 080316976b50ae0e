"""`ollalog parse LOGS... [-o PATH] [--format FORMAT]`: the tables as Parquet, and a summary."""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError, OutputError
from ..inputs import resolve
from . import command
from .common import (AtomicFiles, Debug, Engine, Format, FormatOpt, Host, Logs, ParquetTables, Quiet, Year, error,
                     iso_time, shortest_unique_paths, text_table, usage_error, write_csv, write_json, write_markdown)

PROGRESS_MIN_BYTES = 64 << 20
TEXT_LOADS = 20  # loads listed by the text summary; the other formats list all
COUNTED = ("parsed", "unknown", "malformed", "blank", "continued", "invalid_utf8", "oversized",
           "physical", "bytes", "slog", "log", "gin", "runner", "llama", "probe", "panic", "system", "other")
# lines of Ollama's own grammars (server, runner, llama.cpp); systemd lines and fragments are not
OLLAMA_KINDS = ("slog", "log", "gin", "runner", "llama", "probe", "panic")
LOAD_COLUMNS = ("file", "line", "host", "time", "model", "model_blob", "placement", "layers_offloaded",
                "layers_total", "ctx_size", "num_ctx", "parallel", "outcome", "ollama_version")
FILE_COLUMNS = ("file", "host", "transport", "physical", "parsed", "unknown", "malformed", "ollama_lines",
                "loads", "first_time", "last_time", "error")
GPU_COLUMNS = ("host", "id", "name", "library", "total_bytes")

Out = Annotated[Optional[str], typer.Option(
    "--out", "-o", metavar="PATH",
    help="Write the tables as Parquet: into a folder, as events, requests, loads, gpus and lines.parquet; "
         "or, for a path named after one table (loads.parquet), that table alone. Files are written "
         "under temporary names and renamed at the end.")]
Progress = Annotated[Optional[bool], typer.Option(
    "--progress/--no-progress", help="Show a progress bar. Default: on a terminal, for inputs over 64 MiB.")]
SchemaOnly = Annotated[bool, typer.Option("--schema", help="Print every table's columns (in --format) and exit.")]


def _schema_text() -> str:
    from .. import schema as S
    out = []
    for table in S.TABLES:
        out.append(f"{table}:")
        for name, typ, desc in S.describe(table):
            out.append(f"  {name:<24} {typ:<32} {desc}")
    return "\n".join(out)


def _print_schema(fmt: Format) -> None:
    from .. import schema as S
    rows = [{"table": t, "column": n, "type": typ, "meaning": d} for t in S.TABLES for n, typ, d in S.describe(t)]
    cols = ("table", "column", "type", "meaning")
    if fmt is Format.json:
        write_json(rows)
    elif fmt is Format.csv:
        write_csv(cols, rows)
    elif fmt is Format.markdown:
        write_markdown(cols, rows)
    else:
        print(_schema_text())


def _targets(out: str) -> dict[str, str]:
    """-o PATH: a folder for the five tables, or TABLE.parquet for one."""
    from .. import schema as S
    if not os.path.isdir(out) and out.lower().endswith(".parquet"):
        stem = os.path.basename(out)[: -len(".parquet")]
        if stem not in S.TABLES:
            raise usage_error(f"{out}: a .parquet file holds one table and is named after it "
                              f"({', '.join(t + '.parquet' for t in S.TABLES)}); give a folder for all of them",
                              "--out")
        return {stem: out}
    if os.path.lexists(out) and not os.path.isdir(out):
        raise OutputError(out, "exists and is not a directory (give a folder, or a file named TABLE.parquet)")
    return {t: os.path.join(out, f"{t}.parquet") for t in S.TABLES}


@command("parse")
def parse(
    logs: Logs = None,
    out: Out = None,
    fmt: FormatOpt = Format.text,
    host: Host = None,
    year: Year = None,
    engine: Engine = "c",
    quiet: Quiet = False,
    progress: Progress = None,
    schema_only: SchemaOnly = False,
    unknown: Annotated[bool, typer.Option(
        "--unknown", help="List the most frequent shapes of the lines no grammar read (numbers and ids "
                          "masked), each with a count and a first example; printed even with --quiet.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 when a line no grammar reads is found (blank lines aside), naming the first "
                         "one; the tables are still written.")] = False,
    debug: Debug = False,
) -> None:
    """Read logs into tables: a summary of their lines and model loads, and Parquet with -o.

    Each model load is listed with its file and line, host, time, model, placement (gpu, partial,
    cpu), layers on the GPU and context. A file that holds no Ollama lines is an error, as is an
    input that cannot be read; the other inputs are still read.
    """
    from .. import schema as S
    from ..read import ENGINES, read_batches
    if schema_only:
        _print_schema(fmt)
        return
    if not logs:
        raise usage_error("give at least one log file, directory, glob or -", "LOGS")
    if engine not in ENGINES:
        raise usage_error(f"choose from {', '.join(ENGINES)}", "--engine")
    targets = _targets(out) if out is not None else {}

    failures: list[InputError] = []

    def report(e: InputError) -> None:
        failures.append(e)
        error(str(e))

    sources, errors = resolve(list(logs), host)
    for e in errors:
        report(e)
    total = sum(s.size or 0 for s in sources)
    show = progress if progress is not None else (sys.stderr.isatty() and total >= PROGRESS_MIN_BYTES)
    summary = _Summary()
    shapes = None
    if unknown:
        from ..unknown import Shapes
        shapes = Shapes()
    first_unknown: list[tuple[str, int, str]] = []

    def on_unknown(file: str, line: int, text: str) -> None:
        if shapes is not None:
            shapes.add(file, line, text)
        if strict and not first_unknown:
            first_unknown.append((file, line, text))
    t0 = time.perf_counter()
    display = (os.path.normpath(out) + ("/" if len(targets) > 1 else "")) if out is not None else ""
    with AtomicFiles(targets, display) as temps:
        writer = ParquetTables(temps, {n: S.schema(n) for n in targets})
        bar = _progress_bar(total) if show and not quiet else None
        try:
            for name, batch in read_batches(logs, host=host, year=year, engine=engine, on_error=report,
                                            on_progress=bar.advance if bar else None, sources=sources,
                                            on_unknown=on_unknown if unknown or strict else None):
                writer.write(name, batch)
                summary.add(name, batch)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            if bar is not None:
                bar.stop()
    summary.elapsed = time.perf_counter() - t0
    summary.wrote = list(targets.values())
    not_ollama = summary.not_ollama()
    for row in not_ollama:
        error(f"{row['file']}: no Ollama lines found ({row['physical']:,} lines read)")
    if not quiet:
        _print(summary, fmt, out, targets)
    if shapes is not None:
        print("\n".join(shapes.report()))
    if first_unknown:
        file, line, text = first_unknown[0]
        error(f"{file}:{line}: a line no grammar reads (--strict): {_excerpt(text)}")
    if failures or not_ollama or first_unknown:
        raise typer.Exit(1)


def _excerpt(text: str, width: int = 80) -> str:
    """A line's text on one terminal line: control characters escaped, cut at `width` characters."""
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return shown if len(shown) <= width else shown[: width - 3] + "..."


class _ProgressBar:
    def __init__(self, total: int):
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
        self.p = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                          TransferSpeedColumn(), transient=True)
        self.p.start()
        self.task = self.p.add_task("parsing", total=total or None)

    def advance(self, n: int) -> None:
        self.p.advance(self.task, n)

    def stop(self) -> None:
        self.p.stop()


def _progress_bar(total: int) -> _ProgressBar:
    return _ProgressBar(total)


# ---------------------------------------------------------------------------------------------
# the summary


def _model(row: dict) -> str | None:
    """The load's model: its tag, else the GGUF name, else the blob's first 12 hex digits."""
    name = row.get("model_name")
    if name:
        for prefix in ("registry.ollama.ai/library/", "registry.ollama.ai/"):
            if name.startswith(prefix):
                return name[len(prefix):]
        return name
    if row.get("general_name"):
        return row["general_name"]
    blob = row.get("model_blob")
    return blob[:12] if blob else None


class _Summary:
    def __init__(self):
        self.files: list[dict] = []
        self.loads: list[dict] = []
        self.gpu_rows: list[dict] = []
        self.counts: Counter = Counter()
        self.placements: Counter = Counter()
        self.elapsed = 0.0
        self.wrote: list[str] = []

    def add(self, name: str, batch) -> None:
        if name == "lines":
            for row in batch.to_pylist():
                row["ollama_lines"] = sum(row[k] or 0 for k in OLLAMA_KINDS)
                row["loads"] = 0
                self.files.append(row)
                for k in COUNTED:
                    self.counts[k] += row[k] or 0
        elif name == "loads":
            # only the columns the summary shows: a whole row of a log's thousands of loads is ~3 KB
            cols = [c for c in LOAD_COLUMNS if c != "model"] + ["model_name", "general_name"]
            for row in batch.select(cols).to_pylist():
                self.placements[row["placement"] or "unknown"] += 1
                row["model"] = _model(row)
                self.loads.append({k: row.get(k) for k in LOAD_COLUMNS})
        elif name == "gpus":
            self.gpu_rows += batch.select(["file", "host", "origin", "id", "name", "description", "library",
                                           "total_bytes"]).to_pylist()
        else:
            self.counts[name] += batch.num_rows

    def finish_files(self) -> None:
        per_file = Counter(r["file"] for r in self.loads)
        for f in self.files:
            f["loads"] = per_file[f["file"]]

    def not_ollama(self) -> list[dict]:
        """Files with lines but none of Ollama's (and no read error of their own)."""
        self.finish_files()
        return [f for f in self.files
                if f["error"] is None and f["physical"] > f["blank"] and f["ollama_lines"] == 0]

    def gpus(self) -> list[dict]:
        """Distinct GPUs: per host (per file without one), the server's inventory when it printed
        one, else the runner's; a device listed again (by a restart, or by both) counts once."""
        groups: dict = {}
        for g in self.gpu_rows:
            groups.setdefault(g["host"] or ("file", g["file"]), []).append(g)
        out = []
        for rows in groups.values():
            server = [g for g in rows if g["origin"] == "server"]
            seen = set()
            for g in server or rows:
                key = g["id"] or (g["name"], g["total_bytes"])
                if key in seen:
                    continue
                seen.add(key)
                name = g["description"] or g["name"]
                out.append({"host": g["host"], "id": g["id"], "name": name, "library": g["library"],
                            "total_bytes": g["total_bytes"]})
        return out


def _fmt(n: int) -> str:
    return f"{n:,}"


def _print(s: _Summary, fmt: Format, out: str | None, targets: dict) -> None:
    gpus = s.gpus()
    if fmt is Format.json:
        write_json({"files": [{k: f.get(k) for k in FILE_COLUMNS} for f in s.files],
                    "totals": {k: s.counts[k] for k in COUNTED + ("events", "requests")},
                    "loads": s.loads, "gpus": gpus, "seconds": round(s.elapsed, 3), "wrote": s.wrote})
    elif fmt is Format.csv:
        write_csv(LOAD_COLUMNS, s.loads)
    elif fmt is Format.markdown:
        short = shortest_unique_paths(f["file"] for f in s.files)
        print("## Files\n")
        write_markdown(FILE_COLUMNS, [dict(f, file=short[f["file"]]) for f in s.files])
        print("\n## Loads\n")
        write_markdown(LOAD_COLUMNS, [dict(r, file=short.get(r["file"], r["file"])) for r in s.loads])
        print("\n## GPUs\n")
        write_markdown(GPU_COLUMNS, gpus)
    else:
        _print_text(s, gpus, out, targets)


def _print_text(s: _Summary, gpus: list[dict], out: str | None, targets: dict) -> None:
    from .. import schema as S
    c = s.counts
    mb = c["bytes"] / 1e6
    rate = f", {mb / s.elapsed:,.0f} MB/s" if s.elapsed > 0 and mb >= 1 else ""
    n = len(s.files)
    print(f"read {n} file{'s' if n != 1 else ''}: {_fmt(c['physical'])} lines, {mb:,.1f} MB in {s.elapsed:.2f} s{rate}")
    print(f"  lines    parsed {_fmt(c['parsed'])}  unknown {_fmt(c['unknown'])} "
          f"(blank {_fmt(c['blank'])})  malformed {_fmt(c['malformed'])}")
    extra = [f"{k} {_fmt(c[k])}" for k in ("continued", "invalid_utf8", "oversized") if c[k]]
    if extra:
        print("           " + "  ".join(extra))
    kinds = [f"{k} {_fmt(c[k])}" for k in ("gin", "slog", "llama", "log", "runner", "probe", "panic",
                                           "system", "other") if c[k]]
    print("  by kind  " + ("  ".join(kinds) if kinds else "-"))
    order = ("gpu", "partial", "cpu", "unknown")
    print(f"  loads    {len(s.loads)}" + ("  (" + "  ".join(f"{p} {s.placements[p]}" for p in order
                                                            if s.placements[p]) + ")" if s.loads else ""))
    short = shortest_unique_paths(f["file"] for f in s.files)
    if s.loads:
        rows = []
        for r in s.loads[:TEXT_LOADS]:
            layers = None
            if r["layers_offloaded"] is not None or r["layers_total"] is not None:
                layers = f"{_na(r['layers_offloaded'])}/{_na(r['layers_total'])}"
            ctx = None
            if r["ctx_size"]:
                ctx = str(r["ctx_size"]) + (f" ({r['num_ctx']} x {r['parallel']})" if r["parallel"] and r["num_ctx"]
                                            else "")
            when = iso_time(r["time"])
            when = when[:19].replace("T", " ") if when else None
            rows.append((f"{short.get(r['file'], r['file'])}:{r['line']}", r["host"], when, r["model"],
                         r["placement"] or "unknown", layers, ctx, r["outcome"]))
        for line in text_table(("where", "host", "time (UTC)", "model", "placement", "layers", "ctx", "outcome"),
                               rows, indent="           "):
            print(line)
        if len(s.loads) > TEXT_LOADS:
            print(f"           ... {len(s.loads) - TEXT_LOADS} more (--format csv lists every load)")
    names = Counter(g["name"] or g["library"] or "?" for g in gpus)
    print(f"  gpus     {len(gpus)}" + ("  (" + ", ".join(f"{k} x{v}" if v > 1 else k for k, v in names.items()) + ")"
                                       if gpus else ""))
    empty = [short[f["file"]] for f in s.files if f["error"] is None and f["physical"] == f["blank"]]
    if empty:
        print("  empty    " + ", ".join(empty))
    not_ollama = [short[f["file"]] for f in s.not_ollama()]
    if not_ollama:
        print("  no Ollama lines found in " + ", ".join(not_ollama))
    if out is not None:
        if len(targets) == 1:
            print(f"wrote {next(iter(targets.values()))}")
        else:
            print(f"wrote {os.path.join(os.path.normpath(out), '')}{{{','.join(S.TABLES)}}}.parquet")


def _na(v) -> str:
    return "?" if v is None else str(v)
