"""The pure-Python reference parser: the executable specification of the C engine.

It reads bytes in any chunking and produces the same `events` and `requests` batches and the same
per-file line accounting as `ollalog._core.Engine`. Tests run both on the same inputs (with chunks
as small as one byte) and compare the tables; the reference favours clarity over speed.

Pipeline of one physical line (docs/parsing.md has the prose version):
  hygiene (limit, CR, BOM, UTF-8, ANSI) -> continuation of a held slog record? -> wrappers
  (markdown, spinner, cat -n, JSON, RFC 3339, Docker Desktop, journald, compose) -> grammar
  (slog, gin, Go log, runner, panic, probe, system, llama.cpp, glued) -> rows -> time resolution.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa

from . import schema as S
from .formats import Catalogue, event_names, load_months, load_rules
from .timeutil import (DAY_US, US, civil_us, frac_to_us, journal_date_us, journal_hint_date_us,
                       journal_month_date_us, round_offset, valid_civil)

BATCH_ROWS = 32768
MAX_LINE = 1 << 20
PENDING_CAP = 65536
PENDING_LINES = 64  # rows wait for their time over at most this many max_line lengths of input

# ---------------------------------------------------------------------------------------------
# grammar patterns

WS = " \t\r\n\f\v"


def _R(pattern: str) -> "re.Pattern[str]":
    return re.compile(pattern, re.ASCII)


BOXTAIL = _R(r"[ \t]*[\u2502\u2503\u2551][ \t]*$")

ANSI = _R(r"\x1b\[[0-9;?]*[A-Za-z]")
SPINNER = _R(r"[\u2800-\u28ff]+ ")
CATN = _R(r"\d+\t")
RFC3339 = _R(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2}) ")
CRI = _R(r"(stdout|stderr) ([FP]) ?")
DESKTOP = _R(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?: |$)")
UNIXTS = _R(r"(\d{9,11})\.(\d{1,9}) ")
MONO = _R(r"\[\s*\d+\.\d+\] ")
JOURNAL = _R(
    r"((?:[^\s\d]\S{0,9}(?: [^\s\d]\S{0,5})?|\d{1,2}[\u6708\uc6d4])\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})"
    r"(?:\.(\d{1,9}))?)\s+(?:([^\s\[\]]+)\s+)?([^\s\[\]]+)\[(\d+)\]:(?: |$)")
SYSLOG_TAIL = _R(r"(?:([^\s\[\]]+) )?([^\s\[\]]+)\[(\d+)\]:(?: |$)")
BARE_IDENT = _R(r"([A-Za-z0-9_.@-]+)\[(\d+)\]:(?: |$)")
COMPOSE = _R(r"([A-Za-z0-9][A-Za-z0-9_.-]*)\s+\| ")

SLOG_TIME = _R(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})")
GIN = _R(r"\[GIN\] (\d{4})/(\d{2})/(\d{2}) - (\d{2}):(\d{2}):(\d{2}) \|")
GOLOG = _R(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ")
GOLOG_SRC = _R(r"([\w.-]+\.go:\d+): ")
GOLOG_LEVEL = _R(r"(DEBUG|INFO|WARN|ERROR) ")
ATTR_BOUNDARY = _R(r"(?:^| )(?:[A-Za-z_][\w.]*|\"[^\"]*\")=")
EXTSRV = _R(r"(INFO|WARN|WARNING|ERROR|DEBUG|VERB)\s+\[\s*(\w+)\]\s+(.*)")
LEVEL_START = _R(r"level=[A-Z]")
SLOG_START = _R(r"msg=|source=\S+ msg=")
# where a slog record glued after other text starts: its time, or (the front cut) its level
GLUED = _R(r"time=\d{4}-\d{2}-\d{2}T|(?<= )level=(?:TRACE|DEBUG|INFO|WARN|ERROR) (?:source|msg)=")
ATTR_START = _R(r"(?:[A-Za-z0-9_.]+|\"[^\"]*\")=")
FUNC = _R(r"([a-z_][A-Za-z0-9_]*):(?: (.*)|$)")  # llama.cpp names are C identifiers in lower case
MODULE_FUNC = _R(r"[a-z]{2,5} +([A-Za-z_][A-Za-z0-9_]*):(?: (.*)|$)")
METHOD = _R(r"\s*([A-Z]+)\s*")
NATIVE_KEY = _R(r"[A-Za-z_][A-Za-z0-9_. ()/-]{0,63}")

PANIC = _R(
    r"panic: |fatal error: |goroutine \d+ \[|created by |SIG[A-Z]+: |signal arrived during |PC=0x"
    r"|exit status \d+$|\[Inferior \d+|#\d+\s+0x[0-9a-f]+ |\[signal |\[New Thread|\[Thread debugging"
    r"|[\w.-]*/\S+\.(?:go|s|c|cc|cpp|h|cu):\d+(?: \+0x[0-9a-f]+)?$|r[a-z0-9]{1,3}\s+0x[0-9a-f]+$")
PANIC_START = _R(r"panic: |fatal error: |SIG[A-Z]+: |signal arrived during ")
PROBE = _R(
    r"initializing /|dlsym: |calling cu|CUDA driver version|device count \d|releasing (?:cuda|nvml|oneapi)"
    r"|cuda driver library|nvml |\[GPU-[0-9a-f-]+\] |\[\d+\] CUDA ")
NATIVE_ERR = _R(r"(?:CUDA|ROCm|HIP|SYCL|Vulkan|Metal) error|current device: |GGML_ASSERT|\S+\.(?:cu|cpp|c|h|m):\d+: ")
SYSTEM = _R(r"-- .* --$")
DURATION = _R(r"(\d+(?:\.\d+)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
UNIT_MS = {"ns": 1e-6, "us": 1e-3, "\u00b5s": 1e-3, "\u03bcs": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}

KIND_COUNTER = {"slog": "slog", "log": "log", "runner": "runner", "llama": "llama", "probe": "probe",
                "panic": "panic", "system": "system", "gin": "other", "fragment": "other"}

# ---------------------------------------------------------------------------------------------
# value decoding


def go_unquote(s: str, i: int) -> tuple[str, int, bool]:
    """Read a Go-quoted string starting at s[i] == '"'. Returns (value, index after, terminated)."""
    out = bytearray()
    n = len(s)
    i += 1
    while i < n:
        c = s[i]
        if c == '"':
            return out.decode("utf-8", "replace"), i + 1, True
        if c == "\\" and i + 1 < n:
            e = s[i + 1]
            simple = {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\", '"': b'"', "'": b"'",
                      "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v"}
            if e in simple:
                out += simple[e]
                i += 2
                continue
            width = {"x": 2, "u": 4, "U": 8}.get(e)
            if width and _is_hex(s[i + 2:i + 2 + width], width):
                v = int(s[i + 2:i + 2 + width], 16)
                out += bytes([v]) if e == "x" else _utf8_of(v)
                i += 2 + width
                continue
            if "0" <= e <= "7" and _is_octal(s[i + 1:i + 4]) and int(s[i + 1:i + 4], 8) < 256:
                out += bytes([int(s[i + 1:i + 4], 8)])
                i += 4
                continue
            out += b"\\"
            i += 1
            continue
        out += c.encode("utf-8", "surrogatepass") if "\ud800" <= c <= "\udfff" else c.encode("utf-8")
        i += 1
    return out.decode("utf-8", "replace"), i, False


def _is_octal(t: str) -> bool:
    return len(t) == 3 and all("0" <= ch <= "7" for ch in t)


def _is_hex(t: str, width: int) -> bool:
    return len(t) == width and all(ch in "0123456789abcdefABCDEF" for ch in t)


def _utf8_of(cp: int) -> bytes:
    if 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF:
        cp = 0xFFFD
    return chr(cp).encode("utf-8")


def parse_kv(s: str, i: int = 0):
    """Go slog key=value pairs from s[i:]. Returns (pairs, truncated, malformed)."""
    pairs: list[tuple[str, str]] = []
    n = len(s)
    truncated = malformed = False
    while True:
        while i < n and s[i] == " ":
            i += 1
        if i >= n:
            break
        if s[i] == '"':
            key, i, ok = go_unquote(s, i)
            if not ok:
                truncated = True
                break
        else:
            j = i
            while j < n and s[j] != " " and s[j] != "=":
                j += 1
            key, i = s[i:j], j
        if i >= n:  # a key cut at the end of the line: lenient, the fragment is dropped
            truncated = True
            break
        if s[i] != "=":  # a bare word in the middle of a record: information lost
            malformed = True
            continue
        i += 1
        if i < n and s[i] == '"':
            val, i, ok = go_unquote(s, i)
            if not ok:
                truncated = True
                if val.endswith(">"):  # a pager cut the line at the terminal width
                    val = val[:-1]
                pairs.append((key, val))
                break
        else:
            j = s.find(" ", i)
            j = n if j < 0 else j
            val, i = s[i:j], j
            if j == n and val.endswith(">") and "<" not in val:
                truncated = True  # a pager cut the line at the terminal width: the value is a fragment
                break
        pairs.append((key, val))
    return pairs, truncated, malformed


def parse_duration_ms(s: str) -> float | None:
    s = s.strip(WS)
    if not s:
        return None
    pos = 0
    total = 0.0
    for m in DURATION.finditer(s):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * UNIT_MS[m.group(2)]
        pos = m.end()
    return total if pos == len(s) and pos > 0 else None


def parse_json_object(s: str):
    """A flat JSON object -> list of (key, text, is_string); None if `s` is not one.

    Non-string values keep their JSON text (numbers as written, nested objects verbatim), so the
    C engine, which does the same, produces the same attrs.
    """
    n = len(s)
    i = _ws(s, 0)
    if i >= n or s[i] != "{":
        return None
    i = _ws(s, i + 1)
    out = []
    if i < n and s[i] == "}":
        return out if _ws(s, i + 1) == n else None
    while True:
        if i >= n or s[i] != '"':
            return None
        r = _json_string(s, i)
        if r is None:
            return None
        key, i = r
        i = _ws(s, i)
        if i >= n or s[i] != ":":
            return None
        i = _ws(s, i + 1)
        if i < n and s[i] == '"':
            r = _json_string(s, i)
            if r is None:
                return None
            val, i = r
            out.append((key, val, True))
        else:
            j = _json_skip(s, i)
            if j is None or j == i:
                return None
            out.append((key, s[i:j], False))
            i = j
        i = _ws(s, i)
        if i < n and s[i] == ",":
            i = _ws(s, i + 1)
            continue
        if i < n and s[i] == "}":
            return out if _ws(s, i + 1) == n else None
        return None


def _ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\r\n":
        i += 1
    return i


def _json_string(s: str, i: int):
    out = []
    n = len(s)
    i += 1
    while i < n:
        c = s[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 >= n:
                return None
            e = s[i + 1]
            if e in '"\\/':
                out.append(e)
                i += 2
            elif e in "bfnrt":
                out.append({"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}[e])
                i += 2
            elif e == "u" and _is_hex(s[i + 2:i + 6], 4):
                cp = int(s[i + 2:i + 6], 16)
                i += 6
                if 0xD800 <= cp < 0xDC00 and s[i:i + 2] == "\\u" and _is_hex(s[i + 2:i + 6], 4):
                    lo = int(s[i + 2:i + 6], 16)
                    if 0xDC00 <= lo < 0xE000:
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                        i += 6
                out.append(chr(0xFFFD) if 0xD800 <= cp <= 0xDFFF else chr(cp))
            else:
                return None
            continue
        out.append(c)
        i += 1
    return None


def _json_skip(s: str, i: int):
    """End of a non-string JSON value (number, literal, array, object) starting at i."""
    n = len(s)
    if i < n and s[i] in "[{":
        depth = 0
        in_str = False
        while i < n:
            c = s[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return None
    j = i
    while j < n and s[j] not in ",} \t\r\n":
        j += 1
    return j


# ---------------------------------------------------------------------------------------------
# parser state


@dataclass
class Ctx:
    """What the wrappers of one physical line said."""
    transport: str | None = None
    host: str | None = None
    pid: int | None = None
    ident: str | None = None
    t_abs: int | None = None          # absolute UTC microseconds
    t_desktop: int | None = None      # local civil microseconds of a Docker Desktop prefix
    t_journal: tuple[int, int, int | None] | None = None  # (day of month, microseconds of day, month or None)
    prefix_time: str | None = None    # the journald prefix's time as printed
    json: bool = False
    cri_partial: bool = False
    cri_raw: str = ""                 # a CRI line's text after `stdout P `, blanks kept
    cri_sep: bool = True              # the space after `P` was inside the line, not among its end blanks


@dataclass
class Rec:
    kind: str
    level: str | None = None
    source: str | None = None
    msg: str | None = None
    attrs: list = field(default_factory=list)
    event: str | None = None
    t_abs: int | None = None
    t_local: int | None = None
    truncated: bool = False
    malformed: bool = False
    request: tuple | None = None  # (status, latency_ms, client, method, path)


class FileStats:
    FIELDS = ("bytes", "physical", "parsed", "unknown", "malformed", "blank", "continued",
              "invalid_utf8", "oversized", "slog", "log", "gin", "runner", "llama", "probe",
              "panic", "system", "other", "time_unresolved")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)
        self.transport: str | None = None
        self.host: str | None = None
        self.first_time: int | None = None
        self.last_time: int | None = None
        self.tz_assumed = False

    def as_dict(self) -> dict:
        d = {f: getattr(self, f) for f in self.FIELDS}
        d.update(transport=self.transport, host=self.host, first_time=self.first_time,
                 last_time=self.last_time, tz_assumed=self.tz_assumed)
        return d


class ReferenceParser:
    """Streaming parser: begin_file(), feed() any chunks, end_file(); batches via take_batches()."""

    def __init__(self, batch_rows: int = BATCH_ROWS, max_line: int = MAX_LINE, rules=None, keep_unknown: bool = False,
                 months=None, skip_requests: bool = False, named_only: bool = False):
        rules = rules if rules is not None else load_rules()
        self.months = months if months is not None else load_months()
        self.cat_msg = Catalogue(rules, "msg")
        self.cat_native = Catalogue(rules, "native")
        self.event_names = event_names(rules)
        self.batch_rows = batch_rows
        self.max_line = max_line
        self.keep_unknown = keep_unknown
        # rows nobody asked for: the lines are read, counted and timed all the same
        self.skip_requests = skip_requests
        self.named_only = named_only
        self._unknown: list[tuple[int, str]] = []     # unknown lines kept for take_unknown()
        self._unknown_cur: tuple[int, str] | None = None  # the current line's unknown payload
        self.ev_schema = S.engine_schema("events")
        self.rq_schema = S.engine_schema("requests")
        self._ev: list[dict] = []
        self._rq: list[dict] = []
        self._batches: list[tuple[str, pa.RecordBatch]] = []
        self.file = None

    # -- driving ------------------------------------------------------------------------------

    def begin_file(self, name: str, host: str | None = None, force_host: bool = False,
                   year: int | None = None, mtime_us: int | None = None, at: dict | None = None):
        """Start a file. `year` (else `mtime_us`, the file's modification time in UTC microseconds)
        dates journald prefixes when the file has no absolute time to date them from; `at` (a
        position() of an earlier read of it) goes on from where that stopped."""
        self.file = name
        self.year = year or 0
        self.mtime_us = mtime_us
        self.default_host = host
        self.force_host = force_host
        self.stats = FileStats()
        self.carry = bytearray()
        self.carry_over = False  # the carried line already exceeded max_line
        self.lineno = 0
        self.first = True
        self.tz_server: int | None = None
        self.tz_prefix: int | None = None
        self.ref_us: int | None = None
        self.pending: list[tuple] = []
        self.pending_from = 0  # offset of the line that made the first pending row wait
        self.held: Held | None = None  # a slog record that may continue on the next lines
        self.trail = ""        # blanks cut from the end of the current physical line
        self.cri: Joined | None = None  # CRI `P` parts waiting for their `F`
        self.span_end = 0      # the last physical line of the record being emitted
        # byte offsets: of the current physical line, the next one, the held and the CRI record
        self.line_off = self.next_off = self.base_off = self.held_off = self.cri_off = 0
        if at is not None:
            if at["line"] < 0 or at["offset"] < 0:
                raise ValueError("negative resume position")
            self.lineno = at["line"]
            self.line_off = self.next_off = self.base_off = at["offset"]
            self.first = at["offset"] == 0
            self.tz_server, self.tz_prefix, self.ref_us = at["tz_server"], at["tz_prefix"], at["ref_us"]

    def position(self) -> dict:
        """After end_file(): where a read of the same file, grown, goes on (for begin_file(at=))."""
        return {"line": self.lineno, "offset": self.next_off, "tz_server": self.tz_server,
                "tz_prefix": self.tz_prefix, "ref_us": self.ref_us}

    def feed(self, data: bytes):
        at = self.base_off + self.stats.bytes  # offset of data[0]
        self.stats.bytes += len(data)
        start = 0
        n = len(data)
        while start < n:
            nl = data.find(b"\n", start)
            if nl < 0:
                self._carry_add(data[start:])
                break
            self._carry_add(data[start:nl])
            self.line_off = self.next_off
            self._physical(bytes(self.carry), self.carry_over)
            self.carry.clear()
            self.carry_over = False
            start = nl + 1
            self.next_off = at + start
            if self.pending and self.next_off - self.pending_from > PENDING_LINES * self.max_line:
                self._resolve_pending(final=True)
        self._maybe_flush()

    def _carry_add(self, piece: bytes):
        room = self.max_line - len(self.carry)
        if len(piece) > room:
            self.carry += piece[:max(room, 0)]
            self.carry_over = True
        else:
            self.carry += piece

    def end_file(self) -> dict:
        if self.carry or self.carry_over:
            self.line_off = self.next_off
            self._physical(bytes(self.carry), self.carry_over)
            self.carry.clear()
            self.next_off = self.base_off + self.stats.bytes
        self._release_held()
        self._release_cri()
        self._resolve_pending(final=True)
        self._flush()
        if self.stats.host is None:
            self.stats.host = self.default_host
        return self.stats.as_dict()

    def take_batches(self) -> list[tuple[str, pa.RecordBatch]]:
        out, self._batches = self._batches, []
        return out

    def take_unknown(self) -> list[tuple[int, str]]:
        """[(line, text)] of the unknown lines since the last call (with keep_unknown): the
        payload no grammar read, after its transport prefix."""
        out, self._unknown = self._unknown, []
        return out

    # -- one physical line ----------------------------------------------------------------------

    def _physical(self, raw: bytes, oversized: bool):
        self.lineno += 1
        self.span_end = self.lineno
        self._unknown_cur = None
        st = self.stats
        st.physical += 1
        if oversized:
            st.oversized += 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if self.first:
            self.first = False
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            s = raw.decode("utf-8", "replace")
            st.invalid_utf8 += 1
        if "\x1b" in s:
            s = ANSI.sub("", s)
        boxed = BOXTAIL.sub("", s)
        stripped = boxed.rstrip(" \t")
        # the blanks at the end belong to a CRI partial line's text (the next part continues it)
        self.trail = boxed[len(stripped):] if boxed == s else ""
        s = stripped

        # a wrapped slog record continues on lines that start with white space
        if self.held is not None and s[:1] in (" ", "\t") and self._continues(s):
            self.held.end = self.lineno
            st.continued += 1
            if self.held.add(" " + s.strip(" \t"), self.max_line):
                # the joined record reached the line limit: cut and counted like a long line
                if not oversized:
                    st.oversized += 1
                self._count("malformed")
                self._release_held()
                return
            self._count(oversized and "malformed" or "parsed")
            return
        self._release_held()

        if not s:
            st.blank += 1
            self._count("unknown")
            return
        recs_status = self._line(s, oversized)
        self._count(recs_status)
        if recs_status == "unknown" and self._unknown_cur is not None:
            self._unknown.append(self._unknown_cur)

    def _continues(self, s: str) -> bool:
        body = s.lstrip(" \t")
        if not body:
            return False
        if self.held.in_quote:
            return not (body.startswith("time=") or body.startswith("[GIN]") or JOURNAL.match(body))
        return ATTR_START.match(body) is not None

    def _count(self, status: str):
        setattr(self.stats, status, getattr(self.stats, status) + 1)

    def _line(self, s: str, oversized: bool) -> str:
        """Strip wrappers, classify, emit. Returns the line's status."""
        return _status(self._unwrap(s, Ctx(), oversized), oversized)

    def _unwrap(self, s: str, ctx: Ctx, oversized: bool, depth: int = 0, done=()):
        """Strip the wrappers of `s` and process each payload as soon as it is bare (a JSON
        wrapper may hold several). Returns the payloads' statuses, None for a JSON record."""
        done = set(done)
        if len(s) >= 6 and (s.startswith("time=") or s.startswith("[GIN] ")):
            return [self._payload(s, ctx, oversized)]  # no wrapper starts like a record
        while True:
            s = s.lstrip(" \t")
            if "md" not in done and s.startswith("> "):
                done.add("md")
                s = s[2:]
                continue
            if "spin" not in done and (m := SPINNER.match(s)):
                done.add("spin")
                s = s[m.end():]
                continue
            if "catn" not in done and (m := CATN.match(s)):
                done.add("catn")
                s = s[m.end():]
                continue
            if depth == 0 and "json" not in done and s.startswith("{"):
                done.add("json")
                obj = parse_json_object(s)
                if obj is not None:
                    inner = self._json_wrapper(obj, ctx)
                    if inner is None:
                        continue
                    if inner is True:
                        return None
                    text = inner[:-1] if inner.endswith("\n") else inner
                    out = []
                    for piece in text.split("\n"):
                        piece = piece[:-1] if piece.endswith("\r") else piece
                        out.extend(self._unwrap(piece, ctx, oversized, depth + 1) or [])
                    return out
                continue
            if "ts" not in done and (m := RFC3339.match(s)):
                done.add("ts")
                y, mo, d, h, mi, se = (int(m.group(k)) for k in range(1, 7))
                if valid_civil(y, mo, d, h, mi, se):
                    off = _offset(m.group(8))
                    ctx.t_abs = civil_us(y, mo, d, h, mi, se, frac_to_us(m.group(7) or "")) - off * US
                ctx.transport = "docker"
                s = s[m.end():]
                if (m2 := CRI.match(s)):
                    ctx.transport = "cri"
                    ctx.cri_partial = m2.group(2) == "P"
                    ctx.cri_sep = m2.group(0).endswith(" ")
                    s = ctx.cri_raw = s[m2.end():]
                    done.update(("desk", "journal", "ident", "compose"))
                elif (m2 := SYSLOG_TAIL.match(s)):
                    self._syslog(ctx, m2.group(1), m2.group(2), m2.group(3))
                    s = s[m2.end():]
                    done.update(("journal", "ident"))
                continue
            if "desk" not in done and (m := DESKTOP.match(s)):
                done.add("desk")
                y, mo, d, h, mi, se = (int(m.group(k)) for k in range(1, 7))
                if valid_civil(y, mo, d, h, mi, se):
                    ctx.t_desktop = civil_us(y, mo, d, h, mi, se)
                ctx.transport = "docker-desktop"
                s = s[m.end():]
                continue
            if "journal" not in done and (m := UNIXTS.match(s) or MONO.match(s)) \
                    and (m2 := SYSLOG_TAIL.match(s, m.end())):
                done.update(("journal", "ident"))
                if m.re is UNIXTS:
                    ctx.t_abs = int(m.group(1)) * US + frac_to_us(m.group(2))
                self._syslog(ctx, m2.group(1), m2.group(2), m2.group(3))
                s = s[m2.end():]
                continue
            if "journal" not in done and (m := JOURNAL.match(s)):
                done.update(("journal", "ident"))
                h, mi, se = int(m.group(3)), int(m.group(4)), int(m.group(5))
                if h < 24 and mi < 60 and se < 61:
                    token = s[m.start(1):m.start(2)].rstrip()
                    ctx.t_journal = (int(m.group(2)), (h * 3600 + mi * 60 + se) * US + frac_to_us(m.group(6) or ""),
                                     self.months.get(token))
                    ctx.prefix_time = m.group(1)
                self._syslog(ctx, m.group(7), m.group(8), m.group(9))
                s = s[m.end():]
                continue
            if "ident" not in done and (m := BARE_IDENT.match(s)):
                done.update(("ident", "journal"))
                self._syslog(ctx, None, m.group(1), m.group(2))
                s = s[m.end():]
                continue
            if "compose" not in done and (m := COMPOSE.match(s)):
                done.add("compose")
                ctx.transport = "compose"
                ctx.host = m.group(1)
                s = s[m.end():]
                continue
            return [self._payload(s, ctx, oversized)]

    def _syslog(self, ctx: Ctx, host, ident, pid):
        if ctx.transport in (None, "docker"):
            ctx.transport = "journald"
        if host:
            ctx.host = host
        ctx.ident = ident
        ctx.pid = _int32(pid)

    def _json_wrapper(self, obj, ctx: Ctx):
        """Returns the wrapped text, True when the object was itself a record, None otherwise."""
        d = {}
        for k, v, is_str in obj:
            d.setdefault(k, (v, is_str))
        if "MESSAGE" in d:
            ctx.transport = "journald-json"
            ctx.json = True
            v, is_str = d["MESSAGE"]
            text = v if is_str else _bytes_array(v)
            if text is None:
                return None
            if "_HOSTNAME" in d and d["_HOSTNAME"][1]:
                ctx.host = d["_HOSTNAME"][0]
            if "_PID" in d:
                ctx.pid = _int32(d["_PID"][0])
            ts = d.get("__REALTIME_TIMESTAMP")
            if ts and _is_digits(ts[0]) and len(ts[0]) <= 18:
                ctx.t_abs = int(ts[0])
            return text
        if "log" in d and d["log"][1] and "stream" in d:
            ctx.transport = "docker-json"
            ctx.json = True
            t = d.get("time")
            if t and t[1]:
                ctx.t_abs = _rfc3339_us(t[0])
            return d["log"][0]
        if "msg" in d and d["msg"][1] and ("hostname" in d or "pid" in d) and "level" in d and not d["level"][1]:
            ctx.transport = "pino"
            ctx.json = True
            if "hostname" in d and d["hostname"][1]:
                ctx.host = d["hostname"][0]
            if "pid" in d:
                ctx.pid = _int32(d["pid"][0])
            t = d.get("time")
            if t and not t[1] and _is_digits(t[0]) and len(t[0]) <= 15:
                ctx.t_abs = int(t[0]) * 1000
            return d["msg"][0]
        if "function" in d and "msg" in d and d["msg"][1]:
            rec = Rec(kind="runner")
            rec.level = d["level"][0] if "level" in d and d["level"][1] else None
            rec.source = d["function"][0] if d["function"][1] else None
            rec.msg = d["msg"][0]
            rec.attrs = [(k, v) for k, v, _ in obj if k not in ("function", "level", "msg")]
            ts = d.get("timestamp")
            if ts and not ts[1] and _is_digits(ts[0]) and len(ts[0]) <= 12:
                rec.t_abs = int(ts[0]) * US
            rec.event = self.cat_msg.lookup(rec.msg)
            self._emit(rec, ctx, self.lineno)
            return True
        return None

    # -- grammars ---------------------------------------------------------------------------------

    def _payload(self, p: str, ctx: Ctx, oversized: bool) -> str:
        lineno = self.lineno
        if self.cri is not None and ctx.transport != "cri":
            self._release_cri()
        if ctx.transport == "cri" and (ctx.cri_partial or self.cri is not None):
            return self._cri(p, ctx, lineno, oversized)
        if not p.strip(WS):
            self.stats.blank += 1
            return "unknown"
        if p.startswith("time=") or LEVEL_START.match(p) or SLOG_START.match(p):
            if ctx.json or oversized:
                rec = self._slog(p)
                rec.truncated |= oversized
                self._emit(rec, ctx, lineno)
                return "malformed" if rec.malformed else "parsed"
            self.held = Held(lineno, p, ctx)
            self.held.end = max(lineno, self.span_end)
            self.held_off = self.line_off
            return "held"
        recs = self._classify(p, ctx)
        if not recs:
            if self.keep_unknown:
                self._unknown_cur = (lineno, p)
            return "unknown"
        status = "parsed"
        for rec in recs:
            rec.truncated |= oversized
            self._emit(rec, ctx, lineno)
            if rec.malformed:
                status = "malformed"
        return status

    def _release_held(self):
        if self.held is None:
            return
        held, self.held = self.held, None
        rec = self._slog("".join(held.parts))
        rec.truncated |= held.capped
        saved, self.span_end = self.span_end, held.end
        self._emit(rec, held.ctx, held.lineno)
        self.span_end = saved
        if rec.malformed:  # the first line was counted parsed when it was held
            self.stats.parsed -= 1
            self.stats.malformed += 1

    def _cri(self, p: str, ctx: Ctx, lineno: int, oversized: bool) -> str:
        if self.cri is None:
            self.cri = Joined(lineno, ctx)
            self.cri_off = self.line_off
        else:
            p = ctx.cri_raw  # a later part continues the text as it is, blanks included
        self.cri.end = self.lineno
        if ctx.cri_partial:
            p += self.trail if ctx.cri_sep else self.trail[1:]
        if self.cri.add(p, self.max_line) and not oversized:
            self.stats.oversized += 1  # the joined record reached the line limit: cut
        self.cri.capped |= oversized
        if ctx.cri_partial:
            self.stats.continued += 1
            return "malformed" if self.cri.capped else "parsed"
        return self._release_cri()

    def _release_cri(self) -> str:
        """The joined CRI record, read as the line it was before Kubernetes cut it."""
        if self.cri is None:
            return "unknown"
        cri, self.cri = self.cri, None
        ctx = cri.ctx
        ctx.cri_partial = False
        saved, saved_off, saved_end = self.lineno, self.line_off, self.span_end
        self.lineno, self.line_off, self.span_end = cri.lineno, self.cri_off, cri.end
        try:
            status = _status(self._unwrap("".join(cri.parts), ctx, cri.capped,
                                          done=("ts", "desk", "journal", "ident", "compose")), cri.capped)
            self._release_held()
        finally:
            self.lineno, self.line_off, self.span_end = saved, saved_off, saved_end
        return status

    def _slog(self, text: str) -> Rec:
        pairs, truncated, malformed = parse_kv(text)
        rec = Rec(kind="slog", truncated=truncated, malformed=malformed)
        for k, v in pairs:
            if k == "time" and rec.t_abs is None and not rec.attrs and rec.msg is None:
                m = SLOG_TIME.fullmatch(v)
                if m and valid_civil(*(int(m.group(i)) for i in range(1, 7))):
                    rec.t_abs = _abs_us(m)
                    off = _offset(m.group(8))
                    if self.tz_server != off:
                        self.tz_server = off
                        self._resolve_pending()
                else:
                    rec.malformed = True
            elif k == "level" and rec.level is None and rec.msg is None:
                rec.level = v
            elif k == "source" and rec.source is None and rec.msg is None:
                rec.source = v
            elif k == "msg" and rec.msg is None:
                rec.msg = v
            else:
                rec.attrs.append((k, v))
        if rec.msg is not None:
            rec.event = self.cat_msg.lookup(rec.msg)
        return rec

    def _classify(self, p: str, ctx: Ctx) -> list[Rec]:
        if p.startswith("[GIN] "):
            return [self._gin(p)]
        if p.startswith("[GIN") or p.startswith("[Recovery]"):
            end = p.find("] ")
            return [Rec(kind="gin", msg=p[end + 2:] if end >= 0 else p)]
        if (m := GOLOG.match(p)):
            return [self._golog(m, p)]
        if (m := EXTSRV.fullmatch(p)):
            rest = m.group(3)
            bar = rest.find(" | ")
            rec = Rec(kind="runner", level=m.group(1), source=m.group(2))
            if bar >= 0:
                rec.msg = rest[:bar].strip(WS)
                rec.attrs, rec.truncated, rec.malformed = parse_kv(rest, bar + 3)
            else:
                rec.msg = rest.strip(WS)
            for k, v in rec.attrs:
                if k == "timestamp" and _is_digits(v) and len(v) <= 12:
                    rec.t_abs = int(v) * US
                    break
            rec.event = self.cat_msg.lookup(rec.msg)
            return [rec]
        if (m := GLUED.search(p)) and m.start() > 0:
            # text glued in front of a slog record: the text is read on its own
            head = p[:m.start()].rstrip(" \t")
            recs = self._classify_plain(head, ctx) or [Rec(kind="fragment", msg=head)]
            return recs + [self._slog(p[m.start():])]
        return self._classify_plain(p, ctx)

    def _classify_plain(self, p: str, ctx: Ctx) -> list[Rec]:
        if PANIC.match(p) or _go_frame(p):
            return [Rec(kind="panic", msg=p.rstrip(WS), event="panic" if PANIC_START.match(p) else None)]
        if PROBE.match(p):
            return [Rec(kind="probe", msg=p.rstrip(WS))]
        if ctx.ident == "systemd" or SYSTEM.match(p):
            return [Rec(kind="system", source=ctx.ident if ctx.ident == "systemd" else None, msg=p.rstrip(WS))]
        if (m := FUNC.match(p)) or (m := MODULE_FUNC.match(p)):
            return [self._native(m.group(1), (m.group(2) or "").strip(" \t"))]
        if p.startswith("Device ") or p.startswith("[SYCL] ") or NATIVE_ERR.match(p) or p.rstrip(". ") == "" \
                or p.startswith("..."):
            return [self._native(None, p.strip(" \t"))]
        return self._bare(p)

    def _native(self, source: str | None, msg: str) -> Rec:
        rec = Rec(kind="llama", source=source, msg=msg)
        kv = _kv_dump(msg)
        if kv is not None:
            rec.attrs = [kv]
        else:
            eq = msg.find("=")
            if eq > 0:
                key = msg[:eq].rstrip(" \t")
                if NATIVE_KEY.fullmatch(key):
                    rec.attrs = [(key, msg[eq + 1:].strip(" \t"))]
        rec.event = self.cat_native.lookup(msg)
        return rec

    def _gin(self, p: str) -> Rec:
        m = GIN.match(p)
        rec = Rec(kind="gin")
        if not m:
            rec.malformed = True
            rec.request = (None, None, None, None, None)
            return rec
        y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
        if valid_civil(y, mo, d, h, mi, se):
            rec.t_local = civil_us(y, mo, d, h, mi, se)
        else:
            rec.malformed = True
        parts = p[m.end():].split("|", 3)
        status = latency = client = method = path = None
        if len(parts) >= 1:
            t = parts[0].strip(WS)
            if _is_digits(t) and len(t) <= 4:
                status = int(t)
            elif t:
                rec.malformed = True
        if len(parts) >= 2:
            latency = parse_duration_ms(parts[1])
            if latency is None and parts[1].strip(WS):
                rec.malformed = True
        if len(parts) >= 3:
            client = parts[2].strip(" ")
        if len(parts) >= 4:
            mp = METHOD.match(parts[3])
            if mp:
                method = mp.group(1)
                rest = parts[3][mp.end():]
                if rest.startswith('"'):
                    path, _, ok = go_unquote(rest, 0)
                    rec.truncated |= not ok
                else:
                    rec.truncated = True
            else:
                rec.truncated = True
        else:
            rec.truncated = True
        rec.request = (status, latency, client, method, path)
        return rec

    def _golog(self, m, p: str) -> Rec:
        y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
        rec = Rec(kind="log")
        if valid_civil(y, mo, d, h, mi, se):
            rec.t_local = civil_us(y, mo, d, h, mi, se, frac_to_us(m.group(7) or ""))
        else:
            rec.malformed = True
        self._golog_rest(rec, p[m.end():])
        return rec

    def _golog_rest(self, rec: Rec, rest: str) -> None:
        """`[file.go:N: ][LEVEL ]message key=value ...` of a Go log line."""
        if (m2 := GOLOG_SRC.match(rest)):
            rec.source = m2.group(1)
            rest = rest[m2.end():]
        if (m2 := GOLOG_LEVEL.match(rest)):
            rec.level = m2.group(1)
            rest = rest[m2.end():]
        b = ATTR_BOUNDARY.search(rest)
        if b:
            rec.msg = rest[:b.start()].strip(" ")
            rec.attrs, rec.truncated, mal = parse_kv(rest, b.start())
            rec.malformed |= mal
        else:
            rec.msg = rest.rstrip(" ")
        rec.event = self.cat_msg.lookup(rec.msg)

    def _bare(self, p: str) -> list[Rec]:
        """A record whose prefix a pipeline cut or a viewer never showed: a Go log line from its
        `file.go:N:`, or a catalogued message followed by its attributes (`offload to cuda
        layers.requested=-1 ...`, `"new model will fit ..." model=...`). Read only when the
        catalogue knows the message, so that free text stays unknown."""
        if GOLOG_SRC.match(p):
            rec = Rec(kind="log")
            self._golog_rest(rec, p)
            if not rec.msg:
                return []
        else:
            rec = Rec(kind="slog")
            if p.startswith('"'):
                msg, i, ok = go_unquote(p, 0)
                if not ok or (i < len(p) and p[i] != " "):
                    return []
                rec.msg = msg
                rec.attrs, rec.truncated, rec.malformed = parse_kv(p, i)
            elif (b := ATTR_BOUNDARY.search(p)):
                rec.msg = p[:b.start()].strip(" ")
                rec.attrs, rec.truncated, rec.malformed = parse_kv(p, b.start())
            else:
                rec.msg = p.rstrip(" ")
            rec.event = self.cat_msg.lookup(rec.msg) if rec.msg else None
        return [rec] if rec.event is not None else []

    # -- rows and time ------------------------------------------------------------------------------

    def _emit(self, rec: Rec, ctx: Ctx, lineno: int):
        st = self.stats
        # a record starts on the current line, or is the held slog record released by a later line
        offset = self.line_off if lineno == self.lineno else self.held_off
        if st.transport is None:
            st.transport = ctx.transport or "plain"
        host = self.default_host if self.force_host else (ctx.host or self.default_host)
        if st.host is None and ctx.host and not self.force_host:
            st.host = ctx.host
        if rec.request is not None:
            st.gin += 1
            status, latency, client, method, path = rec.request
            row = {"file": self.file, "line": lineno, "byte_offset": offset, "host": host, "time": None, "status": status,
                   "latency_ms": latency, "client": client, "method": method, "path": path,
                   "pid": ctx.pid, "transport": ctx.transport or "plain", "truncated": rec.truncated,
                   "prefix_time": ctx.prefix_time}
            table = self._rq
        else:
            counter = KIND_COUNTER[rec.kind]
            setattr(st, counter, getattr(st, counter) + 1)
            row = {"file": self.file, "line": lineno, "byte_offset": offset, "host": host, "time": None, "level": rec.level,
                   "source": rec.source, "msg": rec.msg, "attrs": rec.attrs, "kind": rec.kind,
                   "event": rec.event, "pid": ctx.pid, "transport": ctx.transport or "plain",
                   "truncated": rec.truncated, "end_line": max(lineno, self.span_end),
                   "prefix_time": ctx.prefix_time}
            table = self._ev
        if not (self.skip_requests if table is self._rq else self.named_only and rec.event is None):
            table.append(row)
        self._time(row, rec, ctx)

    def _time(self, row: dict, rec: Rec, ctx: Ctx):
        # learn the journald/desktop prefix offset from a line that also carries an absolute time
        absolute = rec.t_abs if rec.t_abs is not None else ctx.t_abs
        if absolute is not None:
            if ctx.t_journal is not None:
                sod = absolute % DAY_US
                diff = (ctx.t_journal[1] - sod) // US
                self._set_prefix_tz(round_offset(((diff + 43200) % 86400) - 43200))
            elif ctx.t_desktop is not None:
                self._set_prefix_tz(round_offset((ctx.t_desktop - absolute) // US))
            if self.ref_us is None:
                self.ref_us = absolute
                self._resolve_pending()
            self.ref_us = absolute
            self._settle(row, absolute)
            return
        if rec.t_local is not None:
            self._resolve_or_pend(row, ("server", rec.t_local))
        elif ctx.t_desktop is not None:
            self._resolve_or_pend(row, ("prefix", ctx.t_desktop))
        elif ctx.t_journal is not None:
            self._resolve_or_pend(row, ("journal",) + ctx.t_journal)

    def _set_prefix_tz(self, off: int):
        if self.tz_prefix != off:
            self.tz_prefix = off
            self._resolve_pending()

    def _try(self, spec, final: bool = False):
        kind = spec[0]
        tz = self.tz_server if kind == "server" else (
            self.tz_prefix if self.tz_prefix is not None else self.tz_server)
        if kind == "journal":
            _, day, sod, month = spec
            if self.ref_us is None:
                # no absolute time in the file (yet): at the end, date it from --year or the mtime
                if not final or month is None:
                    return "unresolved" if final else None
                mtime_local = None if self.mtime_us is None else self.mtime_us + (tz or 0) * US
                local = journal_hint_date_us(month, day, sod, self.year, mtime_local)
                if local is None:
                    return "unresolved"
                if tz is None:
                    self.stats.tz_assumed = True
                self.ref_us = local - (tz or 0) * US  # the next prefixes are dated from this one
                return self.ref_us
            if tz is None:
                if not final:
                    return None
                tz, self.stats.tz_assumed = 0, True
            if month is not None:
                local = journal_month_date_us(self.ref_us + tz * US, month, day, sod)
            else:
                local = journal_date_us(self.ref_us + tz * US, day, sod)
            return local - tz * US
        if tz is None:
            if not final:
                return None
            tz, self.stats.tz_assumed = 0, True
        return spec[1] - tz * US

    def _resolve_or_pend(self, row: dict, spec):
        t = self._try(spec)
        if t is None:
            if not self.pending:
                self.pending_from = self.next_off
            self.pending.append((row, spec))
            if len(self.pending) > PENDING_CAP:
                self._resolve_pending(final=True)
        else:
            self._settle(row, t)

    def _resolve_pending(self, final: bool = False):
        if not self.pending:
            return
        keep = []
        for row, spec in self.pending:
            t = self._try(spec, final)
            if t is None:
                keep.append((row, spec))
            elif t == "unresolved":
                self.stats.time_unresolved += 1
            else:
                self._settle(row, t)
        self.pending = keep

    def _settle(self, row: dict, t: int):
        row["time"] = t
        st = self.stats
        if st.first_time is None or t < st.first_time:
            st.first_time = t
        if st.last_time is None or t > st.last_time:
            st.last_time = t

    # -- batches ------------------------------------------------------------------------------------

    def _maybe_flush(self):
        if not self.pending and (len(self._ev) >= self.batch_rows or len(self._rq) >= self.batch_rows):
            self._flush()

    def _flush(self):
        if self._ev:
            self._batches.append(("events", _batch(self._ev, self.ev_schema)))
            self._ev = []
        if self._rq:
            self._batches.append(("requests", _batch(self._rq, self.rq_schema)))
            self._rq = []


def _batch(rows: list[dict], schema: pa.Schema) -> pa.RecordBatch:
    cols = []
    for f in schema:
        vals = [r[f.name] for r in rows]
        if pa.types.is_dictionary(f.type):
            cols.append(pa.array(vals, pa.string()).dictionary_encode())
        else:
            cols.append(pa.array(vals, f.type))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def quote_state(text: str, in_q: bool = False, skip: bool = False) -> tuple[bool, bool]:
    """Go quoting state after `text`, starting from (in_q, skip): whether a quoted string is
    still open, and whether its last backslash escapes the first character of what follows."""
    i = 1 if skip and in_q else 0
    n = len(text)
    while i < n:
        c = text[i]
        if in_q:
            if c == "\\":
                i += 1
            elif c == '"':
                in_q = False
        elif c == '"':
            in_q = True
        i += 1
    return in_q, i > n


class Joined:
    """A record joined from several physical lines, capped like one: its text in parts and its
    size in bytes; past `limit` the rest is cut (at a character boundary) and dropped."""

    def __init__(self, lineno: int, ctx: Ctx):
        self.lineno = lineno
        self.ctx = ctx
        self.parts: list[str] = []
        self.size = 0
        self.capped = False
        self.end = lineno      # the last physical line it holds

    def add(self, piece: str, limit: int) -> bool:
        """Append `piece`; True when this piece reached `limit` (the record is cut from here)."""
        if self.capped:
            return False
        data = piece.encode("utf-8", "surrogatepass")
        if self.size + len(data) > limit:
            k = max(limit - self.size, 0)
            while 0 < k < len(data) and (data[k] & 0xC0) == 0x80:
                k -= 1
            self.parts.append(data[:k].decode("utf-8", "surrogatepass"))
            self.size += k
            self.capped = True
            return True
        self.parts.append(piece)
        self.size += len(data)
        return False


class Held(Joined):
    """A slog record waiting for continuation lines, with the quoting state at its end carried
    piece by piece (never rescanned)."""

    def __init__(self, lineno: int, text: str, ctx: Ctx):
        super().__init__(lineno, ctx)
        self.parts = [text]
        self.size = len(text.encode("utf-8", "surrogatepass"))
        self.in_quote, self.skip = quote_state(text)

    def add(self, piece: str, limit: int) -> bool:
        if super().add(piece, limit):
            return True
        self.in_quote, self.skip = quote_state(piece, self.in_quote, self.skip)
        return False


def _status(statuses, oversized: bool) -> str:
    """A physical line's status from those of its payloads (None: a JSON record)."""
    if statuses is None:
        return "parsed"
    if not statuses:
        return "unknown"
    if "malformed" in statuses or oversized:
        return "malformed"
    if "parsed" in statuses or "held" in statuses:
        return "parsed"
    return "unknown"


def _offset(z: str) -> int:
    if z == "Z":
        return 0
    sign = -1 if z[0] == "-" else 1
    z = z[1:].replace(":", "")
    return sign * (int(z[:2]) * 3600 + int(z[2:4]) * 60)


def _rfc3339_us(text: str) -> int | None:
    m = RFC3339.match(text + " ")
    if m is None or m.end() != len(text) + 1:
        return None
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    if not valid_civil(y, mo, d, h, mi, se):
        return None
    return _abs_us(m)


def _kv_dump(msg: str):
    """`- kv  12:   general.name   str   = Value` -> (key, value); None if not that shape."""
    if not msg.startswith("- kv"):
        return None
    n, i = len(msg), 4

    def run(i, pred):
        j = i
        while j < n and pred(msg[j]):
            j += 1
        return j

    j = run(i, lambda c: c in WS)
    if j == i:
        return None
    i = run(j, lambda c: "0" <= c <= "9")
    if i == j or i >= n or msg[i] != ":":
        return None
    j = run(i + 1, lambda c: c in WS)
    if j == i + 1:
        return None
    k = run(j, lambda c: c not in WS)
    if k == j:
        return None
    key = msg[j:k]
    t = run(k, lambda c: c in WS)
    if t == k:
        return None
    u = run(t, lambda c: c not in WS)
    if u == t:
        return None
    v = run(u, lambda c: c in WS)
    if v >= n or msg[v] != "=":
        return None
    return key, msg[v + 1:].strip(" \t")


def _go_frame(p: str) -> bool:
    """A Go stack frame: `pkg/path.(*T).Method(0xc000, ...)` or `main.main()`."""
    if not p or not (p[0].isascii() and (p[0].isalpha() or p[0] == "_")) or not p.endswith(")"):
        return False
    k = p.find("(")
    if k <= 0:
        return False
    head = p[:k]
    return "." in head and all(c.isascii() and (c.isalnum() or c in "_.-/*") for c in head)


def _abs_us(m) -> int:
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    return civil_us(y, mo, d, h, mi, se, frac_to_us(m.group(7) or "")) - _offset(m.group(8)) * US


def _is_digits(t: str) -> bool:
    return bool(t) and all("0" <= ch <= "9" for ch in t)


def _int32(v) -> int | None:
    """A decimal integer in int32 range, nothing else (no signs but '-', no spaces)."""
    t = v[1:] if v[:1] == "-" else v
    if not _is_digits(t) or len(t) > 10:
        return None
    x = int(v)
    return x if -(2 ** 31) <= x < 2 ** 31 else None


def _bytes_array(text: str) -> str | None:
    """journald JSON sends non-UTF-8 messages as an array of byte values."""
    t = text.strip(WS)
    if not (t.startswith("[") and t.endswith("]")):
        return None
    vals = []
    for x in t[1:-1].split(","):
        x = x.strip(WS)
        if not x:
            continue
        if not _is_digits(x):
            return None
        vals.append(int(x) & 0xFF)
    return bytes(vals).decode("utf-8", "replace")
