"""The legacy estimator (`llm/memory.go`, v0.1.33 - v0.12.10), re-run from one offload line.

Ollama printed its whole estimate in one line (`offload to cuda ...` / `msg=offload library=...`):
free memory per GPU, the KV cache, the weights, the two graph sizes. From those numbers this module
rebuilds the inputs of the layer-placement loop (research notes 3.4) and runs the same loop over an
array of contexts with numpy, so that the same code answers "how many layers at the logged
context" (checked against `layers.offload`) and "up to which num_ctx does everything fit".

What the line does not hold is approximated, and each approximation is named in `notes`:
per-block sizes are the mean block (Q4_K_M mixes two block sizes), free memory is the printed
one-decimal value unless the scheduler printed raw bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..units import parse_size, parse_size_list
from . import eras
from .graph import HParams, graph_bytes, kv_bytes


@dataclass
class OffloadLine:
    """The numbers of one legacy estimate line, in bytes (None: not printed)."""
    form: str                       # 'v0.1.32', 'v0.1.33', 'v0.1.38', 'legacy'
    library: Optional[str]
    requested: int                  # num_gpu (-1 automatic)
    model_layers: Optional[int]     # layers.model = blocks + 1
    offload: Optional[int]          # the logged result
    available: list
    overhead: Optional[int]
    required_full: Optional[int]
    required_partial: Optional[int]
    kv: Optional[int]
    weights_total: Optional[int]
    weights_repeating: Optional[int]
    weights_output: Optional[int]
    graph_full: Optional[int]
    graph_partial: Optional[int]
    projector_weights: int = 0
    projector_graph: int = 0
    projector_first: bool = False   # projector.* printed before layers.* (v0.4.0 - v0.5.11)
    message_form: bool = False      # `msg=offload library=...` (v0.5.12+)
    split_brackets: bool = False    # layers.split=[49] (v0.11.5+)
    split_text: str = ""            # layers.split as printed ("26,26", "[37 12]", "")


def _int(v) -> Optional[int]:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def parse_offload(attrs: dict, msg: str) -> Optional[OffloadLine]:
    """An `offload` event's attributes (dict, in log order) -> OffloadLine; None if not one."""
    a = attrs
    keys = list(a)
    if "reallayers" in a:                       # v0.1.32
        return OffloadLine(
            form="v0.1.32", library=None, requested=_int(a.get("reallayers")) or -1,
            model_layers=None, offload=_int(a.get("layers")),
            available=parse_size_list(a.get("available")) or [], overhead=None,
            required_full=parse_size(a.get("required")), required_partial=parse_size(a.get("used")),
            kv=parse_size(a.get("kv")), weights_total=None, weights_repeating=None, weights_output=None,
            graph_full=parse_size(a.get("fulloffload")), graph_partial=parse_size(a.get("partialoffload")))
    if "layers.offload" not in a and "layers.estimate" not in a and "layers.real" not in a:
        return None
    if "layers.model" in a:
        form = "legacy"
        offload = _int(a.get("layers.offload"))
        requested = _int(a.get("layers.requested"))
    elif "layers.estimate" in a:                # v0.1.33 - v0.1.37
        form, offload, requested = "v0.1.33", _int(a.get("layers.estimate")), _int(a.get("layers.real"))
    else:                                       # v0.1.38 - v0.1.44
        form, offload, requested = "v0.1.38", _int(a.get("layers.real")), _int(a.get("layers.requested"))
    lib = a.get("library")
    if lib is None and msg.startswith("offload to "):
        lib = msg[len("offload to "):]
    if lib in ("gpu", "device"):
        lib = None
    return OffloadLine(
        form=form, library=(lib or None) and lib.lower(), requested=-1 if requested is None else requested,
        model_layers=_int(a.get("layers.model")), offload=offload,
        available=parse_size_list(a.get("memory.available")) or [],
        overhead=parse_size(a.get("memory.gpu_overhead")),
        required_full=parse_size(a.get("memory.required.full")),
        required_partial=parse_size(a.get("memory.required.partial")),
        kv=parse_size(a.get("memory.required.kv")),
        weights_total=parse_size(a.get("memory.weights.total")),
        weights_repeating=parse_size(a.get("memory.weights.repeating")),
        weights_output=parse_size(a.get("memory.weights.nonrepeating")),
        graph_full=parse_size(a.get("memory.graph.full")),
        graph_partial=parse_size(a.get("memory.graph.partial")),
        projector_weights=parse_size(a.get("projector.weights")) or 0,
        projector_graph=parse_size(a.get("projector.graph")) or 0,
        projector_first=bool(keys) and keys[0].startswith("projector."),
        message_form=msg == "offload",
        split_brackets=str(a.get("layers.split", "")).startswith("["),
        split_text=str(a.get("layers.split", "")))


def shape_range(line: OffloadLine) -> tuple:
    """The releases whose estimate line has this shape: (oldest, newest)."""
    if line.form == "v0.1.32":
        return (0, 1, 32), (0, 1, 32)
    if line.form == "v0.1.33":
        return (0, 1, 33), (0, 1, 37)
    if line.form == "v0.1.38":
        return (0, 1, 38), (0, 1, 44)
    if line.split_brackets:
        return eras.LAYOUT_FIRST, eras.LEGACY_LAST
    if line.message_form:
        return (0, 5, 12), (0, 12, 10)
    if line.projector_first:
        return (0, 4, 0), (0, 5, 11)
    if line.overhead is not None:
        return (0, 3, 10), (0, 5, 11)
    return (0, 1, 45), (0, 5, 11)


@dataclass
class Legacy:
    """The placement loop of one load, re-evaluable at any context."""
    line: OffloadLine
    version: Optional[eras.Version]         # as inferred
    traits: dict
    blocks: int                             # L
    block_weights: float                    # mean weights of one block
    output: float                           # output layer (+ Ollama-engine vision) placed last
    gpu0_extra: float                       # llama-engine projector held on the first usable GPU
    minimum: int
    overhead: int
    available: np.ndarray                   # per GPU
    ctx0: Optional[int]                     # the logged context C0 (num_ctx x parallel)
    kv0: float
    graph0: tuple                           # (partial, full) as logged
    hparams: HParams
    kv_type: str = "f16"
    notes: list = field(default_factory=list)
    graph_basis: str = "log"                # formula | scaled | log
    kv_basis: str = "log"                   # per-token from the log, or formula

    # -- model of the context-dependent terms ------------------------------------------------

    def kv_at(self, C, kv_type: Optional[str] = None) -> np.ndarray:
        C = np.asarray(C, dtype=np.float64)
        scale = eras.KV_BYTES.get(kv_type or self.kv_type, 2.0) / eras.KV_BYTES.get(self.kv_type, 2.0)
        if self.kv_basis == "formula":
            return kv_bytes(self.hparams, C, self.kv_type) * scale
        if not self.ctx0:
            return np.full_like(C, self.kv0) * scale
        return self.kv0 * C / self.ctx0 * scale

    def graph_at(self, C, kv_total) -> tuple:
        C = np.asarray(C, dtype=np.float64)
        gp0, gf0 = self.graph0
        if self.graph_basis == "formula":
            return graph_bytes(self.hparams, C, 512, kv_total, library=self.line.library or "",
                               gpus=len(self.available), gqa_max_min=self.traits["gqa_max_min"])
        if self.graph_basis == "scaled" and self.ctx0:
            return gp0 * C / self.ctx0, gf0 * C / self.ctx0
        return np.full_like(C, gp0), np.full_like(C, gf0)

    # -- the loop ----------------------------------------------------------------------------

    def run(self, C, *, available=None, num_gpu: Optional[int] = None, kv_type: Optional[str] = None,
            at_log: bool = False, kv_scale: float = 1.0, loop: bool = False) -> dict:
        """Layers placed on the GPUs (blocks + output) for every context in C, and the memory.
        One GPU takes a closed form of the loop (`loop=True` runs the loop itself, for tests)."""
        C = np.atleast_1d(np.asarray(C, dtype=np.float64))
        n = len(C)
        A = np.asarray(self.available if available is None else available, dtype=np.float64)
        G = len(A)
        if at_log:
            kv = np.full(n, float(self.kv0)) * kv_scale
            gp, gf = np.full(n, float(self.graph0[0])), np.full(n, float(self.graph0[1]))
        else:
            kv = self.kv_at(C, kv_type) * kv_scale
            gp, gf = self.graph_at(C, kv)
        L = self.blocks
        ng = self.line.requested if num_gpu is None else num_gpu
        s = self.block_weights + kv / L                                   # one block with its KV share
        s0 = np.maximum(s, self.output + kv / L) if self.traits["buffer_max_layer"] else s
        g = np.maximum(gp, gf)
        O = float(self.overhead) if self.traits["overhead_in_checks"] else 0.0
        M = float(self.minimum)
        if self.line.form in ("v0.1.33", "v0.1.38", "v0.1.32"):
            return self._run_v0133(C, A, kv, gp, gf, s, ng)
        if G == 1 and not loop:
            return self._run_one_gpu(A[0], kv, gp, gf, g, s, s0, O, M, ng)
        alloc = np.zeros((n, G))
        space = np.zeros((n, G), dtype=bool)
        counts = np.zeros((n, G))
        any_usable = np.zeros(n, dtype=bool)
        for i in range(G):
            gzo = np.where(any_usable, 0.0, self.gpu0_extra)
            ok = A[i] >= O + gzo + g + M + 2 * s0
            space[:, i] = ok
            alloc[:, i] = np.where(ok, M + s0 + gzo, 0.0)
            any_usable |= ok
        placed = np.zeros(n)
        order = range(L - 1, -1, -1) if self.traits["reverse"] else range(L)
        for i in order:
            active = np.ones(n, dtype=bool) if ng < 0 else placed < ng
            done = ~active
            for _ in range(G):
                j = space.sum(axis=1)
                live = ~done & (j > 0)
                if not live.any():
                    break
                k = np.where(j > 0, i % np.maximum(j, 1), 0)
                pick = np.argmax(np.cumsum(space, axis=1) == (k + 1)[:, None], axis=1)
                rows = np.nonzero(live)[0]
                gi = pick[rows]
                fits = A[gi] > O + alloc[rows, gi] + g[rows] + s[rows]
                r_ok, g_ok = rows[fits], gi[fits]
                alloc[r_ok, g_ok] += s[r_ok]
                counts[r_ok, g_ok] += 1
                placed[r_ok] += 1
                done[r_ok] = True
                r_no, g_no = rows[~fits], gi[~fits]
                space[r_no, g_no] = False
        fully = placed >= L
        if self.output > 0:
            want = np.ones(n, dtype=bool) if ng < 0 else placed < ng
            j0 = space.sum(axis=1)
            done = ~want | (j0 == 0)
            for step in range(G):
                j = j0 - step
                live = ~done & (j > 0)
                if not live.any():
                    break
                k = placed.astype(np.int64) % np.maximum(j, 1)
                pick = np.argmax(np.cumsum(space, axis=1) == (k + 1)[:, None], axis=1)
                rows = np.nonzero(live)[0]
                gi = pick[rows]
                fits = A[gi] > O + alloc[rows, gi] + g[rows] + self.output
                r_ok, g_ok = rows[fits], gi[fits]
                alloc[r_ok, g_ok] += self.output
                counts[r_ok, g_ok] += 1
                placed[r_ok] += 1
                done[r_ok] = True
            fully &= placed >= L + 1
        graph_used = np.where(fully, gf, gp)
        alloc += np.where(counts > 0, graph_used[:, None], 0.0)
        vram = alloc.sum(axis=1)
        # what does not fit overflows to system memory: the blocks left over, the output layer
        blocks_on_gpu = np.minimum(placed, L)
        out_on_gpu = placed > blocks_on_gpu
        overflow = (L - blocks_on_gpu) * s + np.where(out_on_gpu | (self.output <= 0), 0.0, self.output)
        if self.traits["projector_with_output"]:
            overflow += np.where(any_usable, 0.0, self.gpu0_extra)
        layers = placed.astype(np.int64)
        if (self.line.library or "") == "cpu":
            layers[:] = 0
        return {"layers": layers, "vram": np.where(layers > 0, vram, 0.0), "total": vram + overflow,
                "kv": kv, "graph": graph_used, "per_gpu": counts.astype(np.int64)}

    def _run_one_gpu(self, A, kv, gp, gf, g, s, s0, O, M, ng) -> dict:
        """The loop above in closed form for one GPU and equal blocks: the GPU takes blocks while
        the next one fits, and leaves the list (so takes nothing more) at the first that does not."""
        L = self.blocks
        gzo = self.gpu0_extra
        usable = A >= O + gzo + g + M + 2 * s0
        alloc0 = M + s0 + gzo
        # block i+1 fits after i are placed while  A > O + alloc0 + i*s + g + s
        x = (A - O - alloc0 - g - s) / s
        k = np.where(x > 0, np.minimum(np.ceil(x), L), 0)
        k = np.where(usable, k, 0)
        if ng >= 0:
            k = np.minimum(k, ng)
        # the output layer: only while the GPU is still in the list and num_gpu allows it
        want = (ng < 0) | (k < ng)
        out_ok = usable & (k >= L) & want & (self.output > 0) & (A > O + alloc0 + k * s + g + self.output)
        placed = k + out_ok
        fully = (k >= L) & (out_ok | (self.output <= 0))
        graph_used = np.where(fully, gf, gp)
        vram = np.where(usable, alloc0 + k * s + np.where(out_ok, self.output, 0.0)
                        + np.where(placed > 0, graph_used, 0.0), 0.0)
        overflow = (L - k) * s + np.where(out_ok | (self.output <= 0), 0.0, self.output)
        if self.traits["projector_with_output"]:
            overflow += np.where(usable, 0.0, gzo)
        layers = placed.astype(np.int64)
        if (self.line.library or "") == "cpu":
            layers[:] = 0
        return {"layers": layers, "vram": np.where(layers > 0, vram, 0.0), "total": vram + overflow,
                "kv": kv, "graph": graph_used, "per_gpu": None}

    def _run_v0133(self, C, A, kv, gp, gf, s, ng) -> dict:
        """v0.1.32 - v0.1.44: one pool of free memory, graph x GPUs, a simple running sum (v0.1.33+
        also holds one block back as a buffer; v0.1.32 switches to the CPU when not even the
        reserve and the graph fit)."""
        avail = float(A.sum())
        L = self.blocks
        old = self.line.form == "v0.1.32"
        minimum = self.minimum + (0.0 if old else self.block_weights) + self.gpu0_extra
        partial = minimum + gp
        total = minimum + gf + L * s + self.output
        if ng >= 0:
            count = np.minimum(float(ng), L) * np.ones_like(kv)
        else:
            # layer i counts while avail > partial + (i+1) * s
            count = np.clip(np.ceil((avail - partial) / s) - 1, 0, L)
            count = np.where(avail > partial + s, count, 0)
        partial = partial + count * s
        full_ok = (count + 1 <= ng) if ng >= 0 else (avail > total)
        layers = np.where(full_ok, L + 1, count).astype(np.int64)
        if old:
            layers = np.where(minimum + gp > avail, 0, layers)
        vram = np.where(full_ok, total, partial)
        if (self.line.library or "") == "cpu" or not len(A):
            layers[:] = 0
        return {"layers": layers, "vram": np.where(layers > 0, vram, 0.0), "total": total, "kv": kv,
                "graph": np.where(full_ok, gf, gp), "per_gpu": None}


def build(line: OffloadLine, *, version: Optional[eras.Version], ctx0: Optional[int],
          hparams: HParams, kv_type: Optional[str] = None, available_exact: Optional[list] = None,
          library: Optional[str] = None, day: Optional[str] = None,
          system_free: Optional[int] = None) -> Optional[Legacy]:
    """A Legacy model from the line and what else the log says about the load, or None when the
    line lacks what the loop needs (free memory, KV, weights, graph, layer count).

    `version` is the server's (`Listening on ... (version X)`); without it the line's shape and
    the date of the load (`day`, YYYY-MM-DD) bound the release, and within those bounds the
    reading of `memory.weights.*` under which `memory.required.full` adds up is taken."""
    notes: list = []
    lib = (line.library or "").lower() or None
    if lib not in GPU_LIBRARIES and lib != "cpu" and system_free and line.available and \
            abs(sum(line.available) - system_free) <= (64 << 20) * len(line.available):
        # a build that names no GPU library and offers system RAM as "available": a CPU estimate
        notes.append(f"library {lib or 'unnamed'} with system memory as available: read as cpu")
        lib = "cpu"
    elif lib is None:
        lib = (library or "").lower() or None
    L = (line.model_layers - 1) if line.model_layers else hparams.n_layer
    if not L or L <= 0 or line.kv is None or line.graph_partial is None or line.graph_full is None:
        return None
    minimum = eras.minimum_memory(lib, version)
    if line.form == "v0.1.32" and (not hparams.n_layer or line.required_full is None):
        return None  # no layer count nor weights printed: the loader dump must give the blocks
    A = list(line.available)
    if available_exact and len(available_exact) == len(A):
        A = list(available_exact)
        notes.append("free VRAM in bytes from the scheduler's line")
    if not A:
        return None
    kv0 = float(line.kv)
    out = float(line.weights_output or 0)
    if version is not None:
        v = version
        mode = eras.legacy_traits(v)["weights"]
    else:
        lo, hi = shape_range(line)
        lo, hi, narrowed = eras.bound_by_date(lo, hi, day)
        span = eras.releases_between(lo, hi) or [hi]
        # releases that estimate alike form one candidate; the newest of each stands for it
        groups: dict = {}
        for x in span:
            groups[tuple(sorted(eras.legacy_traits(x).items()))] = x
        v = max(groups.values())
        if len(groups) > 1 and line.required_full is not None:
            # the reading under which the printed memory.required.full adds up: that total hardly
            # depends on how many layers were placed, so it tells the releases apart fairly
            def miss(x):
                m = build(line, version=x, ctx0=ctx0, hparams=hparams, kv_type=kv_type,
                          available_exact=available_exact, library=lib)
                return abs(m.run([ctx0 or 1], at_log=True)["total"][0] - line.required_full) if m else float("inf")
            v = min(sorted(groups.values(), reverse=True), key=miss)
        mode = eras.legacy_traits(v)["weights"]
        how = "shape and date" if narrowed else "shape"
        notes.append(f"version not in the log: read as {eras.vstr(v)} (the line's {how} allow "
                     f"{eras.vstr(lo)} to {eras.vstr(hi)})")
    # the blocks' weights, by what this version printed in memory.weights.*
    if line.form == "v0.1.32":
        # `required` = reserve + full graph + every block with its KV share + the output layer
        W = float(line.required_full - minimum - line.graph_full - kv0) * L / (L + 1)
        out = W / L
        notes.append("block sizes from `required` over the loader's n_layer + 1 layers")
    elif line.form in ("v0.1.33", "v0.1.38"):
        W = float(line.weights_repeating if line.weights_repeating is not None else
                  (line.weights_total or 0) - out)
    elif mode == "with_kv":
        W = float((line.weights_total or 0) - kv0)
    elif mode == "blocks":
        W = float(line.weights_total or 0)
    else:
        W = float(line.weights_repeating if line.weights_repeating is not None else
                  (line.weights_total or 0) - out)
    if W <= 0:
        return None
    traits = eras.legacy_traits(v)
    pw, pg = float(line.projector_weights), float(line.projector_graph)
    gpu0 = pw + pg
    if traits["projector_with_output"] and pg > 0:
        out += pw + pg     # the Ollama engine's vision model rides with the output layer
        gpu0 = 0.0
    elif traits["projector_with_output"]:
        gpu0 = pw
    line.library = lib
    model = Legacy(line=line, version=v, traits=traits, blocks=L, block_weights=W / L, output=out,
                   gpu0_extra=gpu0, minimum=minimum, overhead=line.overhead or 0,
                   available=np.asarray(A, dtype=np.float64), ctx0=ctx0, kv0=kv0,
                   graph0=(float(line.graph_partial), float(line.graph_full)), hparams=hparams,
                   kv_type=(kv_type or "f16"), notes=notes)
    # context model: per-token KV from the log; the graph from Ollama's formula when the loader
    # printed the hyper-parameters and the formula reproduces the logged graph
    if ctx0:
        model.kv_basis = "log"
        if (hparams.arch or "").lower() in ("gemma3", "gptoss", "gpt-oss") and hparams.kv_ready():
            if _close(kv_bytes(hparams, [ctx0], model.kv_type)[0], kv0, 0.03):
                model.kv_basis = "formula"
    elif hparams.kv_ready():
        model.kv_basis = "formula"
        est = kv_bytes(hparams, [1.0], model.kv_type)[0]
        if est > 0:
            model.ctx0 = int(round(kv0 / est))
            notes.append(f"context not in the log: {model.ctx0} tokens from the KV size and the model's shape")
    else:
        model.kv_basis = "none"
        notes.append("context not in the log and the model's shape unknown: no num_ctx threshold")
    if model.ctx0:
        if hparams.graph_ready():
            gp, gf = graph_bytes(hparams, [model.ctx0], 512, model.kv_at([model.ctx0]),
                                 library=lib or "", gpus=len(A), gqa_max_min=traits["gqa_max_min"])
            if _close(gp[0], model.graph0[0], 0.03) and _close(gf[0], model.graph0[1], 0.03):
                model.graph_basis = "formula"
        if model.graph_basis != "formula":
            model.graph_basis = "scaled"
            why = ("the formula does not reproduce the logged graph" if hparams.graph_ready() else
                   "the model's shape is not in the log")
            notes.append(f"graph scaled with the context ({why})")
    return model


GPU_LIBRARIES = {"cuda", "rocm", "metal", "oneapi", "vulkan"}


def _close(a, b, rel) -> bool:
    return abs(float(a) - float(b)) <= rel * max(abs(float(b)), 1.0)
