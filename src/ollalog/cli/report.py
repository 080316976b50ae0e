"""`ollalog report LOGS... -o report.html`: a post-mortem page of logs or a dataset (report.py)."""
from __future__ import annotations

import os
import sys
from typing import Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError
from . import command
from .common import AtomicFiles, Debug, Engine, Host, Logs, Year, error, usage_error, write_text

FORMATS = ("html", "markdown", "json")


@command("report")
def report(
    logs: Logs = None,
    out: Annotated[Optional[str], typer.Option(
        "--out", "-o", metavar="FILE",
        help="Write the report to FILE (HTML needs one unless stdout is redirected).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", metavar="FORMAT",
        help="html (default: one self-contained page with charts), markdown (the same findings for an "
             "issue or a chat) or json (the report's data).")] = "html",
    data: Annotated[Optional[str], typer.Option(
        "--data", metavar="DIR", help="Report on a dataset written by `ollalog ingest` instead of logs.")] = None,
    models_dir: Annotated[Optional[str], typer.Option(
        "--models-dir", metavar="DIR",
        help="Ollama's models dir, to name models by their tags (else OLLAMA_MODELS, the log's server config, "
             "the platform default).")] = None,
    title: Annotated[Optional[str], typer.Option("--title", metavar="TITLE",
                                                 help="The title of the page or the Markdown (default: ollalog report).")] = None,
    host: Host = None,
    year: Year = None,
    engine: Engine = "c",
    debug: Debug = False,
) -> None:
    """A post-mortem of logs: per model free VRAM against what each load needs and the num_ctx that
    fits, a timeline per host, the warnings that matter, why each load ran where it ran.

    Exit status: 0 written; 1 an input could not be read (the report covers the rest) or the
    [report] extra is missing; 2 usage.
    """
    from ..render import to_json
    from ..report import report as build_report

    if fmt not in FORMATS:
        raise usage_error(f"choose from {', '.join(FORMATS)}", "--format")
    from ..read import ENGINES
    if engine not in ENGINES:
        raise usage_error(f"choose from {', '.join(ENGINES)}", "--engine")
    paths = list(logs or [])
    if data is not None and paths:
        raise usage_error("give logs or --data DIR, not both", "--data")
    if data is None and not paths:
        raise usage_error("give at least one log file, directory, glob or -, or --data DIR", "LOGS")
    if out is not None and os.path.isdir(out):
        raise usage_error(f"{out} is a folder: give a file name such as {os.path.join(out, 'report.html')}", "--out")
    if fmt == "html" and out is None and sys.stdout.isatty():
        raise usage_error("the HTML report is a file: give -o report.html (or --format markdown)", "--out")
    if fmt == "html":
        from ..render.html import require
        require()                     # before reading anything: say at once what to install

    failures: list[InputError] = []

    def skipped(e: InputError) -> None:
        failures.append(e)
        error(str(e))

    # an unwritable --out fails at once, before anything is read
    with AtomicFiles({"report": out} if out is not None else {}) as temps:
        result = build_report(paths if data is None else None, data=data, models_dir=models_dir, host=host,
                              year=year, engine=engine, on_error=skipped)
        if data is None and failures and not any(f["parsed"] for f in result["inputs"]["files"]):
            raise typer.Exit(1)       # nothing could be read (missing, binary, no Ollama line): no report of nothing
        if fmt == "html":
            from ..render.html import render_html
            text = render_html(result, title=title)
        elif fmt == "markdown":
            from ..render.markdown import render_report
            from ..render import printable_data
            text = render_report(printable_data(result), title=title or "ollalog report")
        else:
            text = to_json(result) + "\n"
        write_text(text, temps["report"] if out is not None else None)
    if failures:
        raise typer.Exit(1)
