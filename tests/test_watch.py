"""`ollalog watch`, in process: the verdict told when a load completes is why's, for every sample
(and corpus) log read a line at a time; the state carries a watch over a restart; what a watch
keeps stays bounded; files are followed through rotations with no line lost or read twice; the
metrics' labels stay bounded; hooks never hold the watch up."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import SAMPLE_DIR, corpus_params, sample_logs_list

from ollalog import watch as W
from ollalog.follow import FileStream, Span
from ollalog.why import why

# what a load's verdict is made of: compared between the watch and `why --all`
KEYS = ("placement", "layers_offloaded", "layers_total", "layers_planned", "num_ctx", "parallel", "cause",
        "cause_text", "verdict", "vram_available_bytes", "kv_bytes", "weights_bytes", "model_blob")
SEED = SAMPLE_DIR / "seed-deepseek-r1-32b.log"


class Collect(W.Sink):
    def __init__(self):
        self.loads, self.seen, self.evictions, self.ooms, self.gpus, self.stats = [], [], [], [], [], []

    def load(self, ev):
        self.loads.append(ev)

    def seen_load(self, row, model):
        self.seen.append((row, model))

    def eviction(self, host, model):
        self.evictions.append((host, model))

    def serving_oom(self, host, model):
        self.ooms.append((host, model))

    def gpu(self, host, gpu, free):
        self.gpus.append((host, gpu, free))

    def lines(self, stats):
        self.stats.append(stats)


class Bytes:
    """A stream of bytes handed to a tracker as a pipe hands them (the tests choose the pieces)."""
    kind = "stdin"

    def __init__(self, name):
        self.name = name

    def state(self):
        return {}

    def restore(self, st):
        pass


def tracker(name, engine="c", sink=None, explain="here"):
    """A tracker on a stream the test feeds; its loads explained in this process (quicker: the
    explaining child the CLI uses is compared with it below)."""
    sink = sink or Collect()
    return W.Tracker(Bytes(str(name)), sinks=[sink], engine=engine, explain=explain), sink


def feed(t, pieces, finish=True):
    pending = b""
    for piece in pieces:
        buf = pending + piece
        n = t.consume(Span(buf), False, True)
        pending = buf[n:]
    if pending:
        t.consume(Span(pending), True, True)
    if finish:
        t.finish()


def lines_of(path) -> list:
    return open(path, "rb").read().splitlines(keepends=True)


def records(data: bytes) -> list:
    """The data cut where a writer cuts it: before each line that does not continue the one above
    (a wrapped record's further lines start with white space)."""
    out, cur = [], b""
    for ln in data.splitlines(keepends=True):
        if cur and ln[:1] not in (b" ", b"\t"):
            out.append(cur)
            cur = b""
        cur += ln
    return out + ([cur] if cur else [])


def why_loads(path) -> dict:
    return {v["line"]: v for v in why(None, [str(path)], all_models=True).loads}


def same_verdict(told: dict, want: dict) -> list:
    diffs = []
    for k in KEYS:
        if told.get(k) != want.get(k):
            diffs.append(f"{k}: watch {told.get(k)!r}, why {want.get(k)!r}")
    th, tw = told.get("threshold") or {}, want.get("threshold") or {}
    for k in ("num_ctx_full_gpu", "num_ctx_any_gpu", "parallel"):
        if th.get(k) != tw.get(k):
            diffs.append(f"threshold.{k}: watch {th.get(k)!r}, why {tw.get(k)!r}")
    if (told.get("estimate") or {}).get("layers_offload") != (want.get("estimate") or {}).get("layers_offload"):
        diffs.append("estimate.layers_offload differs")
    # a load is told when it completes; why, reading the whole file, may know it was evicted later
    if want.get("outcome") != "evicted" and told.get("outcome") != want.get("outcome"):
        diffs.append(f"outcome: watch {told.get('outcome')!r}, why {want.get('outcome')!r}")
    return diffs


def why_before(path, line: int) -> dict:
    """why's loads on the log cut before `line` (what was written when the load before it completed)."""
    with tempfile.TemporaryDirectory() as d:
        cut = os.path.join(d, os.path.basename(str(path)))
        with open(cut, "wb") as f:
            f.writelines(lines_of(path)[:line - 1])
        return why_loads(cut)


def compare(path, told: list) -> list:
    """Each load told once, with why's verdict: why's on the whole log, or, where later lines taught
    why more about it (an eviction that names the runner's VRAM), why's on the log as it stood when
    the load completed (at the latest when the next load began)."""
    want = why_loads(path)
    got = {}
    for ev in told:
        assert ev["line"] not in got, f"load at line {ev['line']} told twice"
        got[ev["line"]] = ev
    problems = []
    if sorted(got) != sorted(want):
        problems.append(f"loads told at lines {sorted(got)}, why has {sorted(want)}")
    starts = sorted(want)
    for line in sorted(set(got) & set(want)):
        diffs = same_verdict(got[line], want[line])
        later = [n for n in starts if n > line]
        if diffs and later and same_verdict(got[line], why_before(path, later[0]).get(line, {})) == []:
            diffs = []
        problems += [f"line {line}: {d}" for d in diffs]
    return problems


# -- the verdict -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sample_logs_list(), ids=lambda p: p.name)
def test_told_verdicts_are_whys_reading_a_line_at_a_time(path):
    t, sink = tracker(path)
    feed(t, lines_of(path))
    assert sink.loads, "no load told"
    assert compare(path, sink.loads) == []


def test_python_engine_tells_the_same(tmp_path):
    t, sink = tracker(SEED, engine="python")
    feed(t, [b"".join(lines_of(SEED)[i:i + 16]) for i in range(0, 393, 16)])
    assert compare(SEED, sink.loads) == []


@pytest.mark.parametrize("name", corpus_params())
def test_told_verdicts_are_whys_on_the_corpus(name, corpus_logs):
    path = corpus_logs[name]
    t, sink = tracker(path)
    feed(t, records(path.read_bytes()))
    assert compare(path, sink.loads) == []


def test_seed_cpu_load_verdict():
    t, sink = tracker(SEED)
    feed(t, lines_of(SEED))
    cpu = [e for e in sink.loads if e["placement"] == "cpu"]
    assert len(cpu) == 1
    ev = cpu[0]
    assert (ev["event"], ev["line"], ev["layers_offloaded"], ev["layers_total"], ev["cause"]) == \
        ("load", 211, 0, 65, "kv_too_big")
    assert ev["threshold"]["num_ctx_full_gpu"] == 6323 and ev["threshold"]["num_ctx_any_gpu"] == 105750
    assert ev["vram_free_per_gpu"] == [{"gpu": "GPU-a41839ba-c28a-d437-6452-e722eef85e70", "free_bytes": 24910810317}]
    assert 30 < ev["load_seconds"] < 40
    assert ev["recommendations"] and ev["model"].startswith("DeepSeek R1 Distill Qwen 32B")
    json.dumps(ev, default=str)  # the event is plain data


@pytest.mark.parametrize("path", sample_logs_list(), ids=lambda p: p.name)
def test_the_explaining_child_tells_what_the_watch_process_would(path):
    """The default: each cycle's completed loads are explained in a short-lived process."""
    told = {}
    for where in W.EXPLAIN:
        t, sink = tracker(path, explain=where)
        feed(t, [b"".join(lines_of(path)[i:i + 64]) for i in range(0, len(lines_of(path)), 64)])
        assert t.explain == where               # the child answered: no fall-back
        told[where] = sink.loads
    assert told["child"] and told["child"] == told["here"]


def test_a_child_that_cannot_explain_falls_back_to_the_watch_process(monkeypatch):
    notes = []
    sink = Collect()
    t = W.Tracker(Bytes(str(SEED)), sinks=[sink], notice=lambda kind, text: notes.append((kind, text)))
    monkeypatch.setattr(W.sys, "executable", "/nonexistent/python")
    feed(t, [SEED.read_bytes()])
    assert [e["line"] for e in sink.loads] == [11, 211] and t.explain == "here"
    assert [k for k, _ in notes] == ["explain"] and "cannot start an explaining process" in notes[0][1]


def lean_watch(seed, before: str = "") -> list:
    """A lean watch process (as `ollalog watch` makes it) reading `seed` once: loads told, and
    whether duckdb, numpy, pandas were imported in it."""
    code = ("import sys\nfrom ollalog.lean import lean\nlean()\nfrom ollalog import watch as W\n" + before +
            "class S(W.Sink):\n    n = 0\n    def load(self, ev): S.n += 1\n"
            f"W.Watch([{str(seed)!r}], once=True, sinks=[S()]).run()\n"
            "print(S.n, *(m in sys.modules for m in ('duckdb', 'numpy', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_a_lean_watch_loads_neither_duckdb_nor_numpy_nor_pandas():
    """What keeps a watch that has told loads under 100 MB (benchmarks/watch_idle.py)."""
    assert lean_watch(SEED) == ["2", "False", "False", "False"]


def test_a_lean_watch_explains_in_process_when_no_child_can():
    """The fall-back lets numpy in (the estimator needs it), after pyarrow was imported without it."""
    assert lean_watch(SEED, "W.sys.executable = '/nonexistent/python'\n") == ["2", "True", "True", "False"]


def test_a_tag_named_by_the_models_dir(tmp_path):
    sink = Collect()
    t = W.Tracker(Bytes(str(SEED)), sinks=[sink], models_dir=str(SAMPLE_DIR / "models"))
    feed(t, [SEED.read_bytes()])
    assert [(e["line"], e["model"]) for e in sink.loads] == [(11, "deepseek-r1:32b"), (211, "deepseek-r1:32b-max-context")]


def test_history_sets_up_the_state_and_tells_nothing():
    t, sink = tracker(SEED)
    data = SEED.read_bytes()
    t.consume(Span(data), False, False)   # what the file held before the watch began
    assert sink.loads == [] and [r["line"] for r, _ in sink.seen] == [11, 211]
    assert [g[1] for g in sink.gpus] == ["GPU-a41839ba-c28a-d437-6452-e722eef85e70"]
    assert sink.stats == []               # history is not counted
    # the same load appended again after the history is told, with the history's context
    block = b"".join(lines_of(SEED)[210:])
    feed(t, [block])
    assert len(sink.loads) == 1 and sink.loads[0]["cause"] == "kv_too_big" and sink.loads[0]["line"] == 394


def test_evictions_and_serving_ooms_are_told():
    path = SAMPLE_DIR / "v0.6.8-evictions.log"
    t, sink = tracker(path)
    feed(t, lines_of(path))
    assert len(sink.evictions) == 1 and sink.evictions[0][1]


# -- state -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sample_logs_list(), ids=lambda p: p.name)
def test_a_restart_from_the_state_goes_on_where_it_stopped(path):
    lines = lines_of(path)
    whole, _ = tracker(path)
    one = Collect()
    whole.sinks = [one]
    feed(whole, lines)
    for cut in (len(lines) // 3, len(lines) // 2, len(lines) - 3):
        a, sa = tracker(path)
        feed(a, lines[:cut], finish=False)
        saved = json.loads(json.dumps(a.state()))
        b, sb = tracker(path)
        b.restore(saved)
        feed(b, lines[cut:])
        told = sa.loads + sb.loads
        assert [e["line"] for e in told] == [e["line"] for e in one.loads], cut
        for x, y in zip(told, one.loads):
            assert same_verdict(x, y) == [], (cut, x["line"])


def test_a_state_of_another_version_is_refused(monkeypatch):
    from ollalog import snapshot
    a, _ = tracker(SEED)
    feed(a, lines_of(SEED)[:100], finish=False)
    saved = json.loads(json.dumps(a.state()))
    saved["snapshot"]["version"] = "0" * 16
    b, _ = tracker(SEED)
    with pytest.raises(snapshot.SnapshotError):
        b.restore(saved)


def test_what_is_kept_stays_bounded(tmp_path):
    lines = lines_of(SEED)
    data = b"".join(lines[:210]) + b"".join(lines[210:]) * 60
    path = tmp_path / "many.log"
    path.write_bytes(data)
    t, sink = tracker(path)
    sizes = []
    recs = records(data)
    pieces = [b"".join(recs[i:i + 40]) for i in range(0, len(recs), 40)]   # as a busy server writes
    step = len(pieces) // 6
    for i in range(0, len(pieces), step):
        feed(t, pieces[i:i + step], finish=False)
        sizes.append((t.events.num_rows, len(json.dumps(t.state()))))
    t.finish()
    assert len(sink.loads) == 61
    assert len(t.resume.assembler.loads) <= W.KEEP_LOADS
    # the events kept and the state do not grow with the loads read
    assert sizes[-1][0] <= sizes[2][0] * 1.2, sizes
    assert sizes[-1][1] <= sizes[2][1] * 1.2 and sizes[-1][1] < 1_000_000, sizes
    assert compare(path, sink.loads) == []


def test_binary_garbage_is_skipped_and_reported():
    notes = []
    sink = Collect()
    t = W.Tracker(Bytes("x.log"), sinks=[sink], notice=lambda k, s: notes.append((k, s)))
    lines = lines_of(SEED)
    feed(t, [b"".join(lines[:100]), b"\x00\x01\x02\xff" * 20000 + b"\n", b"".join(lines[100:])])
    assert any(k == "error" and "binary" in s and "skipped" in s for k, s in notes), notes
    assert [e["placement"] for e in sink.loads] == ["gpu", "cpu"]


# -- following files -------------------------------------------------------------------------------

class Reader:
    """A consume that keeps whole lines, as the tracker does."""

    def __init__(self):
        self.data = bytearray()
        self.loud = bytearray()

    def __call__(self, span, final, loud):
        b = span.bytes()
        n = len(b) if final else b.rfind(b"\n") + 1
        self.data += b[:n]
        if loud:
            self.loud += b[:n]
        return n


def numbered(a, b, prefix="line"):
    return b"".join(f"{prefix} {i} some text to make it longer\n".encode() for i in range(a, b))


def follower(path, notes=None, history=False):
    return FileStream(str(path), (lambda k, s: notes.append((k, s))) if notes is not None else (lambda k, s: None),
                      history=history)


def test_rename_rotation_loses_no_line(tmp_path):
    p = tmp_path / "server.log"
    p.write_bytes(numbered(0, 100))
    notes = []
    s, r = follower(p, notes), Reader()
    s.poll(r)
    with open(p, "ab") as old:       # the writer still has the old file open
        os.rename(p, tmp_path / "server.log.1")
        old.write(numbered(100, 150))
        s.poll(r)                    # no new file yet: the old one is read on
        old.write(numbered(150, 160) + b"line 160 without its newline")
    p.write_bytes(numbered(1000, 1100))  # the writer reopened the name
    s.poll(r)
    want = numbered(0, 160) + b"line 160 without its newline" + numbered(1000, 1100)
    assert bytes(r.data) == want
    assert [k for k, _ in notes] == ["rotated"]


def test_copy_truncate_reads_the_copy_s_end(tmp_path):
    p = tmp_path / "server.log"
    p.write_bytes(numbered(0, 100))
    notes = []
    s, r = follower(p, notes), Reader()
    s.poll(r)
    with open(p, "ab") as w:
        w.write(numbered(100, 130))  # written, not yet read when logrotate copies
    shutil.copy(p, tmp_path / "server.log.1")
    with open(p, "r+b") as w:
        w.truncate(0)
    with open(p, "ab") as w:
        w.write(numbered(2000, 2005))
    s.poll(r)
    assert bytes(r.data) == numbered(0, 130) + numbered(2000, 2005)
    assert [k for k, _ in notes] == ["truncated"]


def test_copy_truncate_with_a_compressed_copy_grown_past_the_point_read(tmp_path):
    p = tmp_path / "server.log"
    p.write_bytes(numbered(0, 100))
    s, r = follower(p), Reader()
    s.poll(r)
    with open(p, "ab") as w:
        w.write(numbered(100, 130))
    with open(tmp_path / "server.log.1.gz", "wb") as z:
        z.write(gzip.compress(p.read_bytes()))
    # truncated and written again past the point read before the watch looked: the bytes before
    # that point differ, so it is still a new file
    p.write_bytes(numbered(5000, 5300))
    s.poll(r)
    assert bytes(r.data) == numbered(0, 130) + numbered(5000, 5300)


def test_truncation_without_a_copy_says_so_and_reads_on(tmp_path):
    p = tmp_path / "server.log"
    p.write_bytes(numbered(0, 10))
    notes = []
    s, r = follower(p, notes), Reader()
    s.poll(r)
    p.write_bytes(numbered(70, 72))
    s.poll(r)
    assert bytes(r.data) == numbered(0, 10) + numbered(70, 72)
    assert [k for k, _ in notes] == ["lost"]


def test_history_is_quiet_and_a_line_being_written_waits(tmp_path):
    p = tmp_path / "server.log"
    p.write_bytes(numbered(0, 50) + b"half a li")
    s, r = follower(p, history=True), Reader()
    s.poll(r)
    assert bytes(r.data) == numbered(0, 50) and bytes(r.loud) == b""
    with open(p, "ab") as w:
        w.write(b"ne\n" + numbered(50, 52))
    s.poll(r)
    assert bytes(r.loud) == b"half a line\n" + numbered(50, 52)


@pytest.mark.parametrize("how", ["same", "rename", "copytruncate", "gone"])
def test_a_restart_goes_on_in_the_file_or_its_rotated_copy(tmp_path, how):
    p = tmp_path / "server.log"
    p.write_bytes(numbered(0, 100))
    s, r = follower(p), Reader()
    s.poll(r)
    saved = json.loads(json.dumps(s.state()))
    s.close()
    with open(p, "ab") as w:
        w.write(numbered(100, 120))       # written while no watch ran
    if how == "rename":
        os.rename(p, tmp_path / "server.log.1")
        p.write_bytes(numbered(3000, 3010))
    elif how == "copytruncate":
        shutil.copy(p, tmp_path / "server.log.1")
        p.write_bytes(numbered(3000, 3010))
    elif how == "gone":
        os.unlink(p)
        p.write_bytes(numbered(3000, 3010))
    notes = []
    s2, r2 = follower(p, notes), Reader()
    s2.restore(saved)
    s2.poll(r2)
    if how == "same":
        assert bytes(r2.data) == numbered(100, 120) and notes == []
    elif how == "gone":
        assert bytes(r2.data) == numbered(3000, 3010) and [k for k, _ in notes] == ["lost"]
    else:
        assert bytes(r2.data) == numbered(100, 120) + numbered(3000, 3010), how
        assert [k for k, _ in notes] == ["rotated"]


def test_a_file_that_appears_later_is_waited_for(tmp_path):
    p = tmp_path / "later.log"
    notes = []
    s, r = follower(p, notes), Reader()
    s.poll(r)
    s.poll(r)
    assert [k for k, _ in notes] == ["waiting"]
    p.write_bytes(numbered(0, 3))
    s.poll(r)
    assert bytes(r.data) == numbered(0, 3)


def test_watch_follows_a_growing_file_through_rotations(tmp_path):
    """The library end to end: a Watch in a thread, a writer appending the evictions log in three
    parts with a rename rotation and a copy-truncate between them: every load told once, with
    the line numbers of the log as one stream, and every line counted once."""
    path = SAMPLE_DIR / "v0.6.8-evictions.log"
    lines = lines_of(path)
    p = tmp_path / "gpu-1" / "server.log"
    p.parent.mkdir()
    p.write_bytes(b"".join(lines[:30]))
    sink = Collect()
    w = W.Watch([str(p)], sinks=[sink], state=str(tmp_path / "state.json"), history=False,
                check_every=0.5, hold=0.05, hold_max=0.2)
    stop = threading.Event()
    th = threading.Thread(target=w.run, args=(stop,))
    th.start()
    try:
        def settle(n):
            deadline = time.monotonic() + 15
            while sum(s.get("physical", 0) for s in sink.stats) < n and time.monotonic() < deadline:
                time.sleep(0.05)
        settle(30)
        os.rename(p, p.with_name("server.log.1"))
        p.write_bytes(b"".join(lines[30:70]))
        settle(70)
        with open(p, "ab") as f:
            f.write(b"".join(lines[70:80]))
        shutil.copy(p, p.with_name("server.log.2"))
        with open(p, "r+b") as f:
            f.truncate(0)
        with open(p, "ab") as f:
            f.write(b"".join(lines[80:]))
        settle(len(lines))
        deadline = time.monotonic() + 15
        while len(sink.loads) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        w.wake_up()
        th.join(timeout=30)
    assert not th.is_alive()
    assert sum(s.get("physical", 0) for s in sink.stats) == len(lines)
    assert compare(path, sink.loads) == []
    # the journal's prefix names the host (it wins over the folder's name)
    assert {ev["host"] for ev in sink.loads} == {"gpu-node-2"}


# -- metrics ---------------------------------------------------------------------------------------

def test_paths_become_routes_or_other():
    from ollalog.metrics import Routes, status_label
    r = Routes()
    assert r("/api/chat") == "/api/chat"
    assert r("/api/chat?stream=false") == "/api/chat"
    assert r("/api/blobs/sha256:29fdb92e57cf082e") == "/api/blobs/:digest"
    assert r("/v1/models/llama3.1:8b") == "/v1/models/:model"
    assert r("/") == "/"
    for hostile in ("/../../etc/passwd", "/api/chat/extra", "/api/blobs/", "/v1/models/a/b", "", None,
                    "/api/generate\x00", "/" + "a" * 5000, "/home/user/prompt with words"):
        assert r(hostile) == "other", hostile
    assert [status_label(s) for s in (200, 404, "500", 99, 600, None, "x")] == \
        ["200", "404", "500", "other", "other", "other", "other"]


def test_label_values_are_bounded():
    from ollalog.metrics import Metrics
    m = Metrics(max_models=5, max_hosts=2)
    for i in range(50):
        m.load({"host": f"h{i % 3}", "model": f"model-{i}\x1b[31m" + "x" * 500, "placement": "cpu",
                "cause": "kv_too_big", "layers_offloaded": 0, "layers_total": 10})
    text = m.text()
    series = [ln for ln in text.splitlines() if ln.startswith("ollama_loads_total{")]
    models = {ln.split('model="')[1].split('"')[0] for ln in series}
    hosts = {ln.split('host="')[1].split('"')[0] for ln in series}
    assert len(models - {"other"}) == 5 and "other" in models
    assert hosts == {"h0", "h1", "other"}
    assert all(len(v) <= 128 and "\x1b" not in v for v in models)
    assert sum(float(ln.rsplit(" ", 1)[1]) for ln in series) == 50


def test_metrics_of_the_seed_log():
    from ollalog.metrics import Metrics
    m = Metrics()
    t = W.Tracker(Bytes("gpubox/server.log"), sinks=[m])
    feed(t, lines_of(SEED))
    text = m.text()
    want = [
        'ollama_loads_total{cause="kv_too_big",host="gpubox",model="DeepSeek R1 Distill Qwen 32B (blob 9fa8987608ed)",placement="cpu"} 1.0',
        'ollama_loads_total{cause="fits",host="gpubox",model="DeepSeek R1 Distill Qwen 32B (blob 9fa8987608ed)",placement="gpu"} 1.0',
        'ollama_load_layers_offloaded{host="gpubox",model="DeepSeek R1 Distill Qwen 32B (blob 9fa8987608ed)"} 0.0',
        'ollama_load_layers{host="gpubox",model="DeepSeek R1 Distill Qwen 32B (blob 9fa8987608ed)"} 65.0',
        'ollama_load_num_ctx_full_gpu{host="gpubox",model="DeepSeek R1 Distill Qwen 32B (blob 9fa8987608ed)"} 6323.0',
        'ollama_gpu_free_bytes{gpu="GPU-a41839ba-c28a-d437-6452-e722eef85e70",host="gpubox"} 2.4910810317e+10',
        'ollama_request_duration_seconds_count{host="gpubox",path="/api/chat",status="200"} 5.0',
        'ollama_load_duration_seconds_count{host="gpubox",model="DeepSeek R1 Distill Qwen 32B (blob 9fa8987608ed)"} 2.0',
        'ollalog_lines_total{host="gpubox",status="parsed"} 393.0',
    ]
    for w in want:
        assert w in text.splitlines(), w
    assert "_created" not in text


# -- hooks ---------------------------------------------------------------------------------------

def test_hooks_get_the_event_and_never_hold_the_watch(tmp_path):
    from ollalog.hooks import Hooks
    got = []
    out = tmp_path / "got.json"
    h = Hooks({"on_cpu": f"cat > {out}; printf %s \"$OLLALOG_MODEL\" > {out}.model",
               "on_partial": "sleep 30", "bad": "echo nope >&2; exit 3"}, timeout=0.5,
              report=lambda *a: got.append(a))
    t0 = time.monotonic()
    h.run("on_partial", b"{}", {})
    h.run("on_cpu", b'{"placement": "cpu"}\n', {"model": "m\x07:1"})
    h.run("bad", b"", {})
    assert time.monotonic() - t0 < 0.2           # queued, not run in the caller
    deadline = time.monotonic() + 10
    while len(got) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    h.close(grace=1)
    results = {a[0]: a[1:] for a in got}
    assert results["on_cpu"] == ("ok", "")
    assert results["on_partial"][0] == "timeout"
    assert results["bad"] == ("failed", "exit status 3: nope")
    assert json.loads(out.read_text()) == {"placement": "cpu"}
    assert (tmp_path / "got.json.model").read_text() == "m?:1"
    assert time.monotonic() - t0 < 5
