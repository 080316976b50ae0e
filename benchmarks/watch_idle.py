#!/usr/bin/env python3
"""What `ollalog watch` costs while nothing happens: CPU (% of one core) and memory of a watch on
an idle log, measured from /proc (Linux) over a window after it started.

    python benchmarks/watch_idle.py                       # a sample log, 30 s, with and without --metrics
    python benchmarks/watch_idle.py --seconds 60 LOG      # another log (copied to a temporary folder)
    python benchmarks/watch_idle.py --markdown out.md

Each case is a fresh `ollalog watch` process (the one next to this interpreter, else on PATH) on
a copy of the log in a temporary folder that nothing writes to. It is measured once it said
`watching` and its first state write happened (the history was read), plus a settle time; CPU is
the process's user + system time (all its threads) over the window divided by the window's wall
time; RSS is VmRSS at the end and VmHWM (the peak) from /proc/PID/status. MB = 10^6 bytes.
Standard library only.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_logs" / "seed-deepseek-r1-32b.log"
MB = 1e6


def ollalog_exe() -> list:
    near = Path(sys.executable).with_name("ollalog")
    if near.exists():
        return [str(near)]
    found = shutil.which("ollalog")
    return [found] if found else [sys.executable, "-m", "ollalog"]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def measure(log: Path, seconds: float, settle: float, extra: list) -> dict:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "gpubox"
        folder.mkdir()
        path = folder / "server.log"
        shutil.copyfile(log, path)
        state = Path(d) / "state.json"
        err = open(Path(d) / "stderr", "w+b")
        p = subprocess.Popen(ollalog_exe() + ["watch", str(path), "--state", str(state), *extra],
                             stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while not state.exists():
                if p.poll() is not None or time.monotonic() > deadline:
                    err.seek(0)
                    raise SystemExit(f"watch did not start: {err.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.1)
            time.sleep(settle)
            c0, t0 = cpu_seconds(p.pid), time.monotonic()
            time.sleep(seconds)
            c1, t1 = cpu_seconds(p.pid), time.monotonic()
            rss, hwm = status_kb(p.pid, "VmRSS"), status_kb(p.pid, "VmHWM")
            threads = status_kb(p.pid, "Threads")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            err.close()
    return {"case": "watch " + " ".join(["LOG"] + extra), "window_s": round(t1 - t0, 1),
            "cpu_pct": 100 * (c1 - c0) / (t1 - t0), "rss_mb": rss * 1024 / MB, "peak_rss_mb": hwm * 1024 / MB,
            "threads": threads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", nargs="?", type=Path, default=SAMPLE, help="the log to watch (default: the seed sample)")
    ap.add_argument("--seconds", type=float, default=30.0, help="measuring window (default 30)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds after start-up before measuring (default 3)")
    ap.add_argument("--markdown", type=Path, help="also write the table here")
    a = ap.parse_args()
    if not Path("/proc/self/stat").exists():
        raise SystemExit("needs Linux /proc")
    rows = [measure(a.log, a.seconds, a.settle, []),
            measure(a.log, a.seconds, a.settle, ["--metrics", "127.0.0.1:0"]),
            measure(a.log, a.seconds, a.settle, ["--poll"]),
            # the log's loads told (each explained by a short-lived child process), then idle
            measure(a.log, a.seconds, a.settle, ["--from-start", "--metrics", "127.0.0.1:0"])]
    head = "| case | window (s) | CPU (% of a core) | RSS (MB) | peak RSS (MB) | threads |\n|---|---|---|---|---|---|\n"
    body = "".join(f"| `{r['case']}` | {r['window_s']} | {r['cpu_pct']:.2f} | {r['rss_mb']:.1f} | "
                   f"{r['peak_rss_mb']:.1f} | {r['threads']} |\n" for r in rows)
    text = f"Idle `ollalog watch` on `{a.log.name}` ({a.log.stat().st_size} bytes):\n\n" + head + body
    print(text, end="")
    if a.markdown:
        a.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
