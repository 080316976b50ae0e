"""Hostile strings read from a log: they are shown, bound or escaped, never obeyed.

Elsewhere: model names typed or read are checked by Ollama's name rules before a models dir is
touched (test_models.py::test_hostile_names_never_reach_the_filesystem, test_why.py), host names
from prefixes are encoded before they name a partition folder
(test_ingest.py::test_hostile_host_names_never_become_paths and ::test_hostile_host_from_a_journald_prefix).
"""
from __future__ import annotations

import json

import pytest

from conftest import SAMPLE_DIR, run_cli

SEED = (SAMPLE_DIR / "seed-deepseek-r1-32b.log").read_bytes()
NAME = b"DeepSeek R1 Distill Qwen 32B"
# a terminal title, a bell, a screen reset, an 8-bit CSI, a Markdown code span closed early
TERMINAL = "Evil\x1b]0;owned\x07\x1bc\u009b31m`x`"
SQL = "x' OR '1'='1"


def _log(tmp_path, name: str):
    assert NAME in SEED
    f = tmp_path / "server.log"
    f.write_bytes(SEED.replace(NAME, name.encode()))
    return f


def _clean(text: str) -> None:
    for c in ("\x1b", "\x07", "\u009b"):
        assert c not in text, repr(text[max(0, text.find(c) - 40):text.find(c) + 40])


@pytest.mark.parametrize("argv", [("parse",), ("why", "--all"), ("why", "--all", "--format", "markdown"),
                                  ("why", "deepseek-r1:32b"), ("sql", "SELECT general_name FROM loads"),
                                  ("report", "--format", "markdown"), ("watch", "--once")],
                         ids=["parse", "why", "why-markdown", "why-error", "sql", "report-markdown", "watch"])
def test_log_text_cannot_drive_the_terminal(tmp_path, argv):
    f = _log(tmp_path, TERMINAL)
    args = [*argv[:1], f, *argv[1:]] if argv[0] == "sql" else [*argv, f]
    p = run_cli(*args)
    assert p.returncode in (0, 1), p.stderr
    _clean(p.stdout)
    _clean(p.stderr)
    assert "Evil\\x1b]0;owned\\x07\\x1bc" in p.stdout + p.stderr  # shown, escaped
    if argv[0] == "why" and "markdown" in argv:
        # the model's heading is one code span that the backticks in the name do not close
        (head,) = [ln for ln in p.stdout.splitlines() if ln.startswith("### ")]
        assert head.startswith("### ``Evil") and head.endswith("``"), head


def test_json_keeps_log_text_exact_and_escaped(tmp_path):
    f = _log(tmp_path, TERMINAL)
    p = run_cli("why", "--all", f, "--format", "json")
    assert p.returncode == 0, p.stderr
    _clean(p.stdout)  # JSON writes control characters as \u escapes
    assert json.loads(p.stdout)["models"][0]["model"].startswith(TERMINAL)  # and nothing lost


def test_sql_values_from_a_log_are_bound(tmp_path):
    f = _log(tmp_path, SQL)
    q = "SELECT count(*) AS n FROM loads WHERE general_name = $name"
    p = run_cli("sql", f, q, "-p", f"name={SQL}", "--format", "json")
    assert (p.returncode, json.loads(p.stdout)) == (0, [{"n": 2}]), p.stderr
    p = run_cli("sql", f, q, "-p", "name=' OR 1=1 --", "--format", "json")
    assert (p.returncode, json.loads(p.stdout)) == (0, [{"n": 0}]), p.stderr
