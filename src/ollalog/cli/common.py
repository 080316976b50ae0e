"""What every command shares: option aliases, help text, output formats, safe output files, errors.

See the package docstring (`ollalog.cli`) for how a command uses these.
"""
from __future__ import annotations

import csv
import enum
import errno
import json
import os
import secrets
import sys
from datetime import datetime, timezone
from typing import Any, Iterable, List, Optional, Sequence

import typer
from typer.core import TyperCommand, TyperGroup
from typing_extensions import Annotated

from ..errors import OllalogError, OutputError, UsageError

# ---------------------------------------------------------------------------------------------
# the way out: interrupts, closed pipes, errors


class Interrupted(Exception):
    """Ctrl-C: `main()` prints one line and exits 130 (typer would exit 130 without a word)."""

    def __init__(self, detail: str = ""):
        super().__init__(detail)
        self.detail = detail


class ClosedPipe(Exception):
    """stdout was closed by its reader (`ollalog ... | head`): a quiet success."""


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def run(app: typer.Typer, argv: Optional[Sequence[str]] = None) -> int:
    """Run the app; every way out becomes an exit code (DECISIONS: 0 done, 1 failure, 2 usage).

    A failure the user can cause prints one `ollalog: error: ...` line; Ctrl-C prints
    `ollalog: interrupted` and exits 130; a closed stdout ends the run quietly (0, or 1 when
    `error()` reported a failure before); a bug prints one
    `ollalog: internal error` line. `--debug` anywhere shows the traceback instead.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    # Arrow's memory from the system allocator (unless the environment chooses): it gives freed
    # memory back, where Arrow's default pool keeps what a stream of batches freed (about 40 MB
    # more peak RSS for `ollalog parse` of a large log; benchmarks/README.md)
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    _reported.clear()
    try:
        app(args=args, prog_name="ollalog", standalone_mode=True)
        rc = 0
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except (ClosedPipe, BrokenPipeError):
        _silence_stdout()
        return 1 if _reported else 0  # the failures already reported still count
    except (Interrupted, KeyboardInterrupt) as e:
        detail = getattr(e, "detail", "")
        _say(f"ollalog: interrupted{'; ' + detail if detail else ''}")
        return 130
    except OllalogError as e:
        if debug:
            raise
        _say(f"ollalog: error: {e}")
        rc = 2 if isinstance(e, UsageError) else 1
    except Exception as e:  # an ollalog bug: one line, the traceback with --debug
        if debug:
            raise
        _say(f"ollalog: internal error: {type(e).__name__}: {e} (run with --debug for details)")
        rc = 1
    _flushed()  # what is still buffered; a reader that went away is no failure
    return rc


def _flushed() -> bool:
    try:
        sys.stdout.flush()
        return True
    except (OSError, ValueError):
        _silence_stdout()
        return False


def _say(line: str) -> None:
    from ..render import printable
    try:
        print(printable(line, one_line=True), file=sys.stderr, flush=True)  # log text is in some messages
    except OSError:
        pass


_reported: list[str] = []  # the failures `error()` reported during this run


def error(message: str) -> None:
    """One `ollalog: error:` line on stderr, for a failure that lets the command go on (the exit
    code is then 1, even when stdout closes before the command ends)."""
    _reported.append(message)
    _say(f"ollalog: error: {message}")


def usage_error(message: str, option: str | None = None) -> typer.BadParameter:
    """A usage error (exit 2, with the command's usage line): `raise usage_error(...)`."""
    return typer.BadParameter(message, param_hint=option)


# ---------------------------------------------------------------------------------------------
# help as a person writes it: no type tags, options with their value's name, every one explained


def _param_rows(ctx: typer.Context, params) -> tuple[list, list]:
    args, opts = [], []
    for p in params:
        if getattr(p, "hidden", False):
            continue
        if p.param_type_name == "argument":
            name = p.metavar or p.name.upper()
            if p.nargs != 1 and not name.endswith("..."):
                name += "..."
            args.append((name, p.help or ""))
            continue
        names = ", ".join(sorted(p.opts, key=lambda o: (len(o) > 2, o)))
        if p.secondary_opts:
            names += " / " + ", ".join(p.secondary_opts)
        if not p.is_flag and not getattr(p, "count", False):
            names += " " + (p.metavar or p.name.upper())
        opts.append((names, p.help or ""))
    return args, opts


def _format_params(cmd, ctx, formatter) -> None:
    args, opts = _param_rows(ctx, cmd.get_params(ctx))
    if args:
        with formatter.section("Arguments"):
            formatter.write_dl(args)
    if opts:
        with formatter.section("Options"):
            formatter.write_dl(opts)


class OllalogCommand(TyperCommand):
    """A command whose --help lists arguments and options without type tags."""

    def format_options(self, ctx, formatter) -> None:
        _format_params(self, ctx, formatter)


class OllalogGroup(TyperGroup):
    """The `ollalog` group: plain help, and Ctrl-C or a closed pipe in any command reach `run()`."""

    def format_options(self, ctx, formatter) -> None:
        _format_params(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None   # typer would turn it into a silent exit 130
        except BrokenPipeError:
            raise ClosedPipe() from None    # typer would exit 1


# ---------------------------------------------------------------------------------------------
# options every command spells the same way


class Format(str, enum.Enum):
    """How a command prints its result."""
    text = "text"
    json = "json"
    csv = "csv"
    markdown = "markdown"


Logs = Annotated[Optional[List[str]], typer.Argument(
    metavar="LOGS", help="Log files, directories (their *.log, *.log.N, *.gz, *.zst, *.txt files), globs, "
                         "or - for stdin. Gzip and zstd are recognised by content.", show_default=False)]
Host = Annotated[Optional[str], typer.Option(
    "--host", metavar="NAME", help="Host name for every line. Default: the journald or compose prefix's "
                                   "host, else the file's folder when it looks like a host name (gpu-box-7).")]
Year = Annotated[Optional[int], typer.Option(
    "--year", metavar="YEAR", min=1, max=9999,
    help="Year of journald 'Apr 19 16:54:17' prefixes when the log has no dated line. "
         "Default: the year of the file's modification time.")]
Engine = Annotated[str, typer.Option(
    "--engine", metavar="ENGINE", help="Parser: c (default, fast) or python (the reference parser).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show a traceback when something fails.")]
FormatOpt = Annotated[Format, typer.Option(
    "--format", "-f", metavar="FORMAT", case_sensitive=False,
    help="How to print the result: text (default), json, csv or markdown.")]


# ---------------------------------------------------------------------------------------------
# output formats


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return iso_time(v)
    if isinstance(v, enum.Enum):
        return v.value
    return v


def iso_time(t: datetime | None) -> str | None:
    """UTC time as `2025-02-01T09:00:06.123Z` (milliseconds only when there are any)."""
    if t is None:
        return None
    t = t.astimezone(timezone.utc)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += f".{t.microsecond // 1000:03d}"
    return s + "Z"


def write_text(text: str | Iterable[str], path: str | None = None) -> None:
    """A command's whole answer, one string or its pieces in order: into `path` (an AtomicFiles
    temporary) or, without one, stdout."""
    pieces = [text] if isinstance(text, str) else text
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            for piece in pieces:
                fh.write(piece)
    else:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()


def write_json(obj: Any, out=None) -> None:
    """One JSON document, indented, times as ISO 8601 UTC."""
    out = out or sys.stdout
    json.dump(obj, out, indent=2, ensure_ascii=False, default=_plain)
    out.write("\n")


def write_csv(columns: Sequence[str], rows: Iterable[dict], out=None) -> None:
    """A header and one line per row (RFC 4180 quoting)."""
    out = out or sys.stdout
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else _plain(r.get(c)) for c in columns])


def _md_cell(v: Any) -> str:
    if v is None:
        return ""
    return str(_plain(v)).replace("|", "\\|").replace("\n", " ")


def write_markdown(columns: Sequence[str], rows: Iterable[dict], out=None) -> None:
    """A GitHub-flavoured markdown table."""
    out = out or sys.stdout
    out.write("| " + " | ".join(columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for r in rows:
        out.write("| " + " | ".join(_md_cell(r.get(c)) for c in columns) + " |\n")


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> list[str]:
    """Columns padded to their widest cell; None prints as -."""
    from ..render import printable
    cells = [[str(c) for c in columns]] + [["-" if v is None else printable(str(v), one_line=True) for v in r]
                                           for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return [indent + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]


def shortest_unique_paths(paths: Iterable[str]) -> dict[str, str]:
    """Each path's shortest tail of components that no other path shares: `alpha/server.log` and
    `beta/server.log` for `hosts/alpha/server.log` and `hosts/beta/server.log`."""
    paths = list(dict.fromkeys(paths))
    parts = {p: [c for c in p.replace("\\", "/").split("/") if c] or [p] for p in paths}
    out = {}
    for p in paths:
        mine = parts[p]
        for k in range(1, len(mine) + 1):
            tail = mine[-k:]
            if not any(q != p and parts[q][-k:] == tail for q in paths):
                break
        out[p] = "/".join(mine[-k:])
    return out


# ---------------------------------------------------------------------------------------------
# output files: written under temporary names beside their targets, renamed into place at the end


# what a write into a temporary file can fail with (pyarrow's errors carry the errno too)
WRITE_ERRNOS = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS") if hasattr(errno, n))


class AtomicFiles:
    """`with AtomicFiles({"loads": "out/loads.parquet", ...}) as tmp:` write to `tmp[key]`.

    On entry every folder is made and every temporary file created (so an unwritable target fails
    at once, with one line); on success each is renamed over its target; on any failure, Ctrl-C
    included, the temporary files (and folders made here) are removed and the targets are left
    as they were.
    """

    def __init__(self, targets: dict[str, str], display: str | None = None):
        self.targets = dict(targets)
        self.display = display or ", ".join(self.targets.values())
        self.temps: dict[str, str] = {}
        self.made: list[str] = []

    def __enter__(self) -> dict[str, str]:
        try:
            for key, target in self.targets.items():
                folder = os.path.dirname(target) or "."
                self._makedirs(folder, target)
                self.temps[key] = self._create(folder, target)
        except BaseException:
            self._discard()
            raise
        return dict(self.temps)

    @staticmethod
    def _create(folder: str, target: str) -> str:
        """A new empty file `.NAME.<random>.tmp` beside the target, with the umask's permissions."""
        for _ in range(100):
            tmp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(4)}.tmp")
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                return tmp
            except FileExistsError:
                continue
            except OSError as e:
                raise OutputError(target, e) from None
        raise OutputError(target, "cannot create a temporary file beside it")

    def _makedirs(self, folder: str, target: str) -> None:
        missing = []
        f = os.path.abspath(folder)
        while not os.path.isdir(f):
            if os.path.lexists(f):
                raise OutputError(target, f"{f} is not a folder")
            missing.append(f)
            parent = os.path.dirname(f)
            if parent == f:
                break
            f = parent
        for d in reversed(missing):
            try:
                os.mkdir(d)
            except FileExistsError:
                continue
            except OSError as e:
                raise OutputError(target, e) from None
            self.made.append(d)

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            try:
                for key, tmp in self.temps.items():
                    os.replace(tmp, self.targets[key])
            except OSError as e:
                self._discard()
                raise OutputError(self.targets[key], e) from None
            return
        self._discard()
        if issubclass(kind, KeyboardInterrupt):
            raise Interrupted(f"nothing written to {self.display}") from None
        if isinstance(exc, OSError) and not isinstance(exc, OllalogError) and exc.errno in WRITE_ERRNOS:
            # a write that failed half way (a full disk): one line, and nothing was left behind
            raise OutputError(self.display, os.strerror(exc.errno).lower()) from None

    def _discard(self) -> None:
        for tmp in self.temps.values():
            try:
                os.unlink(tmp)
            except OSError:
                pass
        for d in reversed(self.made):
            try:
                os.rmdir(d)
            except OSError:
                pass


# Parquet row groups: up to this many rows or bytes each (readers skip and parallelise by group).
# 4 MB of Arrow data is about one batch of events: `parse --out` of the 1 GiB log peaked at 290 MB
# with 16 MB groups and 262 MB with these (32768-row batches), in files of the same size.
ROW_GROUP_ROWS = 1 << 16
ROW_GROUP_BYTES = 4 << 20


class ParquetTables:
    """Batches of several tables into one Parquet file per table, in row groups of sane size.

    `write(name, batch)` buffers; `close()` writes what is left and an empty file for every table
    that got no rows (readers of a folder find all of them). Paths are usually AtomicFiles' temps.
    """

    def __init__(self, paths: dict[str, str], schemas: dict[str, Any], compression: str = "zstd"):
        self.paths = paths
        self.schemas = schemas
        self.compression = compression
        self.writers: dict[str, Any] = {}
        self.buf: dict[str, list] = {n: [] for n in paths}
        self.rows = {n: 0 for n in paths}
        self.bytes = {n: 0 for n in paths}

    def write(self, name: str, batch) -> None:
        if name not in self.paths or batch.num_rows == 0:
            return
        self.buf[name].append(batch)
        self.rows[name] += batch.num_rows
        self.bytes[name] += batch.nbytes
        if self.rows[name] >= ROW_GROUP_ROWS or self.bytes[name] >= ROW_GROUP_BYTES:
            self._flush(name, final=False)

    def _writer(self, name: str):
        import pyarrow.parquet as pq
        w = self.writers.get(name)
        if w is None:
            w = self.writers[name] = pq.ParquetWriter(self.paths[name], self.schemas[name],
                                                      compression=self.compression)
        return w

    def _flush(self, name: str, final: bool) -> None:
        import pyarrow as pa
        if not self.buf[name]:
            return
        table = pa.Table.from_batches(self.buf[name], schema=self.schemas[name])
        n = table.num_rows
        if not final and self.bytes[name] < ROW_GROUP_BYTES:
            n -= n % ROW_GROUP_ROWS  # whole groups now, the rest with the next rows
        self._writer(name).write_table(table.slice(0, n), row_group_size=ROW_GROUP_ROWS)
        rest = table.slice(n)
        self.buf[name] = rest.to_batches() if rest.num_rows else []
        self.rows[name] = rest.num_rows
        self.bytes[name] = rest.nbytes if rest.num_rows else 0

    def close(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        for name in self.paths:
            self._flush(name, final=True)
            if name not in self.writers:
                pq.write_table(pa.Table.from_batches([], schema=self.schemas[name]), self.paths[name],
                               compression=self.compression)
        for w in self.writers.values():
            w.close()
        self.writers = {}

    def abort(self) -> None:
        for w in self.writers.values():
            try:
                w.close()
            except Exception:
                pass
        self.writers = {}


def callback_version(value: bool) -> None:
    """`--version`: print `ollalog X.Y.Z` and exit."""
    if value:
        from .. import __version__
        print(f"ollalog {__version__}")
        raise typer.Exit()


Version = Annotated[bool, typer.Option("--version", callback=callback_version, is_eager=True,
                                       help="Print the version and exit.")]
