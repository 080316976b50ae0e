"""The C core builds and passes its own C tests with CMake alone (no Python, no scikit-build):
`cmake -S . -B BUILD && cmake --build BUILD && ctest --test-dir BUILD`."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import REPO


@pytest.mark.skipif(shutil.which("cmake") is None or (shutil.which("cc") or shutil.which("gcc")) is None,
                    reason="needs cmake and a C compiler (apt install cmake gcc)")
def test_c_core_builds_and_passes_its_c_tests_without_python(tmp_path):
    build = tmp_path / "build"

    def run(*argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"{' '.join(map(str, argv))}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        return p

    run("cmake", "-S", str(REPO), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release")
    cache = (build / "CMakeCache.txt").read_text()
    assert "OLLALOG_PYTHON:BOOL=OFF" in cache  # the plain build does not look for Python
    run("cmake", "--build", str(build), "-j", "2")
    out = run("ctest", "--test-dir", str(build), "--output-on-failure").stdout
    assert "100% tests passed" in out, out
