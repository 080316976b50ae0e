"""Command line: thin wrappers over the library, one small module per command.

Exit codes (every command): 0 done; 1 an expected failure (an unreadable input, ...), one line on
stderr; 2 a usage error. No traceback unless --debug.
"""
from __future__ import annotations

import sys

import typer

from ..errors import OllalogError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Read Ollama server logs: typed tables, and where each model load ran.")



@app.callback()
def _root() -> None:
    """Read Ollama server logs: typed tables, and where each model load ran."""


from . import parse as _parse  # noqa: E402,F401  (registers the command)
from . import why as _why  # noqa: E402,F401
from . import sql as _sql  # noqa: E402,F401
from . import ingest as _ingest  # noqa: E402,F401


def main(argv: list[str] | None = None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv, prog_name="ollalog", standalone_mode=True)
    except SystemExit as e:
        return int(e.code or 0) if not isinstance(e.code, str) else 1
    except KeyboardInterrupt:
        print("ollalog: interrupted", file=sys.stderr)
        return 130
    except OllalogError as e:
        if debug:
            raise
        print(f"ollalog: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # an ollalog bug: one line, the traceback with --debug
        if debug:
            raise
        print(f"ollalog: internal error: {type(e).__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return 1
    return 0


def run() -> None:
    sys.exit(main())
