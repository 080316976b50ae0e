"""`ollalog why MODEL LOGS...`: where each load of a model ran, why, and the num_ctx that fits."""
from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError, UsageError
from . import command
from .common import AtomicFiles, Debug, Host, Year, error, usage_error, write_text

FORMATS = ("text", "json", "markdown")
KV_TYPES = ("f16", "q8_0", "q4_0")


@command("why")
def why(
    model: Annotated[Optional[str], typer.Argument(
        metavar="MODEL", help="The model as you run it (deepseek-r1:32b, user/model:tag, hf.co/...); "
                              "with --all, the first log.", show_default=False)] = None,
    logs: Annotated[Optional[List[str]], typer.Argument(
        metavar="LOGS", help="Log files, directories, globs, or - for stdin.", show_default=False)] = None,
    all_models: Annotated[bool, typer.Option("--all", help="Explain every load in the logs, grouped by model.")] = False,
    models_dir: Annotated[Optional[str], typer.Option(
        "--models-dir", metavar="DIR",
        help="Ollama's models dir (else OLLAMA_MODELS, the log's server config, the platform default).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="text, json or markdown.")] = "text",
    out: Annotated[Optional[str], typer.Option("--out", "-o", metavar="FILE",
                                               help="Write the answer to FILE instead of the terminal.")] = None,
    num_ctx: Annotated[Optional[int], typer.Option("--num-ctx", metavar="N", min=1,
                                                   help="What if each load had used this num_ctx.")] = None,
    parallel: Annotated[Optional[int], typer.Option("--parallel", metavar="P", min=1,
                                                    help="What if OLLAMA_NUM_PARALLEL had been P.")] = None,
    kv_cache_type: Annotated[Optional[str], typer.Option("--kv-cache-type", metavar="TYPE",
                                                         help="What if the KV cache were f16, q8_0 or q4_0.")] = None,
    flash_attention: Annotated[Optional[bool], typer.Option("--flash-attention/--no-flash-attention",
                                                            help="What if flash attention were on (or off).",
                                                            show_default=False)] = None,
    num_gpu: Annotated[Optional[int], typer.Option("--num-gpu", metavar="N", min=0,
                                                   help="What if num_gpu forced N layers onto the GPU.")] = None,
    host: Host = None,
    year: Year = None,
    debug: Debug = False,
) -> None:
    """Where each load of MODEL ran (GPU, split, CPU), why in numbers, the largest num_ctx that
    keeps it on the GPU, and what to change.

    Exit status: 0 loads found; 1 the model never loaded or an input could not be read; 2 usage.
    """
    from ..render import render_pieces
    from ..why import WhatIf, why as run_why

    if fmt not in FORMATS:
        raise usage_error(f"choose from {', '.join(FORMATS)}", "--format")
    if kv_cache_type is not None and kv_cache_type not in KV_TYPES:
        raise usage_error(f"choose from {', '.join(KV_TYPES)}", "--kv-cache-type")
    paths = list(logs or [])
    if all_models and model is not None:
        paths.insert(0, model)
        model = None
    if not paths:
        raise usage_error("give at least one log file, directory, glob or -", "LOGS")
    if model is None and not all_models:
        raise usage_error("name a model, or use --all", "MODEL")
    if model is not None:
        from ..models import ModelName
        try:
            ModelName.parse(model)
        except UsageError as e:
            raise usage_error(str(e), "MODEL") from None
    if out is not None and os.path.isdir(out):
        raise usage_error(f"{out} is a folder: give a file name", "--out")

    failures: list[InputError] = []

    def report(e: InputError) -> None:
        failures.append(e)
        error(str(e))

    whatif = WhatIf(num_ctx=num_ctx, parallel=parallel, kv_cache_type=kv_cache_type,
                    flash_attention=flash_attention, num_gpu=num_gpu)
    # an unwritable --out fails at once, before anything is read
    with AtomicFiles({"answer": out} if out is not None else {}) as temps:
        result = run_why(model, paths, models_dir=models_dir, all_models=all_models, whatif=whatif, host=host,
                         year=year, on_error=report)
        if not result.loads and all_models:
            raise UsageError("no model loads in these logs") if not failures else typer.Exit(1)
        color = out is None and fmt == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        width = max(100, os.get_terminal_size().columns) if out is None and sys.stdout.isatty() else 100
        write_text(render_pieces(result.to_dict(), fmt, color=color, width=width),
                   temps["answer"] if out is not None else None)
    if failures:
        raise typer.Exit(1)
