"""`ollalog ingest`: logs into a Parquet dataset (dataset.py), incrementally and in parallel.

Each input file is matched with what the dataset already holds of it:
- unchanged (same device, inode, size and mtime as recorded): skipped without reading;
- grown (same content up to where the last ingest stopped: the hash of its first bytes and of the
  4 KiB before that point match): read from that point, with the engine's position and the load
  assembler's state carried over (snapshot.py), so its loads continue and are rewritten whole;
- rotated (a new inode whose content continues a recorded file of the same host whose inode is
  gone: `server.log.1`, `server.log.2.gz`): read from where that file stopped, under its file_id;
- replaced (the same inode with other content, truncated or rewritten) or new: read from the start.

Files are read in parallel (one process per file, `jobs` at a time). Each file commits on its own:
its new data files are written under temporary names, renamed into place, and its progress record
is written last; a file the record does not list is not part of the dataset, and the next ingest
deletes it. So an ingest killed at any point leaves the dataset as it was before that file's
commit, and running it again gives what one uninterrupted run gives. A lock keeps two ingests from
working on one dataset at once. A plain file's last line without its newline is left for the next
ingest while the file was written in the last minute (it is still being written); older, it is read.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from . import dataset as D
from . import snapshot
from .errors import InputError, OllalogError, UsageError
from .inputs import GZIP_MAGIC, ZSTD_MAGIC, Source, chunks, open_source, resolve
from .read import HEAD_BYTES, Resume, drain, file_id_of, load_rows, make_engine, read_file

QUIET_S = 60.0
COUNTERS = ("bytes", "physical", "parsed", "unknown", "malformed", "blank", "continued", "invalid_utf8",
            "oversized", "slog", "log", "gin", "runner", "llama", "probe", "panic", "system", "other",
            "time_unresolved")


class LockedError(OllalogError):
    """Another ingest holds the dataset's lock."""


@dataclass
class FileResult:
    name: str
    status: str                  # new, grown, rotated, replaced, reread, unchanged, duplicate, error
    file_id: str | None = None
    rows: dict = field(default_factory=dict)   # rows added per table (loads: new loads)
    error: str | None = None
    held_back: int = 0


@dataclass
class Summary:
    results: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # InputError of inputs that could not be read
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def rows(self, table: str) -> int:
        return sum(r.rows.get(table, 0) for r in self.results)


@dataclass
class _Task:
    name: str
    path: str
    host: str | None
    force_host: bool
    status: str                  # what it will be if all goes well: new, grown, rotated, replaced
    key: tuple                   # (device, inode) planned
    record: D.Record | None      # grown/rotated: the record it continues
    file_id: str | None          # new/replaced: None (from the head); grown/rotated: the record's
    compression: str
    seq: int
    size: int


# -- the dataset lock ----------------------------------------------------------------------------

class _Lock:
    def __init__(self, root: str, wait: bool):
        self.path = D.meta(root, "lock")
        self.wait = wait
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # Windows
            import msvcrt
            try:
                msvcrt.locking(self.fd, msvcrt.LK_LOCK if self.wait else msvcrt.LK_NBLCK, 1)
            except OSError:
                self._busy()
        else:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
            except BlockingIOError:
                self._busy()
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        return self

    def _busy(self):
        try:
            pid = os.pread(self.fd, 32, 0).decode("ascii", "replace").strip() or "?"
        except OSError:
            pid = "?"
        os.close(self.fd)
        self.fd = None
        raise LockedError(f"{os.path.dirname(os.path.dirname(self.path))}: another ingest (pid {pid}) is writing "
                          "this dataset; run again when it is done, or use --wait")

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock


# -- content checks --------------------------------------------------------------------------------

def _compression(path: str) -> str:
    with open(path, "rb") as f:
        magic = f.read(4)
    return "gzip" if magic.startswith(GZIP_MAGIC) else "zstd" if magic.startswith(ZSTD_MAGIC) else "none"


def _prefix(src: Source, compression: str, head_len: int, offset: int) -> tuple[bytes, bytes] | None:
    """The first `head_len` bytes and the TAIL bytes before `offset` of the (decompressed)
    content, or None when it is shorter than `offset`."""
    tail_from = max(0, offset - D.TAIL)
    if compression == "none":
        with open(src.path, "rb") as f:
            head = os.pread(f.fileno(), head_len, 0)
            tail = os.pread(f.fileno(), offset - tail_from, tail_from)
        return (head, tail) if len(tail) == offset - tail_from and len(head) == head_len else None
    head = bytearray()
    tail = bytearray()
    pos = 0
    try:
        for data in chunks(src, 1 << 20):
            if len(head) < head_len:
                head += data[:head_len - len(head)]
            lo, hi = max(tail_from - pos, 0), min(offset - pos, len(data))
            if lo < hi:
                tail += data[lo:hi]
            pos += len(data)
            if pos >= offset and len(head) >= head_len:
                break
    except InputError:
        pass
    if pos < offset or len(head) < head_len:
        return None
    return bytes(head), bytes(tail)


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _continues(src: Source, compression: str, r: D.Record) -> bool:
    """Does this file hold, up to where `r` stopped, what `r` read?"""
    got = _prefix(src, compression, r.head_len, r.offset)
    return got is not None and _sha(got[0]) == r.head_hash and _sha(got[1]) == r.tail_hash


def _head(src: Source) -> bytes:
    head = bytearray()
    try:
        for data in chunks(src, HEAD_BYTES):
            head += data[:HEAD_BYTES - len(head)]
            if len(head) >= HEAD_BYTES:
                break
    except InputError:
        pass
    return bytes(head)


# -- planning ------------------------------------------------------------------------------------

def _plan(sources: list[Source], records: dict[str, D.Record], force_host: bool) -> tuple[list[_Task], list[FileResult]]:
    by_inode: dict[tuple, D.Record] = {}
    for r in sorted(records.values(), key=lambda r: r.seq):
        by_inode[(r.device, r.inode)] = r  # the newest record of an inode
    seq = max((r.seq for r in records.values()), default=0)
    tasks: list[_Task] = []
    done: list[FileResult] = []
    bound: set[str] = set()
    keys: dict[tuple, str] = {}
    stats = []
    for src in sources:
        try:
            st = os.stat(src.path)
            comp = _compression(src.path)
        except OSError as e:  # worded as inputs.py words it for a read
            reason = ("permission denied" if isinstance(e, PermissionError) else
                      "no such file or directory" if isinstance(e, FileNotFoundError) else e.strerror or str(e))
            done.append(FileResult(src.name, "error", error=reason))
            continue
        key = (st.st_dev, st.st_ino)
        if key in keys:
            done.append(FileResult(src.name, "duplicate", error=f"the same file as {keys[key]}"))
            continue
        keys[key] = src.name
        stats.append((src, st, comp, key))
    unmatched = []
    for src, st, comp, key in stats:
        r = by_inode.get(key)
        if r is not None and r.size == st.st_size and r.mtime_ns == st.st_mtime_ns:
            bound.add(r.file_id)
            done.append(FileResult(src.name, "unchanged", r.file_id))
        elif r is not None and _continues(src, comp, r):
            bound.add(r.file_id)
            seq += 1
            tasks.append(_Task(src.name, src.path, src.host, force_host, "grown", key, r, r.file_id, comp, seq,
                               st.st_size))
        else:
            unmatched.append((src, st, comp, key, "new" if r is None else "replaced"))
    # a file may continue a recorded one of the same host that no input continues (rotated:
    # renamed and compressed, or copied before its inode was truncated)
    free = [r for r in records.values() if r.file_id not in bound]
    ids = set(records)
    for src, st, comp, key, status in unmatched:
        seq += 1
        head = _head(src)
        rec = None
        for r in sorted(free, key=lambda r: -r.seq):
            if r.file_id not in bound and r.host == src.host and len(head) >= r.head_len \
                    and _sha(head[:r.head_len]) == r.head_hash and _continues(src, comp, r):
                rec = r
                break
        if rec is not None:
            bound.add(rec.file_id)
            tasks.append(_Task(src.name, src.path, src.host, force_host, "rotated", key, rec, rec.file_id, comp,
                               seq, st.st_size))
            continue
        fid = file_id_of(st.st_dev, st.st_ino, head)
        if fid in ids:  # the same inode and first bytes as a file read before: still another file
            fid = file_id_of(st.st_dev, st.st_ino, head + b"#%d" % seq)
        ids.add(fid)
        tasks.append(_Task(src.name, src.path, src.host, force_host, status, key, None, fid, comp, seq, st.st_size))
    return tasks, done


# -- one file ------------------------------------------------------------------------------------

def _sum_stats(old: dict | None, new: dict) -> dict:
    """The lines row of a file read in parts: counts add up, times span both."""
    if not old:
        return dict(new)
    out = dict(old)
    for k in COUNTERS:
        out[k] = (old.get(k) or 0) + (new.get(k) or 0)
    for k in ("host", "transport"):
        out[k] = old.get(k) if old.get(k) is not None else new.get(k)
    for k, pick in (("first_time", min), ("last_time", max)):
        times = [t for t in (old.get(k), new.get(k)) if t is not None]
        out[k] = pick(times) if times else None
    out["tz_assumed"] = bool(old.get("tz_assumed")) or bool(new.get("tz_assumed"))
    return out


def _ingest_file(root: str, task: _Task, engine: str) -> FileResult:
    tmp = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=D.meta(root, "tmp"))
    try:
        return _ingest_file_in(root, task, engine, tmp)
    except InputError as e:
        return FileResult(task.name, "error", task.file_id, error=e.reason)
    except OSError as e:  # the dataset's disk (full, read-only): this file is not committed
        return FileResult(task.name, "error", task.file_id, error=f"writing the dataset: {e.strerror or e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _ingest_file_in(root: str, task: _Task, engine: str, tmp: str) -> FileResult:
    src = Source(task.name, task.path, task.host)
    old = task.record            # the record this read continues (grown, rotated) or replaces (reread)
    status = task.status
    resume = None
    if old is not None:
        try:
            with open(D.meta(root, "state", old.state), encoding="utf-8") as f:
                asm, seen = snapshot.load(json.load(f))
            resume = Resume(at=old.position, assembler=asm, seen=seen, file_id=old.file_id)
        except (OSError, ValueError, snapshot.SnapshotError):
            status = "reread"    # another version's snapshot: the file is read anew under its id
    raw, _ = open_source(src)
    st = os.fstat(raw.fileno())
    src = Source(task.name, task.path, task.host, st.st_size, st.st_mtime)  # the mtime dates year-less lines
    if (st.st_dev, st.st_ino) != task.key:
        raw.close()
        return FileResult(task.name, "error", task.file_id, error="replaced while being ingested; run ingest again")
    fid = task.file_id
    start = resume.at["offset"] if resume else 0
    whole_lines = task.compression == "none" and time.time() - st.st_mtime < QUIET_S
    gen = read_file(make_engine(engine), src, resume=resume, whole_lines=whole_lines, raw=raw,
                    force_host=task.force_host, file_id=fid)
    days = {t: dt.date.fromisoformat(d) for t, d in (old.days if resume is not None else {}).items() if d}
    writers = {t: D.PartitionWriter(root, tmp, t, f"{fid}-s{start:015d}", days.get(t)) for t in D.SEGMENTED}
    res = drain(gen, lambda name, batch: writers[name].write(batch))
    moved = [f for w in writers.values() for f in w.close()]
    end = res.position["offset"]
    if res.error is not None and res.stats.get("bytes", 0) == 0 and resume is None:
        return FileResult(task.name, "error", fid, error=res.error.reason)
    if resume is not None and end == start:
        # nothing new to read (touched while a last line is being written, or a rotated copy of
        # what was read): the record takes this file's identity
        rec = D.Record(**{**D.record_dict(old), "name": task.name, "device": st.st_dev, "inode": st.st_ino,
                          "size": st.st_size, "mtime_ns": st.st_mtime_ns, "compression": task.compression,
                          "seq": task.seq})
        D.write_json(D.meta(root, "files", f"{fid}.json"), D.record_dict(rec), tmp)
        return FileResult(task.name, "rotated" if status == "rotated" else "unchanged", fid,
                          held_back=res.held_back)

    # identity: the first bytes as read at first sight (longer now, if the file was short then)
    if resume is None:
        head = res.head
    elif task.compression == "none" and old.head_len < HEAD_BYTES:
        with open(src.path, "rb") as f:
            head = os.pread(f.fileno(), min(HEAD_BYTES, end), 0)
    else:
        head = None
    head_len, head_hash = (len(head), _sha(head)) if head is not None else (old.head_len, old.head_hash)
    tail = res.tail
    if len(tail) < min(D.TAIL, end):  # this read was short: the tail reaches into the last one
        got = _prefix(src, task.compression, 0, end)
        tail = got[1] if got else b""

    loads, gpus = res.assembler.finish()
    load_rows(loads, fid)
    gpus = [dict(g, file_id=fid) for g in gpus]
    stats = _sum_stats(old.stats if resume else None, res.stats)
    lines_row = dict(stats, file=task.name, file_id=fid, device=st.st_dev, inode=st.st_ino, size=st.st_size,
                     head_hash=head_hash, error=res.error.reason if res.error else None)
    version = f"{fid}-v{end:015d}"
    for table, rows in (("loads", loads), ("gpus", gpus), ("lines", [lines_row])):
        if rows:
            w = D.PartitionWriter(root, tmp, table, version)
            w.write(D.rows_batch(table, rows))
            moved += w.close()
    state_name = f"{fid}-{end:015d}.json"
    with open(os.path.join(tmp, state_name), "w", encoding="utf-8") as f:
        f.write(json.dumps(snapshot.dump(res.assembler, res.seen), separators=(",", ":")))  # dumps: the C encoder

    kept = [rel for rel in old.files if _kind(rel) == "s"] if resume is not None else []
    segments = list(old.segments) if resume is not None else []
    if any(w.rows for w in writers.values()):
        segments.append(start)
    files = sorted(set(kept) | {rel for _, rel in moved})
    rec = D.Record(file_id=fid, name=task.name, host=task.host, device=st.st_dev, inode=st.st_ino,
                   size=st.st_size, mtime_ns=st.st_mtime_ns, compression=task.compression,
                   head_len=head_len, head_hash=head_hash, offset=end, tail_hash=_sha(tail),
                   position=res.position, state=state_name, state_version=snapshot.VERSION,
                   stats=stats, loads=len(loads), segments=segments, files=files, seq=task.seq,
                   days={t: w.last_day.isoformat() for t, w in writers.items() if w.last_day is not None})

    # commit: the data, the state, then the record (the commit point); then what they replace
    for tmp_path, rel in moved:
        dst = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.replace(tmp_path, dst)
        D.fault("data")
    os.replace(os.path.join(tmp, state_name), D.meta(root, "state", state_name))
    D.fault("record")
    D.write_json(D.meta(root, "files", f"{fid}.json"), D.record_dict(rec), tmp)
    D.fault("cleanup")
    if old is not None:
        for rel in set(old.files) - set(files):
            _unlink(os.path.join(root, rel))
        if old.state != state_name:
            _unlink(D.meta(root, "state", old.state))
    rows = {t: w.rows for t, w in writers.items()}
    rows["loads"] = len(loads) - (old.loads if resume is not None else 0)
    return FileResult(task.name, status, fid, rows=rows, error=res.error.reason if res.error else None,
                      held_back=res.held_back)


def _kind(rel: str) -> str | None:
    m = D.DATA_NAME.match(rel.rsplit("/", 1)[-1])
    return m.group(2) if m else None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- the dataset as a whole ----------------------------------------------------------------------

def _prepare(root: str) -> None:
    if os.path.exists(root) and not os.path.isdir(root):
        raise UsageError(f"--to {root}: exists and is not a directory")
    for sub in ("files", "state", "tmp"):
        os.makedirs(D.meta(root, sub), exist_ok=True)


def cleanup(root: str) -> int:
    """Delete what no record lists (an interrupted ingest's files); returns how many files went."""
    records = D.load_records(root)
    listed = {rel for r in records.values() for rel in r.files}
    states = {r.state for r in records.values()}
    gone = 0
    shutil.rmtree(D.meta(root, "tmp"), ignore_errors=True)
    os.makedirs(D.meta(root, "tmp"), exist_ok=True)
    for table in D.SEGMENTED + D.DERIVED:
        top = os.path.join(root, table)
        for dirpath, dirs, files in os.walk(top, topdown=False):
            for fn in files:
                rel = os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")
                if rel not in listed and fn.endswith(".parquet"):
                    _unlink(os.path.join(dirpath, fn))
                    gone += 1
            if dirpath != top and not os.listdir(dirpath):
                os.rmdir(dirpath)
    for fn in os.listdir(D.meta(root, "state")):
        if fn not in states:
            _unlink(D.meta(root, "state", fn))
    return gone


def ingest(paths: Iterable[str], to: str, *, host: str | None = None, engine: str = "c", jobs: int | None = None,
           wait: bool = False, on_result: Callable[[FileResult], None] | None = None) -> Summary:
    """Ingest logs into the dataset at `to` (see the module's doc); returns what each file got."""
    t0 = time.perf_counter()
    paths = list(paths)
    if "-" in paths:
        raise UsageError("ingest reads files, not stdin: it has to find them again to read what they add "
                         "(save the stream to a file, or use `ollalog parse -o`)")
    summary = Summary()
    sources, summary.errors = resolve(paths, host)
    _prepare(to)
    with _Lock(to, wait):
        cleanup(to)
        records = D.load_records(to)
        tasks, done = _plan(sources, records, host is not None)
        for res in done:
            summary.results.append(res)
            if on_result:
                on_result(res)
        tasks.sort(key=lambda t: -t.size)
        jobs = max(1, jobs or os.cpu_count() or 1)
        for res in _run(to, tasks, engine, jobs):
            summary.results.append(res)
            if on_result:
                on_result(res)
    summary.seconds = time.perf_counter() - t0
    return summary


def _one_thread() -> None:
    """A worker is one of `jobs` processes: Arrow's own thread pools would only oversubscribe the cores."""
    import pyarrow as pa
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


def _run(root: str, tasks: list[_Task], engine: str, jobs: int):
    if jobs == 1 or len(tasks) <= 1:
        for t in tasks:
            yield _ingest_file(root, t, engine)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx, initializer=_one_thread) as pool:
        futures = [pool.submit(_ingest_file, root, t, engine) for t in tasks]
        try:
            for f in as_completed(futures):
                yield f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise
