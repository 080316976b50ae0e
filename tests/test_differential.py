"""The C engine against the reference parser: the same five tables, row for row, whatever the input
and however it is chunked or batched.

Every test here needs the compiled `ollalog._core` and has `c_engine` in its name (and the c_engine
marker): `-k "not c_engine"` deselects them until the extension is built.
"""
from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ollalog
from conftest import SEED_LOG, assert_tables_equal, corpus_logs_list, physical_lines, sample_logs_list
from strategies import damaged, log_text, noise
from ollalog.inputs import cr_line_ends, is_binary

pytestmark = pytest.mark.c_engine

CHUNKINGS = [(1, 5), (1, None), (7, 5), (7, None), (4096, 5), (4096, None)]
HYPO = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _keep(e) -> None:
    """on_error: keep reading; the errors are compared through Tables.errors."""


@pytest.fixture(scope="module", autouse=True)
def c_engine_built():
    """Fails (never skips) when the extension is missing: deselect with -k 'not c_engine'."""
    import ollalog._core  # noqa: F401


def _compare(path: str) -> None:
    want = ollalog.read(path, engine="python", on_error=_keep)
    for chunk, batch in CHUNKINGS:
        got = ollalog.read(path, engine="c", chunk_size=chunk, batch_rows=batch, on_error=_keep)
        label = f"C engine, chunk_size={chunk} batch_rows={batch}:"
        assert [(e.path, e.reason) for e in got.errors] == [(e.path, e.reason) for e in want.errors], label
        assert_tables_equal(got, want, label)


def _compare_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "h1"))
        p = os.path.join(d, "h1", "server.log")
        with open(p, "wb") as f:
            f.write(data)
        _compare(p)


FILES = [pytest.param(p, id=f"corpus-{p.name}") for p in corpus_logs_list()] + \
        [pytest.param(p, id=f"sample-{p.name}") for p in sample_logs_list()]


@pytest.mark.parametrize("log", FILES)
def test_c_engine_matches_reference_on_files(log):
    _compare(str(log))


def test_c_engine_matches_reference_on_seed_log():
    _compare_bytes(SEED_LOG)


@pytest.mark.parametrize("data", [
    b"", b"\n", b"\r\n", b"\xef\xbb\xbf", b"x", b"time=", b"[GIN] ", b"{", b'{"log":"', b"\t  \n",
    b"time=2025-04-27T10:00:00Z level=INFO msg=\"unterminated\n  continued\"\n",
    b"2025-04-27T08:00:01Z stdout P partial without end",
    b"Apr 27 10:00:01 host1 ollama[1]: llm_load_tensors: offloaded 1/2 layers to GPU",
    b"time=Apr 27 10:00:01 host1 ollama[1234]: ",  # found by the noise test: a record, not a journal prefix
], ids=lambda b: repr(b)[:40])
def test_c_engine_matches_reference_on_edge_inputs(data):
    _compare_bytes(data)


def test_c_engine_oversized_line_matches_reference():
    data = b"time=2025-04-27T10:00:00Z level=INFO msg=big v=\"" + b"y" * (3 << 20) + b"\"\n" + SEED_LOG
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "server.log")
        with open(p, "wb") as f:
            f.write(data)
        want = ollalog.read(p, engine="python", on_error=_keep)
        for chunk in (4096, 1 << 20, 4 << 20):
            assert_tables_equal(ollalog.read(p, engine="c", chunk_size=chunk, on_error=_keep), want, f"chunk_size={chunk}:")
        small = ollalog.read(p, engine="python", max_line=1000, on_error=_keep)
        assert_tables_equal(ollalog.read(p, engine="c", max_line=1000, chunk_size=777, on_error=_keep), small, "max_line=1000:")


@HYPO
@given(data=log_text())
def test_c_engine_matches_reference_on_generated_logs(data):
    _compare_bytes(data)


@HYPO
@given(data=damaged())
def test_c_engine_matches_reference_on_damaged_logs(data):
    _compare_bytes(data)


@HYPO
@given(data=noise())
def test_c_engine_matches_reference_on_noise(data):
    """Random bytes and grammar fragments that pass the binary sniffer: both engines read them
    (no input error), count every physical line once, and agree."""
    assume(not is_binary(data) and not data.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd")))  # text, not compressed
    assume(not cr_line_ends(data[:65536]))  # CR-only line ends are read as LF (docs/bad-inputs.md)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "server.log")
        with open(p, "wb") as f:
            f.write(data)
        want = ollalog.read(p, engine="python")
        assert want.errors == []
        (ln,) = want.lines.to_pylist()
        assert ln["physical"] == physical_lines(data) == ln["parsed"] + ln["unknown"] + ln["malformed"]
        for chunk, batch in [(1, 5), (7, None), (4096, 5)]:
            got = ollalog.read(p, engine="c", chunk_size=chunk, batch_rows=batch)
            assert_tables_equal(got, want, f"C engine, chunk_size={chunk} batch_rows={batch}:")


@HYPO
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_read_or_refused_with_one_error(data):
    """Pure random bytes: either read by both engines alike, or refused as binary by the input
    layer with one error naming the file (never an exception)."""
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "server.log")
        with open(p, "wb") as f:
            f.write(data)
        want = ollalog.read(p, engine="python", on_error=_keep)
        got = ollalog.read(p, engine="c", on_error=_keep)
        assert [(e.path, e.reason) for e in got.errors] == [(e.path, e.reason) for e in want.errors]
        assert len(want.errors) <= 1 and all(e.path == p for e in want.errors)
        assert all(e.reason == "not a text log (binary data)" or e.reason.startswith(("truncated ", "corrupt "))
                   for e in want.errors), want.errors
        if not data.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd")):  # not compressed: read unless binary
            assert (want.errors != []) == is_binary(data)
        assert_tables_equal(got, want, "C engine:")


@HYPO
@given(data=damaged(), max_line=st.integers(1, 300), chunk=st.sampled_from([1, 7, 64, 4096]))
def test_c_engine_matches_reference_with_small_max_line(data, max_line, chunk):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "server.log")
        with open(p, "wb") as f:
            f.write(data)
        want = ollalog.read(p, engine="python", max_line=max_line, chunk_size=chunk, on_error=_keep)
        got = ollalog.read(p, engine="c", max_line=max_line, chunk_size=chunk, batch_rows=5, on_error=_keep)
        assert [(e.path, e.reason) for e in got.errors] == [(e.path, e.reason) for e in want.errors]
        assert_tables_equal(got, want, f"C engine, max_line={max_line} chunk_size={chunk}:")


def _unknown(path: str, engine: str, **kw) -> list[tuple[int, str]]:
    import importlib
    got: list[tuple[int, str]] = []
    for _ in importlib.import_module("ollalog.read").read_batches(
            [path], engine=engine, on_unknown=lambda f, line, text: got.append((line, text)),
            on_error=lambda e: None, **kw):
        pass
    return got


@HYPO
@given(data=st.one_of(damaged(), noise()))
def test_c_engine_keeps_the_same_unknown_lines(data):
    """`parse --unknown`: both engines keep the same unknown lines, whatever the chunking."""
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "server.log")
        with open(p, "wb") as f:
            f.write(data)
        want = _unknown(p, "python")
        for chunk, batch in [(1, 5), (4096, None)]:
            assert _unknown(p, "c", chunk_size=chunk, batch_rows=batch) == want, f"chunk_size={chunk}"
