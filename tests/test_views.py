"""DuckDB views and named queries (views.py) and `ollalog sql`: golden results on the sample logs,
views over a dataset equal to views over the logs, bound parameters, output formats."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil

import pytest

import ollalog
from ollalog import schema as S
from ollalog import views
from ollalog.cli.sql import _json_value
from conftest import REPO, SEED_LOG, TABLE_NAMES, run_cli, sample_logs_list

GOLDEN = REPO / "tests" / "golden" / "queries"
SAMPLES = [str(p) for p in sample_logs_list()]
UPDATE = os.environ.get("OLLALOG_UPDATE_GOLDEN") == "1"
VOLATILE = ("load_id", "next_load_id")  # carry file_id, which depends on the checkout's inodes


@pytest.fixture(scope="module")
def sample_tables():
    return ollalog.read(SAMPLES)


@pytest.fixture(scope="module")
def con(sample_tables):
    return views.connect(sample_tables, verdicts=True)


def _rows(rel) -> list[dict]:
    cols = rel.columns
    return [{c: _json_value(v) for c, v in zip(cols, r) if c not in VOLATILE} for r in rel.fetchall()]


def test_named_queries_are_documented():
    qs = views.queries()
    assert set(qs) == {"loads-by-model", "cpu-fallbacks", "time-to-load", "5xx-near-loads", "evictions",
                       "vram-not-recovered"}
    for q in qs.values():
        assert q.description and len(q.description.splitlines()) == 1
        assert "ORDER BY" in q.sql.upper(), f"{q.name} has no ORDER BY"
        for p in q.params:
            assert f"${p.name}" in q.sql


@pytest.mark.parametrize("name", sorted(views.queries()))
def test_named_query_golden(con, name):
    q = views.query(name)
    got = _rows(views.run(con, q.sql, q.bind({})))
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got == want
    assert got, f"{name} finds nothing in the sample logs: the golden file would test nothing"


def test_golden_facts(con):
    """The goldens say what the sample logs say (read from the logs, not from the code)."""
    def run(name, **p):
        q = views.query(name)
        return _rows(views.run(con, q.sql, q.bind(p)))
    ev = run("evictions")
    assert [(r["host"], r["model"], r["next_model"], r["next_placement"]) for r in ev] == \
        [("gpu-node-2", "llama3.1:8b", "llama3.3:70b", "partial")]
    vr = run("vram-not-recovered")
    assert [(r["unloaded_model"], r["next_model"], r["next_layers_on_gpu"], r["next_vram_available_gib"])
            for r in vr] == [("llama3.1:8b", "llama3.3:70b", 34, 19.8)]
    burst = run("5xx-near-loads")
    assert [(r["host"], r["model"], r["errors"], r["statuses"]) for r in burst] == \
        [("gpu-node-2", "llama3.3:70b", 4, "503"), (None, "Meta Llama 3.1 8B Instruct", 1, "500")]  # the folder sample_logs is not a host
    # a wider window reaches the 500 from the load 78 s before the second 0.6.8 load
    assert len(run("5xx-near-loads", window_s="100")) == 3
    cpu = run("cpu-fallbacks")
    assert [(r["host"], r["ctx_size"], r["num_ctx"], r["parallel"], r["cause"]) for r in cpu] == \
        [("gpubox", 262144, 131072, 2, "kv_too_big"), ("lena-desktop", 2048, 2048, 1, "vram_held_by_others")]
    # the seed's num_ctx 131072 x 2 tag: every layer would have fitted up to num_ctx 6323
    assert cpu[0]["num_ctx_full_gpu"] == 6323
    ttl = {(r["host"], r["time"]): r["seconds_to_start"] for r in run("time-to-load")}
    assert ttl[("gpubox", "2025-01-28T08:31:31.667000Z")] == 33.63   # 09:31:31.667 +01:00 to 09:32:05.295
    assert ttl[(None, "2025-05-10T08:12:44.118000Z")] is None  # the OOM never started


def test_connect_registers_without_copying(sample_tables):
    con = views.connect(sample_tables)
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == sample_tables.events.num_rows
    # a mapping with missing tables gives empty views of the right columns
    con = views.connect({"loads": sample_tables.loads})
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert [c[0] for c in con.execute("DESCRIBE requests").fetchall()] == S.schema("requests").names
    # an existing connection gets the views added
    import duckdb
    mine = duckdb.connect()
    assert views.connect(sample_tables, mine) is mine


def test_evidence_links_loads_to_their_events(con, sample_tables):
    for load in sample_tables.loads.to_pylist():
        got = con.execute("SELECT line FROM evidence WHERE load_id = ? ORDER BY line", [load["load_id"]]).fetchall()
        assert [r[0] for r in got] == sorted(load["evidence_lines"])
    assert con.execute("SELECT count(*) FROM evidence WHERE file_id <> split_part(load_id, ':', 1)").fetchone()[0] == 0


def test_load_models_names(con):
    got = dict(con.execute("SELECT l.line, m.model FROM loads l JOIN load_models m USING (load_id) "
                           "WHERE l.host = 'gpu-node-2' ORDER BY l.line").fetchall())
    # the third load prints no tag: it gets the one tag its blob was seen with
    assert got == {10: "llama3.1:8b", 50: "llama3.3:70b", 90: "llama3.1:8b"}


def test_many_hosts_are_one_set_of_views(tmp_path):
    for h in ("node-1", "node-2", "node-3"):
        (tmp_path / h).mkdir()
        shutil.copy(REPO / "sample_logs" / "v0.13.1-windows-crlf.log", tmp_path / h / "server.log")
    con = views.connect(ollalog.read([str(tmp_path)]))
    got = con.execute("SELECT host, file, count(*) FROM loads GROUP BY ALL ORDER BY host").fetchall()
    assert got == [(h, str(tmp_path / h / "server.log"), 1) for h in ("node-1", "node-2", "node-3")]
    q = views.query("loads-by-model")
    hosts = [r[0] for r in views.run(con, q.sql).fetchall()]
    assert hosts == ["node-1", "node-2", "node-3"]


def test_parameters_are_bound_not_formatted(con):
    sql = "SELECT count(*) FROM loads WHERE host = $h"
    assert views.run(con, sql, {"h": "gpubox"}).fetchall() == [(2,)]
    assert views.run(con, sql, {"h": "gpubox' OR '1'='1"}).fetchall() == [(0,)]
    with pytest.raises(views.QueryError):
        views.run(con, sql, {})
    with pytest.raises(ollalog.UsageError, match="no parameter"):
        views.query("evictions").bind({"nope": "1"})


def test_describe_views_has_every_column_described():
    for view, intro, cols in views.describe_views():
        assert intro, view
        for name, typ, desc in cols:
            assert desc, (view, name)
    names = [v for v, _, _ in views.describe_views()]
    assert names == list(views.ALL_VIEWS)


# -- the command ---------------------------------------------------------------------------------

@pytest.fixture
def seed_file(tmp_path):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(SEED_LOG)
    return f


def test_sql_formats(seed_file):
    q = "SELECT host, placement, ctx_size, time FROM loads ORDER BY line"
    p = run_cli("sql", seed_file, q, "--format", "json")
    assert (p.returncode, p.stderr) == (0, "")
    assert json.loads(p.stdout) == [{"host": "h1", "placement": "cpu", "ctx_size": 262144,
                                     "time": "2025-02-01T09:00:06Z"}]
    p = run_cli("sql", seed_file, q, "--format", "csv")
    assert list(csv.reader(io.StringIO(p.stdout))) == [["host", "placement", "ctx_size", "time"],
                                                      ["h1", "cpu", "262144", "2025-02-01T09:00:06Z"]]
    p = run_cli("sql", seed_file, q, "--format", "markdown")
    assert p.stdout.splitlines() == ["| host | placement | ctx_size | time |", "|---|---|---:|---|",
                                     "| h1 | cpu | 262144 | 2025-02-01 09:00:06.000Z |"]
    p = run_cli("sql", seed_file, q)
    assert p.stdout.splitlines()[0].split() == ["host", "placement", "ctx_size", "time"]
    assert p.stdout.splitlines()[-1] == "(1 row)"


def test_sql_from_file_stdin_and_named(tmp_path, seed_file):
    sqlf = tmp_path / "q.sql"
    sqlf.write_text("SELECT count(*) AS n FROM requests")
    for args, stdin in ((["-f", sqlf], None), (["-"], b"SELECT count(*) AS n FROM requests"),
                        (["-f", "-"], b"SELECT count(*) AS n FROM requests")):
        p = run_cli("sql", seed_file, *args, "--format", "json", input=stdin)
        assert (p.returncode, json.loads(p.stdout)) == (0, [{"n": 2}]), (args, p.stderr)
    p = run_cli("sql", seed_file, "--query", "cpu-fallbacks", "--format", "json")
    assert [r["ctx_size"] for r in json.loads(p.stdout)] == [262144]


def test_sql_params_from_the_command_line(seed_file):
    p = run_cli("sql", seed_file, "SELECT count(*) AS n FROM requests WHERE status = $s", "-p", "s=200",
                "--format", "json")
    assert json.loads(p.stdout) == [{"n": 2}]
    p = run_cli("sql", seed_file, "--query", "5xx-near-loads", "-p", "window_s=5", "-p", "x=1")
    assert p.returncode == 2 and "no parameter x" in p.stderr


def test_sql_errors(tmp_path, seed_file):
    p = run_cli("sql", seed_file, "SELEC 1")
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == ['ollalog: error: Parser Error: syntax error at or near "SELEC" (SQL line 1)']
    p = run_cli("sql", seed_file)
    assert p.returncode == 2 and "the last argument is the SQL" in p.stderr
    p = run_cli("sql", "--query", "nosuch", seed_file)
    assert p.returncode == 2 and "no query named" in p.stderr
    p = run_cli("sql", tmp_path / "missing.log", seed_file, "SELECT count(*) AS n FROM loads", "--format", "json")
    assert p.returncode == 1 and json.loads(p.stdout) == [{"n": 1}]
    assert p.stderr.strip() == f"ollalog: error: {tmp_path / 'missing.log'}: no such file or directory"
    p = run_cli("sql", "--data", tmp_path, "SELECT 1")
    assert p.returncode == 1 and "not an ollalog dataset" in p.stderr
    p = run_cli("sql", "--data", tmp_path, seed_file, "SELECT 1")
    assert p.returncode == 2


def test_sql_output_never_passes_control_characters(tmp_path):
    d = tmp_path / "h1"
    d.mkdir()
    f = d / "server.log"
    f.write_bytes(b'time=2025-02-01T10:00:00.000Z level=INFO source=x.go:1 msg="a\\x1b[31mred | <b>x</b>\\nnext"\n')
    p = run_cli("sql", f, "SELECT msg FROM events")
    assert "\x1b" not in p.stdout and "\\x1b[31mred | <b>x</b>\\nnext" in p.stdout
    p = run_cli("sql", f, "SELECT msg FROM events", "--format", "markdown")
    # markdown: the shown escapes' backslashes doubled, the pipe escaped, HTML as entities
    assert p.stdout.splitlines()[2] == "| a\\\\x1b[31mred \\| &lt;b&gt;x&lt;/b&gt;\\\\nnext |"
    p = run_cli("sql", f, "SELECT msg FROM events", "--format", "json")
    assert json.loads(p.stdout) == [{"msg": "a\x1b[31mred | <b>x</b>\nnext"}]


def test_sql_schema_and_list():
    p = run_cli("sql", "--schema")
    assert p.returncode == 0
    for view in views.ALL_VIEWS:
        assert f"{view}:" in p.stdout.split()
    for name, _, desc in S.describe("loads"):
        assert any(line.split()[:1] == [name] and desc in line for line in p.stdout.splitlines())
    p = run_cli("sql", "--list-queries")
    for name, q in views.queries().items():
        assert f"{name}: {q.description}" in p.stdout
    assert "-p window_s=VALUE" in p.stdout


def test_table_names_match():
    assert tuple(S.TABLES) == TABLE_NAMES
