"""Beyond one machine: parse many logs with Spark into ollalog's tables, and write them in the
layout of `ollalog ingest` (dataset.py). Needs the `spark` extra: `pip install 'ollalog[spark]'`.

    from pyspark.sql import SparkSession
    from ollalog import spark as ospark

    spark = SparkSession.builder.getOrCreate()
    tables = ospark.parse(spark, ["/shared/logs/node1/server.log", "/shared/logs/node2/"])
    tables["loads"].groupBy("host", "placement").count().show()
    ospark.write(tables, "/shared/ollalog-dataset")       # <table>/host=<h>/day=<d>/part-*.parquet

The paths are resolved on the driver (directories and globs, as for `ollalog parse`) and each
file is read on an executor from its path, in chunks, through the same engine and load assembler
as `ollalog parse`: no file is ever whole in memory, nor shipped through the driver. So the paths
must be visible to the executors (a shared file system). The five tables travel in one Arrow
stream (`mapInArrow`) as one struct column per table, and are split on the Spark side.
"""
from __future__ import annotations

import os
from typing import Iterable, Iterator

import pyarrow as pa

from . import dataset as D
from . import schema as S

TABLES = tuple(S.TABLES)


def _spark_type(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t) or pa.types.is_string(t):
        return "string"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_map(t):
        return f"map<{_spark_type(t.key_type)},{_spark_type(t.item_type)}>"
    if pa.types.is_list(t):
        return f"array<{_spark_type(t.value_type)}>"
    names = {pa.int16(): "smallint", pa.int32(): "int", pa.int64(): "bigint", pa.float64(): "double",
             pa.bool_(): "boolean"}
    if t in names:
        return names[t]
    raise TypeError(f"no Spark type for {t}")


def _plain(t: pa.DataType) -> pa.DataType:
    """The Arrow type Spark takes for a column: dictionaries decoded, times in UTC microseconds."""
    if pa.types.is_dictionary(t):
        return t.value_type
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    return t


def _row_type(table: str) -> pa.StructType:
    return pa.struct([pa.field(f.name, _plain(f.type)) for f in S.schema(table)] + [pa.field("day", pa.date32())])


def stream_schema() -> str:
    """The Spark schema of the stream mapInArrow returns: the table's name, then one struct per table."""
    cols = ["table string"]
    for t in TABLES:
        inner = ", ".join(f"`{f.name}`: {_spark_type(f.type)}" for f in _row_type(t))
        cols.append(f"`{t}` struct<{inner}>")
    return ", ".join(cols)


def _stream_arrow_schema() -> pa.Schema:
    return pa.schema([pa.field("table", pa.string())] + [pa.field(t, _row_type(t)) for t in TABLES])


def _to_stream(table: str, batch: pa.RecordBatch, day: pa.Array) -> pa.RecordBatch:
    n = batch.num_rows
    typ = _row_type(table)
    cols = [batch.column(f.name).cast(f.type) if batch.column(f.name).type != f.type else batch.column(f.name)
            for f in typ if f.name != "day"] + [day]
    struct = pa.StructArray.from_arrays(cols, fields=list(typ))
    arrays = [pa.array([table] * n, pa.string())]
    for t in TABLES:
        arrays.append(struct if t == table else pa.nulls(n, _row_type(t)))
    return pa.RecordBatch.from_arrays(arrays, schema=_stream_arrow_schema())


def parse_paths(rows: Iterable[tuple[str, str, str | None, bool]], engine: str = "c") -> Iterator[pa.RecordBatch]:
    """The stream batches of (name, path, host, force_host) files: what each executor runs."""
    from .inputs import Source
    from .read import load_rows, make_engine, read_file, _rows_batch

    eng = make_engine(engine)
    for name, path, host, force in rows:
        try:
            st = os.stat(path)
            src = Source(name, path, host, st.st_size, st.st_mtime)  # the mtime dates year-less lines
        except OSError:
            src = Source(name, path, host)  # read_file reports it
        days: dict = {}
        gen = read_file(eng, src, force_host=force)
        while True:
            try:
                table, batch = next(gen)
            except StopIteration as stop:
                res = stop.value
                break
            day, days[table] = D.partition_days(batch, table, days.get(table))
            yield _to_stream(table, batch, day)
        loads, gpus = res.assembler.finish()
        for table, rows_ in (("loads", load_rows(loads, res.file_id)),
                             ("gpus", [dict(g, file_id=res.file_id) for g in gpus]),
                             ("lines", [res.lines_row(name)])):
            if rows_:
                batch = _rows_batch(table, rows_)
                day, _ = D.partition_days(batch, table)
                yield _to_stream(table, batch, day)


def parse(spark, paths: Iterable[str] | str, *, host: str | None = None, engine: str = "c",
          partitions: int | None = None) -> dict:
    """Parse logs on the cluster: a dict of table name -> DataFrame (the columns of schema.py and
    `day`, the partition date of dataset.py). Unreadable inputs are skipped with their error in
    the `lines` table (a missing path raises InputError on the driver, like `ollalog parse`)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from .inputs import resolve

    if isinstance(paths, str):
        paths = [paths]
    sources, errors = resolve(list(paths), host)
    if errors:
        raise errors[0]
    rows = [(s.name, s.path, s.host, host is not None) for s in sources if s.path is not None]
    n = partitions or max(1, min(len(rows), spark.sparkContext.defaultParallelism * 2))
    files = spark.createDataFrame(rows, "name string, path string, host string, force boolean").repartition(n)

    def run(batches):
        for b in batches:
            d = b.to_pydict()
            yield from parse_paths(zip(d["name"], d["path"], d["host"], d["force"]), engine)

    stream = files.mapInArrow(run, stream_schema()).persist(StorageLevel.MEMORY_AND_DISK)
    return {t: stream.where(F.col("table") == t).select(f"`{t}`.*") for t in TABLES}


def write(tables: dict, out: str, mode: str = "errorifexists") -> None:
    """Write parse()'s tables in the layout of `ollalog ingest`: OUT/<table>/host=<h>/day=<d>/,
    Parquet with UTC microsecond times. Spark escapes the host folder names by its own rules (a
    host decodes to the same value from both); `ollalog sql --data OUT` reads the result."""
    spark = next(iter(tables.values())).sparkSession
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    for t, df in tables.items():
        df.write.mode(mode).partitionBy("host", "day").parquet(os.path.join(out, t))


def read(spark, root: str, table: str):
    """A table of a dataset (ingest's or write()'s) with `host` as text and `day` as a date, whatever
    the folder names look like (partition type inference would make a host `123` a number)."""
    from pyspark.sql.types import StructType

    cols = ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in D.data_schema(table))
    schema = StructType.fromDDL(cols + ", `host` string, `day` date")
    return spark.read.schema(schema).option("basePath", os.path.join(root, table)).parquet(os.path.join(root, table))


def main(argv: list[str] | None = None) -> int:
    """`spark-submit .../ollalog/spark.py LOGS... --to DIR`: parse on the cluster, write the dataset."""
    import argparse

    from pyspark.sql import SparkSession

    ap = argparse.ArgumentParser(prog="ollalog.spark", description=main.__doc__)
    ap.add_argument("logs", nargs="+", help="log files, directories or globs the executors can read")
    ap.add_argument("--to", required=True, help="the dataset folder (a path every executor can write)")
    ap.add_argument("--host", help="host name for every line (else from prefixes or folders)")
    ap.add_argument("--mode", default="errorifexists", choices=("errorifexists", "overwrite", "append"))
    args = ap.parse_args(argv)
    spark = SparkSession.builder.appName("ollalog").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    write(parse(spark, args.logs, host=args.host), args.to, mode=args.mode)
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
