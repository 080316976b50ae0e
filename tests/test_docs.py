"""Generated docs are current and say what the code does: docs/tables.md (schema.py) and
docs/queries.md (views.py and queries/*.sql)."""
from ollalog import docs
from conftest import REPO


def test_tables_md_is_current():
    path = REPO / "docs" / "tables.md"
    assert path.read_text(encoding="utf-8") == docs.tables_markdown(), \
        "docs/tables.md is stale: regenerate it with `python -m ollalog.docs > docs/tables.md`"


def test_queries_md_is_current():
    path = REPO / "docs" / "queries.md"
    assert path.read_text(encoding="utf-8") == docs.queries_markdown(), \
        "docs/queries.md is stale: regenerate it with `python -m ollalog.docs queries > docs/queries.md`"
