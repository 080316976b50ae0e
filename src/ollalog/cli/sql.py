"""`ollalog sql LOGS... "SELECT ..."`: SQL over the tables as DuckDB views (views.py)."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import os
import re
import sys
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError, UsageError
from . import command
from .common import Debug, Engine, Host, Year

FORMATS = ("table", "csv", "json", "markdown")


def _params(items: list[str]) -> dict[str, str]:
    out = {}
    for it in items:
        name, eq, value = it.partition("=")
        if not eq or not name.isidentifier():
            raise typer.BadParameter(f"{it!r}: expected NAME=VALUE", param_hint="-p")
        out[name] = value
    return out


def _schema_text() -> str:
    from ..views import describe_views
    out = []
    for view, intro, cols in describe_views():
        out.append(f"{view}: {intro}")
        for name, typ, desc in cols:
            out.append(f"  {name:<24} {typ:<28} {desc}")
    return "\n".join(out)


def _queries_text() -> str:
    from ..views import queries
    out = []
    for q in queries().values():
        out.append(f"{q.name}: {q.description}")
        for p in q.params:
            out.append(f"  -p {p.name}=VALUE   {p.description} (default {p.default})")
    return "\n".join(out)


@command("sql")
def sql(
    args: Annotated[Optional[List[str]], typer.Argument(
        metavar="ARGS", show_default=False,
        help="Log files, directories, globs or - (stdin), then the SQL (or - to read it from stdin), "
             "unless --query or --file gives it.")] = None,
    query: Annotated[Optional[str], typer.Option("--query", metavar="NAME",
                                                 help="Run a named query (see --list-queries).")] = None,
    file: Annotated[Optional[str], typer.Option("--file", "-f", metavar="FILE",
                                                help="Read the SQL from FILE (- for stdin).")] = None,
    param: Annotated[Optional[List[str]], typer.Option("--param", "-p", metavar="NAME=VALUE",
                                                       help="Bind $NAME to VALUE (repeatable; never pasted into the SQL).")] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT",
                                     help="table (default; also text), csv, json (a list of row objects) or markdown.")] = "table",
    data: Annotated[Optional[str], typer.Option("--data", metavar="DIR",
                                                help="Query a dataset written by `ollalog ingest` instead of logs.")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", metavar="FILE", help="Write the result to FILE.")] = None,
    host: Host = None,
    year: Year = None,
    engine: Engine = "c",
    schema_only: Annotated[bool, typer.Option("--schema", help="Print the views and their columns, then exit.")] = False,
    list_queries: Annotated[bool, typer.Option("--list-queries", help="Print the named queries, then exit.")] = False,
    debug: Debug = False,
) -> None:
    """SQL over the tables (events, requests, loads, gpus, lines, evidence, load_models, verdicts) of logs or a dataset."""
    if schema_only:
        print(_schema_text())
        return
    if list_queries:
        print(_queries_text())
        return
    fmt = "table" if fmt == "text" else fmt
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose from {', '.join(FORMATS)}", param_hint="--format")
    from ..read import ENGINES
    if engine not in ENGINES:
        raise typer.BadParameter(f"choose from {', '.join(ENGINES)}", param_hint="--engine")
    args = list(args or [])
    given = sum(x is not None for x in (query, file))
    if given > 1:
        raise typer.BadParameter("give the SQL one way: --query NAME or -f FILE", param_hint="--query")
    from .. import views

    params = _params(param or [])
    if query is not None:
        try:
            q = views.query(query)
            text, params = q.sql, q.bind(params)
        except UsageError as e:
            raise typer.BadParameter(str(e), param_hint="--query") from None
        logs = args
    elif file is not None:
        text = sys.stdin.read() if file == "-" else _read_sql(file)
        logs = args
    else:
        if not args:
            raise typer.BadParameter("give logs and a query (the last argument), --query NAME or -f FILE",
                                     param_hint="ARGS")
        logs, text = args[:-1], args[-1]
        if text == "-":
            text = sys.stdin.read()
        elif os.path.exists(text) and not any(w in text.upper() for w in ("SELECT", "FROM", "WITH", "SHOW", "DESCRIBE")):
            raise typer.BadParameter(f"the last argument is the SQL, and {text} is a file: put the query after "
                                     "the logs, or use --query NAME or -f FILE", param_hint="ARGS")
    if data is not None and logs:
        raise typer.BadParameter("give logs or --data DIR, not both", param_hint="--data")
    if data is None and not logs:
        raise typer.BadParameter("give at least one log file, directory, glob or -, or --data DIR", param_hint="ARGS")
    sql_from_stdin = file == "-" or (query is None and file is None and args[-1] == "-")
    if sql_from_stdin and "-" in logs:
        raise typer.BadParameter("stdin can hold the logs or the SQL, not both", param_hint="ARGS")
    failures = _run(text, params, logs, data, host, engine, fmt, out, year)
    if failures:
        raise typer.Exit(1)


def _read_sql(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None


def _run(text, params, logs, data, host, engine, fmt, out, year=None) -> int:
    from .. import views
    from ..read import read

    failures: list = []

    def report(e: InputError) -> None:
        failures.append(e)
        print(f"ollalog: error: {e}", file=sys.stderr)

    want_verdicts = re.search(r"\bverdicts\b", text, re.I) is not None  # the estimator runs only when asked
    if data is not None:
        try:
            con = views.connect(data, verdicts=want_verdicts)
        except FileNotFoundError:
            raise InputError(data, "not an ollalog dataset (write one with `ollalog ingest LOGS --to DIR`)") from None
    else:
        con = views.connect(read(logs, host=host, year=year, engine=engine, on_error=report), verdicts=want_verdicts)
    rel = views.run(con, text, params)
    if rel is None:
        return len(failures)
    sink = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        _render(rel, fmt, sink)
    finally:
        if out:
            sink.close()
    return len(failures)


# -- output ------------------------------------------------------------------------------------

def _batches(rel):
    import duckdb

    from ..views import QueryError, _one_line
    try:
        yield from rel.to_arrow_reader(4096)
    except duckdb.Error as e:
        raise QueryError(_one_line(e)) from None


def _render(rel, fmt: str, sink) -> None:
    cols = list(rel.columns)
    if fmt == "csv":
        w = csv.writer(sink)
        w.writerow(cols)
        for b in _batches(rel):
            for row in b.to_pylist():
                w.writerow([_csv_value(row[c]) for c in cols])
        return
    if fmt == "json":
        sink.write("[")
        first = True
        for b in _batches(rel):
            for row in b.to_pylist():
                sink.write("\n  " if first else ",\n  ")
                sink.write(json.dumps({c: _json_value(row[c]) for c in cols}, ensure_ascii=False))
                first = False
        sink.write("\n]\n" if not first else "]\n")
        return
    rows = [[row[c] for c in cols] for b in _batches(rel) for row in b.to_pylist()]
    if fmt == "markdown":
        sink.write("| " + " | ".join(_md(c) for c in cols) + " |\n")
        sink.write("|" + "|".join("---:" if _numeric(rows, i) else "---" for i in range(len(cols))) + "|\n")
        for r in rows:
            sink.write("| " + " | ".join(_md(_text(v)) for v in r) + " |\n")
        return
    cells = [[_text(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    right = [_numeric(rows, i) for i in range(len(cols))]

    def line(vals):
        return "  ".join(v.rjust(w) if rt else v.ljust(w) for v, w, rt in zip(vals, widths, right)).rstrip()

    sink.write(line(cols) + "\n")
    sink.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        sink.write(line(r) + "\n")
    sink.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _numeric(rows, i) -> bool:
    vals = [r[i] for r in rows if r[i] is not None]
    return bool(vals) and all(isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool) for v in vals)


_CONTROL = {i: f"\\x{i:02x}" for i in range(32)}
_CONTROL.update({0x7f: "\\x7f", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_CONTROL.update({i: f"\\x{i:02x}" for i in range(0x80, 0xa0)})  # C1 controls (0x9b is a CSI too)


def _text(v) -> str:
    """A value as one line of text, with control characters shown, not sent to the terminal."""
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return v.translate(_CONTROL)
    if isinstance(v, dt.datetime):
        spec = "milliseconds" if v.microsecond % 1000 == 0 else "microseconds"
        return v.isoformat(sep=" ", timespec=spec).replace("+00:00", "Z")
    return json.dumps(_json_value(v), ensure_ascii=False).translate(_CONTROL) if isinstance(v, (list, dict, tuple)) \
        else str(_json_value(v)).translate(_CONTROL)


def _md(s: str) -> str:
    return (s.replace("\\", "\\\\").replace("|", "\\|").replace("&", "&amp;")
            .replace("<", "&lt;").replace(">", "&gt;"))


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(_json_value(v), ensure_ascii=False)
    j = _json_value(v)
    return j


def _json_value(v):
    """JSON for what DuckDB returns: times in ISO 8601, intervals in seconds, maps as objects."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dt.datetime):
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, bytes):
        return v.hex()
    if hasattr(v, "months") and hasattr(v, "nanoseconds"):  # pyarrow MonthDayNano
        if v.months == 0:
            return v.days * 86400 + v.nanoseconds / 1e9
        return f"P{v.months}M{v.days}DT{v.nanoseconds / 1e9}S"
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):  # a map's (key, value) pairs
            return {str(k): _json_value(x) for k, x in v}
        return [_json_value(x) for x in v]
    return str(v)
