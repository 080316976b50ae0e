"""Loads from the shapes logs take when users paste them: the tail of a load, lines whose prefix
was cut, the oldest estimator lines, scheduler verdicts alone, a server without a GPU, and the
claims an excerpt does not support. Every fixture is written from the message formats (the
research notes and Ollama's source at the version named), both engines read each one."""
from __future__ import annotations

import pytest

import ollalog

BLOB = "0c3f5a1e9b7d2f4c6a8e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a"
MODEL = f"/usr/share/ollama/.ollama/models/blobs/sha256-{BLOB}"


def S(clock: str, msg: str, *attrs: str, level: str = "INFO", source: str = "server.go:1", zone: str = "+02:00") -> str:
    """A slog line at 2025-04-27T<clock><zone>; msg quoted when it needs it."""
    m = msg if msg and " " not in msg and "=" not in msg else '"' + msg + '"'
    return " ".join([f"time=2025-04-27T{clock}{zone} level={level} source={source} msg={m}", *attrs])


def read(log_file, engine, *lines: str) -> list[dict]:
    t = ollalog.read(str(log_file(("\n".join(lines) + "\n").encode())), engine=engine)
    assert t.errors == []
    (ln,) = t.lines.to_pylist()
    assert ln["malformed"] == 0 and ln["physical"] == len(lines)
    return t.loads.to_pylist()


def pick(row: dict, *keys: str) -> tuple:
    return tuple(row[k] for k in keys)


PLACE = ("placement", "placement_basis", "layers_offloaded", "layers_total")
RUNNER_STARTED = S("10:00:09.500", "llama runner started in 8.52 seconds")
CHAT = '[GIN] 2025/04/27 - 10:00:12 | 200 |  11.2s |       127.0.0.1 | POST     "/api/chat"'


# -- 1. the tail of a load: where the KV cache and the buffers went --------------------------------


@pytest.mark.parametrize("kv, extra, want", [
    (["CUDA0"], ["llama_new_context_with_model:      CUDA0 compute buffer size =   560.00 MiB"], "gpu"),
    (["CUDA0", "CPU"], ["llama_new_context_with_model:      CUDA0 compute buffer size =   560.00 MiB"], "partial"),
    (["CPU"], ["llama_new_context_with_model:        CPU compute buffer size =   164.01 MiB"], "cpu"),
    (["CPU"], ["llama_new_context_with_model:      CUDA0 compute buffer size =   560.00 MiB"], None),
], ids=["kv-on-gpu", "kv-split", "cpu-only", "kv-on-cpu-with-gpu-backend"])
def test_tail_of_a_load(log_file, engine, kv, extra, want):
    """Only the runner's last lines: every KV buffer on a GPU is gpu, some on the CPU partial, only
    CPU buffers and no GPU backend cpu; a CPU KV cache next to a GPU compute buffer says nothing."""
    lines = ["llama_new_context_with_model: n_ctx      = 8192"]
    lines += [f"llama_kv_cache_init: {d:>10} KV buffer size =   512.00 MiB" for d in kv]
    lines += extra + [RUNNER_STARTED, CHAT]
    (ld,) = read(log_file, engine, *lines)
    assert ld["placement"] == want
    assert ld["placement_basis"] == ("buffers" if want else None)
    assert (ld["ctx_size"], ld["kv_bytes"], ld["outcome"]) == (8192, 512 * len(kv) << 20, "loaded")


def test_tail_model_buffers_on_cpu_but_kv_on_gpu_is_not_cpu(log_file, engine):
    """A CPU model buffer alone (the GPU one was not pasted) next to a GPU KV cache: no claim."""
    (ld,) = read(log_file, engine,
                 "llm_load_tensors:   CPU_Mapped model buffer size =   417.66 MiB",
                 "llama_kv_cache_init:      CUDA0 KV buffer size =   512.00 MiB")
    assert ld["placement"] is None


# -- 2. prefixes stripped or filtered ----------------------------------------------------------------


def test_load_from_lines_without_prefixes(log_file, engine):
    """A log viewer's copy: messages and attributes only, the Go log line without its time."""
    lines = [
        'offload to cuda layers.requested=-1 layers.model=33 layers.offload=20 layers.split="" '
        'memory.available="[7.6 GiB]" memory.required.full="9.8 GiB" memory.required.partial="7.4 GiB" '
        'memory.required.kv="1.0 GiB"',
        f'"starting llama server" cmd="/usr/lib/ollama/runners/cuda_v12/ollama_llama_server --model {MODEL} '
        '--ctx-size 8192 --batch-size 512 --n-gpu-layers 20 --parallel 4 --port 41234"',
        "llama runner started in 4.10 seconds",
    ]
    (ld,) = read(log_file, engine, *lines)
    assert pick(ld, *PLACE) == ("partial", "runner", 20, 33)
    assert pick(ld, "ctx_size", "parallel", "num_ctx", "model_blob", "outcome") == (8192, 4, 2048, BLOB, "loaded")
    assert ld["vram_available_bytes"] == round(7.6 * (1 << 30))


def test_lines_that_start_at_level(log_file, engine):
    (ld,) = read(log_file, engine, *(line[line.index("level="):] for line in [
        S("10:00:01.000", "offload to cuda", "layers.requested=-1", "layers.model=29", "layers.offload=29",
          'memory.available="[23.3 GiB]"'),
        S("10:00:01.010", "starting llama server",
          f'cmd="/usr/bin/ollama runner --model {MODEL} --ctx-size 2048 --n-gpu-layers 29 --parallel 1 --port 4"'),
    ]))
    assert pick(ld, *PLACE) == ("gpu", "runner", 29, 29)


def test_grep_gpu_keeps_a_few_lines_of_each_load(log_file, engine):
    """`grep GPU`: the verdict and the offload lines of two loads, nothing else: two loads."""
    block = lambda c, n: [  # noqa: E731
        S(f"10:0{c}:00.000", "new model will fit in available VRAM in single GPU, loading", f"model={MODEL}",
          "gpu=GPU-2b7c4e1a", "parallel=4", "available=25314983936", 'required="6.2 GiB"', source="sched.go:714"),
        f"llm_load_tensors: offloading {n - 1} repeating layers to GPU",
        "llm_load_tensors: offloading output layer to GPU",
        f"llm_load_tensors: offloaded {n}/{n} layers to GPU",
    ]
    loads = read(log_file, engine, *block(1, 33), *block(5, 29))
    assert [pick(r, *PLACE) for r in loads] == [("gpu", "runner", 33, 33), ("gpu", "runner", 29, 29)]
    assert [r["evidence_lines"] for r in loads] == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert [r["parallel"] for r in loads] == [4, 4]


def test_pager_cut_value_gives_no_plan(log_file, engine):
    """`less -S` cut the estimate at `layers.offload=3>`: 3 is not the plan."""
    (ld,) = read(log_file, engine, S("10:00:01.000", "offload to cuda", "layers.requested=-1", "layers.model=33",
                                     "layers.offload=3>"))
    assert (ld["layers_planned"], ld["placement"]) == (None, None)


# -- 3. the oldest estimator lines --------------------------------------------------------------------

V0132 = S("10:00:01.000", "offload to gpu", "reallayers=20", "layers=20", 'required="9416.5 MiB"', 'used="7410.0 MiB"',
          'available="7600.2 MiB"', 'kv="1024.0 MiB"', 'fulloffload="164.0 MiB"', 'partialoffload="193.0 MiB"')
V0133 = S("10:00:01.000", "offload to gpu", "layers.real=-1", "layers.estimate=20", 'memory.available="7600.2 MiB"',
          'memory.required.full="9416.5 MiB"', 'memory.required.partial="7410.0 MiB"', 'memory.required.kv="1024.0 MiB"')
V0138 = S("10:00:01.000", "offload to gpu", "layers.requested=-1", "layers.real=20", 'memory.available="7.4 GiB"',
          'memory.required.full="9.2 GiB"', 'memory.required.partial="7.2 GiB"', 'memory.required.kv="1.0 GiB"')
RUNNER_0138 = S("10:00:01.090", "starting llama server",
                f'cmd="/tmp/ollama1/runners/cuda_v11/ollama_llama_server --model {MODEL} --ctx-size 8192 '
                '--batch-size 512 --embedding --log-disable --n-gpu-layers 20 --parallel 4 --port 41234"')


@pytest.mark.parametrize("line, requested", [(V0132, None), (V0133, -1), (V0138, -1)],
                         ids=["v0.1.32-reallayers", "v0.1.33-layers.estimate", "v0.1.38-layers.real"])
def test_oldest_estimator_lines(log_file, engine, line, requested):
    (ld,) = read(log_file, engine, line)
    assert pick(ld, "layers_planned", "layers_requested", "layers_total") == (20, requested, None)
    assert ld["kv_bytes"] == 1 << 30
    assert ld["vram_available_bytes"] in (round(7600.2 * (1 << 20)), round(7.4 * (1 << 30)))


def test_estimate_printed_twice_is_one_load(log_file, engine):
    """v0.1.33 - v0.1.44 log the estimate in the scheduler's fit check, then DEBUG the verdict, then
    log it again when the server starts, milliseconds apart: one load."""
    second = V0138.replace("10:00:01.000", "10:00:01.004")
    verdict = S("10:00:01.002", "new model will fit in available VRAM in single GPU, loading", f"model={MODEL}",
                "gpu=GPU-2b7c4e1a", "available=7950000000", 'required="7.2 GiB"', level="DEBUG", source="sched.go:565")
    evaluating = S("10:00:01.003", "evaluating", "library=cuda", "gpu_count=1", 'available="7.4 GiB"',
                   level="DEBUG", source="memory.go:44")
    (ld,) = read(log_file, engine, V0138, verdict, evaluating, second, RUNNER_0138,
                 "llm_load_tensors: offloaded 20/33 layers to GPU")
    assert pick(ld, *PLACE) == ("partial", "runner", 20, 33)
    assert (ld["line"], ld["evidence_lines"], ld["model_blob"]) == (1, [1, 2, 3, 4, 5, 6], BLOB)


def test_verdict_in_the_same_millisecond_as_its_estimate(log_file, engine):
    verdict = S("10:00:01.000", "new model will fit in available VRAM in single GPU, loading", f"model={MODEL}",
                "gpu=GPU-2b7c4e1a", "available=7950000000", 'required="7.2 GiB"', level="DEBUG", source="sched.go:565")
    (ld,) = read(log_file, engine, V0138, verdict, V0138.replace("10:00:01.000", "10:00:01.003"), RUNNER_0138)
    assert (ld["line"], ld["layers_planned"], ld["model_blob"]) == (1, 20, BLOB)


def test_estimate_pasted_twice_is_two_loads(log_file, engine):
    """The same line twice with the same time is a paste, not the double print."""
    loads = read(log_file, engine, V0138, V0138)
    assert [r["line"] for r in loads] == [1, 2]


def test_estimates_seconds_apart_are_two_loads(log_file, engine):
    loads = read(log_file, engine, V0138, V0138.replace("10:00:01.000", "10:00:09.000"))
    assert len(loads) == 2


# -- 4. scheduler verdicts on their own ---------------------------------------------------------------


@pytest.mark.parametrize("msg, attrs, gpus", [
    ("new model will fit in available VRAM in single GPU, loading",
     ["gpu=GPU-2b7c4e1a", "parallel=2", "available=25314983936", 'required="6.2 GiB"'], 1),
    ("new model will fit in available VRAM across minimum required GPUs, loading",
     ["library=cuda", "parallel=2", 'required="30.4 GiB"', "gpus=2"], 2),
    ("new model will fit in available VRAM, loading", ["library=cuda", "parallel=2", 'required="30.4 GiB"', "gpus=3"], 3),
], ids=["single-gpu", "minimum-gpus", "all-gpus"])
def test_verdict_alone_is_a_planned_gpu_load(log_file, engine, msg, attrs, gpus):
    (ld,) = read(log_file, engine, S("10:00:01.000", msg, f"model={MODEL}", *attrs, source="sched.go:714"))
    assert pick(ld, *PLACE) == ("gpu", "scheduler", None, None)
    assert pick(ld, "parallel", "gpu_count", "model_blob", "outcome") == (2, gpus, BLOB, None)
    assert ld["required_full_bytes"] in (round(6.2 * (1 << 30)), round(30.4 * (1 << 30)))


def test_verdict_for_cpu_inference(log_file, engine):
    (ld,) = read(log_file, engine, S("10:00:01.000", "new model will fit in available system memory for CPU inference, "
                                     "loading", f"model={MODEL}", "parallel=1", 'required="5.1 GiB"'))
    assert pick(ld, *PLACE) == ("cpu", "scheduler", 0, None)


def test_verdict_then_estimate_the_estimate_decides(log_file, engine):
    (ld,) = read(log_file, engine,
                 S("10:00:01.000", "new model will fit in available VRAM in single GPU, loading", f"model={MODEL}",
                   "parallel=1", "available=8000000000", 'required="7.2 GiB"'),
                 S("10:00:01.020", "offload to cuda", "layers.requested=-1", "layers.model=33", "layers.offload=28",
                   'memory.available="[7.4 GiB]"'))
    assert pick(ld, *PLACE) == ("partial", "plan", 28, 33)


# -- 5. no GPU, yet an offload line ----------------------------------------------------------------

NO_GPU_DISCOVERY = [
    [S("10:00:00.500", "inference compute", "id=0", "library=cpu", "variant=avx2", 'compute=""', "driver=0.0",
       'name=""', 'total="31.3 GiB"', 'available="27.9 GiB"', source="types.go:71")],
    [S("10:00:00.500", "Dynamic LLM libraries [cpu cpu_avx cpu_avx2]", source="payload.go:44")],
    [S("10:00:00.500", "CPU does not have AVX or AVX2, disabling GPU support.", level="WARN", source="gpu.go:166")],
    [S("10:00:00.500", "no compatible GPUs were discovered", source="gpu.go:377")],
]


@pytest.mark.parametrize("discovery", NO_GPU_DISCOVERY, ids=["inference-compute-cpu", "cpu-runners-only",
                                                            "cpu-without-avx", "no-compatible-gpus"])
def test_estimate_on_a_server_without_gpu_is_cpu(log_file, engine, discovery):
    """The estimator ran against system memory: its 33 layers are not GPU layers."""
    lines = [S("10:00:00.000", "Listening on 127.0.0.1:11434 (version 0.1.38)", source="routes.go:1054"), *discovery,
             V0138.replace("layers.real=20", "layers.real=33")]
    (ld,) = read(log_file, engine, *lines)
    assert pick(ld, *PLACE) == ("cpu", "discovery", 0, None)
    assert (ld["layers_planned"], ld["library"]) == (33, "cpu")


def test_estimate_evaluated_on_the_cpu_pseudo_device(log_file, engine):
    (ld,) = read(log_file, engine,
                 S("10:00:01.000", "evaluating", "library=cpu", "gpu_count=1", 'available="29.5 GiB"', level="DEBUG",
                   source="memory.go:44"),
                 V0138.replace("10:00:01.000", "10:00:01.001").replace("layers.real=20", "layers.real=33"))
    assert pick(ld, *PLACE) == ("cpu", "discovery", 0, None)


def test_offload_to_cpu_with_a_layer_count(log_file, engine):
    (ld,) = read(log_file, engine, S("10:00:01.000", "offload to cpu", "layers.requested=-1", "layers.model=33",
                                     "layers.offload=33", 'memory.available="[29.5 GiB]"'))
    assert pick(ld, *PLACE) == ("cpu", "discovery", 0, 33)


def test_a_gpu_server_keeps_its_plan(log_file, engine):
    lines = [S("10:00:00.000", "Listening on 127.0.0.1:11434 (version 0.1.38)", source="routes.go:1054"),
             S("10:00:00.500", "Dynamic LLM libraries [cpu cpu_avx cpu_avx2 cuda_v11 rocm_v60002]", source="payload.go:44"),
             V0138.replace("layers.real=20", "layers.real=33").replace("9.2 GiB", "6.2 GiB")]
    (ld,) = read(log_file, engine, *lines)
    # no layer total shown: the full requirement (6.2 GiB) within the available 7.4 GiB says all
    assert pick(ld, *PLACE) == ("gpu", "plan", 33, None)


# -- 7. claims the excerpt does not support, and outcomes ------------------------------------------


def _request(clock: str, op: str, layers: str) -> str:
    return S(clock, "load", f'request="{{Operation:{op} LoraPath:[] Parallel:1 BatchSize:512 FlashAttention:Enabled '
                            f'KvSize:8192 KvCacheType: NumThreads:8 GPULayers:{layers} MultiUserCache:false '
                            'ProjectorPath: MainGPU:0 UseMmap:false}"', source="runner.go:1271")


LOADING = S("10:00:01.000", "loading model", '"model layers"=41', "requested=-1", source="server.go:702")
ALL_ON_ONE = "41[ID:GPU-f1e2d3c4 Layers:41(0..40)]"


@pytest.mark.parametrize("ops, want", [
    (["fit"], None),
    (["fit", "alloc"], None),
    (["fit", "alloc", "commit"], "gpu"),
], ids=["fit-alone", "fit-alloc", "committed"])
def test_fit_alone_is_a_trial(log_file, engine, ops, want):
    lines = [LOADING] + [_request(f"10:00:02.{i:03d}", op, ALL_ON_ONE) for i, op in enumerate(ops)]
    (ld,) = read(log_file, engine, *lines)
    assert ld["placement"] == want
    assert ld["placement_basis"] == ("commit" if want else None)
    assert (ld["layers_planned"], ld["ctx_size"], ld["layers_offloaded"]) == (41, 8192, 41 if want else None)


def test_pinned_memory_fallback_is_not_an_oom(log_file, engine):
    """llama.cpp could not pin host memory and falls back to ordinary memory: the load goes on."""
    (ld,) = read(log_file, engine,
                 "llm_load_tensors: offloaded 33/33 layers to GPU",
                 "llm_load_tensors:        CUDA0 model buffer size =  4403.49 MiB",
                 "ggml_cuda_host_malloc: failed to allocate 512.00 MiB of pinned memory: out of memory",
                 "llama_new_context_with_model:      CUDA0 compute buffer size =   560.00 MiB",
                 RUNNER_STARTED)
    assert pick(ld, *PLACE) == ("gpu", "runner", 33, 33)
    assert (ld["outcome"], ld["error"]) == ("loaded", None)


ESTIMATE_17 = S("10:00:01.000", "offload", "library=cuda", "layers.requested=99", "layers.model=33",
                "layers.offload=17", 'memory.available="[3.6 GiB]"', source="server.go:139")
FORCED = S("10:00:01.010", "starting llama server", f'cmd="/usr/bin/ollama runner --model {MODEL} --ctx-size 4096 '
           '--batch-size 512 --n-gpu-layers 99 --threads 8 --parallel 1 --port 40193"', source="server.go:410")


def test_forced_num_gpu_that_ran_out_of_memory_has_no_placement(log_file, engine):
    (ld,) = read(log_file, engine, ESTIMATE_17, FORCED,
                 "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 4403.49 MiB on device 0: cudaMalloc failed: out of memory",
                 "panic: unable to allocate memory from device CUDA0 for model weights",
                 S("10:00:01.600", "llama runner terminated", 'error="exit status 2"', level="ERROR", source="server.go:455"))
    assert pick(ld, *PLACE) == (None, None, None, 33)
    assert (ld["layers_planned"], ld["outcome"]) == (99, "oom")


def test_compute_buffer_oom_after_the_plan_keeps_the_plan(log_file, engine):
    """The weights were placed as planned; the compute graph did not fit after them."""
    (ld,) = read(log_file, engine, ESTIMATE_17.replace("layers.requested=99", "layers.requested=-1"),
                 "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 2508.00 MiB on device 0: cudaMalloc failed: out of memory",
                 "ggml_gallocr_reserve_n: failed to allocate CUDA0 buffer of size 2629828608")
    assert pick(ld, *PLACE) == ("partial", "plan", 17, 33)
    assert ld["outcome"] == "oom"


def test_count_and_buffers_must_agree(log_file, engine):
    """29 of 37 layers counted, but only a CPU model buffer pasted and no backend failure: no claim
    (never `cpu` with 29 of 37 offloaded)."""
    (ld,) = read(log_file, engine, "llm_load_tensors: offloaded 29/37 layers to GPU",
                 "llm_load_tensors:   CPU_Mapped model buffer size =  7012.44 MiB")
    assert pick(ld, *PLACE) == (None, None, 29, 37)


def test_count_after_a_failed_backend_is_cpu(log_file, engine):
    """The CUDA backend failed to start, so the count only echoes the request: the buffers win."""
    (ld,) = read(log_file, engine, "ggml_cuda_init: failed to initialize CUDA: no CUDA-capable device is detected",
                 "llm_load_tensors: offloaded 29/29 layers to GPU",
                 "llm_load_tensors:        CPU buffer size =  1918.35 MiB")
    assert pick(ld, *PLACE) == ("cpu", "buffers", 29, 29)


def test_runner_killed_by_a_signal_crashed(log_file, engine):
    (ld,) = read(log_file, engine, "llm_load_tensors: offloaded 33/33 layers to GPU", RUNNER_STARTED, CHAT,
                 S("10:05:00.000", "llama runner terminated", 'error="signal: killed"', level="ERROR"),
                 S("10:05:05.100", "gpu VRAM usage didn't recover within timeout", "seconds=5.1", f"model={MODEL}",
                   level="WARN", source="sched.go:646"))
    assert (ld["placement"], ld["outcome"], ld["error"]) == ("gpu", "crashed", "signal: killed")


def test_runner_stopped_by_the_server_is_not_a_crash(log_file, engine):
    (ld,) = read(log_file, engine, "llm_load_tensors: offloaded 33/33 layers to GPU", RUNNER_STARTED, CHAT,
                 S("10:05:00.000", "stopping llama server", level="DEBUG"),
                 S("10:05:00.100", "llama runner terminated", 'error="signal: killed"', level="DEBUG"))
    assert ld["outcome"] == "loaded"


@pytest.mark.parametrize("tail", [
    ["llama_kv_cache_init:      CUDA0 KV buffer size =   896.00 MiB",
     "llama_new_context_with_model:      CUDA0 compute buffer size =   424.00 MiB",
     "llama_new_context_with_model: graph splits = 2"],
    [S("10:00:03.000", "model weights", "device=CUDA0", 'size="7.5 GiB"', source="device.go:240"),
     S("10:00:03.000", "kv cache", "device=CUDA0", 'size="576.0 MiB"', source="device.go:251"),
     S("10:00:03.000", "compute graph", "device=CUDA0", 'size="290.0 MiB"', source="device.go:262")],
], ids=["llama.cpp-context-created", "memory-summary"])
def test_runner_that_allocated_everything_loaded(log_file, engine, tail):
    (ld,) = read(log_file, engine, "llm_load_tensors: offloaded 29/29 layers to GPU", *tail)
    assert (ld["placement"], ld["outcome"]) == ("gpu", "loaded")


def test_failure_after_allocation_is_the_failure(log_file, engine):
    (ld,) = read(log_file, engine, "llm_load_tensors: offloaded 29/29 layers to GPU",
                 "llama_new_context_with_model:      CUDA0 compute buffer size =   424.00 MiB",
                 S("10:00:04.000", "llama runner terminated", 'error="exit status 2"', level="ERROR"))
    assert ld["outcome"] == "crashed"


def test_old_runner_slots_give_parallel_and_num_ctx(log_file, engine):
    """v0.1.32's llama.cpp server: no --parallel flag, but the slots it made."""
    (ld,) = read(log_file, engine, "llama_new_context_with_model: n_ctx      = 8192",
                 '{"function":"initialize","level":"INFO","line":448,"msg":"initializing slots","n_slots":4,'
                 '"tid":"1","timestamp":1745740800}',
                 *('{"function":"initialize","level":"INFO","line":457,"msg":"new slot","n_ctx_slot":2048,'
                   f'"slot_id":{i},"tid":"1","timestamp":1745740800}}' for i in range(4)))
    assert pick(ld, "ctx_size", "parallel", "num_ctx") == (8192, 4, 2048)


def test_out_of_memory_while_serving_is_no_new_load(log_file, engine):
    """A CUDA error in the middle of a generation, after the runner loaded: one load. The abort
    that follows kills the runner by a signal: it crashed."""
    (ld,) = read(log_file, engine, "llm_load_tensors: offloaded 33/33 layers to GPU", RUNNER_STARTED, CHAT,
                 "CUDA error: out of memory",
                 "  current device: 0, in function ggml_cuda_op_mul_mat_cublas at ggml-cuda.cu:1234",
                 S("10:06:00.000", "llama runner terminated", 'error="signal: aborted (core dumped)"', level="ERROR"))
    assert (ld["placement"], ld["outcome"], ld["evidence_lines"]) == ("gpu", "crashed", [1, 2, 4, 6])


def test_client_giving_up_on_another_load_leaves_a_loaded_one(log_file, engine):
    (ld,) = read(log_file, engine, "llm_load_tensors: offloaded 33/33 layers to GPU", RUNNER_STARTED, CHAT,
                 S("10:07:00.000", "client connection closed before server finished loading, aborting load",
                   f"model={MODEL}", level="WARN", source="sched.go:457"))
    assert ld["outcome"] == "loaded"


def test_next_loader_dump_after_results_opens_the_next_load(log_file, engine):
    """Two runners' loader output without their server lines: the second header starts load 2."""
    block = [f"llama_model_loader: loaded meta data with 26 key-value pairs and 771 tensors from {MODEL} "
             "(version GGUF V3 (latest))",
             "llama_model_loader: - kv   0:                       general.architecture str              = qwen2",
             "llm_load_tensors: offloaded 65/65 layers to GPU",
             "llm_load_tensors:        CUDA0 model buffer size = 18926.01 MiB"]
    loads = read(log_file, engine, *block, *block)
    assert [(r["line"], r["placement"], r["model_blob"], r["architecture"]) for r in loads] == \
        [(1, "gpu", BLOB, "qwen2"), (5, "gpu", BLOB, "qwen2")]


# -- settled loads: a load no later line can change is kept as its row -----------------------------

def _read_module():
    import importlib
    return importlib.import_module("ollalog.read")  # the module (`ollalog.read` is also the function)


def _loads_and_gpus(paths, settle: bool, monkeypatch) -> tuple:
    from ollalog import assemble

    class Asm(assemble.Assembler):
        def __init__(self, file, **kw):
            super().__init__(file, settle=settle)
    monkeypatch.setattr(_read_module(), "Assembler", Asm)
    t = ollalog.read([str(p) for p in paths], tables=("loads", "gpus"), on_error=lambda e: None)
    return t.loads.to_pylist(), t.gpus.to_pylist()


def _settle_cases():
    from conftest import corpus_logs_list, sample_logs_list
    return [pytest.param(sample_logs_list(), id="samples"),
            pytest.param(corpus_logs_list(), id="corpus", marks=pytest.mark.skipif(not corpus_logs_list(),
                                                                                   reason="corpus not present")),
            pytest.param("many", id="generated")]


@pytest.mark.parametrize("paths", _settle_cases())
def test_settled_loads_read_as_the_open_ones(paths, many_loads, monkeypatch):
    """A read settles loads as it goes (a newer load of the same blob hides them from every later
    event); the loads and gpus come out exactly as an assembler that keeps every load open makes them."""
    if paths == "many":
        paths = sorted(many_loads.glob("*.log"))
    want = _loads_and_gpus(paths, False, monkeypatch)
    assert len(want[0]) >= 10
    assert _loads_and_gpus(paths, True, monkeypatch) == want


def test_a_read_holds_one_open_load_per_model(many_loads, monkeypatch):
    """Of a file with dozens of loads, the assembler ends with one open load per blob (and the
    current one): the rest are rows."""
    from ollalog.assemble import Assembler, Load, Settled
    seen = {}
    orig = Assembler.finish

    def finish(self):
        seen[self.file] = (sum(isinstance(x, Settled) for x in self.loads),
                           [x for x in self.loads if isinstance(x, Load)])
        return orig(self)
    monkeypatch.setattr(Assembler, "finish", finish)
    ollalog.read(str(many_loads / "two.log"), tables=("loads",))
    (settled, open_), = seen.values()
    blobs = {x.blob for x in open_}
    assert settled >= 20 and len(open_) <= len(blobs) + 1 and len(blobs) <= 12
