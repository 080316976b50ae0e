#!/usr/bin/env python3
"""Time ollalog and baseline tools on one large Ollama log.

    python benchmarks/run.py big.log --repeat 3 --markdown benchmarks/results.md

Every tool runs as a fresh subprocess on the same plain file after one
``cat FILE > /dev/null`` has warmed the page cache. The whole process is timed
(interpreter start and imports included), from spawn to exit, with its peak RSS
taken from ``os.wait4``'s rusage. Each row is the best wall time of ``--repeat``
runs; peak RSS is the largest seen over those runs. MB = 10^6 bytes.

Only the standard library is needed here; the DuckDB row runs in
``--python`` (default: this interpreter), which must have ``duckdb``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MB = 1e6
GiB = 1 << 30

# The DuckDB baseline: every physical line becomes one row (a delimiter that never
# occurs, no quoting or escaping, strict mode off so that no line is rejected),
# then the fields ollalog extracts are pulled out with one regex match per line and
# every field is aggregated so that nothing can be skipped.
GIN_RE = (r'^\[GIN\] (\d{4}/\d{2}/\d{2} - \d{2}:\d{2}:\d{2}) \|\s*(\d{3})\s*\|\s*(\S+)\s*\|'
          r'\s*(\S*)\s*\|\s*([A-Z]+)\s+("(?:[^"\\]|\\.)*")')
SLOG_RE = r'^time=(\S+) level=(\S+)(?: source=(\S+))? msg=("(?:[^"\\]|\\.)*"|\S*)'
GIN_FIELDS = ["time", "status", "latency", "client", "method", "path"]
SLOG_FIELDS = ["time", "level", "source", "msg"]
READ_CSV = ("read_csv({path}, columns={{'line': 'VARCHAR'}}, header=false, delim=chr(1), quote='', "
            "escape='', comment='', auto_detect=false, strict_mode=false)")


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def duckdb_extract_sql(path_expr: str) -> str:
    g = ",\n       ".join(f"count(nullif(g.{f}, '')) AS gin_{f}" for f in GIN_FIELDS)
    s = ",\n       ".join(f"count(nullif(s.{f}, '')) AS slog_{f}" for f in SLOG_FIELDS)
    return (
        "SELECT count(*) AS lines,\n       " + g + ",\n       " + s + "\nFROM (\n"
        "  SELECT CASE WHEN starts_with(line, '[GIN] ')\n"
        "              THEN regexp_extract(line, " + _sql_str(GIN_RE) + ",\n"
        "                                  " + repr(GIN_FIELDS) + ") END AS g,\n"
        "         CASE WHEN starts_with(line, 'time=')\n"
        "              THEN regexp_extract(line, " + _sql_str(SLOG_RE) + ",\n"
        "                                  " + repr(SLOG_FIELDS) + ") END AS s\n"
        "  FROM " + READ_CSV.format(path=path_expr) + "\n)"
    )


DUCKDB_SCRIPT = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
path = "'" + sys.argv[1].replace("'", "''") + "'"
sql = sys.argv[2].replace("{path}", path)
cur = con.execute(sql)
names = [d[0] for d in cur.description]
row = cur.fetchone()
threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
vals = dict(zip(names, row))
gin = [v for n, v in vals.items() if n.startswith("gin_")]
slog = [v for n, v in vals.items() if n.startswith("slog_") and n != "slog_source"]
if gin:
    short = (f"lines={vals['lines']} gin={min(gin)}/{max(gin)} slog={min(slog)}/{max(slog)}"
             f" source={vals['slog_source']}")
else:
    short = " ".join(f"{n}={v}" for n, v in vals.items())
print(short + f" threads={threads}")
print(" ".join(f"{n}={v}" for n, v in vals.items()), file=sys.stderr)
"""

DUCKDB_LINES_SQL = "SELECT count(*) AS lines FROM " + READ_CSV.format(path="{path}")
# The speed target's baseline (engine v2 issue, DECISIONS.md): every line, six simple
# regexp_extract calls, a data person's first SQL over the file.
DUCKDB_SIX_SQL = (
    "SELECT count(*) AS lines, sum(st) AS status_sum FROM (SELECT regexp_extract(line, '^time=(\\S+)', 1) t,\n"
    "  regexp_extract(line, ' level=(\\w+)', 1) lvl, regexp_extract(line, ' msg=(\"[^\"]*\"|\\S+)', 1) msg,\n"
    "  TRY_CAST(regexp_extract(line, '^\\[GIN\\] [^|]*\\| (\\d+)', 1) AS INT) st,\n"
    "  regexp_extract(line, '^\\[GIN\\] [^|]*\\|[^|]*\\|\\s*(\\S+)', 1) dur,\n"
    "  regexp_extract(line, '(GET|POST|HEAD|DELETE)\\s+\"([^\"]*)\"', 2) path\n"
    "  FROM " + READ_CSV.format(path="{path}") + ")")
# What `ollalog why` reads: the loads-only read of the library (loads, gpus, lines and the
# catalogued events why's facts are made of), run as the CLI runs: Arrow's memory from the system
# allocator, pandas not imported (lean.py).
LOADS_ONLY_SCRIPT = r"""
import os, sys
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
from ollalog.lean import absent
absent(("pandas",))
import ollalog
from ollalog.facts import events_used
t = ollalog.read(sys.argv[1], tables=("events", "loads", "gpus", "lines"), events=events_used())
ln = t.lines.to_pylist()[0]
print(f"lines={ln['physical']} events={t.events.num_rows} loads={t.loads.num_rows} gpus={t.gpus.num_rows}")
"""
# DuckDB's CSV reader splitting every line at '|' into five columns: the [GIN] fields,
# untrimmed, and nothing of the slog lines. Far less work than the regex row; it is
# the "DuckDB at about 1 GB/s" of DECISIONS.md, kept here as the strict reference.
PIPE_COLS = ["c1", "c2", "c3", "c4", "c5"]
DUCKDB_PIPE_SQL = (
    "SELECT count(*) AS lines, " + ", ".join(f"count({c}) AS {c}" for c in PIPE_COLS)
    + " FROM read_csv({path}, columns={" + ", ".join(f"'{c}': 'VARCHAR'" for c in PIPE_COLS)
    + "}, header=false, delim='|', quote='', escape='', comment='', auto_detect=false, "
    "strict_mode=false, null_padding=true, ignore_errors=true)")


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    unit = (m.group(2) or "B").upper().rstrip("B") or "B"
    mult = {"B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
            "KI": 1 << 10, "MI": 1 << 20, "GI": 1 << 30, "TI": 1 << 40}[unit]
    return int(float(m.group(1)) * mult)


# ---------------------------------------------------------------------------
# running one command
# ---------------------------------------------------------------------------


class Run:
    def __init__(self, wall, cpu, rss_kib, rc, out, err):
        self.wall, self.cpu, self.rss_kib, self.rc, self.out, self.err = wall, cpu, rss_kib, rc, out, err


def run_once(argv, timeout: float, workdir: str, time_exe: str | None) -> Run:
    """Spawn argv, wait with wait4, return wall/CPU time and peak RSS of the child.

    Linux carries the parent's peak RSS into a child across fork+exec, so a tool
    spawned straight from this interpreter reports at least the harness's own RSS
    (about 11 MB; ``wc -l`` would show 11 MB instead of 1). When GNU time is there it is
    used as a small trampoline: it forks the tool itself and writes the tool's own
    wait4 ``ru_maxrss``. Wall and CPU time always come from our wait4 (CPU includes
    the trampoline's, well under a millisecond).
    """
    out_path = os.path.join(workdir, "stdout")
    err_path = os.path.join(workdir, "stderr")
    rss_path = os.path.join(workdir, "rss")
    if time_exe:
        argv = [time_exe, "-f", "%M", "-o", rss_path] + list(argv)
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, start_new_session=True)
        state = {"done": False, "killed": False}
        lock = threading.Lock()

        def kill():
            with lock:
                if not state["done"]:
                    state["killed"] = True
                    os.killpg(p.pid, 9)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            with lock:
                state["done"] = True
            timer.cancel()
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out = Path(out_path).read_bytes().decode("utf-8", "replace")
    err = Path(err_path).read_bytes().decode("utf-8", "replace")
    rss = ru.ru_maxrss
    if time_exe:
        try:
            rss = int(Path(rss_path).read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    if state["killed"]:
        err += f"\ntimed out after {timeout:.0f} s"
    return Run(wall, ru.ru_utime + ru.ru_stime, rss, p.returncode, out, err)


def last_line(text: str, width: int = 100, first: bool = False) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if first and lines:
        s = lines[0]
    else:
        s = " | ".join(lines[-3:]) if len(lines) <= 3 else lines[-1]
    s = re.sub(r"\s+", " ", s)
    return s if len(s) <= width else s[: width - 1] + "…"


class Row:
    def __init__(self, name, cmd_shown, argv=None, path=None, nbytes=0, note="", skip=None, is_outdir=False):
        self.name, self.cmd_shown, self.argv, self.path, self.nbytes = name, cmd_shown, argv, path, nbytes
        self.note, self.skip, self.is_outdir = note, skip, is_outdir
        self.best = None
        self.rss_kib = 0
        self.error = None
        self.output = ""
        self.walls = []
        self.load = None

    @property
    def mbps(self):
        return self.nbytes / MB / self.best.wall if self.best else None

    def as_dict(self):
        d = dict(name=self.name, command=self.cmd_shown, input_bytes=self.nbytes, note=self.note)
        if self.skip:
            d["skipped"] = self.skip
        elif self.error:
            d["error"] = self.error
        if self.best:
            d.update(load_avg=self.load, wall_s=round(self.best.wall, 4), walls_s=[round(w, 4) for w in self.walls],
                     cpu_s=round(self.best.cpu, 4), mb_per_s=round(self.mbps, 1),
                     peak_rss_mb=round(self.rss_kib * 1024 / MB, 1), output=self.output)
        return d


def measure(row: Row, repeat: int, timeout: float, verbose: bool, time_exe: str | None, hide: dict):
    if row.skip:
        return
    for i in range(repeat):
        with tempfile.TemporaryDirectory(prefix="ollalog-bench-") as wd:
            argv = list(row.argv)
            outdir = None
            if row.is_outdir:
                outdir = os.path.join(wd, "out")
                if any(a.startswith("{OUTDIR}/") for a in argv):
                    os.makedirs(outdir)          # a row that writes one file into the folder
                argv = [a.replace("{OUTDIR}", outdir) for a in argv]
            r = run_once(argv, timeout, wd, time_exe)
            for real, shown in [(outdir or "\0", "DIR"), (wd, "TMP")] + list(hide.items()):  # keep this machine's paths out of reports
                r.out, r.err = r.out.replace(real, shown), r.err.replace(real, shown)
            if outdir and os.path.isdir(outdir):
                size = sum(f.stat().st_size for f in Path(outdir).rglob("*") if f.is_file())
                r.out += f"\n(--out wrote {size / MB:.1f} MB)"
        if verbose:
            print(f"    {row.name}: run {i + 1}/{repeat} {r.wall:.3f} s rc={r.rc} "
                  f"rss={r.rss_kib / 1024:.0f} MiB", file=sys.stderr)
        if r.rc != 0:
            row.error = f"exit {r.rc}: {last_line(r.err or r.out)}"
            row.best = None
            return
        row.walls.append(r.wall)
        row.rss_kib = max(row.rss_kib, r.rss_kib)
        if row.best is None or r.wall < row.best.wall:
            row.best = r
            row.output = last_line(r.out, first=row.name.startswith("ollalog"))


# ---------------------------------------------------------------------------
# machine description
# ---------------------------------------------------------------------------


def _first_line(argv) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        s = (p.stdout or p.stderr).strip().splitlines()
        return s[0].strip() if s else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(argv) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    s = p.stdout.strip().splitlines()
    return s[0].strip() if p.returncode == 0 and s and re.search(r"\d", s[0]) else ""


def machine_info(python: str, ollalog: str | None) -> dict:
    info = {}
    try:
        info["nproc"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["nproc"] = os.cpu_count()
    cpu = ""
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cpu"] = cpu or platform.processor() or platform.machine()
    try:
        for ln in Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal:"):
                info["memory"] = f"{int(ln.split()[1]) / (1 << 20):.1f} GiB"
    except OSError:
        pass
    info["kernel"] = f"{platform.system()} {platform.release()}"
    info["python"] = platform.python_version()
    info["duckdb"] = _first_line([python, "-c", "import duckdb; print(duckdb.__version__)"]) or "not installed"
    if ollalog:
        info["ollalog"] = (_version([ollalog, "--version"])
                           or _version([python, "-c", "import importlib.metadata as m; print(m.version('ollalog'))"])
                           or "unknown version")
    info["grep"] = _first_line(["grep", "--version"])
    info["wc"] = _first_line(["wc", "--version"])
    if shutil.which("rg"):
        info["rg"] = _first_line(["rg", "--version"])
    if shutil.which("lnav"):
        info["lnav"] = _first_line(["lnav", "-V"])
    info["locale"] = os.environ.get("LC_ALL") or os.environ.get("LANG") or "C"
    info["date"] = _dt.date.today().isoformat()
    here = Path(__file__).resolve().parent
    commit = _first_line(["git", "-C", str(here), "rev-parse", "--short", "HEAD"])
    if re.fullmatch(r"[0-9a-f]{4,40}", commit or ""):
        dirty = _first_line(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"])
        info["commit"] = commit + (" (modified)" if dirty else "")
    return info


# ---------------------------------------------------------------------------


def find_ollalog(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    cand = Path(sys.executable).parent / "ollalog"
    if cand.is_file() and os.access(cand, os.X_OK):
        return str(cand)
    return shutil.which("ollalog")


def write_prefix(src: str, nbytes: int, dst: str) -> int:
    with open(src, "rb") as f:
        data = f.read(nbytes)
    if len(data) == nbytes:
        cut = data.rfind(b"\n") + 1
        if cut:
            data = data[:cut]
    with open(dst, "wb") as f:
        f.write(data)
    return len(data)


def compress(path: str, workdir: str) -> dict:
    """FILE.gz and FILE.zst of the plain file (default levels), with the tools on PATH."""
    out = {}
    for ext, argv in ((".gz", ["gzip", "-c"]), (".zst", ["zstd", "-q", "-T0", "-c"])):
        if shutil.which(argv[0]):
            dst = os.path.join(workdir, os.path.basename(path) + ext)
            with open(dst, "wb") as f:
                subprocess.run(argv + [path], stdout=f, check=True)
            out[ext] = dst
    return out


def build_rows(args, path: str, size: int, prefix: str, prefix_size: int, ollalog: str | None,
               compressed: dict):
    rows = []
    miss = "skipped: ollalog not installed"
    o = ollalog or "ollalog"
    rows.append(Row("ollalog parse", "ollalog parse FILE", [o, "parse", path], path, size,
                    "speed figure: in-memory tables, prints a summary", None if ollalog else miss))
    rows.append(Row("ollalog parse, one core", "taskset -c 0 ollalog parse FILE", ["taskset", "-c", "0", o, "parse", path],
                    path, size, "the same on one CPU (the engine sees one core)",
                    None if ollalog and shutil.which("taskset") else (miss if not ollalog else "skipped: no taskset")))
    rows.append(Row("ollalog loads-only", "python -c '<ollalog.read(FILE, events=facts.events_used()) as why reads>' FILE",
                    [args.python, "-c", LOADS_ONLY_SCRIPT, path], path, size,
                    "read(tables=(events, loads, gpus, lines), events=facts.events_used()): what `ollalog why` reads",
                    None if ollalog else miss))
    rows.append(Row("ollalog parse --out", "ollalog parse FILE --out DIR", [o, "parse", path, "--out", "{OUTDIR}"],
                    path, size, "writes Parquet to a fresh folder each run", None if ollalog else miss,
                    is_outdir=True))
    rows.append(Row("ollalog why MODEL", f"ollalog why {args.why_model} FILE --format json -o OUT",
                    [o, "why", args.why_model, path, "--format", "json", "-o", "{OUTDIR}/why.json"], path, size,
                    "loads-only read, every load of one model explained (estimates, thresholds, advice)",
                    None if ollalog else miss, is_outdir=True))
    rows.append(Row("ollalog why --all", "ollalog why --all FILE --format json -o OUT",
                    [o, "why", "--all", path, "--format", "json", "-o", "{OUTDIR}/why.json"], path, size,
                    "every load of every model explained", None if ollalog else miss, is_outdir=True))
    rows.append(Row("ollalog --engine python", "ollalog parse PREFIX --engine python",
                    [o, "parse", prefix, "--engine", "python"], prefix, prefix_size,
                    f"pure-Python reference, first {prefix_size / MB:.0f} MB only", None if ollalog else miss))
    rows.append(Row("grep -c GIN", "grep -c GIN FILE", ["grep", "-c", "GIN", path], path, size))
    rows.append(Row("rg -c GIN", "rg -c GIN FILE", ["rg", "-c", "GIN", path], path, size,
                    skip=None if shutil.which("rg") else "skipped: rg not on PATH"))
    rows.append(Row("wc -l", "wc -l FILE", ["wc", "-l", path], path, size))
    lnav_q = ";SELECT log_format, count(*) AS n FROM all_logs GROUP BY 1"
    rows.append(Row("lnav (headless)", f"lnav -n -c '{lnav_q}' FILE", ["lnav", "-n", "-c", lnav_q, path], path,
                    size, "rows of all_logs by detected format",
                    skip=None if (shutil.which("lnav") and not args.no_lnav) else
                    ("skipped: --no-lnav" if args.no_lnav else "skipped: lnav not on PATH")))
    py = args.python
    rows.append(Row("duckdb six regexp_extract", "python -c '<duckdb: the six regexp_extract of the issue>' FILE",
                    [py, "-c", DUCKDB_SCRIPT, path, DUCKDB_SIX_SQL], path, size,
                    "the speed target's baseline: six simple regexp_extract per line; default threads"))
    rows.append(Row("duckdb regexp_extract", "python -c '<duckdb: read_csv + regexp_extract, see README>' FILE",
                    [py, "-c", DUCKDB_SCRIPT, path, duckdb_extract_sql("{path}")], path, size,
                    "GIN: time,status,latency,client,method,path; slog: time,level,source,msg; default threads"))
    rows.append(Row("duckdb split at '|'", "python -c '<duckdb: read_csv delim=| into 5 columns>' FILE",
                    [py, "-c", DUCKDB_SCRIPT, path, DUCKDB_PIPE_SQL], path, size,
                    "CSV reader splits lines at '|' (GIN fields untrimmed, no slog fields); "
                    "rows with more than 5 fields are dropped"))
    rows.append(Row("duckdb read_csv count(*)", "python -c '<duckdb: count(*) of read_csv>' FILE",
                    [py, "-c", DUCKDB_SCRIPT, path, DUCKDB_LINES_SQL], path, size,
                    "DuckDB's line reader alone, default threads"))
    for ext, tool, cat in ((".gz", "gzip", "zcat"), (".zst", "zstd", "zstdcat")):
        if not args.compressed:
            continue
        comp = compressed.get(ext)
        why_not = None if comp else f"skipped: {tool} not on PATH"
        csize = os.path.getsize(comp) if comp else 0
        rows.append(Row(f"ollalog parse {ext}", f"ollalog parse FILE{ext}", [o, "parse", comp or path], comp, size,
                        f"{tool} input ({csize / MB:.0f} MB compressed); MB/s of the decompressed bytes",
                        why_not or (None if ollalog else miss)))
        rows.append(Row(f"{cat} | wc -l", f"{cat} FILE{ext} | wc -l", ["sh", "-c", f'{cat} "$1" | wc -l', "sh", comp or path],
                        comp, size, "the decompression ceiling", why_not))
    if args.only:
        keep = [s.lower() for s in args.only]
        rows = [r for r in rows if any(k in r.name.lower() for k in keep)]
    return rows


def fmt(v, spec):
    return "" if v is None else format(v, spec)


def render_text(rows, info, size, fname):
    lines = [f"file: {fname}  {size:,} bytes = {size / GiB:.3f} GiB = {size / MB:.1f} MB"]
    lines.append("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    hdr = (f"{'tool':<26} {'input MB':>9} {'best s':>8} {'MB/s':>8} {'CPU s':>7} {'cores':>5} {'RSS MB':>8} "
           f"{'load':>5}  output")
    lines += [hdr, "-" * len(hdr)]
    for r in rows:
        if r.skip or r.error or not r.best:
            lines.append(f"{r.name:<26} {r.nbytes / MB:>9.1f}  {r.skip or r.error}")
            continue
        b = r.best
        lines.append(f"{r.name:<26} {r.nbytes / MB:>9.1f} {b.wall:>8.3f} {r.mbps:>8.0f} {b.cpu:>7.2f} "
                     f"{b.cpu / b.wall:>5.2f} {r.rss_kib * 1024 / MB:>8.1f} {fmt(r.load, '>5.1f')}  {r.output}")
    return "\n".join(lines)


def summary(rows):
    by = {r.name: r for r in rows}
    o = by.get("ollalog parse")
    out = []
    if not o or not o.best:
        out.append("ollalog parse: " + ((o.skip or o.error) if o else "not run") + " - no ratios")
        return out
    ob = o.best
    for other in ("duckdb six regexp_extract", "duckdb regexp_extract", "duckdb split at '|'",
                  "duckdb read_csv count(*)", "wc -l", "grep -c GIN", "rg -c GIN"):
        r = by.get(other)
        if r and r.best:
            out.append(f"ollalog / {other}: {o.mbps / r.mbps:.2f}x")
    one = by.get("ollalog parse, one core")
    if one and one.best:
        out.append(f"ollalog both cores / one core: {o.mbps / one.mbps:.2f}x")
    per_core = o.nbytes / MB / ob.cpu if ob.cpu > 0 else float("inf")
    out.append(f"ollalog parse per CPU second: {per_core:.0f} MB/s ({ob.cpu:.2f} CPU s, {ob.cpu / ob.wall:.2f} cores)")
    checks = [(f"ollalog parse {o.mbps:.0f} MB/s >= 1500 MB/s (whole process, wall)", o.mbps >= 1500)]
    d = by.get("duckdb six regexp_extract")
    if d and d.best:
        checks.append((f"{o.mbps / d.mbps:.2f}x duckdb six regexp_extract >= 3x", o.mbps / d.mbps >= 3))
    lo = by.get("ollalog loads-only")
    if lo and lo.best:
        checks.append((f"loads-only {lo.mbps:.0f} MB/s >= 3000 MB/s", lo.mbps >= 3000))
    rss = max([r.rss_kib for r in rows if r.name.startswith("ollalog") and r.best] or [o.rss_kib]) * 1024 / MB
    checks.append((f"peak RSS of the ollalog rows {rss:.0f} MB <= 256 MB", rss <= 256))
    for text, ok in checks:
        out.append(("PASS " if ok else "FAIL ") + text)
    return out


def render_markdown(rows, info, size, fname, args, summ):
    L = ["# ollalog benchmark results", ""]
    L.append(f"File `{fname}`: {size:,} bytes ({size / GiB:.3f} GiB, {size / MB:.1f} MB); "
             f"best of {args.repeat} runs per row; page cache warm; whole process timed "
             "(interpreter start and imports included); DuckDB with its default threads. MB = 10^6 bytes.")
    L += ["", "| machine | |", "|---|---|"]
    L += [f"| {k} | {v} |" for k, v in info.items()]
    L += ["", "| tool | command | input MB | best s | MB/s | CPU s | peak RSS MB | load | output |",
          "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        cmd = "`" + r.cmd_shown.replace("|", "\\|") + "`"
        name = r.name.replace("|", "\\|")
        if r.skip or r.error or not r.best:
            L.append(f"| {name} | {cmd} | {r.nbytes / MB:.1f} | | | | | | {(r.skip or r.error).replace('|', '/')} |")
            continue
        b = r.best
        L.append(f"| {name} | {cmd} | {r.nbytes / MB:.1f} | {b.wall:.3f} | {r.mbps:.0f} | {b.cpu:.2f} | "
                 f"{r.rss_kib * 1024 / MB:.1f} | {fmt(r.load, '.1f')} | {r.output.replace('|', '/')} |")
    L += ["", "## Ratios and targets", ""]
    L += [f"- {s}" for s in summ]
    L += ["", "Targets (DECISIONS.md, engine v2 issue): `ollalog parse` >= 1.5 GB/s whole process on both cores and "
          ">= 3x the six-regexp DuckDB query in the same run, the loads-only read >= 3 GB/s, peak RSS <= 256 MB; "
          "the ratio to `wc -l` is reported as the ceiling of reading the file.", ""]
    L += ["## DuckDB queries", "", "Run as `python -c SCRIPT FILE SQL` with `{path}` replaced by the quoted file name; "
          "progress bar off, threads left at DuckDB's default.", ""]
    for qname, sql in (("duckdb six regexp_extract", DUCKDB_SIX_SQL), ("duckdb regexp_extract", duckdb_extract_sql("{path}")),
                      ("duckdb split at '|'", DUCKDB_PIPE_SQL), ("duckdb read_csv count(*)", DUCKDB_LINES_SQL)):
        L += [f"{qname}:", "", "```sql", sql, "```", ""]
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="plain log file (make one with gen_log.py)")
    ap.add_argument("--ref-bytes", type=parse_size, default=parse_size("64MiB"),
                    help="prefix size for the pure-Python reference (default 64MiB)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the best is reported (default 3)")
    ap.add_argument("--markdown", metavar="PATH", help="also write the table as Markdown")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--ollalog", metavar="EXE", help="ollalog executable (default: next to python, else PATH)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the DuckDB rows (default: this one)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only rows whose name contains one of these")
    ap.add_argument("--no-lnav", action="store_true", help="skip the lnav row")
    ap.add_argument("--compressed", action="store_true",
                    help="also time FILE.gz and FILE.zst (made in a temporary folder) against zcat/zstdcat | wc -l")
    ap.add_argument("--why-model", default="llama3.1:8b",
                    help="model for the `ollalog why MODEL` row (gen_log.py's logs name llama3.1:8b)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run before it is killed")
    ap.add_argument("--direct-rss", action="store_true",
                    help="spawn tools directly, not through GNU time (RSS then includes the harness's ~11 MB)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = ap.parse_args(argv)

    path = os.path.abspath(args.file)
    if not os.path.isfile(path):
        print(f"run.py: {args.file}: no such file", file=sys.stderr)
        return 1
    size = os.path.getsize(path)
    ollalog = find_ollalog(args.ollalog)
    info = machine_info(args.python, ollalog)
    time_exe = None if args.direct_rss else shutil.which("time") or (
        "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None)
    if time_exe and subprocess.run([time_exe, "-f", "%M", "-o", os.devnull, "true"]).returncode != 0:
        time_exe = None  # not GNU time
    info["peak RSS"] = ("ru_maxrss of the tool's own process (GNU time as trampoline)" if time_exe else
                        "ru_maxrss from wait4, floored at the harness's own RSS")
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # warm the page cache

    with tempfile.TemporaryDirectory(prefix="ollalog-bench-ref-") as td:
        prefix = os.path.join(td, "prefix.log")
        prefix_size = write_prefix(path, args.ref_bytes, prefix) if ollalog else min(args.ref_bytes, size)
        compressed = compress(path, td) if args.compressed else {}
        rows = build_rows(args, path, size, prefix, prefix_size, ollalog, compressed)
        for r in rows:
            print(f"  running {r.name} ...", file=sys.stderr, flush=True)
            r.load = os.getloadavg()[0]  # the machine is shared: the 1-minute load average before the row
            hide = {prefix: "PREFIX", path: "FILE"}
            hide.update({p: "FILE" + ext for ext, p in compressed.items()})
            measure(r, args.repeat, args.timeout, args.verbose, time_exe, hide)

    fname = os.path.basename(path)
    print(render_text(rows, info, size, fname))
    summ = summary(rows)
    for s in summ:
        print(s)
    if args.markdown:
        Path(args.markdown).write_text(render_markdown(rows, info, size, fname, args, summ))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(file=fname, bytes=size, repeat=args.repeat, machine=info,
                                                   rows=[r.as_dict() for r in rows], summary=summ), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
