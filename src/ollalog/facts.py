"""What the log says around each load, gathered by DuckDB queries over the views.

For every row of `loads`: the events it was read from (its `evidence_lines`), the server start it
belongs to (the last `server config` / `Listening on` at or before it, in the same file) with that
start's configuration, GPU discovery and inventory, the scheduler's lines between the start and the
load (evictions, VRAM that did not come back, other runners), and the loads that came before it in
the same server run (taken from the load rows). `explain` reads these facts; it never scans the
tables itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from .views import arrow_events, rows

# events of a server start that say what hardware and settings its loads met
START_EVENTS = ("server_config", "listening", "no_gpu", "gpu_unsupported", "gpu_error", "visible_devices",
                "dynamic_libraries", "gpu_discovery", "vram_default_ctx", "gpu_overhead_detected",
                "inference_compute")
# scheduler events between the previous load and this one that say what held memory
BETWEEN_EVENTS = ("vram_not_recovered", "evicting", "updated_vram", "runtime_oom", "fits_alongside")
CONTEXT_EVENTS = START_EVENTS + BETWEEN_EVENTS


def events_used() -> frozenset:
    """The catalogued events the facts are made of: those loads are assembled from (a load's
    evidence) and the server-start and scheduler context. What `why` asks `read()` to keep."""
    from .assemble import Assembler
    return Assembler.handled() | frozenset(CONTEXT_EVENTS)


EARLIER = 8          # loads of the same server start a load is compared with

_EVENT_COLS = "e.line, e.event, e.kind, e.level, e.source, e.msg, e.attrs, e.time, e.end_line"


def _names(names) -> str:
    return ", ".join("'%s'" % n for n in names)


# every load with its server start (the last `server config`, or a `Listening on` not preceded by
# one, at or before it) and the first line of the load before it in the same file (`prev_end`:
# what the scheduler said since that load began concerns this one); each later query joins
# these bounds with a small, pre-filtered set of rows, so the cost grows with the loads, not with
# loads x events
BOUNDS_TABLE_SQL = """
CREATE OR REPLACE TEMP TABLE why_bounds_all AS
WITH starts AS (
  SELECT file, line FROM (
    SELECT file::VARCHAR AS file, line, event,
           lag(event) OVER (PARTITION BY file ORDER BY line) AS prev
    FROM events WHERE event IN ('server_config', 'listening')) s
  WHERE event = 'server_config' OR prev IS DISTINCT FROM 'server_config'),
ls AS (SELECT load_idx, file, line, end_line,
              lag(line) OVER (PARTITION BY file ORDER BY line) AS prev_end FROM loads),
b AS (
  SELECT ls.load_idx, ls.file, ls.line, ls.end_line, coalesce(s.line, 0) AS start, ls.prev_end
  FROM ls ASOF LEFT JOIN starts s ON s.file = ls.file AND s.line <= ls.line)
SELECT load_idx, file, line, end_line, start,
       CASE WHEN prev_end IS NULL OR prev_end < start THEN start ELSE prev_end END AS prev_end
FROM b
"""

# the bounds of a slice's loads
BOUNDS_SQL = "CREATE OR REPLACE TEMP TABLE why_bounds AS SELECT * FROM why_bounds_all WHERE list_contains(?, load_idx)"

# the events of each load's evidence_lines, from {events} (the view, or a slice's rows of it); the
# line range (?, ?) spans the slice's evidence, so that the scan keeps only those lines' rows
# before the join
EVIDENCE_SQL = f"""
WITH ev AS (SELECT l.load_idx, l.file, unnest(l.evidence_lines) AS line
            FROM loads l JOIN why_bounds b ON b.load_idx = l.load_idx)
SELECT ev.load_idx, {_EVENT_COLS}
FROM ev JOIN {{events}} e ON e.file::VARCHAR = ev.file AND e.line = ev.line
WHERE e.line BETWEEN ? AND ?
ORDER BY ev.load_idx, e.line
"""

# the events of server starts and of the scheduler between loads: few, taken from events once per
# gather (facts.each) rather than once per slice
CONTEXT_TABLE_SQL = f"""
CREATE OR REPLACE TEMP TABLE why_context AS
SELECT * FROM events WHERE event IN ({_names(CONTEXT_EVENTS)})
"""

CONTEXT_SQL = f"""
SELECT b.load_idx, {_EVENT_COLS}
FROM why_bounds b JOIN why_context e ON e.file::VARCHAR = b.file AND e.line < b.line
 AND ((e.event IN ({_names(START_EVENTS)}) AND e.line >= b.start)
      OR (e.event IN ({_names(BETWEEN_EVENTS)}) AND e.line >= b.prev_end))
ORDER BY b.load_idx, e.line
"""

GPUS_SQL = """
SELECT b.load_idx, g.*
FROM why_bounds b JOIN gpus g ON g.file = b.file
 AND ((g.origin = 'server' AND g.line >= b.start AND g.line <= b.line)
      OR (g.origin <> 'server' AND g.line >= b.line AND g.line <= b.end_line))
ORDER BY b.load_idx, g.line
"""

# what a load's facts keep of each load before it in its file (`LoadFacts.earlier`)
EARLIER_FIELDS = ("load_idx", "line", "end_line", "model_blob", "model_name", "placement", "outcome",
                  "layers_offloaded", "layers_total", "required_partial_bytes", "required_full_bytes")


@dataclass
class Event:
    line: int
    event: Optional[str]
    kind: Optional[str]
    level: Optional[str]
    source: Optional[str]
    msg: str
    attrs: dict
    time: object = None
    end_line: int = 0          # last physical line of the record (a wrapped record spans several)

    def text(self) -> str:
        """The record as it read in the log, rebuilt from its parts (prefixes dropped)."""
        if self.kind in ("slog",):
            parts = [f"level={self.level}"] if self.level else []
            parts.append("msg=" + _quote(self.msg))
            parts += [f"{_quote(k)}={_quote(v)}" for k, v in self.attrs.items()]
            return " ".join(parts)
        if self.kind == "log":
            body = " ".join([self.level or "", self.msg] + [f"{k}={_quote(v)}" for k, v in self.attrs.items()])
            return body.strip()
        if self.source and self.kind == "llama":
            return f"{self.source}: {self.msg}"
        return self.msg


def _quote(s) -> str:
    s = "" if s is None else str(s)
    if s and not re.search(r'[\s="\\]', s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _event(r: dict) -> Event:
    attrs = {}
    for k, v in (r.get("attrs") or {}).items() if isinstance(r.get("attrs"), dict) else (r.get("attrs") or []):
        attrs.setdefault(k, v)
    return Event(line=r["line"], event=r["event"], kind=r["kind"], level=r["level"], source=r["source"],
                 msg=r["msg"] or "", attrs=attrs, time=r["time"], end_line=r.get("end_line") or r["line"])


def to_event(row: dict) -> Event:
    """An Event from a row of the events view with the columns of `_EVENT_COLS`."""
    return _event(row)


@dataclass
class LoadFacts:
    """One load and what the log says around it."""
    load: dict
    evidence: list = field(default_factory=list)     # Events the load was read from
    context: list = field(default_factory=list)      # Events of its server start before it
    gpus: list = field(default_factory=list)         # inventory rows of that start
    earlier: list = field(default_factory=list)      # loads of the same start before it
    start_line: int = 0

    def first(self, event: str, where: str = "evidence") -> Optional[Event]:
        return next((e for e in getattr(self, where) if e.event == event), None)

    def all(self, event: str, where: str = "evidence") -> list:
        return [e for e in getattr(self, where) if e.event == event]

    @property
    def config(self) -> dict:
        from .assemble import parse_config
        ev = [e for e in self.context if e.event == "server_config"]
        return parse_config(ev[-1].attrs.get("env", "")) if ev else {}

    @property
    def config_event(self) -> Optional[Event]:
        ev = [e for e in self.context if e.event == "server_config"]
        return ev[-1] if ev else None


# loads whose facts are gathered at a time: what each query returns, and the facts alive at once
# while a caller explains them, stay the size of a slice, not of the log
GATHER_SLICE = 64


def gather(con, only: Optional[list] = None) -> list[LoadFacts]:
    """LoadFacts for the rows of the `loads` view (all, or the `load_idx` values in `only`), in
    load order."""
    return list(each(con, only))


def each(con, only: Optional[list] = None, per: Optional[int] = None,
         loads: Optional[list] = None) -> Iterator[LoadFacts]:
    """The LoadFacts of `gather`, in load order, gathered `per` (default GATHER_SLICE) loads at a
    time: a caller that keeps only what it makes of each holds the facts of one slice. A slice's
    queries are all run before its first facts are yielded, so the caller may query `con` (or
    gather) in between.

    Where the events view is of an Arrow table (views.arrow_events), each slice looks its evidence
    up in only the rows of its lines: DuckDB converts every row of an Arrow table it scans,
    whatever the filter (about 0.1 s for 185,000 events). `loads`: the rows of
    `SELECT * FROM loads ORDER BY load_idx`, when the caller has them."""
    per = per or GATHER_SLICE
    events = arrow_events(con)
    if loads is None:
        loads = rows(con, "SELECT * FROM loads ORDER BY load_idx")
    earlier = _earlier(loads)
    if only is not None:
        keep = set(only)
        loads = [ld for ld in loads if ld["load_idx"] in keep]
    if not loads:
        return
    con.execute(CONTEXT_TABLE_SQL)
    con.execute(BOUNDS_TABLE_SQL)
    for i in range(0, len(loads), per):
        yield from _gather(con, loads[i:i + per], events, earlier)


def _earlier(loads: list) -> dict:
    """load_idx -> the loads before it in its file, at most EARLIER, oldest first (EARLIER_FIELDS
    of each). From the load rows: a window over `loads` in DuckDB held about 20 MB for 2,748 loads."""
    by_file: dict = {}
    for ld in loads:
        by_file.setdefault(ld["file"], []).append(ld)
    out = {}
    for lds in by_file.values():
        lds.sort(key=lambda ld: ld["line"])
        brief = [{k: ld.get(k) for k in EARLIER_FIELDS} for ld in lds]
        for i, ld in enumerate(lds):
            out[ld["load_idx"]] = brief[max(0, i - EARLIER):i]
    return out


def _gather(con, loads: list, events, earlier: dict) -> list[LoadFacts]:
    out = {ld["load_idx"]: LoadFacts(load=ld) for ld in loads}
    con.execute(BOUNDS_SQL, [sorted(out)])
    for r in rows(con, "SELECT load_idx, start FROM why_bounds"):
        f = out[r["load_idx"]]
        f.start_line = r["start"]
        f.earlier = [o for o in earlier[r["load_idx"]] if o["line"] >= r["start"]]
    lines = sorted({n for ld in loads for n in (ld.get("evidence_lines") or ())})
    if lines:
        source = "events"
        if events is not None:
            con.register("why_slice_events", _rows_of_lines(events, lines))
            source = "why_slice_events"
        for r in rows(con, EVIDENCE_SQL.format(events=source), [lines[0], lines[-1]]):
            out[r["load_idx"]].evidence.append(_event(r))
        if events is not None:
            con.unregister("why_slice_events")
    for r in rows(con, CONTEXT_SQL):
        out[r["load_idx"]].context.append(_event(r))
    for r in rows(con, GPUS_SQL):
        i = r.pop("load_idx")
        out[i].gpus.append(r)
    return [out[i] for i in sorted(out)]


def _rows_of_lines(events, lines: list):
    """The rows of the Arrow table `events` whose line is one of `lines` (in any file: the query
    matches the file)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    line = events.column("line")
    return events.filter(pc.is_in(line, value_set=pa.array(lines, line.type)))
