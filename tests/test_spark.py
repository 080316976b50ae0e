"""ollalog.spark in local[2] mode: the same tables as a local read, written in ingest's layout.

Needs pyspark (the spark extra, also in the test extra) and a Java runtime (`.ci/run` installs
Debian's default-jre-headless when java is missing); skips with the reason where either is absent."""
from __future__ import annotations

import shutil

import pytest

import ollalog
from ollalog import views
from conftest import sample_logs_list

SAMPLES = [str(p) for p in sample_logs_list()]


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark not installed (pip install '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark (apt-get install default-jre-headless)")
    from pyspark.sql import SparkSession
    s = (SparkSession.builder.master("local[2]").appName("ollalog-test")
         .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "1g").getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def written(spark, tmp_path_factory):
    from ollalog import spark as ospark
    out = tmp_path_factory.mktemp("spark") / "ds"
    tables = ospark.parse(spark, SAMPLES)
    ospark.write(tables, str(out))
    return out, tables


def test_spark_tables_equal_a_local_read(written):
    out, tables = written
    mem = ollalog.read(SAMPLES)
    for name in ("loads", "lines", "gpus"):
        got = sorted(tuple(r[c] for c in ("file", "line" if name != "lines" else "physical"))
                     for r in tables[name].collect())
        want = sorted(tuple(r[c] for c in ("file", "line" if name != "lines" else "physical"))
                      for r in mem[name].to_pylist())
        assert got == want, name
    assert tables["events"].count() == mem.events.num_rows
    assert tables["requests"].count() == mem.requests.num_rows


def test_spark_output_is_the_ingest_layout(written):
    """`ollalog sql --data` reads what Spark wrote: every view and named query as over the logs."""
    out, _ = written
    con = views.connect(ollalog.read(SAMPLES), verdicts=True)
    scon = views.connect(str(out), verdicts=True)
    for view in views.VIEWS:
        assert scon.execute(f"DESCRIBE {view}").fetchall() == con.execute(f"DESCRIBE {view}").fetchall(), view
        assert scon.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall() == \
            con.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall(), view
    for name, q in views.queries().items():
        assert views.run(scon, q.sql, q.bind({})).fetchall() == views.run(con, q.sql, q.bind({})).fetchall(), name
    for table in ollalog.schema.TABLES:
        assert (out / table).is_dir()
        for part in (out / table).iterdir():
            if part.is_dir():
                assert part.name.startswith("host=")
                assert all(d.name.startswith("day=") for d in part.iterdir())


def test_spark_reads_an_ingested_dataset(spark, tmp_path):
    from ollalog import spark as ospark
    from ollalog.ingest import ingest
    ingest(SAMPLES, str(tmp_path / "ds"))
    loads = ospark.read(spark, str(tmp_path / "ds"), "loads")
    mem = ollalog.read(SAMPLES).loads
    assert sorted((r["host"] or "", r["load_id"]) for r in loads.collect()) == \
        sorted((r["host"] or "", r["load_id"]) for r in mem.to_pylist())
    assert dict(loads.dtypes)["host"] == "string" and dict(loads.dtypes)["day"] == "date"
