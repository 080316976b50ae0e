"""Command line: thin wrappers over the library, one small module per command.

Conventions every command follows (helpers in `common.py`):
- Register with `@command("NAME")` (not `@app.command`): help without type tags, every option
  explained, and Ctrl-C / closed pipes handled. The docstring's first line is the command's
  summary in `ollalog --help`.
- Spell shared options with the aliases of `common`: `Logs` (the LOGS... argument), `Host`,
  `Year`, `Engine`, `Quiet`, `Debug`, `FormatOpt` (`--format text|json|csv|markdown`, a `Format`).
  An option of one command only is a `typer.Option` with a `metavar` and a `help`.
- Print results with `common.write_json`, `write_csv`, `write_markdown` (or `text_table` for text)
  according to `--format`; name files with `shortest_unique_paths` in text.
- Write files only through `common.AtomicFiles` (temporary names beside the targets, renamed at
  the end; Ctrl-C leaves the targets as they were); Parquet through `common.ParquetTables`.
- Exit codes (DECISIONS): 0 done; 1 a failure the user can cause (an unreadable input, ...), one
  `ollalog: error: ...` line each (`common.error()` for failures the command gets past, then
  `raise typer.Exit(1)`; or raise an `OllalogError`); 2 a usage error (`raise common.usage_error()`,
  typer's own usage errors, or an `ollalog.UsageError`). Ctrl-C prints `ollalog: interrupted` and
  exits 130; a closed stdout (`| head`) exits 0 quietly. No traceback unless --debug.
"""
from __future__ import annotations

import sys

import typer

from . import common
from .common import OllalogCommand, OllalogGroup, Version

app = typer.Typer(cls=OllalogGroup, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                  add_completion=True, context_settings={"help_option_names": ["-h", "--help"]},
                  help="Read Ollama server logs: typed tables, and where each model load ran.")


def command(name: str):
    """Register a command of `ollalog` (see the conventions above)."""
    return app.command(name, cls=OllalogCommand)


@app.callback()
def _root(version: Version = False) -> None:
    """Read Ollama server logs: typed tables, and where each model load ran.

    Run `ollalog COMMAND --help` for a command's arguments and options.
    """


from . import parse as _parse  # noqa: E402,F401  (registers the command)
from . import why as _why  # noqa: E402,F401
from . import sql as _sql  # noqa: E402,F401
from . import ingest as _ingest  # noqa: E402,F401
from . import report as _report  # noqa: E402,F401
from . import watch as _watch  # noqa: E402,F401


def main(argv: list[str] | None = None) -> int:
    """Run `ollalog` with `argv` (default: sys.argv[1:]) and return the exit code."""
    return common.run(app, argv)


def run() -> None:
    """The console script's entry point (pyproject: ollalog.cli:run), in a process without pandas
    (lean.py: no command uses it, and pyarrow would import it at its first conversion)."""
    from ..lean import absent
    absent(("pandas",))
    sys.exit(main())
