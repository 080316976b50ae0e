"""Stage 1 for `ollalog watch`: the bytes a log gains over time, one stream per thing followed.

A followed file is a name (`server.log`), not an inode, as `tail -F` follows it: when the name is
renamed away and made anew (rotation by rename), the old file is read to its end, its last line
ended if it lacks a newline, and the new one is read from its start; when the file shrinks under
what was read (rotation by copy and truncate, or a rewrite), the copy beside it that holds the same
first bytes and the same bytes before the point reached (`server.log.1`, compressed or not) gives
the end that had not been read yet, then the file is read from its start. So a rotation loses no
line and repeats none, except what copy-truncate itself loses (lines written between the copy and
the truncation are in neither file). Where the stream stood is `FileStream.state()`: the file's
device and inode, the bytes read, hashes of its first bytes and of the bytes before that point;
`restore()` goes on from there after a restart, through the same checks.

`JournalStream` follows `journalctl -o json` (the engine reads journald's JSON records) and
`PipeStream` standard input. Nothing here parses a log line: a stream hands byte spans to a
`consume(span, final, loud)` callback that returns how many bytes it used (it may leave a line
still being written for the next call). `loud` is False for what was there before the watch began
(history that sets up the state but raises no alert).

Changes are noticed through watchdog (inotify on Linux, FSEvents, kqueue, ReadDirectoryChangesW;
its polling observer for file systems without change events) on the folders of the files; the
journal and stdin through a reader thread. Both set one `threading.Event`.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import threading
from typing import Callable, Optional

from .errors import InputError
from .inputs import Source
from .read import HEAD_BYTES, TAIL_BYTES

HEAD = HEAD_BYTES      # first bytes that identify a file (as read.py's file identity)
TAIL = TAIL_BYTES      # bytes before the point reached that a continuation must match
SPAN_MAX = 16 << 20    # bytes handed over at a time (a long history is read in pieces)
COPIES_TRIED = 16      # newest files beside a truncated one that may be its copy

Notice = Callable[[str, str], None]     # (kind, text): rotated, truncated, lost, waiting, error


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


class Span(io.RawIOBase):
    """Bytes [start, stop) of an open file descriptor, or a bytes object, readable as read_file
    reads a file: it seeks to the stream offset where the engine stopped, which is `base` here."""

    def __init__(self, src, start: int = 0, stop: Optional[int] = None, base: int = 0):
        super().__init__()
        self.src = src
        self.start = start
        self.stop = (len(src) if isinstance(src, (bytes, bytearray, memoryview)) else start) if stop is None else stop
        self.base = base
        self.pos = 0

    def __len__(self) -> int:
        return self.stop - self.start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0:
            raise io.UnsupportedOperation("Span seeks from the start only")
        self.pos = max(0, offset - self.base)
        return offset

    def readinto(self, b) -> int:
        n = min(len(b), len(self) - self.pos)
        if n <= 0:
            return 0
        if isinstance(self.src, int):
            data = os.pread(self.src, n, self.start + self.pos)
        else:
            data = bytes(self.src[self.start + self.pos:self.start + self.pos + n])
        b[:len(data)] = data
        self.pos += len(data)
        return len(data)

    def bytes(self) -> bytes:
        if isinstance(self.src, int):
            return os.pread(self.src, len(self), self.start)
        return bytes(self.src[self.start:self.stop])

    def close(self) -> None:  # the descriptor belongs to the stream
        super().close()


Consume = Callable[[Span, bool, bool], int]


# -- files ----------------------------------------------------------------------------------------

class FileStream:
    """One followed file name (see the module's doc)."""

    kind = "file"

    def __init__(self, name: str, notice: Notice, history: bool = True, wait: bool = True):
        self.name = name
        self.wait = wait           # a missing file is waited for (else: an error)
        self.path = name
        self.notice = notice
        self.history = history     # what the file holds when first opened is history (not loud)
        self.fd: Optional[int] = None
        self.ident: Optional[tuple] = None
        self.offset = 0            # bytes of the current file handed over and used
        self.quiet_until = 0       # bytes of the current file that are history
        self.head = b""
        self.head_len = 0
        self.tail = b""            # the TAIL bytes before `offset`, as read
        self.tail_hash: Optional[str] = None  # their hash (None: nothing read yet)
        self.restored: Optional[dict] = None
        self.waiting_said = False
        self.error_said: Optional[str] = None
        self.replay: Optional[dict] = None
        self.ended = False

    @property
    def dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    # -- state --------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"device": self.ident[0] if self.ident else None, "inode": self.ident[1] if self.ident else None,
                "offset": self.offset, "head_len": self.head_len, "head_hash": _sha(self.head[:self.head_len]),
                "tail_hash": self.tail_hash or _sha(b"")}

    def restore(self, st: dict) -> None:
        """Go on from a state() of an earlier watch: checked against the file when it is opened."""
        self.restored = dict(st)
        self.history = False

    def replay_to(self, st: dict) -> None:
        """The reader's state of a state() cannot be used (another version): read the file again from
        its start, quietly up to where that watch stopped if it is still the same file."""
        self.restored = None
        self.replay = dict(st)
        self.history = False

    # -- reading ------------------------------------------------------------------------------
    def _tail(self) -> bytes:
        n = min(TAIL, self.offset)
        return os.pread(self.fd, n, self.offset - n) if n else b""

    def _open(self) -> Optional[os.stat_result]:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            if not self.wait:
                self.notice("error", f"{self.name}: no such file or directory")
                self.ended = True
                return None
            if not self.waiting_said:
                self.notice("waiting", f"{self.name}: no such file yet; waiting for it to appear")
                self.waiting_said = True
            return None
        except OSError as e:
            reason = "permission denied" if isinstance(e, PermissionError) else (e.strerror or str(e))
            if self.error_said != reason:
                self.notice("error", f"{self.name}: {reason}")
                self.error_said = reason
            self.ended = True
            return None
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            os.close(fd)
            if self.error_said != "dir":
                self.notice("error", f"{self.name}: is a directory (name the log file to follow)")
                self.error_said = "dir"
            self.ended = True
            return None
        self.waiting_said = False
        self.error_said = None
        self.fd, self.ident = fd, (st.st_dev, st.st_ino)
        self.offset, self.head, self.head_len, self.tail, self.tail_hash = 0, b"", 0, b"", None
        self.quiet_until = st.st_size if self.history else 0
        self.history = False
        self._refresh_head(st.st_size)
        if self.replay is not None:
            rp, self.replay = self.replay, None
            off = int(rp.get("offset") or 0)
            if (rp.get("device"), rp.get("inode")) == self.ident and st.st_size >= off and \
                    _sha(os.pread(fd, int(rp.get("head_len") or 0), 0)) == rp.get("head_hash"):
                self.quiet_until = off
        return st

    def _refresh_head(self, size: int) -> None:
        if self.head_len < HEAD and size > self.head_len:
            self.head = os.pread(self.fd, HEAD, 0)
            self.head_len = len(self.head)

    def _close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
        self.fd = None
        self.ident = None

    def _hand(self, consume: Consume, final: bool) -> bool:
        """Hand over what the current file gained (in pieces of SPAN_MAX); True when bytes were used.
        The bytes are read once, before they are handed over, and the head and the tail that the
        next poll checks are taken from those same bytes: the file may be copied and truncated
        while they are being read (reading it again afterwards would see the new file)."""
        used = False
        while True:
            size = os.fstat(self.fd).st_size
            if size <= self.offset:
                return used
            stop = min(size, self.offset + SPAN_MAX)
            loud = self.offset >= self.quiet_until
            if not loud:
                stop = min(stop, self.quiet_until)
            data = os.pread(self.fd, stop - self.offset, self.offset)
            if not data:
                return used           # shrunk since the fstat: the next poll sees it
            last = final and self.offset + len(data) == size
            n = consume(Span(data), last, loud)
            if n <= 0 and not loud:   # history ends inside a line being written: the rest is new
                self.quiet_until = self.offset
                continue
            if n <= 0 and self.offset + len(data) >= size:
                return used           # a line still being written
            if n <= 0:                # a line longer than a span: hand over more at once
                data = os.pread(self.fd, size - self.offset, self.offset)
                n = consume(Span(data), final, loud)
                if n <= 0:
                    return used
            self._advance(data[:n])
            used = True

    def _advance(self, got: bytes) -> None:
        """`got` was read and used at `offset`: the head and the tail follow it."""
        if self.offset < HEAD:
            head = (self.head[:self.offset] + got)[:HEAD]
            if len(head) >= self.head_len:
                self.head, self.head_len = head, len(head)
        self.tail = (self.tail + got)[-TAIL:] if len(got) < TAIL else got[-TAIL:]
        self.tail_hash = _sha(self.tail)
        self.offset += len(got)

    def poll(self, consume: Consume) -> None:
        """Hand every byte the followed name gained since the last poll to `consume`."""
        if self.fd is None:
            if self._open() is None:
                return
            if self.restored is not None:
                self._resume(consume)
        try:
            now = os.stat(self.path)
        except OSError:
            now = None
        here = now is not None and (now.st_dev, now.st_ino) == self.ident
        if here or now is None or now.st_size == 0 and not stat.S_ISDIR(now.st_mode):
            # still the file we read, or its replacement is not written yet: read on
            if here and self._shrunk():
                self._truncated(consume)
            self._hand(consume, final=False)
            return
        # renamed away and replaced: the old file to its end (its last line ended), then the new one
        self._hand(consume, final=True)
        old = self.name
        self._close()
        self.notice("rotated", f"{old}: rotated (renamed and made anew); reading the new file from its start")
        if self._open() is not None:
            self.quiet_until = 0
            self._hand(consume, final=False)

    def _shrunk(self) -> bool:
        size = os.fstat(self.fd).st_size
        if size < self.offset:
            return True
        if self.offset == 0:
            return False
        return self.tail_hash is not None and _sha(self._tail()) != self.tail_hash

    def _truncated(self, consume: Consume) -> None:
        found = self._from_copy(consume, self.offset, self.head_len, _sha(self.head[:self.head_len]),
                                self.tail_hash or "", exclude=self.ident)
        if found:
            self.notice("truncated", f"{self.name}: truncated after a copy to {found}; read the copy's last "
                                     "bytes, now reading the file from its start")
        else:
            self.notice("lost", f"{self.name}: truncated or rewritten and no copy of its end was found beside it: "
                                "lines written since the last read may be missing; reading it from its start")
        self.offset, self.head, self.head_len, self.tail, self.tail_hash, self.quiet_until = 0, b"", 0, b"", None, 0
        self._refresh_head(os.fstat(self.fd).st_size)

    def _resume(self, consume: Consume) -> None:
        """After a restart: go on in the same file, or finish the one read last (renamed or copied
        beside it) and read the file now at the name from its start."""
        st, self.restored = self.restored, None
        size = os.fstat(self.fd).st_size
        off = int(st.get("offset") or 0)
        hl = int(st.get("head_len") or 0)
        same = (st.get("device"), st.get("inode")) == self.ident
        tail = os.pread(self.fd, min(TAIL, off), off - min(TAIL, off)) if same and size >= off else b""
        if same and size >= off and _sha(os.pread(self.fd, hl, 0)) == st.get("head_hash") and \
                _sha(tail) == st.get("tail_hash"):
            self.offset = off
            self.quiet_until = 0
            self.tail, self.tail_hash = tail, st.get("tail_hash")
            self._refresh_head(size)
            return
        found = self._from_copy(consume, off, hl, st.get("head_hash") or "", st.get("tail_hash") or "",
                                exclude=self.ident if not same else None, ident=(st.get("device"), st.get("inode")))
        if found:
            self.notice("rotated", f"{self.name}: rotated while not watched; read the rest of {found}, "
                                   "now reading the new file from its start")
        else:
            self.notice("lost", f"{self.name}: not the file the last watch read (rotated or rewritten since) and "
                                "that file was not found beside it: reading this one from its start")
        self.quiet_until = 0

    def _from_copy(self, consume: Consume, off: int, head_len: int, head_hash: str, tail_hash: str,
                   exclude=None, ident=None) -> Optional[str]:
        """Find beside the file the one that holds what was read (same first bytes, same bytes before
        `off`), hand over its bytes after `off` (final), and return its name; None when there is none."""
        from .ingest import _compression, _prefix
        try:
            names = [os.path.join(self.dir, n) for n in os.listdir(self.dir)]
        except OSError:
            return None
        cands = []
        for p in names:
            if os.path.abspath(p) == os.path.abspath(self.path):
                continue
            try:
                s = os.stat(p)
            except OSError:
                continue
            if not stat.S_ISREG(s.st_mode) or (exclude is not None and (s.st_dev, s.st_ino) == exclude):
                continue
            cands.append(((s.st_dev, s.st_ino) == ident, s.st_mtime, p))
        cands.sort(reverse=True)
        for _, _, p in cands[:COPIES_TRIED]:
            src = Source(p, p, None)
            try:
                comp = _compression(p)
                got = _prefix(src, comp, head_len, off)
            except (OSError, InputError):
                continue
            if got is None or _sha(got[0]) != head_hash or _sha(got[1]) != tail_hash:
                continue
            try:
                rest = self._rest(src, comp, off)
            except (OSError, InputError) as e:
                self.notice("error", f"{p}: {e}")
                return None
            n = consume(Span(rest), True, True) if rest else 0
            if rest and n < len(rest):
                self.notice("error", f"{p}: {len(rest) - n} bytes at its end not read")
            return os.path.basename(p)
        return None

    @staticmethod
    def _rest(src: Source, comp: str, off: int) -> bytes:
        if comp == "none":
            with open(src.path, "rb") as f:
                f.seek(off)
                return f.read()
        from .inputs import chunks
        return b"".join(chunks(src, 1 << 20, offset=off))

    def close(self) -> None:
        """Let go of the file; its identity and position stay for state() (the watch saves after this)."""
        if self.fd is not None:
            os.close(self.fd)
        self.fd = None


# -- pipes: the journal, standard input ---------------------------------------------------------

class _Reader(threading.Thread):
    """Reads a pipe into a buffer as bytes arrive and wakes the watch."""

    def __init__(self, fh, wake: threading.Event):
        super().__init__(daemon=True, name="ollalog-pipe")
        self.fh = fh
        self.wake = wake
        self.lock = threading.Lock()
        self.buf = bytearray()
        self.eof = False
        self.error: Optional[str] = None

    def run(self) -> None:
        fd = self.fh.fileno()
        try:
            while True:
                data = os.read(fd, 1 << 16)
                if not data:
                    break
                with self.lock:
                    self.buf += data
                    big = len(self.buf) > SPAN_MAX * 4
                self.wake.set()
                if big:  # the watch is behind: let it catch up before reading more
                    while True:
                        with self.lock:
                            if len(self.buf) <= SPAN_MAX:
                                break
                        threading.Event().wait(0.05)
        except OSError as e:
            self.error = e.strerror or str(e)
        finally:
            with self.lock:
                self.eof = True
            self.wake.set()

    def take(self) -> tuple[bytes, bool]:
        with self.lock:
            data, self.buf = bytes(self.buf), bytearray()
            return data, self.eof


class PipeStream:
    """Standard input, followed to its end (nothing to resume after a restart)."""

    kind = "stdin"

    def __init__(self, name: str, notice: Notice, wake: threading.Event, fh=None):
        import sys
        self.name = name
        self.notice = notice
        self.wake = wake
        self.pending = b""
        self.ended = False
        self.failed = False
        self.reader: Optional[_Reader] = _Reader(fh or sys.stdin.buffer, wake)

    def start(self) -> None:
        self.reader.start()

    def state(self) -> dict:
        return {}

    def restore(self, st: dict) -> None:
        pass

    def _feed(self, consume: Consume, data: bytes, final: bool, loud: bool) -> None:
        """Hand `data` (after what was left last time) over; keep what it did not use."""
        data = self.pending + data
        self.pending = b""
        if not data:
            return
        n = max(consume(Span(data), final, loud), 0)
        self.pending = data[n:]
        if n:
            self.used(data[:n])

    def used(self, data: bytes) -> None:
        """Called with the bytes a consume used (whole lines)."""

    def poll(self, consume: Consume) -> None:
        if self.ended:
            return
        data, eof = self.reader.take()
        self._feed(consume, data, eof, True)
        if eof:
            self.ended = True
            if self.reader.error:
                self.failed = True
                self.notice("error", f"{self.name}: {self.reader.error}")

    def close(self) -> None:
        pass


CURSOR = re.compile(rb'"__CURSOR"\s*:\s*"((?:[^"\\]|\\.)*)"')


class JournalStream(PipeStream):
    """`journalctl -o json` for some units: without a saved cursor, this boot's entries so far are
    history (`journalctl --boot`, read to its end), then `journalctl --follow --after-cursor` goes on
    after the last of them; with one, only what came after it. The cursor of the last entry used
    is the state."""

    kind = "journald"

    def __init__(self, units: list, notice: Notice, wake: threading.Event, history: bool = True,
                 follow: bool = True, journalctl: str = "journalctl"):
        self.units = list(units)
        self.name = "journald:" + ",".join(self.units) if self.units else "journald"
        self.notice = notice
        self.wake = wake
        self.pending = b""
        self.ended = False
        self.failed = False
        self.cursor: Optional[str] = None
        self.quiet_cursor: Optional[str] = None   # history is quiet up to this entry (a state not usable)
        self.history = history
        self.follow = follow
        self.exe = journalctl
        self.proc: Optional[subprocess.Popen] = None
        self.reader = None
        self.phase = "history"

    def state(self) -> dict:
        return {"cursor": self.cursor, "units": self.units}

    def restore(self, st: dict) -> None:
        if st.get("cursor") and st.get("units") == self.units:
            self.cursor = st["cursor"]
            self.history = False

    def replay_to(self, cursor: Optional[str]) -> None:
        """The saved state cannot be used: read this boot's entries again, quietly up to `cursor`."""
        self.quiet_cursor = cursor
        self.cursor = None
        self.history = True

    def _args(self, follow: bool) -> list:
        args = [self.exe, "--output=json", "--no-pager", "--quiet"]
        for u in self.units:
            args += ["--unit", u]
        if self.cursor:
            args.append(f"--after-cursor={self.cursor}")
        elif follow:
            args.append("--lines=0")
        else:
            args.append("--boot")
        if follow:
            args.append("--follow")
        return args

    def _run(self, follow: bool) -> None:
        exe = shutil.which(self.exe)
        if exe is None:
            raise InputError(self.name, f"{self.exe} not found (is this a systemd machine?)")
        args = [exe] + self._args(follow)[1:]
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise InputError(self.name, f"cannot run {self.exe} ({e.strerror or e})") from None
        self.reader = _Reader(self.proc.stdout, self.wake)
        self.reader.start()

    def start(self) -> None:
        if self.cursor is None and (self.history or not self.follow):
            self.phase = "history"
            self._run(follow=False)
        else:
            self.phase = "follow"
            self._run(follow=self.follow)

    def used(self, data: bytes) -> None:
        last = data.rfind(b"\n", 0, len(data) - 1) + 1  # the last whole line: the last entry used
        m = CURSOR.search(data, last)
        if m is not None:
            self.cursor = m.group(1).decode("utf-8", "replace")

    def poll(self, consume: Consume) -> None:
        if self.ended or self.reader is None:
            return
        data, eof = self.reader.take()
        loud = self.phase == "follow" or not self.history
        if self.quiet_cursor is not None and data:
            whole = self.pending + data
            self.pending = b""
            m = re.search(rb'"__CURSOR"\s*:\s*"' + re.escape(self.quiet_cursor.encode()) + rb'"', whole)
            if m is None:
                cut = whole.rfind(b"\n") + 1
                self._feed(consume, whole[:cut], False, False)
                data = whole[cut:]
            else:
                cut = whole.find(b"\n", m.end()) + 1 or len(whole)
                self._feed(consume, whole[:cut], False, False)
                self.quiet_cursor = None
                data, loud = whole[cut:], True
        self._feed(consume, data, eof, loud)
        if not eof:
            return
        rc = self.proc.wait()
        err = (self.proc.stderr.read() or b"").decode("utf-8", "replace").strip().splitlines()
        if self.phase == "history" and self.follow:
            if rc != 0:
                self.notice("error", f"{self.name}: journalctl could not list this boot's entries "
                                     f"({err[-1] if err else f'exit status {rc}'}); following new ones only")
            self.phase = "follow"
            self.quiet_cursor = None
            self._run(follow=True)
            self.wake.set()
            return
        self.ended = True
        if rc != 0 or self.follow:
            self.failed = True
            self.notice("error", f"{self.name}: journalctl stopped: {err[-1] if err else f'exit status {rc}'}")

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, 9)
                except OSError:
                    pass


# -- change notification ------------------------------------------------------------------------

class Watcher:
    """watchdog observers on the folders of the followed files; any change there sets `wake`."""

    def __init__(self, folders, wake: threading.Event, poll: bool = False, notice: Optional[Notice] = None):
        from watchdog.events import FileSystemEventHandler

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):  # noqa: D401  (watchdog's callback)
                if event.event_type not in ("opened", "closed_no_write"):
                    wake.set()

        self.observer = self._observer(poll)
        self.handler = Handler()
        self.folders = sorted(set(folders))
        self.notice = notice
        self.watched: set = set()

    @staticmethod
    def _observer(poll: bool):
        if poll:
            from watchdog.observers.polling import PollingObserver
            return PollingObserver(timeout=1)
        from watchdog.observers import Observer
        return Observer()

    def start(self) -> None:
        for d in self.folders:
            self._schedule(d)
        self.observer.daemon = True
        self.observer.start()

    def _schedule(self, d: str) -> None:
        if d in self.watched or not os.path.isdir(d):
            return
        try:
            self.observer.schedule(self.handler, d, recursive=False)
            self.watched.add(d)
        except OSError as e:  # inotify watches exhausted, ...: the periodic check still reads on
            if self.notice:
                self.notice("error", f"{d}: cannot watch for changes ({e.strerror or e}); checking every few seconds")
            self.watched.add(d)

    def recheck(self) -> None:
        """Folders that did not exist at the start may have been made since."""
        for d in self.folders:
            self._schedule(d)

    def stop(self) -> None:
        try:
            self.observer.stop()
            self.observer.join(timeout=5)
        except RuntimeError:
            pass
