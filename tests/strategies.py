"""Hypothesis strategies: realistic Ollama log text from ~40 line templates (every grammar), each in
one of the transports the parser unwraps, concatenated at random, then optionally damaged.

Used by test_differential.py (C engine against the reference) and test_chunking.py (the reference
against itself under any chunking).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

BASE = datetime(2025, 4, 27, 10, 0, 0)
ZONES = [("+02:00", 120), ("Z", 0), ("-07:00", -420), ("+05:30", 330)]
BLOB = "sha256-6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93"
MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "fr": ["janv.", "f\u00e9vr.", "mars", "avril", "mai", "juin", "juil.", "ao\u00fbt", "sept.", "oct.", "nov.",
           "d\u00e9c."],
    "ca": ["de gen.", "de febr.", "de mar\u00e7", "d\u2019abr.", "de maig", "de juny", "de jul.", "d\u2019ag.",
           "de set.", "d\u2019oct.", "de nov.", "de des."],
    "zh": [f"{m}\u6708" for m in range(1, 13)],
    "ru": ["\u044f\u043d\u0432", "\u0444\u0435\u0432", "\u043c\u0430\u0440", "\u0430\u043f\u0440",
           "\u043c\u0430\u044f", "\u0438\u044e\u043d", "\u0438\u044e\u043b", "\u0430\u0432\u0433",
           "\u0441\u0435\u043d", "\u043e\u043a\u0442", "\u043d\u043e\u044f", "\u0434\u0435\u043a"],
}


class T:
    """The clock of one generated line: local wall time and the zone the server prints."""

    def __init__(self, sec: int, zone: tuple[str, int]):
        self.local = BASE + timedelta(seconds=sec, milliseconds=sec * 37 % 1000)
        self.zone, self.zmin = zone
        self.utc = self.local - timedelta(minutes=self.zmin)

    @property
    def slog(self) -> str:
        return self.local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.local.microsecond // 1000:03d}{self.zone}"

    @property
    def gin(self) -> str:
        return self.local.strftime("%Y/%m/%d - %H:%M:%S")

    @property
    def golog(self) -> str:
        return self.local.strftime("%Y/%m/%d %H:%M:%S")

    @property
    def iso_utc(self) -> str:
        return self.utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.utc.microsecond:06d}000Z"

    def journal(self, locale: str) -> str:
        return f"{MONTHS[locale][self.local.month - 1]} {self.local.day:02d} {self.local.strftime('%H:%M:%S')}"

    @property
    def unix(self) -> int:
        return int(self.utc.replace(tzinfo=timezone.utc).timestamp())


# Each template: clock -> list of physical lines (payloads, before any transport prefix).
TEMPLATES = [
    lambda t: [f'time={t.slog} level=INFO source=routes.go:1238 msg="Listening on 127.0.0.1:11434 (version 0.5.7)"'],
    lambda t: [f'time={t.slog} level=INFO source=types.go:131 msg="inference compute" id=GPU-6f3c2a1e-1111 '
               f'library=cuda variant=v12 compute=8.9 driver=12.4 name="NVIDIA GeForce RTX 4090" total="23.6 GiB" '
               f'available="23.3 GiB"'],
    lambda t: [f'time={t.slog} level=INFO source=memory.go:356 msg="offload to cuda" layers.requested=-1 '
               f'layers.model=65 layers.offload=0 layers.split="" memory.available="[23.3 GiB]" '
               f'memory.gpu_overhead="0 B" memory.required.full="85.7 GiB" memory.required.partial="0 B" '
               f'memory.required.kv="64.0 GiB" memory.weights.total="82.4 GiB" memory.graph.full="26.0 GiB"'],
    lambda t: [f'time={t.slog} level=INFO source=server.go:376 msg="starting llama server" '
               f'cmd="/usr/lib/ollama/runners/cuda_v12_avx/ollama_llama_server runner --model '
               f'/root/.ollama/models/blobs/{BLOB} --ctx-size 262144 --n-gpu-layers 0 --parallel 2 --port 40000"'],
    lambda t: [f'time={t.slog} level=INFO source=ggml.go:136 msg="" architecture=qwen2 file_type=Q4_K_M '
               f'name="DeepSeek R1 Distill Qwen 32B" "model layers"=65 num_key_values=26'],
    lambda t: [f'time={t.slog} level=INFO source=types.go:131 msg="inference compute" id=0 library=cpu compute="" '
               f'name=cpu description=cpu libdirs=ollama driver="" pci_id="" type="" total="62.7 GiB"'],
    lambda t: [f'time={t.slog} level=DEBUG source=server.go:620 msg="completion request" '
               f'prompt="Why is the sky\\n\\t\\"blue\\"? caf\\u00e9 \\xc3\\xa9" images=0'],
    lambda t: [f'time={t.slog} level=DEBUG source=sched.go:575 msg="evaluating already loaded" '
               f'model=/root/.ollama/models/blobs/{BLOB} runner.name=registry.ollama.ai/library/deepseek-r1:32b '
               f'runner.inference=cuda runner.devices=1 runner.size="21.5 GiB" runner.vram="21.5 GiB" '
               f'runner.parallel=2 runner.pid=4242 runner.num_ctx=8192'],
    lambda t: [f'time={t.slog} level=INFO source=runner.go:1147 msg=load request="{{Operation:commit '
               f'LoraPath:[] Parallel:1 BatchSize:512 FlashAttention:false KvSize:8192 KvCacheType: '
               f'NumThreads:16 GPULayers:49[ID:GPU-6f3c Layers:49(0..48)] MultiUserCache:false '
               f'ProjectorPath: MainGPU:0 UseMmap:true}}"'],
    lambda t: [f'time={t.slog} level=INFO source=server.go:1 msg="model weights" device=CUDA0 size="18.5 GiB" '
               f'trailin'],
    lambda t: [f'time={t.slog} level=INFO source=server.go:1 msg=offload memory.required.full="79.3 Gi',
               'B" memory.required.partial="0 B"'],
    lambda t: [f'time={t.slog} level=WARN source=x.go:1 msg=hello a=1 bare b=2'],
    lambda t: [f'[GIN] {t.gin} | 200 |     546.252\u00b5s |       127.0.0.1 | GET      "/api/tags"'],
    lambda t: [f'[GIN] {t.gin} | 500 |          2m3s |    ::1 | POST     "/api/generate"'],
    lambda t: [f'[GIN] {t.gin} | 200 |    31.24696ms | 10.0.0.2 | POST     "/api/ch'],
    lambda t: ['[GIN-debug] POST   /api/pull                 --> github.com/ollama/ollama/server.(*Server).'
               'PullHandler-fm (5 handlers)'],
    lambda t: ['[Recovery] 2025/04/27 - 10:00:00 panic recovered:'],
    lambda t: [f'{t.golog} routes.go:1259: INFO server config env="map[CUDA_VISIBLE_DEVICES: '
               f'OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_NUM_PARALLEL:2]"'],
    lambda t: [f'{t.golog}.250000 images.go:432: total blobs: 12'],
    lambda t: [f'INFO [main] build info | build=1 commit="abc1234" tid="140" timestamp={t.unix}'],
    lambda t: ['WARN [server_params_parse] warning without attrs'],
    lambda t: ['llm_load_tensors: offloaded 0/65 layers to GPU'],
    lambda t: ['llama_new_context_with_model: n_ctx      = 262144'],
    lambda t: ['llama_model_loader: - kv   0:                       general.architecture str              = qwen2'],
    lambda t: ['llm_load_tensors:        CUDA0 model buffer size = 18926.01 MiB'],
    lambda t: ['  Device 0: NVIDIA GeForce RTX 4090, compute capability 8.9, VMM: yes'],
    lambda t: ['panic: runtime error: invalid memory address or nil pointer dereference'],
    lambda t: ['goroutine 1 [running]:', 'main.main()', '\t/go/src/github.com/ollama/ollama/main.go:12 +0x1d'],
    lambda t: [f'cuda driver library failed to get device context 800time={t.slog} level=WARN source=gpu.go:434 '
               f'msg="error looking up nvidia GPU memory"'],
    lambda t: [f'failed to get device context 800time={t.slog} level=WARN source=gpu.go:434 msg="error"'],
    lambda t: ['[GPU-6f3c2a1e-1111-2222-3333-444455556666] CUDA totalMem 24217 mb'],
    lambda t: ['-- Boot 1a2b3c4d5e6f --'],
    lambda t: ['..................................................................................'],
    lambda t: [f'time={t.slog} level=INFO source=server.go:100 msg=offload library=cuda layers.requested=-1',
               '  layers.model=65 layers.offload=0', '    memory.available="[23.3 GiB]" memory.required.full="85.7 GiB"'],
    lambda t: [f'time={t.slog} level=INFO source=server.go:376 msg="starting llama server" '
               'cmd="/usr/bin/ollama runner --model /m', '  --ctx-size 8192 --parallel 1" port=1234'],
    lambda t: [''],
    lambda t: ['something nobody prints', '   '],
    lambda t: ['{"function":"load_model","level":"INFO","line":464,"msg":"model loaded","tid":"1",'
               f'"timestamp":{t.unix}}}'],
    lambda t: ['Error: llama runner process has terminated: exit status 2', 'exit status 2'],
    # records whose prefix a pipeline cut or a viewer never showed, and a pager's cut marker
    lambda t: ['level=INFO source=memory.go:326 msg="offload to cuda" layers.requested=-1 layers.model=33 '
               'layers.offload=33 memory.available="[23.3 GiB]"'],
    lambda t: ['msg="starting llama server" cmd="/usr/bin/ollama runner --model /m --ctx-size 8192 --parallel 1"'],
    lambda t: [f'{t.slog[11:]} level=INFO source=sched.go:1 msg="loaded runners" count=1'],
    lambda t: ['offload to cuda layers.requested=-1 layers.model=33 layers.offload=3>'],
    lambda t: ['"new model will fit in available VRAM in single GPU, loading" model=/m gpu=GPU-1 parallel=4 '
               'available=25314983936 required="6.2 GiB"'],
    lambda t: ['routes.go:1197: INFO server config env="map[OLLAMA_NUM_PARALLEL:2]"'],
    lambda t: [f'{t.golog} sched.go:1: INFO msg with error=<nil> and text'],
    lambda t: ['ggml_cuda_init: found 1 CUDA devices:', 'CUDA error: out of memory',
               '  current device: 0, in function ggml_backend_cuda_buffer_type_alloc_buffer at ggml-cuda.cu:120'],
]


def _plain(t, lines, draw):
    return lines


def _journald(t, lines, draw):
    loc = draw(st.sampled_from(sorted(MONTHS)))
    host = draw(st.sampled_from(["host1 ", ""]))
    return [f"{t.journal(loc)} {host}ollama[1234]: {x}" for x in lines]


def _short_iso(t, lines, draw):
    z = t.zone.replace(":", "") if t.zone != "Z" else "+0000"
    return [f"{t.local.strftime('%Y-%m-%dT%H:%M:%S')}{z} host1 ollama[77]: {x}" for x in lines]


def _journal_json(t, lines, draw):
    return [json.dumps({"__REALTIME_TIMESTAMP": str(t.unix * 1000000), "_HOSTNAME": "host1", "_PID": "1234",
                        "MESSAGE": x}) for x in lines]


def _docker_t(t, lines, draw):
    return [f"{t.iso_utc} {x}" for x in lines]


def _docker_json(t, lines, draw):
    return [json.dumps({"log": x + "\n", "stream": "stderr", "time": t.iso_utc}) for x in lines]


def _compose(t, lines, draw):
    return [f"ollama-1  | {x}" for x in lines]


def _cri(t, lines, draw):
    """Each line whole (`F`) or cut anywhere into `P` parts and a final `F`, blanks at a cut included."""
    out = []
    for x in lines:
        cuts = sorted(set(draw(st.lists(st.integers(1, max(len(x) - 1, 1)), max_size=3)))) if len(x) > 1 else []
        bounds = [0] + cuts + [len(x)]
        parts = [x[a:b] for a, b in zip(bounds, bounds[1:])]
        out += [f"{t.iso_utc} stdout P {p}" for p in parts[:-1]] + [f"{t.iso_utc} stdout F {parts[-1]}"]
    return out


def _pino(t, lines, draw):
    return [json.dumps({"level": 30, "time": t.unix * 1000, "pid": 7, "hostname": "host1",
                        "msg": "\n".join(lines) + "\n"})]


def _desktop(t, lines, draw):
    return [f"{t.local.strftime('%Y-%m-%d %H:%M:%S')} {x}" for x in lines]


def _markdown(t, lines, draw):
    return [f"> {x}" for x in lines]


def _catn(t, lines, draw):
    return [f"{i + 10}\t{x}" for i, x in enumerate(lines)]


def _spinner(t, lines, draw):
    return [f"\u280b {x}" for x in lines]


def _ansi(t, lines, draw):
    return [f"\x1b[90m{x}\x1b[0m" if not x.startswith("[GIN] ") else
            x.replace("[GIN]", "\x1b[90m[GIN]\x1b[0m").replace("| 200 |", "|\x1b[97;42m 200 \x1b[0m|") for x in lines]


def _unix_journal(t, lines, draw):
    return [f"{t.unix}.123456 host1 ollama[1234]: {x}" for x in lines]


def _mono_journal(t, lines, draw):
    return [f"[  123.456789] host1 ollama[1234]: {x}" for x in lines]


WRAPPERS = [_plain, _plain, _journald, _short_iso, _journal_json, _docker_t, _docker_json, _compose, _cri, _pino,
            _desktop, _markdown, _catn, _spinner, _ansi, _unix_journal, _mono_journal]


@st.composite
def log_text(draw, max_records: int = 25) -> bytes:
    """A realistic log: records from TEMPLATES, each in a transport from WRAPPERS."""
    zone = draw(st.sampled_from(ZONES))
    n = draw(st.integers(1, max_records))
    sec = draw(st.integers(0, 40 * 86400))
    out: list[str] = []
    for _ in range(n):
        sec += draw(st.integers(0, 90))
        t = T(sec, zone)
        tpl = draw(st.sampled_from(TEMPLATES))
        wrap = draw(st.sampled_from(WRAPPERS))
        out += wrap(t, tpl(t), draw)
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = eol.join(out) + draw(st.sampled_from([eol, ""]))
    data = text.encode("utf-8")
    if draw(st.booleans()) and draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data


@st.composite
def cri_pair(draw, max_records: int = 12) -> tuple[bytes, bytes]:
    """The same payload lines as a CRI file twice: every line whole (`F`), and every line cut at
    random points into `P` parts and an `F`. A reader must make the same records of both."""
    zone = draw(st.sampled_from(ZONES))
    t = T(draw(st.integers(0, 40 * 86400)), zone)
    lines: list[str] = []
    for _ in range(draw(st.integers(1, max_records))):
        lines += draw(st.sampled_from(TEMPLATES))(t)
    whole = [f"{t.iso_utc} stdout F {x}" for x in lines]
    split = _cri(t, lines, draw)
    return ("\n".join(whole) + "\n").encode("utf-8"), ("\n".join(split) + "\n").encode("utf-8")


# fragments of every grammar and wrapper, for noise that the parser has to make sense of
TOKENS = [b"time=", b"time=2025-04-27T10:00:00.123+02:00 ", b"level=INFO ", b"level=", b"source=x.go:1 ", b"msg=",
          b'msg="', b'"', b"\\", b"=", b" ", b"  ", b"\t", b"\n", b"\r\n", b"{", b"}", b'{"log":"', b'","stream":"stderr"}',
          b'{"MESSAGE":"', b"[GIN] 2025/04/27 - 10:00:02 | ", b" | ", b"2025-04-27T08:00:01.5Z ", b"stdout P ",
          b"stdout F ", b"Apr 27 10:00:01 host1 ollama[1234]: ", b"ollama-1  | ", b"> ", b"\xe2\xa0\x8b ", b"12\t",
          b"\x1b[97;42m", b"\x1b[0m", b"\xe2\x94\x82", b"llm_load_tensors: ", b"offloaded 1/2 layers to GPU",
          b"goroutine 1 [running]:", b"panic: ", b"2025/04/27 10:00:00 ", b"routes.go:1: ", b"INFO [main] ",
          b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf0\x9f\x98\x80", b"\xc2\xb5s",
          b"x" * 40, b"0123456789", b"-- Boot 1 --"]


@st.composite
def noise(draw, max_pieces: int = 300) -> bytes:
    """Arbitrary bytes mixed with grammar fragments: garbage that still passes the binary sniffer,
    so that it reaches the engines (pure random bytes are almost always refused as binary)."""
    pieces = draw(st.lists(st.one_of(st.binary(min_size=1, max_size=6), st.sampled_from(TOKENS),
                                     st.sampled_from(TOKENS)), max_size=max_pieces))
    return b"".join(pieces)


INVALID_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80",
                b"\xf4\x90\x80\x80"]
CONTROL = [b"\r", b"\n", b"\t", b"\r\n", b"\n ", b"\n\t"]


@st.composite
def damaged(draw, base=None) -> bytes:
    """`base` (default: log_text()) after 0-4 random mutations: truncation at a byte, a byte replaced,
    invalid UTF-8 inserted, CR/LF/tab inserted."""
    data = bytearray(draw(base if base is not None else log_text()))
    ops = draw(st.lists(st.sampled_from(["truncate", "replace", "invalid", "control"]), max_size=4))
    for op in ops:
        i = draw(st.integers(0, len(data)))
        if op == "truncate":
            del data[i:]
        elif op == "replace":
            if i < len(data):
                data[i] = draw(st.integers(0, 255))
        elif op == "invalid":
            data[i:i] = draw(st.sampled_from(INVALID_UTF8))
        else:
            data[i:i] = draw(st.sampled_from(CONTROL))
    return bytes(data)
