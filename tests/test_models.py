"""Model names, the models dir, manifests and their params: `ollalog.models` and the fixture
`sample_logs/models/` of the seed scenario."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from conftest import SAMPLE_DIR, SRC
from ollalog import models as M
from ollalog.errors import InputError, UsageError
from ollalog.models import ModelName

FIXTURE = SAMPLE_DIR / "models"
SEED_LOG = SAMPLE_DIR / "seed-deepseek-r1-32b.log"
DS_BLOB = "9fa8987608ed00765a7b86f5ca5eb98aa99b733696827cb4a598e07df973e35f"
DS_STOP = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"]
TINY = "hf.co/example-user/TinyLlama-1.1B-GGUF:Q8_0"
P = "application/vnd.ollama.image."


def go_json(obj, sort_keys: bool) -> bytes:
    """What Go's encoding/json writes: compact, `<`, `>`, `&`, U+2028/9 escaped, UTF-8 otherwise."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return s.encode()


# ----------------------------------------------------------------------------- names

@pytest.mark.parametrize("text, full, short", [
    ("deepseek-r1", "registry.ollama.ai/library/deepseek-r1:latest", "deepseek-r1:latest"),
    ("deepseek-r1:32b", "registry.ollama.ai/library/deepseek-r1:32b", "deepseek-r1:32b"),
    ("deepseek-r1:32b-max-context", "registry.ollama.ai/library/deepseek-r1:32b-max-context",
     "deepseek-r1:32b-max-context"),
    ("registry.ollama.ai/library/deepseek-r1:32b-max-context",
     "registry.ollama.ai/library/deepseek-r1:32b-max-context", "deepseek-r1:32b-max-context"),
    ("myuser/m:1", "registry.ollama.ai/myuser/m:1", "myuser/m:1"),
    ("myuser/m", "registry.ollama.ai/myuser/m:latest", "myuser/m:latest"),
    ("hf.co/bartowski/Foo-GGUF:Q4_K_M", "hf.co/bartowski/Foo-GGUF:Q4_K_M", "hf.co/bartowski/Foo-GGUF:Q4_K_M"),
    ("hf.co/u/r", "hf.co/u/r:latest", "hf.co/u/r:latest"),
    ("https://hf.co/u/r:tag", "hf.co/u/r:tag", "hf.co/u/r:tag"),
    ("http://localhost:5000/ns/m:t", "localhost:5000/ns/m:t", "localhost:5000/ns/m:t"),
    ("localhost:5000/ns/m", "localhost:5000/ns/m:latest", "localhost:5000/ns/m:latest"),
    ("qwen2.5:0.5b", "registry.ollama.ai/library/qwen2.5:0.5b", "qwen2.5:0.5b"),
    ("_a/_b:_c", "registry.ollama.ai/_a/_b:_c", "_a/_b:_c"),
    ("  llama3.2:1b \n", "registry.ollama.ai/library/llama3.2:1b", "llama3.2:1b"),
    # a default host or namespace written in another case is still the default for display
    ("Registry.Ollama.AI/Library/M:T", "Registry.Ollama.AI/Library/M:T", "M:T"),
    ("registry.ollama.ai/library/x:1", "registry.ollama.ai/library/x:1", "x:1"),
])
def test_parse_forms(text, full, short):
    n = ModelName.parse(text)
    assert str(n) == full
    assert n.short() == short
    assert ModelName.parse(full) == n
    assert ModelName.parse(short).equals(n)


def test_parse_defaults_and_parts():
    n = ModelName.parse("deepseek-r1")
    assert (n.host, n.namespace, n.model, n.tag) == ("registry.ollama.ai", "library", "deepseek-r1", "latest")
    assert n.parts == ("registry.ollama.ai", "library", "deepseek-r1", "latest")
    assert ModelName.coerce(n) is n
    assert ModelName.coerce("deepseek-r1") == n


def test_case_is_kept_and_compared_without_it():
    n = ModelName.parse("DeepSeek-R1:32B")
    assert n.model == "DeepSeek-R1" and n.tag == "32B"
    assert n != ModelName.parse("deepseek-r1:32b")           # dataclass equality is exact
    assert n.equals("deepseek-r1:32b")
    assert n.equals("REGISTRY.OLLAMA.AI/library/DEEPSEEK-R1:32b")
    assert n.equals(ModelName.parse("deepseek-r1:32b"))
    assert n.key == ("registry.ollama.ai", "library", "deepseek-r1", "32b")
    assert not n.equals("deepseek-r1:32b-max-context")
    assert not n.equals("deepseek-r1")                        # :latest
    assert not n.equals("other/deepseek-r1:32b")
    assert n.same_model("deepseek-r1:32b-max-context") and n.same_model("DEEPSEEK-R1")
    assert not n.same_model("other/deepseek-r1:32b")


def test_equals_takes_the_full_name_logs_print():
    # DEBUG runner.name= prints the full name; the user types the short one
    logged = "registry.ollama.ai/library/deepseek-r1:32b-max-context"
    assert ModelName.parse("deepseek-r1:32b-max-context").equals(logged)
    assert ModelName.parse(logged).short() == "deepseek-r1:32b-max-context"


@pytest.mark.parametrize("text", ["", "   ", "a b", "../x", "a\x00b", "x" * 5000, "m:", 42, None, "a/b/c/d"])
def test_equals_is_false_for_what_is_not_a_name(text):
    assert ModelName.parse("m:t").equals(text) is False
    assert ModelName.parse("m:t").same_model(text) is False


@pytest.mark.parametrize("text, message", [
    ("", "invalid model name '': the name is empty"),
    ("   ", "invalid model name '': the name is empty"),
    ("m:", "invalid model name 'm:': the tag after ':' is empty"),
    (":t", "invalid model name ':t': the model before ':' is empty"),
    ("ns/", "invalid model name 'ns/': the model after the last '/' is empty"),
    ("/m", "invalid model name '/m': the namespace before '/' is empty"),
    ("/etc/passwd", "invalid model name '/etc/passwd': the host before '/' is empty"),
    ("h//m", "invalid model name 'h//m': the namespace between '/'s is empty"),
    ("a/b/c/d", "invalid model name 'a/b/c/d': too many '/'-separated parts (expected [host/][namespace/]model[:tag])"),
    ("../../etc/passwd", "invalid model name '../../etc/passwd': too many '/'-separated parts "
                         "(expected [host/][namespace/]model[:tag])"),
    ("../etc/passwd", "invalid model name '../etc/passwd': the host '..' must start with an ASCII letter, "
                      "a digit or '_'"),
    ("..", "invalid model name '..': the model '..' must start with an ASCII letter, a digit or '_'"),
    ("-m", "invalid model name '-m': the model '-m' must start with an ASCII letter, a digit or '_'"),
    ("m:.t", "invalid model name 'm:.t': the tag '.t' must start with an ASCII letter, a digit or '_'"),
    ("ns.x/m", "invalid model name 'ns.x/m': the namespace 'ns.x' contains '.' "
               "(allowed: ASCII letters, digits and '-', '_')"),
    ("m:t:u", "invalid model name 'm:t:u': the model 'm:t' contains ':' (allowed: ASCII letters, digits and "
              "'-', '_', '.')"),
    ("a b", "invalid model name 'a b': the model 'a b' contains ' ' (allowed: ASCII letters, digits and "
            "'-', '_', '.')"),
    ("a\x00b", "invalid model name 'a\\x00b': the model 'a\\x00b' contains '\\x00' (allowed: ASCII letters, "
               "digits and '-', '_', '.')"),
    ("mo\u0308del", "invalid model name 'mo\u0308del': the model 'mo\u0308del' contains '\u0308' (allowed: ASCII "
                    "letters, digits and '-', '_', '.')"),
    ("m\\x", "invalid model name 'm\\x': the model 'm\\x' contains '\\' (allowed: ASCII letters, digits and "
             "'-', '_', '.')"),
    ("m@sha256:abc", "invalid model name 'm@sha256:abc': a digest ('@...') cannot be given here; give NAME[:TAG]"),
    ("m:" + "t" * 81, "invalid model name 'm:" + "t" * 75 + "...': the tag is 81 characters long (at most 80)"),
    ("x" * 81, "invalid model name '" + "x" * 77 + "...': the model is 81 characters long (at most 80)"),
    ("n" * 81 + "/m", "invalid model name '" + "n" * 77 + "...': the namespace is 81 characters long (at most 80)"),
    ("h" * 351 + "/n/m", "invalid model name '" + "h" * 77 + "...': the host is 351 characters long (at most 350)"),
    ("http://localhost:11434/m", "invalid model name 'http://localhost:11434/m': too many '/'-separated parts "
                                 "(expected [host/][namespace/]model[:tag])"),
])
def test_invalid_names_say_what_is_wrong(text, message):
    with pytest.raises(UsageError) as e:
        ModelName.parse(text)
    assert str(e.value) == message
    assert "\n" not in str(e.value)


def test_length_limits_are_inclusive():
    assert ModelName.parse("m" * 80 + ":" + "t" * 80).tag == "t" * 80
    assert ModelName.parse("h" * 350 + "/" + "n" * 80 + "/m").host == "h" * 350


def test_a_very_long_name_gives_a_short_message():
    with pytest.raises(UsageError) as e:
        ModelName.parse("a/" * 100_000 + "b")
    assert len(str(e.value)) < 200
    with pytest.raises(UsageError) as e:
        ModelName.parse("\x1b[31m" * 1000)
    assert "\x1b" not in str(e.value) and len(str(e.value)) < 300


def test_not_text_is_a_usage_error():
    with pytest.raises(UsageError, match="expected text, not bytes"):
        ModelName.parse(b"deepseek-r1")


def test_constructor_validates_every_part():
    with pytest.raises(UsageError, match="the namespace '..' must start"):
        ModelName("registry.ollama.ai", "..", "m", "latest")
    with pytest.raises(UsageError, match="the tag is empty"):
        ModelName("registry.ollama.ai", "library", "m", "")
    with pytest.raises(UsageError, match="the model must be a string"):
        ModelName("registry.ollama.ai", "library", None, "t")
    with pytest.raises(Exception):
        ModelName.parse("m:t").tag = "x"   # frozen


_PART = st.text(alphabet="abcXYZ019_-.", min_size=1, max_size=12).filter(lambda s: s[0] not in "-.")


@settings(max_examples=200, deadline=None)
@given(_PART, _PART.map(lambda s: s.replace(".", "_")), _PART, _PART)
def test_valid_names_round_trip(host, ns, model, tag):
    n = ModelName(host, ns, model, tag)
    assert ModelName.parse(str(n)) == n
    assert ModelName.parse(n.short()).equals(n)
    assert ModelName.parse(str(n).upper()).equals(n)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_parses_or_fails_cleanly(text):
    try:
        n = ModelName.parse(text)
    except UsageError as e:
        assert str(e).startswith("invalid model name ") and "\n" not in str(e)
        return
    for part in n.parts:
        assert part and part[0] not in "./-" and "/" not in part and "\\" not in part and "\x00" not in part
        assert part.isascii()


# ----------------------------------------------------------------------------- the models dir

def _models_dir(path: Path) -> Path:
    (path / "manifests").mkdir(parents=True)
    (path / "blobs").mkdir()
    return path


def test_explicit_models_dir(tmp_path):
    d = _models_dir(tmp_path / "m")
    other = _models_dir(tmp_path / "env")
    assert M.find_models_dir(d, env={"OLLAMA_MODELS": str(other)}) == (d, "--models-dir", [])
    assert M.find_models_dir(str(d), env={}) == (d, "--models-dir", [])


@pytest.mark.parametrize("setup, reason", [
    (lambda p: None, "not an Ollama models dir: does not exist"),
    (lambda p: p.write_text("x"), "not an Ollama models dir: is not a folder"),
    (lambda p: p.mkdir(), "not an Ollama models dir: holds no manifests/ folder"),
    (lambda p: (p.mkdir(), (p / "manifests").write_text("")), "not an Ollama models dir: its manifests/ is not a folder"),
    (lambda p: (p / "models" / "manifests").mkdir(parents=True),
     "not an Ollama models dir: holds no manifests/ folder (did you mean {p}/models?)"),
])
def test_explicit_models_dir_that_is_not_one(tmp_path, setup, reason):
    p = tmp_path / "x"
    setup(p)
    with pytest.raises(InputError) as e:
        M.find_models_dir(p, env={})
    assert str(e.value) == f"{p}: " + reason.format(p=p)


def test_explicit_manifests_folder_gets_a_hint(tmp_path):
    d = _models_dir(tmp_path / "m")
    with pytest.raises(InputError, match=r"holds no manifests/ folder \(give the folder above manifests/\)"):
        M.find_models_dir(d / "manifests", env={})


def test_explicit_path_with_nul_byte_is_an_input_error():
    with pytest.raises(InputError, match="not an Ollama models dir"):
        M.find_models_dir("/tmp/a\x00b", env={})


@pytest.fixture
def no_platform_dirs(monkeypatch, tmp_path):
    """Platform defaults under tmp_path (empty unless a test makes them): never the real ones."""
    base = tmp_path / "platform"
    dirs = dict(M.PLATFORM_DIRS, linux=((str(base / "service"), "default of the Linux install's systemd service"),
                      (M.HOME_MODELS, "default for the user running ollama"),
                      (str(base / "varlib"), "default of distribution packages"),
                      (str(base / "docker"), "default of the official Docker image")))
    monkeypatch.setattr(M, "PLATFORM_DIRS", dirs)
    return base


def test_order_env_then_log_dirs_then_defaults(tmp_path, no_platform_dirs):
    env_dir, log1, log2 = (_models_dir(tmp_path / n) for n in ("env", "log1", "log2"))
    home = tmp_path / "home"
    _models_dir(home / ".ollama" / "models")
    logs = [(str(log1), "server config of a.log:2"), (log2, "server config of b.log:7")]
    kw = dict(log_dirs=logs, platform="linux", home=home)

    assert M.find_models_dir(env={"OLLAMA_MODELS": str(env_dir)}, **kw) == (env_dir, "OLLAMA_MODELS", [])
    # envconfig.Var trims spaces, then quotes
    assert M.find_models_dir(env={"OLLAMA_MODELS": f' "{env_dir}" '}, **kw)[:2] == (env_dir, "OLLAMA_MODELS")
    assert M.find_models_dir(env={}, **kw) == (log1, "server config of a.log:2", [])

    shutil.rmtree(log1)
    path, how, tried = M.find_models_dir(env={"OLLAMA_MODELS": str(tmp_path / "gone")}, **kw)
    assert (path, how) == (log2, "server config of b.log:7")
    assert tried == [f"{tmp_path}/gone (OLLAMA_MODELS): does not exist",
                     f"{log1} (server config of a.log:2): does not exist"]

    shutil.rmtree(log2)
    path, how, tried = M.find_models_dir(env={}, **kw)
    assert (path, how) == (home / ".ollama" / "models", "default for the user running ollama")
    assert tried[-1] == f"{no_platform_dirs}/service (default of the Linux install's systemd service): does not exist"

    _models_dir(no_platform_dirs / "service")
    assert M.find_models_dir(env={}, **kw)[:2] == (no_platform_dirs / "service",
                                                   "default of the Linux install's systemd service")


def test_plain_log_dirs_get_a_default_label(tmp_path, no_platform_dirs):
    d = _models_dir(tmp_path / "d")
    assert M.find_models_dir(log_dirs=[str(d)], env={}, platform="linux", home=None) == (d, "server config", [])


def test_home_comes_from_env(tmp_path, no_platform_dirs):
    home = tmp_path / "h"
    d = _models_dir(home / ".ollama" / "models")
    got = M.find_models_dir(env={"HOME": str(home)}, platform="linux")
    assert got == (d, "default for the user running ollama", [f"{no_platform_dirs}/service (default of the "
                                                             f"Linux install's systemd service): does not exist"])
    # Windows takes USERPROFILE, not HOME
    got = M.find_models_dir(env={"HOME": "/nowhere", "USERPROFILE": str(home)}, platform="win32")
    assert got[:2] == (d, "default on Windows")
    got = M.find_models_dir(env={"HOME": str(home)}, platform="darwin")
    assert got[:2] == (d, "default on macOS")


def test_nothing_found_lists_everything_tried(tmp_path, no_platform_dirs):
    logs = [("relative/models", "server config of a.log:2"), (r"C:\Users\me\.ollama\models", "server config of b.log:3"),
            ("/nonexistent\x07/models", "server config of c.log:4")]
    path, how, tried = M.find_models_dir(env={"OLLAMA_MODELS": "models"}, log_dirs=logs, platform="linux",
                                         home=tmp_path / "home")
    assert (path, how) == (None, "not found")
    assert tried == [
        "models (OLLAMA_MODELS): a relative path, the server's working directory is unknown",
        "relative/models (server config of a.log:2): a relative path, the server's working directory is unknown",
        r"C:\Users\me\.ollama\models (server config of b.log:3): a Windows path, not one of this system",
        "/nonexistent\\x07/models (server config of c.log:4): does not exist",
        f"{no_platform_dirs}/service (default of the Linux install's systemd service): does not exist",
        f"{tmp_path}/home/.ollama/models (default for the user running ollama): does not exist",
        f"{no_platform_dirs}/varlib (default of distribution packages): does not exist",
        f"{no_platform_dirs}/docker (default of the official Docker image): does not exist",
    ]


def test_a_candidate_tried_twice_is_listed_once(tmp_path, no_platform_dirs):
    gone = str(no_platform_dirs / "service")
    _, _, tried = M.find_models_dir(env={"OLLAMA_MODELS": gone}, log_dirs=[gone + "/"], platform="linux")
    assert [t for t in tried if t.startswith(gone)] == [f"{gone} (OLLAMA_MODELS): does not exist"]


def test_a_dir_without_manifests_does_not_count(tmp_path, no_platform_dirs):
    (tmp_path / "blobs-only" / "blobs").mkdir(parents=True)
    good = _models_dir(tmp_path / "good")
    got = M.find_models_dir(env={"OLLAMA_MODELS": str(tmp_path / "blobs-only")}, log_dirs=[good], platform="linux")
    assert got == (good, "server config", [f"{tmp_path}/blobs-only (OLLAMA_MODELS): holds no manifests/ folder"])


def test_platform_defaults_are_the_documented_ones():
    assert M._platform_defaults("linux", "/home/u") == [
        ("/usr/share/ollama/.ollama/models", "default of the Linux install's systemd service"),
        ("/home/u/.ollama/models", "default for the user running ollama"),
        ("/var/lib/ollama", "default of distribution packages"),
        ("/root/.ollama/models", "default of the official Docker image")]
    assert M._platform_defaults("linux", None)[1][0] == "/var/lib/ollama"
    assert M._platform_defaults("darwin", "/Users/u") == [("/Users/u/.ollama/models", "default on macOS")]
    assert M._platform_defaults("win32", "/c/u") == [(os.path.join("/c/u", ".ollama", "models"), "default on Windows")]
    assert M._platform_defaults("freebsd14", "/home/u") == [("/home/u/.ollama/models",
                                                             "default for the user running ollama")]


def _run_without_dac(code: str) -> subprocess.CompletedProcess:
    """Run Python code with permission checks in force even as root (DECISIONS.md)."""
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv not installed (util-linux): cannot drop root's permission override")
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
               "--inh-caps=-dac_override,-dac_read_search"] + cmd
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def test_permission_denied_is_reported(tmp_path):
    service = _models_dir(tmp_path / "service")
    other = _models_dir(tmp_path / "other")
    tag = service / "manifests" / "registry.ollama.ai" / "library" / "m"
    tag.mkdir(parents=True)
    (tag / "t").write_text('{"schemaVersion":2,"layers":[]}')
    (tag / "t").chmod(0)
    code = f"""
from ollalog import models as M
from ollalog.errors import InputError
try:
    M.read_manifest({str(service)!r}, "m:t")
except InputError as e:
    print("read:", e)
print("scan:", M.scan_manifests({str(service)!r})[1])
import os; os.chmod({str(service / 'manifests')!r}, 0)
print("find:", M.find_models_dir(log_dirs=[{str(service)!r}, {str(other)!r}], env={{}}, platform="none", home=None))
"""
    try:
        r = _run_without_dac(code)
    finally:
        (service / "manifests").chmod(0o755)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"read: {tag}/t: permission denied"
    assert lines[1] == f"scan: [Skipped(path='{tag}/t', reason='permission denied')]"
    assert lines[2] == f"find: (PosixPath('{other}'), 'server config', ['{service} (server config): permission denied'])"


# ----------------------------------------------------------------------------- the fixture

def test_fixture_lists_three_tags():
    ms, skipped = M.scan_manifests(FIXTURE)
    assert skipped == []
    assert [m.name.short() for m in ms] == [TINY, "deepseek-r1:32b", "deepseek-r1:32b-max-context"]
    assert M.list_manifests(FIXTURE) == ms
    assert all(m.problems == [] and m.params_error is None and m.config_error is None for m in ms)


def test_fixture_base_tag():
    m = M.read_manifest(FIXTURE, "deepseek-r1:32b")
    assert m.name == ModelName.parse("deepseek-r1:32b")
    assert m.path == FIXTURE / "manifests/registry.ollama.ai/library/deepseek-r1/32b"
    assert m.digest == hashlib.sha256(m.path.read_bytes()).hexdigest()
    assert (m.weights_digest, m.weights_size, m.weights_from) == (DS_BLOB, 19_847_005_504, None)
    assert m.params == {"stop": DS_STOP, "temperature": 0.6}
    assert [lay.kind for lay in m.layers] == ["model", "template", "license", "params"]
    assert m.params_digest == m.digests("params")[0]
    assert m.projector_digests == [] and m.adapter_digests == []
    assert m.config_layer.media_type == M.MEDIA_CONFIG
    assert {k: m.config[k] for k in ("model_format", "model_family", "model_families", "model_type", "file_type")} \
        == {"model_format": "gguf", "model_family": "qwen2", "model_families": ["qwen2"], "model_type": "32.8B",
            "file_type": "Q4_K_M"}


def test_fixture_max_context_tag():
    m = M.read_manifest(FIXTURE, "deepseek-r1:32b-max-context")
    base = M.read_manifest(FIXTURE, "deepseek-r1:32b")
    assert m.weights_digest == base.weights_digest == DS_BLOB
    assert m.weights_from == "deepseek-r1:32b"
    assert m.params == {"num_ctx": 131072, "stop": DS_STOP, "temperature": 0.6}
    assert m.params_digest != base.params_digest
    # ollama create keeps the base's template and license layers and writes a new params blob
    assert m.digests("template") == base.digests("template") and m.digests("license") == base.digests("license")
    assert m.config_digest != base.config_digest and m.config["file_type"] == "Q4_K_M"
    assert [lay.from_model for lay in m.layers] == ["deepseek-r1:32b"] * 3 + [None]


def test_fixture_tiny_tag_has_no_params():
    m = M.read_manifest(FIXTURE, TINY)
    assert m.params == {} and m.params_digest is None and m.params_error is None
    assert m.config["model_family"] == "llama" and m.weights_size == 1_169_807_648
    all_blobs = {lay.digest for x in M.list_manifests(FIXTURE) if x.name != m.name for lay in x.layers + [x.config_layer]}
    assert not {lay.digest for lay in m.layers + [m.config_layer]} & all_blobs


@pytest.mark.parametrize("digest", [DS_BLOB, "sha256:" + DS_BLOB, "sha256-" + DS_BLOB, DS_BLOB.upper(),
                                    DS_BLOB[:12], "SHA256:" + DS_BLOB[:20], f" {DS_BLOB[:40]}\n"])
def test_tags_for_blob_finds_both_deepseek_tags(digest):
    assert [m.name.short() for m in M.tags_for_blob(FIXTURE, digest)] == ["deepseek-r1:32b",
                                                                         "deepseek-r1:32b-max-context"]


def test_tags_for_blob_other_blobs():
    tiny = M.read_manifest(FIXTURE, TINY)
    assert [m.name.short() for m in M.tags_for_blob(FIXTURE, tiny.weights_digest)] == [TINY]
    assert M.tags_for_blob(FIXTURE, "0" * 64) == []
    # only weights layers count: the params blob of a tag is no tag's weights
    assert M.tags_for_blob(FIXTURE, M.read_manifest(FIXTURE, "deepseek-r1:32b").params_digest) == []
    ms = M.list_manifests(FIXTURE)
    assert M.tags_for_blob(FIXTURE, DS_BLOB, manifests=ms) == M.tags_for_blob(FIXTURE, DS_BLOB)
    assert M.tags_for_blob("/nonexistent", DS_BLOB, manifests=ms[:1]) == []


@pytest.mark.parametrize("digest, message", [
    (DS_BLOB[:11], f"invalid blob digest '{DS_BLOB[:11]}': expected 64 hex digits (or a prefix of 12 or more)"),
    ("", "invalid blob digest '': expected 64 hex digits (or a prefix of 12 or more)"),
    ("../../etc/passwd", "invalid blob digest '../../etc/passwd': expected 64 hex digits (or a prefix of 12 or more)"),
    (DS_BLOB + "0", f"invalid blob digest '{DS_BLOB}0'"[:-1]),
    ("md5:" + "0" * 32, "invalid blob digest 'md5:"),
])
def test_tags_for_blob_rejects_what_is_not_a_digest(digest, message):
    with pytest.raises(UsageError) as e:
        M.tags_for_blob(FIXTURE, digest)
    assert str(e.value).startswith(message)


def test_lookup_is_case_insensitive_and_names_what_is_on_disk():
    m = M.read_manifest(FIXTURE, "DeepSeek-R1:32B-MAX-CONTEXT")
    assert str(m.name) == "registry.ollama.ai/library/deepseek-r1:32b-max-context"
    m = M.read_manifest(FIXTURE, "HF.CO/EXAMPLE-USER/tinyllama-1.1b-gguf:q8_0")
    assert str(m.name) == TINY
    assert M.read_manifest(FIXTURE, ModelName.parse("Registry.Ollama.AI/LIBRARY/deepseek-r1:32b")).name.short() \
        == "deepseek-r1:32b"


@pytest.mark.parametrize("name", ["deepseek-r1", "deepseek-r1:7b", "llama3:8b", "myuser/deepseek-r1:32b",
                                  "hf.co/example-user/TinyLlama-1.1B-GGUF", "other.host/library/deepseek-r1:32b"])
def test_missing_tag_is_none(name):
    assert M.read_manifest(FIXTURE, name) is None


def test_fixture_blobs_are_named_by_their_content():
    blobs = sorted((FIXTURE / "blobs").iterdir())
    assert len(blobs) == 8
    for b in blobs:
        assert b.name == "sha256-" + hashlib.sha256(b.read_bytes()).hexdigest(), b.name


def test_fixture_is_written_as_ollama_writes_it():
    present = {p.name[7:] for p in (FIXTURE / "blobs").iterdir()}
    for m in M.list_manifests(FIXTURE):
        raw = m.path.read_bytes()
        obj = json.loads(raw)
        created = m.weights_from is not None
        # pulled manifests come from json.Marshal, created ones from json.Encoder (a newline)
        assert raw == go_json(obj, sort_keys=False) + (b"\n" if created else b""), m.name
        assert list(obj) == ["schemaVersion", "mediaType", "config", "layers"]
        assert obj["schemaVersion"] == 2 and obj["mediaType"] == M.MEDIA_MANIFEST
        for lay in m.layers + [m.config_layer]:
            if lay.digest == m.weights_digest:
                assert lay.digest not in present          # the weights are not shipped
                continue
            data = (FIXTURE / "blobs" / f"sha256-{lay.digest}").read_bytes()
            assert lay.size == len(data)
        assert m.config["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + d for d in
                                                                     [lay.digest for lay in m.layers]]}
        cfg = (FIXTURE / "blobs" / f"sha256-{m.config_digest}").read_bytes()
        assert cfg == go_json(m.config, sort_keys=False) + b"\n"
        if m.params_digest:
            params = (FIXTURE / "blobs" / f"sha256-{m.params_digest}").read_bytes()
            assert params == go_json(m.params, sort_keys=True) + b"\n"


def test_fixture_matches_the_seed_log():
    log = SEED_LOG.read_text(encoding="utf-8")
    assert f"blobs/sha256-{DS_BLOB} " in log
    assert "model size       = 18.48 GiB" in log
    m = M.read_manifest(FIXTURE, "deepseek-r1:32b")
    # the file holds the 18.48 GiB of tensors plus a few MiB of GGUF metadata
    assert round(m.weights_size / 2**30, 2) == 18.48
    assert M.blob_path(FIXTURE, DS_BLOB) is None
    # 262144 = 131072 x OLLAMA_NUM_PARALLEL 2 in the log; the base tag's 4096 is the default 2048 x 2
    assert "--ctx-size 262144" in log and "--ctx-size 4096" in log and "OLLAMA_NUM_PARALLEL:2" in log
    assert M.read_manifest(FIXTURE, "deepseek-r1:32b-max-context").params["num_ctx"] * 2 == 262144
    assert "num_ctx" not in m.params


def test_fixture_is_not_read_as_logs():
    from ollalog.inputs import resolve
    sources, errors = resolve([str(SAMPLE_DIR)])
    assert errors == []
    assert not [s.name for s in sources if f"{os.sep}models{os.sep}" in s.name]


def test_fixture_keeps_its_bytes_in_git():
    assert (FIXTURE / ".gitattributes").read_text().splitlines()[-1] == "* -text"
    assert "synthetic" in (FIXTURE / "README.md").read_text().lower()


# ----------------------------------------------------------------------------- building models dirs

def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_blob(md: Path, data: bytes, old_name: bool = False) -> str:
    d = _digest(data)
    (md / "blobs" / (f"sha256:{d}" if old_name else f"sha256-{d}")).write_bytes(data)
    return d


def _layer(media: str, digest: str, size: int = 1) -> dict:
    return {"mediaType": P + media if "/" not in media else media, "digest": f"sha256:{digest}", "size": size}


def _write_manifest(md: Path, name: str, layers: list, config: dict | None = None, raw: bytes | None = None) -> Path:
    p = md / "manifests" / Path(*ModelName.parse(name).parts)
    p.parent.mkdir(parents=True, exist_ok=True)
    obj = {"schemaVersion": 2, "mediaType": M.MEDIA_MANIFEST, "layers": layers}
    if config is not None:
        obj["config"] = config
    p.write_bytes(raw if raw is not None else json.dumps(obj).encode())
    return p


@pytest.fixture
def md(tmp_path) -> Path:
    return _models_dir(tmp_path / "models")


W1 = "a" * 64
W2 = "b" * 64


def test_params_blob_absent_is_reported_not_raised(md):
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", "c" * 64, 20)])
    m = M.read_manifest(md, "m:t")
    assert m.weights_digest == W1
    assert m.params == {} and m.params_digest == "c" * 64
    assert m.params_error == "params blob sha256-cccccccccccc: absent"
    assert m.config == {} and m.config_error is None and m.config_layer is None


@pytest.mark.parametrize("content, error", [
    (b"not json", "not JSON (Expecting value at line 1 column 1)"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"num_ctx": NaN}', "not JSON (NaN is not JSON)"),
    (b"[" * 100_000, "not JSON (nested too deeply)"),
])
def test_params_blob_unusable(md, content, error):
    d = _write_blob(md, content)
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", d)])
    m = M.read_manifest(md, "m:t")
    assert (m.params, m.params_error) == ({}, f"params blob sha256-{d[:12]}: {error}")


def test_json_is_read_as_go_reads_it(md):
    # invalid UTF-8 in a string becomes U+FFFD; what follows the first value is ignored
    d = _write_blob(md, b'  {"stop": ["\xff"], "num_ctx": 2048}\n{"x": 1} trailing')
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", d)])
    assert M.read_manifest(md, "m:t").params == {"stop": ["\ufffd"], "num_ctx": 2048}


def test_params_values_as_json_gives_them(md):
    params = {"num_ctx": 8192, "num_gpu": 99, "num_batch": 256, "temperature": 0.7, "stop": ["a", "b"],
              "use_mmap": False, "mirostat_tau": "5", "num_keep": -1}
    d = _write_blob(md, json.dumps(params).encode() + b"\n")
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", d)])
    assert M.read_manifest(md, "m:t").params == params


def test_params_blob_too_big_or_not_a_file(md, monkeypatch):
    d = _write_blob(md, b'{"num_ctx": 1}')
    (md / "blobs" / "sha256-ee").mkdir()
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", d)])
    monkeypatch.setattr(M, "SMALL_BLOB_MAX_BYTES", 4)
    assert M.read_manifest(md, "m:t").params_error == \
        f"params blob sha256-{d[:12]}: 14 bytes, more than the 4 a file of this kind may have"
    monkeypatch.undo()
    (md / "blobs" / f"sha256-{d}").unlink()
    (md / "blobs" / f"sha256-{d}").mkdir()
    assert M.read_manifest(md, "m:t").params_error == f"params blob sha256-{d[:12]}: not a regular file"


def test_params_layers_merge_in_order(md):
    d1 = _write_blob(md, b'{"num_ctx": 2048, "temperature": 1}')
    d2 = _write_blob(md, b'{"num_ctx": 4096}')
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", d1), _layer("params", d2)])
    m = M.read_manifest(md, "m:t")
    assert m.params == {"num_ctx": 4096, "temperature": 1} and m.params_digest == d2


def test_old_blob_names_are_read(md):
    d = _write_blob(md, b'{"num_ctx": 32768}', old_name=True)
    c = _write_blob(md, b'{"model_family": "llama"}', old_name=True)
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", d)], config=_layer(M.MEDIA_CONFIG, c))
    m = M.read_manifest(md, "m:t")
    assert m.params == {"num_ctx": 32768} and m.config == {"model_family": "llama"}
    assert M.blob_path(md, d) == md / "blobs" / f"sha256:{d}"
    new = _write_blob(md, b"x")
    assert M.blob_path(md, "sha256:" + new) == md / "blobs" / f"sha256-{new}"
    assert M.blob_path(md, W1) is None


def test_config_blob_absent(md):
    _write_manifest(md, "m:t", [_layer("model", W1)], config=_layer(M.MEDIA_CONFIG, "d" * 64))
    m = M.read_manifest(md, "m:t")
    assert m.config == {} and m.config_error == "config blob sha256-dddddddddddd: absent"
    assert m.config_digest == "d" * 64


def test_blob_whose_content_does_not_match_its_digest(md):
    (md / "blobs" / f"sha256-{'e' * 64}").write_bytes(b'{"num_ctx": 1}')
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", "e" * 64)])
    m = M.read_manifest(md, "m:t")
    assert m.params == {"num_ctx": 1}
    assert m.problems == ["the params blob sha256-eeeeeeeeeeee does not hold what its digest says"]


def test_vision_and_adapter_layers(md):
    _write_manifest(md, "llava:7b", [_layer("model", W1, 4_000_000_000), _layer("projector", W2, 600_000_000),
                                     _layer("adapter", "c" * 64), _layer("adapter", "d" * 64),
                                     _layer("application/x.unknown", "f" * 64)])
    m = M.read_manifest(md, "llava")  # no such tag: llava:latest
    assert m is None
    m = M.read_manifest(md, "llava:7b")
    assert (m.weights_digest, m.weights_size) == (W1, 4_000_000_000)
    assert m.projector_digests == [W2] and m.adapter_digests == ["c" * 64, "d" * 64]
    assert [lay.kind for lay in m.layers] == ["model", "projector", "adapter", "adapter", "application/x.unknown"]
    assert m.problems == []


def test_odd_layers_are_problems_not_crashes(md):
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("model", W2, 5),
                                {"mediaType": P + "params", "digest": "sha256:../../../etc/passwd", "size": "big"},
                                "not an object", {"digest": "sha256:" + "f" * 64, "size": True}])
    m = M.read_manifest(md, "m:t")
    assert (m.weights_digest, m.weights_size) == (W2, 5)    # Ollama uses the last weights layer
    assert m.params == {} and m.params_error == "the params layer has no valid digest"
    assert m.problems == [
        "layer 2 (application/vnd.ollama.image.params) has an invalid digest 'sha256:../../../etc/passwd'",
        "layer 2 (application/vnd.ollama.image.params) has an invalid size 'big'",
        "layer 3 is not a JSON object",
        "layer 4 has no mediaType",
        "layer 4 () has an invalid size 'True'",
        "2 weights layers; Ollama uses the last",
    ]


def test_manifest_without_weights(md):
    _write_manifest(md, "m:t", [])
    m = M.read_manifest(md, "m:t")
    assert m.weights_digest is None and m.weights_size is None
    assert m.problems == ["no weights layer (application/vnd.ollama.image.model)"]
    assert M.tags_for_blob(md, W1) == []


@pytest.mark.parametrize("raw, reason", [
    (b"", "not JSON (Expecting value at line 1 column 1)"),
    (b"\x00\x01\x02binary", "not JSON (Expecting value at line 1 column 1)"),
    (b'{"schemaVersion":2,"layers":[', "not JSON (Expecting value at line 1 column 30)"),
    (b"\xff\xfe{}", "not JSON (Expecting value at line 1 column 1)"),
    (b"[]", "not an Ollama manifest (not a JSON object)"),
    (b'{"name": "x"}', "not an Ollama manifest (no layers, config or schemaVersion)"),
    (b'{"layers": {"a": 1}}', "not an Ollama manifest (layers is not a list)"),
    (b"[" * 50_000 + b"]" * 50_000, "not JSON (nested too deeply)"),
    (b'{"schemaVersion": Infinity}', "not JSON (Infinity is not JSON)"),
])
def test_invalid_manifest(md, raw, reason):
    p = _write_manifest(md, "bad:t", [], raw=raw)
    good = _write_manifest(md, "good:t", [_layer("model", W1)])
    with pytest.raises(InputError) as e:
        M.read_manifest(md, "bad:t")
    assert str(e.value) == f"{p}: {reason}"
    ms, skipped = M.scan_manifests(md)
    assert [m.path for m in ms] == [good]
    assert skipped == [M.Skipped(str(p), reason)]


def test_manifest_too_big(md, monkeypatch):
    p = _write_manifest(md, "m:t", [_layer("model", W1)])
    monkeypatch.setattr(M, "MANIFEST_MAX_BYTES", 10)
    with pytest.raises(InputError, match="more than the 10 a file of this kind may have"):
        M.read_manifest(md, "m:t")
    assert M.scan_manifests(md)[1][0].path == str(p)


def test_scan_skips_what_is_not_a_tag(md):
    good = _write_manifest(md, "good:t", [_layer("model", W1)])
    tagdir = good.parent
    (tagdir / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tagdir / "deeper").mkdir()
    (tagdir / "deeper" / "x").write_text("{}")                      # below the tag level: ignored
    (md / "manifests" / "registry.ollama.ai" / "stray.json").write_text("{}")  # above it: ignored
    (md / "manifests" / "registry.ollama.ai" / "bad.ns" / "m").mkdir(parents=True)
    (md / "manifests" / "registry.ollama.ai" / "bad.ns" / "m" / "t").write_text('{"layers": []}')
    ms, skipped = M.scan_manifests(md)
    assert [m.name.short() for m in ms] == ["good:t"]
    assert skipped == [
        M.Skipped(str(md / "manifests/registry.ollama.ai/bad.ns/m/t"),
                  "not a model name 'registry.ollama.ai/bad.ns/m:t': the namespace 'bad.ns' contains '.' "
                  "(allowed: ASCII letters, digits and '-', '_')"),
        M.Skipped(str(tagdir / ".DS_Store"),
                  "not a model name 'registry.ollama.ai/library/good:.DS_Store': the tag '.DS_Store' must start "
                  "with an ASCII letter, a digit or '_'"),
    ]
    # a tag that is a folder is no tag
    assert M.read_manifest(md, "good:deeper") is None


def test_not_a_models_dir_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not an Ollama models dir: holds no manifests/ folder"):
        M.read_manifest(tmp_path, "m:t")
    with pytest.raises(InputError, match="not an Ollama models dir: does not exist"):
        M.list_manifests(tmp_path / "nope")


def test_empty_models_dir(md):
    assert M.scan_manifests(md) == ([], [])
    assert M.read_manifest(md, "m:t") is None


# ----------------------------------------------------------------------------- hostile input

HOSTILE = ["../../etc/passwd", "a/../../b", "/etc/passwd", "/abs/ns/m:t", "..", "../x", "x/..", "m:..",
           "m:../../x", "a\x00b", "m:t\x00", "./m", "m:./t", "~/m", "C:\\Windows\\m", "h/n/m:t/../../x",
           "%2e%2e/x", "m" * 100_000, "registry.ollama.ai/library/" + "m" * 81, "\n/etc", "m:t\n/x"]


@pytest.mark.parametrize("name", HOSTILE, ids=lambda s: repr(s)[:30])
def test_hostile_names_never_reach_the_filesystem(md, name, monkeypatch):
    opened = []
    monkeypatch.setattr(M, "_read_small", lambda *a: opened.append(a))
    monkeypatch.setattr(M, "_entries", lambda p: opened.append(p) or [])
    with pytest.raises(UsageError) as e:
        M.read_manifest(md, name)
    assert opened == []
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_symlinked_manifest_outside_is_refused(md, tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"schemaVersion": 2, "layers": [_layer("model", W1)]}))
    p = md / "manifests" / "registry.ollama.ai" / "library" / "evil" / "latest"
    p.parent.mkdir(parents=True)
    p.symlink_to(outside)
    with pytest.raises(InputError) as e:
        M.read_manifest(md, "evil")
    assert str(e.value) == f"{p}: a symlink leads outside the models dir"
    assert M.scan_manifests(md) == ([], [M.Skipped(str(p), "a symlink leads outside the models dir")])


def test_symlinked_folder_outside_is_refused(md, tmp_path):
    ns = tmp_path / "elsewhere" / "m"
    ns.mkdir(parents=True)
    (ns / "t").write_text(json.dumps({"schemaVersion": 2, "layers": [_layer("model", W1)]}))
    link = md / "manifests" / "registry.ollama.ai" / "evilns"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match="a symlink leads outside the models dir"):
        M.read_manifest(md, "evilns/m:t")
    assert M.scan_manifests(md) == ([], [M.Skipped(str(link), "a symlink leads outside the models dir")])


def test_symlink_inside_the_models_dir_is_fine(md):
    real = _write_manifest(md, "m:t", [_layer("model", W1)])
    (real.parent / "alias").symlink_to(real)
    assert M.read_manifest(md, "m:alias").weights_digest == W1


def test_a_symlinked_models_dir_is_fine(md, tmp_path):
    _write_manifest(md, "m:t", [_layer("model", W1)])
    link = tmp_path / "link"
    link.symlink_to(md)
    assert M.read_manifest(link, "m:t").weights_digest == W1
    assert M.find_models_dir(link, env={})[0] == link


def test_symlinked_blob_outside_is_refused(md, tmp_path):
    outside = tmp_path / "secret"
    outside.write_bytes(b'{"num_ctx": 1}')
    d = _digest(outside.read_bytes())
    (md / "blobs" / f"sha256-{d}").symlink_to(outside)
    _write_manifest(md, "m:t", [_layer("model", W1), _layer("params", d)])
    m = M.read_manifest(md, "m:t")
    assert m.params == {} and m.params_error == f"params blob sha256-{d[:12]}: a symlink leads outside the models dir"
    assert M.blob_path(md, d) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_does_not_hang(md):
    p = md / "manifests" / "registry.ollama.ai" / "library" / "m" / "t"
    p.parent.mkdir(parents=True)
    os.mkfifo(p)
    d = "f" * 64
    os.mkfifo(md / "blobs" / f"sha256-{d}")
    other = _write_manifest(md, "other:t", [_layer("model", W1), _layer("params", d)])
    # in a child process, so that a read that blocks fails the test instead of hanging it
    code = f"""
from ollalog import models as M
from ollalog.errors import InputError
try:
    M.read_manifest({str(md)!r}, "m:t")
except InputError as e:
    print(e)
print(M.read_manifest({str(md)!r}, "other:t").params_error)
print(M.scan_manifests({str(md)!r})[1])
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(SRC)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{p}: not a regular file",
                                     "params blob sha256-ffffffffffff: not a regular file",
                                     f"[Skipped(path='{p}', reason='not a regular file')]"]
    assert other.exists()


def test_explicit_dir_messages_are_one_printable_line(tmp_path):
    with pytest.raises(UsageError, match="the models dir given is empty"):
        M.find_models_dir("", env={})
    with pytest.raises(InputError) as e:
        M.find_models_dir(str(tmp_path / "a\nb\x1b[31m"), env={})
    assert str(e.value) == f"{tmp_path}/a\\nb\\x1b[31m: not an Ollama models dir: does not exist"


def test_case_variants_on_a_case_sensitive_disk(md):
    a = _write_manifest(md, "Model:Tag", [_layer("model", W1)])
    b = _write_manifest(md, "model:tag", [_layer("model", W2)])
    if a.parent == b.parent and a.samefile(b):
        pytest.skip("case-insensitive file system")
    assert M.read_manifest(md, "Model:Tag").weights_digest == W1     # the exact match wins
    assert M.read_manifest(md, "model:tag").weights_digest == W2
    assert M.read_manifest(md, "MODEL:TAG").name.short() == "Model:Tag"  # else the first in sorted order
    assert {m.weights_digest for m in M.tags_for_blob(md, W1)} == {W1}
