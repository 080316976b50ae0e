"""The `verdicts` view: `why`'s answer for every load, one row each, as SQL can join it.

    con = views.connect(tables, verdicts=True)
    con.sql("SELECT host, cause, num_ctx_full_gpu FROM verdicts WHERE placement = 'cpu'")

The rows come from the same functions as `ollalog why --all` (facts.each, estimate.for_load,
explain.explain_load) over the same views, so a load's cause, thresholds and estimate check are
those of its entry in `why --format json`. Computing them runs the estimator once per load, so
`connect()` adds the view only when asked (`ollalog sql` asks when the SQL names it).
"""
from __future__ import annotations

import pyarrow as pa

# (column, type, description)
COLUMNS = [
    ("load_id", pa.string(), "the load (loads.load_id)"),
    ("file", pa.string(), "input file of the load's first line"),
    ("line", pa.int64(), "line of the load's first line"),
    ("host", pa.string(), "host of the load"),
    ("placement", pa.string(), "gpu, partial, cpu or null, as in loads"),
    ("cause", pa.string(), "why's cause (docs/why.md): fits, kv_too_big, vram_not_recovered, ..."),
    ("cause_title", pa.string(), "the cause in words"),
    ("parallel", pa.int64(), "the parallel the thresholds are computed at (the load's)"),
    ("num_ctx_full_gpu", pa.int64(), "largest num_ctx that keeps every layer on the GPU (0: none does)"),
    ("num_ctx_any_gpu", pa.int64(), "largest num_ctx that keeps at least one layer on the GPU"),
    ("num_ctx_full_gpu_parallel_1", pa.int64(), "num_ctx_full_gpu at parallel 1"),
    ("estimate_era", pa.string(), "the estimator that reproduced Ollama's plan: legacy, layout or fit"),
    ("estimate_layers", pa.int64(), "layers on the GPU by that estimate"),
    ("logged_layers", pa.int64(), "layers on the GPU the log's plan says"),
    ("estimate_matches_log", pa.bool_(), "the estimate gives the layer count the log shows (null: no estimate)"),
]
SCHEMA = pa.schema([pa.field(n, t, metadata={"description": d}) for n, t, d in COLUMNS])


def table(con) -> pa.Table:
    """The verdict of every load of the views on `con`, in load order."""
    from . import estimate, explain
    from . import facts as F

    rows = []
    for f in F.each(con):
        v = explain.explain_load(f, estimate.for_load(f), None)
        th, est = v.get("threshold") or {}, v.get("estimate") or {}
        ld = f.load
        rows.append({
            "load_id": ld.get("load_id"), "file": ld.get("file"), "line": ld.get("line"), "host": ld.get("host"),
            "placement": v.get("placement"), "cause": v.get("cause"), "cause_title": v.get("cause_title"),
            "parallel": th.get("parallel"), "num_ctx_full_gpu": th.get("num_ctx_full_gpu"),
            "num_ctx_any_gpu": th.get("num_ctx_any_gpu"),
            "num_ctx_full_gpu_parallel_1": (th.get("parallel_1") or {}).get("num_ctx_full_gpu"),
            "estimate_era": est.get("era"), "estimate_layers": est.get("layers_offload"),
            "logged_layers": est.get("logged"), "estimate_matches_log": est.get("matches_log"),
        })
    return pa.Table.from_pylist(rows, schema=SCHEMA)
