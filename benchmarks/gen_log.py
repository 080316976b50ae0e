#!/usr/bin/env python3
"""Write a large, seeded, realistic Ollama server log for benchmarks.

    python benchmarks/gen_log.py --size 1GiB --seed 42 -o big.log
    python benchmarks/gen_log.py --size 64MiB --transport journald --zst -o j.log

The lines are built from the formats in the research notes (slog TextHandler,
gin's access log, llama.cpp loader output), not copied from real logs:

* about 70 % ``[GIN]`` access lines (status 200/499/500/..., Go duration
  latencies in ns/µs/ms/s/XmYs, several clients, methods and paths);
* about 20-25 % slog DEBUG/INFO/WARN noise from the scheduler, server and runner
  (bare and Go-quoted values, ``runner.*`` groups, escaped prompts);
* every 1,500-4,500 lines a model load: unload of the previous runner, the
  legacy memory estimate (``offload to cuda`` or ``msg=offload library=cuda``)
  with self-consistent ``memory.*`` values, ``starting llama server cmd=...``,
  a llama.cpp loader dump (~100 lines) whose layer counts and buffer sizes
  agree with the estimate, and ``llama runner started in X seconds`` (about 2 %
  of loads fail with a CUDA OOM, a Go panic and a ``| 500 |`` request instead).

Timestamps increase monotonically from ``--start`` in one fixed zone offset;
``[GIN]`` and journald times are the same local clock. ``--era mixed`` (the
default) writes a v0.5.7 server for the first half of the file, then a restart
into v0.9.6 (the two shapes of the estimate line and of the llama.cpp prefixes).

Only the standard library is needed (``zstandard`` for ``--zst``). Output is
byte-identical for the same arguments and Python 3.9+.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import hashlib
import math
import os
import random
import re
import shutil
import sys
import time

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

# ---------------------------------------------------------------------------
# small formatting helpers (Go semantics)
# ---------------------------------------------------------------------------


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (try 64MiB, 1GiB, 500MB)")
    num = float(m.group(1))
    unit = (m.group(2) or "B").upper().rstrip("B") or "B"
    mult = {"B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
            "KI": KiB, "MI": MiB, "GI": GiB, "TI": 1 << 40}[unit]
    return int(num * mult)


def hb2(b: float) -> str:
    """Ollama's format.HumanBytes2: binary units, one decimal."""
    b = int(b)
    if b >= GiB:
        return f"{b / GiB:.1f} GiB"
    if b >= MiB:
        return f"{b / MiB:.1f} MiB"
    if b >= KiB:
        return f"{b / KiB:.1f} KiB"
    return f"{b} B"


def _frac(v: int, digits: int) -> str:
    s = f"{v:0{digits}d}".rstrip("0")
    return "." + s if s else ""


def go_duration(ns: int) -> str:
    """time.Duration.String()."""
    if ns == 0:
        return "0s"
    if ns < 1000:
        return f"{ns}ns"
    if ns < 1000_000:
        return f"{ns // 1000}{_frac(ns % 1000, 3)}\u00b5s"
    if ns < 1000_000_000:
        return f"{ns // 1000_000}{_frac(ns % 1000_000, 6)}ms"
    secs, rem = divmod(ns, 1000_000_000)
    h, secs = divmod(secs, 3600)
    m, secs = divmod(secs, 60)
    out = f"{secs}{_frac(rem, 9)}s"
    if h:
        return f"{h}h{m}m{out}"
    if m:
        return f"{m}m{out}"
    return out


def _needs_quote(s: str) -> bool:
    if not s:
        return True
    for ch in s:
        if ch in ' ="' or ch <= " " or ch == "\x7f" or not ch.isprintable() or ch.isspace():
            return True
    return False


_QESC = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r",
         "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}


def go_quote(s: str) -> str:
    """strconv.Quote for the characters that occur here."""
    out = ['"']
    for ch in s:
        e = _QESC.get(ch)
        if e is not None:
            out.append(e)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def sv(v) -> str:
    """A slog TextHandler value (or key): quoted only when Go would quote it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, float) else str(v)
    s = str(v)
    return go_quote(s) if _needs_quote(s) else s


def attrs(*pairs) -> str:
    return "".join(f" {sv(k)}={sv(v)}" for k, v in pairs)


# ---------------------------------------------------------------------------
# models (architecture numbers as GGUF files publish them; digests are made up)
# ---------------------------------------------------------------------------


class Model:
    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.blob_hex = hashlib.sha256(("ollalog-bench:" + self.tag).encode()).hexdigest()
        self.head_dim = self.n_embd // self.n_head
        # q6_K output, q4_K token embedding, the rest are the repeating blocks
        self.out_bytes = int(self.n_vocab * self.n_embd * 105 / 128)
        self.embd_bytes = int(self.n_vocab * self.n_embd * 9 / 16)
        self.rep_bytes = self.file_bytes - self.out_bytes - self.embd_bytes - self.n_embd * 4


MODELS = [
    Model(tag="qwen2.5:14b", arch="qwen2", name="Qwen2.5 14B Instruct", basename="Qwen2.5",
          finetune="Instruct", size_label="14B", license="apache-2.0", n_layer=48, n_embd=5120,
          n_head=40, n_head_kv=8, n_ff=13824, ctx_train=32768, n_vocab=152064, n_merges=151387,
          rope_base=1000000.0, eps="1.0e-06", file_bytes=8_988_110_976, bpw="4.87",
          params="14.77 B", mtype="14B", tok_model="gpt2", tok_pre="qwen2",
          bos=(151643, "<|endoftext|>"), eos=(151645, "<|im_end|>"), eot=(151645, "<|im_end|>"),
          pad=(151643, "<|endoftext|>"), lf=(148848, "ÄĬ"), max_tok=256,
          types=((" f32", 241), ("q4_K", 289), ("q6_K", 49)), nodes_per_layer=35, weight=30),
    Model(tag="llama3.1:8b", arch="llama", name="Meta Llama 3.1 8B Instruct", basename="Meta-Llama-3.1",
          finetune="Instruct", size_label="8B", license="llama3.1", n_layer=32, n_embd=4096,
          n_head=32, n_head_kv=8, n_ff=14336, ctx_train=131072, n_vocab=128256, n_merges=280147,
          rope_base=500000.0, eps="1.0e-05", file_bytes=4_920_734_016, bpw="4.89",
          params="8.03 B", mtype="8B", tok_model="gpt2", tok_pre="llama-bpe",
          bos=(128000, "<|begin_of_text|>"), eos=(128009, "<|eot_id|>"), eot=(128009, "<|eot_id|>"),
          pad=None, lf=(128, "Ä"), max_tok=256,
          types=((" f32", 66), ("q4_K", 193), ("q6_K", 33)), nodes_per_layer=32, weight=35),
    Model(tag="deepseek-r1:32b", arch="qwen2", name="DeepSeek R1 Distill Qwen 32B",
          basename="DeepSeek-R1-Distill-Qwen", finetune="", size_label="32B", license="mit",
          n_layer=64, n_embd=5120, n_head=40, n_head_kv=8, n_ff=27648, ctx_train=131072,
          n_vocab=152064, n_merges=151387, rope_base=1000000.0, eps="1.0e-05",
          file_bytes=19_851_335_840, bpw="4.85", params="32.76 B", mtype="32B", tok_model="gpt2",
          tok_pre="deepseek-r1-qwen", bos=(151646, "<｜begin▁of▁sentence｜>"),
          eos=(151643, "<｜end▁of▁sentence｜>"), eot=(151643, "<｜end▁of▁sentence｜>"),
          pad=(151643, "<｜end▁of▁sentence｜>"), lf=(148848, "ÄĬ"), max_tok=256,
          types=((" f32", 321), ("q4_K", 385), ("q6_K", 65)), nodes_per_layer=35, weight=15),
    Model(tag="mistral:7b", arch="llama", name="Mistral 7B Instruct v0.3", basename="Mistral",
          finetune="Instruct", size_label="7B", license="apache-2.0", n_layer=32, n_embd=4096,
          n_head=32, n_head_kv=8, n_ff=14336, ctx_train=32768, n_vocab=32768, n_merges=0,
          rope_base=1000000.0, eps="1.0e-05", file_bytes=4_372_812_000, bpw="4.85",
          params="7.25 B", mtype="7B", tok_model="llama", tok_pre="default",
          bos=(1, "<s>"), eos=(2, "</s>"), eot=None, pad=None, lf=(781, "<0x0A>"), max_tok=48,
          types=((" f32", 65), ("q4_K", 193), ("q6_K", 33)), nodes_per_layer=32, weight=20),
]

MODEL_DIR = "/usr/share/ollama/.ollama/models/blobs/sha256-"
GPU_ID = "GPU-3f0c2b5e-8d41-6a77-9e12-5b0d4c7a1e93"
GPU_NAME = "NVIDIA GeForce RTX 4090"
GPU_TOTAL = int(23.6 * GiB)
SYS_TOTAL = int(62.7 * GiB)
BATCH = 512
MIN_MEM = 457 * MiB  # CUDA minimum memory Ollama reserves per GPU

ERAS = {
    # version, default num_ctx, parallel to try first
    "0.5": dict(version="0.5.7", num_ctx=2048, parallel=4),
    "0.9": dict(version="0.9.6", num_ctx=4096, parallel=2),
}

# kind codes for the line statistics
K_GIN, K_NOISE, K_LOADSLOG, K_NATIVE, K_GOLOG, K_PANIC, K_SYSTEMD = range(7)
KIND_NAMES = ["gin", "slog_noise", "slog_load", "llama_native", "golog", "panic_or_blank", "systemd"]


# ---------------------------------------------------------------------------
# memory estimate (legacy llm/memory.go, single GPU, f16 KV cache)
# ---------------------------------------------------------------------------


def graph_sizes(m: Model, ctx: int):
    b, e, v, h, hkv, hd = BATCH, m.n_embd, m.n_vocab, m.n_head, m.n_head_kv, m.head_dim
    if m.arch == "qwen2":
        full = max(4 * b * (e + v), 4 * b * (1 + 2 * e + ctx + ctx * h))
        partial = max(4 * b * (e + v) + e * v * 105 // 128,
                      4 * (b * (1 + 2 * e + ctx * (1 + h)) + e * (1 + ctx)))
    else:
        full = max(4 * b * (1 + 4 * e + ctx * (1 + h)), 4 * b * (e + v))
        partial = 4 * b * e + max(
            4 * b * (1 + e + max(ctx, e)) + e * e * 9 // 16 + 4 * ctx * (b * h + hd * hkv),
            4 * b * (e + v) + e * v * 105 // 128)
    return full, partial


def estimate(m: Model, ctx: int, avail: int):
    n = m.n_layer
    kv = 2 * n * ctx * m.n_head_kv * m.head_dim * 2
    layer = m.rep_bytes // n + kv // n
    gf, gp = graph_sizes(m, ctx)
    alloc = MIN_MEM + layer
    placed = 0
    for _ in range(n):
        if avail > alloc + max(gp, gf) + layer:
            alloc += layer
            placed += 1
        else:
            break
    overflow = (n - placed) * layer
    if placed == n and avail > alloc + max(gp, gf) + m.out_bytes:
        alloc += m.out_bytes
        placed += 1
    else:
        overflow += m.out_bytes
    if placed:
        alloc += gf if placed == n + 1 else gp
        partial = alloc
    else:
        partial = 0
    full = (partial if placed else MIN_MEM + layer + gp) + overflow
    return dict(ctx=ctx, kv=kv, layer=layer, gf=gf, gp=gp, placed=placed, partial=partial,
                full=full, avail=avail)


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------

PROMPTS_SYS = ["You are a helpful assistant.", "You are a concise assistant. Answer in one paragraph.",
               "Du bist ein hilfreicher Assistent.", "Answer as JSON: {\"answer\": string}."]
PROMPTS_USER = ["Why is the sky blue?", "Summarise the following text:\n\nThe quick brown fox jumps.",
                "Write a haiku about GPUs.", "Translate \"good morning\" to French.",
                "What is 17 * 23?", "List three uses of a hash map.\tBe brief.",
                "Explain the difference between TCP and UDP.", "Écris une phrase en français.",
                "def f(x):\n    return x * 2\n\nWhat does f(21) return?"]

CLIENTS = [("127.0.0.1", 850), ("172.17.0.1", 50), ("172.18.0.5", 30), ("10.0.0.23", 30),
           ("10.0.0.42", 20), ("192.168.1.20", 10), ("::1", 10)]
ENDPOINTS = [  # method, path, class, weight
    ("POST", "/api/chat", "infer", 300), ("POST", "/api/generate", "infer", 160),
    ("POST", "/v1/chat/completions", "infer", 100), ("POST", "/api/embed", "embed", 80),
    ("GET", "/api/tags", "house", 140), ("GET", "/api/ps", "house", 80),
    ("POST", "/api/show", "show", 60), ("HEAD", "/", "head", 40),
    ("GET", "/api/version", "house", 30), ("GET", "/", "head", 10),
]


class Gen:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.off_min = args.offset_minutes
        start = _dt.datetime.fromisoformat(args.start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=_dt.timezone(_dt.timedelta(minutes=self.off_min)))
        off = start.utcoffset()
        self.off_min = int(off.total_seconds() // 60)
        # t = milliseconds of *local* wall-clock since the epoch (UTC epoch + offset)
        self.t = int((start.timestamp() + off.total_seconds()) * 1000)
        sign = "+" if self.off_min >= 0 else "-"
        oh, om = divmod(abs(self.off_min), 60)
        self.zone = "Z" if self.off_min == 0 else f"{sign}{oh:02d}:{om:02d}"
        self.MS = [f".{i:03d}{self.zone}" for i in range(1000)]
        self.HMS = [f"{h:02d}:{mi:02d}:{s:02d}" for h in range(24) for mi in range(60) for s in range(60)]
        self.day_start = -1
        self.day_end = -1
        self.transport = args.transport
        self._dk_sec, self._dk_pre = None, ""
        self.DKMS = [f"{i:03d}{(i * 7919 + 104729) % 1_000_000:06d}Z " for i in range(1000)]
        self.host = "gpu-node-01"
        self.server_pid = 1000 + self.rng.randrange(60000)
        self.kinds = bytearray()
        self.out = []
        self.runner = None        # currently loaded runner (dict) or None
        self.runner_noise = []    # slog noise tails that name the loaded runner
        self.era = None
        self.port = 0
        self.load_count = 0
        self._build_gin_pool()

    # -- clock ------------------------------------------------------------
    def _set_day(self):
        t = self.t
        day = t // 86_400_000
        self.day_start = day * 86_400_000
        self.day_end = self.day_start + 86_400_000
        d = _dt.date(1970, 1, 1) + _dt.timedelta(days=day)
        self.d_slog = f"time={d.year:04d}-{d.month:02d}-{d.day:02d}T"
        self.d_gin = f"[GIN] {d.year:04d}/{d.month:02d}/{d.day:02d} - "
        self.d_golog = f"{d.year:04d}/{d.month:02d}/{d.day:02d} "
        self.d_journal = d.strftime("%b ") + f"{d.day:02d} "  # C locale month

    def _prefix(self, t: int, ident: str = None) -> str:
        """Transport prefix for a line written at local time t (ms)."""
        if self.transport == "plain":
            return ""
        if self.transport == "journald":
            sod = (t - self.day_start) // 1000
            if ident is None:
                ident = f"ollama[{self.server_pid}]"
            return f"{self.d_journal}{self.HMS[sod]} {self.host} {ident}: "
        if self.transport == "docker":  # docker logs -t: RFC3339Nano in UTC
            u = t - self.off_min * 60_000
            sec, ms = divmod(u, 1000)
            if sec != self._dk_sec:
                self._dk_sec = sec
                d = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=sec)
                self._dk_pre = d.strftime("%Y-%m-%dT%H:%M:%S.")
            return self._dk_pre + self.DKMS[ms]
        raise ValueError(self.transport)

    def tick(self, ms: int):
        self.t += ms
        if self.t >= self.day_end:
            self._set_day()

    def ts_slog(self) -> str:
        sod, ms = divmod(self.t - self.day_start, 1000)
        return self.d_slog + self.HMS[sod] + self.MS[ms]

    # -- slow-path emitters (used for blocks) -------------------------------
    def slog(self, level: str, source, msg: str, *pairs, kind=K_LOADSLOG, dt=None):
        self.tick(self.rng.randrange(0, 4) if dt is None else dt)
        src = f" source={source}" if source else ""
        line = f"{self.ts_slog()} level={level}{src} msg={sv(msg)}{attrs(*pairs)}\n"
        self.out.append(self._prefix(self.t) + line)
        self.kinds.append(kind)

    def raw(self, text: str, kind=K_NATIVE, dt=None):
        self.tick(self.rng.randrange(0, 2) if dt is None else dt)
        self.out.append(self._prefix(self.t) + text + "\n")
        self.kinds.append(kind)

    def golog(self, text: str, dt=0):
        self.tick(dt)
        sod = (self.t - self.day_start) // 1000
        self.out.append(self._prefix(self.t) + self.d_golog + self.HMS[sod] + " " + text + "\n")
        self.kinds.append(K_GOLOG)

    def systemd(self, text: str, dt=0):
        if self.transport != "journald":
            return
        self.tick(dt)
        self.out.append(self._prefix(self.t, "systemd[1]") + text + "\n")
        self.kinds.append(K_SYSTEMD)

    def gin(self, status: int, latency_ns: int, client: str, method: str, path: str, dt=0):
        self.tick(dt)
        sod = (self.t - self.day_start) // 1000
        lat = go_duration(latency_ns if latency_ns < 60 * 10**9 else latency_ns // 10**9 * 10**9)
        self.out.append(self._prefix(self.t) + self.d_gin + self.HMS[sod]
                        + f" | {status:3d} | {lat:>13} | {client:>15} | {method:<7}  {go_quote(path)}\n")
        self.kinds.append(K_GIN)

    # -- pools ---------------------------------------------------------------
    def _latency(self, cls: str, status: int) -> int:
        r = self.rng
        if status == 500:
            if r.random() < 0.4:
                return 300 * 10**9 + r.randrange(0, 2 * 10**9)  # load timeout (5m0s/5m1s)
            return int(r.lognormvariate(math.log(3e6), 1.5))
        if status == 499:
            return int(r.uniform(0.3, 120.0) * 1e9)
        if cls == "infer":
            if r.random() < 0.1:
                return int(r.lognormvariate(math.log(60e6), 0.8))
            return min(int(r.lognormvariate(math.log(2.5e9), 1.1)), 290 * 10**9)
        if cls == "embed":
            return int(r.lognormvariate(math.log(40e6), 0.9))
        if cls == "show":
            return int(r.lognormvariate(math.log(15e6), 0.6))
        if cls == "head":
            return int(r.lognormvariate(math.log(30e3), 0.7))
        return int(r.lognormvariate(math.log(500e3), 0.9))

    def _build_gin_pool(self):
        r = self.rng
        clients = [c for c, _ in CLIENTS]
        cw = [w for _, w in CLIENTS]
        ew = [e[3] for e in ENDPOINTS]
        pool = []
        for _ in range(1 << 14):
            method, path, cls, _w = r.choices(ENDPOINTS, ew)[0]
            client = r.choices(clients, cw)[0]
            if cls in ("infer", "embed"):
                x = r.random()
                status = 200 if x < 0.94 else 499 if x < 0.97 else 500 if x < 0.99 else 400
            elif cls == "show":
                status = 200 if r.random() < 0.97 else 404
            else:
                status = 200
            ns = self._latency(cls, status)
            if ns >= 60 * 10**9:  # gin truncates latencies above a minute to seconds
                ns = ns // 10**9 * 10**9
            pool.append(f" | {status:3d} | {go_duration(ns):>13} | {client:>15} | {method:<7}  {go_quote(path)}\n")
        self.gin_pool = pool

    def _runner_attrs(self):
        R = self.runner
        if self.era == "0.5":
            return (("modelPath", R["blob"]),)
        return (("runner.name", "registry.ollama.ai/library/" + R["m"].tag), ("runner.inference", "cuda"),
                ("runner.devices", 1), ("runner.size", hb2(R["est"]["full"])),
                ("runner.vram", hb2(R["est"]["partial"])), ("runner.parallel", R["parallel"]),
                ("runner.pid", R["pid"]), ("runner.model", R["blob"]), ("runner.num_ctx", R["ctx"]))

    def _build_noise_pool(self):
        """Slog tails (after the timestamp) for the loaded runner, weighted by frequency."""
        r = self.rng
        R = self.runner
        ra = attrs(*self._runner_attrs())
        old = self.era == "0.5"
        nctx = R["ctx"] // R["parallel"]
        S = ERA_SOURCES[self.era]
        tails = []

        def add(weight, fn):
            for _ in range(weight):
                tails.append(fn())

        add(10, lambda: f" level=DEBUG source={S['sched_fin']} msg=\"context for request finished\"{'' if old else ra}\n")
        add(7, lambda: f" level=DEBUG source={S['sched_idle']} msg=\"runner with non-zero duration has gone idle, adding timer\"{ra} duration=5m0s\n")
        add(7, lambda: f" level=DEBUG source={S['sched_after']} msg=\"after processing request finished event\"{ra} refCount=0\n")
        add(8, lambda: f" level=DEBUG source={S['sched_eval']} msg=\"evaluating already loaded\" model={R['blob']}\n")
        if old:
            def chat():
                p = "<|im_start|>system\n" + r.choice(PROMPTS_SYS) + "<|im_end|>\n<|im_start|>user\n" \
                    + r.choice(PROMPTS_USER) + "<|im_end|>\n<|im_start|>assistant\n"
                what = r.choice(("chat request", "generate request"))
                return f" level=DEBUG source={S['routes_req']} msg={sv(what)} images=0 prompt={sv(p)}\n"
            add(8, chat)
        else:
            add(8, lambda: f" level=DEBUG source={S['completion']} msg=\"completion request\" images=0 prompt={r.randrange(12, nctx)} format=\"\"\n")
        def cache_slot():
            c = r.randrange(0, nctx // 2)
            p = r.randrange(c + 1, nctx)
            return (f" level=DEBUG source={S['cache']} msg=\"loading cache slot\" id={r.randrange(R['parallel'])}"
                    f" cache={c} prompt={p} used={c} remaining={p - c}\n")
        add(7, cache_slot)
        add(1, lambda: f" level=INFO source={S['runner_abort']} msg=\"aborting completion request due to client closing the connection\"\n")
        def trunc():
            p = r.randrange(nctx + 1, nctx * 3)
            return f" level=WARN source={S['runner_trunc']} msg=\"truncating input prompt\" limit={nctx} prompt={p} keep=5 new={nctx}\n"
        add(1, trunc)
        add(1, lambda: (f" level=DEBUG source={S['runner_shift']} msg=\"context limit hit - shifting\" id=0 limit={nctx}"
                        f" input={nctx} keep=4 discard={(nctx - 4) // 2}\n"))
        add(1, lambda: f" level=DEBUG source={S['sched_pending']} msg=\"pending request already has a runner\" model={R['blob']}\n" if not old
            else f" level=DEBUG source={S['sched_eval']} msg=\"evaluating already loaded\" model={R['blob']}\n")
        canceled = sv('Post "http://127.0.0.1:%d/completion": context canceled' % R["port"])
        add(1, lambda: f" level=ERROR source={S['post_predict']} msg=\"post predict\" error={canceled}\n")
        r.shuffle(tails)
        self.runner_noise = tails

    # -- blocks ---------------------------------------------------------------
    def startup(self, era: str):
        self.era = era
        E = ERAS[era]
        S = ERA_SOURCES[era]
        r = self.rng
        if self.t >= self.day_end:
            self._set_day()
        self.systemd("Started Ollama Service.", dt=r.randrange(200, 900))
        self.server_pid = 1000 + r.randrange(60000)
        debug = "true" if era == "0.5" else "DEBUG"
        env = ("map[CUDA_VISIBLE_DEVICES: GPU_DEVICE_ORDINAL: HIP_VISIBLE_DEVICES: HSA_OVERRIDE_GFX_VERSION: "
               "HTTPS_PROXY: HTTP_PROXY: NO_PROXY: OLLAMA_CONTEXT_LENGTH:{ctx} OLLAMA_DEBUG:{dbg} "
               "OLLAMA_FLASH_ATTENTION:false OLLAMA_GPU_OVERHEAD:0 OLLAMA_HOST:http://0.0.0.0:11434 "
               "OLLAMA_INTEL_GPU:false OLLAMA_KEEP_ALIVE:5m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_LLM_LIBRARY: "
               "OLLAMA_LOAD_TIMEOUT:5m0s OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MAX_QUEUE:512 "
               "OLLAMA_MODELS:/usr/share/ollama/.ollama/models OLLAMA_MULTIUSER_CACHE:false "
               "OLLAMA_NOHISTORY:false OLLAMA_NOPRUNE:false OLLAMA_NUM_PARALLEL:0 "
               "OLLAMA_ORIGINS:[http://localhost https://localhost http://localhost:* https://localhost:* "
               "http://127.0.0.1 https://127.0.0.1 http://127.0.0.1:* https://127.0.0.1:* http://0.0.0.0 "
               "https://0.0.0.0 http://0.0.0.0:* https://0.0.0.0:* app://* file://* tauri://*] "
               "OLLAMA_SCHED_SPREAD:false ROCR_VISIBLE_DEVICES: http_proxy: https_proxy: no_proxy:]").format(
            ctx=E["num_ctx"], dbg=debug)
        if era == "0.5":
            # before v0.7.0 the first line is written by Go's log package
            self.golog(f"{S['routes_cfg']}: INFO server config env={go_quote(env)}", dt=r.randrange(5, 40))
        else:
            self.slog("INFO", S["routes_cfg"], "server config", ("env", env), dt=r.randrange(5, 40))
        self.slog("INFO", S["images"], f"total blobs: {len(MODELS) * 3 + 2}")
        self.slog("INFO", S["images2"], "total unused blobs removed: 0")
        self.slog("INFO", S["routes_listen"], f"Listening on [::]:11434 (version {E['version']})")
        if era == "0.5":
            self.slog("INFO", S["routes_libs"], "Dynamic LLM libraries",
                      ("runners", "[cpu cpu_avx cpu_avx2 cuda_v11_avx cuda_v12_avx rocm_avx]"))
        self.slog("DEBUG", S["sched_start"], "starting llm scheduler")
        self.slog("INFO", S["gpu"], "looking for compatible GPUs")
        self.slog("INFO", S["types"], "inference compute", ("id", GPU_ID), ("library", "cuda"),
                  ("variant", "v12"), ("compute", "8.9"), ("driver", "12.4"), ("name", GPU_NAME),
                  ("total", hb2(GPU_TOTAL)), ("available", hb2(GPU_TOTAL - 420 * MiB)), dt=r.randrange(300, 900))
        self.runner = None

    def shutdown(self):
        r = self.rng
        self.systemd("Stopping Ollama Service...", dt=r.randrange(1000, 60000))
        self.systemd("ollama.service: Deactivated successfully.", dt=r.randrange(50, 300))
        self.systemd("Stopped Ollama Service.", dt=1)
        self.systemd(f"ollama.service: Consumed {r.randrange(1, 20)}h {r.randrange(60)}min "
                     f"{r.randrange(60)}.{r.randrange(1000):03d}s CPU time.", dt=0)
        self.tick(r.randrange(2000, 20000))

    def unload(self):
        R = self.runner
        S = ERA_SOURCES[self.era]
        r = self.rng
        ra = self._runner_attrs()
        pid = R["pid"]
        self.slog("DEBUG", S["sched_exp"], "runner expired event received", *ra, dt=r.randrange(0, 50))
        self.slog("DEBUG", S["sched_lock"], "got lock to unload", *ra)
        self.slog("DEBUG", S["srv_stop"], "stopping llama server", *(() if self.era == "0.5" else (("pid", pid),)))
        self.slog("DEBUG", S["srv_wait"], "waiting for llama server to exit", *(() if self.era == "0.5" else (("pid", pid),)))
        self.slog("DEBUG", S["srv_stopped"], "llama server stopped", *(() if self.era == "0.5" else (("pid", pid),)),
                  dt=r.randrange(100, 400))
        self.slog("DEBUG", S["sched_rel"], "runner released", *ra)
        if r.random() < 0.05:
            self.slog("WARN", S["sched_vram"], "gpu VRAM usage didn't recover within timeout",
                      ("seconds", round(5 + r.random() * 0.05, 9)), *ra, dt=5000 + r.randrange(60))
        self.slog("DEBUG", S["sched_unl"], "sending an unloaded event", *ra)
        self.runner = None
        self.runner_noise = []

    def load(self):
        """One model load: estimate, runner start, llama.cpp dump, started (or OOM)."""
        r = self.rng
        era = self.era
        E = ERAS[era]
        S = ERA_SOURCES[era]
        old = era == "0.5"
        m = r.choices(MODELS, [x.weight for x in MODELS])[0]
        if self.runner is not None:
            self.unload()
        blob = MODEL_DIR + m.blob_hex
        x = r.random()
        num_ctx = E["num_ctx"] if x < 0.6 else 8192 if x < 0.8 else 16384 if x < 0.92 else 32768
        avail = GPU_TOTAL - r.randrange(250, 700) * MiB
        parallel = E["parallel"]
        est = estimate(m, num_ctx * parallel, avail)
        if est["placed"] < m.n_layer + 1:   # auto parallel falls back to 1 when it does not fit
            parallel = 1
            est = estimate(m, num_ctx, avail)
        ctx = num_ctx * parallel
        fail = r.random() < 0.02
        placed, n = est["placed"], m.n_layer
        self.load_count += 1
        self.port = 32768 + r.randrange(28000)
        pid = self.server_pid + 100 + r.randrange(30000)
        threads = 16

        self.slog("DEBUG", S["sched_first"], "loading first model", ("model", blob), kind=K_LOADSLOG,
                  dt=r.randrange(1, 30))
        if placed == n + 1:
            self.slog("INFO", S["sched_fit"], "new model will fit in available VRAM in single GPU, loading",
                      ("model", blob), ("gpu", GPU_ID), ("parallel", parallel), ("available", avail),
                      ("required", hb2(est["full"])))
        if not old:
            self.slog("INFO", S["srv_sysmem"], "system memory", ("total", hb2(SYS_TOTAL)),
                      ("free", hb2(SYS_TOTAL - r.randrange(4, 9) * GiB - r.randrange(1024) * MiB)),
                      ("free_swap", "8.0 GiB"))
        if old:   # v0.5.x: weights.total includes the KV cache, repeating = total - output
            wt = m.rep_bytes + est["kv"]
            wrep, wnon = wt - m.out_bytes, m.out_bytes
        else:     # v0.6.3+: total = repeating + nonrepeating
            wt, wrep, wnon = m.rep_bytes + m.out_bytes, m.rep_bytes, m.out_bytes
        mem = (("layers.requested", -1), ("layers.model", n + 1), ("layers.offload", placed),
               ("layers.split", ""), ("memory.available", f"[{hb2(avail)}]"), ("memory.gpu_overhead", "0 B"),
               ("memory.required.full", hb2(est["full"])), ("memory.required.partial", hb2(est["partial"])),
               ("memory.required.kv", hb2(est["kv"])), ("memory.required.allocations", f"[{hb2(est['partial'])}]"),
               ("memory.weights.total", hb2(wt)), ("memory.weights.repeating", hb2(wrep)),
               ("memory.weights.nonrepeating", hb2(wnon)), ("memory.graph.full", hb2(est["gf"])),
               ("memory.graph.partial", hb2(est["gp"])))
        if old:
            self.slog("INFO", S["memory"], "offload to cuda", *mem)
        else:
            self.slog("INFO", S["memory"], "offload", ("library", "cuda"), *mem)
        ngl = f" --n-gpu-layers {placed}" if placed else ""
        if old:
            cmd = (f"/usr/local/lib/ollama/runners/cuda_v12_avx/ollama_llama_server runner --model {blob}"
                   f" --ctx-size {ctx} --batch-size {BATCH}{ngl} --threads {threads} --parallel {parallel}"
                   f" --port {self.port}")
        else:
            cmd = (f"/usr/local/bin/ollama runner --model {blob} --ctx-size {ctx} --batch-size {BATCH}{ngl}"
                   f" --threads {threads} --parallel {parallel} --port {self.port}")
        self.slog("INFO", S["srv_start"], "starting llama server", ("cmd", cmd), dt=r.randrange(1, 10))
        self.slog("INFO", S["sched_loaded"], "loaded runners", ("count", 1))
        self.slog("INFO", S["srv_waitresp"], "waiting for llama runner to start responding")
        self.slog("INFO", S["srv_avail"], "waiting for server to become available", ("status", "llm server error"))
        # --- runner output
        self.slog("INFO", S["runner_go"], "starting go runner", dt=r.randrange(20, 120))
        if old:
            self.raw("ggml_cuda_init: GGML_CUDA_FORCE_MMQ:    no")
            self.raw("ggml_cuda_init: GGML_CUDA_FORCE_CUBLAS: no")
        self.raw("ggml_cuda_init: found 1 CUDA devices:", dt=r.randrange(50, 300))
        self.raw(f"  Device 0: {GPU_NAME}, compute capability 8.9, VMM: yes")
        if old:
            self.slog("INFO", S["runner_sys"], "system",
                      ("info", "CUDA : ARCHS = 600,610,620,700,720,750,800,860,870,890,900 | USE_GRAPHS = 1 | "
                               "PEER_MAX_BATCH_SIZE = 128 | CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | "
                               "F16C = 1 | FMA = 1 | LLAMAFILE = 1 | AARCH64_REPACK = 1 | cgo(gcc)"),
                      ("threads", threads))
            # the standalone runner bridges log.Println without a source attribute
            self.slog("INFO", None, f"Server listening on 127.0.0.1:{self.port}")
            self.raw(f"llama_load_model_from_file: using device CUDA0 ({GPU_NAME}) - "
                     f"{(avail + 380 * MiB) // MiB} MiB free")
        else:
            self.raw("load_backend: loaded CUDA backend from /usr/local/lib/ollama/cuda_v12/libggml-cuda.so")
            self.raw("load_backend: loaded CPU backend from /usr/local/lib/ollama/libggml-cpu-icelake.so")
            self.slog("INFO", S["runner_sys"], "system", ("CPU.0.SSE3", 1), ("CPU.0.SSSE3", 1), ("CPU.0.AVX", 1),
                      ("CPU.0.AVX2", 1), ("CPU.0.F16C", 1), ("CPU.0.FMA", 1), ("CPU.0.BMI2", 1),
                      ("CPU.0.AVX512", 1), ("CPU.0.LLAMAFILE", 1), ("CPU.1.LLAMAFILE", 1),
                      ("CUDA.0.ARCHS", "500,600,610,700,750,800,860,870,890,900,1200"),
                      ("CUDA.0.USE_GRAPHS", 1), ("CUDA.0.PEER_MAX_BATCH_SIZE", 128), ("compiler", "cgo(gcc)"))
            self.slog("INFO", S["runner_listen"], f"Server listening on 127.0.0.1:{self.port}")
            self.raw(f"llama_model_load_from_file_impl: using device CUDA0 ({GPU_NAME}) - "
                     f"{(avail + 380 * MiB) // MiB} MiB free")
        self._loader_dump(m, blob, old)
        self.slog("INFO", S["srv_avail"], "waiting for server to become available",
                  ("status", "llm server loading model"), dt=r.randrange(0, 5))
        self._meta_dump(m, old)
        T = "llm_load_tensors" if old else "load_tensors"
        on_gpu = min(placed, n)
        if not old:
            self.raw(f"{T}: loading model tensors, this can take a while... (mmap = true)")
        if on_gpu:
            self.raw(f"{T}: offloading {on_gpu} repeating layers to GPU", dt=r.randrange(100, 600))
        if placed == n + 1:
            self.raw(f"{T}: offloading output layer to GPU")
        self.raw(f"{T}: offloaded {placed}/{n + 1} layers to GPU")
        gpu_model = m.rep_bytes * on_gpu // n + (m.out_bytes if placed == n + 1 else 0)
        cpu_model = m.file_bytes - gpu_model
        if fail:
            self._oom(m, blob, gpu_model, old, S)
            return False
        self.raw(f"{T}: {'CUDA0':>12} model buffer size = {gpu_model / MiB:8.2f} MiB")
        self.raw(f"{T}: {'CPU_Mapped':>12} model buffer size = {cpu_model / MiB:8.2f} MiB")
        self._context_dump(m, est, ctx, parallel, on_gpu, placed, old)
        secs = r.uniform(1.5, 4.0) + m.file_bytes / 2.2e9 * (1 if placed else 0.3)
        self.tick(int(secs * 1000))
        self.slog("INFO", S["srv_started"], f"llama runner started in {secs:.2f} seconds", dt=0)
        self.runner = dict(m=m, blob=blob, ctx=ctx, parallel=parallel, pid=pid, est=est, port=self.port)
        self._build_noise_pool()
        # the request that triggered the load finishes now
        gen = int(r.lognormvariate(math.log(2e9), 0.8))
        self.tick(gen // 10**6)
        self.gin(200, int(secs * 1e9) + gen + r.randrange(10**6, 10**8), "127.0.0.1", "POST",
                 r.choice(("/api/chat", "/api/generate", "/v1/chat/completions")))
        return True

    def _loader_dump(self, m: Model, blob: str, old: bool):
        a = m.arch
        kvs = [("general.architecture", "str", a), ("general.type", "str", "model"),
               ("general.name", "str", m.name)]
        if m.finetune:
            kvs.append(("general.finetune", "str", m.finetune))
        kvs += [("general.basename", "str", m.basename), ("general.size_label", "str", m.size_label),
                ("general.license", "str", m.license),
                (f"{a}.block_count", "u32", str(m.n_layer)), (f"{a}.context_length", "u32", str(m.ctx_train)),
                (f"{a}.embedding_length", "u32", str(m.n_embd)), (f"{a}.feed_forward_length", "u32", str(m.n_ff)),
                (f"{a}.attention.head_count", "u32", str(m.n_head)),
                (f"{a}.attention.head_count_kv", "u32", str(m.n_head_kv)),
                (f"{a}.rope.freq_base", "f32", f"{m.rope_base:.6f}"),
                (f"{a}.attention.layer_norm_rms_epsilon", "f32", f"{float(m.eps):.6f}"),
                ("general.file_type", "u32", "15"),
                ("tokenizer.ggml.model", "str", m.tok_model), ("tokenizer.ggml.pre", "str", m.tok_pre),
                ("tokenizer.ggml.tokens", f"arr[str,{m.n_vocab}]",
                 '["<unk>", "<s>", "</s>", "[INST]", "[/INST]", ...' if m.tok_model == "llama"
                 else '["!", "\\"", "#", "$", "%", "&", "\'", ...'),
                ("tokenizer.ggml.token_type", f"arr[i32,{m.n_vocab}]", "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ...")]
        if m.n_merges:
            kvs.append(("tokenizer.ggml.merges", f"arr[str,{m.n_merges}]", '["Ġ Ġ", "ĠĠ ĠĠ", "i n", "Ġ t", ...'))
        kvs.append(("tokenizer.ggml.bos_token_id", "u32", str(m.bos[0])))
        kvs.append(("tokenizer.ggml.eos_token_id", "u32", str(m.eos[0])))
        if m.pad:
            kvs.append(("tokenizer.ggml.padding_token_id", "u32", str(m.pad[0])))
        kvs.append(("tokenizer.ggml.add_bos_token", "bool", "true" if m.tok_model == "llama" else "false"))
        kvs.append(("tokenizer.chat_template", "str", "{%- if messages[0]['role'] == 'system' %}\\n    {%- set..."))
        kvs.append(("general.quantization_version", "u32", "2"))
        ntensors = sum(c for _, c in m.types)
        self.raw(f"llama_model_loader: loaded meta data with {len(kvs)} key-value pairs and {ntensors} tensors "
                 f"from {blob} (version GGUF V3 (latest))", dt=self.rng.randrange(5, 60))
        self.raw("llama_model_loader: Dumping metadata keys/values. Note: KV overrides do not apply in this output.")
        for i, (k, t, v) in enumerate(kvs):
            if len(v) > 40:
                v = v[:37] + "..."
            self.raw(f"llama_model_loader: - kv {i:3d}: {k:>42} {t:<16} = {v}", dt=0)
        for t, c in m.types:
            self.raw(f"llama_model_loader: - type {t:>4}: {c:4d} tensors", dt=0)

    def _meta_dump(self, m: Model, old: bool):
        P = "llm_load_print_meta" if old else "print_info"
        V = "llm_load_vocab" if old else "load"
        size = f"{m.file_bytes / GiB:.2f} GiB ({m.bpw} BPW) "
        tok = lambda t: f"{t[0]} '{t[1]}'"
        rows = []
        if not old:
            rows += [("file format", "GGUF V3 (latest)"), ("file type", "Q4_K - Medium"), ("file size", size)]
            for k, v in rows:
                self.raw(f"{P}: {k:<11} = {v}", dt=0)
            rows = []
        self.raw(f"{V}: special tokens cache size = {22 if m.tok_model == 'gpt2' else 771}", dt=self.rng.randrange(50, 300))
        self.raw(f"{V}: token to piece cache size = {0.9310 if m.n_vocab > 100000 else 0.1732:.4f} MB")
        if old:
            rows += [("format", "GGUF V3 (latest)")]
        rows += [("arch", m.arch)]
        if old:
            rows += [("vocab type", "BPE" if m.tok_model == "gpt2" else "SPM"), ("n_vocab", m.n_vocab),
                     ("n_merges", m.n_merges)]
        gqa = m.n_head // m.n_head_kv
        rows += [("vocab_only", 0), ("n_ctx_train", m.ctx_train), ("n_embd", m.n_embd), ("n_layer", m.n_layer),
                 ("n_head", m.n_head), ("n_head_kv", m.n_head_kv), ("n_rot", m.head_dim), ("n_swa", 0),
                 ("n_embd_head_k", m.head_dim), ("n_embd_head_v", m.head_dim), ("n_gqa", gqa),
                 ("n_embd_k_gqa", m.head_dim * m.n_head_kv), ("n_embd_v_gqa", m.head_dim * m.n_head_kv),
                 ("f_norm_eps", "0.0e+00"), ("f_norm_rms_eps", m.eps), ("f_clamp_kqv", "0.0e+00"),
                 ("f_max_alibi_bias", "0.0e+00"), ("f_logit_scale", "0.0e+00"), ("n_ff", m.n_ff),
                 ("n_expert", 0), ("n_expert_used", 0), ("causal attn", 1), ("pooling type", 0),
                 ("rope type", 2 if m.arch == "qwen2" else 0), ("rope scaling", "linear"),
                 ("freq_base_train", f"{m.rope_base:.1f}"), ("freq_scale_train", 1),
                 ("n_ctx_orig_yarn", m.ctx_train), ("rope_finetuned", "unknown"), ("ssm_d_conv", 0),
                 ("ssm_d_inner", 0), ("ssm_d_state", 0), ("ssm_dt_rank", 0), ("ssm_dt_b_c_rms", 0),
                 ("model type", m.mtype)]
        if old:
            rows += [("model ftype", "Q4_K - Medium"), ("model params", m.params), ("model size", size)]
        else:
            rows += [("model params", m.params)]
        rows += [("general.name", m.name)]
        if not old:
            rows += [("vocab type", "BPE" if m.tok_model == "gpt2" else "SPM"), ("n_vocab", m.n_vocab),
                     ("n_merges", m.n_merges)]
        rows += [("BOS token", tok(m.bos)), ("EOS token", tok(m.eos))]
        if m.eot:
            rows += [("EOT token", tok(m.eot))]
        if m.pad:
            rows += [("PAD token", tok(m.pad))]
        rows += [("LF token", tok(m.lf)), ("EOG token", tok(m.eos)), ("max token length", m.max_tok)]
        for k, v in rows:
            self.raw(f"{P}: {k:<16} = {v}", dt=0)

    def _context_dump(self, m, est, ctx, parallel, on_gpu, placed, old):
        C = "llama_new_context_with_model" if old else "llama_context"
        KV = "llama_kv_cache_init" if old else "llama_kv_cache_unified"
        n = m.n_layer
        nseq = ctx // parallel
        if not old:
            self.raw(f"{C}: constructing llama_context", dt=self.rng.randrange(100, 900))
        rows = [("n_seq_max", parallel), ("n_ctx", ctx), ("n_ctx_per_seq", nseq), ("n_batch", BATCH * parallel),
                ("n_ubatch", BATCH)]
        if not old:
            rows.append(("causal_attn", 1))
        rows += [("flash_attn", 0), ("freq_base", f"{m.rope_base:.1f}"), ("freq_scale", 1)]
        for i, (k, v) in enumerate(rows):
            self.raw(f"{C}: {k:<13} = {v}", dt=self.rng.randrange(100, 900) if (old and i == 0) else 0)
        if nseq < m.ctx_train:
            self.raw(f"{C}: n_ctx_per_seq ({nseq}) < n_ctx_train ({m.ctx_train}) -- the full capacity of the "
                     f"model will not be utilized")
        kv = est["kv"]
        out_buf = f"{C}: {'CUDA_Host':>10}  output buffer size = {m.n_vocab * 4 * parallel / MiB:8.2f} MiB"
        if old:
            self.raw(f"{KV}: kv_size = {ctx}, offload = 1, type_k = 'f16', type_v = 'f16', n_layer = {n}, can_shift = 1")
        else:
            self.raw(out_buf)
            self.raw(f"{KV}: kv_size = {ctx}, type_k = 'f16', type_v = 'f16', n_layer = {n}, can_shift = 1, padding = 32")
        kv_gpu = kv * on_gpu // n
        if kv_gpu:
            self.raw(f"{KV}: {'CUDA0':>10} KV buffer size = {kv_gpu / MiB:8.2f} MiB")
        if kv - kv_gpu:
            self.raw(f"{KV}: {'CPU':>10} KV buffer size = {(kv - kv_gpu) / MiB:8.2f} MiB")
        kvp = C if old else KV
        self.raw(f"{kvp}: KV self size  = {kv / MiB:7.2f} MiB, K (f16): {kv / 2 / MiB:7.2f} MiB, "
                 f"V (f16): {kv / 2 / MiB:7.2f} MiB")
        if old:
            self.raw(out_buf)
        gpu_compute = (est["gf"] if placed == n + 1 else est["gp"]) * 0.97 if placed else 0
        host_compute = (BATCH * m.n_embd * 4 * 2 + ctx * 64 + m.n_vocab * 16) / MiB
        if gpu_compute:
            self.raw(f"{C}: {'CUDA0':>10} compute buffer size = {gpu_compute / MiB:8.2f} MiB")
        self.raw(f"{C}: {'CUDA_Host':>10} compute buffer size = {host_compute:8.2f} MiB")
        self.raw(f"{C}: graph nodes  = {m.nodes_per_layer * n + 6}")
        self.raw(f"{C}: graph splits = {2 if placed == n + 1 else 3 + (1 if kv - kv_gpu else 0)}")

    def _oom(self, m, blob, gpu_model, old, S):
        r = self.rng
        self.raw(f"ggml_backend_cuda_buffer_type_alloc_buffer: allocating {gpu_model / MiB:.2f} MiB on device 0: "
                 f"cudaMalloc failed: out of memory", dt=r.randrange(200, 2000))
        self.raw("llama_model_load: error loading model: unable to allocate CUDA0 buffer")
        self.raw(("llama_load_model_from_file" if old else "llama_model_load_from_file_impl") + ": failed to load model")
        pkg = "llama/runner" if old else "runner/llamarunner"
        self.raw(f"panic: unable to load model: {blob}", kind=K_PANIC)
        self.raw("", kind=K_PANIC, dt=0)
        self.raw(f"goroutine {r.randrange(7, 60)} [running]:", kind=K_PANIC, dt=0)
        self.raw(f"github.com/ollama/ollama/{pkg}.(*Server).loadModel(0xc0001b8120, {{0x{r.randrange(16**5):x}, 0x0, "
                 f"0x10, 0x0, 0x0, 0x0, 0x0}}, ...)", kind=K_PANIC, dt=0)
        self.raw(f"\tgithub.com/ollama/ollama/{pkg}/runner.go:{r.choice((832, 846, 853))} +0x2f5", kind=K_PANIC, dt=0)
        self.raw(f"created by github.com/ollama/ollama/{pkg}.Execute in goroutine 1", kind=K_PANIC, dt=0)
        self.raw(f"\tgithub.com/ollama/ollama/{pkg}/runner.go:{r.choice((965, 971, 980))} +0xa5c", kind=K_PANIC, dt=0)
        self.slog("ERROR", S["sched_err"], "error loading llama server",
                  ("error", "llama runner process has terminated: cudaMalloc failed: out of memory"),
                  dt=r.randrange(50, 400))
        if not old:
            self.slog("DEBUG", S["sched_fail"], "triggering expiration for failed load", ("model", blob))
        self.gin(500, r.randrange(2, 12) * 10**9 + r.randrange(10**9), "127.0.0.1", "POST", "/api/chat", dt=1)
        self.runner = None
        self.runner_noise = []

    # -- main loop ---------------------------------------------------------------
    def run(self, fh, size: int):
        a = self.a
        r = self.rng
        eras = ["0.5", "0.9"] if a.era == "mixed" else [a.era]
        switch_at = [size * (i + 1) // len(eras) for i in range(len(eras) - 1)]
        era_i = 0
        self._set_day()
        self.startup(eras[0])
        # millisecond gaps between lines: bursts, steady traffic and quiet spells
        dts = [r.randrange(0, 6) if x < 0.45 else r.randrange(5, 400) if x < 0.93 else r.randrange(400, 8000)
               for x in (r.random() for _ in range(4096))]
        gin_pool = self.gin_pool
        written = 0
        counts = [0] * len(KIND_NAMES)
        next_load = 0
        line_no = 0
        p_gin = a.gin_fraction
        CH = 65536
        done = False
        plain = self.transport == "plain"
        while not done:
            out = self.out
            kinds = self.kinds
            ap = out.append
            kap = kinds.append
            grb = r.getrandbits
            rnd = r.random
            for _ in range(CH):
                if line_no >= next_load:
                    ok = self.load()
                    line_no += 1
                    # a failed load is retried by the next inference request
                    next_load = line_no + (r.randrange(1500, 4500) if ok else r.randrange(5, 60))
                    noise = self.runner_noise or [
                        f" level=DEBUG source={ERA_SOURCES[self.era]['sched_conc']} msg=\"updating default"
                        f" concurrency\" OLLAMA_MAX_LOADED_MODELS=3 gpu_count=1\n"]
                    nn = len(noise)
                t = self.t + dts[grb(12)]
                if t >= self.day_end:
                    self.t = t
                    self._set_day()
                self.t = t
                sod, ms = divmod(t - self.day_start, 1000)
                if rnd() < p_gin:
                    line = self.d_gin + self.HMS[sod] + gin_pool[grb(14)]
                    kap(K_GIN)
                else:
                    line = self.d_slog + self.HMS[sod] + self.MS[ms] + noise[int(rnd() * nn)]
                    kap(K_NOISE)
                ap(line if plain else self._prefix(t) + line)
                line_no += 1
            blob = "".join(self.out).encode("utf-8")
            nl = len(self.kinds)
            if written + len(blob) >= size:
                cut = blob.rfind(b"\n", 0, size - written) + 1
                blob = blob[:cut]
                nl = blob.count(b"\n")
                done = True
            fh.write(blob)
            written += len(blob)
            for k in self.kinds[:nl]:
                counts[k] += 1
            self.out = []
            self.kinds = bytearray()
            if not done and era_i < len(switch_at) and written >= switch_at[era_i]:
                era_i += 1
                if self.runner is not None:
                    self.unload()
                self.shutdown()
                self.startup(eras[era_i])
                next_load = line_no  # first request after a restart loads a model
        return written, counts


# source= values per era (file:line as those releases print them; lines vary by build)
ERA_SOURCES = {
    "0.5": dict(routes_cfg="routes.go:1187", images="images.go:432", images2="images.go:439",
                routes_listen="routes.go:1238", routes_libs="routes.go:1267", sched_start="sched.go:105",
                gpu="gpu.go:226", types="types.go:131", sched_fin="sched.go:407", sched_idle="sched.go:428",
                sched_after="sched.go:440", sched_eval="sched.go:575", routes_req="routes.go:1542",
                completion="server.go:713", cache="cache.go:104", runner_abort="runner.go:597",
                runner_trunc="runner.go:129", runner_shift="runner.go:178", sched_pending="sched.go:120",
                post_predict="server.go:760", sched_exp="sched.go:340", sched_lock="sched.go:359",
                srv_stop="server.go:1075", srv_wait="server.go:1080", srv_stopped="server.go:1084",
                sched_rel="sched.go:380", sched_vram="sched.go:648", sched_unl="sched.go:387",
                sched_first="sched.go:211", sched_fit="sched.go:714", srv_sysmem="server.go:104",
                memory="memory.go:326", srv_start="server.go:376", sched_loaded="sched.go:449",
                srv_waitresp="server.go:555", srv_avail="server.go:589", runner_go="runner.go:936",
                runner_sys="runner.go:937", runner_listen="runner.go:995", srv_started="server.go:594",
                sched_err="sched.go:455", sched_fail="sched.go:460", sched_conc="sched.go:123"),
    "0.9": dict(routes_cfg="routes.go:1235", images="images.go:476", images2="images.go:483",
                routes_listen="routes.go:1288", routes_libs="routes.go:1300", sched_start="sched.go:108",
                gpu="gpu.go:217", types="types.go:130", sched_fin="sched.go:350", sched_idle="sched.go:379",
                sched_after="sched.go:394", sched_eval="sched.go:617", routes_req="routes.go:1580",
                completion="server.go:801", cache="cache.go:111", runner_abort="runner.go:621",
                runner_trunc="runner.go:136", runner_shift="runner.go:185", sched_pending="sched.go:133",
                post_predict="server.go:848", sched_exp="sched.go:291", sched_lock="sched.go:300",
                srv_stop="server.go:1116", srv_wait="server.go:1122", srv_stopped="server.go:1127",
                sched_rel="sched.go:330", sched_vram="sched.go:688", sched_unl="sched.go:338",
                sched_first="sched.go:226", sched_fit="sched.go:788", srv_sysmem="server.go:135",
                memory="server.go:175", srv_start="server.go:438", sched_loaded="sched.go:483",
                srv_waitresp="server.go:598", srv_avail="server.go:632", runner_go="runner.go:815",
                runner_sys="ggml.go:104", runner_listen="runner.go:874", srv_started="server.go:637",
                sched_err="sched.go:489", sched_fail="sched.go:493", sched_conc="sched.go:130"),
}


def compress_copies(path: str, gz: bool, zst: bool):
    made = []
    if gz:
        with open(path, "rb") as src, open(path + ".gz", "wb") as raw:
            # mtime=0 and no file name keep the .gz byte-identical across runs
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as dst:
                shutil.copyfileobj(src, dst, 16 * MiB)
        made.append(path + ".gz")
    if zst:
        try:
            import zstandard
        except ImportError:
            sys.exit("gen_log.py: --zst needs the zstandard package")
        cctx = zstandard.ZstdCompressor(level=3, threads=-1)
        with open(path, "rb") as src, open(path + ".zst", "wb") as dst:
            cctx.copy_stream(src, dst, read_size=16 * MiB, write_size=16 * MiB)
        made.append(path + ".zst")
    return made


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=parse_size("64MiB"),
                    help="target size (64MiB, 1GiB, 500MB; the file ends at the last whole line before it)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("-o", "--output", required=True, help="file to write")
    ap.add_argument("--transport", choices=("plain", "journald", "docker"), default="plain",
                    help="plain file (default), journalctl -u ollama prefixes, or docker logs -t prefixes")
    ap.add_argument("--era", choices=("mixed", "0.5", "0.9"), default="mixed",
                    help="server version shape: v0.5.7, v0.9.6, or the first then the second (default)")
    ap.add_argument("--start", default="2025-03-14T08:00:00+02:00",
                    help="time of the first line, ISO 8601 with offset (default %(default)s)")
    ap.add_argument("--offset-minutes", type=int, default=120, help=argparse.SUPPRESS)
    ap.add_argument("--gin-fraction", type=float, default=0.75, help=argparse.SUPPRESS)
    ap.add_argument("--gz", action="store_true", help="also write OUTPUT.gz")
    ap.add_argument("--zst", action="store_true", help="also write OUTPUT.zst")
    ap.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    g = Gen(a)
    with open(a.output, "wb", buffering=0) as fh:
        written, counts = g.run(fh, a.size)
    t1 = time.perf_counter()
    made = compress_copies(a.output, a.gz, a.zst)
    t2 = time.perf_counter()
    if not a.quiet:
        total = sum(counts)
        print(f"wrote {written:,} bytes ({written / GiB:.3f} GiB), {total:,} lines, "
              f"{g.load_count:,} model loads in {t1 - t0:.1f} s ({written / 1e6 / (t1 - t0):.0f} MB/s)",
              file=sys.stderr)
        for name, c in zip(KIND_NAMES, counts):
            if c:
                print(f"  {name:<15} {c:>12,}  {100 * c / total:5.1f} %", file=sys.stderr)
        for p in made:
            print(f"  + {os.path.basename(p)} {os.path.getsize(p):,} bytes", file=sys.stderr)
        if made:
            print(f"  compression took {t2 - t1:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
