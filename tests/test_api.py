"""The Python API: typed keywords, errors raised unless `on_error` is given (the same in `read` and
`read_batches`), a docstring for every public name, and `help(ollalog)` telling the whole story."""
from __future__ import annotations

import inspect
import pydoc
from pathlib import Path

import pytest

import ollalog
from conftest import SEED_LOG


def _read_all(paths, **kw):
    return list(ollalog.read_batches(paths, **kw))


READERS = [pytest.param(ollalog.read, id="read"), pytest.param(_read_all, id="read_batches")]


@pytest.mark.parametrize("reader", READERS)
def test_missing_file_raises(tmp_path, reader):
    missing = tmp_path / "nonexistent.log"
    with pytest.raises(ollalog.InputError) as ei:
        reader([str(missing)])
    assert isinstance(ei.value, OSError) and isinstance(ei.value, ollalog.OllalogError)
    assert (ei.value.path, ei.value.reason) == (str(missing), "no such file or directory")
    assert str(ei.value) == f"{missing}: no such file or directory"


@pytest.mark.parametrize("reader", READERS)
def test_on_error_reports_and_reads_the_rest(tmp_path, reader):
    good = tmp_path / "h1" / "server.log"
    good.parent.mkdir()
    good.write_bytes(SEED_LOG)
    missing = tmp_path / "nonexistent.log"
    seen = []
    reader([str(missing), str(good)], on_error=seen.append)
    assert [(e.path, e.reason) for e in seen] == [(str(missing), "no such file or directory")]


def test_read_lists_the_errors_it_reported(tmp_path):
    good = tmp_path / "h1" / "server.log"
    good.parent.mkdir()
    good.write_bytes(SEED_LOG)
    seen = []
    t = ollalog.read([str(tmp_path / "nope.log"), str(good)], on_error=seen.append)
    assert t.errors == seen and len(seen) == 1
    assert t.loads.num_rows == 1


@pytest.mark.parametrize("reader", READERS)
def test_binary_input_raises(tmp_path, reader):
    p = tmp_path / "x.log"
    p.write_bytes(b"\x00\x01\x02" * 5000)
    with pytest.raises(ollalog.InputError, match="not a text log"):
        reader([str(p)])


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("kw, match", [({"engine": "rust"}, "unknown engine"), ({"year": "2025"}, "year"),
                                       ({"year": 0}, "year"), ({"chunk_size": 0}, "chunk_size")])
def test_bad_arguments_are_usage_errors(tmp_path, reader, kw, match):
    p = tmp_path / "server.log"
    p.write_bytes(SEED_LOG)
    with pytest.raises(ollalog.UsageError, match=match) as ei:
        reader([str(p)], **kw)
    assert isinstance(ei.value, ValueError)


def test_unknown_keyword_is_a_type_error(tmp_path):
    with pytest.raises(TypeError):
        ollalog.read("x.log", hots="typo")


def test_paths_may_be_pathlike(tmp_path):
    p = tmp_path / "h1" / "server.log"
    p.parent.mkdir()
    p.write_bytes(SEED_LOG)
    assert ollalog.read(p).loads.num_rows == 1
    assert ollalog.read([Path(p)]).lines.column("file").to_pylist() == [str(p)]


@pytest.mark.parametrize("fn", [ollalog.read, ollalog.read_batches])
def test_keywords_are_explicit_typed_and_documented(fn):
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    assert params[0].name == "paths"
    assert all(p.kind is not p.VAR_KEYWORD and p.kind is not p.VAR_POSITIONAL for p in params)
    assert all(p.kind is p.KEYWORD_ONLY for p in params[1:])
    assert all(p.annotation is not p.empty for p in params)
    assert sig.return_annotation is not sig.empty
    doc = inspect.getdoc(fn)
    for p in params:
        assert p.name in doc, (fn.__name__, p.name)
    read_kw = set(inspect.signature(ollalog.read).parameters)
    assert read_kw <= set(sig.parameters)  # read_batches takes everything read takes


def test_every_public_name_has_a_docstring():
    for name in ollalog.__all__:
        obj = getattr(ollalog, name)
        if name in ("__version__", "TABLES"):
            continue
        assert inspect.getdoc(obj), name
    for name, member in inspect.getmembers(ollalog.Tables, inspect.isfunction):
        if not name.startswith("_") or name == "__getitem__":
            assert inspect.getdoc(member), f"Tables.{name}"


def test_help_tells_the_whole_story():
    text = pydoc.render_doc(ollalog, renderer=pydoc.plaintext)
    for needle in ("read(", "read_batches(", "Tables", "describe(", "InputError", "UsageError",
                   "OllalogError", "on_error", "events", "requests", "loads", "gpus", "lines",
                   "ollalog parse", "[pandas]", "year", "host"):
        assert needle in text, needle


def test_tables_lookup_and_describe():
    assert ollalog.TABLES == ("events", "requests", "loads", "gpus", "lines")
    with pytest.raises(KeyError, match="no table 'load'"):
        ollalog.describe("load")
    assert ollalog.describe("loads")[0][0] == "file"


def test_version_is_the_package_metadata_version():
    from importlib.metadata import version
    assert ollalog.__version__ == version("ollalog")
