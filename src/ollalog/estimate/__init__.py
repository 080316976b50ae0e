"""Stage 5a: Ollama's memory estimate for the era that wrote the log, as numpy curves.

`for_load(facts)` picks the estimator of the load's era and feeds it the load's own numbers:

- `legacy`  v0.1.33 - v0.12.10: the one-line estimate (`offload to cuda ...`), llm/memory.go's loop
- `layout`  v0.11.5 - v0.24.0: the per-device report of the new memory layout
- `fit`     v0.30+: llama.cpp's fit inside llama-server

Each estimator's `run(C, ...)` takes an array of whole contexts (num_ctx x parallel) and returns
arrays (layers on the GPU, VRAM used, KV, graph), so one call gives a curve for a chart and the
threshold search is a scan of that curve. `at_log()` re-runs the log's own numbers: it must give
the layer count the log printed, and `check()` says whether it did.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..units import mib, parse_size
from . import eras, fit, layout, legacy
from .graph import HParams

SEARCH_STEP = 256


def hparams_from(events) -> HParams:
    """The model's shape from the loader dump and GGUF key/values among a load's events."""
    v: dict = {}
    arch = None
    for e in events:
        if e.event == "model_param":
            for k, val in e.attrs.items():
                v.setdefault(k.strip(), str(val).strip())
        elif e.event == "gguf_kv":
            for k, val in e.attrs.items():
                v.setdefault(k.strip(), str(val).strip())
            m = re.search(r"tokenizer\.ggml\.tokens\s+arr\[str,\s*(\d+)\]", e.msg or "", re.ASCII)
            if m:
                v.setdefault("n_vocab", m.group(1))
        elif e.event == "model_info" and "architecture" in e.attrs:
            arch = arch or e.attrs.get("architecture")
    arch = v.get("arch") or v.get("general.architecture") or arch

    def num(*keys) -> Optional[int]:
        for k in keys:
            if k is None:
                continue
            m = re.match(r"\s*(\d+)", v.get(k, "") or "")
            if m:
                return int(m.group(1))
        return None

    a = f"{arch}." if arch else None
    pre = (lambda s: a + s) if a else (lambda s: None)
    return HParams(
        arch=arch, n_layer=num("n_layer", pre("block_count")), n_embd=num("n_embd", pre("embedding_length")),
        n_head=num("n_head", pre("attention.head_count")), n_head_kv=num("n_head_kv", pre("attention.head_count_kv")),
        head_k=num("n_embd_head_k", pre("attention.key_length")), head_v=num("n_embd_head_v", pre("attention.value_length")),
        n_vocab=num("n_vocab"), n_swa=num("n_swa", pre("attention.sliding_window")),
        n_ctx_train=num("n_ctx_train", pre("context_length")), n_expert=num("n_expert", pre("expert_count")))


@dataclass
class Check:
    """The estimate at the logged context against what the log printed."""
    layers_offload: Optional[int]
    logged: Optional[int]
    logged_what: str
    matches_log: Optional[bool]
    off_by: Optional[int]
    missing: list


def _attr_size(e, key) -> Optional[int]:
    return parse_size(e.attrs.get(key)) if e is not None else None


def for_load(facts, hparams: Optional[HParams] = None):
    """The estimator of this load's era fed with its numbers, or None (with nothing to re-run)."""
    ld = facts.load
    version = eras.parse_version(ld.get("ollama_version"))
    hp = hparams or hparams_from(facts.evidence)
    off = facts.first("offload")
    if off is not None:
        line = legacy.parse_offload(off.attrs, off.msg)
        if line is not None:
            fits = facts.first("new_model_fits")
            exact = None
            if fits is not None and re.fullmatch(r"\d+", str(fits.attrs.get("available", "")), re.ASCII):
                exact = [int(fits.attrs["available"])]
            sysm = facts.first("system_memory")
            time = ld.get("time")
            est = legacy.build(line, version=version, ctx0=ld.get("ctx_size"), hparams=hp,
                               kv_type=ld.get("kv_cache_type"), available_exact=exact,
                               library=ld.get("library"), day=time.date().isoformat() if time else None,
                               system_free=_attr_size(sysm, "free"))
            return _label(est, "legacy", line.offload, "layers.offload", hp)
    from ..assemble import is_gpu_device
    runner = ld.get("runner") or ""
    if runner == "llama-server" or eras.at_least(version, eras.FIT_FIRST) or facts.first("fit_projected"):
        return _fit(facts, version, hp)
    if facts.first("gpu_memory") or facts.first("model_weights"):
        weights, kv, graph = {}, {}, {}
        for e in facts.evidence:
            target = {"model_weights": weights, "kv_cache": kv, "compute_graph": graph}.get(e.event)
            dev = e.attrs.get("device") or e.attrs.get("buffer") or e.attrs.get("backend")
            size = parse_size(e.attrs.get("size"))
            if target is not None and dev and size is not None:
                target[dev] = target.get(dev, 0) + size
        avail = [parse_size(e.attrs.get("available")) for e in facts.all("gpu_memory")]
        avail = [a for a in avail if a is not None]
        est = layout.build(version=version, layers_total=ld.get("layers_total"), gpu_available=avail,
                           weights_by_device=weights, kv_by_device=kv, graph_by_device=graph,
                           gpu_layers=ld.get("layers_offloaded"), ctx0=ld.get("ctx_size"),
                           flash=ld.get("flash_attention"), kv_type=ld.get("kv_cache_type"),
                           requested=ld.get("layers_requested"), is_gpu=is_gpu_device)
        return _label(est, "layout", ld.get("layers_offloaded"), "GPU layers of the committed layout", hp)
    return None


def _label(est, era: str, logged, what: str, hp):
    """The era, the layer count the log printed for it, and the model's shape, on an estimator."""
    if est is not None:
        est.era, est.logged, est.logged_what, est.hparams = era, logged, what, hp
    return est


def _fit(facts, version, hp):
    from ..assemble import BUFFER, FIT_PROJECTED, KV_SIZE, USING_DEVICE, is_gpu_device
    ld = facts.load
    free = []
    for e in facts.all("using_device"):
        m = USING_DEVICE.search(e.msg)
        if m:
            free.append(int(m.group(4)) << 20)
    proj = facts.first("fit_projected")
    if not free and proj is not None:
        m = FIT_PROJECTED.search(proj.msg)
        if m:
            free = [int(m.group(2)) << 20]
    model_gpu = model_all = 0.0
    compute_gpu = None
    for e in facts.all("buffer"):
        m = BUFFER.search(e.msg)
        if not m:
            continue
        dev, kind, size = m.group(1), (m.group(2) or "model").strip(), mib(m.group(3))
        if kind == "model":
            model_all += size
            if is_gpu_device(dev):
                model_gpu += size
        elif kind == "compute" and is_gpu_device(dev):
            compute_gpu = (compute_gpu or 0) + size
    breakdown = None
    for e in facts.all("memory_breakdown"):
        m = re.search(r"\|\s*-\s*(\S+).*?\|\s*(\d+)\s*=\s*(-?\d+)\s*\+\s*\(\s*(\d+)\s*=\s*(\d+)\s*\+\s*(\d+)\s*\+\s*(\d+)\s*\)",
                      e.msg, re.ASCII)
        if m and is_gpu_device(m.group(1)):
            b = {"model": int(m.group(5)) << 20, "context": int(m.group(6)) << 20, "compute": int(m.group(7)) << 20}
            breakdown = b if breakdown is None else {k: breakdown[k] + b[k] for k in b}
    kv_size = kv_cells = None
    for e in facts.all("kv_size"):
        m = KV_SIZE.search(e.msg)
        if m:
            kv_size, kv_cells = mib(m.group(1)), int(m.group(2))
    if kv_size is None:
        kv_size = ld.get("kv_bytes")
    cfg = facts.config
    target = None
    t = (cfg.get("LLAMA_ARG_FIT_TARGET") or "").strip()
    if re.fullmatch(r"\d+", t, re.ASCII):
        target = int(t) << 20
    fit_on = (cfg.get("LLAMA_ARG_FIT") or "").strip().lower() not in ("off", "0", "false")
    cmd_ngl = ld.get("layers_requested")
    est = fit.build(version=version, layers_total=ld.get("layers_total"), free=free, target=target,
                    breakdown=breakdown, model_gpu=model_gpu, model_all=model_all, kv_size=kv_size,
                    kv_cells=kv_cells, kv_gpu_layers_total=None, compute_gpu=compute_gpu,
                    ctx0=ld.get("ctx_size"), gpu_layers=ld.get("layers_offloaded"),
                    kv_type=ld.get("kv_cache_type"), requested=cmd_ngl, fit_enabled=fit_on)
    return _label(est, "fit", ld.get("layers_offloaded"), "offloaded a/b layers", hp)


def signature(est) -> tuple:
    """A hashable digest of everything an estimator computes with: equal signatures give equal
    curves, so repeated loads of one model on one server are estimated once."""
    def freeze(v):
        if isinstance(v, np.ndarray):
            return tuple(v.tolist())
        if isinstance(v, (list, tuple)):
            return tuple(freeze(x) for x in v)
        if isinstance(v, dict):
            return tuple(sorted((k, freeze(x)) for k, x in v.items()))
        if hasattr(v, "__dict__"):
            return freeze(vars(v))
        return v
    return (type(est).__name__,) + tuple((k, freeze(v)) for k, v in sorted(vars(est).items()) if k != "notes")


def check(est) -> Check:
    """Re-run the logged numbers; compare with the logged layer count."""
    missing = [n for n in getattr(est, "notes", []) if "not in the log" in n]
    got = int(est.run([est.ctx0 or 1], at_log=True)["layers"][0])
    logged = getattr(est, "logged", None)
    matches = None if logged is None else got == logged
    return Check(layers_offload=got, logged=logged, logged_what=getattr(est, "logged_what", ""),
                 matches_log=matches, off_by=None if logged is None else got - logged, missing=missing)


def search_limit(est, num_ctx: Optional[int]) -> int:
    """The largest num_ctx worth searching: the model's training context when printed."""
    hp = getattr(est, "hparams", None)
    train = hp.n_ctx_train if hp is not None else None
    if train:
        return int(train)
    return int(max(262144, 4 * (num_ctx or 0)))


def threshold(est, parallel: int, want: str, *, limit: int, **whatif) -> Optional[int]:
    """The largest num_ctx (per request, at `parallel`) for which the estimate keeps every layer
    (`want='full'`) or at least one layer (`want='any'`) on the GPU. 0: not even the smallest
    context does; `limit`: the model's limit is reached first; None: no context model."""
    if est.ctx0 is None or getattr(est, "kv_basis", "") == "none":
        return None
    total = est.blocks + 1

    def ok(n):
        r = est.run(np.asarray(n, dtype=np.float64) * parallel, **whatif)["layers"]
        return r >= total if want == "full" else r >= 1

    grid = np.arange(SEARCH_STEP, limit + SEARCH_STEP, SEARCH_STEP)
    grid[-1] = limit
    good = ok(grid)
    if good.all():
        return int(limit)
    if not good.any():
        lo, hi = 0, int(grid[0])
        if not ok([1])[0]:
            return 0
        lo = 1
    else:
        last = int(np.nonzero(good)[0].max())
        if not good[: last + 1].all():
            # not monotone (rounding at a boundary): keep the first stretch that holds
            last = int(np.argmin(good)) - 1
        lo, hi = int(grid[last]), int(grid[last + 1])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok([mid])[0]:
            lo = mid
        else:
            hi = mid
    return lo


def curve(est, parallel: int, ns, **whatif) -> dict:
    """The estimate over an array of num_ctx values (for charts): layers, VRAM, KV, graph."""
    ns = np.asarray(ns, dtype=np.float64)
    r = est.run(ns * parallel, **whatif)
    return {"num_ctx": ns.astype(np.int64).tolist(), **{k: np.asarray(v).tolist() for k, v in r.items()
                                                       if k in ("layers", "vram", "kv", "graph", "total")}}
