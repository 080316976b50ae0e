"""Stage 6: findings (plain data) -> text, JSON, Markdown. A renderer never computes."""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from typing import Iterator

FORMATS = ("text", "json", "markdown")


def json_default(o):
    """What json.dumps cannot write by itself: times as RFC 3339 strings (UTC), arrays, sets, paths."""
    if isinstance(o, _dt.datetime):
        return o.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(o, _dt.date):
        return o.isoformat()
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def to_json(data, indent: int | None = 2) -> str:
    """JSON with times as RFC 3339 strings (UTC) and nothing lost; `indent=None`: one line."""
    return "".join(json_pieces(data, indent))


def json_pieces(data, indent: int | None = 2, size: int = 1 << 20) -> Iterator[str]:
    """`to_json(data, indent)` in pieces of about `size` characters, for a document too big to
    hold as one string (`why --all` over a large log)."""
    enc = json.JSONEncoder(default=json_default, indent=indent, ensure_ascii=False,
                           separators=(",", ":") if indent is None else None)
    buf: list[str] = []
    n = 0
    for piece in enc.iterencode(data):  # millions of tiny pieces: joined before anything else
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield "".join(buf).translate(_JSON_C1)
            buf, n = [], 0
    if buf:
        yield "".join(buf).translate(_JSON_C1)


# DEL and the C1 controls (U+009B is a CSI to some terminals) as \u escapes, like C0 ones
_JSON_C1 = {i: f"\\u{i:04x}" for i in range(0x7f, 0xa0)}


def when(t) -> str:
    if t is None:
        return "-"
    if isinstance(t, _dt.datetime):
        return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return str(t)


def gib(b) -> str:
    if b is None:
        return "-"
    if abs(b) >= 1 << 30:
        return f"{b / (1 << 30):.1f} GiB"
    return f"{b / (1 << 20):.0f} MiB"


def place(v: dict) -> str:
    p = v.get("placement")
    if p == "gpu":
        return "GPU"
    if p == "partial":
        return "split"
    if p == "cpu":
        return "CPU"
    return v.get("outcome") or "?"


def layers(v: dict) -> str:
    a, b = v.get("layers_offloaded"), v.get("layers_total")
    if a is None and b is None:
        return "-"
    return f"{'?' if a is None else a}/{'?' if b is None else b}"


def ctx(v: dict) -> str:
    n, p = v.get("num_ctx"), v.get("parallel")
    if n is None:
        return "-" if v.get("ctx_size") is None else str(v["ctx_size"])
    return f"{n} x {p}" if p else str(n)


def where(v: dict, short=None) -> str:
    f = v["file"]
    return f"{short(f) if short else f}:{v['line']}"


def estimate_line(v: dict) -> str:
    e = v.get("estimate") or {}
    if not e.get("era"):
        return "estimate: " + "; ".join(e.get("notes") or ["none"])
    what = {"legacy": "Ollama's legacy estimate", "layout": "the new memory layout",
            "fit": "llama.cpp's fit"}[e["era"]]
    s = f"estimate: {what} (Ollama {e.get('version_used')}) gives {e.get('layers_offload')} layers"
    if e.get("logged") is not None:
        s += f"; the log says {e['logged']} ({e.get('logged_as')})"
        s += " - matches" if e.get("matches_log") else f" - off by {e.get('off_by'):+d}"
    return s


def threshold_lines(v: dict) -> list:
    th = v.get("threshold") or {}
    out = []
    full, anyg, P = th.get("num_ctx_full_gpu"), th.get("num_ctx_any_gpu"), th.get("parallel")
    if full is None and anyg is None:
        return ["thresholds: not computable (no context or model shape in the log)"]
    lim = th.get("limit")

    def fmt(n):
        if n is None:
            return "?"
        if n == 0:
            return "none"
        return f"{n}+" if lim and n >= lim else str(n)
    def both(f_, a_):
        if f_ == 0:
            first = "no num_ctx keeps every layer on the GPU"
        else:
            first = f"every layer on the GPU up to num_ctx {fmt(f_)}"
        if a_ is None:
            return first
        if a_ == 0:
            return first + ", and none keeps even one"
        return first + f", at least one up to {fmt(a_)}"
    out.append(both(full, anyg) + f" (parallel {P})")
    p1 = th.get("parallel_1")
    if p1:
        out.append("  at parallel 1: " + both(p1.get("num_ctx_full_gpu"), p1.get("num_ctx_any_gpu")))
    for t in ("q8_0", "q4_0"):
        q = th.get(t)
        if not q:
            continue
        if q.get("allowed"):
            out.append(f"  with flash attention and a {t} KV cache: " + both(q.get("num_ctx_full_gpu"),
                                                                               q.get("num_ctx_any_gpu")))
        else:
            out.append(f"  {t} KV cache: not possible ({q.get('reason')})")
    if th.get("limit_note"):
        out.append(f"  ({th['limit_note']})")
    return out


def whatif_line(v: dict) -> str:
    w = v.get("whatif")
    if not w:
        return ""
    if w.get("layers_offload") is None:
        return "what if: " + "; ".join(w.get("notes") or [])
    s = (f"what if num_ctx {w['num_ctx']} x parallel {w['parallel']}, KV {w['kv_cache_type']}"
         + (", flash attention" if w.get("flash_attention") is True else "")
         + (f", num_gpu {w['num_gpu']}" if w.get("num_gpu") is not None else "")
         + f": {w['layers_offload']}/{w['layers_total']} layers on the GPU ({w['placement']}), "
         f"needs {gib(w.get('vram_bytes'))} of VRAM, KV {gib(w.get('kv_bytes'))}")
    if w.get("notes"):
        s += " (" + "; ".join(w["notes"]) + ")"
    return s


def shortest_paths(files) -> dict:
    """Each file named by its shortest unique trailing path."""
    files = list(dict.fromkeys(files))
    parts = {f: f.replace("\\", "/").split("/") for f in files}
    out = {}
    for f in files:
        for k in range(1, len(parts[f]) + 1):
            tail = parts[f][-k:]
            if sum(1 for g in files if parts[g][-k:] == tail) == 1:
                out[f] = "/".join(tail)
                break
        else:
            out[f] = f
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str, one_line: bool = False) -> str:
    """Text read from a log, safe to show: control characters (escape sequences, bells; line
    breaks too when `one_line`) written as \\xNN, so a log line cannot retitle, recolour or reset
    a terminal, nor add lines to a one-line message."""
    return (_CONTROL_NL if one_line else _CONTROL).sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def printable_data(v):
    """printable() over every string of a report (dicts and lists walked)."""
    if isinstance(v, str):
        return printable(v)
    if isinstance(v, dict):
        return {k: printable_data(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [printable_data(x) for x in v]
    return v


def render_pieces(report: dict, fmt: str, *, color: bool = False, width: int = 100) -> Iterator[str]:
    """`render()`'s text in pieces: JSON as it is encoded (json_pieces), the others whole."""
    if fmt == "json":
        yield from json_pieces(report)
    else:
        yield render(report, fmt, color=color, width=width)


def render(report: dict, fmt: str, *, color: bool = False, width: int = 100) -> str:
    if fmt == "json":
        return to_json(report)  # JSON escapes control characters itself
    report = printable_data(report)
    if fmt == "markdown":
        from .markdown import render_why
        return render_why(report)
    from .text import render_why
    return render_why(report, color=color, width=width)
