"""The report (report.py's plain data) as one self-contained HTML page: a Jinja2 template with
autoescaping, and plotly.js charts, the library inlined from the installed `plotly` package.

Nothing leaves the file: every script and style is inline and a Content-Security-Policy meta tag
forbids any other source. Log text reaches the page three ways, each escaped: as HTML text
(Jinja2's autoescape), inside the charts' JSON (`script_json`: `<`, `>`, `&`, U+2028 and U+2029 as
JSON escapes, so that no `</script>` or `<!--` can end the block), and as chart labels
(`_t`: plotly.js reads a few HTML tags in labels, so they are entity-escaped before they go in).
Needs the `[report]` extra (jinja2, plotly); `missing()` names what is not installed.
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import os
from typing import Optional

from ..errors import OllalogError
from . import ctx, gib, layers, place, shortest_paths, threshold_lines, when

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
GIB = float(1 << 30)

PLACEMENT_COLOR = {"gpu": "#2f9e5b", "partial": "#e09a1b", "cpu": "#d64545", None: "#8a8a8a"}
PLACEMENT_NAME = {"gpu": "on the GPU", "partial": "split GPU/CPU", "cpu": "on the CPU", None: "failed or not shown"}
PART_COLOR = {"weights": "#5b7fa8", "KV cache": "#9b72c4", "graph": "#c69c4e", "reserve": "#a9a9a9"}
CURVE_COLOR = ("#1f6fb4", "#8c564b", "#159aa8", "#6b6b6b")
MARKER = {"eviction": ("triangle-down", "#7b4fc0", "eviction"), "vram": ("diamond", "#e07b1b", "VRAM not back"),
          "error": ("x", "#c62828", "error"), "warning": ("triangle-up", "#d4a017", "warning")}
REQUEST_COLOR = {"ok": "#9cc59c", "client_errors": "#e6b34d", "server_errors": "#d64545"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


class ReportDependencyMissing(OllalogError, ImportError):
    """The HTML report needs jinja2 and plotly (`pip install 'ollalog[report]'`)."""


def missing() -> list:
    """The packages of the `[report]` extra that cannot be imported here."""
    out = []
    for name in ("jinja2", "plotly"):
        try:
            __import__(name)
        except ImportError:
            out.append(name)
    return out


def require() -> None:
    gone = missing()
    if gone:
        raise ReportDependencyMissing(
            f"the HTML report needs {' and '.join(gone)}: pip install 'ollalog[report]' "
            "(or --format markdown, which needs neither)")


def plotly_js() -> str:
    """plotly.js as the installed plotly package bundles it, checked to be safe inline."""
    from plotly.offline import get_plotlyjs
    js = get_plotlyjs()
    low = js.lower()
    if "</script" in low or "<!--" in low:
        raise OllalogError("this plotly.js cannot be inlined (it holds '</script' or '<!--')")
    return js


def script_json(obj) -> str:
    """JSON safe inside <script type="application/json">: nothing in it can close or comment the block."""
    from . import to_json
    text = json.dumps(json.loads(to_json(obj)), ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _t(s) -> str:
    """A string for a plotly label: plotly.js reads <b>, <br>, <a> and entities in labels."""
    return html.escape("" if s is None else str(s), quote=False)


def _iso(t) -> Optional[str]:
    """A time for plotly's date axes: UTC, no zone suffix (plotly draws dates as given)."""
    if t is None:
        return None
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _g(b) -> Optional[float]:
    return None if b is None else round(b / GIB, 3)


def _ms(a, b) -> float:
    return max((b - a).total_seconds() * 1000.0, 0.0)


def _layout(**kw) -> dict:
    base = {"font": {"family": FONT, "size": 12, "color": "#222"}, "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#fbfbfb", "margin": {"l": 60, "r": 60, "t": 40, "b": 60},
            "hoverlabel": {"align": "left"},
            "legend": {"orientation": "h", "y": -0.22, "x": 0, "font": {"size": 11}}}
    base.update(kw)
    return base


# -- per model ----------------------------------------------------------------------------------

PARTS = (("weights", "weights_bytes"), ("KV cache", "kv_bytes"), ("graph", "graph_bytes"), ("reserve", "reserve_bytes"))


def need_figure(group: dict, short) -> dict:
    """Per load: what a full load needs by part (stacked) against the free VRAM (a black tick),
    with where it ran above."""
    loads = group["chart"]["loads"]
    labels = [_t(f"{short(ld['file'])}:{ld['line']}") for ld in loads]
    data = []
    for name, key in PARTS:
        ys = [_g(ld.get(key)) for ld in loads]
        if not any(y for y in ys):
            continue
        data.append({"type": "bar", "name": name, "x": labels, "y": ys, "marker": {"color": PART_COLOR[name]},
                     "hovertext": [f"{lb}<br>{name} {_t(gib(ld.get(key)))}" for lb, ld in zip(labels, loads)],
                     "hoverinfo": "text"})
    tops = [max([sum((ld.get(k) or 0) for _, k in PARTS), ld.get("free_bytes") or 0]) for ld in loads]
    data.append({"type": "scatter", "mode": "markers", "name": "free VRAM", "x": labels,
                 "y": [_g(ld.get("free_bytes")) for ld in loads],
                 "marker": {"symbol": "line-ew-open", "size": 44, "color": "#111", "line": {"width": 3, "color": "#111"}},
                 "hovertext": [f"{lb}<br>free VRAM {_t(gib(ld.get('free_bytes')))}<br>"
                               f"memory.required.full {_t(gib(ld.get('required_bytes')))}"
                               for lb, ld in zip(labels, loads)],
                 "hoverinfo": "text"})
    lift = max(tops + [0]) * 0.08
    data.append({"type": "scatter", "mode": "text", "showlegend": False, "x": labels,
                 "y": [_g(t + lift) for t in tops], "cliponaxis": False,
                 "text": [f"<b>{_t(place(ld))} {_t(layers(ld))}</b>" for ld in loads],
                 "textfont": {"color": [PLACEMENT_COLOR.get(ld.get("placement"), "#8a8a8a") for ld in loads], "size": 12},
                 "hovertext": [f"{lb}<br>{_t(ld.get('verdict'))}<br>cause: {_t(ld.get('cause'))}"
                               for lb, ld in zip(labels, loads)],
                 "hoverinfo": "text"})
    layout = _layout(barmode="stack", height=400, showlegend=True,
                     title={"text": "free VRAM against a full load", "font": {"size": 13}, "x": 0.01},
                     xaxis={"type": "category", "automargin": True,
                            "tickangle": 0 if sum(len(lb) for lb in labels) <= 60 else -30},
                     yaxis={"title": {"text": "GiB"}, "rangemode": "tozero", "gridcolor": "#e6e6e6"})
    return {"data": data, "layout": layout}


def ctx_figure(group: dict, short) -> Optional[dict]:
    """The estimator over num_ctx, one curve per distinct estimate: the free VRAM that keeps every
    layer on the GPU (solid), the free VRAM the loads had (dashed), layers on the GPU (dotted,
    right axis), the thresholds (vertical), and each load at its num_ctx and free VRAM."""
    chart = group["chart"]
    curves, loads = chart["curves"], chart["loads"]
    if not curves:
        return None
    data, shapes, notes = [], [], []
    xs = [n for c in curves for n in c["num_ctx"]]
    lo, hi = min(xs), max(xs)
    many = len(curves) > 1
    for i, c in enumerate(curves):
        color = CURVE_COLOR[i % len(CURVE_COLOR)]
        tag = f" #{i + 1}" if many else ""
        need = c["need"]
        if need["num_ctx"] and not any(need == d["need"] for d in curves[:i]):   # one line for equal needs
            data.append({"type": "scatter", "mode": "lines", "name": f"VRAM every layer needs{tag}",
                         "x": need["num_ctx"], "y": [_g(f) for f in need["free_bytes"]], "legendgroup": f"c{i}",
                         "line": {"color": color, "width": 3, "shape": "hv"},
                         "hovertext": [f"every layer on the GPU up to num_ctx {n} with {_t(gib(f))} free"
                                       for n, f in zip(need["num_ctx"], need["free_bytes"])],
                         "hoverinfo": "text"})
        if c.get("free_bytes") is not None:
            data.append({"type": "scatter", "mode": "lines", "name": f"free VRAM{tag}", "legendgroup": f"c{i}",
                         "x": [lo, hi], "y": [_g(c["free_bytes"])] * 2,
                         "line": {"color": color, "width": 1.5, "dash": "dash"},
                         "hovertext": [f"free VRAM {_t(gib(c['free_bytes']))}"] * 2, "hoverinfo": "text"})
        data.append({"type": "scatter", "mode": "lines", "name": f"layers on the GPU{tag}", "legendgroup": f"c{i}",
                     "x": c["num_ctx"], "y": c["layers"], "yaxis": "y2",
                     "line": {"color": color, "width": 1.5, "dash": "dot", "shape": "hv"},
                     "hovertext": [f"num_ctx {n}: {k}/{c['layers_total']} layers on the GPU"
                                   for n, k in zip(c["num_ctx"], c["layers"])],
                     "hoverinfo": "text"})
        for key, label, dash, side in (("num_ctx_full_gpu", "all on GPU", "solid", "right"),
                                       ("num_ctx_any_gpu", "1+ on GPU", "dot", "left")):
            n = c.get(key)
            if not n or n >= c["limit"]:
                continue
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": n, "x1": n, "y0": 0, "y1": 1,
                           "line": {"color": color, "width": 1.5, "dash": dash}})
            notes.append({"xref": "x", "yref": "paper", "x": _log10(n), "y": 1.0 + 0.075 * i, "yanchor": "bottom",
                          "xanchor": side, "showarrow": False, "text": f" {label} ≤ {n}{tag} ",
                          "font": {"size": 11, "color": color}})
    by_place: dict = {}
    for ld in loads:
        if ld.get("num_ctx") and ld.get("free_bytes") is not None:
            by_place.setdefault(ld.get("placement"), []).append(ld)
    for p in ("gpu", "partial", "cpu", None):
        pts = by_place.get(p)
        if not pts:
            continue
        data.append({"type": "scatter", "mode": "markers", "name": f"load {PLACEMENT_NAME[p]}",
                     "x": [ld["num_ctx"] for ld in pts], "y": [_g(ld["free_bytes"]) for ld in pts],
                     "marker": {"color": PLACEMENT_COLOR[p], "size": 12, "line": {"color": "#fff", "width": 1.5}},
                     "hovertext": [f"{_t(short(ld['file']))}:{ld['line']} ({_t(ld.get('host') or 'no host')})<br>"
                                   f"{_t(ld.get('verdict'))}<br>num_ctx {ld['num_ctx']} x parallel "
                                   f"{ld.get('parallel') or 1}, free VRAM {_t(gib(ld['free_bytes']))}<br>"
                                   f"cause: {_t(ld.get('cause'))}" for ld in pts],
                     "hoverinfo": "text"})
    top = max(c["layers_total"] for c in curves)
    layout = _layout(height=430, showlegend=True, shapes=shapes, annotations=notes,
                     margin={"l": 60, "r": 60, "t": 40 + 18 * len(curves), "b": 40},
                     legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0, "font": {"size": 11}},
                     xaxis={"type": "log", "title": {"text": "num_ctx (per request)"}, "gridcolor": "#e6e6e6"},
                     yaxis={"title": {"text": "free VRAM, GiB"}, "rangemode": "tozero", "gridcolor": "#e6e6e6"},
                     yaxis2={"overlaying": "y", "side": "right", "range": [0, top * 1.05], "tickformat": "d",
                             "title": {"text": "layers on the GPU"}, "showgrid": False})
    return {"data": data, "layout": layout}


def curve_legend(group: dict, short) -> list:
    """'#1: parallel 2, f16 KV cache: file:line, ...' for each curve of a model with several."""
    curves = group["chart"]["curves"]
    if len(curves) < 2:
        return []
    out = []
    for i, c in enumerate(curves, 1):
        who = ", ".join(f"{short(x['file'])}:{x['line']}" for x in c["loads"][:4])
        more = f" and {len(c['loads']) - 4} more" if len(c["loads"]) > 4 else ""
        out.append(f"#{i}: parallel {c['parallel']}, {c['kv_cache_type']} KV cache, {c['era']} estimate: {who}{more}")
    return out


def _log10(n: float) -> float:
    import math
    return math.log10(n)


# -- per host -----------------------------------------------------------------------------------

def host_figure(h: dict, short) -> dict:
    """Loads as bars on a lane per model (loading hatched, resident solid, failed grey), the
    scheduler's and the log's warnings as markers, requests per time bucket below."""
    first, last = h["first"], h["last"]
    lanes = list(dict.fromkeys(_t(ld["model"]) for ld in h["loads"]))
    if h["markers"]:
        lanes.append("events")
    span_ms = _ms(first, last) if first and last else 0.0
    least = max(span_ms / 400, 500.0)          # a bar no thinner than this, so short loads show
    data = []
    traces: dict = {}

    def bar(key, name, color, pattern, y, start, ms, hover, opacity=1.0):
        t = traces.get(key)
        if t is None:
            t = traces[key] = {"type": "bar", "orientation": "h", "name": name, "y": [], "base": [], "x": [],
                               "hovertext": [], "hoverinfo": "text", "opacity": opacity,
                               "marker": {"color": color, "line": {"color": color, "width": 1}},
                               "xaxis": "x", "yaxis": "y"}
            if pattern:
                t["marker"]["pattern"] = {"shape": pattern, "fgcolor": color, "bgcolor": "#eef1f5", "size": 7,
                                          "solidity": 0.4}
            data.append(t)
        t["y"].append(y)
        t["base"].append(_iso(start))
        t["x"].append(max(ms, least))
        t["hovertext"].append(hover)

    for ld in h["loads"]:
        lane = _t(ld["model"])
        where = f"{_t(short(ld['file']))}:{ld['line']}"
        head = f"{lane}<br>{where}<br>"
        if ld["start"] is None:
            continue
        if ld["failed"]:
            end = ld["end"] or ld["start"]
            bar("failed", "failed load", PLACEMENT_COLOR[None], "x", lane, ld["start"], _ms(ld["start"], end),
                f"{head}failed ({_t(ld.get('outcome') or 'no result shown')}) at {_t(when(end))}")
            continue
        color = PLACEMENT_COLOR.get(ld["placement"], PLACEMENT_COLOR[None])
        ready = ld["ready"]
        if ready is not None:
            bar("loading", "loading", "#7d8fa3", "/", lane, ld["start"], _ms(ld["start"], ready),
                f"{head}loading {_t(when(ld['start']))} to {_t(when(ready))} ({_ms(ld['start'], ready) / 1000:.1f} s)",
                opacity=0.8)
        begin = ready or ld["start"]
        until = ld["unloaded"] or last or begin
        state = f"{_t(place(ld))} {_t(layers(ld))}"
        gone = (f"unloaded {_t(when(ld['unloaded']))}" + (" (evicted)" if ld.get("outcome") == "evicted" else "")
                if ld["unloaded"] else "still loaded at the end of the log")
        bar(f"resident-{ld['placement']}", f"loaded {PLACEMENT_NAME.get(ld['placement'], '')}", color, "",
            lane, begin, _ms(begin, until), f"{head}{state}<br>from {_t(when(begin))}<br>{gone}")
    for kind in ("eviction", "vram", "error", "warning"):
        ms = [m for m in h["markers"] if m["kind"] == kind]
        if not ms:
            continue
        symbol, color, name = MARKER[kind]
        data.append({"type": "scatter", "mode": "markers", "name": name, "x": [_iso(m["time"]) for m in ms],
                     "y": ["events"] * len(ms), "marker": {"symbol": symbol, "size": 12, "color": color,
                                                          "line": {"color": color, "width": 2}},
                     "hovertext": [f"{_t(when(m['time']))} {_t(short(m['file']))}:{m['line']}<br><b>{_t(m['title'])}</b>"
                                   f"<br>{_t(m['text'][:160])}" for m in ms],
                     "hoverinfo": "text", "xaxis": "x", "yaxis": "y"})
    width = h["bucket_seconds"]
    for key, name in (("ok", "requests < 400"), ("client_errors", "4xx"), ("server_errors", "5xx")):
        below = {"ok": (), "client_errors": ("ok",), "server_errors": ("ok", "client_errors")}[key]
        bs = [b for b in h["requests"] if b[key]]
        if not bs:
            continue
        data.append({"type": "bar", "name": name, "xaxis": "x", "yaxis": "y2",
                     "x": [_iso(b["time"] + _dt.timedelta(seconds=width / 2)) for b in bs],
                     "y": [b[key] for b in bs], "base": [sum(b[k] for k in below) for b in bs],
                     "width": width * 1000 * 0.9, "marker": {"color": REQUEST_COLOR[key]},
                     "hovertext": [_request_hover(b, width) for b in bs], "hoverinfo": "text"})
    rows = max(len(lanes), 1)
    most = max([b["requests"] for b in h["requests"]] + [1])
    pad = _dt.timedelta(milliseconds=max(span_ms * 0.02, 1000))
    layout = _layout(
        barmode="overlay", height=170 + 34 * rows + 110, bargap=0.35,
        # the legend at the foot of the figure, under the time axis, its date and its title
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.01, "x": 0,
                "font": {"size": 11}},
        margin={"l": 60, "r": 60, "t": 30, "b": 110},
        xaxis={"type": "date", "anchor": "y2", "gridcolor": "#e6e6e6", "title": {"text": "time (UTC)"},
               **({"range": [_iso(first - pad), _iso(last + pad)]} if first and last else {})},
        yaxis={"domain": [0.34, 1], "type": "category", "categoryorder": "array", "categoryarray": lanes[::-1],
               "automargin": True, "gridcolor": "#eeeeee"},
        yaxis2={"domain": [0, 0.24], "title": {"text": f"requests<br>per {_duration(width)}", "font": {"size": 11}},
                "rangemode": "tozero", "gridcolor": "#e6e6e6", "tickformat": "d",
                "dtick": max(1, -(-most // 3))})
    return {"data": data, "layout": layout}


def _request_hover(b: dict, width: int) -> str:
    s = (f"{_t(when(b['time']))} + {_duration(width)}<br>{b['requests']} requests: {b['ok']} ok, "
         f"{b['client_errors']} 4xx, {b['server_errors']} 5xx (status {_t(', '.join(map(str, b['statuses'] or [])))})")
    if b.get("max_latency_ms") is not None:
        s += f"<br>slowest {b['max_latency_ms'] / 1000:.1f} s"
    paths = list(b.get("failed_paths") or [])
    if paths:
        s += "<br>failed: " + _t(", ".join(paths[:3])) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return s


def _duration(seconds: int) -> str:
    for unit, n in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= n and seconds % n == 0:
            return f"{seconds // n} {unit}"
    return f"{seconds} s"


# -- the page -------------------------------------------------------------------------------------

def render_html(report: dict, *, title: Optional[str] = None) -> str:
    """The whole page; raises ReportDependencyMissing without the `[report]` extra."""
    require()
    import jinja2
    from markupsafe import Markup

    from .. import __version__
    files = [f["file"] for f in report["inputs"]["files"]]
    files += [ld["file"] for m in report["models"] for ld in m["loads"]]
    short = shortest_paths(files).get
    figures = []
    sh = lambda f: short(f) or f  # noqa: E731
    for i, m in enumerate(report["models"]):
        figures.append({"id": f"model-{i}-need", **need_figure(m, sh)})
        fig = ctx_figure(m, sh)
        if fig is not None:
            figures.append({"id": f"model-{i}-ctx", **fig})
    for i, h in enumerate(report["hosts"]):
        if h["loads"] or h["markers"] or h["requests"]:
            figures.append({"id": f"host-{i}", **host_figure(h, sh)})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(when=when, gib=gib, place=place, layers=layers, ctx=ctx, short=lambda f: short(f) or f,
                       duration=_duration, cell=_cell)
    env.globals.update(threshold_lines=threshold_lines, curve_legend=lambda g: curve_legend(g, sh))
    drawn = {f["id"] for f in figures}
    return env.get_template("report.html.j2").render(
        r=report, title=title or "ollalog report", csp=CSP, version=__version__, drawn=drawn,
        figures_json=Markup(script_json(figures)),
        plotly_js=Markup(plotly_js()),
        style=Markup(_read("report.css")),
        script=Markup(_read("report.js")))


def _cell(v) -> str:
    """A findings table cell: times in UTC, lists joined, floats as printed by the query."""
    if v is None:
        return "–"
    if isinstance(v, _dt.datetime):
        return when(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_cell(x) for x in v)
    return str(v)


def _read(name: str) -> str:
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        return f.read()
