"""The table of bad inputs in docs/bad-inputs.md, run: each case its exact stderr and exit code.

The page is the specification: its rows are read here, each row's case is run by the test it names
(the cases marked test_bad_inputs.py by a builder below; the others by an existing test, whose
presence and message are checked), and a row and a builder without each other fail.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zlib

import pytest

from conftest import REPO, SEED_LOG, SEED_LOG_LINES, cli_env, physical_lines

DOC = REPO / "docs" / "bad-inputs.md"
ROW = re.compile(r"^\| `([a-z0-9-]+)` \| (.+?) \| (.+?) \| (\d) \| (\S+) \|$")
SETPRIV = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


def doc_rows() -> dict[str, tuple[str | None, int, str]]:
    """case -> (stderr line with PATH/OUT, or None for no stderr; exit code; test)."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            case, _, stderr, code, test = m.groups()
            msg = re.fullmatch(r"`([^`]+)`", stderr)
            rows[case] = (msg.group(1) if msg else None, int(code), test)
    return rows


ROWS = doc_rows()


def ollalog(*args) -> list[str]:
    return [sys.executable, "-m", "ollalog", *map(str, args)]


def run(cmd, stdin=None, timeout=300) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, env=cli_env())
    p.stdout, p.stderr = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    return p


def totals(p: subprocess.CompletedProcess) -> dict:
    return json.loads(p.stdout)["totals"]


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


SEED = SEED_LOG if isinstance(SEED_LOG, bytes) else SEED_LOG.encode()


# each builder: (command, stdin bytes, {"PATH": ..., "OUT": ...}, check of the finished process)

def case_permission(tmp_path):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) not installed")
    f = _write(tmp_path / "secret.log", SEED)
    f.chmod(0)
    return SETPRIV + ollalog("parse", "-q", f), None, {"PATH": str(f)}, None


def _truncated(tmp_path, name, data, readable):
    f = _write(tmp_path / name, data[: len(data) // 2])
    out = tmp_path / "out"

    def check(p):  # what was read before the cut is kept, and the file's row names the cut
        import pyarrow.parquet as pq
        (row,) = pq.read_table(out / "lines.parquet").to_pylist()
        assert row["error"].startswith("truncated"), row
        assert row["physical"] == physical_lines(readable(data[: len(data) // 2]))
    return ollalog("parse", "-q", f, "-o", out), None, {"PATH": str(f)}, check


def case_truncated_gz(tmp_path):
    return _truncated(tmp_path, "server.log.gz", gzip.compress(SEED * 500),
                      lambda cut: zlib.decompressobj(31).decompress(cut))


def case_truncated_zst(tmp_path):
    import zstandard
    return _truncated(tmp_path, "server.log.zst", zstandard.ZstdCompressor().compress(SEED * 500),
                      lambda cut: zstandard.ZstdDecompressor().decompressobj().decompress(cut))


def _counts(want: dict):
    def check(p):
        t = totals(p)
        assert {k: t[k] for k in want} == want, t
        assert t["physical"] == t["parsed"] + t["unknown"] + t["malformed"]
    return check


def case_cr_only(tmp_path):
    f = _write(tmp_path / "mac.log", SEED.replace(b"\n", b"\r"))
    return ollalog("parse", "-f", "json", f), None, {"PATH": str(f)}, \
        _counts({"physical": SEED_LOG_LINES, "malformed": 0, "unknown": 0})


def case_nul_run(tmp_path):
    cut = SEED.index(b"\n", len(SEED) // 2) + 1
    f = _write(tmp_path / "crashed.log", SEED[:cut] + b"\0" * 8192 + SEED[cut:])
    return ollalog("parse", "-f", "json", f), None, {"PATH": str(f)}, \
        _counts({"physical": SEED_LOG_LINES, "malformed": 0})


def case_invalid_utf8(tmp_path):
    cut = SEED.index(b"\n") + 1
    f = _write(tmp_path / "bad.log", SEED[:cut] + b"time=2025-02-01T10:00:00.200+01:00 level=INFO source=a.go:1 "
               b"msg=\"caf\xe9 \xff\xfe\"\n" + SEED[cut:])
    return ollalog("parse", "-f", "json", f), None, {"PATH": str(f)}, \
        _counts({"physical": SEED_LOG_LINES + 1, "invalid_utf8": 1, "malformed": 0})


def case_fifo(tmp_path):
    f = tmp_path / "pipe.log"
    os.mkfifo(f)

    def writer():
        with open(f, "wb") as w:  # blocks until ollalog opens the pipe
            w.write(SEED)
    threading.Thread(target=writer, daemon=True).start()
    return ollalog("parse", "-f", "json", f), None, {"PATH": str(f)}, _counts({"physical": SEED_LOG_LINES})


def case_stdin_cut(tmp_path):
    cut = SEED.index(b"\n", len(SEED) // 2) + 10  # in the middle of a line
    return ollalog("parse", "-f", "json", "-"), SEED[:cut], {"PATH": "<stdin>"}, \
        _counts({"physical": SEED[:cut].count(b"\n") + 1})


def case_stdin_closed(tmp_path):
    return ["sh", "-c", 'exec "$@" <&-', "sh", *ollalog("parse", "-q", "-")], None, {"PATH": "<stdin>"}, None


@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs, unmounted afterwards; skips where mounting is not allowed."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN): {p.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


BUILDERS = {
    "permission": case_permission,
    "truncated-gz": case_truncated_gz,
    "truncated-zst": case_truncated_zst,
    "cr-only": case_cr_only,
    "nul-run": case_nul_run,
    "invalid-utf8": case_invalid_utf8,
    "fifo": case_fifo,
    "stdin-cut": case_stdin_cut,
    "stdin-closed": case_stdin_closed,
}
HERE = "test_bad_inputs.py"


def _expect(case: str, names: dict) -> tuple[str, int]:
    msg, code, _ = ROWS[case]
    if msg is not None:
        for k, v in names.items():
            msg = msg.replace(k, v)
    return (msg + "\n") if msg else "", code


@pytest.mark.parametrize("case", sorted(BUILDERS))
def test_bad_input(case, tmp_path):
    cmd, stdin, names, check = BUILDERS[case](tmp_path)
    p = run(cmd, stdin)
    assert (p.stderr, p.returncode) == _expect(case, names), p.stdout[-2000:]
    if check:
        check(p)


def test_full_disk(small_fs):
    out = small_fs / "out"
    p = run(ollalog("parse", "-q", REPO / "sample_logs", "-o", out))
    assert (p.stderr, p.returncode) == _expect("full-disk", {"OUT": str(out)})
    assert os.listdir(small_fs) == []  # nothing written half: no temporary file, no folder left
    p = run(ollalog("parse", "-q", REPO / "sample_logs", "-o", out, "--debug"))
    assert p.returncode == 1 and "Traceback" in p.stderr and "no space left on device" in p.stderr
    assert os.listdir(small_fs) == []


def test_the_page_and_the_tests_agree():
    assert ROWS, f"no table rows read from {DOC}"
    here = {c for c, (_, _, t) in ROWS.items() if t == HERE}
    assert here == set(BUILDERS) | {"full-disk"}, "rows marked test_bad_inputs.py and the builders differ"
    for case, (msg, _, test) in ROWS.items():
        if test == HERE:
            continue
        file, _, name = test.partition("::")
        src = (REPO / "tests" / file).read_text(encoding="utf-8")
        assert f"def {name}(" in src, f"{case}: {test} does not exist"
        if msg:  # the message the other test asserts is the page's (its stable part, PATH aside)
            parts = [s for s in re.split(r"PATH|OUT|N lines read|\(\*\.log.*\)", msg.removeprefix("ollalog: error: "))
                     if s.strip(" :()")]
            body = src[src.index(f"def {name}("):]
            body = body[: body.find("\ndef ", 1)]
            for part in parts:
                assert part.strip(" :(") in body, f"{case}: {test} does not check {part.strip()!r}"


def test_strict_names_the_first_unknown_line(tmp_path):
    cut = SEED.index(b"\n") + 1
    f = _write(tmp_path / "mixed.log", SEED[:cut] + b"\n" + b"what is this \x01\n" + b"and this\n" + SEED[cut:])
    out = tmp_path / "out"
    p = run(ollalog("parse", "-q", "--strict", f, "-o", out))
    # the blank line 2 is no failure; line 3 is the first a grammar does not read
    assert (p.stderr, p.returncode) == (f"ollalog: error: {f}:3: a line no grammar reads (--strict): "
                                        "what is this \\x01\n", 1)
    assert (out / "loads.parquet").is_file()  # the tables are still written
    p = run(ollalog("parse", "-q", "--strict", REPO / "sample_logs" / "k8s-cri.log"))
    assert (p.stderr, p.returncode) == ("", 0)
    p = run(ollalog("parse", "-q", f))
    assert (p.stderr, p.returncode) == ("", 0)  # without --strict unknown lines are only counted
