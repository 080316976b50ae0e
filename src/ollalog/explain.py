"""Stage 5b: why each load ran where it ran, the num_ctx that fits, and what to change.

Input: `facts.LoadFacts` (what the log says around a load) and its estimator (`estimate`).
Output: plain data (dicts and lists of numbers and strings) that the renderers print and the
JSON contract documents (docs/why.md). Nothing here prints, and nothing here reads the tables.

A load gets one cause, the first of `CAUSES` whose test holds, with every line that supports it.
"""
from __future__ import annotations

import re
from typing import Optional

from . import estimate as E
from .estimate import eras
from .units import parse_size

GIB = 1 << 30
MIB = 1 << 20
ADVICE_STEP = 256      # num_ctx advice is rounded down to a multiple of this

# cause -> a short title; the order is the order they are tried in
CAUSES = {
    "no_gpu": "no usable GPU",
    "num_gpu_zero": "num_gpu 0",
    "refused": "refused: not enough system memory",
    "runner_crashed": "the runner crashed",
    "forced_num_gpu_oom": "a forced num_gpu ran out of memory",
    "oom": "out of memory although the estimate fitted",
    "timeout": "the load timed out",
    "backend_failed": "planned for the GPU, ran on the CPU",
    "macos_ram": "the model is larger than the Mac's GPU working set",
    "vram_not_recovered": "VRAM of an unloaded model had not come back",
    "vram_held_by_others": "VRAM held by other loaded models",
    "kv_too_big": "the KV cache at this context does not fit",
    "model_too_big": "the weights alone do not fit in free VRAM",
    "partial_fit": "not every layer fits (the log does not say why)",
    "fits": "fits",
    "unknown": "not shown in the log",
}


def gib(b) -> str:
    if b is None:
        return "?"
    return f"{b / GIB:.1f} GiB" if abs(b) >= GIB else f"{b / MIB:.0f} MiB"


def _round_down(n: Optional[int]) -> Optional[int]:
    if n is None or n <= 0:
        return n
    return max(ADVICE_STEP, n // ADVICE_STEP * ADVICE_STEP) if n >= ADVICE_STEP else n


def evidence_item(file: str, ev, note: str = "") -> dict:
    item = {"file": file, "line": ev.line, "text": ev.text()}
    if ev.end_line and ev.end_line > ev.line:
        item["end_line"] = ev.end_line
    if note:
        item["why"] = note
    return item


# -- GPU availability ---------------------------------------------------------------------------

GPU_WORDS = re.compile(r"CUDA|ROCm|HIP|Metal|MTL|Vulkan|SYCL|oneAPI|OpenCL|MUSA|CANN", re.I | re.ASCII)


def _no_gpu(f) -> Optional[tuple]:
    """(sentence, events, level) when no GPU could take this load: 'server' when discovery found
    none, 'runner' when the runner itself had no GPU backend."""
    cfg = f.config
    cev = f.config_event
    found: list = []          # (reason, event, decisive): a complaint about one GPU is not decisive
    for e in f.context:
        if e.event == "no_gpu":
            found.append(("GPU discovery found no compatible GPU", e, True))
        elif e.event == "gpu_unsupported":
            found.append((e.msg.split(",")[0], e, False))
        elif e.event == "dynamic_libraries":
            runners = e.attrs.get("runners") or e.msg
            names = re.findall(r"[A-Za-z0-9_]+", runners.replace("Dynamic LLM libraries", ""))
            if names and all(n.startswith("cpu") for n in names):
                found.append(("this build has CPU runners only", e, True))
    for name in ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
        v = (cfg.get(name) or "").strip()
        if v in ("-1", "none", "void") and cev is not None:
            found.append((f"{name}={v} hides every GPU", cev, True))
    llm_lib = (cfg.get("OLLAMA_LLM_LIBRARY") or "").strip().lower()
    if llm_lib.startswith("cpu") and cev is not None:
        found.append((f"OLLAMA_LLM_LIBRARY={llm_lib} forces the CPU runner", cev, True))
    inv = [g for g in f.gpus if g.get("origin") == "server"]
    if inv and all((g.get("library") or "") == "cpu" for g in inv):
        first = next((e for e in f.context if e.event == "inference_compute"), None)
        found.append(("the server's GPU inventory lists only the CPU", first, True))
    off = f.first("offload")
    if off is not None:
        from .estimate.legacy import parse_offload
        line = parse_offload(off.attrs, off.msg)
        if line is not None and line.library == "cpu":
            found.append(("the estimate ran against system memory (library=cpu)", off, True))
        elif line is not None and line.available == [0]:
            found.append(("the GPU reported 0 B free: no usable GPU memory", off, True))
    gpu_inv = any(g.get("library") not in (None, "cpu") for g in inv)
    if any(d for _, _, d in found) or (found and not gpu_inv):
        reasons = list(dict.fromkeys(r for r, _, _ in found))
        return "; ".join(reasons), [e for _, e, _ in found if e is not None], "server"
    # the runner: a CPU build, or no GPU backend, device or buffer at all; not when the plan itself
    # kept every layer off the GPU (then the CPU runner is its consequence, not a cause)
    ld = f.load
    if ld.get("layers_planned") == 0:
        return None
    runner = ld.get("runner") or ""
    start = f.first("starting_runner")
    if runner.startswith("cpu"):
        return f"the server started a CPU-only runner ({runner})", [start], "runner"
    sysl = f.first("runner_system")
    if sysl is not None:
        text = sysl.msg + " " + " ".join(f"{k} {v}" for k, v in sysl.attrs.items())
        if not GPU_WORDS.search(text):
            return "the runner loaded no GPU backend (its system line lists the CPU only)", [sysl], "runner"
    backends = f.all("backend_loaded")
    if backends and not any(GPU_WORDS.search(b.msg) for b in backends):
        return "the runner loaded the CPU backend only", backends[:1], "runner"
    if f.first("cuda_init_failed") is not None:
        return "the GPU backend failed to initialise", [f.first("cuda_init_failed")], "runner"
    gpu_lines = [e for e in f.evidence if e.event in ("gpu_device", "using_device", "offloaded", "offloading",
                                                    "gpu_memory", "fit_projected")]
    bufs = [e for e in f.evidence if e.event in ("buffer", "model_weights")]
    if ld.get("placement") == "cpu" and bufs and not gpu_lines and not GPU_WORDS.search(
            " ".join(e.msg + " " + " ".join(map(str, e.attrs.values())) for e in bufs)):
        return ("the runner shows no GPU device: every buffer is on the CPU and no line offloads a layer "
                "(why the GPU was not used is not in this excerpt)"), bufs[:1], "runner"
    return None


# -- the estimate -------------------------------------------------------------------------------

def _whatif_args(est, kv_type=None, flash=None, num_gpu=None, available=None) -> dict:
    kw = {}
    if kv_type is not None:
        kw["kv_type"] = kv_type
    if num_gpu is not None:
        kw["num_gpu"] = num_gpu
    if available is not None:
        kw["available"] = available
    if flash is not None and getattr(est, "era", "") in ("layout", "fit"):
        kw["flash"] = flash
    return kw


def _fa_possible(f, est, version) -> tuple:
    """(allowed, reason) for a quantised KV cache with flash attention in this era and model."""
    hp = getattr(est, "hparams", None)
    arch = hp.arch if hp else f.load.get("architecture")
    if est.era == "legacy" and not eras.has_kv_cache_type(version):
        return False, f"Ollama {eras.vstr(version)} has no OLLAMA_KV_CACHE_TYPE (0.5.0+)"
    lib = (f.load.get("library") or "").lower()
    if est.era in ("legacy", "layout") and lib not in ("cuda", "rocm", "metal"):
        return False, f"Ollama enables flash attention on CUDA, ROCm and Metal only, not {lib or 'this device'}"
    if not eras.supports_flash_attention(arch, hp.head_k if hp else None, hp.head_v if hp else None):
        return False, f"{arch} does not support flash attention in Ollama"
    for e in f.evidence:
        if e.event == "flash_attention" and e.msg.startswith("flash attention enabled but not supported"):
            return False, "the log says flash attention is not supported here"
    return True, ""


_THRESHOLDS: dict = {}


def thresholds(f, est, version) -> dict:
    """num_ctx_full_gpu / num_ctx_any_gpu at the load's parallel, at parallel 1, and with a
    quantised KV cache where the era and model allow it (computed once per distinct input)."""
    ld = f.load
    key = (E.signature(est), ld.get("parallel"), ld.get("num_ctx"), ld.get("kv_cache_type"),
           ld.get("library"), version, _fa_possible(f, est, version))
    hit = _THRESHOLDS.get(key)
    if hit is None:
        if len(_THRESHOLDS) > 4096:
            _THRESHOLDS.clear()
        hit = _THRESHOLDS[key] = _thresholds(f, est, version)
    import copy
    return copy.deepcopy(hit)


def _thresholds(f, est, version) -> dict:
    ld = f.load
    P = ld.get("parallel") or 1
    lim = E.search_limit(est, ld.get("num_ctx"))
    counts = est.blocks > 0          # an estimate that knows the layer count
    out = {"parallel": P, "limit": lim,
           "num_ctx_full_gpu": E.threshold(est, P, "full", limit=lim),
           "num_ctx_any_gpu": E.threshold(est, P, "any", limit=lim) if counts else None}
    if not ld.get("parallel"):
        out["parallel_note"] = "parallel not in the log: taken as 1"
    if P != 1:
        out["parallel_1"] = {"num_ctx_full_gpu": E.threshold(est, 1, "full", limit=lim),
                             "num_ctx_any_gpu": E.threshold(est, 1, "any", limit=lim) if counts else None}
        n = ld.get("num_ctx")
        if n and counts and est.ctx0:
            out["parallel_1"]["layers_at_num_ctx"] = int(est.run([n])["layers"][0])
    ok, why = _fa_possible(f, est, version)
    cur = (ld.get("kv_cache_type") or "f16").lower()
    for t in ("q8_0", "q4_0"):
        if not ok:
            out[t] = {"allowed": False, "reason": why}
            continue
        if eras.KV_BYTES.get(t, 2) >= eras.KV_BYTES.get(cur, 2):
            continue
        out[t] = {"allowed": True, "flash_attention": True,
                  "num_ctx_full_gpu": E.threshold(est, P, "full", limit=lim, kv_type=t),
                  "num_ctx_any_gpu": E.threshold(est, P, "any", limit=lim, kv_type=t) if counts else None}
    if out["num_ctx_full_gpu"] == lim or out["num_ctx_any_gpu"] == lim:
        out["limit_note"] = (f"searched up to {lim} (the model's training context)" if
                             getattr(getattr(est, "hparams", None), "n_ctx_train", None) else
                             f"searched up to {lim}")
    return out


def _memory(f, est) -> dict:
    """Free VRAM against what a full load needs, in bytes (the numbers the cause quotes)."""
    ld = f.load
    m = {"vram_available_bytes": ld.get("vram_available_bytes"), "required_full_bytes": ld.get("required_full_bytes"),
         "kv_bytes": ld.get("kv_bytes"), "weights_bytes": ld.get("weights_bytes"), "graph_bytes": ld.get("graph_bytes"),
         "reserve_bytes": None}
    if est is None:
        return m
    if est.era == "legacy":
        m["weights_bytes"] = int(est.block_weights * est.blocks + est.output)
        m["kv_bytes"] = int(est.kv0)
        m["graph_bytes"] = int(max(est.graph0))
        m["reserve_bytes"] = int(est.minimum * len(est.available) + (est.overhead or 0))
        m["vram_available_bytes"] = int(sum(est.available))
        if est.line.required_full is not None:
            m["required_full_bytes"] = est.line.required_full
    elif est.era == "layout":
        m["weights_bytes"] = int(est.block_weights * est.blocks + est.output)
        m["kv_bytes"] = int(est.kv0)
        m["graph_bytes"] = int(est.graph0)
        m["vram_available_bytes"] = int(sum(est.available))
        m["required_full_bytes"] = int(m["weights_bytes"] + est.kv0 + est.graph0)
    elif est.era == "fit":
        m["weights_bytes"] = int(est.model_full)
        m["kv_bytes"] = int(est.kv_per_token * (est.ctx0 or 0) + est.kv_fixed)
        m["graph_bytes"] = int(est.compute)
        m["reserve_bytes"] = int(est.target * est.devices)
        m["vram_available_bytes"] = int(est.free)
        m["required_full_bytes"] = int(est.model_full + m["kv_bytes"] + est.compute)
    return m


def _startup_free(f, est) -> Optional[list]:
    """Free memory per GPU at discovery, comparable with what the estimate saw."""
    inv = [g for g in f.gpus if g.get("origin") == "server" and (g.get("library") or "") != "cpu"
           and g.get("available_bytes")]
    if not inv or est is None:
        return None
    n = len(est.available) if est.era in ("legacy", "layout") else 1
    vals = [g["available_bytes"] for g in inv][-max(n, 1):]
    if est.era == "layout":
        vals = [max(v - eras.minimum_memory(inv[0].get("library")), 0) for v in vals]
    if est.era == "fit":
        return [sum(vals)]
    return vals if len(vals) == n else None


# -- one load -------------------------------------------------------------------------------------

def explain_load(f, est, whatif: Optional[dict] = None) -> dict:
    ld = f.load
    file = ld["file"]
    version = eras.parse_version(ld.get("ollama_version"))
    if est is not None and getattr(est, "version", None) is not None:
        version = version or est.version
    placement = ld.get("placement")
    a, b = ld.get("layers_offloaded"), ld.get("layers_total")
    out = {
        "file": file, "line": ld["line"], "end_line": ld.get("end_line"), "time": ld.get("time"),
        "host": ld.get("host"), "ollama_version": ld.get("ollama_version"),
        "model_blob": ld.get("model_blob"), "model_name": ld.get("model_name"),
        "general_name": ld.get("general_name"), "architecture": ld.get("architecture"),
        "placement": placement, "placement_basis": ld.get("placement_basis"),
        "layers_offloaded": a, "layers_total": b, "layers_planned": ld.get("layers_planned"),
        "layers_requested": ld.get("layers_requested"),
        "num_ctx": ld.get("num_ctx"), "parallel": ld.get("parallel"), "ctx_size": ld.get("ctx_size"),
        "kv_cache_type": ld.get("kv_cache_type"), "flash_attention": ld.get("flash_attention"),
        "library": ld.get("library"), "outcome": ld.get("outcome"), "error": ld.get("error"),
    }
    out["verdict"] = _verdict(placement, a, b, ld.get("outcome"))
    mem = _memory(f, est)
    out.update(mem)
    # the estimate, checked against the log
    if est is not None:
        c = E.check(est)
        out["estimate"] = {"era": est.era, "version_used": eras.vstr(getattr(est, "version", None)),
                           "layers_offload": c.layers_offload, "logged": c.logged, "logged_as": c.logged_what,
                           "matches_log": c.matches_log, "off_by": c.off_by,
                           "kv_basis": est.kv_basis, "graph_basis": est.graph_basis,
                           "notes": list(getattr(est, "notes", []))}
        if c.matches_log is False:
            out["estimate"]["mismatch"] = _mismatch(est, c)
        out["threshold"] = thresholds(f, est, version)
    else:
        out["estimate"] = {"era": None, "layers_offload": None, "matches_log": None,
                           "notes": [_no_estimate_reason(f)]}
        out["threshold"] = {"num_ctx_full_gpu": None, "num_ctx_any_gpu": None}
    out["notes"] = _notes(f)
    cause, text, evs = _cause(f, est, out)
    out["cause"] = cause
    out["cause_title"] = CAUSES[cause]
    out["cause_text"] = text
    out["evidence"] = _evidence(f, evs)
    if whatif:
        out["whatif"] = _whatif(f, est, whatif, version)
    return out


def _notes(f) -> list:
    """What else the log says about this load's memory: Ollama's own pre-flight guess (v0.30+,
    only with other models loaded) and a retry with a smaller automatic context."""
    out = []
    for e in [x for x in f.context + f.evidence if x.event in ("evicting", "fits_alongside")]:
        if "predicted" not in e.attrs:
            continue
        pred, avail = parse_size(e.attrs.get("predicted")), parse_size(e.attrs.get("available"))
        verdict = "exceeds 80% of the free memory: other models evicted first" if e.event == "evicting" \
            else "fits beside the models already loaded"
        out.append({"line": e.line, "kind": "preflight",
                    "text": f"Ollama's pre-flight guess {gib(pred)} for num_ctx x parallel "
                            f"{e.attrs.get('predicted_num_ctx')} against {gib(avail)} free {verdict}"})
    for e in f.evidence:
        if e.event == "load_failed" and "reducing automatic context" in e.msg:
            out.append({"line": e.line, "kind": "context_retry",
                        "text": f"the automatic context was reduced from {e.attrs.get('old_num_ctx')} to "
                                f"{e.attrs.get('new_num_ctx')} and the load retried once (a Modelfile or "
                                "request num_ctx is never reduced)"})
    return out


def _verdict(placement, a, b, outcome) -> str:
    if placement == "gpu":
        return f"GPU ({a}/{b} layers)" if a is not None and b else "GPU"
    if placement == "partial":
        return f"split: {a} of {b} layers on the GPU" if a is not None and b else "split GPU/CPU"
    if placement == "cpu":
        return "CPU (no layer on the GPU)"
    if outcome in ("oom", "crashed", "timeout", "refused"):
        return f"failed ({outcome})"
    return "not shown"


def _no_estimate_reason(f) -> str:
    off = f.first("offload")
    if off is not None:
        if "reallayers" in off.attrs:
            return "v0.1.32's estimate line prints no layer total or weights: nothing to re-run"
        return "the estimate line lacks the numbers the estimator needs (layers.model, kv, graph)"
    if f.load.get("runner") == "llama-server":
        return "llama-server's free memory, buffers or layer total are not in the log"
    return "the log holds no estimate or memory report for this load"


def _mismatch(est, c) -> str:
    parts = [f"estimate {c.layers_offload}, log {c.logged} ({c.off_by:+d} layer{'s' if abs(c.off_by) != 1 else ''})"]
    if est.era == "legacy":
        parts.append("inputs approximated: mean block size (the line has no per-block sizes), free VRAM "
                     "to one decimal of a GiB")
    elif est.era == "layout":
        parts.append("per-block sizes are the GPU's weights over its layers; the runner measures each block")
    elif est.era == "fit":
        parts.append("llama.cpp's fit measures each layer in a dry run; the log gives sums only")
    return "; ".join(parts)


def _evidence(f, evs) -> list:
    """Every line of the load and every line the cause rests on, in log order, once each; the
    cause's own lines are marked `key`."""
    file = f.load["file"]
    key = {ev.line for ev in evs if ev is not None}
    seen, items = set(), []
    for ev in [e for e in evs if e is not None] + list(f.evidence):
        if ev.line in seen:
            continue
        seen.add(ev.line)
        item = evidence_item(file, ev)
        item["key"] = ev.line in key
        items.append(item)
        # a record wrapped over several physical lines: each of them is evidence too
        for n in range(ev.line + 1, (ev.end_line or ev.line) + 1):
            if n not in seen:
                seen.add(n)
                items.append({"file": file, "line": n, "text": f"(line {ev.line} continued)",
                              "key": item["key"], "continues": ev.line})
    items.sort(key=lambda i: i["line"])
    return items


def _cause(f, est, out) -> tuple:
    """(cause, one sentence with the numbers, events)."""
    ld = f.load
    placement, outcome = ld.get("placement"), ld.get("outcome")
    a, b = ld.get("layers_offloaded"), ld.get("layers_total")
    req = ld.get("layers_requested")
    planned = ld.get("layers_planned")
    th = out.get("threshold") or {}
    n, P = _num_ctx(ld), ld.get("parallel") or 1
    avail, need = out.get("vram_available_bytes"), out.get("required_full_bytes")
    kv, w, g = out.get("kv_bytes"), out.get("weights_bytes"), out.get("graph_bytes")
    numbers = (f"free VRAM {gib(avail)} against {gib(need)} for a full load (weights {gib(w)} + KV cache "
               f"{gib(kv)} + graph {gib(g)}" + (f" + reserve {gib(out['reserve_bytes'])}" if out.get("reserve_bytes") else "")
               + ")") if avail is not None and need is not None else ""
    ev_off = f.first("offload") or f.first("loading_model") or f.first("fit_deficit") or f.first("fit_projected")

    ng = _no_gpu(f) if placement in ("cpu", None) else None
    if ng is not None and ng[2] == "server" and (placement == "cpu" or outcome is None):
        return "no_gpu", f"No usable GPU: {ng[0]}.", ng[1]
    lib = (ld.get("library") or "").lower()
    if ng is not None and placement == "cpu" and planned and planned > 0 and lib not in ("", "cpu") \
            and not (ld.get("runner") or "").startswith("cpu"):
        evs = ng[1] + [f.first("offloaded"), f.first("starting_runner"), ev_off]
        return "backend_failed", (f"The plan put {planned} layers on the GPU, but {ng[0]}: the model runs on "
                                  "the CPU (`ollama ps` may still say GPU)."), evs
    if ng is not None and placement == "cpu":
        return "no_gpu", f"No usable GPU: {ng[0]}.", ng[1] + [ev_off]
    if (req == 0 or (planned == 0 and (f.load.get("runner") or "").startswith(("cuda", "rocm")))) and placement == "cpu":
        e = f.first("offload") or f.first("loading_model") or f.first("starting_runner")
        return "num_gpu_zero", "num_gpu is 0: the model was told to stay off the GPU.", [e]
    if outcome == "refused":
        e = f.first("too_large_for_system")
        return "refused", f"Refused before any runner started: {ld.get('error') or 'not enough system memory'}.", [e]
    if outcome == "crashed":
        e = f.first("load_failed") or f.first("runner_terminated") or f.first("panic")
        return "runner_crashed", f"The runner died during the load: {ld.get('error') or 'no error text'}.", [e]
    if outcome == "oom":
        e = f.first("oom") or f.first("load_failed")
        told = req if req is not None and req >= 0 else planned
        if (req is not None and req >= 0) or (est is not None and told is not None
                                               and out["estimate"].get("layers_offload") is not None
                                               and told > out["estimate"]["layers_offload"]):
            fit = out["estimate"].get("layers_offload")
            more = f" but only {fit} fit by the estimate" if fit is not None else ""
            return "forced_num_gpu_oom", (f"num_gpu was forced to {told} layers{more}; the allocation then ran "
                                          f"out of memory ({ld.get('error') or 'out of memory'})."), [e, ev_off]
        return "oom", (f"Out of memory although the estimate planned {planned} layers: "
                       f"{ld.get('error') or 'out of memory'}. {numbers}."), [e, ev_off]
    if outcome == "timeout":
        e = f.first("load_failed")
        return "timeout", f"The runner did not finish loading in time: {ld.get('error')}.", [e]
    if placement == "cpu" and planned and planned > 0 and lib not in ("", "cpu") and \
            ld.get("placement_basis") == "buffers":
        evs = [f.first("offloaded"), f.first("buffer"), f.first("starting_runner"), ev_off]
        return "backend_failed", (f"The plan put {planned} layers on the GPU, but the model buffers went to the "
                                  "CPU: the model runs on the CPU (`ollama ps` may still say GPU)."), evs
    if placement == "gpu":
        return "fits", (f"Every layer fits: {numbers}." if numbers else "Every layer is on the GPU."), [ev_off, f.first("offloaded")]
    if placement in ("cpu", "partial") and lib == "metal":
        sysm = f.first("system_memory") or next((e for e in f.context if e.event == "system_memory"), None)
        total = parse_size(sysm.attrs.get("total")) if sysm else None
        if placement == "cpu" and need and total and need > total:
            return "macos_ram", (f"On macOS a model larger than the system memory ({gib(total)}) is kept off "
                                 f"the GPU: it needs {gib(need)}."), [sysm, ev_off]
        if need and avail and need > avail:
            share = f" ({gib(avail)} of {gib(total)} of RAM)" if total else f" ({gib(avail)})"
            return "macos_ram", (f"The model is larger than the GPU working set macOS allows{share}: {numbers}. "
                                 f"{a} of {b} layers fit on the GPU; the rest run on the CPU."), [ev_off, sysm]
    # memory held by others: with the free VRAM of discovery the same estimate places more layers
    held = _held(f, est, out) or _runner_saw_more(f, est, out)
    if held is not None:
        return held
    nr = [e for e in f.context if e.event == "vram_not_recovered"]
    if nr and placement in ("cpu", "partial"):
        return "vram_not_recovered", ("The VRAM of the model unloaded just before had not come back when this load "
                                      "was planned (`gpu VRAM usage didn't recover within timeout`)"
                                      + (f": {numbers}." if numbers else ".")), nr + [ev_off]
    full, anyg = th.get("num_ctx_full_gpu"), th.get("num_ctx_any_gpu")
    small = _starved(f, est, out, anyg)
    if small is not None:
        return small
    split = f"{a} of {b} layers fit" if a is not None and b else "not every layer fits"
    if placement in ("cpu", "partial") and n and est is not None and (full is not None or anyg is not None):
        if placement == "cpu" and anyg is not None and anyg >= 1 and anyg < n:
            tail = f"; all {b} layers up to num_ctx {full}" if full else ""
            return "kv_too_big", (f"At num_ctx {n} x parallel {P} the KV cache is {gib(kv)} and the graph {gib(g)}: "
                                  f"with {gib(avail)} free not one layer fits. Up to num_ctx {anyg} at least one "
                                  f"layer would{tail}."), [ev_off]
        if full is not None and full >= 1 and full < n:
            return "kv_too_big", (f"At num_ctx {n} x parallel {P} the KV cache is {gib(kv)}: {numbers}. "
                                  f"Up to num_ctx {full} every layer would fit."), [ev_off]
        if full == 0:
            return "model_too_big", (f"Even the smallest context leaves layers on the CPU: {numbers}. "
                                     f"{split} on the GPU."), [ev_off]
    if placement in ("cpu", "partial") and est is not None:
        # no context in the excerpt: would the load fit without any KV cache at all?
        total = est.blocks + 1
        try:
            bare = int(est.run([est.ctx0 or 1], at_log=True, kv_scale=0.0)["layers"][0])
        except TypeError:
            bare = None
        fixed = _fixed_costs(est)
        if placement == "cpu" and fixed is not None:
            cost, free_best = fixed
            return "model_too_big", (f"Not one layer fits: before the first layer the GPU must hold Ollama's reserve, "
                                     f"the graph and a spare layer{' and the projector' if est.gpu0_extra else ''} "
                                     f"({gib(cost)}), more than its {gib(free_best)} free."), [ev_off]
        if bare is not None and bare >= total:
            return "kv_too_big", (f"{numbers}. Without the {gib(kv)} KV cache every layer would fit: a smaller "
                                  "num_ctx would (the excerpt does not show the context, so no exact figure)."), [ev_off]
        if bare is not None:
            return "model_too_big", (f"{numbers}. Even with no KV cache at all not every layer would fit: "
                                     f"{split} on the GPU."), [ev_off]
    if placement == "partial":
        return "partial_fit", (f"{split} on the GPU" + (f": {numbers}." if numbers else
                               "; the log does not show the free VRAM that would say why.")), [ev_off, f.first("offloaded")]
    return "unknown", "The log does not show why.", [ev_off]


def _fixed_costs(est):
    """(fixed cost, free) when the legacy loop found no GPU usable even for one layer."""
    if getattr(est, "era", "") != "legacy" or est.line.form != "legacy":
        return None
    s0 = est.block_weights + est.kv0 / est.blocks
    cost = (est.overhead or 0) + est.gpu0_extra + max(est.graph0) + est.minimum + 2 * s0
    best = float(max(est.available))
    return (cost, best) if best < cost else None


def _num_ctx(ld: dict) -> Optional[int]:
    """The per-request context; with the whole context but no parallel shown, the whole one."""
    if ld.get("num_ctx"):
        return ld["num_ctx"]
    return ld.get("ctx_size") if not ld.get("parallel") else None


def _starved(f, est, out, anyg):
    """A CPU load whose GPU had almost no free memory (under 1 GiB, or under half of what the
    inventory says it has) and that no context would have helped: something else holds it."""
    ld = f.load
    if ld.get("placement") != "cpu" or (est is not None and anyg not in (0, None)):
        return None
    free = out.get("vram_available_bytes")
    totals = [g.get("total_bytes") for g in f.gpus if g.get("total_bytes") and g.get("library") != "cpu"]
    total = max(totals) if totals else None
    if free is None or free <= 0 or (total and free > total / 2) or (not total and free >= GIB):
        return None
    held = f" of {gib(total)}" if total else ""
    ev = f.first("offload") or f.first("gpu_memory")
    return ("vram_held_by_others", (f"Only {gib(free)}{held} of VRAM was free: not enough for Ollama's reserve and "
                                    "compute graph before the first layer, at any context. Another program (or a "
                                    "model not yet unloaded) holds the GPU's memory."), [ev])


def _runner_saw_more(f, est, out):
    """The runner found much more free VRAM than the plan was made with: the scheduler's reading
    was taken while something else still held that memory."""
    from .assemble import USING_DEVICE
    if est is None or f.load.get("placement") not in ("cpu", "partial"):
        return None
    seen = []
    for e in f.all("using_device"):
        m = USING_DEVICE.search(e.msg)
        if m:
            seen.append((e, int(m.group(4)) << 20))
    if not seen or est.era == "fit":
        return None
    plan = float(sum(est.available))
    later = sum(v for _, v in seen)
    if later - plan < GIB:
        return None
    more = int(est.run([est.ctx0 or 1], available=[later] if len(est.available) == 1 else None, at_log=True)["layers"][0]) \
        if len(est.available) == 1 else None
    gain = f"; with that memory {more} layers would have fit" if more is not None and more > (f.load.get("layers_offloaded") or 0) else ""
    return ("vram_held_by_others", (f"The plan saw {gib(plan)} free, but the runner found {gib(later)} free moments "
                                    f"later: something held that memory when the layers were placed{gain}."),
            [seen[0][0], f.first("offload") or f.first("gpu_memory")])


def _held(f, est, out):
    """VRAM held by other models (or not yet released): compare with the free VRAM at discovery."""
    ld = f.load
    if est is None or ld.get("placement") not in ("cpu", "partial"):
        return None
    start = _startup_free(f, est)
    if not start:
        return None
    now = float(sum(est.available)) if est.era != "fit" else est.free
    gap = sum(start) - now
    if gap < GIB:
        return None
    ctx = est.ctx0 or 1
    with_start = int(est.run([ctx], available=start)["layers"][0])
    logged = ld.get("layers_offloaded") or 0
    if with_start <= logged:
        return None
    others = [o for o in f.earlier if o.get("outcome") in ("loaded", None) and o.get("model_blob") != ld.get("model_blob")]
    nr = [e for e in f.context if e.event == "vram_not_recovered"]
    ev = nr[-1:] + [e for e in f.context if e.event in ("updated_vram", "evicting")][-2:]
    inv = next((e for e in f.context if e.event == "inference_compute"), None)
    total = ld.get("layers_total")
    gained = "every layer" if with_start >= (total or 0) else f"{with_start} layers"
    if nr:
        return ("vram_not_recovered", (f"Free VRAM was {gib(now)}, {gib(gap)} below the {gib(sum(start))} free at "
                                       f"discovery: an unloaded model's memory had not come back yet. With the "
                                       f"discovery figure {gained} would have fit."), ev + [inv])
    who = ", ".join(sorted({o.get("model_name") or (o.get("model_blob") or "?")[:12] for o in others})) or "another process"
    return ("vram_held_by_others", (f"Free VRAM was {gib(now)}, {gib(gap)} below the {gib(sum(start))} free at "
                                    f"discovery, held by {who}. With that memory free {gained} would have fit."),
            ev + [inv])


# -- what-ifs ---------------------------------------------------------------------------------------

def _whatif(f, est, w: dict, version) -> dict:
    ld = f.load
    n = w.get("num_ctx") or ld.get("num_ctx")
    P = w.get("parallel") or ld.get("parallel") or 1
    kv_type = w.get("kv_cache_type")
    flash = w.get("flash_attention")
    notes = []
    res = {"num_ctx": n, "parallel": P, "kv_cache_type": kv_type or ld.get("kv_cache_type") or "f16",
           "flash_attention": bool(flash) if flash is not None else ld.get("flash_attention"),
           "num_gpu": w.get("num_gpu")}
    if est is None or not n:
        res["notes"] = ["no estimate for this load: nothing to re-run"] if est is None else ["no num_ctx"]
        return res
    if kv_type and kv_type not in ("f16",):
        fa_on = bool(flash) or (ld.get("flash_attention") == "on")
        ok, why = _fa_possible(f, est, version)
        if not ok:
            notes.append(f"{kv_type} KV cache not possible: {why}; computed with f16")
            kv_type = None
        elif not fa_on and est.era != "fit":
            notes.append(f"Ollama ignores OLLAMA_KV_CACHE_TYPE={kv_type} without flash attention; computed with f16 "
                         f"(add --flash-attention)")
            kv_type = None
    if est.era == "legacy" and flash:
        notes.append("Ollama's legacy estimate sizes the graph without regard to flash attention")
    kw = _whatif_args(est, kv_type=kv_type, flash=flash, num_gpu=w.get("num_gpu"))
    r = est.run([n * P], **kw)
    layers = int(r["layers"][0])
    total = est.blocks + 1
    res.update({"layers_offload": layers, "layers_total": total,
                "placement": "gpu" if layers >= total else "cpu" if layers == 0 else "partial",
                "vram_bytes": int(r["vram"][0]), "kv_bytes": int(r["kv"][0]), "notes": notes})
    if w.get("num_gpu") is not None and w["num_gpu"] >= 0:
        fit = int(est.run([n * P], **_whatif_args(est, kv_type=kv_type, flash=flash))["layers"][0])
        res["layers_that_fit"] = fit
        if w["num_gpu"] > fit:
            res["notes"].append(f"num_gpu {w['num_gpu']} forces more layers than the {fit} that fit: "
                                "expect an out-of-memory failure")
    return res


# -- advice ----------------------------------------------------------------------------------------

def recommendations(verdicts: list, resolved: Optional[dict] = None) -> list:
    """Ranked advice for the loads of one model that did not run fully on the GPU (or failed),
    each with its number and the exact setting for the version at hand."""
    bad = [v for v in verdicts if v["cause"] not in ("fits",) and v.get("placement") != "gpu"]
    if not bad:
        return []
    v = bad[-1]                       # the latest load speaks for the model
    version = eras.parse_version(v.get("ollama_version") or (v.get("estimate") or {}).get("version_used"))
    params = (resolved or {}).get("params") or {}
    recs: list = []
    th = v.get("threshold") or {}
    n, P = _num_ctx(v), v.get("parallel") or 1
    ref = [{"file": v["file"], "line": v["line"]}]
    cause = v["cause"]
    if cause == "no_gpu":
        recs.append(_rec("fix GPU discovery", v["cause_text"], None,
                         ["check the driver and `nvidia-smi`/`rocminfo` on the host",
                          "unset CUDA_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES if they hide the GPU"], ref))
    if cause == "num_gpu_zero":
        recs.append(_rec("stop setting num_gpu 0", "num_gpu 0 keeps every layer on the CPU", None,
                         ["remove `PARAMETER num_gpu 0` from the Modelfile or `num_gpu` from the request options"], ref))
    if cause == "forced_num_gpu_oom":
        fit = (v.get("estimate") or {}).get("layers_offload")
        recs.append(_rec("stop forcing num_gpu", f"let Ollama choose: the estimate fits {fit} layers" if fit is not None
                         else "let Ollama choose the layer count", fit,
                         ["remove `PARAMETER num_gpu` from the Modelfile, or `num_gpu` from the request options"], ref))
    if cause in ("vram_held_by_others", "vram_not_recovered"):
        recs.append(_rec("free the VRAM first", v["cause_text"], None,
                         ["`ollama stop MODEL` for the other model, or `keep_alive: 0` on its requests",
                          "OLLAMA_MAX_LOADED_MODELS=1 to keep one model resident"] +
                         (["wait a few seconds after an unload before the next load: this driver returns "
                           "freed memory slowly"] if cause == "vram_not_recovered" else []), ref))
    full, anyg = th.get("num_ctx_full_gpu"), th.get("num_ctx_any_gpu")
    if n and full is not None and 0 < full < n:
        target = _round_down(full)
        settings = [f"Modelfile: PARAMETER num_ctx {target}", f'request: "options": {{"num_ctx": {target}}}']
        if eras.has_context_length_env(version):
            if params.get("num_ctx") is not None:
                settings.append(f"(OLLAMA_CONTEXT_LENGTH does not apply: this tag sets num_ctx {params['num_ctx']} itself)")
            else:
                settings.append(f"server: OLLAMA_CONTEXT_LENGTH={target}")
        recs.append(_rec(f"lower num_ctx to {target}", f"every layer fits on the GPU up to num_ctx {full} "
                         f"(parallel {P}); now {n}", target, settings, ref))
    elif n and full == 0 and anyg and anyg < n and v.get("placement") == "cpu":
        target = _round_down(anyg)
        recs.append(_rec(f"lower num_ctx to {target}", f"at least one layer fits up to num_ctx {anyg}; no context fits "
                         "every layer", target, [f"Modelfile: PARAMETER num_ctx {target}"], ref))
    p1 = th.get("parallel_1") or {}
    if P > 1 and eras.has_num_parallel(version) and p1.get("num_ctx_full_gpu"):
        f1 = p1["num_ctx_full_gpu"]
        effect = (f"with one slot every layer fits up to num_ctx {f1}" + (" (this num_ctx included)" if n and f1 >= n else ""))
        recs.append(_rec("OLLAMA_NUM_PARALLEL=1", effect, f1, ["server: OLLAMA_NUM_PARALLEL=1 (the KV cache is num_ctx x parallel)"], ref))
    elif P > 1 and eras.has_num_parallel(version) and est_layers(v, 1) is not None:
        more = est_layers(v, 1)
        if more > (v.get("layers_offloaded") or 0):
            recs.append(_rec("OLLAMA_NUM_PARALLEL=1", f"with one slot {more} layers fit on the GPU instead of "
                             f"{v.get('layers_offloaded') or 0} (the KV cache is num_ctx x parallel)", None,
                             ["server: OLLAMA_NUM_PARALLEL=1"], ref))
    for t in ("q8_0", "q4_0"):
        q = th.get(t) or {}
        if q.get("allowed") and q.get("num_ctx_full_gpu") and (full is None or q["num_ctx_full_gpu"] > (full or 0)):
            qf = q["num_ctx_full_gpu"]
            # llama-server (0.30+) turns flash attention on by itself; earlier servers need it asked for
            fa_on = (v.get("flash_attention") or "") == "on" or (v.get("estimate") or {}).get("era") == "fit"
            envs = f"OLLAMA_KV_CACHE_TYPE={t}" if fa_on else f"OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE={t}"
            effect = f"every layer fits up to num_ctx {qf}" + (" (this num_ctx included)" if n and qf >= n else "")
            settings = [f"server: {envs}"] + (["q4_0 halves the KV cache again at some cost in quality"] if t == "q4_0" else [])
            recs.append(_rec(envs, effect, qf, settings, ref))
    if cause == "macos_ram":
        need = v.get("required_full_bytes")
        mib_need = int(need / MIB) + 1 if need else None
        recs.append(_rec("a smaller quantisation, or more GPU memory for the Mac", v["cause_text"], None,
                         [f"sudo sysctl iogpu.wired_limit_mb={mib_need} (macOS 14+; until reboot) lets the GPU use "
                          f"{gib(need)}" if mib_need else "sudo sysctl iogpu.wired_limit_mb=<MiB> (macOS 14+)",
                          "or a smaller quantisation of the model"], ref))
    if cause == "model_too_big":
        need, avail = v.get("required_full_bytes"), v.get("vram_available_bytes")
        short = (need - avail) if need and avail else None
        settings = [f"a smaller quantisation or a smaller model: this one needs {gib(need)} with {gib(avail)} free",
                    "or more free VRAM: other programs on the GPU closed, or a second GPU"]
        if v.get("gpu_overhead_bytes"):
            settings.append(f"OLLAMA_GPU_OVERHEAD reserves {gib(v['gpu_overhead_bytes'])} per GPU: lower it")
        recs.append(_rec("a smaller model file or more VRAM", "the weights alone exceed the free VRAM"
                         + (f"; a full load needs {gib(short)} more" if short and short > 0 else ""), None,
                         settings, ref))
    # rank: what gets the whole model on the GPU first, then by how much context it leaves
    def score(r):
        # the options that keep this num_ctx first, then by how much context stays on the GPU
        n_ = r.get("num_ctx") or 0
        return (0 if r["effect"].endswith("(this num_ctx included)") else 1, -n_)
    keep = [r for r in recs if r["action"].startswith(("fix", "stop", "free"))]
    rest = sorted([r for r in recs if r not in keep], key=score)
    # q4_0 costs quality: it never ranks above q8_0
    q8 = next((r for r in rest if r["action"].endswith("q8_0")), None)
    q4 = next((r for r in rest if r["action"].endswith("q4_0")), None)
    if q8 is not None and q4 is not None and rest.index(q4) < rest.index(q8):
        rest.remove(q4)
        rest.insert(rest.index(q8) + 1, q4)
    out = keep + rest
    for i, r in enumerate(out, 1):
        r["rank"] = i
    return out


def est_layers(v: dict, parallel: int):
    """Layers on the GPU at this load's num_ctx with `parallel` slots, as the what-if at parallel
    1 recorded it (threshold.parallel_1.layers_at_num_ctx), or None."""
    return ((v.get("threshold") or {}).get(f"parallel_{parallel}") or {}).get("layers_at_num_ctx")


def _rec(action, effect, num_ctx, settings, ref) -> dict:
    return {"action": action, "effect": effect, "num_ctx": num_ctx, "settings": settings, "loads": ref}
