"""`ollalog parse`: exit codes, one-line errors, outputs."""
from __future__ import annotations

import os
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
        for _ in range(100):
            fh.write(block)
        fh.write(b"\n")
    return f


def test_100mb_single_line(tmp_path, engine, hundred_mb_line):
    """A valid text file with one huge line: read, the line cut and counted, exit 0 (speed is
    measured in benchmarks/, not here)."""
    out = tmp_path / "out"
    p = run_cli("parse", hundred_mb_line, "--engine", engine, "-q", "-o", out, timeout=600)
    assert (p.returncode, p.stderr, p.stdout) == (0, "", "")
    (ln,) = _lines_table(out)
    assert (ln["physical"], ln["oversized"], ln["malformed"], ln["bytes"]) == (1, 1, 1, 100 * (1 << 20) + 1)


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
