"""`ollalog watch LOGS... | --journald`: the moment a load falls to CPU, and Prometheus metrics (watch.py)."""
from __future__ import annotations

import signal
import sys
import threading
from typing import List, Optional

import typer
from typing_extensions import Annotated

from . import command
from .common import Debug, Engine, Host, Interrupted, Quiet, Year, usage_error

FORMATS = ("text", "json")
DEFAULT_UNIT = "ollama"


def parse_addr(text: str) -> tuple[str, int]:
    """`127.0.0.1:9464`, `[::1]:9464`, `localhost:0` -> (address, port)."""
    addr, sep, port = text.rpartition(":")
    if not sep or not addr or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise usage_error(f"{text!r}: give ADDR:PORT, such as 127.0.0.1:9464 (port 0: any free one)", "--metrics")
    if addr.startswith("[") and addr.endswith("]"):
        addr = addr[1:-1]
    return addr, int(port)


def alerts_sink(fmt: str, quiet: bool, hooks):
    """A watch.Sink: one line (or JSON object) per load on stdout, and the hooks."""
    from ..render import to_json
    from ..render.watch import alert_line
    from ..watch import Sink

    class Alerts(Sink):
        def load(self, ev: dict) -> None:
            payload = None
            if not quiet:
                if fmt == "json":
                    payload = to_json(ev, indent=None)
                    sys.stdout.write(payload + "\n")
                else:
                    sys.stdout.write(alert_line(ev) + "\n")
                sys.stdout.flush()
            hook = {"cpu": "on_cpu", "partial": "on_partial"}.get(ev.get("placement"))
            if hook and hooks.wants(hook):
                payload = payload or to_json(ev, indent=None)
                hooks.run(hook, payload.encode("utf-8") + b"\n",
                          {"event": ev.get("event"), "placement": ev.get("placement"), "cause": ev.get("cause"),
                           "model": ev.get("model"), "host": ev.get("host")})
    return Alerts()


@command("watch")
def watch(
    logs: Annotated[Optional[List[str]], typer.Argument(
        metavar="LOGS", help="Log files to follow by name through rotations (one that does not exist yet is "
                             "waited for), or - for stdin.", show_default=False)] = None,
    journald: Annotated[bool, typer.Option("--journald", help="Follow the systemd journal (journalctl -o json).")] = False,
    unit: Annotated[Optional[List[str]], typer.Option(
        "--unit", "-u", metavar="UNIT", help="The journal's unit to follow with --journald (default ollama); "
                                             "repeat for several.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT",
                                     help="Alerts as text (one line per load) or json (one object per line).")] = "text",
    on_cpu: Annotated[Optional[str], typer.Option(
        "--on-cpu", metavar="CMD", help="Run CMD through the shell, the verdict as JSON on its stdin, when a load "
                                        "lands on the CPU.")] = None,
    on_partial: Annotated[Optional[str], typer.Option(
        "--on-partial", metavar="CMD", help="Run CMD likewise when a load is split between GPU and CPU.")] = None,
    hook_timeout: Annotated[float, typer.Option(
        "--hook-timeout", metavar="SECONDS", min=0.1,
        help="Kill an --on-cpu or --on-partial command still running after this long (default 10).")] = 10.0,
    metrics: Annotated[Optional[str], typer.Option(
        "--metrics", metavar="ADDR:PORT", help="Serve Prometheus metrics at http://ADDR:PORT/metrics "
                                               "(such as 127.0.0.1:9464; port 0 picks a free one).")] = None,
    state: Annotated[Optional[str], typer.Option(
        "--state", metavar="FILE", help="Keep the position here, so that a restart goes on where it stopped. "
                                        "Default: ~/.local/state/ollalog/watch-ID.json (none with --once).")] = None,
    no_state: Annotated[bool, typer.Option("--no-state", help="Keep no state: a restart begins anew.")] = False,
    from_start: Annotated[bool, typer.Option(
        "--from-start", help="Tell the loads the files already hold too (by default what is there only sets "
                             "up the state, and only new loads are told).")] = False,
    once: Annotated[bool, typer.Option(
        "--once", help="Read what is there now (from the --state position, else from the start), tell it, "
                       "and exit.")] = False,
    poll: Annotated[bool, typer.Option(
        "--poll", help="Look at the files every second instead of waiting for change events (network file "
                       "systems).")] = False,
    models_dir: Annotated[Optional[str], typer.Option(
        "--models-dir", metavar="DIR", help="Ollama's models dir, to name loads by their tag (else OLLAMA_MODELS, "
                                            "the log's server config, the platform default).")] = None,
    max_models: Annotated[int, typer.Option(
        "--max-models", metavar="N", min=1,
        help="Distinct model names the metrics label; later ones count as other (default 100).")] = 100,
    host: Host = None,
    year: Year = None,
    engine: Engine = "c",
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Follow logs as they grow: one line per completed load with why's verdict, commands on CPU or
    split loads, Prometheus metrics.

    Runs until stopped (Ctrl-C, SIGTERM); the state file lets the next run go on where this one
    stopped. Exit status: 0 stopped by SIGTERM or --once done; 1 an input could not be read;
    2 usage; 130 Ctrl-C.
    """
    from ..lean import lean
    lean()               # before pyarrow is imported: numpy and pandas stay out of a watch
    from .. import watch as W
    from ..read import ENGINES
    from ..hooks import Hooks

    paths = list(logs or [])
    if not paths and not journald:
        raise usage_error("give a log file to follow, - for stdin, or --journald", "LOGS")
    if unit and not journald:
        raise usage_error("--unit goes with --journald", "--unit")
    if fmt not in FORMATS:
        raise usage_error(f"choose from {', '.join(FORMATS)}", "--format")
    if engine not in ENGINES:
        raise usage_error(f"choose from {', '.join(ENGINES)}", "--engine")
    if state is not None and no_state:
        raise usage_error("--state and --no-state contradict each other", "--state")
    if metrics is not None and once:
        raise usage_error("--metrics serves a running watch: drop --once", "--metrics")
    addr = parse_addr(metrics) if metrics is not None else None
    units = (unit or [DEFAULT_UNIT]) if journald else None
    if state is None and not no_state and not once:
        keys = W.stream_keys(paths, units)
        state = W.default_state_path(keys) if keys else None

    def say(text: str) -> None:
        if not quiet:
            print(f"ollalog: {text}", file=sys.stderr, flush=True)

    def notice(kind: str, text: str) -> None:
        if kind == "error":
            print(f"ollalog: error: {text}", file=sys.stderr, flush=True)
        else:
            say(text)

    sinks = []
    met = None
    if addr is not None:
        from ..metrics import Metrics
        met = Metrics(max_models=max_models)
        sinks.append(met)

    def hook_result(hook: str, result: str, detail: str) -> None:
        if met is not None:
            met.hook_run(hook, result)
        if result != "ok":
            flag = "--" + hook.replace("_", "-")
            print(f"ollalog: {flag}: {result}{': ' + detail if detail else ''}", file=sys.stderr, flush=True)

    hooks = Hooks({"on_cpu": on_cpu, "on_partial": on_partial}, timeout=hook_timeout, report=hook_result)
    sinks.append(alerts_sink(fmt, quiet, hooks))   # after the metrics: an alert seen is in /metrics already
    w = W.Watch(paths, journald=units, host=host, year=year, engine=engine, sinks=sinks, state=state,
                history=not from_start, once=once, poll=poll, models_dir=models_dir, notice=notice)
    stop = threading.Event()
    why_stopped: list = []

    def on_signal(signum, frame):
        why_stopped.append(signum)
        stop.set()
        w.wake_up()

    old = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, on_signal)
    try:
        if addr is not None:
            try:
                bound = met.serve(*addr)
            except OSError as e:
                from ..errors import OllalogError
                raise OllalogError(f"--metrics {metrics}: {e.strerror or e}") from None
            host_s = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
            say(f"metrics at http://{host_s}:{bound[1]}/metrics")
        what = ", ".join(t.name for t in w.trackers)
        if not once:
            say(f"watching {what}" + (f" (state: {state})" if state else " (no state kept)"))
        ok = w.run(stop)
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
        hooks.close(grace=min(hook_timeout, 5.0))
        if met is not None:
            met.close()
    if signal.SIGINT in why_stopped:
        raise Interrupted(f"state saved to {state}" if state else "")
    if not ok:
        raise typer.Exit(1)
