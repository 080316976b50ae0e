"""`ollalog ingest LOGS... --to DIR`: logs into a Parquet dataset, incrementally (ingest.py)."""
from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..read import ENGINES
from . import app

STATUS_ORDER = ("new", "grown", "rotated", "replaced", "reread", "unchanged", "duplicate", "error")


@app.command("ingest")
def ingest(
    logs: Annotated[Optional[List[str]], typer.Argument(help="log files, directories or globs", show_default=False)] = None,
    to: Annotated[Optional[str], typer.Option("--to", "-o", help="the dataset folder (made if missing)")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="files read at once (default: all cores)", min=1)] = None,
    host: Annotated[Optional[str], typer.Option("--host", help="host name for every line (else from prefixes or folders)")] = None,
    engine: Annotated[str, typer.Option("--engine", help="c (fast) or python (the reference parser)")] = "c",
    wait: Annotated[bool, typer.Option("--wait", help="wait for another ingest of the same dataset to finish")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print nothing but errors")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Add logs to a Parquet dataset (partitioned by host and day); files read before are read only where they grew."""
    from .. import ingest as I

    if not logs:
        raise typer.BadParameter("give at least one log file, directory or glob", param_hint="LOGS")
    if to is None:
        raise typer.BadParameter("give the dataset folder", param_hint="--to")
    if engine not in ENGINES:
        raise typer.BadParameter(f"choose from {', '.join(ENGINES)}", param_hint="--engine")
    failed = 0

    def report(res) -> None:
        nonlocal failed
        if res.status == "error" or res.error:
            failed += 1
            print(f"ollalog: error: {res.name}: {res.error}", file=sys.stderr)

    summary = I.ingest(logs, to, host=host, engine=engine, jobs=jobs, wait=wait, on_result=report)
    for e in summary.errors:
        failed += 1
        print(f"ollalog: error: {e}", file=sys.stderr)
    if not quiet:
        n = len(summary.results)
        counts = "  ".join(f"{s} {summary.count(s)}" for s in STATUS_ORDER if summary.count(s))
        print(f"ingest {n} file{'s' if n != 1 else ''} into {to} in {summary.seconds:.2f} s: {counts or 'nothing'}")
        print("  added    " + "  ".join(f"{t} {summary.rows(t):,}" for t in ("events", "requests", "loads")))
        held = [r for r in summary.results if r.held_back]
        if held:
            print(f"  {len(held)} file{'s' if len(held) != 1 else ''} end in a line still being written: "
                  "it is read by the next ingest")
    if failed:
        raise typer.Exit(1)
