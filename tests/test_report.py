"""`ollalog report`: the data agrees with `why`, the charts with the thresholds, the Markdown with
its golden files, and the HTML page, opened in headless Chromium, draws its charts, shows hostile
log text as text, asks for nothing outside itself and logs no error."""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import REPO, SAMPLE_DIR, run_cli

from ollalog.render import to_json
from ollalog.report import report
from ollalog.why import why

GOLDEN = Path(__file__).resolve().parent / "golden" / "report"
UPDATE = os.environ.get("OLLALOG_UPDATE_GOLDEN") == "1"
MODELS = "sample_logs/models"
SEED = "sample_logs/seed-deepseek-r1-32b.log"

# what a hostile log puts where the report shows it (see hostile_log)
HOSTILE_MODEL = "<script>alert(1)</script>"
HOSTILE_GGUF = "<img src=x onerror=alert(2)>"
HOSTILE_HOST = "gpu</script><script>alert(3)</script>"
HOSTILE_PROMPT = "</script><script>alert(4)</script><!-- \u2028"
HOSTILE_OPTION = "</script><script>alert(5)</script><!-- \u2028 \u2029"
HOSTILE_PATH = "/api/<script>alert(6)</script>"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch, tmp_path):
    """Paths as a user types them from the checkout; no models dir of this machine leaks in."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def samples() -> dict:
    os.chdir(REPO)
    return report(["sample_logs/"], models_dir=MODELS)


def hostile_log(folder: Path) -> Path:
    """The evictions sample with a model tag, a GGUF name and a host name that are markup, a
    DEBUG prompt and a WARN option that close scripts and open comments, and a request path
    with a script: every place a log's text reaches the report."""
    text = (SAMPLE_DIR / "v0.6.8-evictions.log").read_text(encoding="utf-8")
    text = text.replace("gpu-node-2", HOSTILE_HOST)
    text = text.replace("runner.name=registry.ollama.ai/library/llama3.1:8b", f'runner.name="{HOSTILE_MODEL}"')
    text = text.replace('name="Meta Llama 3.1 8B Instruct"', f'name="{HOSTILE_GGUF}"')
    lines = text.split("\n")
    i = next(k for k, ln in enumerate(lines) if "[GIN]" in ln and "/api/chat" in ln)
    after = lines[i + 1]
    head, ts = after[:after.index("time=")], re.search(r"time=(\S+)", after).group(1)
    gin = lines[i].split("[GIN]")[0]
    lines[i + 1:i + 1] = [
        f'{head}time={ts} level=DEBUG source=routes.go:1518 msg="chat request" images=0 prompt="{HOSTILE_PROMPT}"',
        f'{head}time={ts} level=WARN source=types.go:512 msg="invalid option provided" option="{HOSTILE_OPTION}"',
        f'{gin}[GIN] 2025/05/12 - 11:02:19 | 404 |     1.0ms |       10.0.3.21 | POST     "{HOSTILE_PATH}"',
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "server.log"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# -- the data -------------------------------------------------------------------------------------

def test_models_and_verdicts_are_whys(samples):
    w = json.loads(to_json(why(None, ["sample_logs/"], all_models=True, models_dir=MODELS).to_dict()))
    r = json.loads(to_json(samples))
    assert [m["model"] for m in r["models"]] == [m["model"] for m in w["models"]]
    for got, want in zip(r["models"], w["models"]):
        assert got["loads"] == want["loads"]
        assert got["recommendations"] == want["recommendations"]
    s = r["summary"]
    assert s["loads"] == sum(len(m["loads"]) for m in w["models"]) == 14
    assert (s["gpu"], s["partial"], s["cpu"], s["failed"], s["evictions"]) == (5, 6, 2, 1, 1)


def test_curves_cross_the_free_vram_at_the_threshold(samples):
    """The chart's lines are the thresholds' own: layers on the GPU are all of them up to
    num_ctx_full_gpu and fewer past it, and the free VRAM every layer needs passes the load's
    free VRAM exactly there."""
    checked = 0
    for m in samples["models"]:
        for c in m["chart"]["curves"]:
            full, total, ns = c["num_ctx_full_gpu"], c["layers_total"], c["num_ctx"]
            assert ns == sorted(ns) and len(ns) >= 50
            assert all(a >= b for a, b in zip(c["layers"], c["layers"][1:])), m["model"]   # fewer with more context
            need = c["need"]
            assert need["free_bytes"] == sorted(need["free_bytes"]), m["model"]
            if not full or full >= c["limit"]:
                continue
            i = ns.index(full)
            assert c["layers"][i] == total and c["layers"][i + 1] < total, (m["model"], full)
            reach = [n for n, f in zip(need["num_ctx"], need["free_bytes"]) if f <= c["free_bytes"]]
            assert max(reach) == full, (m["model"], full, reach[-3:])
            checked += 1
    assert checked >= 5


def test_seed_chart_numbers(samples):
    seed = next(m for m in samples["models"] if any(ld["line"] == 211 for ld in m["loads"]))
    cpu = next(ld for ld in seed["chart"]["loads"] if ld["line"] == 211)
    assert (cpu["placement"], cpu["num_ctx"], cpu["parallel"]) == ("cpu", 131072, 2)
    assert cpu["kv_bytes"] == 64 << 30 and cpu["free_bytes"] > 23 << 30
    c = next(c for c in seed["chart"]["curves"] if any(x["line"] == 211 for x in c["loads"]))
    assert c["num_ctx_full_gpu"] // 256 * 256 == 6144                    # sample_logs/README.md
    assert c["layers"][c["num_ctx"].index(131072)] == 0


def test_timeline_warnings_and_findings(samples):
    hosts = {h["host"] or h["file"]: h for h in samples["hosts"]}
    ev = hosts["gpu-node-2"]
    assert [ld["model"] for ld in ev["loads"]] == ["llama3.1:8b", "llama3.3:70b", "llama3.1:8b"]
    evicted, big, back = ev["loads"]
    assert evicted["outcome"] == "evicted" and evicted["unloaded"] < big["start"] < big["ready"]
    assert (big["ready"] - big["start"]).total_seconds() == pytest.approx(41.87, abs=0.1)
    assert [m["kind"] for m in ev["markers"]] == ["eviction", "vram"]
    assert ev["counts"]["server_errors"] == 4 and sum(b["requests"] for b in ev["requests"]) == 12
    oom = hosts["sample_logs/v0.6.8-docker-t-oom.log"]
    assert [ld["failed"] for ld in oom["loads"]] == [True, False]
    kinds = [(w["severity"], w["title"]) for w in samples["warnings"]]
    assert kinds[0] == ("error", "out of memory") and ("warning", "VRAM not back after an unload") in kinds
    assert [w["severity"] for w in samples["warnings"]] == sorted(w["severity"] for w in samples["warnings"])
    found = {f["name"]: f for f in samples["findings"]}
    assert len(found["5xx-near-loads"]["rows"]) == 2 and len(found["time-to-load"]["rows"]) == 14
    assert found["evictions"]["rows"][0]["next_model"] == "llama3.3:70b"
    assert not any(c.endswith("load_id") for f in samples["findings"] for c in f["columns"])


def test_dataset_gives_the_same_report(tmp_path):
    from ollalog.ingest import ingest
    from ollalog.render.markdown import render_report
    logs = sorted(str(p.relative_to(REPO)) for p in SAMPLE_DIR.glob("*.log"))
    ingest(logs, str(tmp_path / "ds"), jobs=1)
    from_logs = render_report(report(logs, models_dir=MODELS))
    from_data = render_report(report(data=str(tmp_path / "ds"), models_dir=MODELS))
    assert from_data == from_logs


def test_not_a_dataset_and_bad_arguments(tmp_path):
    from ollalog.errors import InputError, UsageError
    with pytest.raises(InputError):
        report(data=str(tmp_path))
    with pytest.raises(UsageError):
        report(["sample_logs/"], data=str(tmp_path))
    with pytest.raises(InputError):
        report([str(tmp_path / "gone.log")])


# -- Markdown ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,args", [("sample_logs", (["sample_logs/"], MODELS)),
                                       ("seed-no-models-dir", ([SEED], None))])
def test_markdown_golden(name, args):
    from ollalog.render.markdown import render_report
    paths, mdir = args
    got = render_report(report(paths, models_dir=mdir))
    path = GOLDEN / f"{name}.md"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with OLLALOG_UPDATE_GOLDEN=1"
    assert got == path.read_text(encoding="utf-8")


def test_markdown_keeps_log_text_in_code(tmp_path):
    from ollalog.render.markdown import render_report
    md = render_report(report([str(hostile_log(tmp_path))]))
    fenced = False
    for line in md.splitlines():
        # outside code spans and fences no markup of the log survives
        if line.startswith("```"):
            fenced = not fenced
            continue
        bare = "" if fenced else re.sub(r"`[^`]*`", "", line)
        assert "<script" not in bare and "<img" not in bare, line
    assert not fenced
    assert f"`{HOSTILE_MODEL}`" in md and f"`{HOSTILE_HOST}`" in md


def test_cli_markdown_and_json_match_the_library(samples, tmp_path):
    from ollalog.render.markdown import render_report
    p = run_cli("report", "sample_logs/", "--models-dir", MODELS, "--format", "markdown", cwd=REPO)
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout == render_report(samples)
    p = run_cli("report", "sample_logs/", "--models-dir", MODELS, "--format", "json", "-o", tmp_path / "r.json",
                cwd=REPO)
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    assert json.loads((tmp_path / "r.json").read_text())["summary"] == json.loads(to_json(samples["summary"]))


def test_cli_exit_codes(tmp_path):
    out = tmp_path / "r.html"
    p = run_cli("report", SEED, str(tmp_path / "gone.log"), "-o", out, cwd=REPO)
    assert p.returncode == 1 and "gone.log" in p.stderr and "Traceback" not in p.stderr
    assert out.is_file() and "gone.log" in out.read_text()        # the rest is reported, the miss listed
    out.unlink()
    p = run_cli("report", str(tmp_path / "gone.log"), "-o", out, cwd=REPO)
    assert p.returncode == 1 and not out.exists()                  # nothing read: no report of nothing
    binary = tmp_path / "bin.log"
    binary.write_bytes(bytes(range(256)) * 16)
    p = run_cli("report", binary, "-o", out, cwd=REPO)
    assert p.returncode == 1 and "bin.log" in p.stderr and not out.exists()
    out.write_text("the last report")
    p = run_cli("report", str(tmp_path / "gone.log"), "-o", out, cwd=REPO)
    assert p.returncode == 1 and out.read_text() == "the last report"          # left as it was
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("ollalog: error: ")   # one line
    assert [f.name for f in tmp_path.iterdir() if f.name.endswith(".tmp")] == []   # no temporary left
    assert run_cli("report", cwd=REPO).returncode == 2
    assert run_cli("report", SEED, "--data", tmp_path, cwd=REPO).returncode == 2
    assert run_cli("report", SEED, "--format", "pdf", cwd=REPO).returncode == 2
    assert run_cli("report", SEED, "-o", tmp_path, cwd=REPO).returncode == 2
    p = run_cli("report", "--data", tmp_path, "--format", "markdown", cwd=REPO)
    assert p.returncode == 1 and "not an ollalog dataset" in p.stderr


def test_missing_extra_says_what_to_install(monkeypatch, capsys, tmp_path):
    from ollalog.cli import main
    monkeypatch.setitem(sys.modules, "plotly", None)        # import plotly now fails
    rc = main(["report", SEED, "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert rc == 1 and not (tmp_path / "r.html").exists()
    assert err.strip() == ("ollalog: error: the HTML report needs plotly: pip install 'ollalog[report]' "
                           "(or --format markdown, which needs neither)")
    assert main(["report", SEED, "--format", "markdown", "-o", str(tmp_path / "r.md")]) == 0


# -- HTML, without a browser -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_page(samples, tmp_path_factory) -> Path:
    from ollalog.render.html import render_html
    path = tmp_path_factory.mktemp("page") / "report.html"
    path.write_text(render_html(samples), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory) -> Path:
    from ollalog.render.html import render_html
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "report.html"
    path.write_text(render_html(report([str(hostile_log(folder / "logs"))])), encoding="utf-8")
    return path


def _own_part(html: str) -> str:
    """The page without the inlined plotly.js (its source names sites in comments and map styles)."""
    from ollalog.render.html import plotly_js
    js = plotly_js()
    assert html.count(js) == 1
    return html.replace(js, "")


def test_page_is_self_contained(sample_page):
    html = sample_page.read_text(encoding="utf-8")
    own = _own_part(html)
    assert re.search(r"""<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;""", own)
    assert not re.search(r"https?://", own), re.search(r".{40}https?://.{40}", own).group(0)
    assert not re.search(r"""\b(src|href)\s*=\s*(?!["']?#)""", own, re.I)   # no external script, style or link
    assert own.count("<script") == 3 and own.count("</script>") == 3


def test_hostile_text_is_escaped_in_the_file(hostile_page):
    own = _own_part(hostile_page.read_text(encoding="utf-8"))
    assert own.count("<script") == 3 and own.count("</script>") == 3 and "<img" not in own
    block = re.search(r'<script type="application/json" id="ollalog-figures">(.*?)</script>', own, re.S).group(1)
    for bad in ("<", ">", "\u2028", "\u2029"):
        assert bad not in block
    figures = json.loads(block)
    labels = json.dumps(figures)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in labels        # plotly labels: entity-escaped
    assert HOSTILE_MODEL not in labels
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in own             # HTML text: escaped by the template


def test_figures_are_valid_plotly(samples):
    go = pytest.importorskip("plotly.graph_objects")
    from ollalog.render import shortest_paths
    from ollalog.render.html import ctx_figure, host_figure, need_figure
    short = shortest_paths([ld["file"] for m in samples["models"] for ld in m["loads"]]).get
    figs = [need_figure(m, short) for m in samples["models"]] + \
        [f for f in (ctx_figure(m, short) for m in samples["models"]) if f] + \
        [host_figure(h, lambda f: f) for h in samples["hosts"]]
    for f in figs:
        go.Figure(f)           # raises on a property plotly does not know


# -- HTML in headless Chromium --------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    import browser
    try:
        b = browser.Browser.start()
    except browser.BrowserMissing as e:
        pytest.skip(f"headless Chromium not available: {e}")
    yield b
    b.close()


ALERTS = "window.__alerts = []; window.alert = window.confirm = window.prompt = " \
         "function (m) { window.__alerts.push(String(m)); };"


def _open(chromium, path: Path):
    page = chromium.open(path.resolve().as_uri(), wait_for="document.body.dataset.charts", before=ALERTS, timeout=90)
    assert page.evaluate("document.body.dataset.charts") == "drawn", page.console
    return page


def _no_trouble(page, path: Path) -> None:
    bad = [c for c in page.console if c["level"] in ("error", "warning", "assert")]
    assert bad == [], bad
    assert page.requests == [path.resolve().as_uri()]
    assert page.dialogs == [] and page.evaluate("window.__alerts") == []


def test_page_draws_every_chart(chromium, sample_page, samples):
    page = _open(chromium, sample_page)
    _no_trouble(page, sample_page)
    ids = page.evaluate("JSON.parse(document.getElementById('ollalog-figures').textContent).map(f => f.id)")
    assert len(ids) >= 2 * len(samples["models"])
    drawn = page.evaluate("""Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => [el.id,
        el.querySelectorAll('svg.main-svg').length,
        el.querySelectorAll('.scatterlayer .trace path, .barlayer .point path').length,
        Math.min(...Array.from(el.querySelectorAll('svg.main-svg')).map(s => s.getBoundingClientRect().width)),
        Math.min(...Array.from(el.querySelectorAll('svg.main-svg')).map(s => s.getBoundingClientRect().height)),
        Array.from(el.querySelectorAll('.barlayer .point path, .scatterlayer .trace path'))
             .filter(p => { const r = p.getBoundingClientRect(); return r.width > 0 || r.height > 0; }).length])""")
    assert sorted(d[0] for d in drawn) == sorted(ids)
    for el, svgs, marks, width, height, seen in drawn:
        assert svgs >= 1 and marks >= 1 and seen >= 1, (el, svgs, marks, seen)     # marks drawn, not empty paths
        assert width >= 300 and height >= 200, (el, width, height)
    # the seed's curve has its threshold lines, the evictions host its lanes
    seed = next(i for i, m in enumerate(samples["models"]) if any(ld["line"] == 211 for ld in m["loads"]))
    assert page.evaluate(f"document.querySelectorAll('#model-{seed}-ctx .shapelayer path').length") >= 2
    lanes = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot .ytick text')).map(t => t.textContent)")
    assert "llama3.3:70b" in lanes and "events" in lanes


def test_hostile_strings_are_shown_as_text(chromium, hostile_page):
    page = _open(chromium, hostile_page)
    _no_trouble(page, hostile_page)
    assert page.evaluate("document.scripts.length") == 3
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    text = page.evaluate("document.body.innerText")
    for s in (HOSTILE_MODEL, HOSTILE_HOST, "</script><script>alert(5)</script><!--"):
        assert s in text, s
    ticks = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot .ytick text')).map(t => t.textContent)")
    assert HOSTILE_MODEL in ticks                                   # the timeline lane, as text in the SVG
