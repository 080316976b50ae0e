"""Assemble `loads` and `gpus` from the catalogued events of one file.

A load is one attempt by the server to start a runner for a model (docs/tables.md#loads): from the
scheduler and estimate lines through the runner's command, its layout requests, llama.cpp's or the
Ollama engine's own report, to the outcome. Events arrive in file order; each names a stage, and a
load only moves forward through the stages: an event of an earlier stage, or a second copy of a
once-per-load event, starts the next load. Lines that describe a runner already running (the
`runner.*` summaries of the scheduler) are attached to the load of the same blob, or read as a load
of their own when the file holds none.

Placement follows docs/tables.md: the runner's own result over the plan; where the model buffers
went over a layer count that contradicts them; the plan when nothing else is shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .units import mib, parse_size, parse_size_list

# stages, in the order a load goes through them
INFO, SCHED, ESTIMATE, RUNNER, REQUEST, RESULT, OUTCOME = range(7)

BLOB = re.compile(r"sha256[-:]([0-9a-f]{64})|sha256[-:]([0-9a-f]{6,63})", re.ASCII)
OOM = re.compile(r"out of memory|out of device memory|cudaMalloc failed|hipMalloc failed|failed to allocate"
                 r"|allocation failed|not enough memory|insufficient memory|unable to allocate"
                 r"|vk_error_out_of_device_memory|erroroutofmemory", re.I | re.ASCII)
OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers", re.ASCII)  # "to GPU" may be cut by a pager
OFFLOADING = re.compile(r"offloading (\d+) repeating layers", re.ASCII)
OUTPUT_LAYER = re.compile(r"offloading (?:output|non-repeating) layers? to (\w+)", re.ASCII)
BUFFER = re.compile(r"(\S+)\s+(model |KV |compute |output |RS |LoRA |)buffer size\s*=\s*([\d.]+) MiB", re.ASCII)
NUM = re.compile(r"=\s*(\d+)", re.ASCII)
KV_INIT_TYPE = re.compile(r"type_k = '(\w+)'", re.ASCII)
KV_SELF = re.compile(r"KV self size\s*=\s*([\d.]+) MiB(?:, K \((\w+)\))?", re.ASCII)
KV_SIZE = re.compile(r"size =\s*([\d.]+) MiB \(\s*(\d+) cells.*?K \((\w+)\)", re.ASCII)
USING_DEVICE = re.compile(r"using device (\S+) \((.*?)\)(?: \((\S+)\))? - (\d+) MiB free", re.ASCII)
FIT_DEVICE = re.compile(r"- (\S+) \(.*\): +(\d+) layers(?: \(\s*(\d+) overflowing\))?,\s+(\d+) MiB used,\s+(-?\d+) MiB free", re.ASCII)
FIT_PROJECTED = re.compile(r"projected to use (\d+) MiB of device memory vs\. (\d+) MiB of free", re.ASCII)
FIT_CTX = re.compile(r"context size set by user to (\d+)", re.ASCII)
DEVICE = re.compile(r"Device (\d+): (.*?), compute capability ([\d.]+)(?:, VMM: (\w+))?(?:, ID: (\S+))?$", re.ASCII)
VERSION = re.compile(r"\(version ([^)]+)\)", re.ASCII)
REQ_FIELD = re.compile(r"(\w+):(\S*)", re.ASCII)
GPULAYERS = re.compile(r"GPULayers:(\d*)\[(.*?)\](?= \w+:|\}|$)", re.ASCII)
LAYER_GROUP = re.compile(r"ID:(\S+) Layers:(\d+)\(([^)]*)\)|ID:(\S+) Layers:(\d+)\[([^\]]*)\]", re.ASCII)
RUNNER_VARIANT = re.compile(r"runners[\\/]+([A-Za-z0-9_.]+)[\\/]+", re.ASCII)
GPU_DEVICE = re.compile(r"^(CUDA|ROCm|Metal|MTL|Vulkan|SYCL|OpenCL|CANN|MUSA|BLAS)", re.ASCII)
CONFIG_KEY = re.compile(r"(?:^|\s)([A-Z][A-Z0-9_]*|https?_proxy|no_proxy):", re.ASCII)

LIBRARY_OF_DEVICE = {"CUDA": "cuda", "ROCm": "rocm", "Metal": "metal", "MTL": "metal", "Vulkan": "vulkan",
                     "SYCL": "oneapi", "OpenCL": "opencl", "CANN": "cann", "MUSA": "musa"}
OUTCOME_RANK = {None: 0, "loaded": 1, "evicted": 1, "aborted": 2, "refused": 3, "crashed": 3, "timeout": 4, "oom": 5}
# a load that ended in one of these before its runner reported anything has no placement
FAILED = ("oom", "crashed", "timeout", "refused")
# llama.cpp falls back to ordinary host memory when pinned memory cannot be had: not an OOM
PINNED = re.compile(r"failed to (?:allocate|register) [\d.]+ MiB of pinned memory: [^\n]*", re.ASCII)
# the runner failed while placing the weights themselves (not the KV cache or the compute graph)
WEIGHTS_FAILED = re.compile(r"model weights|error loading model|unable to load model|failed to load model", re.ASCII)
NEAR_US = 2_000_000  # the scheduler's check and the server start print one estimate this close


def blob_of(text) -> str | None:
    if not text:
        return None
    m = BLOB.search(str(text))
    if not m:
        return None
    return m.group(1) or m.group(2)


def library_of(name: str | None) -> str | None:
    if not name:
        return None
    n = name.strip().lower()
    for key, lib in (("cuda", "cuda"), ("rocm", "rocm"), ("hip", "rocm"), ("metal", "metal"), ("mtl", "metal"),
                     ("vulkan", "vulkan"), ("oneapi", "oneapi"), ("sycl", "oneapi"), ("ipex", "oneapi"),
                     ("cpu", "cpu")):
        if n.startswith(key):
            return lib
    return n or None


def device_library(dev: str) -> str | None:
    m = GPU_DEVICE.match(dev)
    return LIBRARY_OF_DEVICE.get(m.group(1)) if m else None


def is_gpu_device(dev: str) -> bool:
    """A llama.cpp/ggml buffer or backend name that lives on a GPU (Metal_Mapped is unified memory)."""
    return GPU_DEVICE.match(dev) is not None and not dev.endswith("_Host")


def _int(v) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def parse_cmd(cmd: str) -> dict:
    """Flags of a runner command line (`--ctx-size 8192 ...`, `-c 32768 -np 1 ...`)."""
    toks = cmd.split()
    out: dict = {"cmd": cmd}
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.startswith("-"):
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and not (nxt.startswith("-") and not re.fullmatch(r"-\d+", nxt, re.ASCII)):
                out.setdefault(t, nxt)
                i += 2
                continue
            out.setdefault(t, True)
        i += 1
    m = RUNNER_VARIANT.search(cmd)
    out["variant"] = m.group(1) if m else None
    return out


def parse_request(text: str) -> dict:
    """A runner `load request="{Operation:commit ... GPULayers:49[ID:... Layers:49(0..48)] ...}"`."""
    body = text.strip().strip("{}")
    out: dict = {}
    g = GPULAYERS.search(body)
    if g:
        groups = []
        indices: list[int] = []
        for m in LAYER_GROUP.finditer(g.group(2)):
            if m.group(1):
                dev, n, span = m.group(1), int(m.group(2)), m.group(3)
                a, _, b = span.partition("..")
                if _int(a) is not None and _int(b) is not None:
                    indices.extend(range(int(a), int(b) + 1))
            else:
                dev, n, span = m.group(4), int(m.group(5)), m.group(6)
                indices.extend(int(x) for x in span.split() if _int(x) is not None)
            groups.append((dev, n))
        count = _int(g.group(1))
        out["gpu_layers"] = count if count is not None else sum(n for _, n in groups)
        out["gpu_groups"] = groups
        out["gpu_indices"] = indices
        body = body[:g.start()] + body[g.end():]
    for m in REQ_FIELD.finditer(body):
        out.setdefault(m.group(1), m.group(2))
    return out


def parse_config(env: str) -> dict:
    """`map[KEY:value KEY:value ...]` of the `server config` line (values may contain spaces)."""
    t = env.strip()
    if t.startswith("map[") and t.endswith("]"):
        t = t[4:-1]
    keys = list(CONFIG_KEY.finditer(t))
    out = {}
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(t)
        out[m.group(1)] = t[m.end():end].strip()
    return out


@dataclass
class Load:
    file: str
    line: int
    host: str | None
    time: object
    version: str | None
    stage: int = INFO
    lines: list = field(default_factory=list)
    seen: set = field(default_factory=set)
    # what the log says, by source
    blob: str | None = None
    model_name: str | None = None
    general_name: str | None = None
    architecture: str | None = None
    library: str | None = None
    est: dict | None = None
    est_kind: str | None = None
    sched_parallel: int | None = None
    sched_available: list | None = None
    gpu_memory: dict = field(default_factory=dict)   # id -> (available, overhead, library)
    requested: int | None = None
    model_layers: int | None = None
    cmd: dict | None = None
    requests: list = field(default_factory=list)
    offloaded: tuple | None = None
    offloading: int | None = None
    output_on: str | None = None
    buffers: list = field(default_factory=list)        # (device, kind, bytes)
    summary_dev: dict = field(default_factory=dict)    # (what, device) -> bytes  (new-memory summary)
    total_memory: int | None = None
    n_ctx: int | None = None
    n_seq_max: int | None = None
    n_ctx_seq: int | None = None
    ll_flash: str | None = None
    ll_kv_type: str | None = None
    kv_self: int | None = None
    using_free: list = field(default_factory=list)
    cuda_failed: bool = False
    backends: list = field(default_factory=list)
    fit_devices: list = field(default_factory=list)
    fit_projected: tuple | None = None
    fit_deficit: bool = False
    fit_ok: bool = False
    fit_ctx: int | None = None
    summary: dict | None = None
    # the scheduler's verdict alone ("new model will fit in available VRAM ..."), and the estimate's
    # device: an estimate against system memory (no GPU) does not count GPU layers
    verdict: str | None = None
    verdict_gpus: int | None = None
    verdict_required: int | None = None
    est_time: object = None
    est_library: str | None = None
    eval_library: str | None = None
    server_gpu_less: bool = False
    n_slots: int | None = None
    n_ctx_slot: int | None = None
    allocated: bool = False           # the runner allocated everything (compute buffers, memory summary)
    weights_failed: bool = False      # a failure while allocating or loading the weights
    flash: str | None = None
    kv_type: str | None = None
    outcome: str | None = None
    error: str | None = None

    def touch(self, line: int):
        if not self.lines or self.lines[-1] != line:
            self.lines.append(line)

    def substantive(self) -> bool:
        return self.stage > SCHED or self.outcome is not None or self.summary is not None \
            or bool(self.sched_available) or self.verdict is not None

    def has_results(self) -> bool:
        """The runner reported where something went (a count, buffers, a memory summary, a fit)."""
        return bool(self.offloaded or self.buffers or self.summary_dev or self.fit_devices or self.summary
                    or self.offloading is not None)


@dataclass
class Discovery:
    """What the current server start found: GPU libraries, the runners it carries, no GPU at all."""
    libraries: set = field(default_factory=set)
    runners: list | None = None
    no_gpu: bool = False

    def gpu_less(self) -> bool:
        if self.no_gpu:
            return True
        if self.libraries and self.libraries <= {"cpu"}:
            return True
        return self.runners is not None and bool(self.runners) and all(r.startswith("cpu") for r in self.runners)


@dataclass
class Settled:
    """A load in `Assembler.loads` that no later line can change, kept as its row (None: not
    substantive) in place of its state: a Load holds about 10 KB, its row about 3. The lookups of
    later events read `blob` and `outcome`; the other attributes they read are empty."""
    blob: str
    outcome: str | None
    row: dict | None
    summary = est = cmd = offloaded = None
    requests = buffers = ()


class Assembler:
    """Feed the named events of one file in order; `finish()` returns (loads, gpus) as row dicts.

    With `settle`, a load is kept as its row (`Settled`) once no later line can change it: it is
    not the current load, and a newer load of the same blob exists (the events that reach back to
    an earlier load, `_by_blob`, find the newest). A file of thousands of loads then holds the
    state of one load per model, not of every load. Watch reads `loads` as Loads: it does not settle.
    """

    def __init__(self, file: str, settle: bool = False):
        self.file = file
        self.settle = settle
        self.loads: list[Load | Settled] = []
        self.open: list[int] = []        # with settle: the indices in `loads` of Loads, in order
        self.cur: Load | None = None
        self.version: str | None = None
        self.server_line: int | None = None
        self.config: dict = {}
        self.gpus: list[dict] = []
        self.discovery = Discovery()

    # -- plumbing ---------------------------------------------------------------------------------

    def _new(self, ev: dict, stage: int) -> Load:
        ld = Load(self.file, ev["line"], ev["host"], ev["time"], self.version, stage=stage)
        ld.server_gpu_less = self.discovery.gpu_less()
        if self.settle:
            self._settle()
        self._append(ld)
        self.cur = ld
        return ld

    def _append(self, ld: Load) -> None:
        if self.settle:
            self.open.append(len(self.loads))
        self.loads.append(ld)

    def _settle(self) -> None:
        """Every load that a newer load of the same blob hides from later events, as its row (the
        newest load of a blob is never settled, so the newer ones are among the open)."""
        newer: set = set()
        keep = []
        for i in reversed(self.open):
            ld = self.loads[i]
            if ld.blob is not None and ld.blob in newer and ld is not self.cur:
                self.loads[i] = Settled(ld.blob, ld.outcome, self._row(ld) if ld.substantive() else None)
                continue
            keep.append(i)
            if ld.blob is not None:
                newer.add(ld.blob)
        self.open = keep[::-1]

    def _at(self, ev: dict, stage: int, once: str | None = None) -> Load:
        """The load this event belongs to: the current one if it has not moved past `stage` (and
        has not seen `once` yet), else a new one."""
        cur = self.cur
        if cur is None or cur.stage > stage or (once is not None and once in cur.seen) \
                or (cur.outcome is not None and stage < OUTCOME):
            cur = self._new(ev, stage)
        cur.stage = max(cur.stage, stage)
        if once is not None:
            cur.seen.add(once)
        cur.touch(ev["line"])
        return cur

    def _info(self, ev: dict) -> Load | None:
        """Neutral facts (identity, backends): the current load; a new one when there is none or
        the current one already has its count or buffers (they come after these facts), and
        nothing after a finished load (the server reopens a GGUF vocab-only then)."""
        cur = self.cur
        if cur is not None and cur.outcome is not None:
            return None
        if cur is None or cur.stage > RESULT or cur.offloaded is not None or cur.buffers or cur.summary_dev:
            cur = self._new(ev, INFO)
        cur.touch(ev["line"])
        return cur

    def _early(self, ev: dict, stage: int, once: str | None = None) -> Load:
        """Memory facts the scheduler prints before or, in newer eras, just after the runner
        starts: they join a load that has no results yet."""
        cur = self.cur
        if cur is not None and cur.outcome is None and cur.stage <= RUNNER and (once is None or once not in cur.seen):
            if once is not None:
                cur.seen.add(once)
            cur.stage = max(cur.stage, stage)
            cur.touch(ev["line"])
            return cur
        return self._at(ev, stage, once)

    def _by_blob(self, blob: str | None) -> Load | None:
        if not blob:
            return None
        for ld in reversed(self.loads):
            if ld.blob and (ld.blob.startswith(blob) or blob.startswith(ld.blob)):
                return ld
        return None

    def _outcome(self, ld: Load, outcome: str, error: str | None = None):
        if OUTCOME_RANK.get(outcome, 0) > OUTCOME_RANK.get(ld.outcome, 0):
            ld.outcome = outcome
        if error and not ld.error:
            ld.error = error

    # -- events -----------------------------------------------------------------------------------

    # Events a handler ignores unless one of these keys is among its attributes (and then does
    # nothing else, not even note the line): the reader drops the others before they are converted.
    NEEDS_KEY = {"gguf_kv": ("general.name", "general.architecture")}

    @classmethod
    def handled(cls) -> frozenset:
        """The event names this assembler has a handler for (`on_<event>`)."""
        return frozenset(n[3:] for n in dir(cls) if n.startswith("on_") and callable(getattr(cls, n)))

    def feed(self, ev: dict):
        handler = getattr(self, "on_" + ev["event"], None)
        if handler is not None:
            attrs = {}
            for k, v in ev["attrs"] or ():
                attrs.setdefault(k, v)
            handler(ev, attrs, ev["msg"] or "")

    def on_listening(self, ev, a, msg):
        m = VERSION.search(msg)
        self.version = m.group(1) if m else self.version
        self.server_line = ev["line"]
        self.cur = None
        self.discovery = Discovery()

    def on_server_config(self, ev, a, msg):
        self.config = parse_config(a.get("env", ""))
        self.discovery = Discovery()
        if self.server_line is None or ev["line"] > self.server_line:
            self.server_line = ev["line"]
        self.cur = None

    # discovery: which GPUs (if any) this server start can use
    def on_no_gpu(self, ev, a, msg):
        self.discovery.no_gpu = True

    def on_gpu_unsupported(self, ev, a, msg):
        if msg.startswith("CPU does not have"):  # "... disabling GPU support" / "GPU inference disabled"
            self.discovery.no_gpu = True

    def on_dynamic_libraries(self, ev, a, msg):
        text = a.get("runners") or msg[len("Dynamic LLM libraries"):]
        self.discovery.runners = re.findall(r"[A-Za-z0-9_.]+", text, re.ASCII)

    def on_inference_compute(self, ev, a, msg):
        lib = library_of(a.get("library"))
        if lib:
            self.discovery.libraries.add(lib)
        self.gpus.append({
            "file": self.file, "line": ev["line"], "host": ev["host"], "time": ev["time"],
            "server_line": self.server_line, "origin": "server", "id": a.get("id"),
            "library": library_of(a.get("library")), "variant": a.get("variant"),
            "compute": a.get("compute"), "driver": a.get("driver"),
            "name": a.get("name"), "description": a.get("description"), "pci_id": a.get("pci_id"),
            "type": a.get("type"), "total_bytes": parse_size(a.get("total")),
            "available_bytes": parse_size(a.get("available"))})

    def on_gpu_device(self, ev, a, msg):
        m = DEVICE.search(msg)
        if not m:
            return
        name = m.group(2)
        lib = "rocm" if re.search(r"AMD|Radeon", name) else "cuda"
        ld = self._info(ev)
        if ld is not None:
            ld.library = ld.library or lib
        self.gpus.append({
            "file": self.file, "line": ev["line"], "host": ev["host"], "time": ev["time"],
            "server_line": self.server_line, "origin": "runner", "id": m.group(5) or m.group(1),
            "library": lib, "variant": None, "compute": m.group(3), "driver": None, "name": name,
            "description": None, "pci_id": None, "type": None, "total_bytes": None, "available_bytes": None})

    # scheduler
    def on_system_memory(self, ev, a, msg):
        self._early(ev, SCHED, "system_memory")

    def on_updated_vram(self, ev, a, msg):
        ld = self._at(ev, SCHED)
        avail = parse_size(a.get("available"))
        if avail is not None:
            ld.sched_available = (ld.sched_available or []) + [avail]

    def on_new_model_fits(self, ev, a, msg):
        cur = self.cur
        if cur is not None and cur.stage == ESTIMATE and cur.outcome is None and cur.cmd is None \
                and "new_model_fits" not in cur.seen and self._near(cur.est_time, ev["time"], same_ok=True):
            # v0.1.33 - v0.1.48 print the scheduler's estimate first, then its verdict
            ld = cur
            ld.seen.add("new_model_fits")
            ld.touch(ev["line"])
        else:
            ld = self._at(ev, SCHED, "new_model_fits")
        ld.sched_parallel = _int(a.get("parallel"))
        ld.blob = ld.blob or blob_of(a.get("model"))
        ld.verdict = "cpu" if "system memory" in msg else "gpu"
        ld.verdict_gpus = _int(a.get("gpus")) if "gpus" in a else (1 if "single GPU" in msg else None)
        ld.verdict_required = parse_size(a.get("required"))
        if a.get("available") is not None and ld.sched_available is None:
            v = parse_size(a.get("available"))
            ld.sched_available = [v] if v is not None else None

    def on_cpu_fit(self, ev, a, msg):
        ld = self._early(ev, SCHED)
        ld.verdict = ld.verdict or "cpu"

    def on_evaluating(self, ev, a, msg):
        ld = self._early(ev, SCHED)
        ld.eval_library = library_of(a.get("library"))

    @staticmethod
    def _near(t0, t1, same_ok: bool = False) -> bool:
        """Two lines of one step: a few milliseconds apart, or times unknown. The same time is a
        line pasted twice unless `same_ok` (two different lines in the same millisecond)."""
        if t0 is None or t1 is None:
            return True
        try:
            d = abs((t1 - t0).total_seconds()) * 1e6
        except (TypeError, AttributeError):
            return True
        return (same_ok or d > 0) and d <= NEAR_US

    def on_too_large_for_system(self, ev, a, msg):
        ld = self._at(ev, ESTIMATE)
        self._outcome(ld, "refused", msg)

    def on_ctx_too_large(self, ev, a, msg):
        self._at(ev, SCHED)

    def on_parallel_forced(self, ev, a, msg):
        self._at(ev, SCHED)

    def on_evicting(self, ev, a, msg):
        if "runner.model" in a or "modelPath" in a:
            self.on_vram_not_recovered(ev, a, msg)
        else:
            self._at(ev, SCHED)

    def on_vram_not_recovered(self, ev, a, msg):
        """About a runner that is going away: mark its load evicted, or read the summary as one."""
        blob = blob_of(a.get("runner.model") or a.get("model") or a.get("modelPath"))
        ld = self._by_blob(blob) or self._bare_start(blob, a)
        if ld is None and "runner.size" in a:
            ld = self._summary_load(ev, a, blob)
        if ld is not None:
            ld.touch(ev["line"])
            if ld.outcome in (None, "loaded"):
                ld.outcome = "evicted"

    def on_runner_summary(self, ev, a, msg):
        blob = blob_of(a.get("runner.model") or a.get("modelPath") or a.get("model"))
        ld = self._by_blob(blob) or self._bare_start(blob, a)
        if ld is None:
            if "runner.size" not in a:
                return
            ld = self._summary_load(ev, a, blob)
            ld.outcome = ld.outcome or "loaded"
        ld.touch(ev["line"])
        ld.model_name = ld.model_name or a.get("runner.name")

    def _bare_start(self, blob, a) -> Load | None:
        """A load seen only by its `runner started` line takes the next summary as its own."""
        if "runner.size" not in a:
            return None
        cur = next((ld for ld in reversed(self.loads) if ld.outcome == "loaded"), None)
        if cur is None or cur.blob or cur.summary or cur.est or cur.cmd or cur.requests \
                or cur.offloaded or cur.buffers:
            return None
        cur.blob = blob
        cur.summary = self._summary(a)
        return cur

    @staticmethod
    def _summary(a) -> dict:
        return {"size": parse_size(a.get("runner.size")), "vram": parse_size(a.get("runner.vram")),
                "parallel": _int(a.get("runner.parallel")), "num_ctx": _int(a.get("runner.num_ctx")),
                "library": library_of(a.get("runner.inference"))}

    def _summary_load(self, ev, a, blob) -> Load:
        ld = Load(self.file, ev["line"], ev["host"], ev["time"], self.version, stage=OUTCOME)
        ld.blob = blob
        ld.model_name = a.get("runner.name")
        ld.summary = self._summary(a)
        self._append(ld)
        return ld

    # estimates
    def on_offload(self, ev, a, msg):
        cur = self.cur
        if cur is not None and "estimate" in cur.seen and cur.stage == ESTIMATE and cur.outcome is None \
                and cur.cmd is None and self._near(cur.est_time, ev["time"]):
            # v0.1.33 - v0.1.44 print the estimate for the scheduler's check and again at the
            # server start (and once per GPU tried): one load, the last estimate is the one used
            ld = cur
            ld.touch(ev["line"])
        else:
            ld = self._at(ev, ESTIMATE, "estimate")
        ld.est = a
        ld.est_time = ev["time"]
        ld.est_kind = "legacy"
        if "reallayers" in a:
            ld.est_kind = "v0.1.32"       # reallayers = layers used, layers = estimate
        elif "layers.estimate" in a:
            ld.est_kind = "v0.1.33"       # layers.real = num_gpu asked, layers.estimate = plan
        elif "layers.real" in a and "layers.model" not in a:
            ld.est_kind = "v0.1.38"       # layers.requested = num_gpu asked, layers.real = plan
        lib = a.get("library") or (msg[len("offload to "):] if msg.startswith("offload to ") else None)
        ld.library = library_of(lib) if lib not in ("gpu", "device") else None
        ld.est_library = ld.library
        ld.requested = _int(a.get("layers.requested", a.get("layers.real") if ld.est_kind == "v0.1.33" else None))

    def on_loading_model(self, ev, a, msg):
        ld = self._at(ev, ESTIMATE, "loading_model")
        ld.model_layers = _int(a.get("model layers"))
        ld.requested = _int(a.get("requested"))

    def on_gpu_memory(self, ev, a, msg):
        ld = self._early(ev, ESTIMATE)
        key = a.get("id") or str(len(ld.gpu_memory))
        ld.gpu_memory[key] = (parse_size(a.get("available")), parse_size(a.get("overhead")),
                              library_of(a.get("library")))

    def on_gpu_too_little(self, ev, a, msg):
        self._at(ev, ESTIMATE)

    def on_layout_backoff(self, ev, a, msg):
        self._at(ev, REQUEST)

    def on_layout_failed(self, ev, a, msg):
        ld = self._at(ev, OUTCOME)
        self._outcome(ld, "refused", a.get("error") or msg)

    # runner start
    def on_using_llama_server(self, ev, a, msg):
        ld = self._at(ev, RUNNER, "using_llama_server")
        ld.blob = ld.blob or blob_of(a.get("model"))

    def on_starting_runner(self, ev, a, msg):
        cmd = a.get("cmd")
        if cmd is None or ("--model" not in cmd and "runner" in cmd and "-m " not in cmd):
            return  # a GPU-discovery runner (v0.12.4+), not a model load
        parsed = parse_cmd(cmd)
        # v0.11.5+ starts the runner first and sends it the layout later (`loading model`,
        # `load request`): a command without a context begins the load instead of following it
        early = "--ctx-size" not in parsed and "-c" not in parsed and "llama-server" not in cmd
        ld = self._at(ev, SCHED if early else RUNNER, "starting_runner")
        ld.cmd = parsed
        ld.blob = ld.blob or blob_of(ld.cmd.get("--model") or cmd)

    def on_load_request(self, ev, a, msg):
        req = parse_request(a.get("request", ""))
        op = (req.get("Operation") or "").lower()
        cur = self.cur
        # a fresh fit after an alloc or commit starts the next load
        fresh = cur is not None and op == "fit" and \
            any(r.get("Operation", "").lower() in ("alloc", "commit") for r in cur.requests)
        ld = self._new(ev, REQUEST) if fresh else self._at(ev, REQUEST)
        ld.touch(ev["line"])
        ld.requests.append(req)

    # runner results
    def on_offloaded(self, ev, a, msg):
        m = OFFLOADED.search(msg)
        if m:
            ld = self._at(ev, RESULT, "offloaded")
            ld.offloaded = (int(m.group(1)), int(m.group(2)))

    def on_offloading(self, ev, a, msg):
        # once per load each: excerpts filtered by `grep GPU` keep only these lines of each load
        ld = self._at(ev, RESULT, "offloading_output" if OUTPUT_LAYER.search(msg) else "offloading_repeating")
        m = OFFLOADING.search(msg)
        if m:
            ld.offloading = int(m.group(1))
        m = OUTPUT_LAYER.search(msg)
        if m:
            ld.output_on = m.group(1)

    def on_buffer(self, ev, a, msg):
        m = BUFFER.search(msg)
        if not m:
            return
        ld = self._at(ev, RESULT)
        kind = (m.group(2) or "model").strip()
        ld.buffers.append((m.group(1), kind, mib(m.group(3))))
        if kind == "compute":
            ld.allocated = True  # llama.cpp allocates the compute buffers last

    def _summary_line(self, ev, a, what: str):
        ld = self._at(ev, RESULT)
        dev = a.get("device") or a.get("buffer") or a.get("backend") or a.get("buffer_type")
        size = parse_size(a.get("size"))
        if dev is not None and size is not None:
            ld.summary_dev[(what, dev)] = ld.summary_dev.get((what, dev), 0) + size

    def on_model_weights(self, ev, a, msg):
        self._summary_line(ev, a, "weights")

    def on_kv_cache(self, ev, a, msg):
        self._summary_line(ev, a, "kv")

    def on_compute_graph(self, ev, a, msg):
        if "size" in a:
            self._summary_line(ev, a, "graph")
            self.cur.allocated = True

    def on_total_memory(self, ev, a, msg):
        ld = self._at(ev, RESULT, "total_memory")
        ld.total_memory = parse_size(a.get("size"))
        ld.allocated = True

    def on_slots(self, ev, a, msg):
        v = _int(a.get("n_slots"))
        if v is not None:
            self._at(ev, RESULT, "slots").n_slots = v

    def on_slot(self, ev, a, msg):
        v = _int(a.get("n_ctx_slot"))
        if v is not None:
            ld = self._at(ev, RESULT)
            ld.n_ctx_slot = ld.n_ctx_slot or v

    def on_pinned_fallback(self, ev, a, msg):
        if self.cur is not None and self.cur.outcome is None:
            self.cur.touch(ev["line"])

    def on_model_info(self, ev, a, msg):
        if "architecture" not in a:
            return
        ld = self._info(ev)
        if ld is None:
            return
        ld.architecture = ld.architecture or a.get("architecture")
        ld.general_name = ld.general_name or (a.get("name") or None)

    def on_model_meta(self, ev, a, msg):
        cur = self.cur
        if cur is not None and cur.outcome is not None:
            return  # the server reopening the GGUF vocab-only after a load (v0.3.13-v0.5.13)
        ld = self._info(ev)  # a loader header after a load's count or buffers opens the next load
        ld.blob = ld.blob or blob_of(msg)

    def on_model_param(self, ev, a, msg):
        ld = self._info(ev)
        if ld is None:
            return
        for k, v in a.items():
            if k == "general.name":
                ld.general_name = ld.general_name or v
            elif k == "arch":
                ld.architecture = ld.architecture or v

    def on_gguf_kv(self, ev, a, msg):
        if "general.name" in a or "general.architecture" in a:
            ld = self._info(ev)
            if ld is None:
                return
            ld.general_name = ld.general_name or a.get("general.name")
            ld.architecture = ld.architecture or a.get("general.architecture")

    def on_n_ctx(self, ev, a, msg):
        v = _int(a.get("n_ctx"))
        if v is not None:
            ld = self._at(ev, RESULT, "n_ctx")
            ld.n_ctx = v

    def on_n_seq_max(self, ev, a, msg):
        v = _int(a.get("n_seq_max"))
        if v is not None:
            self._at(ev, RESULT).n_seq_max = v

    def on_n_ctx_seq(self, ev, a, msg):
        v = _int(a.get("n_ctx_per_seq", a.get("n_ctx_seq")))
        if v is not None:
            self._at(ev, RESULT).n_ctx_seq = v

    def on_flash_attn(self, ev, a, msg):
        v = (a.get("flash_attn") or "").strip()
        if v:
            self._at(ev, RESULT).ll_flash = {"0": "off", "1": "on", "disabled": "off", "enabled": "on"}.get(v, v)

    def on_kv_init(self, ev, a, msg):
        ld = self._at(ev, RESULT)
        m = KV_INIT_TYPE.search(msg)
        if m:
            ld.ll_kv_type = m.group(1)

    def on_kv_self(self, ev, a, msg):
        m = KV_SELF.search(msg)
        if m:
            ld = self._at(ev, RESULT)
            ld.kv_self = mib(m.group(1))
            ld.ll_kv_type = ld.ll_kv_type or m.group(2)

    def on_kv_size(self, ev, a, msg):
        m = KV_SIZE.search(msg)
        if m:
            ld = self._at(ev, RESULT)
            ld.kv_self = mib(m.group(1))
            ld.ll_kv_type = ld.ll_kv_type or m.group(3)

    def on_using_device(self, ev, a, msg):
        m = USING_DEVICE.search(msg)
        if m:
            ld = self._at(ev, RESULT)
            ld.using_free.append((m.group(1), int(m.group(4)) << 20))

    def on_cuda_init_failed(self, ev, a, msg):
        self._at(ev, RESULT).cuda_failed = True

    def on_runner_system(self, ev, a, msg):
        """The runner's `msg=system` line (its CPU features and GPU backends): evidence for `why`."""
        self._info(ev)

    def on_backend_loaded(self, ev, a, msg):
        m = re.match(r"loaded (\w+) backend", msg, re.ASCII)
        ld = self._info(ev) if m else None
        if ld is not None:
            ld.backends.append(m.group(1))

    def on_fit_device(self, ev, a, msg):
        m = FIT_DEVICE.search(msg)
        if m:
            ld = self._at(ev, RESULT)
            ld.fit_devices.append((m.group(1), int(m.group(2)), _int(m.group(3)) or 0,
                                   int(m.group(4)) << 20, int(m.group(5)) << 20))

    def on_fit_projected(self, ev, a, msg):
        m = FIT_PROJECTED.search(msg)
        if m:
            ld = self._at(ev, RESULT)
            ld.fit_projected = (int(m.group(1)) << 20, int(m.group(2)) << 20)

    def on_fit_deficit(self, ev, a, msg):
        self._at(ev, RESULT).fit_deficit = True

    def on_memory_breakdown(self, ev, a, msg):
        """llama.cpp's per-device memory table (the fit's measurement): evidence for `why`. Also
        printed when the server exits: then it belongs to no load."""
        self._info(ev)

    def on_fit_ok(self, ev, a, msg):
        self._at(ev, RESULT).fit_ok = True

    def on_fit_ctx(self, ev, a, msg):
        m = FIT_CTX.search(msg)
        if m:
            self._at(ev, RESULT).fit_ctx = int(m.group(1))

    def on_flash_attention(self, ev, a, msg):
        ld = self.cur if self.cur is not None and self.cur.stage <= RUNNER else None
        if ld is None:
            return
        ld.touch(ev["line"])
        if msg == "enabling flash attention":
            ld.flash = "on"
        elif msg.startswith("flash attention enabled but not supported"):
            ld.flash = "off"
        elif msg == "quantized kv cache requested but flash attention disabled":
            ld.kv_type = "f16"

    # outcomes
    def on_runner_started(self, ev, a, msg):
        ld = self._at(ev, OUTCOME)
        self._outcome(ld, "loaded")

    def _failure(self, ev, text: str):
        cur = self.cur
        if cur is not None and cur.outcome == "loaded":
            cur = None
        ld = self._at(ev, OUTCOME) if cur is not None else self._new(ev, OUTCOME)
        ld.touch(ev["line"])
        ld.weights_failed |= WEIGHTS_FAILED.search(text) is not None
        if OOM.search(PINNED.sub("", text)):
            self._outcome(ld, "oom", text)
        elif "timed out" in text:
            self._outcome(ld, "timeout", text)
        else:
            self._outcome(ld, "crashed", text)
        ld.blob = ld.blob or blob_of(text)

    def on_load_failed(self, ev, a, msg):
        self._failure(ev, a.get("error") or msg)
        ld = self.cur
        if ld is not None:
            ld.blob = ld.blob or blob_of(a.get("model"))

    def on_runner_terminated(self, ev, a, msg):
        err = a.get("error") or a.get("string") or msg
        cur = self.cur
        if cur is None:
            return
        if cur.outcome in ("loaded", "evicted"):
            # a runner that ended after it had loaded: killed by a signal it crashed (an OOM
            # killer, a segfault), unless the server was stopping it; an exit is no load failure
            if err.startswith("signal:") and "stopping" not in cur.seen:
                cur.touch(ev["line"])
                self._outcome(cur, "crashed", err)
            return
        self._failure(ev, err)

    def on_runner_stopping(self, ev, a, msg):
        cur = self.cur
        if cur is not None:
            cur.seen.add("stopping")
            cur.touch(ev["line"])

    def on_oom(self, ev, a, msg):
        cur = self.cur
        if cur is not None and cur.outcome in ("loaded", "evicted"):
            # out of memory while a loaded runner serves requests (a CUDA error in a cuBLAS call):
            # no new load; the runner's end, if it is killed by the abort, says crashed
            cur.touch(ev["line"])
            return
        if cur is None:
            self._new(ev, OUTCOME)
        self._failure(ev, msg)

    def on_panic(self, ev, a, msg):
        if self.cur is not None and self.cur.outcome is None and self.cur.stage >= RUNNER:
            self._failure(ev, msg)

    def on_client_closed(self, ev, a, msg):
        # the client gave up on a load in progress: not on a runner that already loaded
        if self.cur is not None and self.cur.outcome not in ("loaded", "evicted"):
            self.cur.touch(ev["line"])
            self._outcome(self.cur, "aborted", msg)

    # -- finish -----------------------------------------------------------------------------------

    def finish(self) -> tuple[list[dict], list[dict]]:
        rows = [ld.row if isinstance(ld, Settled) else self._row(ld) for ld in self.loads
                if (ld.row is not None if isinstance(ld, Settled) else ld.substantive())]
        return rows, self.gpus

    def _row(self, ld: Load) -> dict:
        est = ld.est or {}
        cmd = ld.cmd or {}
        commit = next((r for r in reversed(ld.requests) if r.get("Operation", "").lower() == "commit"), None)
        last_req = commit or (ld.requests[-1] if ld.requests else None)
        sm = ld.summary or {}

        # context and parallel
        parallel = (_int(cmd.get("--parallel")) or _int(cmd.get("-np")) or (last_req and _int(last_req.get("Parallel")))
                    or ld.n_seq_max or ld.n_slots or ld.sched_parallel or sm.get("parallel"))
        ctx = (_int(cmd.get("--ctx-size")) or _int(cmd.get("-c")) or (last_req and _int(last_req.get("KvSize")))
               or ld.fit_ctx or ld.n_ctx)
        if ctx is None and sm.get("num_ctx"):
            per_request = ld.version is not None and _version_at_least(ld.version, (0, 11, 5))
            ctx = sm["num_ctx"] * (sm.get("parallel") or 1) if per_request else sm["num_ctx"]
        num_ctx = ctx // parallel if ctx and parallel else (ld.n_ctx_seq or ld.n_ctx_slot or None)

        # layers
        total = _int(est.get("layers.model")) or ld.model_layers or (ld.offloaded[1] if ld.offloaded else None)
        estimated = None  # the estimate's layers on GPU
        if ld.est_kind == "legacy":
            estimated = _int(est.get("layers.offload"))
        elif ld.est_kind == "v0.1.32":
            estimated = _int(est.get("reallayers"))
        elif ld.est_kind == "v0.1.33":
            estimated = _int(est.get("layers.estimate"))
        elif ld.est_kind == "v0.1.38":
            estimated = _int(est.get("layers.real"))
        told = _int(cmd.get("--n-gpu-layers")) if "--n-gpu-layers" in cmd else _int(cmd.get("-ngl"))
        fit_layers = sum(d[1] for d in ld.fit_devices) if ld.fit_devices else None
        # the plan: what the runner was told, else the layout requested, else llama.cpp's fit,
        # else the estimate (a forced num_gpu is read as told, even above the layer total)
        planned = estimated
        if told is not None:
            planned = told
        elif last_req is not None and "gpu_layers" in last_req:
            planned = last_req["gpu_layers"]
        elif fit_layers is not None:
            planned = fit_layers

        placement, basis, offloaded = self._placement(ld, total, estimated, told, last_req, commit, fit_layers)
        forced = told is not None and estimated is not None and told > estimated
        if ld.outcome in FAILED and not ld.has_results() and \
                (ld.outcome != "oom" or ld.weights_failed or forced):
            # the runner failed before it placed anything (the weights did not fit, a num_gpu forced
            # beyond the plan, a crash, a timeout, a refusal): the plan is not where the model went.
            # An OOM of the KV cache or compute graph comes after the weights were placed as planned.
            placement, basis, offloaded = None, None, None
        outcome = ld.outcome
        if outcome is None and ld.allocated:
            outcome = "loaded"  # the runner allocated everything and nothing failed after it

        # memory
        available = None
        per_gpu = None
        if "memory.available" in est:
            per_gpu = parse_size_list(est["memory.available"])
        elif "available" in est:
            per_gpu = parse_size_list(est["available"])
        elif ld.gpu_memory:
            per_gpu = [v[0] for v in ld.gpu_memory.values() if v[0] is not None]
        elif ld.sched_available:
            per_gpu = ld.sched_available
        elif ld.fit_projected:
            per_gpu = [ld.fit_projected[1]]
        elif ld.using_free:
            per_gpu = [b for _, b in ld.using_free]
        if per_gpu:
            available = sum(per_gpu)
        kv = parse_size(est.get("memory.required.kv", est.get("kv")))
        if kv is None:
            kvs = [v for (w, _), v in ld.summary_dev.items() if w == "kv"]
            kv = sum(kvs) if kvs else None
        if kv is None:
            kvb = [b for d, k, b in ld.buffers if k == "KV"]
            kv = sum(kvb) if kvb else ld.kv_self
        weights = self._weights(ld, est, kv)
        graph_full = parse_size(est.get("memory.graph.full", est.get("fulloffload")))
        graph_partial = parse_size(est.get("memory.graph.partial", est.get("partialoffload")))
        graph = None
        if graph_full is not None or graph_partial is not None:
            graph = graph_full if placement == "gpu" and graph_full is not None else (graph_partial or graph_full)
        else:
            gs = [v for (w, d), v in ld.summary_dev.items() if w == "graph" and is_gpu_device(d)]
            gb = [b for d, k, b in ld.buffers if k == "compute" and is_gpu_device(d)]
            graph = sum(gs) if gs else (sum(gb) if gb else None)
        projector = None
        if "projector.weights" in est:
            projector = (parse_size(est.get("projector.weights")) or 0) + (parse_size(est.get("projector.graph")) or 0)
        overhead = parse_size(est.get("memory.gpu_overhead"))
        if overhead is None and ld.gpu_memory:
            ovs = [v[1] for v in ld.gpu_memory.values() if v[1] is not None]
            overhead = max(ovs) if ovs else None
        required_full = parse_size(est.get("memory.required.full", est.get("required"))) or ld.total_memory
        required_partial = parse_size(est.get("memory.required.partial", est.get("used")))

        # library, runner, attention
        library = ld.library
        if library is None:
            libs = [v[2] for v in ld.gpu_memory.values() if v[2]]
            library = libs[0] if libs else None
        if library is None:
            devs = [d for d, _, _ in ld.buffers] + [d for (_, d) in ld.summary_dev] + [d for d, *_ in ld.fit_devices]
            for d in devs:
                if device_library(d):
                    library = device_library(d)
                    break
        if library is None and cmd.get("variant"):
            library = library_of(cmd["variant"])
        if library is None and sm.get("library"):
            library = sm["library"]
        if library is None and (placement == "cpu" or basis == "discovery"):
            library = "cpu"
        runner = None
        if ld.cmd:
            c = ld.cmd["cmd"]
            runner = ("llama-server" if "llama-server" in c else "ollama" if "--ollama-engine" in c
                      else cmd.get("variant") or "llama")
        flash = ld.flash
        fa = cmd.get("--flash-attn")
        if fa is not None:
            flash = "on" if fa is True else {"on": "on", "off": "off", "auto": "auto"}.get(str(fa), flash)
        elif last_req is not None and last_req.get("FlashAttention"):
            flash = {"true": "on", "false": "off", "Enabled": "on", "Disabled": "off", "Auto": "auto"}.get(
                last_req["FlashAttention"], flash)
        if ld.ll_flash and flash in (None, "auto"):
            flash = ld.ll_flash if ld.ll_flash in ("on", "off") else flash
        kv_type = (cmd.get("--kv-cache-type") or cmd.get("--cache-type-k")
                   or (last_req.get("KvCacheType") if last_req else None) or ld.ll_kv_type or ld.kv_type)
        if kv_type is True:
            kv_type = None

        gpu_count = len(per_gpu) if per_gpu and (ld.est or ld.gpu_memory) else ld.verdict_gpus
        if required_full is None and ld.verdict_required is not None:
            required_full = ld.verdict_required
        return {
            "file": ld.file, "line": ld.line, "end_line": ld.lines[-1] if ld.lines else ld.line,
            "host": ld.host, "time": ld.time, "ollama_version": ld.version, "model_blob": ld.blob,
            "model_name": ld.model_name, "general_name": ld.general_name, "architecture": ld.architecture,
            "ctx_size": ctx, "parallel": parallel, "num_ctx": num_ctx, "layers_total": total,
            "layers_offloaded": offloaded, "layers_planned": planned,
            "layers_requested": ld.requested, "placement": placement, "placement_basis": basis,
            "library": library, "gpu_count": gpu_count, "vram_available_bytes": available,
            "vram_available_per_gpu": per_gpu, "required_full_bytes": required_full,
            "required_partial_bytes": required_partial, "kv_bytes": kv, "weights_bytes": weights,
            "graph_bytes": graph, "graph_full_bytes": graph_full, "graph_partial_bytes": graph_partial,
            "projector_bytes": projector, "gpu_overhead_bytes": overhead, "kv_cache_type": kv_type or None,
            "flash_attention": flash, "runner": runner, "outcome": outcome, "error": ld.error,
            "evidence_lines": list(ld.lines),
        }

    def _weights(self, ld: Load, est: dict, kv: int | None) -> int | None:
        if "memory.weights.total" in est:
            total = parse_size(est["memory.weights.total"])
            if total is None:
                return None
            # v0.1.45-v0.6.0 fold the KV cache into weights.total (research appendix C)
            old = ld.est_kind == "v0.1.33" or "projector.weights" in list(est)[:1] or \
                ("memory.gpu_overhead" not in est) or (ld.version and not _version_at_least(ld.version, (0, 6, 1)))
            if ld.version and _version_at_least(ld.version, (0, 6, 1)):
                old = False
            return total - kv if old and kv is not None and total > kv else total
        ws = [v for (w, _), v in ld.summary_dev.items() if w == "weights"]
        if ws:
            return sum(ws)
        mb = [b for _, k, b in ld.buffers if k == "model"]
        return sum(mb) if mb else None

    def _placement(self, ld: Load, total, estimated, told, last_req, commit, fit_layers):
        """(placement, basis, layers_offloaded): the runner's own report over the plan, and only
        where the count and the buffers agree."""
        model = [(d, b) for d, k, b in ld.buffers if k == "model"]
        all_buf = sum(b for _, b in model)
        gpu_model = [(d, b) for d, b in model if is_gpu_device(d)]
        gpu_buf = sum(b for _, b in gpu_model)
        model_cpu = bool(model) and gpu_buf <= all_buf // 100   # every weight (but a trace) in host memory
        kv = [d for d, k, _ in ld.buffers if k == "KV"]
        kv_gpu = any(is_gpu_device(d) for d in kv)
        kv_cpu = any(not is_gpu_device(d) for d in kv)
        weights_dev = {d: v for (w, d), v in ld.summary_dev.items() if w == "weights"}
        any_dev = {d for (_, d) in ld.summary_dev}
        no_backend = ld.cuda_failed or ld.server_gpu_less  # the runner had no GPU to use
        # 1. the runner's own count, where the buffers do not contradict it
        if ld.offloaded is not None:
            a, b = ld.offloaded
            if a == 0:
                return "cpu", "runner", a
            if model_cpu or (weights_dev and not any(is_gpu_device(d) for d in weights_dev)):
                # every weight on the CPU: a GPU buffer of a trace (an unsupported weight type) or a
                # backend that failed explain it, and the buffers win; else the two disagree
                if gpu_model or no_backend:
                    return "cpu", "buffers", a
                return None, None, a
            if no_backend and not gpu_buf and not kv_gpu:
                return "cpu", "buffers", a
            if ld.fit_devices and any(d[2] for d in ld.fit_devices):
                return "partial", "fit", fit_layers
            return ("gpu" if a >= b else "partial"), "runner", a
        # 2. where the buffers went, without a count
        if model:
            if model_cpu:
                return (None, None, None) if kv_gpu else ("cpu", "buffers", 0)
            if kv_gpu:
                return ("partial" if kv_cpu else "gpu"), "buffers", None
        elif kv:
            if kv_gpu:
                return ("partial" if kv_cpu else "gpu"), "buffers", None
            gpu_named = any(GPU_DEVICE.match(d) for d, _, _ in ld.buffers) or ld.using_free \
                or any(not b.lower().startswith("cpu") for b in ld.backends) or ld.library not in (None, "cpu")
            if not gpu_named:
                return "cpu", "buffers", 0  # only CPU buffers and no GPU backend
        if any_dev:
            if not any(is_gpu_device(d) for d in any_dev):
                return "cpu", "buffers", None
            kv_devs = [d for (w, d) in ld.summary_dev if w == "kv"]
            if kv_devs and any(not is_gpu_device(d) for d in kv_devs):
                return "partial", "buffers", commit.get("gpu_layers") if commit else None
            if kv_devs:
                n = commit.get("gpu_layers") if commit else None
                if total and n is not None and n < total:
                    return "partial", "buffers", n
                return "gpu", "buffers", n
        # 3. llama-server's fit
        if ld.fit_devices:
            if any(d[2] for d in ld.fit_devices):
                return "partial", "fit", fit_layers
            if total:
                return ("gpu" if fit_layers >= total else "partial"), "fit", fit_layers
        if ld.fit_deficit:
            return "partial", "fit", fit_layers
        # 4. the layout the runner was given (commit); a fit or alloc request alone is a trial
        if commit is not None and "gpu_layers" in commit:
            n = commit["gpu_layers"]
            if n == 0:
                return "cpu", "commit", 0
            if total:
                return ("gpu" if n >= total else "partial"), "commit", n
            idx = commit.get("gpu_indices") or []
            if idx and min(idx) == 0 and len(set(idx)) == max(idx) + 1:
                return "gpu", "commit", n
            return "partial" if idx else None, "commit", n
        if commit is None and ld.requests:
            return None, None, None
        # 5. the runner command: a CPU runner, no GPU at all, or the layers it was told to offload
        variant = (ld.cmd or {}).get("variant") or ""
        if ld.cmd is not None and variant.startswith("cpu"):
            return "cpu", "runner", 0
        if ld.est_library == "cpu" or ld.eval_library == "cpu" or (ld.server_gpu_less and ld.est_library is None):
            # the estimate ran against system memory: its layer count is not GPU layers
            if ld.est is not None or told is not None or ld.verdict is not None:
                return "cpu", "discovery", 0
        if told is not None:
            n = told if not total else min(told, total)
            if told == 0:
                return "cpu", "runner", 0
            if total:
                return ("gpu" if told >= total else "partial"), "runner", n
            full = self._plan_is_full(ld)
            if full is not None:
                return ("gpu" if full else "partial"), "runner", n
            return None, "runner", n
        # 6. the estimate
        if estimated is not None:
            if estimated == 0:
                return "cpu", "plan", 0
            if total:
                return ("gpu" if estimated >= total else "partial"), "plan", estimated
            full = self._plan_is_full(ld)
            if full is not None:
                return ("gpu" if full else "partial"), "plan", estimated
            return None, "plan", estimated
        # 7. the scheduler's verdict alone
        if ld.verdict == "cpu":
            return "cpu", "scheduler", 0
        if ld.verdict == "gpu":
            return "gpu", "scheduler", None
        if ld.fit_ok:
            return "gpu", "fit", None
        # 8. a summary of a runner already running
        if ld.summary and ld.summary.get("size") and ld.summary.get("vram") is not None:
            size, vram = ld.summary["size"], ld.summary["vram"]
            return ("gpu" if vram >= size else "cpu" if vram == 0 else "partial"), "summary", None
        return None, None, None

    @staticmethod
    def _plan_is_full(ld: Load):
        """Without a layer total, an estimate still says whether everything fitted."""
        est = ld.est or {}
        full = parse_size(est.get("memory.required.full", est.get("required")))
        avail = parse_size_list(est.get("memory.available", est.get("available")))
        if full is None or not avail:
            return None
        return full <= sum(avail)


def _version_at_least(version: str, want: tuple) -> bool:
    nums = re.findall(r"\d+", version.split("-")[0])
    try:
        return tuple(int(x) for x in nums[:3]) >= want
    except ValueError:
        return False
