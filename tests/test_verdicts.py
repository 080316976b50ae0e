"""The `verdicts` view agrees with `why --format json`, load for load, on every sample log."""
from __future__ import annotations

import pytest

import ollalog
from ollalog import views
from ollalog.why import why
from conftest import sample_logs_list

SAMPLES = sample_logs_list()


def _why_loads(path: str) -> dict:
    out = {}
    for g in why(None, [path], all_models=True).to_dict()["models"]:
        for v in g["loads"]:
            th, est = v["threshold"], v["estimate"]
            out[(v["file"], v["line"])] = (v["cause"], th.get("num_ctx_full_gpu"), th.get("num_ctx_any_gpu"),
                                           est.get("matches_log"), v["placement"])
    return out


@pytest.mark.parametrize("log", SAMPLES, ids=[p.name for p in SAMPLES])
def test_verdicts_agree_with_why(log):
    path = f"sample_logs/{log.name}"
    con = views.connect(ollalog.read(path), verdicts=True)
    got = {(r[0], r[1]): tuple(r[2:]) for r in con.execute(
        "SELECT file, line, cause, num_ctx_full_gpu, num_ctx_any_gpu, estimate_matches_log, placement "
        "FROM verdicts ORDER BY file, line").fetchall()}
    want = _why_loads(path)
    assert got == want
    assert con.execute("SELECT count(*) FROM verdicts v JOIN loads l USING (load_id)").fetchone()[0] == len(want)


def test_verdicts_over_a_dataset(tmp_path):
    from ollalog.ingest import ingest
    paths = [str(p) for p in SAMPLES]
    ingest(paths, str(tmp_path / "ds"))
    a = views.connect(ollalog.read(paths), verdicts=True)
    b = views.connect(str(tmp_path / "ds"), verdicts=True)
    q = "SELECT * EXCLUDE (load_id) FROM verdicts ORDER BY file, line"
    assert b.execute(q).fetchall() == a.execute(q).fetchall()
