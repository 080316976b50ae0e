"""Stage 4: the tables as DuckDB views.

`connect(tables)` registers the Arrow tables of a read with DuckDB (no copies: DuckDB scans the
Arrow buffers) as views named after them. Every question ollalog answers about a log set is a
query over these views: `why`'s evidence and server context here, the fleet queries of `sql`.
"""
from __future__ import annotations

from typing import Optional

import pyarrow as pa

from . import schema as S


def connect(tables, con=None):
    """A DuckDB connection with one view per table of `tables` (a `Tables` or a mapping of
    name -> pyarrow.Table); `loads` gets a `load_idx` column, its row number in the read."""
    import duckdb
    con = con or duckdb.connect(":memory:")
    items = tables.items() if hasattr(tables, "items") else tables
    for name, table in items:
        if name not in S.TABLES:
            continue
        if name == "loads":
            table = with_load_index(table)
        con.register(name, table)
    return con


def with_load_index(loads: pa.Table) -> pa.Table:
    if "load_idx" in loads.column_names:
        return loads
    return loads.append_column("load_idx", pa.array(range(loads.num_rows), pa.int64()))


def rows(con, sql: str, params: Optional[list] = None) -> list[dict]:
    """Run a query and return its rows as dicts (parameters bound, never formatted in)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
