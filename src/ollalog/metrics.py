"""`ollalog watch --metrics ADDR:PORT`: what the logs say, as Prometheus series.

Served with the official client (prometheus_client) from its own registry, with the client's
process and platform collectors beside them. Names follow Prometheus conventions: `ollama_` for
what the Ollama server did (as its log tells), `ollalog_` for the watch itself; counters end in
`_total`, sizes in `_bytes`, durations in `_seconds`. Every label value is bounded: hosts, models
and GPUs each up to a fixed number of distinct values (then "other"), request paths one of
Ollama's routes (formats/routes.tsv; any other path is "other"), statuses a three-digit code,
placements and causes from fixed lists; values are cut to 128 characters and control characters
replaced. No path of the machine, prompt or other free text becomes a label.
"""
from __future__ import annotations

import re
import threading
from typing import Optional

OTHER = "other"
MAX_LABEL = 128
LOAD_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
REQUEST_BUCKETS = (0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
PLACEMENTS = ("gpu", "partial", "cpu")
LINE_STATUSES = ("parsed", "unknown", "malformed")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(value) -> str:
    """A label value from log text: a string, control characters replaced, at most MAX_LABEL long."""
    if value is None:
        return ""
    return _CONTROL.sub("?", str(value))[:MAX_LABEL]


class Budget:
    """At most `limit` distinct values of one label; later new values count under "other"."""

    def __init__(self, limit: int):
        self.limit = limit
        self.seen: set = set()
        self.lock = threading.Lock()

    def __call__(self, value) -> str:
        v = clean(value)
        with self.lock:
            if v in self.seen:
                return v
            if len(self.seen) < self.limit:
                self.seen.add(v)
                return v
        return OTHER


class Routes:
    """A request path -> the Ollama route it is (`/api/blobs/:digest`), or "other"."""

    def __init__(self, routes: Optional[list] = None):
        from .formats import load_routes
        self.exact: dict = {}
        self.patterns: list = []
        for r in routes if routes is not None else load_routes():
            if ":" in r:
                rx = "".join("/[^/]+" if part.startswith(":") else "/" + re.escape(part)
                             for part in r.strip("/").split("/"))
                self.patterns.append((re.compile(rx), r))
            else:
                self.exact[r] = r

    def __call__(self, path) -> str:
        if not path:
            return OTHER
        p = str(path).split("?", 1)[0]
        hit = self.exact.get(p)
        if hit is not None:
            return hit
        for rx, r in self.patterns:
            if rx.fullmatch(p):
                return r
        return OTHER


def status_label(status) -> str:
    try:
        n = int(status)
    except (TypeError, ValueError):
        return OTHER
    return str(n) if 100 <= n <= 599 else OTHER


class Metrics:
    """The series (see docs/watch.md#metrics); a `watch.Sink`."""

    def __init__(self, max_models: int = 100, max_hosts: int = 64, max_gpus: int = 64, registry=None):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client import PlatformCollector, ProcessCollector
        try:  # `_created` series: noise for these counters (the watch's start is not the log's)
            from prometheus_client import disable_created_metrics
            disable_created_metrics()
        except ImportError:
            pass
        if registry is None:
            registry = CollectorRegistry()
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
        self.registry = registry
        self.host = Budget(max_hosts)
        self.model = Budget(max_models)
        self.gpu_id = Budget(max_gpus)
        self.route = Routes()
        r = registry
        self.loads = Counter("ollama_loads", "Model loads that completed, by where they ran and why's cause",
                             ["host", "model", "placement", "cause"], registry=r)
        self.layers_offloaded = Gauge("ollama_load_layers_offloaded",
                                      "Layers on the GPU in the latest load of the model", ["host", "model"], registry=r)
        self.layers = Gauge("ollama_load_layers", "Layers of the model in its latest load", ["host", "model"], registry=r)
        self.num_ctx = Gauge("ollama_load_num_ctx", "Per-request context (num_ctx) of the latest load of the model",
                             ["host", "model"], registry=r)
        self.num_ctx_full = Gauge("ollama_load_num_ctx_full_gpu",
                                  "Largest num_ctx that keeps every layer of the model on the GPU, by why's estimate "
                                  "for its latest load (0: none does)", ["host", "model"], registry=r)
        self.load_seconds = Histogram("ollama_load_duration_seconds",
                                      "Seconds from a load's first line to its runner reporting started",
                                      ["host", "model"], buckets=LOAD_BUCKETS, registry=r)
        self.gpu_free = Gauge("ollama_gpu_free_bytes", "Free VRAM of the GPU as the log last showed it",
                              ["host", "gpu"], registry=r)
        self.request_seconds = Histogram("ollama_request_duration_seconds",
                                         "HTTP request latency from the server's [GIN] lines",
                                         ["host", "path", "status"], buckets=REQUEST_BUCKETS, registry=r)
        self.ooms = Counter("ollama_ooms", "Out-of-memory failures: of a load, or of a loaded runner serving",
                            ["host", "model", "phase"], registry=r)
        self.evictions = Counter("ollama_evictions", "Loaded models the scheduler unloaded to make room",
                                 ["host", "model"], registry=r)
        self.lines_read = Counter("ollalog_lines", "Log lines read, by how the parser took them",
                                  ["host", "status"], registry=r)
        self.last_record = Gauge("ollalog_last_record_timestamp_seconds",
                                 "Time of the latest log record read (Unix seconds)", ["host"], registry=r)
        self.hook_runs = Counter("ollalog_hook_runs", "Runs of --on-cpu / --on-partial commands by result",
                                 ["hook", "result"], registry=r)
        self.rotations = Counter("ollalog_rotations", "Followed files rotated (rename), truncated after a copy "
                                 "(truncate), or changed with no copy of their end found (lost)", ["kind"],
                                 registry=r)
        self.inputs_failed = Counter("ollalog_input_errors", "Inputs that could not be read (or stopped)",
                                     registry=r)

    # -- serving --------------------------------------------------------------------------------
    def serve(self, addr: str, port: int):
        """Serve /metrics on addr:port in a daemon thread; returns the (host, port) bound."""
        from prometheus_client import start_http_server
        got = start_http_server(port, addr=addr, registry=self.registry)
        server = got[0] if isinstance(got, tuple) else None
        bound = server.server_address[:2] if server is not None else (addr, port)
        self.server = server
        return bound

    def text(self) -> str:
        from prometheus_client import generate_latest
        return generate_latest(self.registry).decode("utf-8")

    def close(self) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.shutdown()
            server.server_close()

    # -- what the watch tells (watch.Sink) ---------------------------------------------------
    def _hm(self, d: dict) -> tuple:
        return self.host(d.get("host")), self.model(d.get("model"))

    def load(self, ev: dict) -> None:
        host, model = self._hm(ev)
        placement = ev.get("placement") if ev.get("placement") in PLACEMENTS else "none"
        cause = clean(ev.get("cause") or "unknown")
        self.loads.labels(host, model, placement, cause).inc()
        self._latest(host, model, ev)
        th = ev.get("threshold") or {}
        if th.get("num_ctx_full_gpu") is not None:
            self.num_ctx_full.labels(host, model).set(th["num_ctx_full_gpu"])
        if ev.get("load_seconds") is not None:
            self.load_seconds.labels(host, model).observe(ev["load_seconds"])
        if ev.get("outcome") == "oom":
            self.ooms.labels(host, model, "load").inc()
        for g in ev.get("vram_free_per_gpu") or []:
            self.gpu(ev.get("host"), g.get("gpu"), g.get("free_bytes"))

    def _latest(self, host: str, model: str, ld: dict) -> None:
        if ld.get("layers_offloaded") is not None:
            self.layers_offloaded.labels(host, model).set(ld["layers_offloaded"])
        if ld.get("layers_total") is not None:
            self.layers.labels(host, model).set(ld["layers_total"])
        if ld.get("num_ctx") is not None:
            self.num_ctx.labels(host, model).set(ld["num_ctx"])

    def seen_load(self, row: dict, model: str) -> None:
        """A load from before the watch began: it sets the latest-load gauges, counts nothing."""
        host, model = self.host(row.get("host")), self.model(model)
        self._latest(host, model, row)

    def requests(self, batch) -> None:
        cols = batch.select(["host", "path", "status", "latency_ms"]).to_pydict()
        for host, path, status, ms in zip(cols["host"], cols["path"], cols["status"], cols["latency_ms"]):
            if ms is None:
                continue
            self.request_seconds.labels(self.host(host), self.route(path), status_label(status)).observe(ms / 1000.0)

    def lines(self, stats: dict) -> None:
        host = self.host(stats.get("host"))
        for s in LINE_STATUSES:
            if stats.get(s):
                self.lines_read.labels(host, s).inc(stats[s])
        last = stats.get("last_time")  # the engine's: microseconds since the epoch (or a datetime)
        if last is not None:
            self.last_record.labels(host).set(last.timestamp() if hasattr(last, "timestamp") else last / 1e6)

    def gpu(self, host, gpu, free_bytes) -> None:
        if free_bytes is None:
            return
        self.gpu_free.labels(self.host(host), self.gpu_id(gpu)).set(free_bytes)

    def eviction(self, host, model) -> None:
        self.evictions.labels(self.host(host), self.model(model)).inc()

    def serving_oom(self, host, model) -> None:
        self.ooms.labels(self.host(host), self.model(model), "serving").inc()

    def hook_run(self, hook: str, result: str) -> None:
        self.hook_runs.labels(clean(hook), clean(result)).inc()

    def rotation(self, kind: str) -> None:
        self.rotations.labels(clean(kind)).inc()

    def input_error(self) -> None:
        self.inputs_failed.inc()
