"""The Parquet dataset that `ollalog ingest` (and `ollalog.spark`) write: its layout, the
partition names, the per-file progress records, and the files a reader should read.

    DIR/<table>/host=<host>/day=<YYYY-MM-DD>/<file_id>-s<start>.parquet   events, requests: one per read
    DIR/<table>/host=<host>/day=<YYYY-MM-DD>/<file_id>-v<end>.parquet     loads, gpus, lines: rewritten
    DIR/_ollalog/files/<file_id>.json     an input file's progress record: the commit point
    DIR/_ollalog/state/<file_id>-<end>.json   its load assembler at that point (snapshot.py)
    DIR/_ollalog/tmp/                      files being written; DIR/_ollalog/lock

`host` and `day` are Hive partition columns, so DuckDB, pyarrow and Spark read each table folder
as is (`host` and `day` are not stored inside the files). `day` is the UTC date of the row's time
or, for a row without one (a llama.cpp line of a plain file), of the last row before it in the
same file that has one, so a record lands beside its neighbours. A host name becomes a folder
name only encoded (`partition_value`): letters, digits, `-`, `_` and `.` stay, every other byte is
%XX, so no host string can name another folder or a hidden file; a null host or day is Hive's
`__HIVE_DEFAULT_PARTITION__` (so is an empty host). A name too long for a folder (over 160 bytes
encoded) is cut and given a digest: the dataset holds that cut name for it.

Files a record does not list (an ingest killed before its commit) are not part of the dataset:
`committed_files()` lists only the recorded ones, and the next ingest deletes the others.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from . import schema as S

META = "_ollalog"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
SEGMENTED = ("events", "requests")      # append-only: a new file per read of a file
DERIVED = ("loads", "gpus", "lines")    # rewritten: one version per read of a file
RECORD_VERSION = 1
MAX_PART = 160                          # bytes of an encoded partition value
DATA_NAME = re.compile(r"^([0-9a-f]{16})-([sv])(\d{15})\.parquet$")
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def partition_value(value: str | None) -> str:
    """A partition value as a folder name: percent-encoded, never a path, never hidden."""
    if value is None or value == "":
        return NULL_PARTITION
    raw = value.encode("utf-8", "surrogatepass")
    enc = "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in raw)
    if enc == NULL_PARTITION:
        enc = "%5F" + enc[1:]
    if len(enc) > MAX_PART:
        cut = enc[:MAX_PART - 17]
        if "%" in cut[-2:]:  # do not split a %XX
            cut = cut[:cut.rindex("%")]
        enc = cut + "~" + hashlib.sha256(raw).hexdigest()[:16]
    return enc


def partition_dir(table: str, host: str | None, day) -> str:
    d = NULL_PARTITION if day is None else day.isoformat()
    return os.path.join(table, f"host={partition_value(host)}", f"day={d}")


def data_schema(table: str) -> pa.Schema:
    """A table's columns as stored in its files: without the partition column `host`."""
    sch = S.schema(table)
    return pa.schema([f for f in sch if f.name != "host"])


# -- records -----------------------------------------------------------------------------------

@dataclass
class Record:
    """What the dataset holds of one input file, and where a read of it, grown, goes on."""
    file_id: str
    name: str                      # as given, at the last read
    host: str | None               # the default host it was read with
    device: int
    inode: int
    size: int                      # on disk, at the last read
    mtime_ns: int
    compression: str
    head_len: int                  # decompressed bytes hashed in head_hash
    head_hash: str
    offset: int                    # decompressed bytes read
    tail_hash: str                 # sha256 of the TAIL bytes before offset
    position: dict                 # the engine's position at offset
    state: str                     # snapshot file under _ollalog/state
    state_version: str
    stats: dict                    # the lines row, summed over reads
    loads: int
    segments: list = field(default_factory=list)   # start offsets of the events/requests files
    files: list = field(default_factory=list)      # every data file, relative to the dataset
    seq: int = 0                   # order of commits (the newest record of an inode wins)
    days: dict = field(default_factory=dict)       # events/requests: day of the last dated row
    version: int = RECORD_VERSION

    @staticmethod
    def from_json(d: dict) -> "Record":
        if d.get("version") != RECORD_VERSION:
            raise ValueError(f"record version {d.get('version')}")
        return Record(**d)


TAIL = 4096


def meta(root: str, *parts: str) -> str:
    return os.path.join(root, META, *parts)


def load_records(root: str) -> dict[str, Record]:
    """Every readable progress record, by file_id (an unreadable one is skipped: its file is read anew)."""
    out = {}
    d = meta(root, "files")
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return out
    for fn in names:
        if not fn.endswith(".json"):
            continue
        try:
            with open(os.path.join(d, fn), encoding="utf-8") as f:
                r = Record.from_json(json.load(f))
        except (OSError, ValueError, TypeError):
            continue
        if fn == f"{r.file_id}.json":
            out[r.file_id] = r
    return out


def write_json(path: str, data, tmp_dir: str) -> None:
    """Write JSON under a temporary name, then rename it into place."""
    tmp = os.path.join(tmp_dir, f"{os.getpid()}-{os.path.basename(path)}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, separators=(",", ":")))
    os.replace(tmp, path)


def committed_files(root: str) -> dict[str, list[str]]:
    """The data files of the dataset at `root`, per table, as paths in a stable order: those its
    records list, or, in a dataset without records (written by Spark), every Parquet file of the
    table folders. Raises FileNotFoundError when `root` is neither."""
    if not os.path.isdir(meta(root, "files")):
        if not any(os.path.isdir(os.path.join(root, t)) for t in S.TABLES):
            raise FileNotFoundError(errno.ENOENT, "not an ollalog dataset (no table folders)", root)
        out = {}
        for t in S.TABLES:
            found = []
            for dp, dirs, fns in os.walk(os.path.join(root, t)):
                dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
                found += [os.path.join(dp, f) for f in fns if f.endswith(".parquet") and not f.startswith(("_", "."))]
            out[t] = sorted(found)
        return out
    out: dict[str, list[str]] = {t: [] for t in S.TABLES}
    for r in load_records(root).values():
        for rel in r.files:
            table = rel.split("/", 1)[0]
            if table in out:
                out[table].append(os.path.join(root, rel))
    return {t: sorted(v) for t, v in out.items()}


# -- writing ---------------------------------------------------------------------------------

class PartitionWriter:
    """Writes one table's batches into host/day partitions, under temporary names; `files()`
    gives (temporary path, relative final path) pairs once closed."""

    def __init__(self, root: str, tmp_dir: str, table: str, basename: str, last_day=None):
        self.root, self.tmp_dir, self.table, self.basename = root, tmp_dir, table, basename
        self.schema = data_schema(table)
        self.writers: dict[str, object] = {}
        self.paths: dict[str, str] = {}
        self.rows = 0
        self.last_day = last_day  # a datetime.date: the day of the last dated row written

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self.rows += batch.num_rows
        host = batch.column("host")
        if pa.types.is_dictionary(host.type):
            host = host.cast(pa.string())
        day, self.last_day = partition_days(batch, self.table, self.last_day)
        data = pa.RecordBatch.from_arrays([batch.column(f.name) for f in self.schema], schema=self.schema)
        hosts = pc.unique(host).to_pylist()
        days = pc.unique(day).to_pylist()
        if len(hosts) == 1 and len(days) == 1:
            self._out(hosts[0], days[0]).write_batch(data)
            return
        for h in hosts:
            hmask = pc.is_null(host) if h is None else pc.fill_null(pc.equal(host, h), False)
            for d in days:
                dmask = pc.is_null(day) if d is None else pc.fill_null(pc.equal(day, pa.scalar(d, pa.date32())), False)
                part = data.filter(pc.and_(hmask, dmask))
                if part.num_rows:
                    self._out(h, d).write_batch(part)

    def _out(self, host, day):
        rel = partition_dir(self.table, host, day)
        w = self.writers.get(rel)
        if w is None:
            import pyarrow.parquet as pq
            tmp = os.path.join(self.tmp_dir, f"{self.table}-{len(self.writers)}-{self.basename}.parquet")
            w = self.writers[rel] = pq.ParquetWriter(tmp, self.schema, compression="zstd")
            self.paths[rel] = tmp
        return w

    def close(self) -> list[tuple[str, str]]:
        for w in self.writers.values():
            w.close()
        return [(tmp, os.path.join(rel, f"{self.basename}.parquet").replace(os.sep, "/"))
                for rel, tmp in self.paths.items()]


def _time_column(table: str) -> str:
    return "first_time" if table == "lines" else "time"


def partition_days(batch: pa.RecordBatch, table: str, last_day=None):
    """The `day` partition of each row (see the module's doc) and the day to carry to the file's
    next batch: the UTC date of its time, else of the last dated row before it."""
    day = pc.cast(batch.column(_time_column(table)), pa.date32())
    if day.null_count:
        if last_day is not None and not day[0].is_valid:
            day = pc.fill_null_forward(pa.concat_arrays([pa.array([last_day], pa.date32()), day])).slice(1)
        else:
            day = pc.fill_null_forward(day)
    last = day[-1].as_py() if len(day) else None
    return day, (last if last is not None else last_day)


def rows_batch(table: str, rows: list[dict]) -> pa.RecordBatch:
    sch = S.schema(table)
    return pa.RecordBatch.from_arrays([pa.array([r.get(f.name) for r in rows], f.type) for f in sch], schema=sch)


# -- faults, for the tests of interrupted ingests ------------------------------------------------

_FAULT = os.environ.get("OLLALOG_INGEST_FAULT", "")
_fault_counts: dict[str, int] = {}


def fault(point: str) -> None:
    """Stop the process dead at a named point of a commit when OLLALOG_INGEST_FAULT=POINT:N says so
    (the N-th time it is reached): how the tests kill an ingest midway, deterministically."""
    if not _FAULT:
        return
    want, _, n = _FAULT.partition(":")
    if want != point:
        return
    _fault_counts[point] = _fault_counts.get(point, 0) + 1
    if _fault_counts[point] >= int(n or 1):
        os._exit(86)


def record_dict(r: Record) -> dict:
    return asdict(r)
