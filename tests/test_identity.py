"""Identities the tables carry for datasets: file_id, byte offsets of records, load_id, and a read
that resumes where an earlier read of the same (grown) file stopped."""
from __future__ import annotations

import gzip
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ollalog
from ollalog.read import FileRead, Resume, drain, file_id_of, make_engine, read_file
from ollalog.inputs import Source
from conftest import SEED_LOG, TABLE_NAMES, sample_logs_list
from strategies import log_text

SAMPLES = sample_logs_list()
IDENTITY = ("file", "file_id", "load_id", "device", "inode", "size", "head_hash")


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    i = data.find(b"\n")
    while i >= 0:
        starts.append(i + 1)
        i = data.find(b"\n", i + 1)
    return starts


@pytest.mark.parametrize("log", SAMPLES, ids=[p.name for p in SAMPLES])
def test_offsets_point_at_the_records_first_line(log, engine):
    data = log.read_bytes()
    starts = _line_starts(data)
    t = ollalog.read(str(log), engine=engine)
    n = 0
    for table in ("events", "requests"):
        for line, offset in zip(t[table].column("line").to_pylist(), t[table].column("byte_offset").to_pylist()):
            assert offset == starts[line - 1], (table, line, offset)
            n += 1
    assert n > 0


def test_offsets_of_a_gzip_file_are_of_its_decompressed_bytes(tmp_path, engine):
    f = tmp_path / "h1" / "server.log.gz"
    f.parent.mkdir()
    f.write_bytes(gzip.compress(SEED_LOG))
    starts = _line_starts(SEED_LOG)
    t = ollalog.read(str(f), engine=engine)
    got = t.events.column("byte_offset").to_pylist()
    assert got == [starts[n - 1] for n in t.events.column("line").to_pylist()]
    assert t.lines.column("head_hash").to_pylist() == [hashlib.sha256(SEED_LOG[:4096]).hexdigest()]


def test_file_identity_columns(tmp_path, engine):
    f = tmp_path / "h1" / "server.log"
    f.parent.mkdir()
    f.write_bytes(SEED_LOG)
    st = f.stat()
    t = ollalog.read(str(f), engine=engine)
    (ln,) = t.lines.to_pylist()
    fid = file_id_of(st.st_dev, st.st_ino, SEED_LOG[:4096])
    assert (ln["file_id"], ln["device"], ln["inode"], ln["size"]) == (fid, st.st_dev, st.st_ino, st.st_size)
    assert ln["head_hash"] == hashlib.sha256(SEED_LOG[:4096]).hexdigest()
    for name in TABLE_NAMES:
        assert set(t[name].column("file_id").to_pylist()) == {fid}, name
    (load,) = t.loads.to_pylist()
    assert load["load_id"] == f"{fid}:{load['line']}"
    # the load's evidence lines are events of the same file
    ev_lines = set(t.events.column("line").to_pylist())
    assert set(load["evidence_lines"]) <= ev_lines


def test_same_content_different_files_have_different_ids(tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(SEED_LOG)
    b.write_bytes(SEED_LOG)
    t = ollalog.read([str(a), str(b)])
    assert len(set(t.lines.column("file_id").to_pylist())) == 2
    assert len(set(t.loads.column("load_id").to_pylist())) == 2


def test_file_id_is_stable_across_reads(tmp_path):
    f = tmp_path / "server.log"
    f.write_bytes(SEED_LOG)
    ids = {ollalog.read(str(f)).lines.column("file_id")[0].as_py() for _ in range(2)}
    assert len(ids) == 1


def _rows(t, table: str, after: int = 0) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in IDENTITY} for r in t[table].to_pylist() if r["line"] > after]


def _drive(engine: str, src: Source, resume: Resume | None = None) -> tuple[dict, FileRead]:
    eng = make_engine(engine)
    parts: dict = {"events": [], "requests": []}
    res = drain(read_file(eng, src, resume=resume), lambda name, batch: parts[name].extend(batch.to_pylist()))
    return parts, res


def _strip(rows: list[dict], after: int = 0) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in IDENTITY} for r in rows if r["line"] > after]


@pytest.mark.parametrize("log", SAMPLES, ids=[p.name for p in SAMPLES])
def test_resumed_read_equals_whole_read(tmp_path, log, engine):
    """Read the first k lines as a file, then the whole file from that read's position: the rows
    after line k, and the loads of the file, are those of one read of the whole file, wherever k
    falls between two records (a record cut in two by the boundary is read as two)."""
    data = log.read_bytes()
    starts = _line_starts(data)
    whole_src = Source(str(log), str(log), "h")
    whole, whole_res = _drive(engine, whole_src)
    whole_loads = [{k: v for k, v in r.items() if k not in IDENTITY} for r in whole_res.assembler.finish()[0]]
    lines = len(starts) - (1 if data.endswith(b"\n") else 0)
    step = max(1, lines // 25)
    safe = 0
    cuts = list(range(1, lines, step))
    for k in cuts:
        prefix = tmp_path / f"prefix-{k}.log"
        prefix.write_bytes(data[:starts[k]])
        first, res = _drive(engine, Source(str(prefix), str(prefix), "h"))
        assert res.position["line"] == k and res.position["offset"] == starts[k]
        if any(_strip(first[t]) != _strip([r for r in whole[t] if r["line"] <= k]) for t in first):
            continue  # the cut falls inside a record (or before the zone offset was known)
        safe += 1
        resume = Resume(at=res.position, assembler=res.assembler, seen=res.seen, file_id=res.file_id)
        rest, res2 = _drive(engine, whole_src, resume)
        for t in ("events", "requests"):
            assert _strip(rest[t]) == _strip(whole[t], after=k), (t, k)
            assert {r["file_id"] for r in rest[t]} <= {res.file_id}
        loads = [{k2: v for k2, v in r.items() if k2 not in IDENTITY} for r in res2.assembler.finish()[0]]
        assert loads == whole_loads, k
        assert res2.position == whole_res.position
    assert safe >= len(cuts) * 0.8, f"only {safe} of {len(cuts)} cuts fall between records"


def test_resume_past_the_end_is_reported(tmp_path, engine):
    f = tmp_path / "server.log.gz"
    f.write_bytes(gzip.compress(SEED_LOG))
    eng = make_engine(engine)
    from ollalog.assemble import Assembler
    at = {"line": 5, "offset": len(SEED_LOG) + 10, "tz_server": None, "tz_prefix": None, "ref_us": None}
    res = drain(read_file(eng, Source(str(f), str(f), None), resume=Resume(at, Assembler(str(f)), set(), "x")))
    assert res.error is not None and "shorter than" in res.error.reason


def test_whole_lines_leaves_a_partial_last_line(tmp_path, engine):
    f = tmp_path / "server.log"
    f.write_bytes(SEED_LOG + b"time=2025-02-01T10:00:40.000+01:00 level=INFO msg=\"half")
    parts, res = _drive_whole_lines(engine, Source(str(f), str(f), None))
    assert res.held_back == len(b"time=2025-02-01T10:00:40.000+01:00 level=INFO msg=\"half")
    assert res.position["offset"] == len(SEED_LOG)
    assert res.stats["physical"] == SEED_LOG.count(b"\n")


def _drive_whole_lines(engine, src):
    eng = make_engine(engine)
    parts = []
    res = drain(read_file(eng, src, whole_lines=True, chunk_size=7), lambda name, batch: parts.append((name, batch)))
    return parts, res


@pytest.mark.c_engine
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=log_text(), cut=st.integers(0, 10_000))
def test_c_engine_resumes_like_the_reference(tmp_path_factory, data, cut):
    """From any line boundary, with any time context, the C engine resumes as the reference does."""
    import ollalog._core  # noqa: F401
    starts = _line_starts(data)
    k = cut % len(starts)
    d = tmp_path_factory.mktemp("resume")
    prefix, whole = d / "prefix.log", d / "whole.log"
    prefix.write_bytes(data[:starts[k]])
    whole.write_bytes(data)
    got = {}
    for engine in ("python", "c"):
        _, res = _drive(engine, Source(str(prefix), str(prefix), "h"))
        rest, res2 = _drive(engine, Source(str(whole), str(whole), "h"),
                            Resume(res.position, res.assembler, res.seen, res.file_id))
        got[engine] = (res.position, rest, res2.position, res2.stats, res2.assembler.finish())
    assert got["c"] == got["python"]
