"""`report`: a post-mortem of logs (or of a dataset) as plain data, for the HTML page and its
Markdown twin (`render.html`, `render.markdown.render_report`).

    r = report(["server.log"])          # or report(data="fleet-ds/")
    r["models"][0]["chart"]["curves"]   # the estimator's memory and layers over num_ctx

Nothing here is worked out anew: the verdicts, thresholds and advice are `why --all`'s
(`why.explain_all`), the curves are the same estimators run over a grid of num_ctx
(`estimate.curve`), the findings are the named queries (`queries/*.sql`) run as they are, and the
timeline and warnings are SQL over the views. What comes back:

- `summary`: counts of loads by placement, hosts, models, requests, server errors, evictions, warnings.
- `models`: `why --all`'s groups (`model`, `resolved`, `loads`, `recommendations`), each with a
  `chart`: per load the free VRAM and what a full load needs by part, and up to MAX_CURVES
  estimator curves (one per distinct estimate: repeated loads of one model on one server share one).
- `hosts`: a timeline per host (per file where the log names no host): loads (loading, resident,
  failed), the scheduler's evictions, VRAM that did not come back, errors and warnings, and the
  requests counted per time bucket by status class.
- `warnings`: the lines that matter (WARN and ERROR, and the events of WARNING_EVENTS at any
  level), grouped by host and message, with a count and the first occurrence.
- `findings`: the named queries of FINDINGS, their rows as dicts.
- `inputs`: per file its host, line accounting and time span; the inputs that could not be read.

Times are datetimes in UTC and sizes bytes; everything is ordered, so the same logs give the same
report.
"""
from __future__ import annotations

import decimal
from typing import Callable, Iterable, Optional

import numpy as np

from . import estimate, views
from . import facts as F
from .errors import InputError, UsageError

# the named queries a post-mortem shows as they are
FINDINGS = ("5xx-near-loads", "evictions", "vram-not-recovered", "time-to-load")

CURVE_POINTS = 96        # num_ctx values of a curve (log-spaced), besides the loads' and the thresholds'
MAX_CURVES = 4           # distinct estimator curves drawn per model, the latest ones
MAX_MARKERS = 2000       # warning and scheduler markers per host timeline, the first ones
MAX_BUCKETS = 150        # request bars per host timeline
BUCKET_SECONDS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
NEED_POINTS = 40         # free VRAM values the need line is searched at
ROOMY = float(1 << 50)   # free VRAM that holds any model, to size that search
TEXT_LIMIT = 1000        # characters of a warning's text kept (a prompt logged at DEBUG can be huge)

# catalogued events that matter at any level: event -> (severity, what it means)
WARNING_EVENTS = {
    "oom": ("error", "out of memory"),
    "runtime_oom": ("error", "out of memory while running"),
    "panic": ("error", "a runner panicked"),
    "runner_terminated": ("error", "the runner died"),
    "load_failed": ("error", "a load failed"),
    "layout_failed": ("error", "the memory layout could not be allocated"),
    "fit_failed": ("error", "llama.cpp's fit failed"),
    "cuda_init_failed": ("error", "the GPU backend failed to initialise"),
    "too_large_for_system": ("error", "a model too large for system memory"),
    "no_gpu": ("warning", "no compatible GPU found"),
    "gpu_unsupported": ("warning", "a GPU was left out"),
    "gpu_error": ("warning", "GPU discovery had an error"),
    "gpu_too_little": ("warning", "too little VRAM for any layer"),
    "vram_not_recovered": ("warning", "VRAM not back after an unload"),
    "evicting": ("warning", "a loaded model unloaded to make room"),
    "ctx_too_large": ("warning", "a context larger than the model's"),
    "parallel_forced": ("warning", "no parallel requests for this model"),
    "layout_backoff": ("warning", "the layout did not fit: backing off"),
    "fit_deficit": ("warning", "llama.cpp's fit missed its free-memory target"),
    "pinned_fallback": ("warning", "pinned memory not available"),
    "truncating_prompt": ("warning", "prompts cut to num_ctx"),
    "client_closed": ("warning", "a client left before the model loaded"),
}
SEVERITY_ORDER = {"error": 0, "warning": 1}
FAILED = ("oom", "crashed", "timeout", "refused")

_NOTABLE = ", ".join(f"'{e}'" for e in sorted(WARNING_EVENTS))

WARNINGS_SQL = f"""
SELECT host::VARCHAR AS host, file::VARCHAR AS file, line, end_line, time, level, event::VARCHAR AS event,
       kind::VARCHAR AS kind, source, msg, attrs
FROM events
WHERE event IN ({_NOTABLE}) OR level IN ('WARN', 'ERROR')
ORDER BY host NULLS LAST, file, line
"""

# a load's spans: loading (first line to runner started), resident (to the unload, or the end)
LOADS_SQL = """
SELECT l.file, l.line, l.host, l.time AS start, l.placement, l.outcome, l.layers_offloaded, l.layers_total,
       min(e.time) FILTER (WHERE e.event = 'runner_started') AS ready,
       min(e.time) FILTER (WHERE e.event IN ('evicting', 'runner_stopping', 'runner_terminated')) AS unloaded,
       max(e.time) AS last_seen
FROM loads AS l LEFT JOIN evidence AS e USING (load_id)
GROUP BY l.file, l.line, l.host, l.time, l.placement, l.outcome, l.layers_offloaded, l.layers_total
ORDER BY l.host NULLS LAST, l.time, l.file, l.line
"""

# hosts, or the files of lines without one, and their time spans
EXTENTS_SQL = """
WITH t AS (SELECT host::VARCHAR AS host, file::VARCHAR AS file, time FROM events
           UNION ALL SELECT host::VARCHAR, file::VARCHAR, time FROM requests)
SELECT host, CASE WHEN host IS NULL THEN file END AS only_file, min(time) AS first, max(time) AS last,
       list(DISTINCT file ORDER BY file) AS files
FROM t GROUP BY ALL ORDER BY host NULLS LAST, only_file
"""

REQUESTS_SQL = """
SELECT time_bucket(to_seconds($width::BIGINT), time) AS time,
       count(*) AS requests,
       count(*) FILTER (WHERE status < 400) AS ok,
       count(*) FILTER (WHERE status >= 400 AND status < 500) AS client_errors,
       count(*) FILTER (WHERE status >= 500) AS server_errors,
       max(latency_ms) AS max_latency_ms,
       list(DISTINCT status ORDER BY status) AS statuses,
       list(DISTINCT method || ' ' || path ORDER BY method || ' ' || path) FILTER (WHERE status >= 400) AS failed_paths
FROM requests
WHERE time IS NOT NULL AND host::VARCHAR IS NOT DISTINCT FROM $host AND ($file IS NULL OR file::VARCHAR = $file)
GROUP BY 1 ORDER BY 1
"""

INPUTS_SQL = """
WITH t AS (SELECT file::VARCHAR AS file, time FROM events UNION ALL SELECT file::VARCHAR, time FROM requests),
s AS (SELECT file, min(time) AS first, max(time) AS last FROM t GROUP BY file)
SELECT l.file, l.host, l.physical, l.parsed, l.unknown, l.malformed, l.invalid_utf8, l.oversized, l.bytes,
       s.first, s.last
FROM lines AS l LEFT JOIN s ON s.file = l.file
ORDER BY l.file
"""


def report(paths: Optional[Iterable[str] | str] = None, *, data: Optional[str] = None,
           models_dir: Optional[str] = None, host: Optional[str] = None, year: Optional[int] = None,
           engine: str = "c", on_error: Optional[Callable[[InputError], None]] = None) -> dict:
    """The post-mortem of the logs `paths`, or of the dataset `data` (see the module's doc).

    Raises `InputError` for an unreadable input unless `on_error` takes it (that input is then
    skipped), or for a folder that is not a dataset; `UsageError` unless exactly one of `paths`
    and `data` is given."""
    if (paths is None) == (data is None):
        raise UsageError("give logs or a dataset (data=DIR), one of the two")
    if data is not None:
        try:
            con = views.connect(data)
        except FileNotFoundError:
            raise InputError(data, "not an ollalog dataset (write one with `ollalog ingest LOGS --to DIR`)") from None
        errors: list = []
    else:
        from .read import read
        errors = []
        tables = read(paths, host=host, year=year, engine=engine,
                      on_error=on_error if on_error is not None else errors.append)
        if errors and on_error is None:
            raise errors[0]
        errors = list(tables.errors or [])
        con = views.connect(tables)
    return build(con, models_dir=models_dir, errors=[str(e) for e in errors])


def build(con, *, models_dir: Optional[str] = None, errors: Iterable[str] = ()) -> dict:
    """The report of the views on `con` (views.connect); `errors`: the inputs that were skipped."""
    from .why import explain_all, models_dir as find_models_dir

    mdir, mhow = find_models_dir(models_dir, con)
    groups, explained = explain_all(con, mdir, mhow)
    est_of = {id(v): est for est, v in explained}
    model_of = {(v["file"], v["line"]): g["model"] for g in groups for v in g["loads"]}
    models = [dict(g, chart=_chart(g, est_of)) for g in groups]
    warn_rows = views.rows(con, WARNINGS_SQL)
    warnings = _warnings(warn_rows)
    hosts = _hosts(con, model_of, warn_rows)
    inputs = {"files": [_plain_row(r) for r in views.rows(con, INPUTS_SQL)], "errors": list(errors),
              "models_dir": mdir, "models_dir_how": mhow}
    return {"summary": _summary(models, hosts, warnings, inputs), "models": models, "hosts": hosts,
            "warnings": warnings, "findings": _findings(con), "inputs": inputs}


# -- per model: free VRAM against the need, and the estimator over num_ctx ------------------------

LOAD_KEYS = ("file", "line", "host", "time", "placement", "outcome", "layers_offloaded", "layers_total",
             "num_ctx", "parallel", "cause", "cause_title", "verdict")


def _chart(group: dict, est_of: dict) -> dict:
    loads = []
    curves: dict = {}
    for v in group["loads"]:
        th = v.get("threshold") or {}
        loads.append({**{k: v.get(k) for k in LOAD_KEYS},
                      "free_bytes": v.get("vram_available_bytes"), "required_bytes": v.get("required_full_bytes"),
                      "weights_bytes": v.get("weights_bytes"), "kv_bytes": v.get("kv_bytes"),
                      "graph_bytes": v.get("graph_bytes"), "reserve_bytes": v.get("reserve_bytes"),
                      "num_ctx_full_gpu": th.get("num_ctx_full_gpu"), "num_ctx_any_gpu": th.get("num_ctx_any_gpu")})
        est = est_of.get(id(v))
        if est is None or th.get("num_ctx_full_gpu") is None:
            continue              # no context model: nothing to draw over num_ctx
        parallel = th.get("parallel") or 1
        key = (estimate.signature(est), parallel)
        c = curves.get(key)
        if c is None:
            c = curves[key] = {"est": est, "threshold": th, "loads": []}
        c["loads"].append(v)
    drawn = list(curves.values())[-MAX_CURVES:]
    return {"loads": loads, "curves": [_curve(c["est"], c["threshold"], c["loads"]) for c in drawn],
            "curves_left_out": len(curves) - len(drawn)}


def _curve(est, th: dict, loads: list) -> dict:
    """The estimate over num_ctx at the loads' parallel: layers on the GPU with the free VRAM the
    latest load saw (a log-spaced grid up to the search limit, the loads' own num_ctx, and each
    threshold with the value past it, where the curve steps), and the free VRAM that keeps every
    layer on the GPU at each num_ctx (`need`: the threshold search run for a range of free VRAM,
    so the two lines cross exactly at num_ctx_full_gpu)."""
    parallel = th.get("parallel") or 1
    limit = int(th.get("limit") or estimate.search_limit(est, None))
    own = [int(v["num_ctx"]) for v in loads if v.get("num_ctx")]
    steps = [t + d for t in (th.get("num_ctx_full_gpu"), th.get("num_ctx_any_gpu")) if t and t < limit for d in (0, 1)]
    grid = np.geomspace(min(256, limit), limit, CURVE_POINTS)
    ns = np.unique(np.concatenate([np.round(grid), np.asarray(own + steps, dtype=np.float64)]).astype(np.int64))
    ns = ns[ns >= 1]
    r = estimate.curve(est, parallel, ns)
    last = loads[-1]
    return {
        "loads": [{"file": v["file"], "line": v["line"], "num_ctx": v.get("num_ctx"), "placement": v.get("placement"),
                   "free_bytes": v.get("vram_available_bytes")} for v in loads],
        "parallel": parallel, "era": getattr(est, "era", None), "kv_cache_type": last.get("kv_cache_type") or "f16",
        "free_bytes": last.get("vram_available_bytes"), "layers_total": int(est.blocks) + 1,
        "num_ctx_full_gpu": th.get("num_ctx_full_gpu"), "num_ctx_any_gpu": th.get("num_ctx_any_gpu"), "limit": limit,
        "num_ctx": [int(n) for n in r["num_ctx"]],
        "layers": [int(x) for x in r["layers"]],
        "kv_bytes": [int(round(x)) for x in r["kv"]],
        "need": _need(est, parallel, limit, th.get("num_ctx_full_gpu")),
    }


def _free(est) -> tuple:
    """(free VRAM per GPU as the estimate holds it, their sum, how to hand a scaled copy to run())."""
    if getattr(est, "era", "") == "fit":
        return np.asarray([est.free], dtype=np.float64), float(est.free)
    a = np.asarray(est.available, dtype=np.float64)
    return a, float(a.sum())


def _need(est, parallel: int, limit: int, at_log: Optional[int]) -> dict:
    """Points (num_ctx, free VRAM) where every layer just fits: for a range of free VRAM (the
    log's among them), the largest num_ctx on the thresholds' 256-token grid that keeps every
    layer on the GPU, with the free VRAM of every GPU scaled alike; the load's own point is its
    exact threshold."""
    per_gpu, free = _free(est)
    if free <= 0:
        per_gpu, free = np.ones_like(per_gpu), float(len(per_gpu))
    # the range worth searching: about what a full offload takes at the smallest and the largest
    # num_ctx (the estimate on GPUs with room for anything), with a margin for the reserve
    roomy = list(per_gpu / free * ROOMY)
    used = estimate.curve(est, parallel, [min(256, limit), limit], available=roomy, num_gpu=-1)["vram"]
    lo, hi = max(min(used) * 0.8, free / 100), max(max(used) * 1.25, free * 1.01)
    grid = np.arange(estimate.SEARCH_STEP, limit + estimate.SEARCH_STEP, estimate.SEARCH_STEP)
    grid[-1] = limit
    total = est.blocks + 1
    points = {}
    for f in np.geomspace(lo, hi, NEED_POINTS):
        fits = est.run(grid * float(parallel), available=list(per_gpu * (f / free)))["layers"] >= total
        k = int(np.argmin(fits)) if not fits.all() else len(grid)    # the first num_ctx that does not fit
        if 0 < k < len(grid):
            points.setdefault(int(grid[k - 1]), int(round(f)))      # the least free VRAM that reaches it
    if at_log and 0 < at_log < limit:
        points = {n: f for n, f in points.items() if (n < at_log) == (f < free)}   # keep it monotone
        points[int(at_log)] = int(round(free))
    ns = sorted(points)
    return {"num_ctx": ns, "free_bytes": [points[n] for n in ns]}


# -- warnings ---------------------------------------------------------------------------------

def _severity(r: dict) -> str:
    named = WARNING_EVENTS.get(r.get("event") or "")
    if named:
        return "error" if r.get("level") == "ERROR" else named[0]
    return "error" if r.get("level") == "ERROR" else "warning"


def _text(r: dict) -> tuple:
    text = F.to_event(r).text()
    return (text[:TEXT_LIMIT], True) if len(text) > TEXT_LIMIT else (text, False)


def _warnings(rows: list) -> list:
    """Grouped by host (or file), severity and message: catalogued events by their name, the rest
    by level, source and message."""
    groups: dict = {}
    for r in rows:
        sev = _severity(r)
        where = (r["host"], r["file"] if r["host"] is None else None)
        what = r["event"] if r.get("event") in WARNING_EVENTS else (r.get("level"), r.get("source"), r.get("msg"))
        key = (where, sev, what)
        g = groups.get(key)
        if g is None:
            text, cut = _text(r)
            g = groups[key] = {
                "host": r["host"], "severity": sev, "event": r.get("event"), "level": r.get("level"),
                "title": WARNING_EVENTS[r["event"]][1] if r.get("event") in WARNING_EVENTS else (r.get("msg") or "")[:200],
                "count": 0, "first": r.get("time"), "last": r.get("time"), "file": r["file"], "line": r["line"],
                "text": text, "text_cut": cut, "files": []}
        g["count"] += 1
        t = r.get("time")
        if t is not None:
            g["first"] = t if g["first"] is None else min(g["first"], t)
            g["last"] = t if g["last"] is None else max(g["last"], t)
        if r["file"] not in g["files"]:
            g["files"].append(r["file"])
    return sorted(groups.values(), key=lambda g: (SEVERITY_ORDER[g["severity"]], -g["count"], g["host"] is None,
                                                 g["host"] or "", g["file"], g["line"]))


# -- per host: the timeline -------------------------------------------------------------------------

def _bucket(first, last) -> int:
    span = (last - first).total_seconds() if first is not None and last is not None else 0
    return next((w for w in BUCKET_SECONDS if span / w <= MAX_BUCKETS), BUCKET_SECONDS[-1])


def _hosts(con, model_of: dict, warn_rows: list) -> list:
    out = []
    lanes: dict = {}
    for e in views.rows(con, EXTENTS_SQL):
        h = {"host": e["host"], "file": e["only_file"], "files": list(e["files"] or []),
             "first": e["first"], "last": e["last"], "loads": [], "markers": [], "markers_left_out": 0,
             "requests": [], "bucket_seconds": _bucket(e["first"], e["last"])}
        lanes[(e["host"], e["only_file"])] = h
        out.append(h)

    def lane(host, file):
        key = (host, None if host is not None else file)
        h = lanes.get(key)
        if h is None:         # a load whose lines carry no time: a lane without a span
            h = lanes[key] = {"host": host, "file": key[1], "files": [file], "first": None, "last": None,
                              "loads": [], "markers": [], "markers_left_out": 0, "requests": [], "bucket_seconds": 1}
            out.append(h)
        return h

    for r in views.rows(con, LOADS_SQL):
        failed = r["outcome"] in FAILED or (r["placement"] is None and r["ready"] is None)
        lane(r["host"], r["file"])["loads"].append({
            "file": r["file"], "line": r["line"], "model": model_of.get((r["file"], r["line"]), "?"),
            "placement": r["placement"], "outcome": r["outcome"], "layers_offloaded": r["layers_offloaded"],
            "layers_total": r["layers_total"], "start": r["start"], "ready": None if failed else r["ready"],
            "unloaded": None if failed else r["unloaded"], "end": r["last_seen"] if failed else None,
            "failed": failed})
    for r in warn_rows:
        h = lane(r["host"], r["file"])
        if r.get("time") is None:
            continue
        if len(h["markers"]) >= MAX_MARKERS:
            h["markers_left_out"] += 1
            continue
        kind = ("eviction" if r.get("event") == "evicting" else "vram" if r.get("event") == "vram_not_recovered"
                else _severity(r))
        text, _ = _text(r)
        h["markers"].append({"time": r["time"], "kind": kind, "file": r["file"], "line": r["line"],
                             "title": WARNING_EVENTS[r["event"]][1] if r.get("event") in WARNING_EVENTS
                             else (r.get("msg") or "")[:200], "text": text[:300]})
    for h in out:
        h["requests"] = [_plain_row(b) for b in views.rows(con, REQUESTS_SQL, {
            "width": h["bucket_seconds"], "host": h["host"], "file": h["file"]})]
        h["counts"] = {
            "loads": len(h["loads"]),
            "gpu": sum(ld["placement"] == "gpu" for ld in h["loads"]),
            "partial": sum(ld["placement"] == "partial" for ld in h["loads"]),
            "cpu": sum(ld["placement"] == "cpu" for ld in h["loads"]),
            "failed": sum(ld["failed"] for ld in h["loads"]),
            "evictions": sum(ld["outcome"] == "evicted" for ld in h["loads"]),
            "requests": sum(b["requests"] for b in h["requests"]),
            "client_errors": sum(b["client_errors"] for b in h["requests"]),
            "server_errors": sum(b["server_errors"] for b in h["requests"]),
            "errors": sum(m["kind"] == "error" for m in h["markers"]),
            "warnings": sum(m["kind"] != "error" for m in h["markers"]),
        }
    return out


# -- named queries, inputs, summary ------------------------------------------------------------------

def _plain(v):
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def _plain_row(r: dict) -> dict:
    return {k: _plain(v) for k, v in r.items()}


def _findings(con) -> list:
    out = []
    for name in FINDINGS:
        q = views.query(name)
        rel = views.run(con, q.sql, q.bind({}))
        cols = list(rel.columns)
        shown = [c for c in cols if not c.endswith("load_id")]     # opaque keys: the tables say file:line
        rows = [dict(zip(cols, r)) for r in rel.fetchall()]
        out.append({"name": name, "description": q.description,
                    "params": {p.name: p.default for p in q.params}, "columns": shown,
                    "rows": [{c: _plain(r[c]) for c in shown} for r in rows]})
    return out


def _summary(models: list, hosts: list, warnings: list, inputs: dict) -> dict:
    loads = [ld for m in models for ld in m["loads"]]
    return {
        "files": len(inputs["files"]), "unreadable": len(inputs["errors"]),
        "hosts": len({h["host"] for h in hosts if h["host"] is not None}),
        "models": len(models), "loads": len(loads),
        "gpu": sum(ld.get("placement") == "gpu" for ld in loads),
        "partial": sum(ld.get("placement") == "partial" for ld in loads),
        "cpu": sum(ld.get("placement") == "cpu" for ld in loads),
        "failed": sum(ld.get("outcome") in FAILED for ld in loads),
        "evictions": sum(h["counts"]["evictions"] for h in hosts),
        "requests": sum(h["counts"]["requests"] for h in hosts),
        "server_errors": sum(h["counts"]["server_errors"] for h in hosts),
        "errors": sum(w["count"] for w in warnings if w["severity"] == "error"),
        "warnings": sum(w["count"] for w in warnings if w["severity"] == "warning"),
        "first": min((h["first"] for h in hosts if h["first"] is not None), default=None),
        "last": max((h["last"] for h in hosts if h["last"] is not None), default=None),
        "causes": _count(ld.get("cause") for ld in loads if ld.get("placement") != "gpu" or ld.get("cause") != "fits"),
    }


def _count(items) -> list:
    n: dict = {}
    for i in items:
        n[i] = n.get(i, 0) + 1
    return [{"cause": k, "loads": v} for k, v in sorted(n.items(), key=lambda kv: (-kv[1], kv[0] or ""))]
