"""`ollalog ingest LOGS... --to DIR`: logs into a Parquet dataset, incrementally (ingest.py)."""
from __future__ import annotations

import sys
from typing import Optional

import typer
from typing_extensions import Annotated

from . import command
from .common import Debug, Engine, Host, Logs, Quiet

STATUS_ORDER = ("new", "grown", "rotated", "replaced", "reread", "unchanged", "duplicate", "error")


@command("ingest")
def ingest(
    logs: Logs = None,
    to: Annotated[Optional[str], typer.Option("--to", "-o", metavar="DIR",
                                              help="The dataset folder (made when missing).")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", metavar="N", min=1,
                                                help="Files read at once. Default: all cores.")] = None,
    host: Host = None,
    engine: Engine = "c",
    wait: Annotated[bool, typer.Option("--wait", help="Wait for another ingest of the same dataset to finish.")] = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Add logs to a Parquet dataset (partitioned by host and day); files read before are read only where they grew."""
    from .. import ingest as I

    if not logs:
        raise typer.BadParameter("give at least one log file, directory or glob", param_hint="LOGS")
    if to is None:
        raise typer.BadParameter("give the dataset folder", param_hint="--to")
    from ..read import ENGINES
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
