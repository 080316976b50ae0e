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
