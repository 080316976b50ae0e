"""Ollama's KV-cache and compute-graph estimates (`GraphSize`), over arrays of contexts.

The formulas are Ollama's (llm/ggml.go, later fs/ggml/ggml.go; research notes 3.2-3.3), per
architecture, all in bytes. `C` is the runner's whole context (num_ctx x parallel) and `b` the
batch. Every function takes numpy arrays of `C` and returns arrays, so one call gives a whole curve.

The hyper-parameters come from the loader dump of the log (`print_info`/`llm_load_print_meta`
lines and GGUF key/values); when some are missing a `Graph` falls back to scaling the logged
values with the context, and says so in `basis`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .eras import KV_BYTES, MIB

# architectures with their own graph formula in Ollama's GraphSize
FORMULA_ARCHS = {"llama", "llama4", "gemma", "gemma2", "gemma3", "gemma3n", "command-r", "qwen2",
                 "phi2", "stablelm", "deepseek2", "chatglm", "gptoss", "gpt-oss"}


@dataclass(frozen=True)
class HParams:
    """Model hyper-parameters as the loader printed them (None: not in the log)."""
    arch: Optional[str] = None
    n_layer: Optional[int] = None          # block count L
    n_embd: Optional[int] = None           # E
    n_head: Optional[int] = None           # H
    n_head_kv: Optional[int] = None        # Hkv
    head_k: Optional[int] = None           # n_embd_head_k
    head_v: Optional[int] = None           # n_embd_head_v
    n_vocab: Optional[int] = None          # V
    n_swa: Optional[int] = None            # sliding window
    n_ctx_train: Optional[int] = None
    n_expert: Optional[int] = None

    @property
    def dk(self) -> Optional[int]:
        if self.head_k:
            return self.head_k
        if self.n_embd and self.n_head:
            return self.n_embd // self.n_head
        return None

    @property
    def dv(self) -> Optional[int]:
        if self.head_v:
            return self.head_v
        return self.dk

    def kv_ready(self) -> bool:
        return bool(self.n_layer and self.n_head_kv and self.dk and self.dv)

    def graph_ready(self) -> bool:
        return self.kv_ready() and bool(self.n_embd and self.n_head and self.n_vocab and self.arch)


def kv_bytes(hp: HParams, C, kv_type: str = "f16", parallel: int = 1, batch: int = 512) -> np.ndarray:
    """Ollama's KV estimate for the whole context C (all layers): C * L * (dk + dv) * Hkv * beta,
    with gemma3's sliding layers and gpt-oss's even layers held at a window instead of C."""
    C = np.asarray(C, dtype=np.float64)
    beta = KV_BYTES.get(kv_type or "f16", 2.0)
    per_tok_layer = (hp.dk + hp.dv) * hp.n_head_kv * beta
    L = hp.n_layer
    arch = (hp.arch or "").lower()
    if arch == "gemma3" and hp.n_swa:
        full_layers = L // 6
        window = parallel * hp.n_swa + batch
        return per_tok_layer * (full_layers * C + (L - full_layers) * window)
    if arch in ("gptoss", "gpt-oss"):
        even = (L + 1) // 2
        return per_tok_layer * (even * (parallel * 4096 + batch) + (L - even) * C)
    return per_tok_layer * L * C


def graph_bytes(hp: HParams, C, batch, kv_total, *, library: str = "", gpus: int = 1,
                flash: bool = False, parallel: int = 1, gqa_max_min: bool = True):
    """(partial, full) compute-graph estimates over C, after Ollama's Metal / multi-GPU rules."""
    C = np.asarray(C, dtype=np.float64)
    b = np.minimum(np.asarray(batch, dtype=np.float64), np.maximum(C, 1))
    E, H, Hkv, V = float(hp.n_embd), float(hp.n_head), float(hp.n_head_kv), float(hp.n_vocab)
    dk = float(hp.dk)
    eh = float(hp.dk)  # EmbeddingHeadCount ~ n_embd / n_head
    arch = (hp.arch or "").lower()
    partial = full = None
    if arch in ("llama", "llama4"):
        full = np.maximum(4 * b * (1 + 4 * E + C * (1 + H)), 4 * b * (E + V))
        partial = 4 * b * E + np.maximum(
            4 * b * (1 + E + np.maximum(C, E)) + E * E * 9 / 16 + 4 * C * (b * H + eh * Hkv),
            4 * b * (E + V) + E * V * 105 / 128)
    elif arch in ("gemma", "gemma2", "gemma3", "gemma3n"):
        full = np.maximum(4 * b * (E + V), 4 * b * (2 + C + C * H + 2 * E + 2 * dk * H))
        partial = np.maximum(4 * E * b + E * V * 105 / 128 + 4 * V * b,
                             4 * b * (2 * E + 1 + 2 * dk * H + C + C * H) + 4 * dk * C * 8 + E * dk * H * 9 / 16)
        if arch == "gemma3n":
            full, partial = full * 4, partial * 4
    elif arch == "command-r":
        full = np.maximum(4 * b * (E + V), 4 * b * (2 + 4 * E + C * (1 + H)))
        partial = np.maximum(4 * b * (E + V) + E * V * 105 / 128,
                             4 * b * (1 + 2 * E + C * (1 + H)) + 4 * E * C + E * E * 9 / 16)
    elif arch == "qwen2":
        full = np.maximum(4 * b * (E + V), 4 * b * (1 + 2 * E + C + C * H))
        partial = np.maximum(4 * b * (E + V) + E * V * 105 / 128,
                             4 * (b * (1 + 2 * E + C * (1 + H)) + E * (1 + C)))
    elif arch == "phi2":
        full = np.maximum(4 * b * (E + V), 4 * b * (1 + 4 * E + C + C * H))
        partial = np.maximum(4 * b * (2 * E + V) + E * V * 105 / 128, 4 * b * (2 + 3 * E + C + C * H))
    elif arch == "stablelm":
        full = 4 * b * (C * (1 + H) + 3 * E + 2)
        partial = np.maximum(4 * b * (V + 2 * E), full)
    elif arch == "deepseek2":
        full = np.maximum(4 * b * (3 * E + V), 4 * b * (3 * E + 2 + C * (1 + Hkv) + 2 * dk * Hkv))
        partial = np.maximum(4 * b * (3 * E + V) + E * V * 105 / 128,
                             4 * b * (2 * E + 1 + 2 * dk * Hkv + C + C * Hkv) + 4 * dk * C * Hkv
                             + E * dk * Hkv * 9 / 16)
    elif arch == "chatglm":
        full = 4 * b * (E + V) + 0 * C
        partial = 4 * b * (E + V) + E * V * 105 / 128 + 0 * C
    elif arch in ("gptoss", "gpt-oss"):
        partial = 2 * H / max(Hkv, 1) * np.asarray(kv_total, dtype=np.float64) / 6
        if flash:
            partial = (4 * parallel + np.floor(C / 1024) + 110) * MIB
        full = None
    if partial is None:
        # Ollama's fallback for every other architecture: GQA x KV / 6, full = partial
        gqa = H / max(Hkv, 1)
        partial = np.floor(gqa) * np.asarray(kv_total, dtype=np.float64) / 6
    if full is None:
        full = partial
    if (library or "").lower() == "metal":
        partial = full
    elif gpus > 1:
        full = partial
    return np.floor(partial), np.floor(full)
