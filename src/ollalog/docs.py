"""docs/tables.md is generated from schema.py: `python -m ollalog.docs > docs/tables.md`."""
from __future__ import annotations

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


if __name__ == "__main__":
    print(tables_markdown(), end="")
