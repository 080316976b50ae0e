"""The reference engine's tables do not depend on how the bytes arrive: one chunk, 1-byte chunks,
7-byte chunks, and small batches give the same rows in the same order."""
from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ollalog
from ollalog.inputs import CHUNK
from conftest import SEED_LOG, assert_tables_equal, corpus_logs_list, sample_logs_list
from strategies import cri_pair, damaged

read_module = importlib.import_module("ollalog.read")  # `ollalog.read` is the function

ONE_BYTE_MAX = 256 * 1024  # 1-byte chunks only for small files


def _keep(e) -> None:
    """on_error: keep reading; the errors are compared through Tables.errors."""


def _cases(size: int) -> list[tuple[int, int | None]]:
    cases = [(7, None), (4096, 3), (7, 3)]
    if size <= ONE_BYTE_MAX:
        cases.append((1, None))
    return cases


def _check_chunkings(path: str, size: int) -> None:
    whole = ollalog.read(path, engine="python", chunk_size=max(size, 1) + 1, on_error=_keep)
    for chunk, batch in _cases(size):
        got = ollalog.read(path, engine="python", chunk_size=chunk, batch_rows=batch, on_error=_keep)
        assert [(e.path, e.reason) for e in got.errors] == [(e.path, e.reason) for e in whole.errors], \
            f"chunk_size={chunk} batch_rows={batch}"
        assert_tables_equal(got, whole, f"chunk_size={chunk} batch_rows={batch}:")


@contextlib.contextmanager
def _rechunked(size: int):
    """Read the input with the default chunk, then feed the engine `size`-byte pieces: the engine's
    own chunking, whatever the input layer does with small reads."""
    orig = read_module.chunks

    def chunks(src, _n, **kw):
        for data in orig(src, CHUNK, **kw):
            for i in range(0, len(data), size):
                yield data[i:i + size]

    read_module.chunks = chunks
    try:
        yield
    finally:
        read_module.chunks = orig


def _check_engine_chunkings(path: str, size: int) -> None:
    whole = ollalog.read(path, engine="python", on_error=_keep)
    for chunk, batch in _cases(size):
        with _rechunked(chunk):
            got = ollalog.read(path, engine="python", batch_rows=batch, on_error=_keep)
        assert_tables_equal(got, whole, f"engine fed {chunk}-byte chunks, batch_rows={batch}:")


def _params(paths: list[Path]) -> list:
    return [pytest.param(p, id=p.name) for p in paths]


CORPUS = corpus_logs_list()
SAMPLES = sample_logs_list()
ALL_FILES = [pytest.param(p, id=f"corpus-{p.name}") for p in CORPUS] + \
            [pytest.param(p, id=f"sample-{p.name}") for p in SAMPLES]


@pytest.mark.parametrize("log", _params(CORPUS) or [pytest.param(None, id="corpus-absent")])
def test_corpus_chunking(corpus_logs, log):
    _check_chunkings(str(log), log.stat().st_size)


@pytest.mark.parametrize("log", _params(SAMPLES))
def test_sample_chunking(log):
    _check_chunkings(str(log), log.stat().st_size)


@pytest.mark.parametrize("log", ALL_FILES)
def test_engine_chunking(log):
    """Every corpus and sample file, fed to the engine in small pieces behind the input layer."""
    _check_engine_chunkings(str(log), log.stat().st_size)


def test_seed_log_chunking(tmp_path):
    p = tmp_path / "h1" / "server.log"
    p.parent.mkdir()
    p.write_bytes(SEED_LOG)
    _check_chunkings(str(p), len(SEED_LOG))


def test_small_first_chunk_of_utf8_text_is_not_binary(tmp_path):
    """The binary sniff must not depend on the chunk size (a first chunk ending inside a character)."""
    p = tmp_path / "h1" / "server.log"
    p.parent.mkdir()
    p.write_bytes("\u0438\u044e\u043b 28 09:27:23 host1 ollama[2148]: llm_load_tensors: offloaded 0/65 layers to GPU\n"
                  .encode())
    t = ollalog.read(str(p), engine="python", chunk_size=1)
    assert t.errors == []
    assert t.events.num_rows == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged())
def test_generated_logs_chunking(data):
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "h1"))
        p = os.path.join(d, "h1", "server.log")
        with open(p, "wb") as f:
            f.write(data)
        _check_engine_chunkings(p, len(data))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged(), max_line=st.integers(1, 300))
def test_generated_logs_chunking_small_max_line(data, max_line):
    """Lines cut at the limit are cut the same way whatever the chunking."""
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "server.log")
        with open(p, "wb") as f:
            f.write(data)
        whole = ollalog.read(p, engine="python", max_line=max_line, on_error=_keep)
        for chunk, batch in [(1, None), (7, 3)]:
            with _rechunked(chunk):
                got = ollalog.read(p, engine="python", max_line=max_line, batch_rows=batch, on_error=_keep)
            assert_tables_equal(got, whole, f"max_line={max_line} chunk_size={chunk} batch_rows={batch}:")


RECORD_KEYS = ("level", "source", "msg", "attrs", "kind", "event", "truncated")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=cri_pair())
def test_cri_parts_read_like_whole_lines(pair):
    """Kubernetes cuts long lines into `P` parts anywhere, blanks included: joined, they are the
    records of the uncut lines (an oracle, not two engines agreeing)."""
    got = []
    with tempfile.TemporaryDirectory() as d:
        for i, data in enumerate(pair):
            p = os.path.join(d, f"{i}.log")
            with open(p, "wb") as f:
                f.write(data)
            t = ollalog.read(p, engine="python")
            got.append(([{k: r[k] for k in RECORD_KEYS} for r in t.events.to_pylist()],
                        [{k: v for k, v in r.items() if k not in ("file", "file_id", "line", "byte_offset")}
                         for r in t.requests.to_pylist()]))
    assert got[1] == got[0]
