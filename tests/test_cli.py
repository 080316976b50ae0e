"""`ollalog parse`: exit codes, one-line errors, outputs."""
from __future__ import annotations

import os
import time
import random

import pyarrow.parquet as pq
import pytest

from ollalog import schema as S
from conftest import SEED_LOG, SEED_LOG_LINES, TABLE_NAMES, run_cli


def _one_error_line(stderr: str, *needles: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ollalog: error: "), stderr
    for n in needles:
        assert n in lines[0], (n, stderr)
    return lines[0]


def _lines_table(out) -> list[dict]:
    return pq.read_table(out / "lines.parquet").to_pylist()


def test_missing_file(tmp_path, engine):
    missing = tmp_path / "missing.log"
    p = run_cli("parse", missing, "--engine", engine, "-q")
    assert p.returncode == 1
    line = _one_error_line(p.stderr, str(missing))
    assert line == f"ollalog: error: {missing}: no such file or directory"


def test_directory_without_logs(tmp_path, engine):
    d = tmp_path / "nologs"
    d.mkdir()
    (d / "notes.md").write_text("hello\n")
    p = run_cli("parse", d, "--engine", engine, "-q")
    assert p.returncode == 1
    _one_error_line(p.stderr, str(d), "directory holds no log files")


def test_binary_garbage(tmp_path, engine):
    rnd = random.Random(5)
    data = bytearray(rnd.randbytes(200_000))
    for i in range(0, len(data), 50):
        data[i] = 0
    f = tmp_path / "garbage.log"
    f.write_bytes(bytes(data))
    out = tmp_path / "out"
    p = run_cli("parse", f, "--engine", engine, "-q", "-o", out)
    assert p.returncode == 1
    _one_error_line(p.stderr, str(f), "not a text log (binary data)")
    (ln,) = _lines_table(out)
    assert (ln["file"], ln["error"], ln["physical"]) == (str(f), "not a text log (binary data)", 0)


def test_empty_file(tmp_path, engine):
    f = tmp_path / "empty.log"
    f.write_bytes(b"")
    out = tmp_path / "out"
    p = run_cli("parse", f, "--engine", engine, "-o", out)
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout.startswith("read 1 file: 0 lines")
    (ln,) = _lines_table(out)
    assert (ln["file"], ln["physical"], ln["parsed"], ln["unknown"], ln["malformed"], ln["bytes"], ln["error"]) == (
        str(f), 0, 0, 0, 0, 0, None)


@pytest.fixture(scope="module")
def hundred_mb_line(tmp_path_factory):
    f = tmp_path_factory.mktemp("big") / "oneline.log"
    block = b"x" * (1 << 20)
    with open(f, "wb") as fh:
        fh.write(SEED_LOG)           # an Ollama log (a file with no Ollama line at all is an error)
        for _ in range(100):
            fh.write(block)
        fh.write(b"\n")
    return f


def test_100mb_single_line(tmp_path, engine, hundred_mb_line):
    """An Ollama log with one huge line: read, the line cut and counted, exit 0 (speed is
    measured in benchmarks/, not here)."""
    out = tmp_path / "out"
    p = run_cli("parse", hundred_mb_line, "--engine", engine, "-q", "-o", out, timeout=600)
    assert (p.returncode, p.stderr, p.stdout) == (0, "", "")
    (ln,) = _lines_table(out)
    assert (ln["physical"], ln["oversized"], ln["malformed"], ln["bytes"]) == \
        (SEED_LOG_LINES + 1, 1, 1, len(SEED_LOG) + 100 * (1 << 20) + 1)


def test_several_inputs_one_missing(tmp_path, engine):
    d = tmp_path / "h1"
    d.mkdir()
    a, b = d / "a.log", d / "b.log"
    a.write_bytes(SEED_LOG)
    b.write_bytes(SEED_LOG)
    missing = d / "missing.log"
    out = tmp_path / "out"
    p = run_cli("parse", a, missing, b, "--engine", engine, "-q", "-o", out)
    assert p.returncode == 1
    _one_error_line(p.stderr, str(missing), "no such file or directory")
    got = [(r["file"], r["physical"], r["error"]) for r in _lines_table(out)]
    assert got == [(str(a), SEED_LOG_LINES, None), (str(b), SEED_LOG_LINES, None)]
    assert pq.read_table(out / "loads.parquet").num_rows == 2


def test_out_writes_all_tables(tmp_path, engine):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(SEED_LOG)
    out = tmp_path / "out"
    p = run_cli("parse", f, "--engine", engine, "-o", out)
    assert (p.returncode, p.stderr) == (0, "")
    assert sorted(os.listdir(out)) == sorted(f"{n}.parquet" for n in TABLE_NAMES)
    for n in TABLE_NAMES:
        assert pq.read_schema(out / f"{n}.parquet").names == S.schema(n).names
    loads = pq.read_table(out / "loads.parquet").to_pylist()
    assert [(r["placement"], r["layers_offloaded"], r["layers_total"], r["ctx_size"], r["parallel"])
            for r in loads] == [("cpu", 0, 65, 262144, 2)]
    assert pq.read_table(out / "events.parquet").num_rows == 10
    assert pq.read_table(out / "requests.parquet").num_rows == 2
    assert pq.read_table(out / "gpus.parquet").num_rows == 1
    assert "loads    1  (cpu 1)" in p.stdout
    assert f"wrote {out}/" in p.stdout


def test_out_writes_empty_tables(tmp_path, engine):
    f = tmp_path / "blank.log"
    f.write_bytes(b"\n\n")
    out = tmp_path / "out"
    p = run_cli("parse", f, "--engine", engine, "-q", "-o", out)
    assert p.returncode == 0
    for n in ("events", "requests", "loads", "gpus"):
        t = pq.read_table(out / f"{n}.parquet")
        assert (t.num_rows, t.schema.names) == (0, S.schema(n).names)
    assert [(r["physical"], r["blank"]) for r in _lines_table(out)] == [(2, 2)]


def test_out_is_a_file(tmp_path, engine):
    f = tmp_path / "server.log"
    f.write_bytes(SEED_LOG)
    out = tmp_path / "out.txt"
    out.write_text("x")
    p = run_cli("parse", f, "--engine", engine, "-o", out)
    assert p.returncode == 1
    _one_error_line(p.stderr, str(out), "not a directory")


def test_schema_prints_every_table():
    p = run_cli("parse", "--schema")
    assert (p.returncode, p.stderr) == (0, "")
    for n in TABLE_NAMES:
        assert f"{n}:" in p.stdout.splitlines()
        for col, typ, desc in S.describe(n):
            assert any(line.split()[:1] == [col] and desc in line for line in p.stdout.splitlines()), (n, col)


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown"])
def test_schema_in_every_format(fmt):
    p = run_cli("parse", "--schema", "--format", fmt)
    assert (p.returncode, p.stderr) == (0, "")
    want = [(t, c) for t in TABLE_NAMES for c, _, _ in S.describe(t)]
    if fmt == "json":
        got = [(r["table"], r["column"]) for r in json.loads(p.stdout)]
    elif fmt == "csv":
        got = [(r["table"], r["column"]) for r in csv.DictReader(io.StringIO(p.stdout))]
    else:
        got = [tuple(c.strip() for c in line.split("|")[1:3]) for line in p.stdout.splitlines()[2:]]
    assert got == want


def test_unknown_engine_exits_2(tmp_path):
    f = tmp_path / "server.log"
    f.write_bytes(SEED_LOG)
    p = run_cli("parse", f, "--engine", "foo")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "--engine" in p.stderr


def test_no_logs_exits_2():
    p = run_cli("parse")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr


def test_unknown_option_exits_2():
    p = run_cli("parse", "--no-such-option")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr


def test_unknown_lists_shapes(tmp_path, engine):
    f = tmp_path / "server.log"
    f.write_bytes(SEED_LOG + b"\nwhat 12 is this\nwhat 345 is this\n"
                  b"Apr 27 10:00:01 host1 ollama[1]: thing at 0xc000123456 GPU-6f3c2a1e-1111\n")
    p = run_cli("parse", f, "--engine", engine, "--unknown", "-q")
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout.splitlines() == [
        "unknown lines: 3 in 2 shapes:",
        "  2  what <n> is this",
        f"     first: {f}:{SEED_LOG_LINES + 2}: what 12 is this",
        "  1  thing at <addr> GPU-<id>",
        f"     first: {f}:{SEED_LOG_LINES + 4}: thing at 0xc000123456 GPU-6f3c2a1e-1111",
    ]


def test_unknown_none(tmp_path, engine):
    f = tmp_path / "server.log"
    f.write_bytes(SEED_LOG + b"\n\n")
    p = run_cli("parse", f, "--engine", engine, "--unknown")
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout.splitlines()[0].startswith("read 1 file")
    assert p.stdout.splitlines()[-1] == "unknown lines: none (blank lines aside)"


# ---------------------------------------------------------------------------------------------
# the conventions of issue 10: help, version, completion, formats, pipes, interrupts, outputs

import csv
import io
import json
import re
import shutil
import signal
import subprocess
import sys

from conftest import SAMPLE_DIR, cli_env

TYPE_TAG = re.compile(r"<(bool|str|int|float|list|path|text|integer)[^>]*>|\b(TEXT|INTEGER|BOOLEAN|FLOAT)\b")


def _commands() -> list[str]:
    import typer.main
    from ollalog.cli import app
    group = typer.main.get_command(app)
    return sorted(group.commands if hasattr(group, "commands") else group.list_commands(None))


def _help_items(text: str, section: str) -> list[tuple[str, str]]:
    """(name, help) of each item of a help section ('Options:', 'Arguments:')."""
    lines = text.splitlines()
    if f"{section}:" not in lines:
        return []
    items, cur = [], None
    for line in lines[lines.index(f"{section}:") + 1:]:
        if not line.strip():
            break
        m = re.match(r"  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        if m and not line.startswith("    "):
            cur = [m.group(1), m.group(2) or ""]
            items.append(cur)
        elif cur is not None:
            cur[1] += " " + line.strip()
    return [tuple(i) for i in items]


@pytest.mark.parametrize("cmd", [[]] + [[c] for c in _commands()], ids=lambda c: " ".join(["ollalog"] + c))
def test_help_reads_as_written_by_a_person(cmd):
    p = run_cli(*cmd, "--help")
    assert (p.returncode, p.stderr) == (0, "")
    assert not TYPE_TAG.search(p.stdout), TYPE_TAG.search(p.stdout).group(0)
    assert "Usage: ollalog" in p.stdout
    opts = _help_items(p.stdout, "Options")
    assert opts, p.stdout
    for name, text in opts + _help_items(p.stdout, "Arguments"):
        assert len(text.split()) >= 2, f"{name!r} is not explained: {text!r}"


def test_every_command_is_registered_with_the_shared_conventions():
    import typer.main
    from ollalog.cli import app
    from ollalog.cli.common import OllalogCommand
    group = typer.main.get_command(app)
    for name in _commands():
        assert isinstance(group.get_command(None, name), OllalogCommand), name


def test_parse_help_explains_every_option():
    p = run_cli("parse", "--help")
    names = " ".join(n for n, _ in _help_items(p.stdout, "Options"))
    for opt in ("--out", "--format", "--host", "--year", "--engine", "--quiet", "--progress", "--schema",
                "--debug", "--help"):
        assert opt in names, opt


def test_version():
    import ollalog
    for args in (["--version"], ["--version", "parse"]):
        p = run_cli(*args)
        assert (p.returncode, p.stdout, p.stderr) == (0, f"ollalog {ollalog.__version__}\n", "")


def _script() -> str:
    """The installed `ollalog` console script (completion needs the program, not python -m)."""
    here = os.path.join(os.path.dirname(sys.executable), "ollalog")
    found = here if os.path.exists(here) else shutil.which("ollalog")
    assert found, "the ollalog console script is not installed next to this Python"
    return found


def test_completion_script_and_answers():
    p = run_cli("--show-completion", "bash")
    assert p.returncode == 0 and "_ollalog_completion" in p.stdout and "complete " in p.stdout

    def complete(*words):
        env = dict(cli_env(), _OLLALOG_COMPLETE="complete_bash", COMP_WORDS=" ".join(("ollalog",) + words),
                   COMP_CWORD=str(len(words)))
        q = subprocess.run([_script()], env=env, capture_output=True, text=True, timeout=60)
        assert q.returncode == 0, q.stderr
        return q.stdout.split()

    assert "parse" in complete("pa")
    assert "--format" in complete("parse", "--fo")
    assert complete("parse", "--format", "") == ["text", "json", "csv", "markdown"]


def test_install_completion_into_bash(tmp_path):
    env = dict(cli_env(), HOME=str(tmp_path), SHELL="/bin/bash")
    p = subprocess.run([_script(), "--install-completion", "bash"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    rc = (tmp_path / ".bashrc").read_text()
    script = tmp_path / ".bash_completions" / "ollalog.sh"
    assert str(script) in rc and script.exists()
    if shutil.which("bash"):
        env["PATH"] = os.path.dirname(_script()) + os.pathsep + env.get("PATH", "")
        q = subprocess.run(["bash", "-c", f"source {script}; COMP_WORDS=(ollalog pa); COMP_CWORD=1; "
                                          "_ollalog_completion ollalog; echo ${COMPREPLY[@]}"],
                           env=env, capture_output=True, text=True, timeout=60)
        assert q.stdout.split() == ["parse"], q.stdout + q.stderr


def _write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_format_json(tmp_path):
    f = _write(tmp_path / "gpu01" / "server.log", SEED_LOG)
    p = run_cli("parse", f, "--format", "json")
    assert (p.returncode, p.stderr) == (0, "")
    doc = json.loads(p.stdout)
    (load,) = doc["loads"]
    assert {k: load[k] for k in ("file", "line", "host", "time", "model", "placement", "layers_offloaded",
                                 "layers_total", "ctx_size", "num_ctx", "parallel")} == {
        "file": str(f), "line": 5, "host": "gpu01", "time": "2025-02-01T09:00:06Z", "model": "6150cb382311",
        "placement": "cpu", "layers_offloaded": 0, "layers_total": 65, "ctx_size": 262144, "num_ctx": 131072,
        "parallel": 2}
    (fr,) = doc["files"]
    assert (fr["file"], fr["physical"], fr["loads"], fr["error"]) == (str(f), SEED_LOG_LINES, 1, None)
    assert doc["totals"]["physical"] == SEED_LOG_LINES
    assert [g["name"] for g in doc["gpus"]] == ["NVIDIA GeForce RTX 4090"]


def test_format_csv_lists_every_load():
    p = run_cli("parse", SAMPLE_DIR, "-f", "csv")
    assert (p.returncode, p.stderr) == (0, "")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 14
    seed = [r for r in rows if r["file"].endswith("seed-deepseek-r1-32b.log")]
    assert [(r["placement"], r["ctx_size"], r["host"], r["model"]) for r in seed] == [
        ("gpu", "4096", "gpubox", "DeepSeek R1 Distill Qwen 32B"), ("cpu", "262144", "gpubox", "DeepSeek R1 Distill Qwen 32B")]


def test_format_markdown():
    p = run_cli("parse", SAMPLE_DIR / "k8s-cri.log", "--format", "markdown")
    assert (p.returncode, p.stderr) == (0, "")
    lines = p.stdout.splitlines()
    assert "## Loads" in lines and "## Files" in lines
    assert any(line.startswith("| k8s-cri.log | 13 |") and "| llama3.1:8b |" in line for line in lines)


def test_bad_format_is_a_usage_error():
    p = run_cli("parse", SAMPLE_DIR / "k8s-cri.log", "--format", "xml")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "xml" in p.stderr


def test_summary_names_files_by_shortest_unique_path_with_host_time_and_model(tmp_path):
    a = _write(tmp_path / "hosts" / "alpha" / "server.log", SEED_LOG)
    b = _write(tmp_path / "hosts" / "beta" / "server.log", SEED_LOG)
    p = run_cli("parse", a, b)
    assert (p.returncode, p.stderr) == (0, "")
    rows = [line.split() for line in p.stdout.splitlines() if "server.log:5 " in line]
    assert [r[:5] for r in rows] == [["alpha/server.log:5", "alpha", "2025-02-01", "09:00:06", "6150cb382311"],
                                     ["beta/server.log:5", "beta", "2025-02-01", "09:00:06", "6150cb382311"]]
    assert "host" in p.stdout and "time (UTC)" in p.stdout and "model" in p.stdout


def test_summary_prefers_the_gguf_name_to_the_blob():
    p = run_cli("parse", SAMPLE_DIR / "macos-metal.log")
    assert "Llama 3.3 70B Instruct" in p.stdout
    assert "870e94fe5cac" not in p.stdout


def test_summary_counts_each_gpu_once():
    """A 2-GPU box: the server's inventory and the runner's device lines name the same two GPUs."""
    p = run_cli("parse", SAMPLE_DIR / "v0.3.11-compose-ansi.log")
    (line,) = [x for x in p.stdout.splitlines() if x.startswith("  gpus")]
    assert line.split()[:2] == ["gpus", "2"] and "NVIDIA GeForce RTX 4060 Ti x2" in line


def test_same_file_twice_is_read_once(tmp_path):
    f = _write(tmp_path / "h1" / "server.log", SEED_LOG)
    p = run_cli("parse", f, f, tmp_path / "h1")
    assert p.returncode == 0 and p.stdout.startswith("read 1 file:")


DPKG = b"".join(b"2025-06-24 14:36:%02d status installed libc6:amd64 2.36-9+deb12u10\n" % i for i in range(30))


def test_a_log_that_is_not_ollamas_is_an_error(tmp_path):
    dpkg = _write(tmp_path / "dpkg.log", DPKG)
    good = _write(tmp_path / "h1" / "server.log", SEED_LOG)
    out = tmp_path / "out"
    p = run_cli("parse", dpkg, good, "-o", out)
    assert p.returncode == 1
    _one_error_line(p.stderr, str(dpkg), "no Ollama lines found")
    assert "no Ollama lines found in dpkg.log" in p.stdout
    assert pq.read_table(out / "loads.parquet").num_rows == 1  # the rest is still read and written


def test_apt_history_is_not_ollamas(tmp_path):
    from test_grammar import APT_HISTORY
    f = _write(tmp_path / "history.log", APT_HISTORY)
    p = run_cli("parse", f, "-q")
    assert p.returncode == 1
    _one_error_line(p.stderr, "no Ollama lines found")


def test_closed_pipe_is_a_quiet_success():
    r, w = os.pipe()
    os.close(r)  # the reader is gone before anything is written: like `| head` that already quit
    p = subprocess.Popen([sys.executable, "-m", "ollalog", "parse", str(SAMPLE_DIR), "-f", "csv"], stdout=w,
                         stderr=subprocess.PIPE, env=cli_env())
    os.close(w)
    _, err = p.communicate(timeout=120)
    assert (p.returncode, err.decode()) == (0, "")


def test_closed_pipe_keeps_the_failures_already_reported(tmp_path):
    r, w = os.pipe()
    os.close(r)
    p = subprocess.Popen([sys.executable, "-m", "ollalog", "parse", str(tmp_path / "gone.log"), str(SAMPLE_DIR),
                          "-f", "csv"], stdout=w, stderr=subprocess.PIPE, env=cli_env())
    os.close(w)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1
    _one_error_line(err.decode(), "gone.log", "no such file or directory")


def test_out_file_named_after_a_table_writes_that_table(tmp_path):
    out = tmp_path / "loads.parquet"
    p = run_cli("parse", SAMPLE_DIR / "k8s-cri.log", "-o", out)
    assert (p.returncode, p.stderr) == (0, "")
    assert out.is_file()
    assert pq.read_table(out).schema.names == S.schema("loads").names
    assert sorted(os.listdir(tmp_path)) == ["loads.parquet"]
    assert p.stdout.splitlines()[-1] == f"wrote {out}"


def test_out_file_not_named_after_a_table_is_a_usage_error(tmp_path):
    p = run_cli("parse", SAMPLE_DIR / "k8s-cri.log", "-o", tmp_path / "mine.parquet")
    assert p.returncode == 2 and "loads.parquet" in p.stderr
    assert os.listdir(tmp_path) == []


def test_out_folder_with_trailing_slash(tmp_path):
    p = run_cli("parse", SAMPLE_DIR / "k8s-cri.log", "-o", "new/deeper/", cwd=tmp_path)
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout.splitlines()[-1] == "wrote new/deeper/{events,requests,loads,gpus,lines}.parquet"
    assert sorted(os.listdir(tmp_path / "new" / "deeper")) == sorted(f"{n}.parquet" for n in TABLE_NAMES)


SETPRIV = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


@pytest.mark.skipif(not shutil.which("setpriv"), reason="setpriv (util-linux) not installed")
@pytest.mark.parametrize("where", ["folder", "file", "new-folder"])
def test_unwritable_out_is_one_error_line(tmp_path, where):
    ro = tmp_path / "ro"
    ro.mkdir()
    if where == "file":
        (ro / "loads.parquet").write_bytes(b"old")
    ro.chmod(0o555)
    target = {"folder": ro, "file": ro / "loads.parquet", "new-folder": ro / "out"}[where]
    cmd = SETPRIV + [sys.executable, "-m", "ollalog", "parse", str(SAMPLE_DIR / "k8s-cri.log"), "-o", str(target)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=120)
    ro.chmod(0o755)
    assert p.returncode == 1, p.stderr
    _one_error_line(p.stderr, "cannot write", str(ro), "permission denied")
    assert sorted(os.listdir(ro)) == (["loads.parquet"] if where == "file" else [])


def test_parquet_row_groups_are_whole_tables_for_small_runs(tmp_path):
    """One row group per table, not one per input file or batch; a small loads file."""
    for i in range(180):
        _write(tmp_path / "logs" / f"n{i:03d}" / "server.log", SEED_LOG)
    out = tmp_path / "out"
    p = run_cli("parse", tmp_path / "logs", "-q", "-o", out, timeout=300)
    assert (p.returncode, p.stderr) == (0, "")
    for n in TABLE_NAMES:
        md = pq.ParquetFile(out / f"{n}.parquet").metadata
        assert md.num_row_groups == 1, (n, md.num_row_groups)
    assert pq.read_table(out / "loads.parquet").num_rows == 180
    assert pq.read_table(out / "lines.parquet").num_rows == 180
    assert os.path.getsize(out / "loads.parquet") < 64 * 1024


def test_parquet_row_groups_split_large_tables(tmp_path, monkeypatch):
    import pyarrow as pa
    from ollalog.cli import common
    monkeypatch.setattr(common, "ROW_GROUP_ROWS", 10)
    path = tmp_path / "t.parquet"
    schema = pa.schema([("x", pa.int64())])
    w = common.ParquetTables({"t": str(path)}, {"t": schema})
    for i in range(7):
        w.write("t", pa.record_batch([pa.array(range(i * 4, i * 4 + 4))], schema=schema))
    w.close()
    f = pq.ParquetFile(path)
    assert [f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)] == [10, 10, 8]
    assert pq.read_table(path).column("x").to_pylist() == list(range(28))


def test_ctrl_c_leaves_no_partial_parquet(tmp_path):
    """Ctrl-C while writing into a folder of an earlier run: one line, exit 130, the old files as they
    were and no temporary file left."""
    out = tmp_path / "out"
    out.mkdir()
    old = {n: f"old {n}".encode() for n in ("loads.parquet", "events.parquet")}
    for n, data in old.items():
        (out / n).write_bytes(data)
    # Ctrl-C as a terminal sends it: to a process that has not inherited SIGINT ignored (a suite
    # started in the background of a shell without job control passes SIG_IGN on to its children)
    p = subprocess.Popen([sys.executable, "-m", "ollalog", "parse", "-", "-o", str(out)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    line = b'time=2025-04-27T10:00:00.000+02:00 level=INFO source=a.go:1 msg="hello" k=v\n'
    p.stdin.write(line * 300_000)  # more than a row group of events; stdin stays open
    p.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(n.endswith(".tmp") and (out / n).stat().st_size > 0 for n in os.listdir(out)):
            break
        time.sleep(0.05)
    else:
        p.kill()
        pytest.fail("no temporary output appeared")
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130
    assert stderr.decode() == f"ollalog: interrupted; nothing written to {out}/\n"
    assert sorted(os.listdir(out)) == sorted(old)
    assert {n: (out / n).read_bytes() for n in old} == old


def test_year_option(tmp_path):
    f = _write(tmp_path / "h1" / "journal.log", b"Mar 03 10:00:00 host1 ollama[7]: llm_load_tensors: offloaded 1/2 layers to GPU\n")
    out = tmp_path / "out"
    p = run_cli("parse", f, "--year", "2023", "-q", "-o", out)
    assert (p.returncode, p.stderr) == (0, "")
    (row,) = pq.read_table(out / "events.parquet").to_pylist()
    assert (row["time"].year, row["time"].month, row["time"].day, row["prefix_time"]) == (2023, 3, 3, "Mar 03 10:00:00")
    p = run_cli("parse", f, "--year", "0")
    assert p.returncode == 2 and "--year" in p.stderr


_WITHOUT_PANDAS = r"""
import atexit, sys
atexit.register(lambda: print("pandas imported" if "pandas" in sys.modules else "no pandas", file=sys.stderr))
from ollalog.cli import run
sys.argv = ["ollalog", *sys.argv[1:]]
run()
"""


@pytest.mark.parametrize("args", [
    ["parse", "{seed}", "-q", "-o", "{tmp}/out"],
    ["why", "deepseek-r1:32b", "{seed}", "--models-dir", "{models}", "--format", "json"],
    ["sql", "{seed}", "SELECT count(*) FROM loads"],
    ["report", "{seed}", "-o", "{tmp}/r.html"],
])
def test_commands_run_without_pandas(tmp_path, args):
    """pyarrow imports pandas at its first conversion where pandas is installed (about 60 MB and
    0.3 s a command); the console script keeps it out, and every command works without it."""
    pytest.importorskip("pandas")  # installed, or the test cannot tell
    if args[0] == "report":
        pytest.importorskip("plotly")
        pytest.importorskip("jinja2")
    seed = SAMPLE_DIR / "seed-deepseek-r1-32b.log"
    argv = [a.format(seed=seed, tmp=tmp_path, models=SAMPLE_DIR / "models") for a in args]
    p = subprocess.run([sys.executable, "-c", _WITHOUT_PANDAS, *argv], capture_output=True, text=True,
                       env=cli_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines()[-1] == "no pandas", p.stderr
