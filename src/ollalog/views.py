"""Stage 4, query: the tables as DuckDB views, and the named queries over them.

    con = views.connect(ollalog.read(["server.log"]))      # Arrow tables, scanned in place
    con = views.connect("fleet-dataset/")                   # a dataset written by `ollalog ingest`
    con.sql("SELECT host, count(*) FROM loads GROUP BY host ORDER BY host")

`connect()` makes the five tables (`events`, `requests`, `loads`, `gpus`, `lines`) views with the
columns of schema.py, whatever they come from (`loads` also has `load_idx`, its row number: in the
read's order for Arrow tables, by file and line for a dataset), plus two derived views: `evidence` (every event a
load was read from, with the load's `load_id`) and `load_models` (a display name per load). Arrow
tables are registered, not copied; a dataset's committed Parquet files are read where they lie.
Times are shown in UTC (the connection's `TimeZone`; `SET TimeZone = '...'` changes it).

Named queries live in `queries/*.sql`, one file each: a first comment line with the description,
`-- param NAME = DEFAULT: meaning` lines for their bound parameters, then the SQL. They are data:
`ollalog sql --query NAME` runs one, `queries()` lists them, docs/queries.md is generated from them.
"""
from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pyarrow as pa

from . import schema as S
from .errors import OllalogError, UsageError

QUERY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "queries")

# Views derived from the tables: name -> (SQL, one-line description, {column: description}).
DERIVED = {
    "evidence": (
        """SELECT l.load_id, e.*
           FROM (SELECT load_id, file_id, unnest(evidence_lines) AS line FROM loads) AS l
           JOIN events AS e ON e.file_id = l.file_id AND e.line = l.line""",
        "every event a load was read from: load_id, then the events columns",
        {"load_id": "the load (loads.load_id) this event is evidence of"}),
    "load_models": (
        r"""WITH tags AS (
               SELECT model_blob, min(model_name) AS tag FROM loads
               WHERE model_name IS NOT NULL AND model_blob IS NOT NULL
               GROUP BY model_blob HAVING count(DISTINCT model_name) = 1)
           SELECT l.load_id,
                  regexp_replace(coalesce(l.model_name, t.tag, l.general_name, left(l.model_blob, 12), '?'),
                                 '^registry\.ollama\.ai/library/', '') AS model
           FROM loads AS l LEFT JOIN tags AS t USING (model_blob)""",
        "a display name per load: its tag, else the tag seen for its blob, else the GGUF name, else the blob",
        {"load_id": "the load (loads.load_id)",
         "model": "tag without the default registry prefix, else the only tag its blob was seen with, "
                  "else general_name, else the first 12 hex of the blob"}),
}
VIEWS = tuple(S.TABLES) + tuple(DERIVED)
ALL_VIEWS = VIEWS + ("verdicts",)


def connect(tables=None, con=None, *, verdicts: bool = False):
    """A DuckDB connection with the tables as views (see the module's doc).

    `tables`: a `Tables` from `ollalog.read()`, a mapping of table name to a pyarrow Table (a
    missing table is an empty one), or the folder of a dataset written by `ollalog ingest`.
    `con`: a connection to add the views to (default: a new in-memory one). `verdicts`: also the
    `verdicts` view (verdicts.py: why's answer per load; it runs the estimator for every load).
    Returns the connection.
    """
    import duckdb

    if con is None:
        con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    _ARROW_EVENTS.pop(con, None)
    if isinstance(tables, (str, os.PathLike)):
        _dataset_views(con, os.fspath(tables))
    else:
        _ARROW_EVENTS[con] = _arrow_views(con, tables)
    for name, (sql, _, _) in DERIVED.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    if verdicts:
        from .verdicts import table
        con.register("verdicts", table(con))
    return con


# connection -> the Arrow table behind its events view, where connect() registered one
_ARROW_EVENTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def arrow_events(con) -> Optional[pa.Table]:
    """The Arrow table that connect() made the events view of `con`, if it made one (a dataset's
    views read Parquet). facts.each looks a slice's evidence up in it: DuckDB converts every row of
    an Arrow table it scans, whatever the filter."""
    return _ARROW_EVENTS.get(con)


def _empty(name: str) -> pa.Table:
    return S.schema(name).empty_table()


def _arrow_views(con, tables) -> pa.Table:
    """Each table as a view of its Arrow table; returns the events table."""
    events = None
    for name in S.TABLES:
        t = None
        if tables is not None:
            t = tables[name] if not isinstance(tables, Mapping) else tables.get(name)
        t = t if t is not None else _empty(name)
        if name == "loads":
            t = with_load_index(t)
        con.register(name, t)
        if name == "events":
            events = t
    return events


def with_load_index(loads: pa.Table) -> pa.Table:
    """`loads` with `load_idx`, the row number in the read (why's key for a load within one read)."""
    if "load_idx" in loads.column_names:
        return loads
    return loads.append_column("load_idx", pa.array(range(loads.num_rows), pa.int64()))


def rows(con, sql: str, params: Optional[list] = None) -> list[dict]:
    """Run a query and return its rows as dicts (parameters bound, never formatted in)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _dataset_views(con, path: str) -> None:
    from .dataset import committed_files

    files = committed_files(path)
    for name in S.TABLES:
        if not files.get(name):
            con.register(name, with_load_index(_empty(name)) if name == "loads" else _empty(name))
            continue
        cols = ", ".join(f'"{f.name}"' for f in S.schema(name))
        if name == "loads":
            cols += ", (row_number() OVER (ORDER BY file, line) - 1)::BIGINT AS load_idx"
        rel = con.sql(f"SELECT {cols} FROM read_parquet($files, hive_partitioning = true, union_by_name = true, "
                      "hive_types = {'host': VARCHAR, 'day': DATE})", params={"files": files[name]})
        rel.create_view(name, replace=True)


# -- named queries -----------------------------------------------------------------------------

@dataclass
class Param:
    name: str
    default: str
    description: str


@dataclass
class Query:
    name: str
    description: str
    sql: str
    params: list[Param] = field(default_factory=list)

    def bind(self, given: Mapping[str, str]) -> dict[str, str]:
        """The parameter values for a run: the given ones over the defaults; unknown names fail."""
        known = {p.name: p.default for p in self.params}
        extra = sorted(set(given) - set(known))
        if extra:
            have = ", ".join(known) or "none"
            raise UsageError(f"query {self.name} has no parameter {', '.join(extra)} (its parameters: {have})")
        return {**known, **given}


PARAM = re.compile(r"--\s*param\s+([A-Za-z_]\w*)\s*=\s*(\S+)\s*:\s*(.+)$")


def parse_query(name: str, text: str) -> Query:
    lines = text.splitlines()
    if not lines or not lines[0].startswith("--"):
        raise ValueError(f"query {name}: the first line must be a `-- description` comment")
    q = Query(name, lines[0].lstrip("-").strip(), text)
    for ln in lines[1:]:
        m = PARAM.match(ln.strip())
        if m:
            q.params.append(Param(*m.groups()))
        elif not ln.startswith("--"):
            break
    return q


def queries() -> dict[str, Query]:
    """The named queries, by name (the .sql file names), in name order."""
    out = {}
    for fn in sorted(os.listdir(QUERY_DIR)):
        if fn.endswith(".sql"):
            name = fn[:-4]
            with open(os.path.join(QUERY_DIR, fn), encoding="utf-8") as f:
                out[name] = parse_query(name, f.read())
    return out


def query(name: str) -> Query:
    qs = queries()
    if name not in qs:
        raise UsageError(f"no query named {name!r} (named queries: {', '.join(qs)})")
    return qs[name]


class QueryError(OllalogError, ValueError):
    """SQL that DuckDB could not run; the message is DuckDB's first line, with the line it names."""


def run(con, sql: str, params: Mapping[str, str] | None = None):
    """Run SQL (one or more statements) with bound parameters (values are never put into the SQL
    text); the last statement's relation, or None when it has no result. Raises QueryError."""
    import duckdb

    try:
        return con.sql(sql, params=dict(params) if params else None)
    except duckdb.Error as e:
        raise QueryError(_one_line(e)) from None


def _one_line(e: Exception) -> str:
    text = str(e).strip()
    first = text.splitlines()[0] if text else type(e).__name__
    m = re.search(r"^LINE (\d+):", text, re.M)
    return f"{first} (SQL line {m.group(1)})" if m else first


# -- schema text -------------------------------------------------------------------------------

def describe_views() -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(view, description, [(column, DuckDB type, description)]) for every view."""
    con = connect(None, verdicts=True)
    out = []
    intros = {"events": "every parsed line that is not a [GIN] request", "requests": "every [GIN] access line",
              "loads": "one row per model load attempt", "gpus": "GPU inventory lines",
              "lines": "line accounting, one row per input file"}
    ev_desc = {n: d for n, _, d in S.describe("events")}
    extra = {"load_idx": "row number of the load in the read (in a dataset: ordered by file and line)"}
    from .verdicts import COLUMNS
    for view in ALL_VIEWS:
        cols = con.execute(f"DESCRIBE {view}").fetchall()
        if view == "verdicts":
            intro = "why's answer for every load: cause, num_ctx thresholds, estimate against the log"
            desc = {n: d for n, _, d in COLUMNS}
        elif view in S.TABLES:
            desc = {**{n: d for n, _, d in S.describe(view)}, **extra}
            intro = intros.get(view, "")
        else:
            _, intro, own = DERIVED[view]
            desc = {**ev_desc, **own} if view == "evidence" else own
        out.append((view, intro, [(c[0], c[1], desc.get(c[0], "")) for c in cols]))
    return out
