"""Generated docs: `python -m ollalog.docs > docs/tables.md` (from schema.py) and
`python -m ollalog.docs queries > docs/queries.md` (from views.py and queries/*.sql)."""
from __future__ import annotations

import sys

from . import schema as S

INTRO = {
    "events": "Every parsed line that is not a `[GIN]` request: slog, Go `log`, runner, llama.cpp, probe, panic, systemd.",
    "requests": "Every `[GIN]` access line.",
    "loads": "One row per model load attempt, assembled from every line that describes it.",
    "gpus": "GPU inventory lines: `inference compute` (server) and llama.cpp `Device N:` (runner).",
    "lines": "Line accounting, one row per input file: physical = parsed + unknown + malformed.",
}


def tables_markdown() -> str:
    out = ["# Tables", "",
           "Generated from `src/ollalog/schema.py` by `python -m ollalog.docs`; a test keeps it current.", ""]
    for table in S.TABLES:
        out += [f"## {table}", "", INTRO[table], "", "| column | type | meaning |", "|---|---|---|"]
        for name, typ, desc in S.describe(table):
            out.append(f"| `{name}` | `{typ}` | {desc} |")
        out.append("")
    return "\n".join(out)


def queries_markdown() -> str:
    from . import views

    out = ["# SQL views and named queries", "",
           "Generated from `src/ollalog/views.py` and `src/ollalog/queries/*.sql` by "
           "`python -m ollalog.docs queries`; a test keeps it current.", "",
           "`ollalog sql LOGS... \"SELECT ...\"` and `ollalog sql --data DIR \"SELECT ...\"` see the tables of "
           "[tables.md](tables.md) as views, and these derived ones:", ""]
    for name, (sql, intro, cols) in views.DERIVED.items():
        out += [f"- `{name}`: {intro}."]
    from .verdicts import COLUMNS
    out += ["- `verdicts`: `why`'s answer for every load, as in `ollalog why --all --format json` (computed "
            "only when the SQL names it: it runs the estimator for every load):", ""]
    out += [f"  - `{n}`: {d}" for n, _, d in COLUMNS]
    out += ["", "## Named queries", "", "Run one with `ollalog sql --query NAME LOGS...` (or `--data DIR`); "
            "bind its parameters with `-p NAME=VALUE`.", ""]
    for q in views.queries().values():
        out += [f"### {q.name}", "", q.description, ""]
        if q.params:
            out += ["| parameter | default | meaning |", "|---|---|---|"]
            out += [f"| `{p.name}` | `{p.default}` | {p.description} |" for p in q.params]
            out.append("")
        out += ["```sql", q.sql.rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "tables"
    print({"tables": tables_markdown, "queries": queries_markdown}[which](), end="")
