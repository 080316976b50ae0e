"""The estimators on their own: the closed form against the loop it replaces, Ollama's graph
formula against a logged graph, version bounds from a line's shape and date, eras' facts."""
from __future__ import annotations

import random

import numpy as np
import pytest

from ollalog.estimate import eras, legacy
from ollalog.estimate.graph import HParams, graph_bytes, kv_bytes

GIB, MIB = 1 << 30, 1 << 20


def _line(rng, L, **kw):
    base = dict(form="legacy", library="cuda", requested=-1, model_layers=L + 1, offload=None,
                available=[int(rng.uniform(1, 48) * GIB)], overhead=rng.choice([0, 512 * MIB]),
                required_full=None, required_partial=None, kv=int(rng.uniform(0.01, 20) * GIB),
                weights_total=70 * GIB, weights_repeating=int(rng.uniform(0.5, 60) * GIB),
                weights_output=int(rng.uniform(0, 2) * GIB), graph_full=int(rng.uniform(0.01, 8) * GIB),
                graph_partial=int(rng.uniform(0.01, 10) * GIB), projector_weights=rng.choice([0, 800 * MIB]),
                projector_graph=rng.choice([0, GIB]))
    base.update(kw)
    return legacy.OffloadLine(**base)


@pytest.mark.parametrize("seed", range(8))
def test_one_gpu_closed_form_equals_the_loop(seed):
    rng = random.Random(seed)
    for _ in range(50):
        L = rng.randint(8, 96)
        ln = _line(rng, L, requested=rng.choice([-1, -1, rng.randint(0, L + 3)]))
        v = rng.choice([(0, 3, 10), (0, 5, 7), (0, 6, 8), (0, 7, 0), (0, 9, 0), (0, 11, 4)])
        m = legacy.build(ln, version=v, ctx0=8192, hparams=HParams())
        C = np.array([512, 2048, 8192, 32768, 131072], float)
        fast, slow = m.run(C), m.run(C, loop=True)
        for k in ("layers", "vram", "total"):
            assert np.allclose(fast[k], slow[k]), (k, v, fast[k], slow[k])


def test_layers_fall_as_the_context_grows():
    rng = random.Random(3)
    for _ in range(20):
        m = legacy.build(_line(rng, 64, available=[24 * GIB, 8 * GIB]), version=(0, 5, 7), ctx0=4096,
                         hparams=HParams())
        r = m.run(np.arange(256, 262144, 4096, dtype=float))["layers"]
        assert (np.diff(r) <= 0).all()


SEED_SHAPE = HParams(arch="qwen2", n_layer=64, n_embd=5120, n_head=40, n_head_kv=8, head_k=128, head_v=128,
                     n_vocab=152064, n_ctx_train=131072)


def test_graph_formula_reproduces_the_seed_logged_graph():
    # the seed's offload line at C = 262144: graph full 20.5 GiB, partial 25.5 GiB, KV 64.0 GiB
    kv = kv_bytes(SEED_SHAPE, [262144])
    gp, gf = graph_bytes(SEED_SHAPE, [262144], 512, kv, library="cuda", gpus=1)
    assert kv[0] == 64 * GIB
    assert abs(gf[0] / GIB - 20.5) < 0.05 and abs(gp[0] / GIB - 25.5) < 0.05


def test_multi_gpu_and_metal_graph_rules():
    kv = kv_bytes(SEED_SHAPE, [8192])
    gp1, gf1 = graph_bytes(SEED_SHAPE, [8192], 512, kv, library="cuda", gpus=1)
    gp2, gf2 = graph_bytes(SEED_SHAPE, [8192], 512, kv, library="cuda", gpus=2)
    gpm, gfm = graph_bytes(SEED_SHAPE, [8192], 512, kv, library="metal", gpus=1)
    assert gf2[0] == gp2[0] == gp1[0]          # several GPUs: the partial graph everywhere
    assert gpm[0] == gfm[0] == gf1[0]          # Metal: no partial-offload overhead


def test_version_bounds_from_shape_and_date():
    ln = _line(random.Random(0), 32, overhead=None)
    assert legacy.shape_range(ln) == ((0, 1, 45), (0, 5, 11))
    ln.message_form = True
    lo, hi = legacy.shape_range(ln)
    assert (lo, hi) == ((0, 5, 12), (0, 12, 10))
    lo2, hi2, narrowed = eras.bound_by_date(lo, hi, "2025-05-22")
    assert narrowed and hi2 in ((0, 7, 0), (0, 7, 1))
    assert eras.bound_by_date(lo, hi, "not a date") == (lo, hi, False)


def test_eras_facts():
    assert eras.default_num_ctx((0, 5, 7)) == 2048
    assert eras.default_num_ctx((0, 9, 0)) == 4096
    assert eras.default_num_ctx((0, 16, 0), total_vram=24 * GIB) == 32768
    assert eras.minimum_memory("metal") == 512 * MIB and eras.minimum_memory("cuda") == 457 * MIB
    assert eras.minimum_memory("cuda", (0, 1, 34)) == 256 * MIB
    assert not eras.has_kv_cache_type((0, 4, 7)) and eras.has_kv_cache_type((0, 5, 0))
    assert not eras.has_context_length_env((0, 5, 7)) and eras.has_context_length_env((0, 5, 13))
    assert eras.flash_attention_default((0, 12, 11), "qwen3") and not eras.flash_attention_default((0, 12, 3), "qwen3")
    assert eras.parse_version("0.14.3-rc3") == (0, 14, 3) and eras.parse_version("junk") is None
    assert eras.legacy_traits((0, 6, 0))["weights"] == "with_kv"
    assert eras.legacy_traits((0, 6, 2))["weights"] == "blocks"
    assert eras.legacy_traits((0, 6, 3))["weights"] == "split"
