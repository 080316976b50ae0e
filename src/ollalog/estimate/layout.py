"""The new memory layout (v0.11.5 - v0.24.0), re-run from the per-device report of one load.

From v0.11.5 (Ollama engine; every model from v0.12.11) the server no longer prints one estimate
line. It lays layers out per GPU (`assignLayers`: pack from the last layer backwards into
`gpu memory available` minus the GPU's compute graph; if not every layer fits, keep the output
layer on the CPU and fit as many blocks as possible), and the runner reports what it allocated:
`model weights` / `kv cache` / `compute graph` per device. Per-block sizes come from those
figures (research notes 3.5 and 3.7 B): the GPU's weights over the layers it holds, the KV cache
over all blocks. The KV cache grows linearly with the context; the graph is held constant with
flash attention and grows with the context without it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import eras


@dataclass
class Layout:
    version: Optional[eras.Version]
    blocks: int                    # L (layers_total - 1)
    available: np.ndarray          # per GPU, already minus the minimum reserve and the overhead
    block_weights: float
    output: float                  # the output layer's weights (on the GPU only when all fit)
    kv0: float                     # KV cache of all blocks at ctx0
    graph0: float                  # compute graph of one GPU at ctx0
    ctx0: Optional[int]
    flash: bool
    kv_type: str = "f16"
    requested: int = -1
    notes: list = field(default_factory=list)
    kv_basis: str = "log"
    graph_basis: str = "log"

    def run(self, C, *, available=None, num_gpu: Optional[int] = None, kv_type: Optional[str] = None,
            at_log: bool = False, flash: Optional[bool] = None,
            kv_scale: float = 1.0) -> dict:
        C = np.atleast_1d(np.asarray(C, dtype=np.float64))
        A = np.asarray(self.available if available is None else available, dtype=np.float64)
        scale = eras.KV_BYTES.get(kv_type or self.kv_type, 2.0) / eras.KV_BYTES.get(self.kv_type, 2.0)
        if at_log or not self.ctx0:
            kv = np.full_like(C, self.kv0)
            graph = np.full_like(C, self.graph0)
        else:
            kv = self.kv0 * C / self.ctx0 * scale
            fa = self.flash if flash is None else flash
            graph = np.full_like(C, self.graph0) if fa else self.graph0 * np.maximum(C / self.ctx0, 0.0)
            if fa and not self.flash:
                self.graph_basis = "constant with flash attention"
        kv = kv * kv_scale
        L = self.blocks
        s = self.block_weights + kv / L
        cap = np.maximum(A[None, :] - graph[:, None], 0.0)          # (n, G)
        every = (L * s + self.output)
        fits_all = cap.sum(axis=1) >= every
        if len(A) == 1:
            fits_all = cap[:, 0] >= every
        blocks = np.minimum(np.floor(cap / s[:, None]).sum(axis=1), L)
        layers = np.where(fits_all, L + 1, blocks)
        ng = self.requested if num_gpu is None else num_gpu
        if ng is not None and ng >= 0:
            # a requested num_gpu is forced onto the last GPU, fit or not
            layers = np.full_like(layers, min(ng, L + 1))
        vram = np.minimum(layers, L) * s + np.where(layers > L, self.output, 0.0) + np.where(layers > 0, graph, 0.0)
        total = L * s + self.output + graph
        return {"layers": layers.astype(np.int64), "vram": vram, "total": total, "kv": kv, "graph": graph,
                "per_gpu": None}


def build(*, version, layers_total: Optional[int], gpu_available: list, weights_by_device: dict,
          kv_by_device: dict, graph_by_device: dict, gpu_layers: Optional[int], ctx0: Optional[int],
          flash: Optional[str], kv_type: Optional[str], requested: Optional[int],
          is_gpu) -> Optional[Layout]:
    """A Layout from the load's per-device report; None when the report lacks what it needs."""
    notes: list = []
    if not layers_total or layers_total < 2 or not gpu_available:
        return None
    L = layers_total - 1
    gpu_w = sum(v for d, v in weights_by_device.items() if is_gpu(d))
    all_w = sum(weights_by_device.values())
    kv_all = sum(kv_by_device.values())
    gpu_graphs = [v for d, v in graph_by_device.items() if is_gpu(d)]
    if not all_w or not kv_all:
        return None
    n = gpu_layers if gpu_layers is not None else None
    if n and gpu_w:
        per_layer = gpu_w / n
        notes.append("per-block weights from the GPU's weights over the layers it holds")
    else:
        per_layer = all_w / (L + 1)
        notes.append("per-block weights as the mean over all layers (no layer on a GPU to measure)")
    graph = max(gpu_graphs) if gpu_graphs else max(graph_by_device.values(), default=0.0)
    if not gpu_graphs:
        notes.append("no compute graph on a GPU in the report: the CPU graph stands in")
    fa = (flash or "").lower() in ("on", "true", "enabled")
    return Layout(version=version, blocks=L, available=np.asarray(gpu_available, dtype=np.float64),
                  block_weights=per_layer, output=per_layer, kv0=float(kv_all), graph0=float(graph),
                  ctx0=ctx0, flash=fa, kv_type=kv_type or "f16",
                  requested=-1 if requested is None else requested, notes=notes,
                  graph_basis="constant (flash attention)" if fa else "scaled")
