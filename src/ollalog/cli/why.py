"""`ollalog why MODEL LOGS...`: where each load of a model ran, why, and the num_ctx that fits."""
from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError, UsageError
from . import command

FORMATS = ("text", "json", "markdown")
KV_TYPES = ("f16", "q8_0", "q4_0")


@command("why")
def why(
    model: Annotated[Optional[str], typer.Argument(
        metavar="MODEL", help="the model as you run it (deepseek-r1:32b, user/model:tag, hf.co/...); with --all, a log",
        show_default=False)] = None,
    logs: Annotated[Optional[List[str]], typer.Argument(
        metavar="LOGS", help="log files, directories, globs, or - for stdin", show_default=False)] = None,
    all_models: Annotated[bool, typer.Option("--all", help="explain every load in the logs, grouped by model")] = False,
    models_dir: Annotated[Optional[str], typer.Option(
        "--models-dir", metavar="DIR",
        help="Ollama's models dir (else OLLAMA_MODELS, the log's server config, the platform default)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="text, json or markdown")] = "text",
    out: Annotated[Optional[str], typer.Option("--out", "-o", metavar="FILE",
                                               help="write the answer to FILE instead of the terminal")] = None,
    num_ctx: Annotated[Optional[int], typer.Option("--num-ctx", metavar="N", min=1,
                                                   help="what if each load had used this num_ctx")] = None,
    parallel: Annotated[Optional[int], typer.Option("--parallel", metavar="P", min=1,
                                                    help="what if OLLAMA_NUM_PARALLEL had been P")] = None,
    kv_cache_type: Annotated[Optional[str], typer.Option("--kv-cache-type", metavar="TYPE",
                                                         help="what if the KV cache were f16, q8_0 or q4_0")] = None,
    flash_attention: Annotated[Optional[bool], typer.Option("--flash-attention/--no-flash-attention",
                                                            help="what if flash attention were on (or off)",
                                                            show_default=False)] = None,
    num_gpu: Annotated[Optional[int], typer.Option("--num-gpu", metavar="N", min=0,
                                                   help="what if num_gpu forced N layers onto the GPU")] = None,
    host: Annotated[Optional[str], typer.Option("--host", metavar="NAME",
                                                help="host name for every line (else from prefixes or folders)")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Where each load of MODEL ran (GPU, split, CPU), why in numbers, the largest num_ctx that
    keeps it on the GPU, and what to change.

    Exit status: 0 loads found; 1 the model never loaded or an input could not be read; 2 usage.
    """
    from ..render import render
    from ..why import WhatIf, why as run_why

    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose from {', '.join(FORMATS)}", param_hint="--format")
    if kv_cache_type is not None and kv_cache_type not in KV_TYPES:
        raise typer.BadParameter(f"choose from {', '.join(KV_TYPES)}", param_hint="--kv-cache-type")
    paths = list(logs or [])
    if all_models and model is not None:
        paths.insert(0, model)
        model = None
    if not paths:
        raise typer.BadParameter("give at least one log file, directory, glob or -", param_hint="LOGS")
    if model is None and not all_models:
        raise typer.BadParameter("name a model, or use --all", param_hint="MODEL")
    if model is not None:
        from ..models import ModelName
        try:
            ModelName.parse(model)
        except UsageError as e:
            raise typer.BadParameter(str(e), param_hint="MODEL") from None

    failures: list[InputError] = []

    def report(e: InputError) -> None:
        failures.append(e)
        print(f"ollalog: error: {e}", file=sys.stderr)

    whatif = WhatIf(num_ctx=num_ctx, parallel=parallel, kv_cache_type=kv_cache_type,
                    flash_attention=flash_attention, num_gpu=num_gpu)
    result = run_why(model, paths, models_dir=models_dir, all_models=all_models, whatif=whatif, host=host,
                     on_error=report)
    if not result.loads and all_models:
        raise UsageError("no model loads in these logs") if not failures else typer.Exit(1)
    color = out is None and fmt == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    width = 100
    if out is None and sys.stdout.isatty():
        width = max(100, os.get_terminal_size().columns)
    text = render(result.to_dict(), fmt, color=color, width=width)
    if out is not None:
        _write_atomic(out, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if failures:
        raise typer.Exit(1)


def _write_atomic(path: str, text: str) -> None:
    """Write to a temporary name beside `path`, then rename: never a half-written answer."""
    d = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a directory")
    tmp = os.path.join(d, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"--out {path}: {e.strerror or e}") from None
