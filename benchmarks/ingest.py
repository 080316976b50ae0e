#!/usr/bin/env python3
"""Time `ollalog ingest` of several files on 1 job and on N jobs, each a fresh process, one run.

    python benchmarks/ingest.py --files 8 --size 64MiB --jobs 2

Generates the files with gen_log.py (one seed and one host folder each) in a temporary folder,
reads them once to warm the page cache, then times, each into an empty dataset:
`ollalog ingest -j 1`, `ollalog ingest -j N`, a re-run on the unchanged files, and as baselines
`wc -l` and DuckDB copying the same lines into one Parquet file. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_size(text: str) -> int:
    units = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "KB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "B": 1}
    for u, m in units.items():
        if text.endswith(u):
            return int(float(text[:-len(u)]) * m)
    return int(text)


def ollalog_exe(python: str) -> list[str]:
    return [python, "-m", "ollalog"]


def timed(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--size", default="64MiB", help="size of each file")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--python", default=sys.executable, help="interpreter with ollalog and duckdb installed")
    ap.add_argument("--dir", help="work folder (default: a temporary one, removed after)")
    args = ap.parse_args()
    work = args.dir or tempfile.mkdtemp(prefix="ollalog-ingest-bench-")
    try:
        logs = os.path.join(work, "logs")
        files = []
        for i in range(args.files):
            d = os.path.join(logs, f"node{i}")
            os.makedirs(d, exist_ok=True)
            f = os.path.join(d, "server.log")
            if not os.path.exists(f):
                subprocess.run([sys.executable, os.path.join(HERE, "gen_log.py"), "--size", args.size,
                                "--seed", str(100 + i), "-q", "-o", f], check=True)
            files.append(f)
        total = sum(os.path.getsize(f) for f in files)
        for f in files:  # warm the page cache
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass
        exe = ollalog_exe(args.python)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        rows = []

        def ingest_run(label: str, jobs: int, fresh: bool = True) -> float:
            out = os.path.join(work, f"ds-{label}")
            if fresh:
                shutil.rmtree(out, ignore_errors=True)
            t = timed(exe + ["ingest", logs, "--to", out, "-j", str(jobs), "-q"])
            rows.append((label, t))
            return t

        t1 = ingest_run("ollalog ingest -j 1", 1)
        tn = ingest_run(f"ollalog ingest -j {args.jobs}", args.jobs)
        out = os.path.join(work, f"ds-ollalog ingest -j {args.jobs}")
        t = timed(exe + ["ingest", logs, "--to", out, "-j", str(args.jobs), "-q"])
        rows.append((f"ollalog ingest -j {args.jobs}, again (all unchanged)", t))
        rows.append(("wc -l", timed(["wc", "-l", *files])))
        pq = os.path.join(work, "lines.parquet")
        sql = (f"COPY (SELECT * FROM read_csv($files, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', "
               f"escape='', header=false, strict_mode=false)) TO '{pq}' (FORMAT parquet, COMPRESSION zstd)")
        code = ("import duckdb,sys; duckdb.connect().execute(sys.argv[1], {'files': sys.argv[2:]})")
        try:
            rows.append(("DuckDB: the lines into one Parquet file", timed([args.python, "-c", code, sql, *files])))
        except subprocess.CalledProcessError:
            rows.append(("DuckDB: the lines into one Parquet file", float("nan")))
        print(f"{args.files} files of {args.size} ({total / 1e6:,.0f} MB), page cache warm, "
              f"{os.cpu_count()} cores, one run each in a fresh process; load average before: {load}\n")
        print("| run | seconds | MB/s |")
        print("|---|---:|---:|")
        for label, t in rows:
            print(f"| {label} | {t:.2f} | {total / 1e6 / t:,.0f} |")
        print(f"\nspeed-up of -j {args.jobs} over -j 1: {t1 / tn:.2f}x")
        return 0
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
