"""llama.cpp's fit inside `llama-server` (Ollama v0.30+), re-run from the load's own lines.

From v0.30 Ollama starts upstream `llama-server` with `-c num_ctx x parallel -np parallel` and no
`-ngl` unless num_gpu is set; llama.cpp's fit then measures the model, context (KV) and compute
buffers a full offload would need on each device and moves whole layers to the CPU, last first,
until every device keeps its fit target free (1024 MiB unless LLAMA_ARG_FIT_TARGET says more;
research notes 3.6, 3.7 C and appendix D). The context is never changed because `-c` is given.

Inputs, by preference: the fit's memory breakdown (model / context / compute of a full offload),
else the buffers the runner allocated; free memory from `using device ... MiB free` or the fit's
projection line; the KV per token from `llama_kv_cache: size = X MiB (N cells, ...)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import eras

MIB = eras.MIB
# llama.cpp's real bytes per KV element (block overheads included)
LLAMA_KV_BYTES = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


@dataclass
class Fit:
    version: Optional[eras.Version]
    blocks: int                 # L
    free: float                 # device free memory (summed over devices)
    target: float               # fit target per device
    devices: int
    model_full: float           # model weights on the GPU(s) when every layer is there
    block_weights: float
    kv_per_token: float         # all growing layers, bytes per context token
    kv_fixed: float             # KV that does not grow with the context (sliding windows, RS)
    compute: float              # compute buffer(s) of a full offload, as the fit projects it
    ctx0: Optional[int]
    compute_partial: float = 0.0  # the compute buffer measured with layers left on the CPU
    kv_type: str = "f16"
    requested: int = -1
    fit_enabled: bool = True
    notes: list = field(default_factory=list)
    kv_basis: str = "log"
    graph_basis: str = "log"

    def run(self, C, *, available=None, num_gpu: Optional[int] = None, kv_type: Optional[str] = None,
            at_log: bool = False, flash: Optional[bool] = None,
            kv_scale: float = 1.0) -> dict:
        C = np.atleast_1d(np.asarray(C, dtype=np.float64))
        free = float(np.sum(available)) if available is not None else self.free
        scale = LLAMA_KV_BYTES.get(kv_type or self.kv_type, 2.0) / LLAMA_KV_BYTES.get(self.kv_type, 2.0)
        kv = (self.kv_fixed + self.kv_per_token * C) * scale * kv_scale
        L = self.blocks
        budget = free - self.target * self.devices
        need_full = self.model_full + kv + self.compute
        s = self.block_weights + kv / max(L, 1)
        blocks = np.clip(np.floor((budget - (self.compute_partial or self.compute)) / s), 0, L)
        layers = np.where(need_full <= budget, L + 1, blocks)
        ng = self.requested if num_gpu is None else num_gpu
        if ng is not None and ng >= 0 or not self.fit_enabled:
            layers = np.full_like(layers, min(ng if ng is not None and ng >= 0 else L + 1, L + 1))
        vram = np.minimum(layers, L) * s + np.where(layers > L, self.model_full - L * self.block_weights, 0.0) \
            + np.where(layers > 0, self.compute, 0.0)
        return {"layers": layers.astype(np.int64), "vram": vram, "total": need_full, "kv": kv,
                "graph": np.full_like(C, self.compute), "per_gpu": None, "deficit": need_full - budget}


def build(*, version, layers_total: Optional[int], free: list, target: Optional[int],
          breakdown: Optional[dict], model_gpu: float, model_all: float, kv_size: Optional[float],
          kv_cells: Optional[int], kv_gpu_layers_total: Optional[float], compute_gpu: Optional[float],
          ctx0: Optional[int], gpu_layers: Optional[int], kv_type: Optional[str], requested: Optional[int],
          fit_enabled: bool = True) -> Optional[Fit]:
    notes: list = []
    if not free or (not layers_total and not breakdown):
        return None
    if layers_total and layers_total >= 2:
        L = layers_total - 1
    else:
        # the fit's breakdown without a layer count: whether it all fits, but not how many layers
        L = 0
        notes.append("no layer total in the log: only whether every layer fits can be estimated")
    T = float(target if target is not None else 1024 * MIB)
    if target is None:
        notes.append("fit target 1024 MiB per device (llama.cpp's default)")
    if breakdown:
        model_full = breakdown["model"]
        context = breakdown["context"]
        compute = breakdown["compute"]
        notes.append("full-offload sizes from the fit's memory breakdown")
    else:
        model_full = model_all
        context = kv_size
        compute = compute_gpu
        notes.append("full-offload sizes from the buffers the runner allocated")
    if not model_full or context is None or compute is None:
        return None
    if gpu_layers and model_gpu and L and gpu_layers <= L:
        w = model_gpu / gpu_layers
    else:
        w = model_full / (L + 1)
    # KV per token: llama.cpp's own KV line gives the size and the cells (= the context)
    cells = kv_cells or ctx0
    if not cells:
        return None
    kvpt = float(context) / cells
    return Fit(version=version, blocks=L, free=float(sum(free)), target=T, devices=len(free),
               model_full=float(model_full), block_weights=float(w), kv_per_token=kvpt, kv_fixed=0.0,
               compute=float(compute), compute_partial=float(compute_gpu or compute), ctx0=ctx0 or cells, kv_type=kv_type or "f16",
               requested=-1 if requested is None else requested, fit_enabled=fit_enabled, notes=notes)
