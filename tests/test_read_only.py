"""Reading only what is asked (`read(paths, tables=..., events=...)`): the engine then builds no
requests rows unless they are asked for, and no rows of uncatalogued events unless the whole
events table is. What comes back must be exactly what a full read gives for those tables, with
the same line accounting, times and loads, on every sample and corpus file, in whole reads and
in tiny chunks."""
from __future__ import annotations

import importlib
from pathlib import Path

import pyarrow as pa
import pytest

import ollalog
from ollalog.facts import events_used
from conftest import TABLE_NAMES, assert_tables_equal, corpus_params, sample_logs_list

R = importlib.import_module("ollalog.read")  # the module (ollalog.read is also the function)

SAMPLES = [pytest.param(p, id=p.name) for p in sample_logs_list()]
WHY = ("events", "loads", "gpus", "lines")  # what `ollalog why` reads, with events="named"


def _unskipped(monkeypatch):
    """Make read() build every row in the engine (the filtering stays in Python): the reference
    to compare the skipping engine with."""
    real = R.make_engine

    def full(engine="c", batch_rows=None, max_line=None, keep_unknown=False, want=None, named_only=False):
        return real(engine, batch_rows, max_line, keep_unknown=keep_unknown)

    monkeypatch.setattr(R, "make_engine", full)


def _both(monkeypatch, path: Path, **kw):
    got = ollalog.read(str(path), on_error=lambda e: None, **kw)
    with monkeypatch.context() as m:
        _unskipped(m)
        want = ollalog.read(str(path), on_error=lambda e: None, **kw)
    return got, want


USED = sorted(events_used())  # what `why` keeps
CASES = [pytest.param(dict(tables=WHY, events="named"), id="named"),
         pytest.param(dict(tables=WHY, events=USED), id="why"),
         pytest.param(dict(tables=("loads", "gpus", "lines")), id="loads"),
         pytest.param(dict(tables=("requests", "lines")), id="requests"),
         pytest.param(dict(tables=("events", "lines")), id="all-events")]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("path", SAMPLES)
def test_skipped_rows_change_nothing_asked_for(monkeypatch, engine, path, kw):
    got, want = _both(monkeypatch, path, engine=engine, **kw)
    assert_tables_equal(got, want, f"{path.name} {kw}")
    asked = set(kw["tables"])
    for name in TABLE_NAMES:
        if name not in asked:
            assert got[name].num_rows == 0, name
    assert got.lines.num_rows == 1 and got.lines.column("physical")[0].as_py() > 0


@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
@pytest.mark.parametrize("path", SAMPLES)
def test_loads_only_read_in_chunks(monkeypatch, path, chunk_size):
    got, want = _both(monkeypatch, path, engine="c", tables=WHY, events="named", chunk_size=chunk_size)
    assert_tables_equal(got, want, f"{path.name} chunk {chunk_size}")


@pytest.mark.parametrize("name", corpus_params())
def test_loads_only_read_of_the_corpus(monkeypatch, corpus_logs, engine, name):
    got, want = _both(monkeypatch, corpus_logs[name], engine=engine, tables=WHY, events="named")
    assert_tables_equal(got, want, name)


@pytest.mark.parametrize("path", SAMPLES)
def test_events_by_name_are_the_named_events_of_those_names(path):
    """events=[names]: of the catalogued events only those, the loads still made of all of them."""
    import pyarrow.compute as pc
    named = ollalog.read(str(path), tables=WHY, events="named")
    keep = ["server_config", "offload", "gguf_kv", "listening"]
    got = ollalog.read(str(path), tables=WHY, events=keep)
    ev = named.events
    mask = pc.is_in(ev.column("event").cast(pa.string()), pa.array(keep))
    want = ev.filter(mask)
    assert got.events.num_rows == want.num_rows < ev.num_rows
    assert got.events.column("line").to_pylist() == want.column("line").to_pylist()
    assert got.events.column("msg").to_pylist() == want.column("msg").to_pylist()
    for name in ("loads", "gpus", "lines"):
        assert got[name].equals(named[name]), name


@pytest.mark.parametrize("events,message", [
    (["no_such_event"], "'no_such_event' is no catalogued event"),
    ([], "give at least one event name"),
    ("some", "choose all or named"),
])
def test_events_that_cannot_be_asked_for(tmp_path, events, message):
    log = tmp_path / "server.log"
    log.write_text('time=2025-04-27T10:00:00.000Z level=INFO source=routes.go:1 msg="Listening on 127.0.0.1:11434 (version 0.6.8)"\n')
    with pytest.raises(ollalog.UsageError, match=message):
        ollalog.read(str(log), events=events)


def test_the_engines_skip_rows_alike(tmp_path):
    """Both engines, told to skip, build the same rows: the requests table empty, only catalogued
    events, and the line accounting and times of a full read."""
    from ollalog.reference import ReferenceParser
    from ollalog._core import Engine

    log = tmp_path / "server.log"
    log.write_bytes(
        b'time=2025-04-27T10:00:00.000+02:00 level=INFO source=routes.go:1 msg="Listening on 127.0.0.1:11434 (version 0.6.8)"\n'
        b"[GIN] 2025/04/27 - 10:00:01 | 200 |     1.5ms |       127.0.0.1 | GET      \"/api/tags\"\n"
        b'time=2025-04-27T10:00:02.000+02:00 level=DEBUG source=sched.go:1 msg="not in the catalogue" a=1\n'
        b"[GIN] 2025/04/27 - 10:00:03 | 500 |  2m0s |       127.0.0.1 | POST     \"/api/chat\"\n")
    out = {}
    for make in (ReferenceParser, Engine):
        for skip in (False, True):
            eng = make(skip_requests=skip, named_only=skip)
            eng.begin_file(str(log), None, False)
            eng.feed(log.read_bytes())
            stats = eng.end_file()
            batches = {}
            for name, b in eng.take_batches():
                batches.setdefault(name, []).append(b)
            ev = pa.Table.from_batches(batches["events"]) if "events" in batches else None
            out[make.__name__, skip] = (stats, ev.column("line").to_pylist() if ev else [],
                                        sum(b.num_rows for b in batches.get("requests", [])))
    for make in ("ReferenceParser", "Engine"):
        full, part = out[make, False], out[make, True]
        assert part[0] == full[0], make  # counts, first and last time
        assert full[1] == [1, 3] and full[2] == 2, make
        assert part[1] == [1] and part[2] == 0, make
    assert out["ReferenceParser", True] == out["Engine", True]


def test_a_read_stopped_early_stops_its_reading_thread(tmp_path):
    """read_batches() parses on a thread of its own while the caller takes batches: a caller that
    stops early stops that thread too (none is left behind, holding the engine)."""
    import threading

    log = tmp_path / "server.log"
    log.write_bytes(b'time=2025-04-27T10:00:00.000+02:00 level=INFO source=routes.go:1 msg="Listening on '
                    b'127.0.0.1:11434 (version 0.6.8)"\n'  # the zone of the [GIN] times: batches go at once
                    + b"[GIN] 2025/04/27 - 10:00:01 | 200 |     1.5ms |       127.0.0.1 | GET      \"/api/tags\"\n" * 50000)
    it = ollalog.read_batches(str(log), batch_rows=1000, chunk_size=4096)
    name, batch = next(b for b in it if b[0] == "requests")
    assert 1000 <= batch.num_rows < 50000  # a batch once a chunk fills it, long before the end
    it.close()
    assert not [t for t in threading.enumerate() if t.name == "ollalog-read"]
    t = ollalog.read(str(log), batch_rows=1000, chunk_size=4096)  # and the next read is whole
    assert t.requests.num_rows == 50000 and t.lines.column("physical")[0].as_py() == 50001
