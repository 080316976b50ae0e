"""Shared paths, fixtures and helpers of the ollalog test suite.

Engines: every test that reads logs through an engine takes the `engine` fixture, which runs it
once with the Python reference (`python_engine`) and once with the C engine (`c_engine`). The C
cases need the compiled extension `ollalog._core`; deselect them with `-k "not c_engine"` until it
is built (they fail loudly, never skip, when it is missing and they are selected).

The real-log corpus lives beside the checkout (`<repo>/../shared/corpus`); tests that need it skip
with the reason "corpus not present" where it is absent (a user's clone).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent
SRC = REPO / "src"
SAMPLE_DIR = REPO / "sample_logs"
CORPUS_DIR = (TESTS_DIR / ".." / ".." / "shared" / "corpus").resolve()

TABLE_NAMES = ("events", "requests", "loads", "gpus", "lines")
LOAD_KEYS = ("placement", "layers_offloaded", "layers_total", "ctx_size")


# ---------------------------------------------------------------------------------------------
# file lists, collected at import time so that parametrization names every file


def corpus_logs_list() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.log")) if CORPUS_DIR.is_dir() else []


def sample_logs_list() -> list[Path]:
    return sorted(SAMPLE_DIR.glob("*.log")) if SAMPLE_DIR.is_dir() else []


def corpus_params() -> list:
    """One param per corpus log (id = file name); a single placeholder when the corpus is absent,
    so that the test is collected and skips through the `corpus_logs` fixture with its reason."""
    logs = corpus_logs_list()
    if not logs:
        return [pytest.param("corpus-absent", id="corpus-absent")]
    return [pytest.param(p.name, id=p.name) for p in logs]


# ---------------------------------------------------------------------------------------------
# fixtures


def pytest_configure(config):
    config.addinivalue_line("markers", "c_engine: needs the compiled C engine (ollalog._core); "
                                       "deselect with -k 'not c_engine' or -m 'not c_engine'")


@pytest.fixture(params=[pytest.param("python", id="python_engine"),
                        pytest.param("c", id="c_engine", marks=pytest.mark.c_engine)])
def engine(request) -> str:
    """"python" (the reference parser) or "c" (ollalog._core.Engine, which must be built)."""
    if request.param == "c":
        import ollalog._core  # noqa: F401  -- an ImportError here means the extension is not built
    return request.param


@pytest.fixture(scope="session")
def corpus_logs() -> dict[str, Path]:
    """Corpus logs by file name; skips with "corpus not present" when the folder is absent."""
    logs = corpus_logs_list()
    if not logs:
        pytest.skip("corpus not present")
    return {p.name: p for p in logs}


@pytest.fixture(scope="session")
def many_loads(tmp_path_factory):
    """Two generated logs with dozens of loads: one server run, and two runs one after the other."""
    d = tmp_path_factory.mktemp("many")
    for seed in (1, 2):
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "gen_log.py"), "--size", "4MiB", "--seed", str(seed),
                        "-o", str(d / f"g{seed}")], check=True, capture_output=True)
    (d / "one.log").write_bytes((d / "g1").read_bytes())
    (d / "two.log").write_bytes((d / "g1").read_bytes() + (d / "g2").read_bytes())
    return d


@pytest.fixture
def log_file(tmp_path):
    """Write bytes to tmp_path/<folder>/<name> and return the path (the folder is the file's host)."""

    def write(data: bytes, name: str = "server.log", folder: str = "h1") -> Path:
        d = tmp_path / folder
        d.mkdir(parents=True, exist_ok=True)
        p = d / name
        p.write_bytes(data)
        return p

    return write


# ---------------------------------------------------------------------------------------------
# helpers


def physical_lines(data: bytes) -> int:
    """The real line count of a file: newlines, plus a final line without one."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def corpus_misses(truth: dict, loads: list[dict]) -> list[str]:
    """What ../shared/hooks/corpus-check.py counts against a file: expected loads (placement
    non-null) that no distinct row matches on placement, layers_offloaded, layers_total and
    ctx_size (each only where the json has it), outcomes of matched loads that differ, placements
    claimed where the reader could not tell, and a different number of loads."""
    pool = list(loads)
    out = []
    if len(loads) != len(truth.get("loads", [])):
        out.append(f"{len(loads)} loads, the reader counts {len(truth.get('loads', []))}")
    for t in truth.get("loads", []):
        if t.get("placement") is None:
            continue
        expect = {k: t.get(k) for k in LOAD_KEYS if t.get(k) is not None}
        hit = next((g for g in pool if all(g.get(k) == v for k, v in expect.items())), None)
        if hit is None:
            left = [{k: g.get(k) for k in LOAD_KEYS} for g in pool]
            out.append(f"want {expect}; loads left: {left}")
            continue
        pool.remove(hit)
        if t.get("outcome") and hit.get("outcome") != t["outcome"]:
            out.append(f"outcome {hit.get('outcome')!r}, the reader says {t['outcome']!r}")
    for t in truth.get("loads", []):
        if t.get("placement") is not None:
            continue
        expect = {k: t.get(k) for k in LOAD_KEYS[1:] if t.get(k) is not None}
        hit = next((g for g in pool if all(g.get(k) == v for k, v in expect.items())), None)
        if hit is not None:
            pool.remove(hit)
            if hit.get("placement") is not None and "placement" not in (t.get("disputed") or []):
                out.append(f"placement {hit['placement']!r} ({hit.get('placement_basis')}), the reader cannot tell")
    return out


# keys of an expected load that are not columns of `loads`: the cause is `ollalog why`'s verdict
NOT_LOAD_COLUMNS = {"cause"}


def sample_mismatches(truth: dict, loads: list[dict]) -> list[str]:
    """The project's own samples: every expected load, in log order, equal on every key of its
    .json that is a column of `loads`; no load missing, none extra."""
    from ollalog import schema as S

    columns = {n for n, _, _ in S.LOADS}
    out = []
    want = truth.get("loads", [])
    for i, t in enumerate(want):
        unknown = set(t) - columns - NOT_LOAD_COLUMNS
        if unknown:
            out.append(f"load {i}: keys {sorted(unknown)} are neither loads columns nor known")
        if i >= len(loads):
            out.append(f"load {i} missing: want {t}")
            continue
        diff = {k: (loads[i].get(k), v) for k, v in t.items() if k in columns and loads[i].get(k) != v}
        if diff:
            out.append(f"load {i} (line {loads[i]['line']}): " +
                       ", ".join(f"{k} is {g!r}, want {w!r}" for k, (g, w) in diff.items()))
    for g in loads[len(want):]:
        out.append(f"extra load at line {g['line']}: {({k: g[k] for k in LOAD_KEYS})}")
    return out


def check_log_against_json(log: Path, engine: str, strict: bool = False) -> None:
    """The checks of the corpus and sample logs: line accounting, then the expected loads, by
    the corpus-check rule or (strict, for the project's own samples) on every key."""
    misses = log_misses(log, engine, strict)
    assert misses == [], f"{log.name}: " + "; ".join(misses)


def log_misses(log: Path, engine: str, strict: bool = False) -> list[str]:
    """Asserts the line accounting of `log`; returns how its loads differ from its .json."""
    import ollalog

    data = log.read_bytes()
    t = ollalog.read(str(log), engine=engine)
    assert t.errors == []
    rows = t.lines.to_pylist()
    assert len(rows) == 1
    ln = rows[0]
    assert ln["malformed"] == 0, f"{log.name}: {ln['malformed']} malformed lines"
    assert ln["physical"] == ln["parsed"] + ln["unknown"] + ln["malformed"]
    assert ln["physical"] == physical_lines(data)
    truth = json.loads(log.with_suffix(".json").read_text(encoding="utf-8"))
    loads = t.loads.to_pylist()
    return sample_mismatches(truth, loads) if strict else corpus_misses(truth, loads)


def tables_pylist(t) -> dict[str, list[dict]]:
    """All five tables of a read as lists of rows (order kept)."""
    return {name: t[name].to_pylist() for name in TABLE_NAMES}


def assert_tables_equal(got, want, label: str = "") -> None:
    """Table-by-table equality of two reads, with the first differing row in the message; and the
    same input errors (read with `on_error`)."""
    errs = [[(e.path, e.reason) for e in t.errors] for t in (got, want)]
    assert errs[0] == errs[1], f"{label} errors differ: {errs[0]} vs {errs[1]}"
    for name in TABLE_NAMES:
        for t in (got, want):  # every batch passes pyarrow's full validation (offsets, UTF-8, dictionaries)
            for batch in t[name].to_batches():
                batch.validate(full=True)
        g, w = got[name].to_pylist(), want[name].to_pylist()
        if g != w:
            first = next((i for i, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
            pytest.fail(f"{label} table {name} differs: {len(g)} vs {len(w)} rows; first difference at row "
                        f"{first}:\n got  {g[first] if first < len(g) else None}\n want {w[first] if first < len(w) else None}")


def rows(table, drop=("file", "file_id", "byte_offset")) -> list[dict]:
    """Rows of a table without the columns in `drop`: by default the tmp file's path and identity,
    and byte offsets (tests/test_identity.py checks those)."""
    return [{k: v for k, v in r.items() if k not in drop} for r in table.to_pylist()]


def cli_env() -> dict:
    """Environment for a CLI subprocess: src on PYTHONPATH when the package is used from src."""
    env = dict(os.environ)
    import ollalog

    here = Path(ollalog.__file__).resolve()
    if SRC in here.parents:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env.pop("COLUMNS", None)
    env["NO_COLOR"] = "1"
    return env


def run_cli(*args, input: bytes | None = None, timeout: float = 120, cwd=None) -> subprocess.CompletedProcess:
    """`python -m ollalog ARGS...` in a subprocess; stdout/stderr as text."""
    p = subprocess.run([sys.executable, "-m", "ollalog", *map(str, args)], input=input,
                       capture_output=True, timeout=timeout, env=cli_env(), cwd=cwd)
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p


# A small v0.5.7-era server log with one load that lands on the CPU (0/65 layers, ctx 262144 =
# 131072 x 2); used by the input and CLI tests.
BLOB = "6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93"
SEED_LOG = (
    '2025/02/01 10:00:00 routes.go:1187: INFO server config env="map[CUDA_VISIBLE_DEVICES: '
    'OLLAMA_CONTEXT_LENGTH:131072 OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_NUM_PARALLEL:2]"\n'
    'time=2025-02-01T10:00:00.100+01:00 level=INFO source=routes.go:1238 msg="Listening on [::]:11434 (version 0.5.7)"\n'
    'time=2025-02-01T10:00:00.900+01:00 level=INFO source=types.go:131 msg="inference compute" '
    'id=GPU-6f3c2a1e-1111-2222-3333-444455556666 library=cuda variant=v12 compute=8.9 driver=12.4 '
    'name="NVIDIA GeForce RTX 4090" total="23.6 GiB" available="23.3 GiB"\n'
    '[GIN] 2025/02/01 - 10:00:05 | 200 |     546.252\u00b5s |       127.0.0.1 | GET      "/api/tags"\n'
    'time=2025-02-01T10:00:06.000+01:00 level=INFO source=server.go:104 msg="system memory" total="62.7 GiB" '
    'free="58.1 GiB" free_swap="8.0 GiB"\n'
    'time=2025-02-01T10:00:06.010+01:00 level=INFO source=memory.go:356 msg="offload to cuda" layers.requested=-1 '
    'layers.model=65 layers.offload=0 layers.split="" memory.available="[23.3 GiB]" memory.gpu_overhead="0 B" '
    'memory.required.full="85.7 GiB" memory.required.partial="0 B" memory.required.kv="64.0 GiB" '
    'memory.required.allocations="[0 B]" memory.weights.total="82.4 GiB" memory.weights.repeating="81.8 GiB" '
    'memory.weights.nonrepeating="609.1 MiB" memory.graph.full="26.0 GiB" memory.graph.partial="26.0 GiB"\n'
    'time=2025-02-01T10:00:06.020+01:00 level=INFO source=server.go:376 msg="starting llama server" '
    'cmd="/usr/lib/ollama/runners/cuda_v12_avx/ollama_llama_server runner --model '
    f'/root/.ollama/models/blobs/sha256-{BLOB} --ctx-size 262144 --batch-size 512 --n-gpu-layers 0 '
    '--threads 16 --parallel 2 --port 40000"\n'
    'llm_load_tensors: offloaded 0/65 layers to GPU\n'
    'llm_load_tensors:   CPU_Mapped model buffer size = 18926.01 MiB\n'
    'llama_new_context_with_model: n_ctx      = 262144\n'
    'time=2025-02-01T10:00:18.500+01:00 level=INFO source=server.go:594 msg="llama runner started in 12.48 seconds"\n'
    '[GIN] 2025/02/01 - 10:00:30 | 200 |         24.5s |       127.0.0.1 | POST     "/api/generate"\n'
).encode("utf-8")
SEED_LOG_LINES = 12
