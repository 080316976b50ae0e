"""docs/tables.md is generated from schema.py and must say what the code does."""
from ollalog.docs import tables_markdown
from conftest import REPO


def test_tables_md_is_current():
    path = REPO / "docs" / "tables.md"
    assert path.read_text(encoding="utf-8") == tables_markdown(), \
        "docs/tables.md is stale: regenerate it with `python -m ollalog.docs > docs/tables.md`"
