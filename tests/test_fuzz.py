"""The C core under AddressSanitizer + UndefinedBehaviorSanitizer (docs/fuzzing.md): its C tests in
a sanitizer build, the sample logs (and the shared corpus when present) read in many chunkings with
every batch validated, the fuzz regression inputs replayed, and a bounded libFuzzer run (two
minutes; OLLALOG_FUZZ_SECONDS sets another length) from seeds made of the same logs.

Needs clang (libFuzzer ships with it): `apt install clang cmake`; skips with that reason without.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS_DIR, REPO

CLANG = shutil.which("clang")
pytestmark = pytest.mark.skipif(CLANG is None or shutil.which("cmake") is None,
                                reason="needs clang and cmake for the sanitizer and fuzz builds (apt install clang cmake)")
FUZZ_SECONDS = int(os.environ.get("OLLALOG_FUZZ_SECONDS", "120"))
SAN_ENV = {"ASAN_OPTIONS": "abort_on_error=1:detect_leaks=1:malloc_context_size=5",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


def _run(argv, timeout=1800, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **SAN_ENV}, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, argv))}: exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}"
    return p


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """One clang build with -DOLLALOG_FUZZ=ON: the core, the C tests and the fuzz target, all
    under ASan + UBSan."""
    b = tmp_path_factory.mktemp("fuzz-build")
    _run(["cmake", "-S", REPO, "-B", b, f"-DCMAKE_C_COMPILER={CLANG}", "-DOLLALOG_FUZZ=ON",
          "-DCMAKE_BUILD_TYPE=RelWithDebInfo"])
    _run(["cmake", "--build", b, "-j", "2"])
    cache = (b / "CMakeCache.txt").read_text()
    assert "OLLALOG_FUZZ:BOOL=ON" in cache and "OLLALOG_C_TESTS:BOOL=ON" in cache
    return b


def test_c_tests_pass_under_sanitizers(build):
    out = _run(["ctest", "--test-dir", build, "--output-on-failure"]).stdout
    assert "100% tests passed" in out, out


def test_corpus_reads_in_every_chunking_under_sanitizers(build):
    if not CORPUS_DIR.is_dir():
        pytest.skip("corpus not present")
    out = _run([build / "replay_test", "--log", CORPUS_DIR]).stdout
    n = len(list(CORPUS_DIR.glob("*.log")))
    assert out.startswith(f"ok: {n} logs"), out


def test_bounded_fuzz_run_finds_nothing(build, tmp_path):
    seeds, corpus = tmp_path / "seeds", tmp_path / "corpus"
    corpus.mkdir()
    logs = [REPO / "sample_logs"] + ([CORPUS_DIR] if CORPUS_DIR.is_dir() else [])
    _run([sys.executable, REPO / "csrc" / "fuzz" / "make_seeds.py", seeds, *logs])
    p = _run([build / "csrc" / "fuzz" / "ol_fuzz_engine", f"-max_total_time={FUZZ_SECONDS}", "-max_len=8192",
              f"-dict={REPO / 'csrc' / 'fuzz' / 'ollalog.dict'}", f"-artifact_prefix={tmp_path}/",
              "-print_final_stats=1", corpus, seeds], timeout=FUZZ_SECONDS + 600)
    runs = re.search(r"^stat::number_of_executed_units: *(\d+)$", p.stderr, re.M)
    assert runs, p.stderr[-3000:]
    runs = int(runs.group(1))
    assert runs > 1000, p.stderr[-3000:]
    assert not [f for f in os.listdir(tmp_path) if f.startswith(("crash-", "leak-", "timeout-", "oom-"))]
