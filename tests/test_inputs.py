"""Inputs: compressed files, cut streams, directories, globs, hosts and stdin."""
from __future__ import annotations

import gzip
import os
import random
import zlib

import pyarrow.parquet as pq
import pytest
import zstandard

import ollalog
from conftest import SEED_LOG, SEED_LOG_LINES, TABLE_NAMES, physical_lines, rows, run_cli


def _all_rows(t) -> dict:
    """Every table without the file's name and on-disk identity (the only things a .gz/.zst
    changes: offsets and the head hash are of the decompressed bytes)."""
    return {n: rows(t[n], drop=("file", "file_id", "load_id", "device", "inode", "size")) for n in TABLE_NAMES}


def _big_log(n: int = 3000, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        out.append(b'time=2025-04-27T10:%02d:%02d.000+02:00 level=DEBUG source=sched.go:%d msg="line %d" pad=%s\n'
                   % (i // 60 % 60, i % 60, i, i, rnd.randbytes(24).hex().encode()))
    return b"".join(out)


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_compressed_reads_like_plain(tmp_path, engine, kind):
    d = tmp_path / "h1"
    d.mkdir()
    plain = d / "server.log"
    plain.write_bytes(SEED_LOG)
    comp = d / f"server.log.{kind}"
    comp.write_bytes(gzip.compress(SEED_LOG) if kind == "gz" else zstandard.ZstdCompressor().compress(SEED_LOG))
    a = ollalog.read(str(plain), engine=engine)
    b = ollalog.read(str(comp), engine=engine)
    assert a.errors == [] and b.errors == []
    assert _all_rows(b) == _all_rows(a)
    assert b.lines.column("file").to_pylist() == [str(comp)]
    assert b.lines.column("physical").to_pylist() == [SEED_LOG_LINES]
    assert b.loads.num_rows == 1


def test_compression_is_recognised_by_content_not_name(tmp_path, engine):
    d = tmp_path / "h1"
    d.mkdir()
    (d / "a.log").write_bytes(gzip.compress(SEED_LOG))
    (d / "b.log").write_bytes(zstandard.ZstdCompressor().compress(SEED_LOG))
    (d / "c.log").write_bytes(SEED_LOG)
    t = ollalog.read([str(d / "a.log"), str(d / "b.log"), str(d / "c.log")], engine=engine)
    assert t.errors == []
    assert t.lines.column("physical").to_pylist() == [SEED_LOG_LINES] * 3
    assert t.loads.column("placement").to_pylist() == ["cpu"] * 3


def _truncated_gz(tmp_path):
    data = _big_log()
    gz = gzip.compress(data)
    cut = gz[: len(gz) // 2]
    readable = zlib.decompressobj(31).decompress(cut)  # everything the cut stream still holds
    assert data.startswith(readable) and 0 < len(readable) < len(data)
    p = tmp_path / "h1" / "server.log.gz"
    p.parent.mkdir()
    p.write_bytes(cut)
    return p, readable


def test_truncated_gz_reports_the_cut(tmp_path, engine):
    p, _ = _truncated_gz(tmp_path)
    seen = []
    t = ollalog.read(str(p), engine=engine, on_error=seen.append)
    assert seen == t.errors
    assert [e.path for e in t.errors] == [str(p)]
    assert [e.reason for e in t.errors] == ["truncated gzip stream (read up to the cut)"]
    (ln,) = t.lines.to_pylist()
    assert ln["error"] == "truncated gzip stream (read up to the cut)"
    assert ln["physical"] == ln["parsed"] + ln["unknown"] + ln["malformed"]


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, None], ids=["chunk1", "chunk7", "chunk4096", "default"])
def test_truncated_gz_keeps_what_was_read(tmp_path, engine, chunk_size):
    p, readable = _truncated_gz(tmp_path)
    kw = {} if chunk_size is None else {"chunk_size": chunk_size}
    t = ollalog.read(str(p), engine=engine, on_error=lambda e: None, **kw)
    (ln,) = t.lines.to_pylist()
    assert ln["bytes"] == len(readable)
    assert ln["physical"] == physical_lines(readable)
    assert t.events.num_rows == physical_lines(readable)
    assert ln["error"] == "truncated gzip stream (read up to the cut)"


@pytest.mark.parametrize("chunk_size", [7, None], ids=["chunk7", "default"])
def test_truncated_zst_keeps_what_was_read_and_reports_the_cut(tmp_path, engine, chunk_size):
    data = _big_log()
    z = zstandard.ZstdCompressor().compress(data)
    cut = z[: len(z) // 2]
    readable = zstandard.ZstdDecompressor().decompressobj().decompress(cut)
    assert data.startswith(readable) and 0 < len(readable) < len(data)
    p = tmp_path / "h1" / "server.log.zst"
    p.parent.mkdir()
    p.write_bytes(cut)
    kw = {} if chunk_size is None else {"chunk_size": chunk_size}
    t = ollalog.read(str(p), engine=engine, on_error=lambda e: None, **kw)
    assert [(e.path, e.reason) for e in t.errors] == [(str(p), "truncated zstd stream (read up to the cut)")]
    (ln,) = t.lines.to_pylist()
    assert ln["error"] == "truncated zstd stream (read up to the cut)"
    assert ln["bytes"] == len(readable)
    assert ln["physical"] == physical_lines(readable)


def test_concatenated_gzip_members(tmp_path, engine):
    half = len(SEED_LOG) // 2
    cut = SEED_LOG.index(b"\n", half) + 1
    p = tmp_path / "h1" / "server.log.gz"
    p.parent.mkdir()
    p.write_bytes(gzip.compress(SEED_LOG[:cut]) + gzip.compress(SEED_LOG[cut:]))
    t = ollalog.read(str(p), engine=engine)
    assert t.errors == []
    assert t.lines.column("physical").to_pylist() == [SEED_LOG_LINES]
    assert t.lines.column("bytes").to_pylist() == [len(SEED_LOG)]


def test_corrupt_gz_reports_error(tmp_path, engine):
    gz = bytearray(gzip.compress(_big_log(200)))
    gz[40:60] = b"\x00" * 20
    p = tmp_path / "h1" / "bad.log.gz"
    p.parent.mkdir()
    p.write_bytes(bytes(gz))
    t = ollalog.read(str(p), engine=engine, on_error=lambda e: None)
    assert [e.path for e in t.errors] == [str(p)]
    assert t.lines.column("error").to_pylist()[0].startswith("corrupt gzip data")


def test_directory_expands_recursively(tmp_path, engine):
    root = tmp_path / "logs"
    (root / "node-a1").mkdir(parents=True)
    (root / "b" / "gpu2").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "top.log").write_bytes(SEED_LOG)
    (root / "node-a1" / "server.log").write_bytes(SEED_LOG)
    (root / "node-a1" / "server-1.log.gz").write_bytes(gzip.compress(SEED_LOG))
    (root / "b" / "gpu2" / "ollama.txt").write_bytes(SEED_LOG)
    (root / "b" / "notes.md").write_bytes(b"# not a log\n")
    (root / ".hidden" / "x.log").write_bytes(SEED_LOG)
    (root / ".dotfile.log").write_bytes(SEED_LOG)
    t = ollalog.read(str(root), engine=engine)
    assert t.errors == []
    expect = [root / "top.log", root / "b" / "gpu2" / "ollama.txt", root / "node-a1" / "server-1.log.gz",
              root / "node-a1" / "server.log"]
    assert t.lines.column("file").to_pylist() == [str(p) for p in expect]
    assert t.lines.column("host").to_pylist() == [None, "gpu2", "node-a1", "node-a1"]
    assert t.lines.column("physical").to_pylist() == [SEED_LOG_LINES] * 4


def test_directory_reads_only_log_files(tmp_path, engine):
    """The README's list: *.log, rotated *.log.N, *.gz, *.zst, *.txt; not .json, .jsonl, .out."""
    d = tmp_path / "logs"
    d.mkdir()
    names = ["server.log", "server.log.1", "server-2.log", "app.log.3.gz", "old.zst", "notes.txt",
             "server.json", "server.jsonl", "nohup.out", "server", "server.log.bak", "README.md"]
    for n in names:
        (d / n).write_bytes(SEED_LOG)
    t = ollalog.read(str(d), engine=engine)
    read = sorted(os.path.basename(f) for f in t.lines.column("file").to_pylist())
    assert read == sorted(["server.log", "server.log.1", "server-2.log", "app.log.3.gz", "old.zst", "notes.txt"])


def test_sample_logs_directory_is_its_ten_logs(engine):
    from conftest import SAMPLE_DIR
    t = ollalog.read(str(SAMPLE_DIR), engine=engine)
    assert t.errors == []
    assert sorted(os.path.basename(f) for f in t.lines.column("file").to_pylist()) == sorted(
        p.name for p in SAMPLE_DIR.glob("*.log"))
    assert t.lines.num_rows == 10
    assert sum(t.lines.column("unknown").to_pylist()) < sum(t.lines.column("parsed").to_pylist())


def test_same_file_given_twice_is_read_once(tmp_path, engine):
    d = tmp_path / "h1"
    d.mkdir()
    a = d / "server.log"
    a.write_bytes(SEED_LOG)
    (d / "link.log").symlink_to(a)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        t = ollalog.read(["h1/server.log", "h1/server.log", "./h1/server.log", str(a), "h1", "h1/link.log",
                          "h1/*.log"], engine=engine)
    finally:
        os.chdir(cwd)
    assert t.lines.column("file").to_pylist() == ["h1/server.log"]
    assert t.loads.num_rows == 1


def test_directory_without_logs_is_an_error(tmp_path, engine):
    d = tmp_path / "empty"
    d.mkdir()
    (d / "README.md").write_text("nothing\n")
    t = ollalog.read(str(d), engine=engine, on_error=lambda e: None)
    assert [(e.path, e.reason) for e in t.errors] == [
        (str(d), "directory holds no log files (*.log, *.log.N, *.gz, *.zst, *.txt)")]
    assert t.lines.num_rows == 0


def test_glob(tmp_path, engine):
    for host in ("n2", "n1", "n3"):
        (tmp_path / host).mkdir()
        (tmp_path / host / "server.log").write_bytes(SEED_LOG)
    (tmp_path / "n3" / "other.log").write_bytes(SEED_LOG)
    t = ollalog.read(str(tmp_path / "*" / "server.log"), engine=engine)
    assert t.errors == []
    assert t.lines.column("file").to_pylist() == [str(tmp_path / h / "server.log") for h in ("n1", "n2", "n3")]
    assert t.lines.column("host").to_pylist() == ["n1", "n2", "n3"]
    assert t.events.column("host").unique().to_pylist() == ["n1", "n2", "n3"]


def test_glob_matching_nothing(tmp_path, engine):
    pattern = str(tmp_path / "*.nothing")
    t = ollalog.read(pattern, engine=engine, on_error=lambda e: None)
    assert [(e.path, e.reason) for e in t.errors] == [(pattern, "no file matches this pattern")]


def test_recursive_glob(tmp_path, engine):
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "server.log").write_bytes(SEED_LOG)
    t = ollalog.read(str(tmp_path / "**" / "*.log"), engine=engine)
    assert t.lines.column("file").to_pylist() == [str(tmp_path / "x" / "y" / "server.log")]


def test_host_from_folder_and_override(tmp_path, engine):
    d = tmp_path / "gpu-box-7"
    d.mkdir()
    p = d / "server.log"
    p.write_bytes(SEED_LOG)
    t = ollalog.read(str(p), engine=engine)
    assert set(t.events.column("host").to_pylist()) == {"gpu-box-7"}
    assert set(t.requests.column("host").to_pylist()) == {"gpu-box-7"}
    assert t.loads.column("host").to_pylist() == ["gpu-box-7"]
    assert t.gpus.column("host").to_pylist() == ["gpu-box-7"]
    assert t.lines.column("host").to_pylist() == ["gpu-box-7"]
    t = ollalog.read(str(p), engine=engine, host="override")
    assert set(t.events.column("host").to_pylist()) == {"override"}
    assert set(t.requests.column("host").to_pylist()) == {"override"}
    assert t.loads.column("host").to_pylist() == ["override"]
    assert t.lines.column("host").to_pylist() == ["override"]


def test_prefix_host_beats_folder_and_host_option_beats_prefix(tmp_path, engine):
    d = tmp_path / "folder"
    d.mkdir()
    p = d / "journal.log"
    p.write_bytes(b"".join(b"Feb 01 10:00:%02d host1 ollama[42]: " % i + line + b"\n"
                           for i, line in enumerate(SEED_LOG.splitlines())))
    t = ollalog.read(str(p), engine=engine)
    assert set(t.events.column("host").to_pylist()) == {"host1"}
    assert t.lines.column("host").to_pylist() == ["host1"]
    t = ollalog.read(str(p), engine=engine, host="forced")
    assert set(t.events.column("host").to_pylist()) == {"forced"}
    assert set(t.requests.column("host").to_pylist()) == {"forced"}
    assert t.lines.column("host").to_pylist() == ["forced"]


def test_stdin_via_cli(tmp_path, engine):
    out = tmp_path / "out"
    p = run_cli("parse", "-", "--engine", engine, "-q", "-o", out, input=SEED_LOG)
    assert (p.returncode, p.stderr) == (0, "")
    lines = pq.read_table(out / "lines.parquet").to_pylist()
    assert [(r["file"], r["host"], r["physical"], r["parsed"]) for r in lines] == [
        ("<stdin>", None, SEED_LOG_LINES, SEED_LOG_LINES)]
    loads = pq.read_table(out / "loads.parquet").to_pylist()
    assert [(r["file"], r["placement"], r["ctx_size"]) for r in loads] == [("<stdin>", "cpu", 262144)]


def test_stdin_gz_with_host_via_cli(tmp_path, engine):
    out = tmp_path / "out"
    p = run_cli("parse", "-", "--engine", engine, "-q", "--host", "h9", "-o", out, input=gzip.compress(SEED_LOG))
    assert (p.returncode, p.stderr) == (0, "")
    lines = pq.read_table(out / "lines.parquet").to_pylist()
    assert [(r["file"], r["host"], r["physical"]) for r in lines] == [("<stdin>", "h9", SEED_LOG_LINES)]
    assert set(pq.read_table(out / "events.parquet").column("host").to_pylist()) == {"h9"}


def test_read_batches_streams_all_tables(tmp_path, engine):
    p = tmp_path / "h1" / "server.log"
    p.parent.mkdir()
    p.write_bytes(SEED_LOG)
    names = [name for name, _ in ollalog.read_batches([str(p)], engine=engine, batch_rows=2)]
    assert names[-1] == "lines"
    assert set(names) == {"events", "requests", "loads", "gpus", "lines"}


def test_missing_file_raises_without_on_error(tmp_path, engine):
    with pytest.raises(ollalog.InputError) as ei:
        list(ollalog.read_batches([str(tmp_path / "nope.log")], engine=engine))
    assert ei.value.reason == "no such file or directory"
    assert isinstance(ei.value, OSError)


def test_unknown_engine_is_a_usage_error(tmp_path):
    p = tmp_path / "server.log"
    p.write_bytes(SEED_LOG)
    with pytest.raises(ollalog.UsageError, match="unknown engine 'foo'"):
        ollalog.read(str(p), engine="foo")


def test_file_names_are_kept_as_given(tmp_path, engine):
    (tmp_path / "h1").mkdir()
    (tmp_path / "h1" / "server.log").write_bytes(SEED_LOG)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        t = ollalog.read(os.path.join("h1", "server.log"), engine=engine)
    finally:
        os.chdir(cwd)
    assert t.lines.column("file").to_pylist() == [os.path.join("h1", "server.log")]
    assert set(t.events.column("file").to_pylist()) == {os.path.join("h1", "server.log")}
    assert t.lines.column("host").to_pylist() == ["h1"]


@pytest.mark.parametrize("name, host", [
    ("gpu-box-7", True), ("node3", True), ("h1", True), ("ollama-0", True), ("ip-10-0-0-12", True),
    ("server1.example.com", True), ("GPU01", True),
    ("logs", False), ("sample_logs", False), ("heldout", False), ("2025-01-30", False), ("ollama-logs", False),
    ("v0.5.7", False), ("0.12.3", False), ("backup-2024", False), ("my logs 2", False), ("alpha", False),
    ("-x1", False), ("", False),
])
def test_looks_like_host(name, host):
    from ollalog.inputs import looks_like_host
    assert looks_like_host(name) is host


def test_folder_hosts(tmp_path, engine):
    """Folder names become hosts only when they look like hosts; the current directory never does."""
    files = {}
    for rel in ("sample_logs/a.log", "heldout/b.log", "logs/c.log", "gpu-box-7/d.log", "hosts/alpha/e.log",
                "hosts/logs/f.log", "g.log", "gpu-box-7/h.log"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(SEED_LOG)
        files[rel] = p
    t = ollalog.read([str(files[r]) for r in files if r != "gpu-box-7/h.log"], engine=engine)
    got = dict(zip(t.lines.column("file").to_pylist(), t.lines.column("host").to_pylist()))
    assert got == {str(files["sample_logs/a.log"]): None, str(files["heldout/b.log"]): None,
                   str(files["logs/c.log"]): None, str(files["gpu-box-7/d.log"]): "gpu-box-7",
                   str(files["hosts/alpha/e.log"]): "alpha", str(files["hosts/logs/f.log"]): None,
                   str(files["g.log"]): None}
    cwd = os.getcwd()
    os.chdir(tmp_path / "gpu-box-7")  # the current directory is not a host, whatever its name
    try:
        t = ollalog.read(["h.log", str(files["gpu-box-7/d.log"])], engine=engine)
    finally:
        os.chdir(cwd)
    assert t.lines.column("host").to_pylist() == [None, None]
    t = ollalog.read(str(files["sample_logs/a.log"]), engine=engine, host="forced")
    assert t.lines.column("host").to_pylist() == ["forced"]


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_decompressed_chunks_stay_near_the_chunk_size_however_much_the_data_inflates(tmp_path, kind):
    """A repeated line compresses thousands of times: its chunks must not be the whole file."""
    from ollalog.inputs import Source, chunks
    data = b'time=2025-04-27T10:00:00.000+02:00 level=INFO source=server.go:1 msg="same"\n' * 800_000  # 63 MB
    packed = gzip.compress(data) if kind == "gzip" else zstandard.ZstdCompressor().compress(data)
    assert len(data) // len(packed) > 200   # gzip tops out near 1000x, zstd far above
    p = tmp_path / ("server.log.gz" if kind == "gzip" else "server.log.zst")
    p.write_bytes(packed)
    size = 1 << 20
    sizes = [len(c) for c in chunks(Source(str(p), str(p), None), size)]
    assert sum(sizes) == len(data)
    assert max(sizes) <= size + (0 if kind == "gzip" else 8 << 20), max(sizes)
    assert len(sizes) > 20
