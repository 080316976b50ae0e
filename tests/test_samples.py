"""The project's own sample logs (sample_logs/*.log with their .json): the same checks as the
corpus, and the seed scenario (deepseek-r1:32b on a 24 GB card, v0.5.x)."""
import pytest

import ollalog
from conftest import SAMPLE_DIR, check_log_against_json, sample_logs_list

SAMPLES = sample_logs_list()  # collected at import time: one test per file
SEED = "seed-deepseek-r1-32b.log"


@pytest.mark.parametrize("log", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_log(log, engine):
    assert log.with_suffix(".json").is_file(), f"{log.name} has no .json beside it"
    check_log_against_json(log, engine, strict=True)


def test_sample_logs_present():
    names = sorted(p.name for p in sample_logs_list())
    assert len(names) >= 5, f"sample_logs/ holds {len(names)} logs: {names}"
    assert SEED in names
    for n in names:
        assert (SAMPLE_DIR / n).with_suffix(".json").is_file(), f"{n} has no .json"


def _seed_loads(engine) -> list[dict]:
    path = SAMPLE_DIR / SEED
    assert path.is_file(), f"{path} is missing"
    t = ollalog.read(str(path), engine=engine)
    assert t.errors == []
    return t.loads.to_pylist()


def test_seed_scenario_loads(engine):
    """One gpu load (65/65 layers) and one cpu load (0/65, ctx 262144 = 131072 x 2), same blob."""
    loads = _seed_loads(engine)
    gpu = [r for r in loads if r["placement"] == "gpu"]
    cpu = [r for r in loads if r["placement"] == "cpu"]
    assert len(gpu) == 1 and len(cpu) == 1, [r["placement"] for r in loads]
    gpu, cpu = gpu[0], cpu[0]
    assert (gpu["layers_offloaded"], gpu["layers_total"]) == (65, 65)
    assert (cpu["layers_offloaded"], cpu["layers_total"]) == (0, 65)
    assert cpu["ctx_size"] == 262144
    assert cpu["parallel"] == 2
    assert cpu["num_ctx"] == 131072
    assert isinstance(gpu["model_blob"], str) and len(gpu["model_blob"]) == 64
    assert gpu["model_blob"] == cpu["model_blob"]
    assert gpu["line"] < cpu["line"]


def test_seed_scenario_has_only_the_two_loads(engine):
    loads = _seed_loads(engine)
    assert [(r["placement"], r["layers_offloaded"], r["layers_total"]) for r in loads] == \
        [("gpu", 65, 65), ("cpu", 0, 65)]
