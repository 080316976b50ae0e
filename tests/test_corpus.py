"""Every real excerpt of the corpus (../shared/corpus) reads without a malformed line, counts every
physical line once, and yields the loads its .json expects (the corpus-check.py rule).

One test per file and engine, so a failure names the file. Skips with "corpus not present" where the
corpus folder is absent (a user's clone).
"""
import pytest

from conftest import check_log_against_json, corpus_params


@pytest.mark.parametrize("name", corpus_params())
def test_corpus_log(corpus_logs, name, engine):
    check_log_against_json(corpus_logs[name], engine)
