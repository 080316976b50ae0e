"""`why` as a screen a person reads in ten seconds: the loads, the verdict, the numbers, the advice."""
from __future__ import annotations

import io
import textwrap

from . import ctx, estimate_line, gib, layers, place, shortest_paths, threshold_lines, when, where, whatif_line

STYLE = {"GPU": "green", "split": "yellow", "CPU": "red"}


def _groups(report: dict) -> list:
    if "models" in report:
        return report["models"]
    return [{"model": report.get("model"), "resolved": report.get("resolved"), "loads": report.get("loads") or [],
             "recommendations": report.get("recommendations") or []}]


def render_why(report: dict, *, color: bool = False, width: int = 100) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False,
                  soft_wrap=False, emoji=False, markup=False)
    files = [ld["file"] for g in _groups(report) for ld in g["loads"]]
    short = shortest_paths(files).get
    for gi, g in enumerate(_groups(report)):
        one_file = len({ld["file"] for ld in g["loads"]}) == 1
        if gi:
            con.print()
        res = g.get("resolved") or {}
        head = Text(g.get("model") or "?", style="bold")
        bits = []
        if res.get("blob") and res["blob"][:12] not in (g.get("model") or ""):
            bits.append(f"blob {res['blob'][:12]}")
        if res.get("tags_sharing_blob") and len(res["tags_sharing_blob"]) > 1:
            bits.append("shared by " + ", ".join(res["tags_sharing_blob"]))
        if res.get("how"):
            bits.append(res["how"])
        con.print(head)
        if bits:
            for ln in textwrap.wrap("; ".join(bits), width=width - 1, initial_indent="  ", subsequent_indent="    "):
                con.print(ln, style="dim")
        if one_file and g["loads"]:
            con.print(f"in {short(g['loads'][0]['file'])}", style="dim")
        t = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", collapse_padding=True)
        for col in ("line" if one_file else "load", "time (UTC)", "ran on", "num_ctx x par", "free VRAM",
                    "full load", "KV cache", "cause"):
            t.add_column(col, no_wrap=True, overflow="ellipsis")
        for v in g["loads"]:
            p = place(v)
            t.add_row(str(v["line"]) if one_file else where(v, short), when(v.get("time"))[:16],
                      Text(f"{p} {layers(v)}", style=STYLE.get(p, "")), ctx(v),
                      gib(v.get("vram_available_bytes")), gib(v.get("required_full_bytes")), gib(v.get("kv_bytes")),
                      v.get("cause") or "-")
        con.print(t)
        def para(text: str, indent: int, style: str = "", hang: int = 2) -> None:
            """One paragraph, wrapped to the width with a hanging indent."""
            lines = textwrap.wrap(text, width=width - 1, initial_indent=" " * indent,
                                  subsequent_indent=" " * (indent + hang), break_on_hyphens=False) or [""]
            for ln in lines:
                con.print(ln, style=style)

        for v in g["loads"]:
            if v.get("placement") == "gpu" and v.get("cause") == "fits" and len(g["loads"]) > 1 and not v.get("whatif"):
                continue
            con.print()
            line = Text(f"{where(v, short)}  ", style="bold")
            line.append(v.get("verdict") or "", style=STYLE.get(place(v), ""))
            con.print(line)
            m = v.get("match")
            if m:
                para(f"as {m['tag']} ({m['confidence']} confidence: {m['how']})", 2, "dim")
            para(v.get("cause_text") or "", 2)
            for note in v.get("notes") or []:
                para(f"{note['text']} (line {note['line']})", 2)
            para(estimate_line(v), 2, "dim")
            if (v.get("estimate") or {}).get("mismatch"):
                para(v["estimate"]["mismatch"], 4, "dim")
            for tl in threshold_lines(v):
                para(tl.strip(), 4 if tl.startswith("  ") else 2)
            wl = whatif_line(v)
            if wl:
                para(wl, 2, "bold")
            keys = [e for e in v.get("evidence") or [] if e.get("key") and "continues" not in e]
            rest = len(v.get("evidence") or []) - len(keys)
            for e in keys[:6]:
                txt = e["text"]
                head = f"    {short(e['file'])}:{e['line']}  "
                room = max(width - 1 - len(head), 20)
                con.print(head + (txt if len(txt) <= room else txt[: room - 3] + "..."), style="dim")
            if rest > 0:
                con.print(f"    ... and {rest} more lines of this load (--format json lists them)", style="dim")
        recs = g.get("recommendations") or []
        if recs:
            con.print()
            con.print("What to change", style="bold")
            for r in recs:
                para(f"{r['rank']}. {r['action']}: {r['effect']}", 2, hang=3)
                for st in r.get("settings") or []:
                    para(st, 5, "dim")
    return buf.getvalue().rstrip("\n") + "\n"
