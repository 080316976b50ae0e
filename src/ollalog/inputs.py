"""Stage 1, read: turn the paths a user gives into byte streams.

Paths, directories (their log files, recursively), globs and `-` for stdin; plain, gzip or
zstandard content, recognised by magic bytes rather than by name; files still being written are
read to their current end. Nothing here parses: `chunks()` yields raw bytes for the engine.
"""
from __future__ import annotations

import codecs
import glob
import os
import re
import stat
import sys
import zlib
from dataclasses import dataclass
from typing import Iterator

from .errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 4 << 20
# What a directory contributes: these names, plus rotated logs (`server.log.1`); hidden names are skipped.
# A file named explicitly is read whatever its name.
LOG_SUFFIXES = (".log", ".txt", ".gz", ".zst")
ROTATED = re.compile(r"\.log\.\d+$")
LOG_GLOBS = "*.log, *.log.N, *.gz, *.zst, *.txt"

# Host names from folders: a folder name is a host only when it looks like one (see folder_host).
HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
VERSION = re.compile(r"v?\d+(?:\.\d+)+(?:-\S*)?", re.I)
GENERIC_FOLDERS = frozenset("""
    log logs logfiles var tmp temp data home root srv opt usr etc downloads desktop documents
    sample samples test tests fixtures corpus heldout archive archives backup backups old new current
    latest out output outputs input inputs export exports dump dumps run runs
""".split())


@dataclass
class Source:
    """One input: its name as the user gave it (or found in a directory) and its default host."""
    name: str
    path: str | None          # None for stdin
    host: str | None
    size: int | None = None   # on-disk size, for progress
    mtime: float | None = None  # modification time (seconds since the epoch), dates year-less lines

    @property
    def is_stdin(self) -> bool:
        return self.path is None


def looks_like_host(name: str) -> bool:
    """Whether a folder name reads as a host name rather than as a generic folder.

    Yes for `gpu-box-7`, `node3`, `ollama-0`, `ip-10-0-0-12`, `server1.example.com`: a valid host
    name (letters, digits, hyphens and dots) with at least one letter and one digit, that is not a
    version (`v0.5.7`) and has no generic word (`logs`, `backup`, `sample`...) as a part. No for
    `logs`, `sample_logs`, `heldout`, `2025-01-30`, `ollama-logs`. A plain word is a host only under
    a folder named `hosts`, `nodes`, `machines` or `servers` (`hosts/alpha/server.log`).
    """
    if not name or len(name) > 253 or not HOSTNAME.fullmatch(name) or VERSION.fullmatch(name):
        return False
    if not any(c.isalpha() for c in name) or not any(c.isdigit() for c in name):
        return False
    return not any(part.lower() in GENERIC_FOLDERS for part in re.split(r"[-.]", name))


def folder_host(path: str) -> str | None:
    """The default host of a file from its folder, or None (see `looks_like_host`).

    The current directory is never a host; a plain word (`alpha`) is one only inside a folder named
    `hosts`, `nodes`, `machines` or `servers`.
    """
    folder = os.path.dirname(os.path.abspath(path))
    try:
        if folder == os.getcwd():
            return None
    except OSError:  # the current directory was removed
        pass
    name = os.path.basename(folder)
    if looks_like_host(name):
        return name
    parent = os.path.basename(os.path.dirname(folder)).lower()
    if parent in ("hosts", "nodes", "machines", "servers") and HOSTNAME.fullmatch(name or "-") \
            and any(c.isalpha() for c in name) and name.lower() not in GENERIC_FOLDERS:
        return name
    return None


def _looks_like_log(name: str) -> bool:
    base = os.path.basename(name)
    if base.startswith("."):
        return False
    low = base.lower()
    return low.endswith(LOG_SUFFIXES) or bool(ROTATED.search(low))


def resolve(paths: list[str], host: str | None = None) -> tuple[list[Source], list[InputError]]:
    """Expand the user's paths into the sources to read, and the errors of those that cannot be.

    A directory contributes its log files (LOG_GLOBS), recursively, hidden names skipped; a glob its
    matches; `-` stdin. The same file reached twice (named twice, by two paths, or through a
    directory and by name) is read once, where it first appears.
    """
    sources: list[Source] = []
    errors: list[InputError] = []
    seen: set = set()

    def add(name: str, st: os.stat_result | None) -> None:
        key = (st.st_dev, st.st_ino) if st is not None else name
        if key in seen:
            return
        seen.add(key)
        if st is None:
            sources.append(Source(name, None, host))
        else:
            sources.append(Source(name, name, host or folder_host(name), st.st_size, st.st_mtime))

    for p in paths:
        if p == "-":
            add("<stdin>", None)
            continue
        matches = [p]
        if not os.path.exists(p) and glob.has_magic(p):
            matches = sorted(glob.glob(p, recursive=True))
            if not matches:
                errors.append(InputError(p, "no file matches this pattern"))
                continue
        for m in matches:
            try:
                st = os.stat(m)
            except FileNotFoundError:
                errors.append(InputError(m, "no such file or directory"))
                continue
            except OSError as e:
                errors.append(InputError(m, e.strerror or str(e)))
                continue
            if stat.S_ISDIR(st.st_mode):
                found = []
                for root, dirs, files in os.walk(m):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    found += [os.path.join(root, f) for f in sorted(files) if _looks_like_log(f)]
                if not found:
                    errors.append(InputError(m, f"directory holds no log files ({LOG_GLOBS})"))
                for f in found:
                    try:
                        add(f, os.stat(f))
                    except OSError as e:
                        errors.append(InputError(f, e.strerror or str(e)))
            else:
                add(m, st)
    return sources, errors


def open_source(src: Source):
    """Open a source: (raw stream, compression name). Raises InputError when it cannot be."""
    if src.is_stdin:
        if sys.stdin is None or getattr(sys.stdin, "buffer", None) is None:  # started with `<&-`
            raise InputError(src.name, "standard input is closed")
        return sys.stdin.buffer, "none"
    try:
        return open(src.path, "rb"), "none"
    except IsADirectoryError:
        raise InputError(src.name, "is a directory") from None
    except FileNotFoundError:
        raise InputError(src.name, "no such file or directory") from None
    except PermissionError:
        raise InputError(src.name, "permission denied") from None
    except OSError as e:
        raise InputError(src.name, e.strerror or str(e)) from None


def _raw_chunks(src: Source, raw, size: int):
    while True:
        try:
            data = raw.read(size)
        except OSError as e:
            raise InputError(src.name, e.strerror or str(e)) from None
        if not data:
            return
        yield data


def _gzip_inflater():
    """ISA-L's zlib (the `isal` package: about 3x zlib's speed) where it is installed, else zlib."""
    try:
        from isal import isal_zlib
        return isal_zlib
    except ImportError:
        return zlib


def _decompressed(src: Source, raw, size: int, offset: int = 0):
    """Plain, gzip (any number of members) or zstd bytes from `offset` on (of the decompressed
    bytes: a plain file is read from there, a compressed one decompressed up to there); a cut
    stream keeps what it held and then raises InputError naming the cut."""
    it = _raw_chunks(src, raw, size)
    first = b""
    for piece in it:  # enough bytes to see the magic number, however small the chunks
        first += piece
        if len(first) >= 4:
            break
    if first.startswith(GZIP_MAGIC):
        kind = "gzip"
        z = _gzip_inflater()
        new = lambda: z.decompressobj(16 + z.MAX_WBITS)  # noqa: E731
    elif first.startswith(ZSTD_MAGIC):
        import zstandard
        kind = "zstd"
        new = lambda: zstandard.ZstdDecompressor().decompressobj()  # noqa: E731
    else:
        if offset and raw is not sys.stdin.buffer:
            raw.seek(offset)
            yield from _raw_chunks(src, raw, size)
            return
        yield from _skipped(_chain([first] if first else [], it), offset, src)
        return
    yield from _skipped(_inflated(src, kind, new, first, it, size), offset, src)


# compressed bytes per zstd call, whose output has no bound of its own: what inflated to about the
# chunk size so far, within these limits
ZSTD_MIN_SLICE, ZSTD_SLICE = 256, 64 << 10


def _inflated(src: Source, kind: str, new, first: bytes, it, size: int):
    """The decompressed bytes in chunks of `size` (at most, for gzip, whose decompressor takes a
    bound; for zstd, fed by its ratio so far, about), however much the data inflates: 4 MiB of a
    log's gzip hold some 40 MiB of text, of a repeated line far more."""
    d = new()
    pending = first
    held, n = [], 0

    def cut():
        nonlocal held, n
        out = held[0] if len(held) == 1 else b"".join(held)
        held, n = [], 0
        return out

    more = False  # gzip: the last call filled its bound, so output may be waiting inside
    fed = made = 0  # zstd: compressed bytes given, decompressed bytes got
    while True:
        while pending or more:
            try:
                room = size - n  # what the chunk being made can still take
                if kind == "gzip":
                    out = d.decompress(pending, room)
                    rest = d.unconsumed_tail
                    more = len(out) >= room and not d.eof
                else:  # as many compressed bytes as inflate to about `room`, by the ratio so far
                    take = max(ZSTD_MIN_SLICE, min(ZSTD_SLICE, room * fed // made)) if made else ZSTD_MIN_SLICE
                    out = d.decompress(pending[:take])
                    rest = pending[take:]
                    fed, made = fed + min(take, len(pending)), made + len(out)
            except Exception as e:  # zlib.error, zstandard.ZstdError
                if held:
                    yield cut()  # what came before the damage is kept
                raise InputError(src.name, f"corrupt {kind} data ({e})") from None
            if out:
                held.append(out)
                n += len(out)
                if n >= size:
                    yield cut()
            if d.eof:  # a member ended: another may follow
                pending = d.unused_data + rest if rest else d.unused_data
                d = new() if pending else d
                if not pending:
                    break
            else:
                pending = rest
        pending = next(it, None)
        if pending is None:
            if held:
                yield cut()
            if not d.eof:
                raise InputError(src.name, f"truncated {kind} stream (read up to the cut)")
            return


def _skipped(it, offset: int, src: Source):
    """The bytes of `it` after its first `offset`."""
    if not offset:
        yield from it
        return
    skip = offset
    for data in it:
        if skip >= len(data):
            skip -= len(data)
            continue
        yield data[skip:] if skip else data
        skip = 0
    if skip:
        raise InputError(src.name, f"shorter than the {offset} bytes already read")


def _chain(first: list, it):
    yield from first
    yield from it


def chunks(src: Source, size: int = CHUNK, raw=None, offset: int = 0) -> Iterator[bytes]:
    """The source's bytes in chunks, from `offset` (of the decompressed bytes) on; raises
    InputError for unreadable, binary or truncated input. `raw` is the source already opened."""
    if raw is None:
        raw, _ = open_source(src)
    sniffed = bytearray()
    held: list[bytes] = []
    cr_only = False
    try:
        for data in _decompressed(src, raw, size, offset):
            if sniffed is not None:
                # decide "binary" (and CR line ends) on the first 64 KiB, however small the chunks
                sniffed += data[:65536 - len(sniffed)]
                held.append(data)
                if len(sniffed) < 65536:
                    continue
                cr_only = _sniff(src, bytes(sniffed))
                sniffed = None
                yield from (_lf(d) for d in held) if cr_only else held
                held = []
                continue
            yield _lf(data) if cr_only else data
        if sniffed is not None:
            cr_only = _sniff(src, bytes(sniffed))
            yield from (_lf(d) for d in held) if cr_only else held
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def _sniff(src: Source, head: bytes) -> bool:
    """Raise InputError for binary data; True when the lines end in CR alone (classic Mac OS, or
    a terminal capture): every CR is then read as a line end (one byte for one: offsets stay)."""
    if is_binary(head):
        raise InputError(src.name, "not a text log (binary data)")
    return cr_line_ends(head)


def cr_line_ends(head: bytes) -> bool:
    """The start of a file ends its lines in CR alone: a CR in it and no LF."""
    return b"\n" not in head and b"\r" in head


def _lf(data: bytes) -> bytes:
    return data.replace(b"\r", b"\n")


NUL_RUN = re.compile(rb"\x00{16,}")


def is_binary(head: bytes) -> bool:
    """A file is binary when its start has NUL bytes or is mostly not text. Runs of NUL bytes
    (what a file system leaves where a crash cut writes short) are not counted: a log with such a
    hole is still read, the line that holds it counted unknown."""
    sample = NUL_RUN.sub(b"", head[:65536])
    if not sample:
        return bool(head)
    if sample.count(b"\x00") > max(4, len(sample) // 1000):
        return True
    # an incomplete character at the end of the sample is not evidence of binary data
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(sample, final=False)
    bad = text.count("\ufffd") + sum(1 for c in text if c < " " and c not in "\t\r\n\x1b\x0c")
    return bad > len(text) * 0.3

