"""Generated docs are current: docs/tables.md (schema.py) and docs/queries.md (views and queries)."""
from ollalog import docs
from conftest import REPO


def test_tables_doc_is_current():
    assert (REPO / "docs" / "tables.md").read_text(encoding="utf-8") == docs.tables_markdown(), \
        "run: python -m ollalog.docs > docs/tables.md"


def test_queries_doc_is_current():
    assert (REPO / "docs" / "queries.md").read_text(encoding="utf-8") == docs.queries_markdown(), \
        "run: python -m ollalog.docs queries > docs/queries.md"
