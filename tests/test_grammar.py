"""The grammar, piece by piece: the reference parser's value decoders (exact values), then whole
lines through `ollalog.read` on small files, with both engines (wrappers, grammars, hygiene, time)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

import ollalog
from ollalog.reference import FileStats, go_unquote, parse_duration_ms, parse_json_object, parse_kv
from conftest import rows

# ---------------------------------------------------------------------------------------------
# value decoders of the reference parser


@pytest.mark.parametrize("text, expected", [
    (r'"a\nb"', ("a\nb", 6, True)),
    (r'"a\tb"', ("a\tb", 6, True)),
    (r'"say \"hi\""', ('say "hi"', 12, True)),
    (r'"back\\slash"', ("back\\slash", 13, True)),
    (r'"\x41\xc3\xa9"', ("A\u00e9", 14, True)),          # \xHH are bytes: c3 a9 is UTF-8 for é
    (r'"caf\u00e9"', ("caf\u00e9", 11, True)),
    (r'"\U0001F600"', ("\U0001F600", 12, True)),
    (r'"\101"', ("A", 6, True)),                          # octal
    (r'"\q"', ("\\q", 4, True)),                          # unknown escape kept as written
    (r'"\xZZ"', ("\\xZZ", 6, True)),                      # bad hex kept as written
    ('""', ("", 2, True)),
    ('"a" rest', ("a", 3, True)),
    ('"unterminated', ("unterminated", 13, False)),
    ('"ends in backslash\\', ("ends in backslash\\", 19, False)),
], ids=["newline", "tab", "quote", "backslash", "hex-bytes", "u-escape", "U-escape", "octal",
        "unknown-escape", "bad-hex", "empty", "stops-at-quote", "unterminated", "trailing-backslash"])
def test_go_unquote(text, expected):
    assert go_unquote(text, 0) == expected


def test_go_unquote_offset():
    assert go_unquote('key="v w" x=1', 4) == ("v w", 9, True)


@pytest.mark.parametrize("text, expected", [
    ("a=1 b=two", ([("a", "1"), ("b", "two")], False, False)),
    ('msg="hello world" k="v w"', ([("msg", "hello world"), ("k", "v w")], False, False)),
    ('"model layers"=49 x=1', ([("model layers", "49"), ("x", "1")], False, False)),
    ('compute="" x=1', ([("compute", ""), ("x", "1")], False, False)),
    ("k=", ([("k", "")], False, False)),
    ("a=b=c", ([("a", "b=c")], False, False)),
    ("  a=1  b=2 ", ([("a", "1"), ("b", "2")], False, False)),
    ('cmd="x \\"y\\"" n=2', ([("cmd", 'x "y"'), ("n", "2")], False, False)),
    ("a=1 trailing", ([("a", "1")], True, False)),               # key fragment cut at the end: truncated
    ("a=1 bare b=2", ([("a", "1"), ("b", "2")], False, True)),   # bare word mid-line: malformed
    ('total="79.3 Gi', ([("total", "79.3 Gi")], True, False)),   # a pager cut the line
    ('total="79.3 Gi>', ([("total", "79.3 Gi")], True, False)),  # less -S marks the cut with >
    ('a=1 "unterminated key', ([("a", "1")], True, False)),
    ("", ([], False, False)),
], ids=["bare", "quoted-values", "quoted-key", "empty-value", "empty-at-end", "equals-in-value",
        "extra-spaces", "escaped-quotes", "trailing-key-fragment", "bare-word", "pager-cut",
        "pager-cut-marker", "unterminated-key", "empty"])
def test_parse_kv(text, expected):
    assert parse_kv(text) == expected


def test_parse_kv_from_offset():
    assert parse_kv("msg=x | a=1 b=2", 8) == ([("a", "1"), ("b", "2")], False, False)


@pytest.mark.parametrize("text, expected", [
    ("0s", 0.0),
    ("546.252\u00b5s", 0.546252),
    ("2\u03bcs", 0.002),          # Greek mu
    ("1.5us", 0.0015),
    ("10ns", 1e-05),
    ("31.24696ms", 31.24696),
    ("3.83s", 3830.0),
    ("  3.83s  ", 3830.0),
    ("2m3s", 123000.0),
    ("5m0s", 300000.0),
    ("1h2m3.5s", 3723500.0),
])
def test_parse_duration_ms(text, expected):
    assert parse_duration_ms(text) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("text", ["garbage", "", "   ", "3.83", "s", "1m 2s", "-1s", "3.83sx", "ms5"])
def test_parse_duration_ms_garbage(text):
    assert parse_duration_ms(text) is None


@pytest.mark.parametrize("text, expected", [
    ("{}", []),
    (" { } ", []),
    ('{"a":1}', [("a", "1", False)]),
    ('{"a":"b","c":[1,2],"d":{"e":"f"},"g":null,"h":true,"i":-1.5e3}',
     [("a", "b", True), ("c", "[1,2]", False), ("d", '{"e":"f"}', False), ("g", "null", False),
      ("h", "true", False), ("i", "-1.5e3", False)]),
    ('{"a":"\\u00e9\\n\\t\\"\\/"}', [("a", "\u00e9\n\t\"/", True)]),
    ('{"a":"\\ud83d\\ude00"}', [("a", "\U0001F600", True)]),
    ('{"a":"\\ud83d"}', [("a", "\ufffd", True)]),                   # lone surrogate
    ('{"log":"x\\n","stream":"stderr"}', [("log", "x\n", True), ("stream", "stderr", True)]),
    ('{"a":1', None),
    ('{"a" 1}', None),
    ("[1]", None),
    ('{"a":1} x', None),
    ('{"a":"\\q"}', None),
    ('{"a":}', None),
    ('{"a":1,}', None),
    ("{a:1}", None),
    ('{"a":"unterminated}', None),
], ids=["empty", "empty-ws", "number", "mixed", "escapes", "surrogate-pair", "lone-surrogate",
        "docker", "unclosed", "no-colon", "array", "trailing-text", "bad-escape", "no-value",
        "trailing-comma", "bare-key", "unterminated-string"])
def test_parse_json_object(text, expected):
    assert parse_json_object(text) == expected


# ---------------------------------------------------------------------------------------------
# whole lines through ollalog.read

SLOG = ('time=2025-04-27T10:00:00.123+02:00 level=INFO source=routes.go:1238 '
        'msg="Listening on 127.0.0.1:11434 (version 0.6.5)"')
LLAMA = "llm_load_tensors: offloaded 65/65 layers to GPU"
GIN = '[GIN] 2025/04/27 - 10:00:02 | 200 |    3.83s |       127.0.0.1 | POST     "/api/chat"'
COUNTERS = [f for f in FileStats.FIELDS if f != "bytes"]


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


T0 = utc(2025, 4, 27, 8, 0, 0, 123000)  # the time of SLOG


def ev(**kw) -> dict:
    """An expected events row (without `file`): defaults of a plain slog line of host h1; a record
    ends on the line it starts on unless `end_line` says otherwise."""
    row = {"line": 1, "host": "h1", "time": None, "level": None, "source": None, "msg": None, "attrs": [],
           "kind": "slog", "event": None, "pid": None, "transport": "plain", "truncated": False, "end_line": None,
           "prefix_time": None}
    for k in kw:
        assert k in row, k
    row.update(kw)
    if row["end_line"] is None:
        row["end_line"] = row["line"]
    return row


def rq(**kw) -> dict:
    row = {"line": 1, "host": "h1", "time": None, "status": None, "latency_ms": None, "client": None,
           "method": None, "path": None, "pid": None, "transport": "plain", "truncated": False,
           "prefix_time": None}
    for k in kw:
        assert k in row, k
    row.update(kw)
    return row


def listening(**kw) -> dict:
    base = dict(time=T0, level="INFO", source="routes.go:1238",
                msg="Listening on 127.0.0.1:11434 (version 0.6.5)", event="listening")
    base.update(kw)
    return ev(**base)


def offloaded(**kw) -> dict:
    base = dict(kind="llama", source="llm_load_tensors", msg="offloaded 65/65 layers to GPU", event="offloaded")
    base.update(kw)
    return ev(**base)


def counts(t) -> dict:
    """The file's nonzero line counters."""
    (ln,) = t.lines.to_pylist()
    return {k: ln[k] for k in COUNTERS if ln[k]}


def line_row(t) -> dict:
    (ln,) = t.lines.to_pylist()
    return ln


@pytest.fixture
def read_bytes(log_file, engine):
    def read(data: bytes, **kw):
        t = ollalog.read(str(log_file(data)), engine=engine, **kw)
        assert t.errors == []
        return t
    return read


# -- transports ---------------------------------------------------------------------------------

JOURNAL_LOCALES = [
    ("Apr 27", "2025-04-27", (2025, 4, 27)),
    ("avril 27", "2025-04-27", (2025, 4, 27)),
    ("janv. 20", "2025-01-20", (2025, 1, 20)),
    ("de des. 03", "2025-12-03", (2025, 12, 3)),
    ("5\u6708 07", "2025-05-07", (2025, 5, 7)),
    ("\u0438\u044e\u043b 28", "2025-07-28", (2025, 7, 28)),
    ("4\uc6d4 27", "2025-04-27", (2025, 4, 27)),
]


@pytest.mark.parametrize("prefix, date, ymd", JOURNAL_LOCALES,
                         ids=["english", "french", "french-abbrev", "catalan", "chinese", "russian", "korean"])
def test_journald_locales(read_bytes, prefix, date, ymd):
    data = (f"{prefix} 10:00:01 host1 ollama[1234]: {SLOG.replace('2025-04-27', date)}\n"
            f"{prefix} 10:00:05 host1 ollama[1234]: {LLAMA}\n").encode()
    t = read_bytes(data)
    j = dict(host="host1", pid=1234, transport="journald")
    assert rows(t.events) == [
        listening(time=utc(*ymd, 8, 0, 0, 123000), prefix_time=f"{prefix} 10:00:01", **j),
        offloaded(line=2, time=utc(*ymd, 8, 0, 5), prefix_time=f"{prefix} 10:00:05", **j),  # offset from line 1
    ]
    assert counts(t) == {"physical": 2, "parsed": 2, "slog": 1, "llama": 1}
    ln = line_row(t)
    assert (ln["host"], ln["transport"], ln["tz_assumed"]) == ("host1", "journald", False)


def test_journald_without_hostname(read_bytes):
    t = read_bytes(f"Apr 27 10:00:01 ollama[1234]: {SLOG}\n".encode())
    assert rows(t.events) == [listening(pid=1234, transport="journald", prefix_time="Apr 27 10:00:01")]
    assert line_row(t)["host"] == "h1"  # the folder, as no prefix names a host


def test_journald_prefix_offset_differs_from_server(read_bytes):
    """The server logs in UTC, the journal prints local (+02:00) time: prefix-only lines use the
    prefix's own offset, learnt from a line that has both."""
    data = ("Apr 27 10:00:01 host1 ollama[9]: time=2025-04-27T08:00:00.500Z level=INFO source=a.go:1 msg=one\n"
            f"Apr 27 10:00:07 host1 ollama[9]: {LLAMA}\n").encode()
    t = read_bytes(data)
    assert [r["time"] for r in rows(t.events)] == [utc(2025, 4, 27, 8, 0, 0, 500000), utc(2025, 4, 27, 8, 0, 7)]


def test_journald_year_from_nearest_slog_line(read_bytes):
    """A prefix-only line before the first slog line waits for it, and takes the year and month of
    the nearest date with that day: Dec 31 next to a Jan 1 2026 record is 2025-12-31."""
    data = (f"d\u00e9c. 31 23:59:59 host1 ollama[1234]: {LLAMA}\n"
            "janv. 01 00:00:01 host1 ollama[1234]: time=2026-01-01T00:00:00.500+01:00 level=INFO source=x.go:1 msg=first\n"
            ).encode()
    t = read_bytes(data)
    j = dict(host="host1", pid=1234, transport="journald")
    assert rows(t.events) == [
        offloaded(time=utc(2025, 12, 31, 22, 59, 59), prefix_time="d\u00e9c. 31 23:59:59", **j),
        ev(line=2, time=utc(2025, 12, 31, 23, 0, 0, 500000), level="INFO", source="x.go:1", msg="first",
           prefix_time="janv. 01 00:00:01", **j),
    ]
    assert line_row(t)["time_unresolved"] == 0


def test_journald_month_name_beats_nearest_day(read_bytes):
    """With the month's name known, a prefix two months from the slog line keeps its own month."""
    data = (f"Feb 20 10:00:05 host1 ollama[1234]: {LLAMA}\n"
            "Apr 27 10:00:01 host1 ollama[1234]: time=2025-04-27T10:00:00.500+02:00 level=INFO source=x.go:1 msg=m\n"
            ).encode()
    t = read_bytes(data)
    assert [r["time"] for r in rows(t.events)] == [utc(2025, 2, 20, 8, 0, 5), utc(2025, 4, 27, 8, 0, 0, 500000)]


JOURNAL_ONLY = (f"Dec 30 23:59:58 host1 ollama[1234]: {LLAMA}\n"
                f"Dec 31 10:00:05 host1 ollama[1234]: {LLAMA}\n"
                f"Jan 02 08:00:00 host1 ollama[1234]: {LLAMA}\n").encode()


def _set_mtime(path, *ymd_hms):
    ts = utc(*ymd_hms).timestamp()
    import os
    os.utime(path, (ts, ts))


def test_journald_year_from_mtime(log_file, engine):
    """No absolute time anywhere: the year is the one that puts the file's first line at or before the
    file's modification time, and later lines roll over into the next year; times are taken as UTC."""
    p = log_file(JOURNAL_ONLY)
    _set_mtime(p, 2025, 1, 2, 9, 0, 0)
    t = ollalog.read(str(p), engine=engine)
    j = dict(host="host1", pid=1234, transport="journald")
    assert rows(t.events) == [
        offloaded(time=utc(2024, 12, 30, 23, 59, 58), prefix_time="Dec 30 23:59:58", **j),
        offloaded(line=2, time=utc(2024, 12, 31, 10, 0, 5), prefix_time="Dec 31 10:00:05", **j),
        offloaded(line=3, time=utc(2025, 1, 2, 8, 0, 0), prefix_time="Jan 02 08:00:00", **j),
    ]
    ln = line_row(t)
    assert (ln["time_unresolved"], ln["tz_assumed"]) == (0, True)
    assert (ln["first_time"], ln["last_time"]) == (utc(2024, 12, 30, 23, 59, 58), utc(2025, 1, 2, 8, 0, 0))
    _set_mtime(p, 2025, 12, 31, 12, 0, 0)  # a mtime in the first line's year
    t = ollalog.read(str(p), engine=engine)
    assert [r["time"].year for r in rows(t.events)] == [2025, 2025, 2026]


def test_journald_year_option_beats_mtime(log_file, engine):
    p = log_file(JOURNAL_ONLY)
    _set_mtime(p, 2025, 1, 2, 9, 0, 0)
    t = ollalog.read(str(p), engine=engine, year=2019)
    assert [r["time"] for r in rows(t.events)] == [utc(2019, 12, 30, 23, 59, 58), utc(2019, 12, 31, 10, 0, 5),
                                                   utc(2020, 1, 2, 8, 0, 0)]
    assert line_row(t)["time_unresolved"] == 0


def test_journald_year_option_does_not_override_the_log(log_file, engine):
    """--year only dates lines the log itself cannot: a slog time in the file wins."""
    data = (f"Apr 27 10:00:01 host1 ollama[1234]: {SLOG}\nApr 27 10:00:05 host1 ollama[1234]: {LLAMA}\n").encode()
    t = ollalog.read(str(log_file(data)), engine=engine, year=2019)
    assert [r["time"] for r in rows(t.events)] == [T0, utc(2025, 4, 27, 8, 0, 5)]


def test_journald_unknown_month_without_any_dated_line(read_bytes):
    """A month name no locale uses, and no absolute time: the line stays undated and is counted."""
    t = read_bytes(f"Xyzzy 27 10:00:05 host1 ollama[1234]: {LLAMA}\n".encode())
    assert rows(t.events) == [offloaded(host="host1", pid=1234, transport="journald",
                                        prefix_time="Xyzzy 27 10:00:05")]
    ln = line_row(t)
    assert (ln["time_unresolved"], ln["first_time"], ln["last_time"]) == (1, None, None)


def test_journald_stdin_takes_the_year_of_now(tmp_path):
    """On stdin (journalctl | ollalog parse -) there is no file: the year is the one of now."""
    import datetime as dt
    import pyarrow.parquet as pq
    from conftest import run_cli
    out = tmp_path / "out"
    today = dt.datetime.now(dt.timezone.utc)
    prefix = today.strftime("%b %d %H:%M:%S") if today.strftime("%b") in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                                                         "Aug", "Sep", "Oct", "Nov", "Dec") else None
    assert prefix is not None  # the C locale of the test process
    p = run_cli("parse", "-", "-q", "-o", out, input=f"{prefix} host1 ollama[1]: {LLAMA}\n".encode())
    assert p.returncode == 0, p.stderr
    (row,) = pq.read_table(out / "events.parquet").to_pylist()
    assert row["prefix_time"] == prefix
    assert abs((row["time"] - today).total_seconds()) < 120


def test_journalctl_short_iso(read_bytes):
    data = (f"2025-04-27T10:00:01+0200 host1 ollama[1234]: {SLOG}\n"
            f"2025-04-27T10:00:05+0200 host1 ollama[1234]: {LLAMA}\n").encode()
    t = read_bytes(data)
    j = dict(host="host1", pid=1234, transport="journald")
    assert rows(t.events) == [listening(**j), offloaded(line=2, time=utc(2025, 4, 27, 8, 0, 5), **j)]


def test_journalctl_json(read_bytes):
    data = (json.dumps({"__REALTIME_TIMESTAMP": "1745740801000000", "_HOSTNAME": "host1", "_PID": "1234",
                        "MESSAGE": SLOG}) + "\n"
            + json.dumps({"__REALTIME_TIMESTAMP": "1745740805000000", "_HOSTNAME": "host1", "_PID": "1234",
                          "MESSAGE": LLAMA}) + "\n").encode()
    t = read_bytes(data)
    j = dict(host="host1", pid=1234, transport="journald-json")
    assert rows(t.events) == [listening(**j), offloaded(line=2, time=utc(2025, 4, 27, 8, 0, 5), **j)]
    assert counts(t) == {"physical": 2, "parsed": 2, "slog": 1, "llama": 1}


def test_journalctl_json_message_as_byte_array(read_bytes):
    msg = list(b"llm_load_tensors: offloaded 65/65 layers to GPU \xff")
    data = (json.dumps({"__REALTIME_TIMESTAMP": "1745740805000000", "_PID": "1", "MESSAGE": msg}) + "\n").encode()
    t = read_bytes(data)
    assert rows(t.events) == [offloaded(msg="offloaded 65/65 layers to GPU \ufffd", pid=1,
                                        transport="journald-json", time=utc(2025, 4, 27, 8, 0, 5))]


def test_docker_timestamps(read_bytes):
    data = (f"2025-04-27T08:00:01.500000000Z {SLOG}\n"
            f"2025-04-27T08:00:02.250000000Z {GIN}\n").encode()
    t = read_bytes(data)
    assert rows(t.events) == [listening(transport="docker")]
    assert rows(t.requests) == [rq(line=2, time=utc(2025, 4, 27, 8, 0, 2, 250000), status=200, latency_ms=3830.0,
                                   client="127.0.0.1", method="POST", path="/api/chat", transport="docker")]


def test_docker_json_file(read_bytes):
    data = (json.dumps({"log": SLOG + "\n", "stream": "stderr", "time": "2025-04-27T08:00:01.5Z"}) + "\n"
            + json.dumps({"log": LLAMA + "\n", "stream": "stderr", "time": "2025-04-27T08:00:04.25Z"}) + "\n").encode()
    t = read_bytes(data)
    assert rows(t.events) == [listening(transport="docker-json"),
                              offloaded(line=2, time=utc(2025, 4, 27, 8, 0, 4, 250000), transport="docker-json")]
    assert line_row(t)["transport"] == "docker-json"


def test_docker_desktop_prefix_of_an_empty_line(read_bytes):
    t = read_bytes(b"2025-03-06 23:36:39\n2025-03-06 23:36:39 " + LLAMA.encode() + b"\n")
    assert counts(t) == {"physical": 2, "parsed": 1, "unknown": 1, "blank": 1, "llama": 1}


def test_stack_trace_file_lines_with_or_without_a_leading_slash(read_bytes):
    """A viewer that drops the tab of a Go stack trace may also show module paths as they are."""
    t = read_bytes(b"\t/go/src/github.com/ollama/ollama/runner/runner.go:851 +0x375\n"
                   b"github.com/ollama/ollama/runner/llamarunner/runner.go:966 +0xcb7\n"
                   b"not/a.go:12 frame\n")
    assert [r["kind"] for r in rows(t.events)] == ["panic", "panic"]
    assert counts(t) == {"physical": 3, "parsed": 2, "unknown": 1, "panic": 2}


def test_compose_prefix(read_bytes):
    t = read_bytes(f"ollama-1  | {SLOG}\nollama-1  | {LLAMA}\n".encode())
    assert rows(t.events) == [listening(host="ollama-1", transport="compose"),
                              offloaded(line=2, host="ollama-1", transport="compose", time=None)]
    assert line_row(t)["host"] == "ollama-1"


def test_kubernetes_cri_partial_lines_joined(read_bytes):
    data = (b'2025-04-27T08:00:01.5Z stdout P time=2025-04-27T10:00:00.123+02:00 level=INFO source=routes.go:1238 '
            b'msg="Listen\n'
            b'2025-04-27T08:00:01.6Z stdout P ing on 127.0.0.1:11434 (ver\n'
            b'2025-04-27T08:00:01.7Z stdout F sion 0.6.5)"\n'
            b'2025-04-27T08:00:05Z stderr F ' + LLAMA.encode() + b"\n")
    t = read_bytes(data)
    assert rows(t.events) == [listening(transport="cri", end_line=3),
                              offloaded(line=4, transport="cri", time=utc(2025, 4, 27, 8, 0, 5))]
    assert counts(t) == {"physical": 4, "parsed": 4, "continued": 2, "slog": 1, "llama": 1}


def test_kubernetes_cri_partial_split_after_a_space(read_bytes):
    data = (b'2025-04-27T08:00:01.5Z stdout P time=2025-04-27T10:00:00.123+02:00 level=INFO source=routes.go:1238 '
            b'msg="Listening on 127.0.0.1:11434 \n'
            b'2025-04-27T08:00:01.7Z stdout F (version 0.6.5)"\n')
    t = read_bytes(data)
    assert rows(t.events) == [listening(transport="cri", end_line=2)]


def test_kubernetes_cri_partial_split_before_a_space(read_bytes):
    """The next part's leading blanks are text too: `... 127.0.0.1:11434` + ` (version 0.6.5)"`."""
    data = (b'2025-04-27T08:00:01.5Z stdout P time=2025-04-27T10:00:00.123+02:00 level=INFO source=routes.go:1238 '
            b'msg="Listening on 127.0.0.1:11434\n'
            b'2025-04-27T08:00:01.6Z stdout P  \n'
            b'2025-04-27T08:00:01.7Z stdout F (version 0.6.5)"\n')
    t = read_bytes(data)
    assert rows(t.events) == [listening(transport="cri", end_line=3)]
    assert counts(t) == {"physical": 3, "parsed": 3, "continued": 2, "slog": 1}


def test_kubernetes_cri_parts_capped_like_one_line(read_bytes):
    """Parts joined past the line limit: the record is cut there, the part that crossed it and the
    parts after it lost text (malformed), the cut is counted once."""
    part = b"2025-04-27T08:00:01.5Z stdout P " + b"y" * 40 + b"\n"
    data = (b'2025-04-27T08:00:01.5Z stdout P time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg=m v="\n'
            + part * 4 + b'2025-04-27T08:00:01.7Z stdout F end"\n')
    t = read_bytes(data, max_line=150)
    (r,) = rows(t.events)
    assert (r["msg"], r["truncated"]) == ("m", True)
    assert len(r["attrs"][0][1]) == 150 - len(b'time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg=m v="')
    assert counts(t) == {"physical": 6, "parsed": 3, "malformed": 3, "continued": 5, "oversized": 1, "slog": 1}


def test_kubernetes_cri_first_part_blank(read_bytes):
    """A record that starts after blanks reads as it would unsplit."""
    data = (b"2025-04-27T08:00:01.5Z stdout P   llm_load_tensors: offloaded 65/65\n"
            b"2025-04-27T08:00:01.7Z stdout F  layers to GPU\n")
    t = read_bytes(data)
    assert rows(t.events) == [offloaded(transport="cri", time=utc(2025, 4, 27, 8, 0, 1, 500000), end_line=2)]


def test_pino_json_wrapping_two_records(read_bytes):
    second = ('time=2025-04-27T10:00:01.000+02:00 level=INFO source=types.go:130 msg="inference compute" '
              'id=GPU-1 library=cuda')
    data = (json.dumps({"level": 30, "time": 1745740801000, "pid": 7, "hostname": "host1",
                        "msg": SLOG + "\n" + second + "\n"}) + "\n").encode()
    t = read_bytes(data)
    p = dict(host="host1", pid=7, transport="pino")
    assert rows(t.events) == [
        listening(**p),
        ev(time=utc(2025, 4, 27, 8, 0, 1), level="INFO", source="types.go:130", msg="inference compute",
           attrs=[("id", "GPU-1"), ("library", "cuda")], event="inference_compute", **p),
    ]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 2}


# -- hygiene ------------------------------------------------------------------------------------


def test_ansi_coloured_gin_line(read_bytes):
    data = (b"\x1b[90m[GIN]\x1b[0m 2025/04/27 - 10:00:02 |\x1b[97;42m 200 \x1b[0m|    3.83s |       127.0.0.1 |"
            b"\x1b[97;46m POST    \x1b[0m \"/api/chat\"\n" + SLOG.encode() + b"\n")
    t = read_bytes(data)
    assert rows(t.requests) == [rq(time=utc(2025, 4, 27, 8, 0, 2), status=200, latency_ms=3830.0,
                                   client="127.0.0.1", method="POST", path="/api/chat")]
    assert rows(t.events) == [listening(line=2)]


def test_crlf(read_bytes):
    t = read_bytes(f"{SLOG}\r\n{LLAMA}\r\n{GIN}\r\n".encode())
    assert rows(t.events) == [listening(), offloaded(line=2)]
    assert rows(t.requests) == [rq(line=3, time=utc(2025, 4, 27, 8, 0, 2), status=200, latency_ms=3830.0,
                                   client="127.0.0.1", method="POST", path="/api/chat")]
    assert counts(t) == {"physical": 3, "parsed": 3, "slog": 1, "llama": 1, "gin": 1}


def test_bom(read_bytes):
    t = read_bytes(b"\xef\xbb\xbf" + SLOG.encode() + b"\n")
    assert rows(t.events) == [listening()]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1}


def test_invalid_utf8_replaced_and_counted(read_bytes):
    data = (b'time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg="bad \xff\xfe byte"\n'
            b"llm_load_tensors: offloaded 65/65 layers to GPU \xc3\n"
            + SLOG.encode() + b"\n")
    t = read_bytes(data)
    assert rows(t.events) == [
        ev(time=T0, level="INFO", source="x.go:1", msg="bad \ufffd\ufffd byte"),
        offloaded(line=2, msg="offloaded 65/65 layers to GPU \ufffd"),
        listening(line=3),
    ]
    assert counts(t) == {"physical": 3, "parsed": 3, "invalid_utf8": 2, "slog": 2, "llama": 1}


def test_blank_and_unknown_lines(read_bytes):
    t = read_bytes(b"\n  \n\t\nsomething nobody prints\n")
    assert rows(t.events) == []
    assert counts(t) == {"physical": 4, "unknown": 4, "blank": 3}


def test_last_line_without_newline(read_bytes):
    t = read_bytes(SLOG.encode())
    assert rows(t.events) == [listening()]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1}


# -- slog records over several lines, and cut records ---------------------------------------------


def test_slog_record_wrapped_onto_continuation_lines(read_bytes):
    data = (b"time=2025-04-27T10:00:00.123+02:00 level=INFO source=server.go:100 msg=offload library=cuda "
            b"layers.requested=-1\n"
            b"  layers.model=65 layers.offload=0\n"
            b'    memory.available="[23.3 GiB]" memory.required.full="85.7 GiB"\n'
            b"time=2025-04-27T10:00:01.000+02:00 level=INFO source=x.go:1 msg=next\n")
    t = read_bytes(data)
    assert rows(t.events) == [
        ev(time=T0, level="INFO", source="server.go:100", msg="offload", event="offload",
           attrs=[("library", "cuda"), ("layers.requested", "-1"), ("layers.model", "65"),
                  ("layers.offload", "0"), ("memory.available", "[23.3 GiB]"),
                  ("memory.required.full", "85.7 GiB")], end_line=3),
        ev(line=4, time=utc(2025, 4, 27, 8, 0, 1), level="INFO", source="x.go:1", msg="next"),
    ]
    assert counts(t) == {"physical": 4, "parsed": 4, "continued": 2, "slog": 2}


def test_quoted_value_split_across_lines(read_bytes):
    data = (b'time=2025-04-27T10:00:00.123+02:00 level=INFO source=server.go:376 msg="starting llama server" '
            b'cmd="/usr/bin/ollama runner --model /m\n'
            b'  --ctx-size 8192 --parallel 1" port=1234\n')
    t = read_bytes(data)
    assert rows(t.events) == [
        ev(time=T0, level="INFO", source="server.go:376", msg="starting llama server", event="starting_runner",
           attrs=[("cmd", "/usr/bin/ollama runner --model /m --ctx-size 8192 --parallel 1"), ("port", "1234")],
           end_line=2),
    ]
    assert counts(t) == {"physical": 2, "parsed": 2, "continued": 1, "slog": 1}


def test_trailing_key_fragment_is_truncated_not_malformed(read_bytes):
    t = read_bytes(b"time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg=hello a=1 trailin\n")
    assert rows(t.events) == [ev(time=T0, level="INFO", source="x.go:1", msg="hello", attrs=[("a", "1")],
                                 truncated=True)]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1}


def test_bare_word_mid_line_is_malformed(read_bytes):
    t = read_bytes(b"time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg=hello a=1 bare b=2\n")
    assert rows(t.events) == [ev(time=T0, level="INFO", source="x.go:1", msg="hello",
                                 attrs=[("a", "1"), ("b", "2")])]
    assert counts(t) == {"physical": 1, "malformed": 1, "slog": 1}


def test_bad_slog_time_is_malformed(read_bytes):
    t = read_bytes(b"time=bogus level=INFO msg=x\n")
    assert rows(t.events) == [ev(level="INFO", msg="x")]
    assert counts(t) == {"physical": 1, "malformed": 1, "slog": 1}


def test_pager_cut_value(read_bytes):
    """A terminal cut `"79.3 Gi` | `B" ...`: the first part is parsed with what it holds, the rest is unknown."""
    data = (b'time=2025-04-27T10:00:00.123+02:00 level=INFO source=server.go:1 msg=offload '
            b'memory.required.full="79.3 Gi\n'
            b'B" memory.required.partial="0 B"\n')
    t = read_bytes(data)
    assert rows(t.events) == [ev(time=T0, level="INFO", source="server.go:1", msg="offload", event="offload",
                                 attrs=[("memory.required.full", "79.3 Gi")], truncated=True)]
    assert counts(t) == {"physical": 2, "parsed": 1, "unknown": 1, "slog": 1}


STACK = b"\t/go/src/github.com/ollama/ollama/server/routes.go:%d +0x1d\n"
STRAY = (b'time=2025-04-27T10:00:00.123+02:00 level=DEBUG source=server.go:620 msg="completion request" '
         b'prompt="say \\"hi\\" and a stray one\n')


def test_unterminated_quote_joins_indented_lines_up_to_the_limit(read_bytes):
    """A quote that never closes takes the indented lines after it, like any wrapped value, but
    only up to the line limit: the joined record is cut there and counted, the rest is read on
    its own."""
    data = STRAY + b"".join(STACK % i for i in range(10)) + SLOG.encode() + b"\n"
    t = read_bytes(data, max_line=300)
    got = rows(t.events)
    first = got[0]
    assert (first["msg"], first["truncated"], first["event"]) == ("completion request", True, None)
    (key, value), = first["attrs"]
    assert key == "prompt" and value.startswith('say "hi" and a stray one /go/src/')
    assert [r["kind"] for r in got[1:]] == ["panic"] * 7 + ["slog"]
    assert got[1]["msg"] == "/go/src/github.com/ollama/ollama/server/routes.go:3 +0x1d"
    assert counts(t) == {"physical": 12, "parsed": 11, "malformed": 1, "continued": 3, "oversized": 1,
                         "slog": 2, "panic": 7}


def test_unterminated_quote_two_megabytes(read_bytes):
    """The shape that took minutes when the quote was rescanned for every line: a stray quote, then
    2 MB of an indented stack trace. (Its speed is measured in benchmarks/stray_quote.py.)"""
    n = 2_000_000 // len(STACK % 100)
    data = STRAY + b"".join(STACK % (100 + i % 900) for i in range(n))
    t = read_bytes(data)
    ln = line_row(t)
    assert (ln["physical"], ln["oversized"], ln["malformed"]) == (n + 1, 1, 1)
    piece = len(STACK % 100) - 1  # a joined line: one blank for the tab, no newline
    assert ln["continued"] == ((1 << 20) - (len(STRAY) - 1)) // piece + 1
    first = rows(t.events)[0]
    assert first["truncated"] and len(first["attrs"][0][1].encode()) < 1 << 20
    assert ln["panic"] == n - ln["continued"]


def test_quote_state_carried_across_lines(read_bytes):
    """An escaped backslash at the end of a line does not escape the joining blank, an escaped
    quote does not close the value, and the record closes where the quote does."""
    data = (b'time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg=m a="x\\\\\n'
            b'  y\\" z\n'
            b'  w" b=2\n'
            b"  not=joined-after-close c=3\n")
    t = read_bytes(data)
    (r,) = rows(t.events)
    assert r["attrs"] == [("a", 'x\\ y" z w'), ("b", "2"), ("not", "joined-after-close"), ("c", "3")]
    assert counts(t) == {"physical": 4, "parsed": 4, "continued": 3, "slog": 1}


GLUED_SLOG = ('time=2025-08-08T14:28:48.819Z level=WARN source=gpu.go:434 msg="error looking up nvidia GPU memory"')


def test_glued_text_before_a_record(read_bytes):
    t = read_bytes(f"failed to get device context 800{GLUED_SLOG}\n".encode())
    assert rows(t.events) == [
        ev(kind="fragment", msg="failed to get device context 800"),
        ev(time=utc(2025, 8, 8, 14, 28, 48, 819000), level="WARN", source="gpu.go:434",
           msg="error looking up nvidia GPU memory", event="gpu_error"),
    ]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1, "other": 1}


def test_glued_probe_text_two_events(read_bytes):
    t = read_bytes(f"cuda driver library failed to get device context 800{GLUED_SLOG}\n".encode())
    assert rows(t.events) == [
        ev(kind="probe", msg="cuda driver library failed to get device context 800"),
        ev(time=utc(2025, 8, 8, 14, 28, 48, 819000), level="WARN", source="gpu.go:434",
           msg="error looking up nvidia GPU memory", event="gpu_error"),
    ]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1, "probe": 1}


def test_glued_llama_line_keeps_its_grammar(read_bytes):
    """Runner output and a server record on one line: each is read by its own grammar."""
    t = read_bytes(f"{LLAMA}{GLUED_SLOG}\n".encode())
    assert rows(t.events) == [
        offloaded(),
        ev(time=utc(2025, 8, 8, 14, 28, 48, 819000), level="WARN", source="gpu.go:434",
           msg="error looking up nvidia GPU memory", event="gpu_error"),
    ]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1, "llama": 1}


# -- records whose prefix was cut or never shown ------------------------------------------------

OFFLOAD_ATTRS = [("layers.requested", "-1"), ("layers.model", "33"), ("layers.offload", "33"),
                 ("memory.available", "[23.3 GiB]")]
OFFLOAD_TAIL = 'layers.requested=-1 layers.model=33 layers.offload=33 memory.available="[23.3 GiB]"'


@pytest.mark.parametrize("line, level, source", [
    (f'level=INFO source=memory.go:326 msg="offload to cuda" {OFFLOAD_TAIL}', "INFO", "memory.go:326"),
    (f'source=memory.go:326 msg="offload to cuda" {OFFLOAD_TAIL}', None, "memory.go:326"),
    (f'msg="offload to cuda" {OFFLOAD_TAIL}', None, None),
], ids=["from-level", "from-source", "from-msg"])
def test_slog_record_with_its_front_cut(read_bytes, line, level, source):
    t = read_bytes((line + "\n").encode())
    assert rows(t.events) == [ev(level=level, source=source, msg="offload to cuda", attrs=OFFLOAD_ATTRS,
                                 event="offload")]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1}


@pytest.mark.parametrize("line, msg, attrs, event", [
    (f"offload to cuda {OFFLOAD_TAIL}", "offload to cuda", OFFLOAD_ATTRS, "offload"),
    ('"new model will fit in available VRAM in single GPU, loading" model=/m/blobs/sha256-abc gpu=GPU-1 '
     'parallel=4 available=25314983936 required="6.2 GiB"',
     "new model will fit in available VRAM in single GPU, loading",
     [("model", "/m/blobs/sha256-abc"), ("gpu", "GPU-1"), ("parallel", "4"), ("available", "25314983936"),
      ("required", "6.2 GiB")], "new_model_fits"),
    ("llama runner started in 3.52 seconds", "llama runner started in 3.52 seconds", [], "runner_started"),
], ids=["message-and-attributes", "quoted-message", "message-alone"])
def test_message_text_without_prefix(read_bytes, line, msg, attrs, event):
    """What a log viewer shows of a record (its message and attributes): read when the catalogue
    knows the message."""
    t = read_bytes((line + "\n").encode())
    assert rows(t.events) == [ev(msg=msg, attrs=attrs, event=event)]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1}


def test_slog_record_cut_inside_its_time(read_bytes):
    """`cut -c20-` or a terminal left half a time in front: the record is read from its level."""
    t = read_bytes(f'24:57.123+02:00 level=INFO source=memory.go:326 msg="offload to cuda" {OFFLOAD_TAIL}\n'.encode())
    assert rows(t.events) == [ev(kind="fragment", msg="24:57.123+02:00"),
                              ev(level="INFO", source="memory.go:326", msg="offload to cuda", attrs=OFFLOAD_ATTRS,
                                 event="offload")]
    assert counts(t) == {"physical": 1, "parsed": 1, "slog": 1, "other": 1}


def test_go_log_line_without_its_time(read_bytes):
    t = read_bytes(b'routes.go:1197: INFO server config env="map[OLLAMA_NUM_PARALLEL:2]"\n')
    assert rows(t.events) == [ev(kind="log", level="INFO", source="routes.go:1197", msg="server config",
                                 attrs=[("env", "map[OLLAMA_NUM_PARALLEL:2]")], event="server_config")]


@pytest.mark.parametrize("line", ["some words a user typed key=value", "x.go:12: key=value", "offloadx to a=1",
                                  '"quoted words" and more', "weather=fine today"])
def test_free_text_with_attributes_stays_unknown(read_bytes, line):
    t = read_bytes((line + "\n").encode())
    assert rows(t.events) == []
    assert counts(t) == {"physical": 1, "unknown": 1}


def test_pager_cut_bare_value_is_dropped(read_bytes):
    """`less -S` marks a line cut at the terminal width with `>`: a bare value cut there is a
    fragment (33 might have been 3), so it is dropped and the record flagged; `<nil>` is a value."""
    t = read_bytes(b"time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg=offload layers.model=33 "
                   b"layers.offload=3>\n"
                   b"time=2025-04-27T10:00:00.123+02:00 level=INFO source=x.go:1 msg=done error=<nil>\n")
    a, b = rows(t.events)
    assert (a["attrs"], a["truncated"]) == ([("layers.model", "33")], True)
    assert (b["attrs"], b["truncated"]) == ([("error", "<nil>")], False)


# -- other grammars -----------------------------------------------------------------------------


def test_go_log_server_config(read_bytes):
    data = (b'2025/04/27 10:00:00 routes.go:1259: INFO server config env="map[CUDA_VISIBLE_DEVICES: '
            b'OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_NUM_PARALLEL:2]"\n'
            b"2025/04/27 10:00:00.250000 plain go log message\n"
            + SLOG.encode() + b"\n")
    t = read_bytes(data)
    assert rows(t.events) == [
        ev(kind="log", time=utc(2025, 4, 27, 8, 0, 0), level="INFO", source="routes.go:1259", msg="server config",
           event="server_config",
           attrs=[("env", "map[CUDA_VISIBLE_DEVICES: OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_NUM_PARALLEL:2]")]),
        ev(line=2, kind="log", time=utc(2025, 4, 27, 8, 0, 0, 250000), msg="plain go log message"),
        listening(line=3),
    ]
    assert counts(t) == {"physical": 3, "parsed": 3, "log": 2, "slog": 1}


def test_ext_server_lines(read_bytes):
    data = (b'INFO [main] build info | build=1 commit="abc1234" tid="140" timestamp=1745740800\n'
            b"INFO [main] model loaded | tid=\"1\" timestamp=1745740812\n"
            b"WARN [server_params_parse] warning without attrs\n")
    t = read_bytes(data)
    assert rows(t.events) == [
        ev(kind="runner", time=utc(2025, 4, 27, 8, 0, 0), level="INFO", source="main", msg="build info",
           attrs=[("build", "1"), ("commit", "abc1234"), ("tid", "140"), ("timestamp", "1745740800")]),
        ev(line=2, kind="runner", time=utc(2025, 4, 27, 8, 0, 12), level="INFO", source="main", msg="model loaded",
           attrs=[("tid", "1"), ("timestamp", "1745740812")], event="runner_started"),
        ev(line=3, kind="runner", level="WARN", source="server_params_parse", msg="warning without attrs"),
    ]
    assert counts(t) == {"physical": 3, "parsed": 3, "runner": 3}


def test_llama_cpp_lines(read_bytes):
    data = (b"llm_load_tensors: offloaded 65/65 layers to GPU\n"
            b"llama_new_context_with_model: n_ctx      = 262144\n"
            b"llm_load_print_meta: general.name     = DeepSeek R1 Distill Qwen 32B\n"
            b"llama_model_loader: - kv   0:                       general.architecture str              = qwen2\n"
            b"llm_load_tensors:        CUDA0 model buffer size = 18926.01 MiB\n"
            b"ggml_cuda_init: found 1 CUDA devices:\n")
    t = read_bytes(data)
    L = dict(kind="llama")
    assert rows(t.events) == [
        offloaded(),
        ev(line=2, source="llama_new_context_with_model", msg="n_ctx      = 262144", attrs=[("n_ctx", "262144")],
           event="n_ctx", **L),
        ev(line=3, source="llm_load_print_meta", msg="general.name     = DeepSeek R1 Distill Qwen 32B",
           attrs=[("general.name", "DeepSeek R1 Distill Qwen 32B")], event="model_param", **L),
        ev(line=4, source="llama_model_loader",
           msg="- kv   0:                       general.architecture str              = qwen2",
           attrs=[("general.architecture", "qwen2")], event="gguf_kv", **L),
        ev(line=5, source="llm_load_tensors", msg="CUDA0 model buffer size = 18926.01 MiB",
           attrs=[("CUDA0 model buffer size", "18926.01 MiB")], event="buffer", **L),
        ev(line=6, source="ggml_cuda_init", msg="found 1 CUDA devices:", **L),
    ]
    assert counts(t) == {"physical": 6, "parsed": 6, "llama": 6}


def test_gin_rows(read_bytes):
    data = ("[GIN] 2025/04/27 - 10:00:02 | 200 |     546.252\u00b5s |       127.0.0.1 | GET      \"/api/tags\"\n"
            "[GIN] 2025/04/27 - 10:00:03 | 500 |          2m3s |    ::1 | POST     \"/api/generate\"\n"
            "[GIN] 2025/04/27 - 10:00:04 | 404 |       0s | 10.0.0.2 | HEAD     \"/\"\n"
            "[GIN] 2025/04/27 - 10:00:05 | 200 |    1.2s | 127.0.0.1 | POST     \"/api/ch\n"
            "[GIN-debug] POST   /api/pull                 --> github.com/ollama/ollama/server.(*Server).PullHandler-fm (5 handlers)\n"
            + SLOG + "\n").encode()
    t = read_bytes(data)
    assert rows(t.requests) == [
        rq(time=utc(2025, 4, 27, 8, 0, 2), status=200, latency_ms=pytest.approx(0.546252, rel=1e-12),
           client="127.0.0.1", method="GET", path="/api/tags"),
        rq(line=2, time=utc(2025, 4, 27, 8, 0, 3), status=500, latency_ms=123000.0, client="::1", method="POST",
           path="/api/generate"),
        rq(line=3, time=utc(2025, 4, 27, 8, 0, 4), status=404, latency_ms=0.0, client="10.0.0.2", method="HEAD",
           path="/"),
        rq(line=4, time=utc(2025, 4, 27, 8, 0, 5), status=200, latency_ms=1200.0, client="127.0.0.1",
           method="POST", path="/api/ch", truncated=True),
    ]
    assert rows(t.events) == [
        ev(line=5, kind="gin",
           msg="POST   /api/pull                 --> github.com/ollama/ollama/server.(*Server).PullHandler-fm (5 handlers)"),
        listening(line=6),
    ]
    assert counts(t) == {"physical": 6, "parsed": 6, "gin": 4, "other": 1, "slog": 1}


# -- time zones ---------------------------------------------------------------------------------


def test_gin_before_first_slog_takes_its_offset(read_bytes):
    data = (f"{GIN}\n2025/04/27 09:59:59 routes.go:1: INFO starting\n{SLOG}\n").encode()
    t = read_bytes(data)
    assert [r["time"] for r in rows(t.requests)] == [utc(2025, 4, 27, 8, 0, 2)]
    assert [r["time"] for r in rows(t.events)] == [utc(2025, 4, 27, 7, 59, 59), T0]
    ln = line_row(t)
    assert (ln["tz_assumed"], ln["first_time"], ln["last_time"]) == (False, utc(2025, 4, 27, 7, 59, 59),
                                                                      utc(2025, 4, 27, 8, 0, 2))


def test_offset_follows_the_latest_slog_line(read_bytes):
    data = (f"{SLOG}\n{GIN}\n"
            "time=2025-04-27T09:00:05.000+01:00 level=INFO source=x.go:1 msg=later\n"
            "[GIN] 2025/04/27 - 09:00:06 | 200 |    1s |       127.0.0.1 | POST     \"/api/chat\"\n").encode()
    t = read_bytes(data)
    assert [r["time"] for r in rows(t.requests)] == [utc(2025, 4, 27, 8, 0, 2), utc(2025, 4, 27, 8, 0, 6)]


def test_file_without_slog_line_assumes_utc(read_bytes):
    t = read_bytes(f"{GIN}\n2025/04/27 09:59:59 routes.go:1: INFO starting\n".encode())
    assert [r["time"] for r in rows(t.requests)] == [utc(2025, 4, 27, 10, 0, 2)]
    assert [r["time"] for r in rows(t.events)] == [utc(2025, 4, 27, 9, 59, 59)]
    assert line_row(t)["tz_assumed"] is True


def test_file_with_slog_line_does_not_assume(read_bytes):
    t = read_bytes(f"{SLOG}\n".encode())
    assert line_row(t)["tz_assumed"] is False


# -- what the parser does not read ---------------------------------------------------------------


@pytest.mark.parametrize("text, want", [
    ("hello 12 world", "hello <n> world"),
    ("at 2025-03-06 23:36:39.5 took 1,5 s", "at <n>-<n>-<n> <n> took <n> s"),
    ("model /m/blobs/sha256-6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93 gone",
     "model /m/blobs/<digest> gone"),
    ("device GPU-6f3c2a1e-1111-2222 and 0xc000123456", "device GPU-<id> and <addr>"),
    ("tid deadbeef12 vs decade", "tid <hex> vs decade"),
    ("  spaced\t\tout  ", "spaced out"),
])
def test_unknown_shape(text, want):
    from ollalog.unknown import shape
    assert shape(text) == want


def test_unknown_lines_kept_by_both_engines(log_file, engine):
    """The lines no grammar read, after their transport prefix, with their line numbers; blank
    lines and blank payloads are not among them."""
    import importlib
    read_batches = importlib.import_module("ollalog.read").read_batches
    data = (f"{SLOG}\nnobody prints this\n\nApr 27 10:00:01 host1 ollama[9]: nor this 42\n"
            "Apr 27 10:00:02 host1 ollama[9]: \n"
            '{"log":"a docker line nobody knows\\n","stream":"stderr","time":"2025-04-27T08:00:01.5Z"}\n'
            f"{LLAMA}\n").encode()
    got = []
    list(read_batches([str(log_file(data))], engine=engine, on_unknown=lambda f, l, t: got.append((l, t))))
    assert got == [(2, "nobody prints this"), (4, "nor this 42"), (6, "a docker line nobody knows")]


APT_HISTORY = b"""
Start-Date: 2025-06-24  14:36:25
Commandline: apt-get -qqy upgrade
Requested-By: admin (1000)
Upgrade: libsystemd0:amd64 (252.36-1~deb12u1, 252.38-1~deb12u1), libudev1:amd64 (252.36-1~deb12u1, 252.38-1~deb12u1)
End-Date: 2025-06-24  14:36:25

Start-Date: 2025-06-24  14:36:29
Commandline: apt-get install -qqy curl git
Install: libssh2-1:amd64 (1.10.0-3+b1, automatic), curl:amd64 (7.88.1-10+deb12u12)
Remove: nano:amd64 (7.2-1)
Purge: vim-tiny:amd64 (2:9.0.1378-2)
End-Date: 2025-06-24  14:37:04
"""


def test_apt_history_is_not_llama_output(read_bytes):
    """`Word: text` lines of other programs are not llama.cpp `function: message` lines."""
    t = read_bytes(APT_HISTORY)
    ln = line_row(t)
    assert (ln["llama"], ln["parsed"], ln["unknown"]) == (0, 0, ln["physical"])
    assert t.events.num_rows == 0


def test_llama_function_lines_still_parse(read_bytes):
    t = read_bytes(b"llm_load_print_meta: n_ctx_train = 131072\n_ggml_init: x\nggml_cuda_init: found 1 CUDA devices:\n")
    assert counts(t) == {"physical": 3, "parsed": 3, "llama": 3}


def test_impossible_dates_are_malformed(log_file, engine):
    """A day the month does not have (Feb 31, Apr 31, Feb 29 of a common year) is an impossible
    timestamp: the line is malformed and keeps no time; Feb 29 of a leap year is a date."""
    p = log_file(b'time=2025-02-31T10:00:00.000+01:00 level=INFO source=a.go:1 msg="no such day"\n'
                 b'time=2023-02-29T10:00:00.000+01:00 level=INFO source=a.go:1 msg="common year"\n'
                 b'time=2024-02-29T10:00:00.000+01:00 level=INFO source=a.go:1 msg="leap day"\n'
                 b'[GIN] 2025/04/31 - 10:00:05 | 200 |  1.5ms |  127.0.0.1 | GET  "/"\n'
                 b'2025/06/31 10:00:00 routes.go:1: INFO server config env="map[]"\n')
    t = ollalog.read(str(p), engine=engine)
    (ln,) = t.lines.to_pylist()
    assert (ln["parsed"], ln["malformed"]) == (1, 4)
    times = {r["msg"]: r["time"] for r in t.events.to_pylist()}
    assert times["leap day"] == datetime(2024, 2, 29, 9, 0, tzinfo=timezone.utc)
    assert times["no such day"] is None and times["common year"] is None
    assert t.requests.column("time").to_pylist() == [None]


def test_c_engine_batches_carry_their_schema_and_own_dictionaries(tmp_path):
    """The C engine exports each batch with an ArrowSchema that the adapter checks against
    schema.py; each batch's dictionaries hold only the names it uses (the third file's batch
    names one file, not three)."""
    from ollalog import schema as S
    from ollalog.read import make_engine
    eng = make_engine("c")
    line = b'time=2025-02-01T10:00:00.100+01:00 level=INFO source=a.go:1 msg=x k="v w"\n'
    for name in ("one.log", "two.log", "three.log"):
        eng.begin_file(name, "h1")
        eng.feed(line)
        eng.end_file()
        ((table, batch),) = eng.take_batches()
        assert table == "events" and batch.schema.equals(S.engine_schema("events"), check_metadata=True)
        batch.validate(full=True)
        assert batch.column("file").dictionary.to_pylist() == [name]
        assert batch.column("host").dictionary.to_pylist() == ["h1"]
        assert batch.column("attrs").to_pylist() == [[("k", "v w")]]


def test_c_engine_type_drift_is_an_error():
    """A batch whose types differ from schema.py (here: schema.py made to say int64 for `pid`)
    is refused with a TypeError naming both, never read as memory of another type."""
    import pyarrow as pa
    from ollalog import schema as S
    from ollalog.read import make_engine
    eng = make_engine("c")
    sch = S.engine_schema("events")
    eng.schemas["events"] = sch.set(sch.get_field_index("pid"), pa.field("pid", pa.int64()))
    eng.begin_file("a.log")
    eng.feed(b"time=2025-02-01T10:00:00.100+01:00 level=INFO msg=x\n")
    with pytest.raises(TypeError, match=r"pid: int32 \(schema.py: pid: int64\)"):
        eng.end_file()
