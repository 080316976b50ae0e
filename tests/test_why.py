"""`ollalog why`: the seed scenario against its hand computation, the estimator against the corpus,
golden text/JSON/Markdown over every sample, model resolution, exit codes and what-ifs."""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest

from conftest import REPO, SAMPLE_DIR, run_cli

from ollalog.render import render, to_json
from ollalog.why import ModelNotLoaded, WhatIf, why

SEED = "sample_logs/seed-deepseek-r1-32b.log"
MODELS = "sample_logs/models"
GOLDEN = Path(__file__).resolve().parent / "golden" / "why"
UPDATE = os.environ.get("OLLALOG_UPDATE_GOLDEN") == "1"
MIB, GIB = 1 << 20, 1 << 30


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch, tmp_path):
    """Paths as a user types them from the checkout; no models dir of this machine leaks in."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _by_line(report) -> dict:
    return {ld["line"]: ld for ld in report.loads}


# -- the seed scenario, by hand -------------------------------------------------------------------

def _hand_thresholds(parallel: int) -> tuple[int, int]:
    """sample_logs/README.md's worked numbers, computed here without ollalog: Ollama 0.5.7's
    legacy loop for deepseek-r1:32b (qwen2, 64 blocks of 279.7 MiB mean, 609.1 MiB output layer)
    on one GPU with 24,921,309,184 B free, 457 MiB reserve, batch 512, f16 KV of 256 KiB/token.
    Returns (largest num_ctx with every layer on the GPU, largest with at least one)."""
    L, E, H, V, b = 64, 5120, 40, 152064, 512
    block = 17.48 * GIB / L
    out = 609.1 * MIB
    free, M = 24_921_309_184, 457 * MIB

    def layers(n: int) -> int:
        C = n * parallel
        kv = C * L * 256 * 8 * 2
        full = max(4 * b * (E + V), 4 * b * (1 + 2 * E + C + C * H))
        part = max(4 * b * (E + V) + E * V * 105 / 128, 4 * (b * (1 + 2 * E + C * (1 + H)) + E * (1 + C)))
        g = max(full, part)
        s = block + kv / L
        if free < g + M + 2 * s:
            return 0
        used, placed = M + s, 0
        for _ in range(L):
            if free > used + g + s:
                used += s
                placed += 1
            else:
                return placed
        return placed + (1 if free > used + g + out else 0)

    def largest(pred) -> int:
        lo, hi = 1, 1 << 20
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if pred(mid) else (lo, mid)
        return lo

    return largest(lambda n: layers(n) == L + 1), largest(lambda n: layers(n) >= 1)


def test_hand_computation_matches_the_sample_readme():
    readme = (SAMPLE_DIR / "README.md").read_text()
    full2, any2 = _hand_thresholds(2)
    full1, _ = _hand_thresholds(1)
    # the README states them rounded down to a multiple of 256
    assert full2 // 256 * 256 == 6144 and "num_ctx 6144 at parallel 2" in readme
    assert full1 // 256 * 256 == 12544 and "12544 at parallel 1" in readme
    assert (any2 + 1) // 256 * 256 == 105728 and "from num_ctx 105728" in readme


def test_seed_tags_and_thresholds():
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS)
    (ld,) = r.loads
    assert (ld["line"], ld["placement"], ld["layers_offloaded"], ld["layers_total"]) == (211, "cpu", 0, 65)
    assert ld["cause"] == "kv_too_big"
    assert ld["match"]["confidence"] == "high"
    assert ld["estimate"]["layers_offload"] == 0 and ld["estimate"]["matches_log"] is True
    th = ld["threshold"]
    full2, any2 = _hand_thresholds(2)
    full1, _ = _hand_thresholds(1)
    assert math.isclose(th["num_ctx_full_gpu"], full2, rel_tol=0.05), (th, full2)
    assert math.isclose(th["num_ctx_any_gpu"], any2, rel_tol=0.05), (th, any2)
    assert math.isclose(th["parallel_1"]["num_ctx_full_gpu"], full1, rel_tol=0.05)
    base = why("deepseek-r1:32b", [SEED], models_dir=MODELS)
    (b,) = base.loads
    assert (b["line"], b["placement"], b["layers_offloaded"], b["cause"]) == (11, "gpu", 65, "fits")
    assert b["estimate"]["matches_log"] is True


def test_seed_recommendations_have_numbers_and_settings_of_that_version():
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS).to_dict()
    recs = r["recommendations"]
    assert [x["rank"] for x in recs] == list(range(1, len(recs) + 1))
    actions = [x["action"] for x in recs]
    assert "OLLAMA_NUM_PARALLEL=1" in actions
    assert any(a.startswith("lower num_ctx to ") for a in actions)
    assert any("OLLAMA_KV_CACHE_TYPE=q8_0" in a for a in actions)
    settings = " ".join(s for x in recs for s in x["settings"])
    assert "OLLAMA_CONTEXT_LENGTH" not in settings   # 0.5.7 has no such variable (0.5.13+)
    for x in recs:
        assert x["num_ctx"] and x["loads"] == [{"file": SEED, "line": 211}]


def test_tags_sharing_one_blob_are_told_apart_by_context():
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS).to_dict()
    assert set(r["resolved"]["tags_sharing_blob"]) == {"deepseek-r1:32b", "deepseek-r1:32b-max-context"}
    assert r["resolved"]["params"]["num_ctx"] == 131072
    assert [ld["line"] for ld in r["loads"]] == [211]
    assert "num_ctx 131072" in r["loads"][0]["match"]["how"]
    base = why("deepseek-r1:32b", [SEED], models_dir=MODELS).to_dict()
    assert [ld["line"] for ld in base["loads"]] == [11]
    assert "the default" in base["loads"][0]["match"]["how"]


def test_names_are_case_insensitive_and_take_the_full_form():
    a = why("DeepSeek-R1:32B-Max-Context", [SEED], models_dir=MODELS)
    b = why("registry.ollama.ai/library/deepseek-r1:32b-max-context", [SEED], models_dir=MODELS)
    assert [x["line"] for x in a.loads] == [x["line"] for x in b.loads] == [211]


def test_without_a_models_dir_the_gguf_name_matches_with_low_confidence():
    r = why("deepseek-r1:32b-max-context", [SEED]).to_dict()
    assert r["resolved"]["confidence"] == "low"
    assert "no models dir" in r["resolved"]["how"]
    assert [ld["line"] for ld in r["loads"]] == [11, 211]     # both loads of the blob: cannot tell them apart
    assert all("GGUF name" in ld["match"]["how"] for ld in r["loads"])


def test_runner_name_in_the_log_names_the_tag():
    r = why("llama3.1:8b", ["sample_logs/k8s-cri.log"]).to_dict()
    assert r["resolved"]["confidence"] == "high"
    assert [ld["placement"] for ld in r["loads"]] == ["gpu"]


def test_model_that_never_loaded():
    with pytest.raises(ModelNotLoaded) as e:
        why("qwen2.5:72b", [SEED], models_dir=MODELS)
    assert "qwen2.5:72b never loaded" in str(e.value)
    assert "DeepSeek R1 Distill Qwen 32B" in str(e.value)
    p = run_cli("why", "qwen2.5:72b", SEED, "--models-dir", MODELS, cwd=REPO)
    assert p.returncode == 1 and p.stdout == ""
    (line,) = p.stderr.strip().splitlines()
    assert line.startswith("ollalog: error: qwen2.5:72b never loaded in ") and "models that loaded:" in line


def test_missing_models_dir(tmp_path):
    p = run_cli("why", "deepseek-r1:32b", SEED, "--models-dir", tmp_path / "nowhere", cwd=REPO)
    assert p.returncode == 1
    (line,) = p.stderr.strip().splitlines()
    assert line.startswith("ollalog: error: ") and "nowhere" in line and "Traceback" not in p.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("why", SEED, cwd=REPO).returncode == 2                   # a model but no logs
    assert run_cli("why", "m:1", SEED, "--format", "yaml", cwd=REPO).returncode == 2
    assert run_cli("why", "m:1", SEED, "--kv-cache-type", "q5_1", cwd=REPO).returncode == 2
    p = run_cli("why", "../../etc/passwd", SEED, cwd=REPO)
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_unreadable_input_exits_1_but_reads_the_rest(tmp_path):
    p = run_cli("why", "deepseek-r1:32b", SEED, tmp_path / "gone.log", "--models-dir", MODELS,
                "--format", "json", cwd=REPO)
    assert p.returncode == 1
    assert "gone.log" in p.stderr
    assert [ld["line"] for ld in json.loads(p.stdout)["loads"]] == [11]


def test_readme_main_command_prints_the_answer():
    readme = (REPO / "README.md").read_text()
    cmd = f"ollalog why deepseek-r1:32b-max-context {SEED} --models-dir {MODELS}"
    assert cmd in readme
    p = run_cli(*cmd.split()[1:], cwd=REPO)
    assert p.returncode == 0, p.stderr
    assert "CPU 0/65" in p.stdout and "kv_too_big" in p.stdout and "OLLAMA_NUM_PARALLEL=1" in p.stdout


# -- what-ifs -------------------------------------------------------------------------------------

def test_whatif_from_the_loads_own_numbers():
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS,
            whatif=WhatIf(num_ctx=4096, parallel=2))
    w = r.loads[0]["whatif"]
    assert (w["num_ctx"], w["parallel"], w["placement"], w["layers_offload"]) == (4096, 2, "gpu", 65)
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS, whatif=WhatIf(parallel=1))
    w = r.loads[0]["whatif"]
    assert w["placement"] == "partial" and 8 <= w["layers_offload"] <= 14   # the README's check: 11 of 65


def test_whatif_quantised_kv_needs_flash_attention():
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS,
            whatif=WhatIf(num_ctx=8192, kv_cache_type="q8_0"))
    w = r.loads[0]["whatif"]
    assert w["kv_cache_type"] == "q8_0" and any("without flash attention" in n for n in w["notes"])
    plain = w["layers_offload"]
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS,
            whatif=WhatIf(num_ctx=8192, kv_cache_type="q8_0", flash_attention=True))
    assert r.loads[0]["whatif"]["layers_offload"] >= plain
    assert r.loads[0]["whatif"]["placement"] == "gpu"


def test_whatif_forced_num_gpu_warns_of_oom():
    r = why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS, whatif=WhatIf(num_gpu=65))
    w = r.loads[0]["whatif"]
    assert w["layers_that_fit"] == 0 and any("out-of-memory" in n for n in w["notes"])


# -- the JSON contract ------------------------------------------------------------------------------

LOAD_KEYS = ("file", "line", "time", "ollama_version", "placement", "layers_offloaded", "layers_total",
             "num_ctx", "parallel", "ctx_size", "vram_available_bytes", "required_full_bytes", "kv_bytes",
             "weights_bytes", "graph_bytes", "cause", "evidence", "estimate", "threshold")


def test_json_contract_documented_and_complete():
    doc = (REPO / "docs" / "why.md").read_text()
    r = json.loads(to_json(why("deepseek-r1:32b-max-context", [SEED], models_dir=MODELS).to_dict()))
    for k in ("model", "resolved", "loads", "recommendations"):
        assert k in r and f"`{k}`" in doc
    for k in ("blob", "params", "how", "confidence"):
        assert k in r["resolved"] and f"`{k}`" in doc
    for ld in r["loads"]:
        for k in LOAD_KEYS:
            assert k in ld, k
            assert f"`{k}`" in doc, k
        assert {"layers_offload", "matches_log"} <= set(ld["estimate"])
        assert {"num_ctx_full_gpu", "num_ctx_any_gpu"} <= set(ld["threshold"])
        for e in ld["evidence"]:
            assert set(e) >= {"file", "line", "text"}
        assert any(e["key"] for e in ld["evidence"])


def test_every_cause_is_documented():
    from ollalog.explain import CAUSES
    doc = (REPO / "docs" / "why.md").read_text()
    for c in CAUSES:
        assert f"`{c}`" in doc, c


# -- golden outputs over every sample --------------------------------------------------------------

def _samples() -> list[str]:
    return sorted(p.name for p in SAMPLE_DIR.glob("*.log"))


@pytest.mark.parametrize("name", _samples())
@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_golden(name, fmt):
    r = why(None, [f"sample_logs/{name}"], all_models=True, models_dir=MODELS).to_dict()
    got = render(r, fmt, color=False, width=100)
    ext = {"text": "txt", "json": "json", "markdown": "md"}[fmt]
    path = GOLDEN / f"{name[:-4]}.{ext}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with OLLALOG_UPDATE_GOLDEN=1"
    assert got == path.read_text(encoding="utf-8")


def test_golden_seed_tags():
    for tag in ("deepseek-r1:32b", "deepseek-r1:32b-max-context"):
        r = why(tag, [SEED], models_dir=MODELS).to_dict()
        for fmt, ext in (("text", "txt"), ("markdown", "md")):
            got = render(r, fmt, color=False, width=100)
            path = GOLDEN / f"seed-{tag.split(':')[1]}.{ext}"
            if UPDATE:
                path.write_text(got, encoding="utf-8")
            assert got == path.read_text(encoding="utf-8")


# -- the estimator against the real corpus ----------------------------------------------------------

OFFLOAD = re.compile(r"layers\.offload=(\d+)")


def test_estimator_reproduces_logged_layer_counts(corpus_logs):
    """Every legacy offload line of the corpus: the estimator, fed the line's own numbers, gives
    the logged `layers.offload` exactly for >= 75% and within one layer for >= 90%."""
    exact = near = total = 0
    misses = []
    for name, log in sorted(corpus_logs.items()):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        logged = {i + 1: int(m.group(1)) for i, ln in enumerate(lines) if (m := OFFLOAD.search(ln))}
        if not logged:
            continue
        loads = why(None, [str(log)], all_models=True).loads
        owners = set()
        for n, want in logged.items():
            owner = next((ld for ld in loads if n in [e["line"] for e in ld["evidence"]]), None)
            if owner is not None and id(owner) in owners:
                continue
            owners.add(id(owner))
            total += 1
            got = ((owner or {}).get("estimate") or {}).get("layers_offload")
            exact += got == want
            near += got is not None and abs(got - want) <= 1
            if got != want:
                misses.append(f"{name}:{n} logged {want}, estimate {got}")
    assert total >= 20
    assert exact / total >= 0.75, misses
    assert near / total >= 0.90, misses


# -- bounded memory: facts a slice at a time, JSON in pieces ---------------------------------------

@pytest.mark.parametrize("model", ["deepseek-r1:32b-max-context", "deepseek-r1:32b", None])
def test_answer_does_not_depend_on_the_gather_slice(monkeypatch, model):
    """why explains each load as its facts arrive, a slice of loads at a time: slices of one load
    (the seed's two loads then come in separate slices, with tags sharing their blob) give the
    answer of one slice holding every load."""
    from ollalog import facts as F
    kw = dict(models_dir=MODELS, all_models=model is None)
    whole = to_json(why(model, [SEED], **kw).to_dict())
    monkeypatch.setattr(F, "GATHER_SLICE", 1)
    assert to_json(why(model, [SEED], **kw).to_dict()) == whole


def test_facts_each_slices_like_gather(monkeypatch):
    from ollalog import facts as F, views
    from ollalog.read import read
    tables = read([str(p) for p in sorted(SAMPLE_DIR.glob("*.log"))])
    con = views.connect(tables)
    whole = F.gather(con)
    assert len(whole) >= 4
    for per in (1, 3):
        got = list(F.each(con, per=per))
        assert [f.load["load_idx"] for f in got] == [f.load["load_idx"] for f in whole]
        assert got == whole, per
    some = [f.load["load_idx"] for f in whole][1::2]
    assert [f.load["load_idx"] for f in F.each(con, some, per=1)] == some
    # each slice's evidence looked up in its lines' rows of the Arrow events, or by a query over
    # the whole view: the same facts
    assert views.arrow_events(con) is tables.events
    views._ARROW_EVENTS.pop(con)
    assert list(F.each(con, per=2)) == whole


# the loads before a load (LoadFacts.earlier), as a window over the loads view says it
EARLIER_REFERENCE = f"""
SELECT l.load_idx, list(struct_pack({", ".join(f"{k} := l.{k}" for k in ("load_idx", "line", "end_line", "model_blob",
    "model_name", "placement", "outcome", "layers_offloaded", "layers_total", "required_partial_bytes",
    "required_full_bytes"))}))
  OVER (PARTITION BY l.file ORDER BY l.line ROWS BETWEEN 8 PRECEDING AND 1 PRECEDING) AS before
FROM loads l ORDER BY l.load_idx
"""


def test_earlier_loads_are_those_of_the_same_start(many_loads):
    """A load's facts list at most 8 loads before it in its file, oldest first, none from before its
    server start: the same rows as a window over the loads view."""
    from ollalog import facts as F, views
    from ollalog.read import read
    tables = read([str(p) for p in sorted(many_loads.glob("*.log"))], tables=("events", "loads", "gpus", "lines"),
                  events=F.events_used())
    con = views.connect(tables)
    ref = {r["load_idx"]: r["before"] or [] for r in views.rows(con, EARLIER_REFERENCE)}
    facts = list(F.each(con, per=5))
    assert len(facts) >= 20 and len({f.load["file"] for f in facts}) == 2
    restarts = 0
    for f in facts:
        want = [o for o in ref[f.load["load_idx"]] if o["line"] >= f.start_line]
        assert f.earlier == want
        restarts += len(want) < len(ref[f.load["load_idx"]])
    assert restarts and any(len(f.earlier) == 8 for f in facts)
    assert facts == F.gather(con)


def test_json_in_pieces_is_the_json_document():
    from ollalog.render import json_default, json_pieces, render_pieces
    r = why(None, [SEED], models_dir=MODELS, all_models=True).to_dict()
    r["inputs"]["note"] = "C1 \x9b[31m and DEL \x7f escaped, \u00e9 kept"
    c1 = {i: f"\\u{i:04x}" for i in range(0x7f, 0xa0)}
    for indent, kw in ((2, {"indent": 2}), (None, {"separators": (",", ":")})):
        want = json.dumps(r, default=json_default, ensure_ascii=False, **kw).translate(c1)
        assert to_json(r, indent) == want
        assert "".join(json_pieces(r, indent, size=64)) == want
    assert "\\u009b[31m" in to_json(r) and "\u00e9" in to_json(r)
    assert "".join(render_pieces(r, "json")) == render(r, "json")
    assert "".join(render_pieces(r, "text")) == render(r, "text")


def test_why_drops_only_events_no_load_cites(many_loads):
    """`why` leaves out the rows an assembler handler ignores (a gguf_kv line of another key): every
    line a load was read from is still there, and only those rows are gone."""
    from ollalog import facts as F
    from ollalog.read import read, without_ignored
    paths = [str(p) for p in sorted(SAMPLE_DIR.glob("*.log"))] + [str(many_loads / "two.log")]
    t = read(paths, tables=("events", "loads"), events=F.events_used())
    kept = without_ignored(t.events)
    ev = t.events.to_pylist()
    have = {(r["file"], r["line"]) for r in kept.to_pylist()}
    cited = {(ld["file"], n) for ld in t.loads.to_pylist() for n in ld["evidence_lines"]}
    assert cited <= {(r["file"], r["line"]) for r in ev}
    assert cited & {(r["file"], r["line"]) for r in ev} <= have
    gone = [r for r in ev if (r["file"], r["line"]) not in have]
    assert gone and all(r["event"] == "gguf_kv" and not {"general.name", "general.architecture"} & {k for k, _ in r["attrs"]}
                        for r in gone)
    assert kept.num_rows == len(ev) - len(gone) and kept.schema == t.events.schema
