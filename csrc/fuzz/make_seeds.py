"""Write a seed corpus for the fuzz target: pieces of real-looking logs with fuzz headers.

    python csrc/fuzz/make_seeds.py OUT_DIR [LOG_DIR_OR_FILE ...]

Each log (default: sample_logs/) is cut at line ends into pieces of at most --piece bytes, and
each piece is written under a few headers (fuzz_engine.c: one piece; 1-byte chunks keeping
unknown lines; two reads with a small line limit; odd time hints), plus a line of each wrapper
the engine unwraps. Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys

HEADERS = [
    bytes(16),                                              # one piece, defaults
    bytes([0x01, 0, 3, 7, 0, 0, 0, 0] + [0] * 8),           # 1-byte chunks, unknown lines kept
    bytes([0x03, 40, 1, 9, 9, 9, 9, 6, 0, 128] + [0] * 6),  # two reads, max_line 40, chunks to 64
    bytes([0xFA, 0, 5, 1, 2, 3, 4, 12, 0, 64, 1, 0, 0, 0, 7, 7]),  # odd resume, extreme hints
]

# one line of each wrapper and grammar family the engine knows (docs/parsing.md)
WRAPPERS = [
    b'time=2025-04-27T10:00:00.000+02:00 level=INFO source=routes.go:1238 msg="Listening on 127.0.0.1:11434 (version 0.5.7)"\n',
    b'{"MESSAGE":"time=2025-04-27T10:00:00.000Z level=INFO msg=hi","_HOSTNAME":"gpu01","_PID":"42","__REALTIME_TIMESTAMP":"1745740800000000"}\n',
    b'{"MESSAGE":[108,108,109,95,108,111,97,100,58,32,120],"_HOSTNAME":"h"}\n',
    b'{"log":"time=2025-04-27T10:00:00.000Z level=INFO msg=hi\\n","stream":"stderr","time":"2025-04-27T10:00:00.123456789Z"}\n',
    b'{"level":30,"time":1745740800000,"pid":7,"hostname":"app1","msg":"llm_load_tensors: offloaded 1/2 layers to GPU"}\n',
    b'{"timestamp":1745740800,"level":"INFO","function":"main","line":1,"msg":"model loaded","tid":"1"}\n',
    b'2025-04-27T08:00:01.123456789Z stdout P time=2025-04-27T08:00:01Z level=INFO msg="split\n'
    b'2025-04-27T08:00:01.123456789Z stdout F  here"\n',
    b'2025-04-27T08:00:01.123456789Z time=2025-04-27T08:00:01Z level=WARN msg=docker\n',
    b'2025-04-27 10:00:01 [GIN] 2025/04/27 - 10:00:01 | 200 |    1.2ms |  127.0.0.1 | POST "/api/chat"\n',
    b'Apr 27 10:00:01 gpu01 ollama[1234]: llm_load_tensors: offloaded 33/33 layers to GPU\n',
    b'1717665425.123456 gpu01 ollama[1]: time=2024-06-06T11:17:05.123+02:00 level=INFO msg=x\n',
    b'[ 1234.567890] gpu01 ollama[1]: ggml_cuda_init: found 1 CUDA devices:\n',
    b'ollama[99]: 2025/02/01 10:00:00 routes.go:1187: INFO server config env="map[OLLAMA_NUM_PARALLEL:2]"\n',
    b'ollama-1  | \x1b[32mtime=2025-04-27T10:00:00.000Z level=INFO msg=compose\x1b[0m\n',
    b'> \xe2\xa0\x8b 12\ttime=2025-04-27T10:00:00.000Z level=INFO msg=wrapped \xe2\x94\x82\n',
    b'INFO [main] model loaded | tid="1" timestamp=1745740800\n',
    b'goroutine 1 [running]:\ngithub.com/ollama/ollama/llm/server.go:851 +0x375\nexit status 2\n',
    b'time=2025-04-27T10:00:00.000Z level=DEBUG msg="completion request" prompt="a\n  b\\"c\n',
    b'\xef\xbb\xbftime=2025-04-27T10:00:00Z level=INFO msg="bom" bad=\xff\xfe\r\n',
]


def pieces(data: bytes, size: int):
    start = 0
    while start < len(data):
        end = start + size
        if end < len(data):
            cut = data.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else end
        yield data[start:end]
        start = end


def logs_in(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(".log"):
                        yield os.path.join(root, f)
        elif os.path.isfile(p):
            yield p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("logs", nargs="*")
    ap.add_argument("--piece", type=int, default=8192, help="bytes of a piece at most (default 8192)")
    ap.add_argument("--per-log", type=int, default=8, help="pieces taken from each log at most (default 8)")
    a = ap.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    logs = a.logs or [os.path.join(here, "..", "..", "sample_logs")]
    os.makedirs(a.out, exist_ok=True)
    n = 0

    def put(blob: bytes) -> None:
        nonlocal n
        with open(os.path.join(a.out, hashlib.sha1(blob).hexdigest()), "wb") as f:
            f.write(blob)
        n += 1

    for line in WRAPPERS:
        for h in HEADERS:
            put(h + line)
    for path in logs_in(logs):
        with open(path, "rb") as f:
            data = f.read()
        ps = list(pieces(data, a.piece))
        step = max(1, len(ps) // a.per_log)
        for i, p in enumerate(ps[::step][:a.per_log]):
            put(HEADERS[0] + p)
            if i % len(HEADERS):
                put(HEADERS[i % len(HEADERS)] + p)
    print(f"{n} seeds in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
