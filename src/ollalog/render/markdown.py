"""`why` as Markdown, for pasting into an issue or a chat."""
from __future__ import annotations

import re

from . import ctx, estimate_line, gib, layers, place, shortest_paths, threshold_lines, when, where, whatif_line
from .text import _groups


def _code(s) -> str:
    """A code span that holds any text: a fence longer than the text's longest run of backticks
    (a model name from a log cannot close it early)."""
    s = str(s).replace("\n", " ")
    run = max((len(r) for r in re.findall(r"`+", s)), default=0)
    fence = "`" * (run + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _cell(s) -> str:
    return str(s if s is not None else "-").replace("|", "\\|").replace("\n", " ")


def render_why(report: dict) -> str:
    out = []
    files = [ld["file"] for g in _groups(report) for ld in g["loads"]]
    short = shortest_paths(files).get
    for g in _groups(report):
        res = g.get("resolved") or {}
        out.append(f"### {_code(g.get('model') or '?')}")
        meta = []
        if res.get("blob") and res["blob"][:12] not in (g.get("model") or ""):
            meta.append(f"blob {_code(res['blob'][:12])}")
        if res.get("tags_sharing_blob") and len(res["tags_sharing_blob"]) > 1:
            meta.append("shared by " + ", ".join(_code(t) for t in res["tags_sharing_blob"]))
        if res.get("how"):
            meta.append(_cell(res["how"]))
        if meta:
            out.append("")
            out.append("; ".join(meta))
        out.append("")
        out.append("| load | time (UTC) | ran on | layers | num_ctx x parallel | free VRAM | full load | KV cache | cause |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for v in g["loads"]:
            out.append("| " + " | ".join(_cell(c) for c in (
                _code(where(v, short)), when(v.get("time")), place(v), layers(v), ctx(v),
                gib(v.get("vram_available_bytes")), gib(v.get("required_full_bytes")), gib(v.get("kv_bytes")),
                v.get("cause"))) + " |")
        for v in g["loads"]:
            if v.get("placement") == "gpu" and v.get("cause") == "fits" and len(g["loads"]) > 1 and not v.get("whatif"):
                continue
            out.append("")
            out.append(f"**{_code(where(v, short))}: {_cell(v.get('verdict'))}**" +
                       (f" ({v['match']['tag']}: {v['match']['confidence']}, {_cell(v['match']['how'])})" if v.get("match") else ""))
            out.append("")
            out.append(_cell(v.get("cause_text")))
            out.append("")
            for note in v.get("notes") or []:
                out.append(f"- {_cell(note['text'])} (line {note['line']})")
            out.append(f"- {_cell(estimate_line(v))}")
            for tl in threshold_lines(v):
                out.append(f"- {_cell(tl.strip())}")
            wl = whatif_line(v)
            if wl:
                out.append(f"- **{_cell(wl)}**")
            keys = [e for e in v.get("evidence") or [] if e.get("key") and "continues" not in e]
            if keys:
                out.append("")
                out.append("```text")
                for e in keys[:8]:
                    out.append(f"{short(e['file'])}:{e['line']}: {e['text']}".replace("```", "'''"))
                out.append("```")
        recs = g.get("recommendations") or []
        if recs:
            out.append("")
            out.append("**What to change**")
            out.append("")
            for r in recs:
                out.append(f"{r['rank']}. **{_cell(r['action'])}**: {_cell(r['effect'])}")
                for s in r.get("settings") or []:
                    out.append(f"   - `{s}`" if "`" not in s else f"   - {s}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# -- the report ------------------------------------------------------------------------------------

def _cell_code(s) -> str:
    """Log text as a code span, safe in a table cell (no HTML, no cell break, no early end)."""
    if s is None or s == "":
        return "–"
    return _code(" ".join(str(s).split())).replace("|", "\\|")


def _value(v) -> str:
    import datetime as dt
    if v is None:
        return "–"
    if isinstance(v, dt.datetime):
        return when(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    return str(v)


def _table(head: list, rows: list) -> list:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render_report(report: dict, *, title: str = "ollalog report") -> str:
    """The report's findings as Markdown, for an issue or a chat: the same numbers as the HTML
    page, the charts' content as tables. Log text is in code spans."""
    s = report["summary"]
    files = [f["file"] for f in report["inputs"]["files"]] + [ld["file"] for m in report["models"] for ld in m["loads"]]
    short = shortest_paths(files).get
    out = [f"# {' '.join(title.split())}", ""]
    span = f", {when(s['first'])} to {when(s['last'])} UTC" if s.get("first") else ""
    out.append(f"{s['loads']} model loads of {s['models']} models on {s['hosts']} named hosts, from {s['files']} "
               f"files{span}: {s['gpu']} on the GPU, {s['partial']} split GPU/CPU, {s['cpu']} on the CPU, "
               f"{s['failed']} failed; {s['evictions']} evicted; {s['requests']} requests, {s['server_errors']} "
               f"with a 5xx; {s['errors']} errors and {s['warnings']} warnings logged.")
    if s.get("unreadable"):
        out += ["", f"**{s['unreadable']} inputs could not be read** (see Inputs)."]
    if s.get("causes"):
        out += ["", "Why loads did not run wholly on the GPU: " +
                ", ".join(f"`{c['cause']}` {c['loads']}" for c in s["causes"]) + "."]

    out += ["", "## Hosts", ""]
    rows = []
    for h in report["hosts"]:
        c = h["counts"]
        name = _cell_code(h["host"]) if h["host"] is not None else f"no host: {_cell_code(short(h['file']) or h['file'])}"
        rows.append([name, when(h["first"]), when(h["last"])] +
                    [str(c[k]) for k in ("loads", "gpu", "partial", "cpu", "failed", "evictions", "requests",
                                         "client_errors", "server_errors", "errors", "warnings")])
    out += _table(["host", "from (UTC)", "to", "loads", "GPU", "split", "CPU", "failed", "evicted", "requests",
                   "4xx", "5xx", "errors", "warnings"], rows) if rows else ["_No timed lines._"]

    out += ["", "## Warnings that matter", ""]
    if report["warnings"]:
        out += _table(["", "host", "what", "times", "first (UTC)", "last", "first at", "the line"], [
            [w["severity"], _cell_code(w["host"]), w["title"] if w.get("event") else _cell_code(w["title"]), str(w["count"]),
             when(w["first"]), when(w["last"]), _cell_code(f"{short(w['file']) or w['file']}:{w['line']}"),
             _cell_code(w["text"][:200] + ("…" if len(w["text"]) > 200 or w.get("text_cut") else ""))]
            for w in report["warnings"]])
    else:
        out.append("_No warnings or errors in these logs._")

    out += ["", "## Models", ""]
    if report["models"]:
        out.append(render_why({"models": report["models"]}).rstrip("\n"))
    else:
        out.append("_No model loads in these logs._")

    out += ["", "## Findings", ""]
    for f in report["findings"]:
        params = "".join(f" (`{k}={v}`)" for k, v in f["params"].items())
        out += [f"### {f['name']}", "", f["description"] + params, ""]
        if f["rows"]:
            out += _table(f["columns"], [[_cell_code(_value(r[c])) if isinstance(r[c], str) else _value(r[c])
                                         for c in f["columns"]] for r in f["rows"]])
        else:
            out.append("_None._")
        out.append("")

    out += ["## Inputs", ""]
    out += _table(["file", "host", "lines", "parsed", "unknown", "malformed", "invalid UTF-8", "cut", "first (UTC)",
                   "last"], [[_cell_code(f["file"]), _cell_code(f["host"])] +
                             [_value(f[k]) for k in ("physical", "parsed", "unknown", "malformed", "invalid_utf8",
                                                     "oversized")] + [when(f["first"]), when(f["last"])]
                             for f in report["inputs"]["files"]])
    if report["inputs"]["errors"]:
        out += ["", "Not read:", ""] + [f"- {_cell_code(e)}" for e in report["inputs"]["errors"]]
    return "\n".join(out).rstrip("\n") + "\n"
