#!/usr/bin/env python3
"""Time the record that never closes: a DEBUG prompt with a stray quote, then a Go stack trace.

    python benchmarks/stray_quote.py                 # 0.5, 1, 2 and 4 MB, both engines
    python benchmarks/stray_quote.py --sizes 2MB --engines c

The first line opens a quoted value that no line closes; every following line is indented, so a
reader that joins wrapped records keeps adding them to the open value. The time must grow with
the size, not with its square: the quote state is carried from line to line and the joined
record is cut at the line limit. Each run is a fresh `ollalog parse FILE -q` process (interpreter
start included), as in run.py. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

FIRST = ('time=2025-04-27T10:00:00.123+02:00 level=DEBUG source=server.go:620 msg="completion request" '
         'images=0 prompt="summarise this: \\"quoted\\" and then a stray one\n')


def write_case(path: str, size: int) -> int:
    """Write about `size` bytes of the case to `path`; returns the number of lines."""
    lines = 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(FIRST)
        written = len(FIRST)
        i = 0
        while written < size:
            if i % 2:
                line = f"\tgithub.com/ollama/ollama/server.(*Server).handler{i}(0xc000123456, 0xc000234567)\n"
            else:
                line = f"\t/go/src/github.com/ollama/ollama/server/routes.go:{100 + i % 900} +0x{i * 7 % 4096:x}\n"
            f.write(line)
            written += len(line)
            lines += 1
            i += 1
    return lines


def parse_size(text: str) -> int:
    units = {"KB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}
    t = text.strip().upper()
    for u, m in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if t.endswith(u):
            return int(float(t[:-len(u)]) * m)
    return int(t)


def ollalog_cmd(exe: str | None) -> list[str]:
    if exe:
        return [exe]
    here = os.path.join(os.path.dirname(sys.executable), "ollalog")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return [here]
    found = shutil.which("ollalog")
    return [found] if found else [sys.executable, "-m", "ollalog"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["0.5MB", "1MB", "2MB", "4MB"])
    ap.add_argument("--engines", nargs="+", default=["c", "python"], choices=["c", "python"])
    ap.add_argument("--timeout", type=float, default=600, help="kill a run after this many seconds")
    ap.add_argument("--ollalog", help="the ollalog executable (default: next to this interpreter, then PATH)")
    opt = ap.parse_args()
    cmd = ollalog_cmd(opt.ollalog)
    print("| size | lines | engine | wall s | MB/s |")
    print("|---:|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory() as d:
        for text in opt.sizes:
            size = parse_size(text)
            path = os.path.join(d, f"stray-{size}.log")
            lines = write_case(path, size)
            actual = os.path.getsize(path)
            for engine in opt.engines:
                t0 = time.perf_counter()
                try:
                    p = subprocess.run([*cmd, "parse", path, "-q", "--engine", engine], capture_output=True,
                                       timeout=opt.timeout)
                    wall = time.perf_counter() - t0
                    note = "" if p.returncode == 0 else f" (exit {p.returncode})"
                    cell, rate = f"{wall:.2f}{note}", f"{actual / wall / 1e6:.1f}"
                except subprocess.TimeoutExpired:
                    cell, rate = f"> {opt.timeout:.0f} (killed)", "-"
                print(f"| {actual / 1e6:.1f} MB | {lines:,} | {engine} | {cell} | {rate} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
