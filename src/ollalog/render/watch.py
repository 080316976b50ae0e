"""`watch` alerts as one line of text per load (the JSON form is the event itself)."""
from __future__ import annotations

from . import ctx, layers, place, printable, when


def _fits(th: dict) -> str:
    full, anyg, lim = th.get("num_ctx_full_gpu"), th.get("num_ctx_any_gpu"), th.get("limit")

    def n(x):
        return f"{x}+" if lim and x >= lim else str(x)
    if full is None and anyg is None:
        return ""
    if full == 0 and not anyg:
        return "no num_ctx fits on the GPU"
    parts = [f"all layers on the GPU up to num_ctx {n(full)}"] if full else ["no num_ctx keeps all layers on the GPU"]
    if anyg:
        parts.append(f"some up to {n(anyg)}")
    return ", ".join(parts)


def alert_line(ev: dict) -> str:
    """`2025-01-28 08:31:12 gpubox deepseek-r1:32b CPU 0/65 num_ctx 131072 x 2: kv_too_big (the KV
    cache at this context does not fit); all layers on the GPU up to num_ctx 6323 [server.log:211]`"""
    head = [when(ev.get("time")), ev.get("host") or "-", ev.get("model") or "?", place(ev)]
    if ev.get("layers_offloaded") is not None or ev.get("layers_total") is not None:
        head.append(layers(ev))
    if ev.get("num_ctx") is not None or ev.get("ctx_size") is not None:
        head.append(f"num_ctx {ctx(ev)}")
    cause, title = ev.get("cause") or "unknown", ev.get("cause_title") or "not shown in the log"
    text = " ".join(head) + f": {cause}" + (f" ({title})" if title != cause else "")
    fits = _fits(ev.get("threshold") or {})
    if fits and ev.get("placement") != "gpu":
        text += "; " + fits
    return printable(text + f" [{ev.get('file')}:{ev.get('line')}]", one_line=True)  # log text is in it
