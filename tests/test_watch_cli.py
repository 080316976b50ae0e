"""`ollalog watch` as an operator runs it: a real process following a file that a writer appends
Ollama logs to (the samples, cut where a load begins), its alerts, hooks, state file and
/metrics, a real Prometheus server scraping it, and `--journald` over a journalctl stand-in.
Every wait is bounded in time; every process is stopped at the end of its test."""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
import urllib.request

import pytest

from conftest import SAMPLE_DIR, cli_env, run_cli

SEED = SAMPLE_DIR / "seed-deepseek-r1-32b.log"        # a GPU load (line 11), then a CPU one (line 211)
SPLIT = SAMPLE_DIR / "v0.6.8-docker-t-oom.log"         # a load that fails (line 7), then a split one (line 36)
EVICTIONS = SAMPLE_DIR / "v0.6.8-evictions.log"        # three loads, one evicted
ALERT_S = 2.0                                           # the bar: an appended load told within 2 s
VERDICT_KEYS = ("line", "placement", "layers_offloaded", "layers_total", "num_ctx", "parallel", "cause",
                "verdict", "model_blob", "vram_available_bytes", "kv_bytes", "weights_bytes", "host")


def lines_of(path) -> list:
    return path.read_bytes().splitlines(keepends=True)


def append(path, data: bytes) -> float:
    with open(path, "ab") as f:
        f.write(data)
    return time.monotonic()


def wait_for(pred, timeout: float, what: str, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


class Watch:
    """`python -m ollalog watch ARGS` in the background: stdout lines (with the time each came),
    stderr kept; stopped with SIGTERM (then killed) at the latest when the test ends."""

    def __init__(self, *args, env=None):
        self.args = [sys.executable, "-m", "ollalog", "watch", *map(str, args)]
        self.p = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env or cli_env(), start_new_session=True)
        self.out: queue.Queue = queue.Queue()
        self.err: list = []
        self.threads = [threading.Thread(target=self._read, args=(self.p.stdout, self.out.put), daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stderr, self.err.append), daemon=True)]
        for t in self.threads:
            t.start()

    @staticmethod
    def _read(fh, put):
        for line in iter(fh.readline, b""):
            put((time.monotonic(), line.decode("utf-8", "replace").rstrip("\n")))

    def stderr(self) -> str:
        return "\n".join(line for _, line in list(self.err))

    def line(self, timeout: float) -> tuple:
        """(time it came, text) of the next stdout line."""
        try:
            return self.out.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output within {timeout:g} s; stderr:\n{self.stderr()}")

    def events(self, n: int, timeout: float) -> list:
        """The next n JSON events (each stdout line one object), as (time, event)."""
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < n:
            t, text = self.line(max(0.01, deadline - time.monotonic()))
            got.append((t, json.loads(text)))
        return got

    def quiet_for(self, seconds: float) -> list:
        """Lines that come within `seconds` (to show that nothing more is told)."""
        deadline = time.monotonic() + seconds
        got = []
        while time.monotonic() < deadline:
            try:
                got.append(self.out.get(timeout=max(0.01, deadline - time.monotonic()))[1])
            except queue.Empty:
                break
        return got

    def metrics_url(self, timeout: float = 30) -> str:
        m = wait_for(lambda: re.search(r"metrics at (http://\S+/metrics)", self.stderr()), timeout,
                     "the metrics address on stderr")
        return m.group(1)

    def started(self, timeout: float = 60) -> None:
        """The watch says what it watches once its signal handlers are set."""
        wait_for(lambda: "watching " in self.stderr() or self.p.poll() is not None, timeout, "the watch to start")

    def stop(self, timeout: float = 20) -> int:
        self.started()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=10)
                pytest.fail(f"watch did not stop on SIGTERM within {timeout:g} s; stderr:\n{self.stderr()}")
        for t in self.threads:
            t.join(timeout=5)
        return self.p.returncode


@pytest.fixture
def watches():
    started = []

    def start(*args, **kw):
        w = Watch(*args, **kw)
        started.append(w)
        return w
    yield start
    for w in started:
        if w.p.poll() is None:
            os.killpg(w.p.pid, signal.SIGKILL)
            w.p.wait(timeout=10)


def ready(state) -> None:
    """The watch has read what the file held when it began (the history): its first state write."""
    wait_for(lambda: os.path.exists(state), 60, f"the state file {state}")


def why_json(path) -> dict:
    """`ollalog why --all --format json` on the file: its loads by first line."""
    p = run_cli("why", "--all", "--format", "json", path)
    assert p.returncode == 0, p.stderr
    return {ld["line"]: ld for m in json.loads(p.stdout)["models"] for ld in m["loads"]}


def same_as_why(ev: dict, want: dict) -> list:
    diffs = [f"{k}: watch {ev.get(k)!r}, why {want.get(k)!r}" for k in VERDICT_KEYS if ev.get(k) != want.get(k)]
    for k in ("num_ctx_full_gpu", "num_ctx_any_gpu"):
        if (ev.get("threshold") or {}).get(k) != (want.get("threshold") or {}).get(k):
            diffs.append(f"threshold.{k}")
    return diffs


def log_at(tmp_path, sample, upto: int, folder: str = "gpubox"):
    """The sample's lines before line `upto` (1-based) in tmp_path/folder/server.log."""
    p = tmp_path / folder / "server.log"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"".join(lines_of(sample)[:upto - 1]))
    return p


# -- alerts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample, line, placement", [(SEED, 211, "cpu"), (SPLIT, 36, "partial")],
                         ids=["cpu", "split"])
def test_an_appended_load_is_told_within_2s_with_whys_verdict(tmp_path, watches, sample, line, placement):
    p = log_at(tmp_path, sample, line)
    state = tmp_path / "state.json"
    w = watches(p, "--format", "json", "--state", state)
    ready(state)
    assert w.quiet_for(0.5) == []                     # the history sets up the state, tells nothing
    t0 = append(p, b"".join(lines_of(sample)[line - 1:]))
    (t1, ev), = w.events(1, 30)
    assert t1 - t0 < ALERT_S, f"told after {t1 - t0:.2f} s"
    assert (ev["event"], ev["line"], ev["placement"]) == ("load", line, placement)
    assert same_as_why(ev, why_json(p)[line]) == []
    assert w.quiet_for(0.5) == []                     # one event for the load, nothing else
    assert w.stop() == 0


def test_text_alert_line(tmp_path, watches):
    p = log_at(tmp_path, SEED, 211)
    state = tmp_path / "state.json"
    w = watches(p, "--state", state)
    ready(state)
    append(p, b"".join(lines_of(SEED)[210:]))
    _, text = w.line(30)
    assert re.fullmatch(r"2025-01-28 \S+ gpubox DeepSeek R1 Distill Qwen 32B \(blob 9fa8987608ed\) CPU 0/65 "
                        r"num_ctx 131072 x 2: kv_too_big \(.+\); all layers on the GPU up to num_ctx 6323, "
                        r"some up to 105750 \[.*server\.log:211\]", text), text
    assert w.stop() == 0


def test_from_start_tells_every_load_as_one_json_object_per_line(tmp_path, watches):
    p = log_at(tmp_path, EVICTIONS, 10 ** 6, folder="h")
    w = watches(p, "--format", "json", "--from-start", "--no-state")
    evs = [ev for _, ev in w.events(3, 60)]
    want = why_json(p)
    assert [ev["line"] for ev in evs] == sorted(want)
    for ev in evs:
        assert ev["event"] == "load" and isinstance(ev["threshold"], dict)
        assert [d for d in same_as_why(ev, want[ev["line"]]) if not d.startswith("outcome")] == []
    assert w.stop() == 0


def test_once_reads_what_is_there_and_exits():
    p = run_cli("watch", "--once", "--format", "json", SEED, timeout=120)
    assert p.returncode == 0, p.stderr
    evs = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert [(e["line"], e["placement"]) for e in evs] == [(11, "gpu"), (211, "cpu")]


def test_a_missing_file_with_once_is_one_error_line(tmp_path):
    p = run_cli("watch", "--once", tmp_path / "nope.log", timeout=60)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert [ln for ln in p.stderr.splitlines() if "error" in ln] == [f"ollalog: error: {tmp_path / 'nope.log'}: no such file or directory"]


# -- rotation and restarts -------------------------------------------------------------------------

def test_rotations_lose_no_line_and_double_none(tmp_path, watches):
    """A writer appends the evictions log in three parts, with a rotation by rename and one by
    copy-truncate between them: the watch's line counter counts every line once, and every load
    is told once."""
    lines = lines_of(EVICTIONS)
    p = log_at(tmp_path, EVICTIONS, 1, folder="h")
    state = tmp_path / "state.json"
    w = watches(p, "--format", "json", "--state", state, "--metrics", "127.0.0.1:0")
    url = w.metrics_url()
    ready(state)

    def counted():
        return sum(v for (name, labels), v in scrape(url).items() if name == "ollalog_lines_total")
    append(p, b"".join(lines[:30]))
    wait_for(lambda: counted() == 30, 30, "30 lines counted")
    os.rename(p, p.with_name("server.log.1"))
    append(p, b"".join(lines[30:70]))
    wait_for(lambda: counted() == 70, 30, "70 lines counted")
    append(p, b"".join(lines[70:80]))
    shutil.copy(p, p.with_name("server.log.2"))
    with open(p, "r+b") as f:
        f.truncate(0)
    append(p, b"".join(lines[80:]))
    wait_for(lambda: counted() >= len(lines), 30, f"{len(lines)} lines counted")
    evs = [ev for _, ev in w.events(3, 30)]
    assert w.quiet_for(1.0) == []
    assert counted() == len(lines)
    assert sorted(ev["line"] for ev in evs) == sorted(why_json(EVICTIONS))
    m = scrape(url)
    assert m[("ollalog_rotations_total", (("kind", "rename"),))] == 1
    assert m[("ollalog_rotations_total", (("kind", "truncate"),))] == 1
    assert w.stop() == 0


def test_a_restart_resumes_from_the_state_file(tmp_path, watches):
    """Stopped after the first load was told, the evictions log grows by two loads while no watch
    runs; the next watch, from the same state file, tells those two and not the first again."""
    lines = lines_of(EVICTIONS)
    p = log_at(tmp_path, EVICTIONS, 1, folder="h")
    state = tmp_path / "state.json"
    w = watches(p, "--format", "json", "--state", state)
    ready(state)
    append(p, b"".join(lines[:49]))
    (_, first), = w.events(1, 30)
    assert first["line"] == 10
    assert w.stop() == 0
    append(p, b"".join(lines[49:]))               # while nothing watches
    w2 = watches(p, "--format", "json", "--state", state)
    evs = [ev for _, ev in w2.events(2, 60)]
    assert [ev["line"] for ev in evs] == [50, 90]
    assert w2.quiet_for(1.0) == []
    assert w2.stop() == 0
    w3 = watches(p, "--format", "json", "--state", state)   # nothing new: nothing told
    w3.started()
    assert w3.quiet_for(2.0) == []
    assert w3.stop() == 0


# -- hooks -----------------------------------------------------------------------------------------

def test_hooks_get_the_verdict_on_stdin_and_never_block(tmp_path, watches):
    """--on-partial sleeps past its timeout and --on-cpu saves its stdin: the CPU load appended
    after the split one is still told within the bar, the sleeper is killed and reported."""
    p = log_at(tmp_path, SPLIT, 36)
    got = tmp_path / "cpu.json"
    state = tmp_path / "state.json"
    w = watches(p, "--format", "json", "--state", state, "--hook-timeout", "2",
                "--on-partial", f"sleep 30; touch {tmp_path / 'slept'}",
                "--on-cpu", f"cat > {got}.tmp && mv {got}.tmp {got}")
    ready(state)
    append(p, b"".join(lines_of(SPLIT)[35:]))
    (_, split), = w.events(1, 30)
    assert split["placement"] == "partial"
    t0 = append(p, b"".join(lines_of(SEED)))      # a server restart whose second load is on the CPU
    (_, gpu), (t2, cpu) = w.events(2, 30)
    assert (gpu["placement"], cpu["placement"]) == ("gpu", "cpu")
    assert t2 - t0 < ALERT_S + 1.0, f"told after {t2 - t0:.2f} s"   # two loads of a restart at once
    hooked = wait_for(lambda: got.exists() and json.loads(got.read_text()), 10, "the --on-cpu command's output")
    assert hooked == cpu
    wait_for(lambda: "--on-partial: timeout" in w.stderr(), 10, "the --on-partial timeout on stderr")
    assert not (tmp_path / "slept").exists()
    assert w.stop() == 0


# -- metrics ---------------------------------------------------------------------------------------

def scrape(url: str) -> dict:
    """{(name, sorted labels): value} of one scrape of /metrics."""
    from prometheus_client.parser import text_string_to_metric_families
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        text = r.read().decode("utf-8")
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


SEED_MODEL = "DeepSeek R1 Distill Qwen 32B (blob 9fa8987608ed)"
SEED_GPU = "GPU-a41839ba-c28a-d437-6452-e722eef85e70"


def seed_watch(tmp_path, watches, *extra):
    """A watch with metrics over the seed log's first server start (history), then its CPU load
    appended; returns (watch, metrics URL) once the CPU load was told."""
    p = log_at(tmp_path, SEED, 211)
    state = tmp_path / "state.json"
    w = watches(p, "--format", "json", "--state", state, "--metrics", "127.0.0.1:0", *extra)
    url = w.metrics_url()
    ready(state)
    append(p, b"".join(lines_of(SEED)[210:]))
    (_, ev), = w.events(1, 30)
    assert ev["placement"] == "cpu"
    return w, url


def test_metrics_endpoint_serves_the_series(tmp_path, watches):
    w, url = seed_watch(tmp_path, watches)
    lines = lines_of(SEED)
    m = wait_for(lambda: (lambda m: m if sum(v for (n, _), v in m.items() if n == "ollalog_lines_total") ==
                          len(lines) - 210 else None)(scrape(url)), 10, "the appended lines counted")
    hm = (("host", "gpubox"), ("model", SEED_MODEL))
    assert m[("ollama_loads_total", (("cause", "kv_too_big"),) + hm + (("placement", "cpu"),))] == 1
    # the first load was history: it counts no load, but its gauges were set and then the CPU load's
    assert not any(n == "ollama_loads_total" and dict(lb).get("placement") == "gpu" for n, lb in m)
    assert m[("ollama_load_layers_offloaded", hm)] == 0
    assert m[("ollama_load_layers", hm)] == 65
    assert m[("ollama_load_num_ctx", hm)] == 131072
    assert m[("ollama_load_num_ctx_full_gpu", hm)] == 6323
    assert m[("ollama_gpu_free_bytes", (("gpu", SEED_GPU), ("host", "gpubox")))] == 24910810317
    assert m[("ollama_load_duration_seconds_count", hm)] == 1
    assert 30 < m[("ollama_load_duration_seconds_sum", hm)] < 40
    req = {lb: v for (n, lb), v in m.items() if n == "ollama_request_duration_seconds_count"}
    assert req and all(dict(lb)["path"].startswith("/") or dict(lb)["path"] == "other" for lb in req)
    assert all(re.fullmatch(r"\d{3}|other", dict(lb)["status"]) for lb in req)
    want_requests = sum(1 for ln in lines[210:] if b"[GIN]" in ln)
    assert sum(req.values()) == want_requests
    status = {dict(lb)["status"]: v for (n, lb), v in m.items() if n == "ollalog_lines_total"}
    assert status.get("malformed", 0) == 0 and status["parsed"] > 0
    for name in ("ollama_ooms_total", "ollama_evictions_total"):   # declared, none yet
        assert not any(n == name for n, _ in m)
    assert ("process_resident_memory_bytes", ()) in m
    assert w.stop() == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus_or_skip() -> str:
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.skip("the prometheus server is not installed (apt-get install prometheus; .ci/run does)")
    try:
        v = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"prometheus cannot run here: {e}")
    if v.returncode != 0:
        pytest.skip(f"prometheus cannot run here: {(v.stderr or v.stdout).strip()[:200]}")
    return exe


def test_a_real_prometheus_scrapes_the_watch(tmp_path, watches):
    exe = prometheus_or_skip()
    w, url = seed_watch(tmp_path, watches)
    target = urllib.parse.urlparse(url).netloc
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(textwrap.dedent(f"""\
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
        scrape_configs:
          - job_name: ollalog
            static_configs:
              - targets: ["{target}"]
        """))
    port = free_port()
    log = open(tmp_path / "prometheus.out", "wb")
    prom = subprocess.Popen([exe, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    api = f"http://127.0.0.1:{port}/api/v1/query?query="

    def query(q: str):
        try:
            with urllib.request.urlopen(api + urllib.parse.quote(q), timeout=5) as r:
                d = json.load(r)
        except OSError:
            return None
        return d["data"]["result"] if d.get("status") == "success" else None
    try:
        res = wait_for(lambda: query('ollama_loads_total{placement="cpu"}'), 90,
                       "Prometheus to scrape the watch and answer a query", step=0.5)
        assert len(res) == 1
        s = res[0]
        assert {k: s["metric"][k] for k in ("host", "model", "placement", "cause", "job")} == \
            {"host": "gpubox", "model": SEED_MODEL, "placement": "cpu", "cause": "kv_too_big", "job": "ollalog"}
        assert float(s["value"][1]) == 1
        got = query(f'ollama_load_layers_offloaded{{model="{SEED_MODEL}"}}')
        assert [float(r["value"][1]) for r in got] == [0]
        got = query('ollama_gpu_free_bytes')
        assert [(r["metric"]["gpu"], float(r["value"][1])) for r in got] == [(SEED_GPU, 24910810317)]
        got = query('sum(ollama_request_duration_seconds_count)')
        assert float(got[0]["value"][1]) == sum(1 for ln in lines_of(SEED)[210:] if b"[GIN]" in ln)
        up = query('up{job="ollalog"}')
        assert [float(r["value"][1]) for r in up] == [1]
    finally:
        prom.send_signal(signal.SIGTERM)
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(prom.pid, signal.SIGKILL)
            prom.wait(timeout=10)
        log.close()
    assert w.stop() == 0


# -- the journal -----------------------------------------------------------------------------------

FAKE_JOURNALCTL = '''\
#!{python}
"""journalctl -o json for the tests: entries are the lines of $FAKE_JOURNAL (one MESSAGE each);
--boot lists them, --follow then tails the file (for at most 120 s)."""
import json, os, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_JOURNAL_ARGS"], "a") as f:
    f.write(" ".join(args) + "\\n")
after = next((int(a.split(";i=")[1]) for a in args if a.startswith("--after-cursor=")), None)
follow = "--follow" in args
skip = after if after is not None else (None if "--boot" in args or not follow else -1)
n = 0
pos = 0
t0 = time.monotonic()
def emit(line):
    global n
    n += 1
    if skip is not None and (skip == -1 or n <= skip):
        return
    rec = {{"__CURSOR": f"s=fake;i={{n}}", "__REALTIME_TIMESTAMP": str(1738054800000000 + n),
           "_HOSTNAME": "gpubox", "_PID": "1234", "SYSLOG_IDENTIFIER": "ollama", "_SYSTEMD_UNIT": "ollama.service",
           "MESSAGE": line.decode("utf-8", "replace").rstrip("\\r\\n")}}
    sys.stdout.write(json.dumps(rec) + "\\n")
    sys.stdout.flush()
while True:
    with open(os.environ["FAKE_JOURNAL"], "rb") as f:
        f.seek(pos)
        data = f.read()
    whole = data[:data.rfind(b"\\n") + 1]
    pos += len(whole)
    for line in whole.splitlines(keepends=True):
        emit(line)
    if skip == -1:
        skip = None
    if not follow or time.monotonic() - t0 > 120:
        break
    time.sleep(0.05)
'''


def fake_journalctl(tmp_path, journal):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "journalctl"
    exe.write_text(FAKE_JOURNALCTL.format(python=sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    env = cli_env()
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", FAKE_JOURNAL=str(journal),
               FAKE_JOURNAL_ARGS=str(tmp_path / "args.txt"))
    return env


def test_journald_follows_journalctl_json(tmp_path, watches):
    """This boot's entries so far are history; what journalctl --follow brings after is told, with the
    journal's host; a restart goes on after the saved cursor."""
    journal = tmp_path / "journal.txt"
    journal.write_bytes(b"".join(lines_of(SEED)[:210]))
    env = fake_journalctl(tmp_path, journal)
    state = tmp_path / "state.json"
    w = watches("--journald", "-u", "ollama", "--format", "json", "--state", state, env=env)
    ready(state)
    args_file = tmp_path / "args.txt"
    wait_for(lambda: args_file.exists() and "--follow" in args_file.read_text(), 30, "journalctl --follow")
    assert w.quiet_for(0.5) == []
    t0 = append(journal, b"".join(lines_of(SEED)[210:]))
    (t1, ev), = w.events(1, 30)
    assert t1 - t0 < ALERT_S, f"told after {t1 - t0:.2f} s"
    assert (ev["line"], ev["placement"], ev["cause"], ev["host"]) == (211, "cpu", "kv_too_big", "gpubox")
    assert ev["layers_offloaded"] == 0 and ev["layers_total"] == 65
    assert ev["threshold"]["num_ctx_full_gpu"] == 6323
    assert w.stop() == 0
    args = (tmp_path / "args.txt").read_text().splitlines()
    assert args[0].split() == ["--output=json", "--no-pager", "--quiet", "--unit", "ollama", "--boot"]
    assert args[1].split()[-2:] == ["--after-cursor=s=fake;i=210", "--follow"]
    # restarted: journalctl resumes after the last entry used, and the GPU load appended now is told
    append(journal, b"".join(lines_of(SEED)[:210]))
    w2 = watches("--journald", "-u", "ollama", "--format", "json", "--state", state, env=env)
    (_, ev2), = w2.events(1, 30)
    assert ev2["line"] == 393 + 11 and ev2["placement"] == "gpu"
    assert w2.stop() == 0
    assert (tmp_path / "args.txt").read_text().splitlines()[2].split()[-2:] == \
        ["--after-cursor=s=fake;i=393", "--follow"]


def test_journald_without_journalctl_is_one_error_line(tmp_path):
    env = cli_env()
    env["PATH"] = str(tmp_path)
    p = subprocess.run([sys.executable, "-m", "ollalog", "watch", "--journald", "--no-state"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "journalctl not found" in p.stderr
