"""The README's examples, run the way a new user runs them: every ```sh line and every ```python
block, in document order, in a fresh virtual environment, in a fresh copy of this checkout (no build
directory, no installed package, no pip cache), with the README's own commands doing the installing.

Slow (it builds the package from source more than once, and its test command runs the whole suite
again in the copy, where this test skips itself), but part of the normal run: the README cannot lie.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

NESTED = "OLLALOG_README_TEST"  # set for the suite the README's test command runs inside the copy
SKIP_NAMES = {".git", ".venv", "venv", "build", "dist", "out", "__pycache__", ".pytest_cache", ".hypothesis"}
TIMEOUT = 1800


def readme_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)]


def shell_lines(code: str) -> list[str]:
    return [ln for ln in code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def _copy_checkout(dst) -> None:
    def ignore(folder, names):
        return [n for n in names if n in SKIP_NAMES or n.endswith((".egg-info", ".so", ".pyc"))
                or (n == "_core.c" and folder.endswith(os.path.join("src", "ollalog")))]
    shutil.copytree(REPO, dst, ignore=ignore, symlinks=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    if os.environ.get(NESTED):
        pytest.skip("running inside the README test's own run of the test command")
    root = tmp_path_factory.mktemp("readme")
    work = root / "ollalog"
    _copy_checkout(work)
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=600)
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    env.update(PATH=str(env_dir / "bin") + os.pathsep + env.get("PATH", ""), VIRTUAL_ENV=str(env_dir),
               HOME=str(home), SHELL="/bin/bash", PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               NO_COLOR="1", **{NESTED: "1"})
    env.pop("COLUMNS", None)
    return work, env


def _run(cmd: list[str], work, env) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def test_readme_examples_run_in_a_fresh_environment(fresh):
    work, env = fresh
    blocks = readme_blocks((work / "README.md").read_text(encoding="utf-8"))
    assert any(lang == "python" for lang, _ in blocks) and any(lang == "sh" for lang, _ in blocks)
    outputs: dict[str, str] = {}
    ran = 0
    for i, (lang, code) in enumerate(blocks):
        if lang == "sh":
            steps = [(ln, ["bash", "-o", "pipefail", "-c", ln]) for ln in shell_lines(code)]
        elif lang == "python":
            script = work / f".readme_block_{i}.py"
            script.write_text(code, encoding="utf-8")
            steps = [(code, ["python3", str(script)])]
        else:
            continue
        for shown, cmd in steps:
            p = _run(cmd, work, env)
            ran += 1
            out = p.stdout + p.stderr
            assert p.returncode == 0, f"README example failed ({p.returncode}):\n{shown}\n--- output ---\n{out[-4000:]}"
            assert "Traceback" not in out, f"{shown}\n{out[-4000:]}"
            outputs[shown] = p.stdout
    assert ran >= 12, ran

    # what the examples' comments promise
    first = next(o for c, o in outputs.items() if c.startswith("python3 -m pip install . && python3 -m ollalog"))
    assert "CPU 0/65" in first, first[-3000:]
    summary = next(o for c, o in outputs.items() if c.startswith("ollalog parse sample_logs/v0.6.8"))
    assert re.search(r"v0\.6\.8-docker-t-oom\.log:36 .* Meta Llama 3\.1 8B Instruct\s+partial\s+17/33", summary), summary
    assert sorted(os.listdir(work / "out")) == sorted(f"{n}.parquet" for n in
                                                      ("events", "requests", "loads", "gpus", "lines"))
    assert (work / "loads.parquet").is_file()
    for page in ("report.html", "fleet.html"):      # ollalog report: one page, plotly.js inside it
        assert (work / page).stat().st_size > 1 << 20, page
    assert (work / "report.md").read_text(encoding="utf-8").startswith("# ollalog report\n")
    tests = next(o for c, o in outputs.items() if "pytest" in c)
    assert re.search(r"\d+ passed", tests) and " failed" not in tests, tests[-2000:]
    errors = next(o for c, o in outputs.items() if "ollalog.InputError" in c)
    assert errors.splitlines()[0] == "missing.log: no such file or directory"
    assert errors.splitlines()[-1] == "1 10"
    assert (work.parent / "home" / ".bash_completions" / "ollalog.sh").is_file()  # --install-completion


def test_readme_blocks_are_found():
    """The parser of this test finds the README's blocks (a cheap check that runs everywhere)."""
    blocks = readme_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    langs = [lang for lang, _ in blocks]
    assert langs.count("python") >= 2 and langs.count("sh") >= 3
    cmds = [ln for lang, code in blocks if lang == "sh" for ln in shell_lines(code)]
    assert "python3 -m pip install '.[test]' && python3 -m pytest -q tests" in cmds
    assert all(not re.search(r"\b(server\.log|huge\.log|host2/|logs/)\s", c) for c in cmds), cmds


def test_tables_doc_is_current():
    """docs/tables.md is generated from schema.py (`python -m ollalog.docs > docs/tables.md`)."""
    from ollalog.docs import tables_markdown
    assert (REPO / "docs" / "tables.md").read_text(encoding="utf-8") == tables_markdown()
