"""`why` as a screen a person reads in ten seconds: the loads, the verdict, the numbers, the advice."""
from __future__ import annotations

import io

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
        if res.get("blob"):
            bits.append(f"blob {res['blob'][:12]}")
        if res.get("tags_sharing_blob") and len(res["tags_sharing_blob"]) > 1:
            bits.append("shared by " + ", ".join(res["tags_sharing_blob"]))
        if res.get("how"):
            bits.append(res["how"])
        if bits:
            head.append("  (" + "; ".join(bits) + ")", style="dim")
        con.print(head)
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
        for v in g["loads"]:
            if v.get("placement") == "gpu" and v.get("cause") == "fits" and len(g["loads"]) > 1 and not v.get("whatif"):
                continue
            con.print()
            line = Text(f"{where(v, short)}  ", style="bold")
            line.append(v.get("verdict") or "", style=STYLE.get(place(v), ""))
            m = v.get("match")
            if m:
                line.append(f"  [{m['tag']}: {m['confidence']}, {m['how']}]", style="dim")
            con.print(line)
            con.print("  " + (v.get("cause_text") or ""))
            con.print("  " + estimate_line(v), style="dim")
            if (v.get("estimate") or {}).get("mismatch"):
                con.print("    " + v["estimate"]["mismatch"], style="dim")
            for tl in threshold_lines(v):
                con.print("  " + tl)
            wl = whatif_line(v)
            if wl:
                con.print("  " + wl, style="bold")
            keys = [e for e in v.get("evidence") or [] if e.get("key") and "continues" not in e]
            rest = len(v.get("evidence") or []) - len(keys)
            for e in keys[:6]:
                txt = e["text"]
                room = max(width - 14 - len(short(e["file"])), 20)
                con.print(f"    {short(e['file'])}:{e['line']}  " + (txt if len(txt) <= room else txt[: room - 3] + "..."),
                          style="dim")
            if rest > 0:
                con.print(f"    ... and {rest} more lines of this load (--format json lists them)", style="dim")
        recs = g.get("recommendations") or []
        if recs:
            con.print()
            con.print("What to change", style="bold")
            for r in recs:
                con.print(f"  {r['rank']}. {r['action']}: {r['effect']}")
                for s in r.get("settings") or []:
                    con.print(f"       {s}", style="dim")
    return buf.getvalue().rstrip("\n") + "\n"
