"""Stage 1, read: turn the paths a user gives into byte streams.

Paths, directories (their log files, recursively), globs and `-` for stdin; plain, gzip or
zstandard content, recognised by magic bytes rather than by name; files still being written are
read to their current end. Nothing here parses: `chunks()` yields raw bytes for the engine.
"""
from __future__ import annotations

import codecs
import glob
import os
import stat
import sys
import zlib
from dataclasses import dataclass
from typing import Iterator

from .errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 4 << 20
LOG_SUFFIXES = (".log", ".txt", ".out", ".gz", ".zst", ".json", ".jsonl")


@dataclass
class Source:
    """One input: its name as the user gave it (or found in a directory) and its default host."""
    name: str
    path: str | None          # None for stdin
    host: str | None
    size: int | None = None   # on-disk size, for progress

    @property
    def is_stdin(self) -> bool:
        return self.path is None


def _folder_host(path: str) -> str | None:
    folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return folder or None


def _looks_like_log(name: str) -> bool:
    base = os.path.basename(name)
    if base.startswith("."):
        return False
    low = base.lower()
    if any(low.endswith(s) for s in LOG_SUFFIXES):
        return True
    # rotated logs: server.log.1, server-2.log, app.log.3.gz
    return ".log." in low or low.startswith("server")


def resolve(paths: list[str], host: str | None = None) -> tuple[list[Source], list[InputError]]:
    """Expand the user's paths. Returns the sources to read and the errors of those that cannot be."""
    sources: list[Source] = []
    errors: list[InputError] = []
    for p in paths:
        if p == "-":
            sources.append(Source("<stdin>", None, host))
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
                    errors.append(InputError(m, "directory holds no log files (*.log, *.gz, *.zst, *.txt)"))
                for f in found:
                    sources.append(Source(f, f, host or _folder_host(f), _size(f)))
            else:
                sources.append(Source(m, m, host or _folder_host(m), st.st_size))
    return sources, errors


def _size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def open_source(src: Source):
    """Open a source: (raw stream, compression name). Raises InputError when it cannot be."""
    if src.is_stdin:
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
        new = lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)  # noqa: E731
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
    yield from _skipped(_inflated(src, kind, new, first, it), offset, src)


def _inflated(src: Source, kind: str, new, first: bytes, it):
    d = new()
    pending = first
    while True:
        while pending:
            try:
                out = d.decompress(pending)
            except Exception as e:  # zlib.error, zstandard.ZstdError
                raise InputError(src.name, f"corrupt {kind} data ({e})") from None
            if out:
                yield out
            if d.eof:  # a member ended: another may follow
                pending = d.unused_data
                d = new() if pending else d
                if not pending:
                    break
            else:
                pending = b""
        pending = next(it, None)
        if pending is None:
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
    try:
        for data in _decompressed(src, raw, size, offset):
            if sniffed is not None:
                # decide "binary" on the first 64 KiB, however small the chunks
                sniffed += data[:65536 - len(sniffed)]
                held.append(data)
                if len(sniffed) < 65536:
                    continue
                if is_binary(bytes(sniffed)):
                    raise InputError(src.name, "not a text log (binary data)")
                sniffed = None
                yield from held
                held = []
                continue
            yield data
        if sniffed is not None:
            if is_binary(bytes(sniffed)):
                raise InputError(src.name, "not a text log (binary data)")
            yield from held
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def is_binary(head: bytes) -> bool:
    """A file is binary when its start has NUL bytes or is mostly not text."""
    sample = head[:65536]
    if not sample:
        return False
    if sample.count(b"\x00") > max(4, len(sample) // 1000):
        return True
    # an incomplete character at the end of the sample is not evidence of binary data
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(sample, final=False)
    bad = text.count("\ufffd") + sum(1 for c in text if c < " " and c not in "\t\r\n\x1b\x0c")
    return bad > len(text) * 0.3

