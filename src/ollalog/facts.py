"""What the log says around each load, gathered by DuckDB queries over the views.

For every row of `loads`: the events it was read from (its `evidence_lines`), the server start it
belongs to (the last `server config` / `Listening on` at or before it, in the same file) with that
start's configuration, GPU discovery and inventory, the scheduler's lines between the start and the
load (evictions, VRAM that did not come back, other runners), and the loads that came before it in
the same server run. `explain` reads these facts; it never scans the tables itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .views import rows

# events of a server start that say what hardware and settings the loads met
CONTEXT_EVENTS = ("server_config", "listening", "no_gpu", "gpu_unsupported", "gpu_error",
                  "visible_devices", "dynamic_libraries", "gpu_discovery", "vram_default_ctx",
                  "gpu_overhead_detected", "inference_compute", "vram_not_recovered", "evicting",
                  "updated_vram", "runtime_oom", "fits_alongside", "runner_summary", "cuda_init_failed",
                  "backend_loaded")

_EVENT_COLS = "e.line, e.event, e.kind, e.level, e.source, e.msg, e.attrs, e.time"

_STARTS = """
starts AS (
  SELECT file, line FROM (
    SELECT file::VARCHAR AS file, line, event,
           lag(event) OVER (PARTITION BY file ORDER BY line) AS prev
    FROM events WHERE event IN ('server_config', 'listening')) s
  WHERE event = 'server_config' OR prev IS DISTINCT FROM 'server_config'),
bounds AS (
  SELECT l.load_idx, l.file, l.line,
         coalesce((SELECT max(s.line) FROM starts s WHERE s.file = l.file AND s.line <= l.line), 0) AS start
  FROM loads l)
"""

EVIDENCE_SQL = f"""
WITH ev AS (SELECT load_idx, file, unnest(evidence_lines) AS line FROM loads)
SELECT ev.load_idx, {_EVENT_COLS}, e.end_line
FROM ev JOIN events e ON e.file::VARCHAR = ev.file AND e.line = ev.line
ORDER BY ev.load_idx, e.line
"""

CONTEXT_SQL = f"""
WITH {_STARTS}
SELECT b.load_idx, b.start, {_EVENT_COLS}
FROM bounds b JOIN events e
  ON e.file::VARCHAR = b.file AND e.line >= b.start AND e.line < b.line
WHERE e.event IN ({", ".join("'%s'" % n for n in CONTEXT_EVENTS)})
ORDER BY b.load_idx, e.line
"""

GPUS_SQL = f"""
WITH {_STARTS}
SELECT b.load_idx, g.*
FROM bounds b JOIN gpus g ON g.file = b.file AND g.line >= b.start AND g.line <= b.line
ORDER BY b.load_idx, g.line
"""

EARLIER_SQL = f"""
WITH {_STARTS}
SELECT b.load_idx AS of_load, o.load_idx, o.line, o.end_line, o.model_blob, o.model_name, o.placement,
       o.outcome, o.layers_offloaded, o.layers_total, o.required_partial_bytes, o.required_full_bytes
FROM bounds b JOIN loads o ON o.file = b.file AND o.line >= b.start AND o.line < b.line
ORDER BY b.load_idx, o.line
"""

STARTS_SQL = f"""
WITH {_STARTS}
SELECT load_idx, start FROM bounds ORDER BY load_idx
"""


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


def gather(con) -> list[LoadFacts]:
    """LoadFacts for every row of the `loads` view, in load order."""
    loads = rows(con, "SELECT * FROM loads ORDER BY load_idx")
    out = [LoadFacts(load=ld) for ld in loads]
    for r in rows(con, EVIDENCE_SQL):
        out[r["load_idx"]].evidence.append(_event(r))
    for r in rows(con, CONTEXT_SQL):
        out[r["load_idx"]].context.append(_event(r))
    for r in rows(con, STARTS_SQL):
        out[r["load_idx"]].start_line = r["start"]
    for r in rows(con, GPUS_SQL):
        i = r.pop("load_idx")
        out[i].gpus.append(r)
    for r in rows(con, EARLIER_SQL):
        out[r.pop("of_load")].earlier.append(r)
    return out
