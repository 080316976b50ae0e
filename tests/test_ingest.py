"""`ollalog ingest`: an incremental, interrupt-safe Parquet dataset (ingest.py, dataset.py).

The bars: re-running on unchanged files adds nothing; appending to a file adds exactly its new
loads (the dataset then equals one ingest of the whole file); an ingest killed midway and run
again leaves the dataset one clean run leaves; host names never become paths."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pyarrow.dataset as ds
import pytest

import ollalog
from ollalog import dataset as D
from ollalog import views
from ollalog.ingest import _Lock, ingest
from conftest import REPO, SEED_LOG, TABLE_NAMES, cli_env, run_cli, sample_logs_list

SAMPLES = sample_logs_list()
EVICT = REPO / "sample_logs" / "v0.6.8-evictions.log"
SEED = REPO / "sample_logs" / "seed-deepseek-r1-32b.log"


def _state(root, files: bool = True) -> dict:
    """Everything a reader sees of a dataset: every view's rows in order, and its files (an
    appended file is more files than one read of it: those differ there)."""
    con = views.connect(str(root))
    out = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in views.VIEWS}
    if files:
        out["files"] = sorted(os.path.relpath(p, root) for ps in D.committed_files(str(root)).values() for p in ps)
    return out


def _on_disk(root) -> list[str]:
    """Every Parquet file under the table folders: after an ingest, exactly the committed ones."""
    out = []
    for t in TABLE_NAMES:
        for dp, _, fns in os.walk(os.path.join(root, t)):
            out += [os.path.relpath(os.path.join(dp, f), root) for f in fns]
    return sorted(out)


def _copy_samples(tmp_path, names=None) -> list[str]:
    out = []
    for i, p in enumerate(SAMPLES):
        if names and p.name not in names:
            continue
        d = tmp_path / "logs" / f"host{i}"
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, d / "server.log")
        out.append(str(d / "server.log"))
    return out


def _lines_at(data: bytes, n: int) -> int:
    """Byte offset of the start of line n+1 (after the first n lines)."""
    pos = 0
    for _ in range(n):
        pos = data.index(b"\n", pos) + 1
    return pos


# -- the bars ------------------------------------------------------------------------------------

def test_rerun_on_unchanged_files_adds_nothing(tmp_path):
    logs = _copy_samples(tmp_path)
    root = tmp_path / "ds"
    first = ingest(logs, str(root), jobs=2)
    assert {r.status for r in first.results} == {"new"}
    before = _state(root)
    records = {fn: (root / "_ollalog" / "files" / fn).read_bytes() for fn in os.listdir(root / "_ollalog" / "files")}
    mtimes = {p: os.stat(root / p).st_mtime_ns for p in before["files"]}
    again = ingest(logs, str(root), jobs=2)
    assert [r.status for r in again.results] == ["unchanged"] * len(logs)
    assert again.rows("events") == again.rows("requests") == again.rows("loads") == 0
    assert _state(root) == before
    assert {fn: (root / "_ollalog" / "files" / fn).read_bytes() for fn in os.listdir(root / "_ollalog" / "files")} == records
    assert {p: os.stat(root / p).st_mtime_ns for p in before["files"]} == mtimes
    assert _on_disk(root) == before["files"]


@pytest.mark.parametrize("log,cut", [(SEED, 150), (SEED, 211), (SEED, 230), (EVICT, 45), (EVICT, 60), (EVICT, 100)],
                         ids=["seed-between-loads", "seed-at-load", "seed-mid-load", "evict-before-eviction",
                              "evict-mid-load", "evict-last-load"])
def test_appending_adds_exactly_the_new_loads(tmp_path, log, cut):
    _append_and_compare(tmp_path, log.read_bytes(), cut)


def test_appending_to_a_log_of_many_loads(tmp_path, many_loads):
    """The snapshot of a file of dozens of loads holds most of them settled (as rows): the grown
    file's ingest goes on from them and equals one ingest of the whole file."""
    data = (many_loads / "two.log").read_bytes()
    _append_and_compare(tmp_path, data, data.count(b"\n") * 2 // 3)


def _append_and_compare(tmp_path, data: bytes, cut: int) -> None:
    at = _lines_at(data, cut)
    d = tmp_path / "h"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(data[:at])
    root = tmp_path / "ds"
    ingest([str(f)], str(root))
    loads_before = ollalog.read(str(f)).loads.num_rows
    with open(f, "ab") as fh:
        fh.write(data[at:])
    res = ingest([str(f)], str(root))
    assert [r.status for r in res.results] == ["grown"]
    total = ollalog.read(str(f)).loads.num_rows
    assert res.rows("loads") == total - loads_before
    # and the dataset is the one a single ingest of the whole file makes
    clean = tmp_path / "clean"
    ingest([str(f)], str(clean))
    assert _state(root, files=False) == _state(clean, files=False)
    assert _on_disk(root) == _state(root)["files"]


def _cli_ingest(*args, fault: str | None = None, timeout=120):
    env = cli_env()
    if fault:
        env["OLLALOG_INGEST_FAULT"] = fault
    p = subprocess.run([sys.executable, "-m", "ollalog", "ingest", *map(str, args)], capture_output=True,
                       env=env, timeout=timeout)
    return p


FAULTS = ["data:1", "data:4", "record:1", "record:3", "cleanup:1", "cleanup:2"]


@pytest.mark.parametrize("fault", FAULTS)
def test_killed_midway_then_rerun_equals_a_clean_run(tmp_path, fault):
    logs = _copy_samples(tmp_path, {"seed-deepseek-r1-32b.log", "v0.6.8-evictions.log", "k8s-cri.log",
                                    "v0.12.3-journald-fr.log"})
    root, clean = tmp_path / "ds", tmp_path / "clean"
    p = _cli_ingest(*logs, "--to", root, "-j", "1", fault=fault)
    assert p.returncode == 86, p.stderr  # killed at the fault point
    # what a reader sees meanwhile is what was committed, whole files only
    seen = _state(root)
    committed = {r.file_id for r in D.load_records(str(root)).values()}
    assert {row[1] for row in seen["lines"]} == committed  # lines.file_id
    p = _cli_ingest(*logs, "--to", root, "-j", "1")
    assert p.returncode == 0, p.stderr
    ingest(logs, str(clean), jobs=1)
    assert _state(root) == _state(clean)
    assert _on_disk(root) == _state(root)["files"]


@pytest.mark.parametrize("fault", ["data:2", "record:1", "cleanup:1"])
def test_killed_while_reading_a_grown_file(tmp_path, fault):
    data = EVICT.read_bytes()
    at = _lines_at(data, 60)
    d = tmp_path / "h"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(data[:at])
    root, clean = tmp_path / "ds", tmp_path / "clean"
    ingest([str(f)], str(root))
    with open(f, "ab") as fh:
        fh.write(data[at:])
    p = _cli_ingest(f, "--to", root, fault=fault)
    assert p.returncode == 86, p.stderr
    p = _cli_ingest(f, "--to", root)
    assert p.returncode == 0, p.stderr
    ingest([str(f)], str(clean))
    assert _state(root, files=False) == _state(clean, files=False)
    assert _on_disk(root) == _state(root)["files"]


def _big_logs(tmp_path, n=4, copies=60) -> list[str]:
    out = []
    body = SEED.read_bytes()
    for i in range(n):
        d = tmp_path / "big" / f"node{i}"
        d.mkdir(parents=True)
        f = d / "server.log"
        f.write_bytes(body * copies)
        out.append(str(f))
    return out


def test_sigkill_at_any_time_then_rerun_equals_a_clean_run(tmp_path):
    logs = _big_logs(tmp_path)
    root, clean = tmp_path / "ds", tmp_path / "clean"
    env = cli_env()
    proc = subprocess.Popen([sys.executable, "-m", "ollalog", "ingest", *logs, "--to", str(root), "-j", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    records = root / "_ollalog" / "files"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # kill it once the first file committed
        if records.is_dir() and any(n.endswith(".json") for n in os.listdir(records)):
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    committed = len(D.load_records(str(root)))
    assert 1 <= committed < len(logs), f"killed after {committed} of {len(logs)} files: not midway"
    p = _cli_ingest(*logs, "--to", root, "-j", "2")
    assert p.returncode == 0, p.stderr
    ingest(logs, str(clean), jobs=2)
    assert _state(root) == _state(clean)
    assert _on_disk(root) == _state(root)["files"]


def test_one_ingest_at_a_time(tmp_path):
    logs = _copy_samples(tmp_path, {"k8s-cri.log"})
    root = tmp_path / "ds"
    ingest(logs, str(root))
    with _Lock(str(root), wait=False):
        p = run_cli("ingest", *logs, "--to", root)
        assert p.returncode == 1
        assert re.fullmatch(r"ollalog: error: .*another ingest \(pid \d+\) is writing this dataset.*\n", p.stderr)
        waited = {}

        def later():
            waited["p"] = run_cli("ingest", *logs, "--to", root, "--wait")
        t = threading.Thread(target=later)
        t.start()
        time.sleep(3)
        assert t.is_alive(), "--wait did not wait for the lock"
    t.join(60)
    assert waited["p"].returncode == 0 and "unchanged 1" in waited["p"].stdout


# -- identity: rotation, replacement, partial lines ------------------------------------------------

def test_rotation_is_recognised(tmp_path):
    d = tmp_path / "logs" / "h1"
    d.mkdir(parents=True)
    f = d / "server.log"
    f.write_bytes(SEED.read_bytes())
    root = tmp_path / "ds"
    ingest([str(d)], str(root))
    before = _state(root)
    # logrotate: rename, a new file in its place
    os.rename(f, d / "server.log.1")
    f.write_bytes(EVICT.read_bytes())
    res = ingest([str(d)], str(root))
    assert sorted((os.path.basename(r.name), r.status) for r in res.results) == [("server.log", "new"),
                                                                                   ("server.log.1", "unchanged")]
    # compressed later (delaycompress): the same content under a new inode is not read again
    (d / "server.log.1.gz").write_bytes(gzip.compress((d / "server.log.1").read_bytes()))
    os.unlink(d / "server.log.1")
    res = ingest([str(d)], str(root))
    assert sorted((os.path.basename(r.name), r.status) for r in res.results) == [("server.log", "unchanged"),
                                                                                   ("server.log.1.gz", "rotated")]
    assert res.rows("events") == res.rows("loads") == 0
    after = _state(root)
    assert len(after["loads"]) == len(before["loads"]) + 3
    # the renamed file grew before it was compressed: only the rest is read
    con = views.connect(str(root))
    assert con.execute("SELECT count(*), count(DISTINCT load_id) FROM loads").fetchall() == [(5, 5)]


def test_rotated_copy_that_grew_is_read_from_where_it_stopped(tmp_path):
    data = SEED.read_bytes()
    at = _lines_at(data, 150)
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(data[:at])
    root = tmp_path / "ds"
    ingest([str(f)], str(root))
    # copytruncate: a copy holding what was written since, the original emptied and written anew
    (d / "server.log.1").write_bytes(data)
    f.write_bytes(EVICT.read_bytes())
    res = ingest([str(d)], str(root))
    assert sorted((os.path.basename(r.name), r.status) for r in res.results) == [("server.log", "replaced"),
                                                                                   ("server.log.1", "rotated")]
    con = views.connect(str(root))
    seed_loads = con.execute("SELECT count(*) FROM loads WHERE host = 'gpubox'").fetchall()
    assert seed_loads == [(2,)]
    assert con.execute("SELECT count(*) FROM events WHERE host = 'gpubox'").fetchall() == \
        [(ollalog.read(str(d / "server.log.1")).events.num_rows,)]


def test_a_replaced_file_is_read_anew_and_the_old_rows_stay(tmp_path):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(SEED.read_bytes())
    root = tmp_path / "ds"
    ingest([str(f)], str(root))
    with open(f, "r+b") as fh:   # the same inode, other content
        fh.truncate(0)
        fh.write(EVICT.read_bytes())
    res = ingest([str(f)], str(root))
    assert [r.status for r in res.results] == ["replaced"]
    con = views.connect(str(root))
    assert con.execute("SELECT host, count(*) FROM loads GROUP BY host ORDER BY host").fetchall() == \
        [("gpu-node-2", 3), ("gpubox", 2)]
    assert con.execute("SELECT count(DISTINCT file_id) FROM lines").fetchall() == [(2,)]


def test_a_line_still_being_written_waits_for_its_newline(tmp_path):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    half = b'Jan 28 09:40:00 gpubox ollama[1187]: time=2025-01-28T09:40:00.100+01:00 level=INFO source=server.go:1 msg="llama '
    f.write_bytes(SEED.read_bytes() + half)  # longer than the 4 KiB its identity hashes
    root = tmp_path / "ds"
    res = ingest([str(f)], str(root))
    assert res.results[0].held_back == len(half)
    p = run_cli("ingest", f, "--to", root)  # touched, nothing new: unchanged
    assert "unchanged 1" in p.stdout
    with open(f, "ab") as fh:
        fh.write(b'runner started in 2.00 seconds"\n')
    res = ingest([str(f)], str(root))
    assert res.results[0].status == "grown" and res.rows("events") == 1
    clean = tmp_path / "clean"
    ingest([str(f)], str(clean))
    assert _state(root, files=False) == _state(clean, files=False)


def test_a_last_line_without_newline_in_an_old_file_is_read(tmp_path):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(SEED_LOG.rstrip(b"\n"))
    old = time.time() - 3600
    os.utime(f, (old, old))
    root = tmp_path / "ds"
    res = ingest([str(f)], str(root))
    assert res.results[0].held_back == 0
    assert res.rows("requests") == 2  # the last line is a request


def test_a_snapshot_from_other_code_rereads_the_file(tmp_path):
    data = EVICT.read_bytes()
    at = _lines_at(data, 60)
    d = tmp_path / "h"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(data[:at])
    root = tmp_path / "ds"
    ingest([str(f)], str(root))
    (rec,) = D.load_records(str(root)).values()
    state = root / "_ollalog" / "state" / rec.state
    snap = json.loads(state.read_text())
    snap["version"] = "another"
    state.write_text(json.dumps(snap))
    with open(f, "ab") as fh:
        fh.write(data[at:])
    res = ingest([str(f)], str(root))
    assert [r.status for r in res.results] == ["reread"]
    clean = tmp_path / "clean"
    ingest([str(f)], str(clean))
    assert _state(root) == _state(clean)
    assert _on_disk(root) == _state(root)["files"]


# -- hosts never become paths ----------------------------------------------------------------------

HOSTILE = ["../../escape", "a/b/c", "..", ".", ".hidden", "host=x", "day=1999-01-01", "100%", "__HIVE_DEFAULT_PARTITION__",
           "h\u00f4te-\u65e5\u672c", "x" * 300, "new\nline", "back\\slash", "C:\\temp", "123"]


@pytest.mark.parametrize("host", HOSTILE, ids=lambda h: repr(h)[:30])
def test_hostile_host_names_never_become_paths(tmp_path, host):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(SEED_LOG)
    root = tmp_path / "ds"
    ingest([str(f)], str(root), host=host)
    real = os.path.realpath(root)
    walked = []
    for dp, dirs, fns in os.walk(tmp_path):
        for n in dirs + fns:
            walked.append(os.path.realpath(os.path.join(dp, n)))
    outside = [p for p in walked if not (p == real or p.startswith(real + os.sep) or p.startswith(str(d)))]
    assert outside == []
    for p in _on_disk(root):
        table, hostdir, daydir, name = p.split(os.sep)
        assert re.fullmatch(r"host=[A-Za-z0-9._%~-]+", hostdir) and len(hostdir) <= 5 + D.MAX_PART, hostdir
        assert re.fullmatch(r"day=\d{4}-\d{2}-\d{2}", daydir)
    con = views.connect(str(root))
    got = {r[0] for r in con.execute("SELECT DISTINCT host FROM events").fetchall()}
    want = host if len(D.partition_value(host)) < D.MAX_PART else None
    if want is not None:
        assert got == {host}
    else:
        assert got == {D.partition_value(host)}  # cut, with a digest: still one folder, inside the dataset


def test_hostile_host_from_a_journald_prefix(tmp_path):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(b"Feb 01 10:00:00 ../../../tmp/x ollama[1]: time=2025-02-01T10:00:00.000+01:00 level=INFO "
                  b'source=routes.go:1 msg="Listening on [::]:11434 (version 0.5.7)"\n')
    root = tmp_path / "ds"
    ingest([str(f)], str(root))
    assert [p.split(os.sep)[1] for p in _on_disk(root)] == ["host=..%2F..%2F..%2Ftmp%2Fx"] * 2
    con = views.connect(str(root))
    assert con.execute("SELECT host FROM events").fetchall() == [("../../../tmp/x",)]


# -- readers and the command ---------------------------------------------------------------------

def test_pyarrow_reads_the_dataset_as_is(tmp_path):
    logs = _copy_samples(tmp_path)
    root = tmp_path / "ds"
    ingest(logs, str(root))
    import pyarrow as pa
    part = ds.partitioning(pa.schema([("host", pa.string()), ("day", pa.date32())]), flavor="hive")
    t = ds.dataset(str(root / "loads"), format="parquet", partitioning=part).to_table()
    mem = ollalog.read(logs)
    assert t.num_rows == mem.loads.num_rows
    assert sorted(t.column("host").to_pylist()) == sorted(mem.loads.column("host").to_pylist())
    assert sorted(t.column("load_id").to_pylist()) == sorted(mem.loads.column("load_id").to_pylist())
    ev = ds.dataset(str(root / "events"), format="parquet", partitioning=part).to_table()
    assert ev.num_rows == mem.events.num_rows


def test_views_over_a_dataset_equal_views_over_the_logs(tmp_path):
    paths = [str(p) for p in SAMPLES]
    ingest(paths, str(tmp_path / "ds"), jobs=2)
    con = views.connect(ollalog.read(paths), verdicts=True)
    dcon = views.connect(str(tmp_path / "ds"), verdicts=True)
    for view in views.VIEWS:
        assert dcon.execute(f"DESCRIBE {view}").fetchall() == con.execute(f"DESCRIBE {view}").fetchall(), view
        want = con.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall()
        assert dcon.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall() == want, view
    for name, q in views.queries().items():
        assert views.run(dcon, q.sql, q.bind({})).fetchall() == views.run(con, q.sql, q.bind({})).fetchall(), name


def test_one_job_and_two_jobs_make_the_same_dataset(tmp_path):
    logs = _copy_samples(tmp_path)
    ingest(logs, str(tmp_path / "a"), jobs=1)
    ingest(logs, str(tmp_path / "b"), jobs=2)
    assert _state(tmp_path / "a") == _state(tmp_path / "b")


def test_ingest_command(tmp_path):
    logs = _copy_samples(tmp_path, {"seed-deepseek-r1-32b.log", "v0.6.8-evictions.log"})
    root = tmp_path / "ds"
    p = run_cli("ingest", *logs, "--to", root)
    assert p.returncode == 0, p.stderr
    assert re.match(r"ingest 2 files into .* in [\d.]+ s: new 2\n  added    events [\d,]+  requests 23  loads 5\n$",
                    p.stdout), p.stdout
    p = run_cli("sql", "--data", root, "SELECT count(*) AS n FROM loads", "--format", "json")
    assert json.loads(p.stdout) == [{"n": 5}]
    p = run_cli("ingest", "-", "--to", root)
    assert p.returncode == 2 and "ingest reads files, not stdin" in p.stderr
    p = run_cli("ingest", tmp_path / "missing.log", *logs, "--to", root)
    assert p.returncode == 1 and "no such file or directory" in p.stderr and "unchanged 2" in p.stdout
    (tmp_path / "afile").write_text("x")
    p = run_cli("ingest", *logs, "--to", tmp_path / "afile")
    assert p.returncode == 2 and "not a directory" in p.stderr
    p = run_cli("ingest", *logs)
    assert p.returncode == 2


def test_binary_input_is_reported_and_not_recorded(tmp_path):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(bytes(range(256)) * 400)
    root = tmp_path / "ds"
    p = run_cli("ingest", f, "--to", root)
    assert p.returncode == 1 and "not a text log (binary data)" in p.stderr
    assert D.load_records(str(root)) == {}


def test_an_unreadable_file_is_reported_and_the_rest_ingested(tmp_path):
    """Permission checks in force even as root (setpriv drops the override; DECISIONS.md)."""
    logs = _copy_samples(tmp_path, {"k8s-cri.log", "v0.12.3-journald-fr.log"})
    os.chmod(logs[0], 0)
    root = tmp_path / "ds"
    cmd = [sys.executable, "-m", "ollalog", "ingest", *logs, "--to", str(root)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv not installed (util-linux): cannot drop root's permission override")
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
               "--inh-caps=-dac_override,-dac_read_search"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=120)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [f"ollalog: error: {logs[0]}: permission denied"]
    assert "new 1" in p.stdout and "error 1" in p.stdout
    assert [r.name for r in D.load_records(str(root)).values()] == [logs[1]]
