"""Stage 1, read: turn the paths a user gives into byte streams.

Paths, directories (their log files, recursively), globs and `-` for stdin; plain, gzip or
zstandard content, recognised by magic bytes rather than by name; files still being written are
read to their current end. Nothing here parses: `chunks()` yields raw bytes for the engine.
"""
from __future__ import annotations

import glob
import gzip
import os
import stat
import sys
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator

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


class _Peek:
    """A binary stream whose first bytes were already read to sniff the format."""

    def __init__(self, raw: BinaryIO, head: bytes):
        self.raw, self.head = raw, head

    def read(self, n: int) -> bytes:
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            if len(out) < n:
                out += self.raw.read(n - len(out)) or b""
            return out
        return self.raw.read(n)


def open_source(src: Source) -> tuple[object, str, object]:
    """Open a source: (stream with .read(n), compression name, raw handle to close)."""
    if src.is_stdin:
        raw = sys.stdin.buffer
    else:
        try:
            raw = open(src.path, "rb")
        except IsADirectoryError:
            raise InputError(src.name, "is a directory") from None
        except FileNotFoundError:
            raise InputError(src.name, "no such file or directory") from None
        except PermissionError:
            raise InputError(src.name, "permission denied") from None
        except OSError as e:
            raise InputError(src.name, e.strerror or str(e)) from None
    try:
        head = raw.read(4) or b""
    except OSError as e:
        raise InputError(src.name, e.strerror or str(e)) from None
    peek = _Peek(raw, head)
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=peek, mode="rb"), "gzip", raw
    if head.startswith(ZSTD_MAGIC):
        import zstandard
        return zstandard.ZstdDecompressor().stream_reader(peek, read_size=1 << 20), "zstd", raw
    return peek, "none", raw


def chunks(src: Source, size: int = CHUNK) -> Iterator[bytes]:
    """The source's bytes in chunks; raises InputError for unreadable, binary or truncated input."""
    stream, compression, raw = open_source(src)
    first = True
    try:
        while True:
            try:
                data = stream.read(size)
            except EOFError:
                raise InputError(src.name, f"truncated {compression} stream (read up to the cut)") from None
            except (zlib.error, gzip.BadGzipFile) as e:
                raise InputError(src.name, f"corrupt gzip data ({e})") from None
            except OSError as e:
                raise InputError(src.name, e.strerror or str(e)) from None
            except Exception as e:  # zstandard.ZstdError and friends
                if type(e).__module__.startswith("zstandard"):
                    raise InputError(src.name, f"corrupt or truncated zstd data ({e})") from None
                raise
            if not data:
                return
            if first:
                first = False
                if is_binary(data):
                    raise InputError(src.name, "not a text log (binary data)")
            yield data
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
    text = sample.decode("utf-8", "replace")
    bad = text.count("\ufffd") + sum(1 for c in text if c < " " and c not in "\t\r\n\x1b\x0c")
    return bad > len(text) * 0.3

