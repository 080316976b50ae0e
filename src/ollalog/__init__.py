"""ollalog: Ollama server logs as typed Arrow tables, and where each model load ran.

Read logs (any Ollama version; plain, gzip or zstd; journald in any locale, docker, compose,
Kubernetes, Windows, macOS) into five `pyarrow.Table`s:

    import ollalog
    t = ollalog.read("server.log")              # a Tables
    t.loads.to_pylist()                         # one dict per model load attempt
    for table, batch in ollalog.read_batches(["big.log.zst"]):
        ...                                     # streaming, bounded memory

Tables
    events    every parsed line that is not a request, with `kind`, catalogued `event` name,
              `attrs` and UTC `time`
    requests  every `[GIN]` access line: status, latency, client, method, path
    loads     one row per load attempt: `placement` (gpu, partial, cpu) and what decided it,
              layers offloaded/total, `ctx_size` = num_ctx x parallel, VRAM, KV cache, outcome
    gpus      GPU inventory lines, from the server and from the runner
    lines     per-file accounting: physical = parsed + unknown + malformed, and why a file
              stopped short
  `describe(table)` gives (column, type, meaning) for each column; `TABLES` names the five.

Inputs
    A file, directory (its *.log, *.log.N, *.gz, *.zst, *.txt files, recursively), glob, `-`
    (stdin), or a list of them; the same file reached twice is read once. Hosts come from
    `host=`, else the transport prefix, else the file's folder when it looks like a host name.
    journald's year-less prefix times take the year from the log's own times, else `year=`,
    else the file's modification time.

Errors
    Every error ollalog raises on purpose is an `OllalogError` and also a builtin:
    `InputError` (an `OSError`: missing, unreadable, binary or truncated input), `OutputError`
    (an `OSError`: an output that cannot be written) and `UsageError` (a `ValueError`: arguments
    that cannot work). `read()` and `read_batches()` raise the first
    `InputError` unless `on_error=` is given; with it each is passed to that callable, the input
    is skipped (or kept up to a cut), the rest is read, and `Tables.errors` lists them.

Command line
    `ollalog parse LOGS... [-o DIR] [--format text|json|csv|markdown]` prints a summary (every
    load with its host, time and model) and writes the tables as Parquet; `ollalog --help` lists
    the commands, `ollalog --install-completion` adds shell completion. The tables' pandas conversion (`.to_pandas()`) needs the
    `[pandas]` extra: `pip install 'ollalog[pandas]'`.
"""
from __future__ import annotations

import sys as _sys
import types as _types

from .errors import InputError, OllalogError, OutputError, UsageError

__version__ = "0.1.0"
__all__ = ["read", "read_batches", "Tables", "describe", "TABLES", "OllalogError", "InputError",
           "OutputError", "UsageError", "__version__"]

# read, read_batches, Tables, describe and TABLES are imported when first used, so that a command
# that needs no table (`ollalog --help`) or a process that must not load numpy (lean.py) can start
# without pyarrow.
_LAZY = {"read": "read", "read_batches": "read", "Tables": "read", "describe": "schema"}


def __getattr__(name: str):
    if name == "TABLES":
        from .schema import TABLES
        return tuple(TABLES)
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


class _Package(_types.ModuleType):
    """`ollalog.read` is the function, not the submodule of that name (which the import system
    would set here when it is imported): `import ollalog.read` names the function too."""

    @property
    def read(self):
        return __getattr__("read")

    @read.setter
    def read(self, value):
        pass


_sys.modules[__name__].__class__ = _Package
