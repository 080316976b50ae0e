"""`ollalog watch`: follow Ollama logs as they grow and tell, the moment each load completes, where
it ran and why, with the verdict `ollalog why` gives for it.

Streams (follow.py: files by name through rotations, the journal, stdin) hand byte spans to one
`Tracker` each, which reads them with the reader every command uses (`read.read_file`, resumed from
the engine's position with the load assembler carried over, as `ollalog ingest` resumes a grown
file). After each span the assembler's loads are checked: a load is complete when it has its
outcome (the runner started, failed, was refused, ...) or when the next load began. A complete load
is explained by the functions behind `ollalog why --all` (facts.gather over the views,
estimate.for_load, explain.explain_load, why.model_label) over what the tracker keeps of its
stream: the catalogued events that its recent loads and their server start may cite, the recent
loads, the GPU inventory. What is kept is bounded (the last KEEP_LOADS loads and the events they
and their server start can cite), so a watch runs for months in the same memory. The explaining
itself runs in a short-lived child process by default (`python -m ollalog.watch --explain-job`, the
job pickled on its stdin): DuckDB and the estimator then never live in the watch's memory.

What happens goes to sinks (`Sink`): `load(event)` for every load completed while watching
(docs/watch.md lists the event's keys), `seen_load(row, model)` for the loads of the history (what
the files held before the watch began: it sets up the state, no alert), `requests(batch)`,
`lines(stats)`, `gpu(...)`, `eviction(...)`, `serving_oom(...)`, `rotation(kind)`,
`input_error()`. The CLI's alerts and hooks are sinks, and so are the Prometheus metrics.

The state (`--state FILE`) is one JSON file: per stream, where it stood (follow.py), the engine's
position, the assembler (snapshot.py), the events kept, the loads already told. It is written
under a temporary name and renamed, after every cycle that told a load and at most every
SAVE_EVERY seconds otherwise, and when the watch stops. A state from another version of ollalog
cannot carry the assembler: the stream is then read again from its start, quietly up to where
that watch stopped.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Iterable, Optional

import pyarrow as pa

from . import schema as S
from . import snapshot
from .errors import InputError, UsageError
from .follow import FileStream, JournalStream, PipeStream, Span, Watcher
from .inputs import Source, folder_host
from .lean import allow, lean
from .read import Resume, _rows_batch, drain, load_rows, make_engine, read_file

FILE_ID = "watch"
KEEP_LOADS = 16          # loads kept per stream: more than the 8 earlier loads why compares a load with
KEEP_BETWEEN = 256       # scheduler events kept while no load is
NAMED_MAX = 1024         # blob -> tag names remembered
SAVE_EVERY = 2.0         # seconds between state writes while nothing is told
SETTLE_S = 5.0           # a load with an inferred outcome is complete after this long without a new line
STATE_FORMAT = 1
WANT_LOUD = frozenset({"events", "requests"})
WANT_QUIET = frozenset({"events"})
MARKERS = ("server_config", "listening")
OOM_EVENTS = ("oom", "runtime_oom")
EXPLAIN = ("child", "here")  # where a completed load is explained: a short-lived process, or this one
CHILD_FLAG = "--explain-job"
CHILD_TIMEOUT_S = 120.0

Notice = Callable[[str, str], None]


class Sink:
    """What a watch tells as it reads; every method does nothing unless a sink overrides it."""

    def load(self, event: dict) -> None:
        """A load completed while watching: why's verdict and more (docs/watch.md)."""

    def seen_load(self, row: dict, model: str) -> None:
        """A load of the history (before the watch began): its `loads` row and model label."""

    def requests(self, batch: pa.RecordBatch) -> None:
        """`[GIN]` request lines read (a `requests` batch)."""

    def lines(self, stats: dict) -> None:
        """Line counts of what was just read (the `lines` table's counters)."""

    def gpu(self, host, gpu, free_bytes) -> None:
        """Free VRAM of one GPU as the log showed it (inventory at a server start, a load's plan)."""

    def eviction(self, host, model) -> None:
        """A loaded model was unloaded to make room."""

    def serving_oom(self, host, model) -> None:
        """A loaded runner ran out of memory while serving."""

    def rotation(self, kind: str) -> None:
        """A followed file was rotated: rename, truncate, or lost (no copy of its end found)."""

    def input_error(self) -> None:
        """An input could not be read, or stopped."""


def _con():
    import duckdb
    return duckdb.connect(config={"threads": 1})


class Tracker:
    """One stream's reader: engine position, load assembler, the events its loads may cite."""

    def __init__(self, stream, *, host: Optional[str] = None, year: Optional[int] = None, engine: str = "c",
                 sinks: Iterable[Sink] = (), models_dir: Optional[str] = None, notice: Optional[Notice] = None,
                 explain: str = "child"):
        if explain not in EXPLAIN:
            raise UsageError(f"explain: choose from {', '.join(EXPLAIN)}")
        self.explain = explain
        self.stream = stream
        self.name = stream.name
        default_host = host
        if host is None and stream.kind == "file":
            default_host = folder_host(stream.name)
        self.src = Source(stream.name, None, default_host)
        self.force_host = host is not None
        self.year = year
        self.engine = engine
        self.eng = make_engine(engine)
        self.sinks = list(sinks)
        self.models_dir = models_dir
        self.notice = notice or (lambda kind, text: None)
        self.resume: Optional[Resume] = None
        self.events: pa.Table = S.schema("events").empty_table()
        self.done: dict = {}          # first line of a load already handled -> its outcome then
        self.named: dict = {}         # weights blob -> the tag the log named for it
        self.gpu_line = 0             # inventory lines up to here were told
        self.settling: dict = {}      # first line of a load with an inferred outcome -> (lines, since, loud)
        self.con = None
        self.dirty = False
        self.told = 0

    @property
    def key(self) -> Optional[str]:
        if self.stream.kind == "file":
            return "file:" + os.path.abspath(self.stream.name)
        if self.stream.kind == "journald":
            return self.stream.name
        return None

    def _each(self, method: str, *args) -> None:
        for s in self.sinks:
            getattr(s, method)(*args)

    # -- reading -------------------------------------------------------------------------------
    def consume(self, span: Span, final: bool, loud: bool) -> int:
        """Read a span of the stream (follow.Consume); returns the bytes used."""
        base = self.resume.at["offset"] if self.resume else 0
        base_line = self.resume.at["line"] if self.resume else 0
        span.base = base
        gen = read_file(self.eng, self.src, resume=self.resume, whole_lines=not final, raw=span,
                        force_host=self.force_host, file_id=FILE_ID, want=WANT_LOUD if loud else WANT_QUIET,
                        named_only=True, year=self.year, settle=False)
        new = []

        def each(name, batch):
            if name == "events":
                new.append(batch)
            elif name == "requests" and loud:
                self._each("requests", batch)

        res = drain(gen, each)
        used = res.position["offset"] - base
        if res.error is not None and used <= 0:
            # nothing of it readable (binary data): skip it, counted, so the stream goes on
            data = span.bytes()
            lines = data.count(b"\n")
            self.notice("error", f"{self.name}: {res.error.reason}: skipped {len(data)} bytes ({lines} lines)")
            at = dict(res.position, offset=base + len(data), line=base_line + lines)
            self.resume = Resume(at=at, assembler=res.assembler, seen=res.seen, file_id=FILE_ID)
            if loud:
                self._each("lines", {"host": self.src.host, "malformed": lines})
            self.dirty = True
            return len(data)
        self.resume = Resume(at=res.position, assembler=res.assembler, seen=res.seen, file_id=FILE_ID)
        if new:
            self.events = pa.concat_tables([self.events, pa.Table.from_batches(new)])
        if loud and used > 0:
            self._each("lines", res.stats)
        self._loads(loud, final=False, new=new)
        self._prune()
        self.dirty = self.dirty or used > 0
        return used

    def finish(self) -> None:
        """The input ends here (`--once`, stdin closed): a load still in progress is told as it stands."""
        if self.resume is not None:
            self._loads(True, final=True, new=[])

    # -- loads ---------------------------------------------------------------------------------
    def _label(self, row: dict, tags_of: Optional[dict] = None, mdir=None) -> tuple:
        from .why import model_label
        key, label, how, _ = model_label(row, tags_of or {}, self.named, mdir)
        return label, how

    def _loads(self, loud: bool, final: bool, new: list) -> None:
        asm = self.resume.assembler
        subst = [ld for ld in asm.loads if ld.substantive()]
        rows, gpus = asm.finish()
        load_rows(rows, FILE_ID)
        for g in gpus:  # the server's inventory: free VRAM at discovery
            if g.get("line", 0) > self.gpu_line and g.get("origin") == "server":
                self._each("gpu", g.get("host"), g.get("id"), g.get("available_bytes"))
        if gpus:
            self.gpu_line = max(self.gpu_line, max(g.get("line", 0) for g in gpus))
        if not rows:
            return
        for r in rows:
            if r.get("model_name") and r.get("model_blob"):
                self.named.setdefault(r["model_blob"], r["model_name"])
        while len(self.named) > NAMED_MAX:
            self.named.pop(next(iter(self.named)))
        last = asm.loads[-1] if asm.loads else None
        todo = []
        for i, (ld, row) in enumerate(zip(subst, rows)):
            if ld.line in self.done:
                before = self.done[ld.line]
                if row.get("outcome") == "evicted" and before != "evicted" and loud:
                    self._each("eviction", row.get("host"), self._label(row)[0])
                self.done[ld.line] = row.get("outcome")
                continue
            told = loud
            if ld is last and not final and ld.outcome is None:
                if row.get("outcome") is None or not self._settled(ld, loud):
                    continue
                told = self.settling[ld.line][2]
            self.settling.pop(ld.line, None)
            self.done[ld.line] = row.get("outcome")
            todo.append((i, told))
        if loud and new:
            self._serving_ooms(rows, new)
        if not todo:
            return
        self.dirty = True
        for i, told in todo:
            if not told:
                self._each("seen_load", rows[i], self._label(rows[i])[0])
        todo = [i for i, told in todo if told]
        if not todo:
            return
        for ev in self._verdicts(rows, gpus, todo):
            self.told += 1
            self._each("load", ev)

    def _settled(self, ld, loud: bool) -> bool:
        """A load whose outcome is only inferred (the runner allocated everything, no `runner
        started` line yet) is complete once no line has joined it for SETTLE_S seconds."""
        now = time.monotonic()
        seen = self.settling.get(ld.line)
        if seen is None or seen[0] != len(ld.lines):
            self.settling[ld.line] = (len(ld.lines), now, loud if seen is None else seen[2] or loud)
            return False
        return now - seen[1] >= SETTLE_S

    def tick(self) -> None:
        """Called now and then: loads that settled since are told."""
        if self.settling and self.resume is not None:
            self._loads(True, final=False, new=[])

    def _serving_ooms(self, rows: list, new: list) -> None:
        lines = []
        for b in new:
            ev = b.column("event").to_pylist()
            ln = b.column("line").to_pylist()
            lines += [n for n, e in zip(ln, ev) if e in OOM_EVENTS]
        for n in lines:
            owner = next((r for r in reversed(rows) if n in (r.get("evidence_lines") or ())), None)
            if owner is not None and owner.get("outcome") == "oom":
                continue  # the load's own failure: counted with the load
            if owner is None:
                owner = next((r for r in reversed(rows) if r.get("outcome") in ("loaded", "evicted")), None)
            self._each("serving_oom", (owner or {}).get("host") or self.src.host,
                       self._label(owner)[0] if owner else "unknown")

    def _verdicts(self, rows: list, gpus: list, todo: list) -> list:
        job = dict(events=self.events, rows=rows, gpus=gpus, todo=todo, named=self.named,
                   models_dir=self.models_dir)
        if self.explain == "child":
            out, why_not = explain_in_child(job)
            if out is not None:
                return out
            self.explain = "here"   # from now on in this process, as it would have been without a child
            allow("numpy")
            self.notice("explain", f"explaining loads in the watch process from now on ({why_not})")
        if self.con is None:
            self.con = _con()
        return load_verdicts(**job, con=self.con)

    # -- what is kept --------------------------------------------------------------------------
    def _prune(self) -> None:
        asm = self.resume.assembler
        if len(asm.loads) > KEEP_LOADS:
            del asm.loads[:len(asm.loads) - KEEP_LOADS]
        oldest = asm.loads[0].line if asm.loads else None
        cited = {n for ld in asm.loads for n in ld.lines}
        t = self.events
        if t.num_rows:
            ev = t.column("event").to_pylist()
            ln = t.column("line").to_pylist()
            starts, prev = [], None
            for e, n in zip(ev, ln):  # the server starts as facts.py finds them
                if e in MARKERS:
                    if e == "server_config" or prev != "server_config":
                        starts.append(n)
                    prev = e
            ref = oldest if oldest is not None else (ln[-1] if ln else 0)
            start = max((s for s in starts if s <= ref), default=0)
            from .facts import BETWEEN_EVENTS, START_EVENTS
            between_from = oldest if oldest is not None else start
            keep = []
            nb = 0
            for i in range(len(ev) - 1, -1, -1):
                e, n = ev[i], ln[i]
                k = n in cited or (e in START_EVENTS and n >= start)
                if not k and e in BETWEEN_EVENTS and n >= between_from:
                    k = oldest is not None or nb < KEEP_BETWEEN
                    nb += 1
                keep.append(k)
            keep.reverse()
            if not all(keep):
                self.events = t.filter(pa.array(keep, pa.bool_()))
        else:
            start = 0
        if oldest is not None:
            self.done = {k: v for k, v in self.done.items() if k >= oldest}
            asm.gpus = [g for g in asm.gpus if g.get("line", 0) >= (start if g.get("origin") == "server" else oldest)]

    # -- state ---------------------------------------------------------------------------------
    def state(self) -> dict:
        out = {"stream": self.stream.state()}
        if self.resume is not None:
            out.update(position=self.resume.at, snapshot=snapshot.dump(self.resume.assembler, self.resume.seen),
                       events=snapshot.encode(self.events.to_pylist()), done=[[k, v] for k, v in self.done.items()],
                       named=[[k, v] for k, v in self.named.items()], gpu_line=self.gpu_line)
        return out

    def restore(self, st: dict) -> None:
        """Go on from a state(); SnapshotError when it is another version's (the stream is intact)."""
        if "snapshot" in st:
            asm, seen = snapshot.load(st["snapshot"])
            rows = snapshot.decode(st["events"])
            try:
                events = pa.Table.from_pylist(rows, schema=S.schema("events"))
            except (pa.ArrowException, TypeError, ValueError) as e:
                raise snapshot.SnapshotError(f"damaged state ({e})") from None
            self.resume = Resume(at=dict(st["position"]), assembler=asm, seen=seen, file_id=FILE_ID)
            self.events = events
            self.done = {int(k): v for k, v in st.get("done") or []}
            self.named = {k: v for k, v in st.get("named") or []}
            self.gpu_line = int(st.get("gpu_line") or 0)
        self.stream.restore(st.get("stream") or {})


def _load_seconds(f) -> Optional[float]:
    """Seconds from the load's first line to its runner reporting started (as the time-to-load query)."""
    t0 = f.load.get("time")
    e = next((e for e in f.evidence if e.event == "runner_started" and e.time is not None), None)
    if t0 is None or e is None:
        return None
    s = (e.time - t0).total_seconds()
    return round(s, 3) if s >= 0 else None


def _free_per_gpu(f) -> list:
    """The free VRAM the load's plan saw, per GPU: named by the server's inventory when it lists as
    many GPUs, else by their index."""
    per = f.load.get("vram_available_per_gpu") or []
    ids = []
    for g in f.gpus:
        if g.get("origin") == "server" and (g.get("library") or "") != "cpu" and g.get("id") not in ids:
            ids.append(g.get("id"))
    names = ids if len(ids) == len(per) else [str(i) for i in range(len(per))]
    return [{"gpu": n, "free_bytes": b} for n, b in zip(names, per) if b is not None]


def load_verdicts(events: pa.Table, rows: list, gpus: list, todo: list, named: dict,
                  models_dir: Optional[str], con=None) -> list:
    """why's verdicts (docs/watch.md's load events) for the loads `rows[i]`, i in `todo`, over the
    events a tracker keeps, its loads and its GPU inventory (the functions behind `why --all`)."""
    from . import estimate, explain, facts as F, views
    from .why import _models_dir, model_label, tags_by_blob
    loads = pa.Table.from_batches([_rows_batch("loads", rows)])
    tables = {"events": events, "loads": loads}
    if gpus:
        tables["gpus"] = pa.Table.from_batches([_rows_batch("gpus", [dict(g, file_id=FILE_ID) for g in gpus])])
    con = views.connect(tables, con=con if con is not None else _con())
    mdir, _ = _models_dir(models_dir, con)
    tags_of = tags_by_blob(mdir)
    out = []
    for f in F.gather(con, todo):
        v = explain.explain_load(f, estimate.for_load(f), None)
        _, label, how, _ = model_label(v, tags_of, named, mdir)
        if " / " in label and mdir is not None and v.get("model_blob"):
            # several tags share the weights: the one whose params explain this load, as why tells them
            from .models import tags_for_blob
            from .why import tag_of_load
            hit = tag_of_load(v, f, tags_for_blob(mdir, v["model_blob"]))
            if hit is not None:
                label, how = hit[0], f"{hit[1]} (tags of this blob in {mdir})"
        ev = {"event": "load", "model": label, "model_how": how}
        ev.update(v)
        ev["load_seconds"] = _load_seconds(f)
        ev["vram_free_per_gpu"] = _free_per_gpu(f)
        ev["recommendations"] = explain.recommendations([v], None)
        out.append(ev)
    for name in tables:  # let go of the tables until the next verdict
        con.unregister(name)
    return out


def explain_in_child(job: dict, timeout: float = CHILD_TIMEOUT_S) -> tuple:
    """load_verdicts(**job) in a new Python process that exits when done, so that DuckDB, the estimator
    and their memory (about 60 MB) are never part of the watch that runs for months. Returns
    (events, None), or (None, why not) when the child could not give them."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # ollalog's own folder first
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        p = subprocess.run([sys.executable, "-m", "ollalog.watch", CHILD_FLAG], input=pickle.dumps(job),
                           capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, f"the explaining process took over {timeout:g} s"
    except OSError as e:
        return None, f"cannot start an explaining process: {e.strerror or e}"
    if p.returncode != 0:
        last = (p.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit status {p.returncode}"])[-1]
        return None, f"the explaining process failed: {last}"
    try:
        out = pickle.loads(p.stdout)
    except Exception as e:  # noqa: BLE001 - anything the child wrote that is not its answer
        return None, f"the explaining process gave no answer ({type(e).__name__})"
    return out, None


def _child_main() -> None:
    """The explaining process: a job (pickled by the watch that started it) on stdin, the load
    events, pickled, on stdout."""
    lean(("pandas",))        # numpy it needs: the estimator computes with it
    job = pickle.load(sys.stdin.buffer)
    sys.stdout.buffer.write(pickle.dumps(load_verdicts(**job)))


# -- the watch ----------------------------------------------------------------------------------

def default_state_path(keys: Iterable[str]) -> str:
    """`$XDG_STATE_HOME/ollalog/watch-<digest of what is watched>.json` (~/.local/state by default)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    digest = hashlib.sha256("\n".join(sorted(keys)).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return os.path.join(base, "ollalog", f"watch-{digest}.json")


def stream_keys(paths: Iterable[str], journald: Optional[list]) -> list:
    keys = ["file:" + os.path.abspath(p) for p in paths if p != "-"]
    if journald is not None:
        keys.append("journald:" + ",".join(journald) if journald else "journald")
    return keys


class Watch:
    """Follow `paths` (files; "-" for stdin) and/or the journal (`journald`: a list of units) and tell
    `sinks` what happens, until `stop` is set (or, with `once`, until what is there now was read).

    history     what the files (or this boot's journal) hold when the watch begins is read quietly,
                to know the server's state, and only what comes after is told (False: told too)
    state       the state file (None: none is kept)
    once        read what is there (from the state, else from the start), tell it, and return
    poll        watchdog's polling observer (network file systems that send no change events)
    check_every seconds between checks when no change event comes (a safety net)
    hold        seconds without a change before what changed is read (at most hold_max after the first)
    explain     "child": each completed load is explained in a short-lived process (explain_in_child),
                so the watch never holds DuckDB; "here": in the watch process (quicker, ~60 MB more)
    """

    def __init__(self, paths: Iterable[str] = (), *, journald: Optional[list] = None, host: Optional[str] = None,
                 year: Optional[int] = None, engine: str = "c", sinks: Iterable[Sink] = (),
                 state: Optional[str] = None, history: bool = True, once: bool = False, poll: bool = False,
                 models_dir: Optional[str] = None, notice: Optional[Notice] = None,
                 journalctl: str = "journalctl", check_every: float = 10.0, hold: float = 0.2,
                 hold_max: float = 1.0, explain: str = "child"):
        self.paths = list(paths)
        if not self.paths and journald is None:
            raise UsageError("give a log file to follow, or --journald")
        if self.paths.count("-") > 1:
            raise UsageError("stdin (-) can be followed once")
        self.sinks = list(sinks)
        self.state_path = state
        self.once = once
        self.poll = poll
        self.check_every = check_every
        self.hold = hold
        self.hold_max = hold_max
        self._notice = notice or (lambda kind, text: None)
        self.wake = threading.Event()
        self.failed = False
        self.saved_at = 0.0
        self.state_error: Optional[str] = None
        history = history and not once
        kw = dict(host=host, year=year, engine=engine, sinks=self.sinks, models_dir=models_dir, notice=self.notice,
                  explain=explain)
        self.trackers: list[Tracker] = []
        for p in dict.fromkeys(self.paths):
            s = PipeStream("<stdin>", self.notice, self.wake) if p == "-" else FileStream(p, self.notice, history, wait=not once)
            self.trackers.append(Tracker(s, **kw))
        if journald is not None:
            s = JournalStream(journald, self.notice, self.wake, history=history, follow=not once, journalctl=journalctl)
            self.trackers.append(Tracker(s, **kw))

    def notice(self, kind: str, text: str) -> None:
        if kind in ("rotated", "truncated", "lost"):
            for s in self.sinks:
                s.rotation({"rotated": "rename", "truncated": "truncate"}.get(kind, kind))
        if kind == "error":
            self.failed = True
            for s in self.sinks:
                s.input_error()
        self._notice(kind, text)

    # -- state ---------------------------------------------------------------------------------
    def _restore(self) -> None:
        if self.state_path is None or not os.path.exists(self.state_path):
            return
        try:
            with open(self.state_path, encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
                raise ValueError("not a watch state")
        except (OSError, ValueError) as e:
            self._notice("state", f"{self.state_path}: cannot use this state ({e}); starting afresh")
            return
        streams = data.get("streams") or {}
        for t in self.trackers:
            st = streams.get(t.key) if t.key else None
            if not isinstance(st, dict):
                continue
            try:
                t.restore(st)
            except (snapshot.SnapshotError, KeyError, TypeError, ValueError) as e:
                self._notice("state", f"{t.name}: the saved state is from another version of ollalog ({e}); "
                                      "reading it again, quietly up to where the last watch stopped")
                t.resume, t.events, t.done = None, S.schema("events").empty_table(), {}
                _replay(t.stream, st.get("stream") or {})

    def save(self, force: bool = False) -> None:
        if self.state_path is None:
            return
        told = any(t.told for t in self.trackers)
        dirty = any(t.dirty for t in self.trackers)
        if not force and not told and not (dirty and time.monotonic() - self.saved_at >= SAVE_EVERY):
            return
        if not dirty and not told and not force:
            return
        data = {"format": STATE_FORMAT, "version": snapshot.VERSION,
                "streams": {t.key: t.state() for t in self.trackers if t.key}}
        folder = os.path.dirname(os.path.abspath(self.state_path))
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".watch-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, separators=(",", ":"), default=_json_default)
                os.replace(tmp, self.state_path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as e:
            reason = e.strerror or str(e)
            if self.state_error != reason:
                self.state_error = reason
                self.notice("error", f"{self.state_path}: cannot write the state ({reason})")
            return
        self.state_error = None
        self.saved_at = time.monotonic()
        for t in self.trackers:
            t.dirty = False
            t.told = 0

    # -- running -------------------------------------------------------------------------------
    def run(self, stop: Optional[threading.Event] = None) -> bool:
        """Watch until `stop` is set, every input ended, or (`once`) what is there was read.
        Returns False when an input could not be read."""
        stop = stop or threading.Event()
        self._restore()
        watcher = None
        files = [t for t in self.trackers if t.stream.kind == "file"]
        try:
            for t in self.trackers:
                if t.stream.kind != "file":
                    try:
                        t.stream.start()
                    except InputError as e:
                        self.notice("error", str(e))
                        t.stream.ended = True
            if files and not self.once:
                watcher = Watcher([t.stream.dir for t in files], self.wake, poll=self.poll, notice=self.notice)
                watcher.start()
            first = True
            while True:
                for t in self.trackers:
                    t.tick()
                    if not t.stream.ended:
                        try:
                            t.stream.poll(t.consume)
                        except InputError as e:
                            self.notice("error", str(e))
                            t.stream.ended = True
                        if t.stream.ended and t.stream.kind != "file":
                            t.finish()
                self.save(force=first)   # the first write: what was there when the watch began is read
                first = False
                pipes_open = any(not t.stream.ended for t in self.trackers if t.stream.kind != "file")
                if stop.is_set() or (self.once and not pipes_open) or all(t.stream.ended for t in self.trackers):
                    break
                self.wake.wait(min(self.check_every, SETTLE_S) if any(t.settling for t in self.trackers)
                               else self.check_every)
                self._settle(stop)
                if watcher is not None:
                    watcher.recheck()
            if self.once:
                for t in files:
                    t.finish()
        finally:
            if watcher is not None:
                watcher.stop()
            for t in self.trackers:
                t.stream.close()
            self.save(force=True)
        return not self.failed

    def _settle(self, stop: threading.Event) -> None:
        """Let a burst of writes end before reading (up to HOLD_MAX_S): a record the writer puts out
        as several lines (a wrapped record, Kubernetes' partial lines) is then read in one piece."""
        t0 = time.monotonic()
        while self.wake.is_set() and time.monotonic() - t0 < self.hold_max:
            self.wake.clear()
            if stop.wait(self.hold):
                break
        self.wake.clear()

    def wake_up(self) -> None:
        self.wake.set()


def _replay(stream, st: dict) -> None:
    if isinstance(stream, FileStream):
        stream.replay_to(st)
    elif isinstance(stream, JournalStream):
        stream.replay_to(st.get("cursor"))


def _json_default(o):
    from .render import json_default
    return json_default(o)


if __name__ == "__main__" and sys.argv[1:] == [CHILD_FLAG]:
    _child_main()
