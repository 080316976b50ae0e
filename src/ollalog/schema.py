"""The tables ollalog produces: one source of truth for their columns, types and meaning.

The C engine fills `events` and `requests` column by column in exactly the order given here
(`_core` checks the names at import); `loads`, `gpus` and `lines` are assembled in Python.
Every description is one line: `ollalog parse --schema` prints them and docs/tables.md lists them.
"""
from __future__ import annotations

import pyarrow as pa

_DICT = pa.dictionary(pa.int32(), pa.string())
_TIME = pa.timestamp("us", tz="UTC")
_BYTES = pa.int64()
_FILE_ID = ("file_id", _DICT, "identity of the file: digest of its device, inode and first 4 KiB; kept as it grows")
_OFFSET = ("byte_offset", pa.int64(), "byte offset of the record's first line in the file (after decompression)")

# (name, type, description) per table, in column order.
EVENTS = [
    ("file", _DICT, "input file as given (a path, or <stdin>)"),
    _FILE_ID,
    ("line", pa.int64(), "physical line number in the file, from 1 (the first line of a wrapped record)"),
    _OFFSET,
    ("host", _DICT, "host: --host, else the transport prefix (journald, compose service), else the file's folder "
                          "when its name looks like a host (docs/parsing.md)"),
    ("time", _TIME, "UTC time of the record; zone-less times take the offset of the file's slog lines, "
                    "year-less journald times the file's year, else --year, else its mtime (docs/parsing.md)"),
    ("level", pa.string(), "TRACE/DEBUG/INFO/WARN/ERROR as printed (null for llama.cpp lines)"),
    ("source", pa.string(), "slog source file:line, Go log file:line, or the llama.cpp function name"),
    ("msg", pa.string(), "the message (for non-slog lines the text after any function prefix)"),
    ("attrs", pa.map_(pa.string(), pa.string()), "every key=value pair after msg, unquoted, in order"),
    ("kind", _DICT, "grammar: slog, log, runner, llama, probe, panic, gin, system, fragment"),
    ("event", _DICT, "catalogue name of the message (formats/messages.tsv), null when not catalogued"),
    ("pid", pa.int32(), "process id from the transport prefix (journald ident[pid], JSON wrappers)"),
    ("transport", _DICT, "prefix the line came in: plain, journald, journald-json, docker, docker-json, "
                         "docker-desktop, compose, cri, pino"),
    ("truncated", pa.bool_(), "the record was cut (unterminated quote, trailing fragment, oversized line)"),
    ("end_line", pa.int64(), "last physical line of the record (past `line` when wrapped or joined)"),
    ("prefix_time", pa.string(), "the journald prefix's own time as printed (`Apr 19 16:54:17`: no year, no zone)"),
]

REQUESTS = [
    ("file", _DICT, "input file as given"),
    _FILE_ID,
    ("line", pa.int64(), "physical line number, from 1"),
    _OFFSET,
    ("host", _DICT, "host, as for events"),
    ("time", _TIME, "UTC time the response was written (gin prints local time at response end)"),
    ("status", pa.int16(), "HTTP status"),
    ("latency_ms", pa.float64(), "request duration in milliseconds (includes model load and queueing)"),
    ("client", pa.string(), "client IP"),
    ("method", pa.string(), "HTTP method"),
    ("path", pa.string(), "request path, unquoted"),
    ("pid", pa.int32(), "process id from the transport prefix"),
    ("transport", _DICT, "prefix the line came in"),
    ("truncated", pa.bool_(), "the line was cut before its last field"),
    ("prefix_time", pa.string(), "the journald prefix's own time as printed, as for events"),
]

LOADS = [
    ("file", pa.string(), "input file of the load's first line"),
    ("file_id", pa.string(), "identity of the file (as in events)"),
    ("load_id", pa.string(), "the load's key, file_id:line; its evidence is the events of file_id at evidence_lines"),
    ("line", pa.int64(), "line of the load's first line"),
    ("end_line", pa.int64(), "line of the last line read as part of this load"),
    ("host", pa.string(), "host of the first line"),
    ("time", _TIME, "time of the first line"),
    ("ollama_version", pa.string(), "server version from the last `Listening on ... (version X)` before the load"),
    ("model_blob", pa.string(), "weights blob: the 64-hex digest when shown whole, else what is shown"),
    ("model_name", pa.string(), "model tag when the log names it (runner.name), else null"),
    ("general_name", pa.string(), "GGUF general.name or the Ollama engine's name= when printed"),
    ("architecture", pa.string(), "model architecture (arch / architecture=) when printed"),
    ("ctx_size", pa.int64(), "runner context in tokens: num_ctx x parallel (--ctx-size, KvSize, -c, n_ctx)"),
    ("parallel", pa.int64(), "parallel sequences (--parallel, Parallel, -np, n_seq_max)"),
    ("num_ctx", pa.int64(), "per-request context: ctx_size / parallel"),
    ("layers_total", pa.int64(), "layers as printed: layers.model, \"model layers\", the b of offloaded a/b"),
    ("layers_offloaded", pa.int64(), "layers on GPU: the runner's count when shown, else what it was told, else the plan"),
    ("layers_planned", pa.int64(), "the scheduler's plan: layers.offload, a layout's GPU layers, --n-gpu-layers"),
    ("layers_requested", pa.int64(), "num_gpu asked for (layers.requested / requested=), -1 automatic"),
    ("placement", pa.string(), "gpu (all layers on GPU), partial, cpu, or null when the log cannot tell"),
    ("placement_basis", pa.string(), "what decided placement: runner, buffers, fit, commit, plan, scheduler (a verdict alone), "
                                     "discovery (no GPU found), summary"),
    ("library", pa.string(), "GPU library involved: cuda, rocm, metal, vulkan, oneapi, or cpu"),
    ("gpu_count", pa.int64(), "GPUs the plan considered"),
    ("vram_available_bytes", _BYTES, "free VRAM the plan saw, summed over GPUs"),
    ("vram_available_per_gpu", pa.list_(_BYTES), "free VRAM per GPU as printed"),
    ("required_full_bytes", _BYTES, "memory for a full load (memory.required.full / total memory)"),
    ("required_partial_bytes", _BYTES, "VRAM the plan would use (memory.required.partial)"),
    ("kv_bytes", _BYTES, "KV cache (memory.required.kv, kv cache lines, or llama.cpp KV buffers)"),
    ("weights_bytes", _BYTES, "model weights without the KV cache"),
    ("graph_bytes", _BYTES, "compute graph reserved (full or partial estimate as used, or compute graph lines)"),
    ("graph_full_bytes", _BYTES, "memory.graph.full"),
    ("graph_partial_bytes", _BYTES, "memory.graph.partial"),
    ("projector_bytes", _BYTES, "vision projector weights + graph"),
    ("gpu_overhead_bytes", _BYTES, "OLLAMA_GPU_OVERHEAD as printed"),
    ("kv_cache_type", pa.string(), "f16, q8_0, q4_0 ... when printed"),
    ("flash_attention", pa.string(), "on, off or auto when printed"),
    ("runner", pa.string(), "what ran the model: llama (llama.cpp runner), ollama (Ollama engine), llama-server, cpu runner variant"),
    ("outcome", pa.string(), "loaded (started, or allocated everything), oom, crashed, timeout, refused, evicted, "
                             "aborted, or null"),
    ("error", pa.string(), "the load's error text when it failed"),
    ("evidence_lines", pa.list_(pa.int64()), "every line read as part of this load"),
]

GPUS = [
    ("file", pa.string(), "input file"),
    ("file_id", pa.string(), "identity of the file (as in events)"),
    ("line", pa.int64(), "line of the inventory line"),
    ("host", pa.string(), "host"),
    ("time", _TIME, "time of the line"),
    ("server_line", pa.int64(), "line of the `Listening on` that started this server, when shown"),
    ("origin", pa.string(), "server (inference compute) or runner (llama.cpp Device lines)"),
    ("id", pa.string(), "device id (GPU-uuid, index)"),
    ("library", pa.string(), "cuda, rocm, metal, vulkan, oneapi, cpu (lower case)"),
    ("variant", pa.string(), "runner variant (v12, avx2 ...)"),
    ("compute", pa.string(), "compute capability or gfx target"),
    ("driver", pa.string(), "driver version"),
    ("name", pa.string(), "device name"),
    ("description", pa.string(), "marketing name (v0.12.4+)"),
    ("pci_id", pa.string(), "PCI id (v0.12.4+)"),
    ("type", pa.string(), "discrete or iGPU (v0.12.4+)"),
    ("total_bytes", _BYTES, "total memory"),
    ("available_bytes", _BYTES, "available memory at discovery"),
]

LINES = [
    ("file", pa.string(), "input file"),
    ("file_id", pa.string(), "identity of the file (as in events)"),
    ("device", pa.int64(), "device number of the file when read (null for stdin)"),
    ("inode", pa.int64(), "inode number of the file when read (null for stdin)"),
    ("size", pa.int64(), "size on disk when read (compressed size for .gz/.zst; null for stdin)"),
    ("head_hash", pa.string(), "SHA-256 of the first 4 KiB after decompression (all of it when shorter)"),
    ("host", pa.string(), "host of the file's first line that names one, else the file's default"),
    ("transport", pa.string(), "transport of the first line that has one"),
    ("bytes", pa.int64(), "bytes read (after decompression)"),
    ("physical", pa.int64(), "physical lines: parsed + unknown + malformed"),
    ("parsed", pa.int64(), "lines some grammar recognised"),
    ("unknown", pa.int64(), "lines no grammar recognised (blank lines included)"),
    ("malformed", pa.int64(), "lines that start like a known grammar but lose information"),
    ("blank", pa.int64(), "empty or whitespace-only lines (counted in unknown)"),
    ("continued", pa.int64(), "lines joined to the record above (wrapped slog records, CRI partial lines)"),
    ("invalid_utf8", pa.int64(), "lines with invalid UTF-8, replaced by U+FFFD"),
    ("oversized", pa.int64(), "lines longer than the line limit, cut (counted malformed)"),
    ("slog", pa.int64(), "slog records"),
    ("log", pa.int64(), "Go log records"),
    ("gin", pa.int64(), "[GIN] request lines"),
    ("runner", pa.int64(), "runner text/JSON records"),
    ("llama", pa.int64(), "llama.cpp / ggml / llama-server lines"),
    ("probe", pa.int64(), "GPU probe debug lines"),
    ("panic", pa.int64(), "Go panic and stack lines"),
    ("system", pa.int64(), "systemd and journal lines"),
    ("other", pa.int64(), "gin debug lines and text glued before a record"),
    ("first_time", _TIME, "earliest record time"),
    ("last_time", _TIME, "latest record time"),
    ("tz_assumed", pa.bool_(), "zone-less times were taken as UTC (no slog line gave an offset)"),
    ("time_unresolved", pa.int64(), "records whose prefix time could not be dated (no year or offset known)"),
    ("error", pa.string(), "why the file was not read to its end, when it was not"),
]

KINDS = ["slog", "log", "runner", "llama", "probe", "panic", "gin", "system", "fragment"]
TRANSPORTS = ["plain", "journald", "journald-json", "docker", "docker-json", "docker-desktop",
              "compose", "cri", "pino"]
TABLES = {"events": EVENTS, "requests": REQUESTS, "loads": LOADS, "gpus": GPUS, "lines": LINES}
# Columns no engine produces: read.py adds them to every batch of a file (its identity).
PER_FILE = ("file_id",)


def schema(table: str) -> pa.Schema:
    cols = TABLES[table]
    return pa.schema([pa.field(n, t, metadata={"description": d}) for n, t, d in cols])


def engine_schema(table: str) -> pa.Schema:
    """The columns an engine produces for `events` or `requests`: the schema without PER_FILE."""
    sch = schema(table)
    return pa.schema([f for f in sch if f.name not in PER_FILE])


def describe(table: str) -> list[tuple[str, str, str]]:
    """The columns of `table` ("events", "requests", "loads", "gpus", "lines") as
    (name, Arrow type, meaning) tuples, in column order."""
    if table not in TABLES:
        raise KeyError(f"no table {table!r} (tables: {', '.join(TABLES)})")
    return [(n, str(t), d) for n, t, d in TABLES[table]]
