"""Model names -> Ollama's manifests and small blobs: which weights a tag uses, with which params.

Logs name a model only by its weights blob (`.../blobs/sha256-<hex>`); the tag a user asks about
lives in Ollama's models dir:

    <models>/manifests/<host>/<namespace>/<model>/<tag>   a JSON manifest (Docker v2 schema)
    <models>/blobs/sha256-<64 hex>                         content-addressed blobs
                                                           (`sha256:<hex>` before Ollama 0.1.30)

This module parses names with Ollama's rules (`types/model/name.go`), finds the models dir, and
reads manifests with their params and config blobs. It reads no log and never builds a path from
anything but a validated name or a 64-hex digest; every path it opens stays inside the models dir.

    name = ModelName.parse("deepseek-r1:32b-max-context")
    models, how, tried = find_models_dir(log_dirs=[("/usr/share/ollama/.ollama/models", "server config")])
    m = read_manifest(models, name)          # None when there is no such tag
    m.weights_digest, m.params.get("num_ctx")
    tags_for_blob(models, m.weights_digest)  # every tag on the same weights
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Union

from .errors import InputError, UsageError

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

MEDIA_PREFIX = "application/vnd.ollama.image."
MEDIA_MODEL = MEDIA_PREFIX + "model"          # GGUF weights: the runner's --model
MEDIA_PROJECTOR = MEDIA_PREFIX + "projector"  # vision mmproj: --mmproj
MEDIA_ADAPTER = MEDIA_PREFIX + "adapter"      # LoRA: --lora
MEDIA_PARAMS = MEDIA_PREFIX + "params"        # Modelfile PARAMETERs as a JSON object
MEDIA_TEMPLATE = MEDIA_PREFIX + "template"
MEDIA_PROMPT = MEDIA_PREFIX + "prompt"        # the template's older name
MEDIA_SYSTEM = MEDIA_PREFIX + "system"
MEDIA_MESSAGES = MEDIA_PREFIX + "messages"
MEDIA_LICENSE = MEDIA_PREFIX + "license"
MEDIA_EMBED = MEDIA_PREFIX + "embed"          # deprecated, ignored by Ollama
MEDIA_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

MANIFEST_MAX_BYTES = 16 << 20   # safetensors manifests list one layer per tensor: large but not huge
SMALL_BLOB_MAX_BYTES = 1 << 20  # params and config blobs are a few hundred bytes
MIN_DIGEST_PREFIX = 12          # what `ollama list` prints as an ID

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGEST = re.compile(r"sha256[:-]([0-9a-fA-F]{64})")
_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]|\\\\")
_ALNUM_ = frozenset(string.ascii_letters + string.digits + "_")

# (kind, max length, extra characters allowed after the first): types/model/name.go isValidPart.
_PART_RULES = {
    "host": (350, "-_.:"),
    "namespace": (80, "-_"),
    "model": (80, "-_."),
    "tag": (80, "-_."),
}


def _printable(text: str, limit: int = 200) -> str:
    """Text fit for a one-line message: control and other unprintable characters escaped, cut."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _show(text: str, limit: int = 80) -> str:
    """A user's string, quoted, for a one-line message."""
    return "'" + _printable(text, limit).replace("'", "\\'") + "'"


def _part_problem(kind: str, part: str) -> str | None:
    """Why `part` is not a valid `kind` of a model name, or None when it is."""
    limit, extra = _PART_RULES[kind]
    n = len(part.encode("utf-8", "surrogatepass"))
    if n == 0:
        return f"the {kind} is empty"
    if n > limit:
        return f"the {kind} is {n} characters long (at most {limit})"
    if part[0] not in _ALNUM_:
        return f"the {kind} {_show(part)} must start with an ASCII letter, a digit or '_'"
    for c in part[1:]:
        if c not in _ALNUM_ and c not in extra:
            allowed = "ASCII letters, digits and " + ", ".join(f"'{x}'" for x in extra)
            return f"the {kind} {_show(part)} contains {_show(c)} (allowed: {allowed})"
    return None


@dataclass(frozen=True)
class ModelName:
    """A fully qualified Ollama model name: `host/namespace/model:tag`.

    Every instance is valid (the constructor checks each part with Ollama's rules and raises
    `UsageError`), so a ModelName can be joined into a path without further checks. Parts keep
    the case they were written in; Ollama compares names case-insensitively (`equals`, `key`).
    """
    host: str
    namespace: str
    model: str
    tag: str

    def __post_init__(self):
        for kind in ("host", "namespace", "model", "tag"):
            part = getattr(self, kind)
            if not isinstance(part, str):
                raise UsageError(f"invalid model name: the {kind} must be a string, not {type(part).__name__}")
            problem = _part_problem(kind, part)
            if problem:
                raise UsageError(f"invalid model name {_show(self._joined())}: {problem}")

    def _joined(self) -> str:
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    @classmethod
    def parse(cls, text: str) -> "ModelName":
        """Parse a name as Ollama does (`ParseName`): `[[scheme://]host/][namespace/]model[:tag]`.

        Missing parts default to host `registry.ollama.ai`, namespace `library`, tag `latest`;
        a `scheme://` before the host is dropped. Surrounding whitespace is ignored. An invalid
        name raises `UsageError` with one line saying which part is wrong and why.
        """
        if not isinstance(text, str):
            raise UsageError(f"invalid model name: expected text, not {type(text).__name__}")
        s = text.strip()
        shown = _show(s)

        def bad(reason: str) -> UsageError:
            return UsageError(f"invalid model name {shown}: {reason}")

        if not s:
            raise bad("the name is empty")
        if "@" in s:
            raise bad("a digest ('@...') cannot be given here; give NAME[:TAG]")
        tag = None
        # '/' cannot occur in a tag, so a ':' after the last '/' starts the tag; one before it
        # belongs to the host (a port).
        if s.rfind(":") > s.rfind("/"):
            s, tag = s.rsplit(":", 1)
            if not tag:
                raise bad("the tag after ':' is empty")
            if not s:
                raise bad("the model before ':' is empty")
        host = namespace = None
        if "/" in s:
            s, model = s.rsplit("/", 1)
            if not model:
                raise bad("the model after the last '/' is empty")
            if not s:
                raise bad("the namespace before '/' is empty")
            if "/" in s:
                s, namespace = s.rsplit("/", 1)
                if not namespace:
                    raise bad("the namespace between '/'s is empty")
                if "://" in s:
                    s = s.split("://", 1)[1]
                if not s:
                    raise bad("the host before '/' is empty")
                if "/" in s:
                    raise bad("too many '/'-separated parts (expected [host/][namespace/]model[:tag])")
                host = s
            else:
                namespace = s
        else:
            model = s
        parts = {"host": host or DEFAULT_HOST, "namespace": namespace or DEFAULT_NAMESPACE,
                 "model": model, "tag": tag or DEFAULT_TAG}
        for kind, part in parts.items():
            problem = _part_problem(kind, part)
            if problem:
                raise bad(problem)
        return cls(**parts)

    @classmethod
    def coerce(cls, name: "ModelName | str") -> "ModelName":
        """`name` itself when it is a ModelName, else `parse(name)`."""
        return name if isinstance(name, ModelName) else cls.parse(name)

    def __str__(self) -> str:
        """The full name, as DEBUG `runner.name=` prints it: `registry.ollama.ai/library/m:tag`."""
        return self._joined()

    def short(self) -> str:
        """Ollama's shortest display (`DisplayShortest`): `m:tag`, `user/m:tag`, `hf.co/u/r:tag`."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The parts in lower case: equal for names Ollama takes as the same (dict key, sorting)."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    @property
    def parts(self) -> tuple[str, str, str, str]:
        """(host, namespace, model, tag): the manifest's path below `manifests/`."""
        return (self.host, self.namespace, self.model, self.tag)

    def equals(self, other: "ModelName | str") -> bool:
        """Case-insensitive equality (Ollama's `EqualFold`), `other` a ModelName or any name form.

        Text that is not a valid name is simply not equal (no exception), so a value taken from
        a log can be compared as it is.
        """
        if not isinstance(other, ModelName):
            try:
                other = ModelName.parse(other)
            except UsageError:
                return False
        return self.key == other.key

    def same_model(self, other: "ModelName | str") -> bool:
        """Equal host, namespace and model, whatever the tag (case-insensitive)."""
        if not isinstance(other, ModelName):
            try:
                other = ModelName.parse(other)
            except UsageError:
                return False
        return self.key[:3] == other.key[:3]


# ----------------------------------------------------------------------------- the models dir

def _dir_problem(path: str) -> str | None:
    """Why `path` is not a models dir (a folder holding `manifests/`), or None when it is one."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "does not exist"
    except PermissionError:
        return "permission denied"
    except (OSError, ValueError) as e:   # ValueError: a NUL byte in the path
        return getattr(e, "strerror", None) or str(e)
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    try:
        st = os.stat(os.path.join(path, "manifests"))
    except FileNotFoundError:
        return "holds no manifests/ folder"
    except PermissionError:
        return "permission denied"
    except OSError as e:
        return e.strerror or str(e)
    if not stat.S_ISDIR(st.st_mode):
        return "its manifests/ is not a folder"
    if not os.access(os.path.join(path, "manifests"), os.R_OK | os.X_OK):
        return "permission denied"
    return None


def _env_value(env: Mapping[str, str], key: str) -> str:
    # envconfig.Var: surrounding spaces, then quotes, are trimmed
    return (env.get(key) or "").strip().strip("\"'")


HOME_MODELS = None   # marks "<home>/.ollama/models" in PLATFORM_DIRS
# Where Ollama keeps its models when OLLAMA_MODELS is unset, most likely first, by sys.platform prefix.
PLATFORM_DIRS: dict[str, tuple[tuple[str | None, str], ...]] = {
    "linux": (("/usr/share/ollama/.ollama/models", "default of the Linux install's systemd service"),
              (HOME_MODELS, "default for the user running ollama"),
              ("/var/lib/ollama", "default of distribution packages"),
              ("/root/.ollama/models", "default of the official Docker image")),
    "darwin": ((HOME_MODELS, "default on macOS"),),
    "win": ((HOME_MODELS, "default on Windows"),),
}


def _platform_defaults(platform: str, home: str | None) -> list[tuple[str, str]]:
    """The platform's default models dirs as (path, label), `home` filled in (skipped if None)."""
    rows = next((v for k, v in PLATFORM_DIRS.items() if platform.startswith(k)),
                ((HOME_MODELS, "default for the user running ollama"),))
    out = []
    for path, label in rows:
        if path is HOME_MODELS:
            if not home:
                continue
            path = os.path.join(home, ".ollama", "models")
        out.append((path, label))
    return out


def find_models_dir(explicit: str | os.PathLike | None = None,
                    log_dirs: Iterable[Union[str, os.PathLike, tuple]] = (),
                    env: Mapping[str, str] | None = None,
                    platform: str | None = None,
                    home: str | os.PathLike | None = None) -> tuple[Path | None, str, list[str]]:
    """Find Ollama's models dir: returns `(path or None, how it was chosen, what was tried)`.

    Order: `explicit` (the `--models-dir` option), else `OLLAMA_MODELS` in `env`, else each dir
    of `log_dirs` (the `OLLAMA_MODELS` a log's `server config` line printed: paths, or
    `(path, label)` pairs whose label becomes `how`, e.g. "server config of server.log:2"), else
    the platform defaults (`platform` as `sys.platform`; `home` the user's home, by default
    `HOME`, or `USERPROFILE` on Windows, from `env`). A candidate counts only if it holds a
    `manifests/` folder. An `explicit` dir that is not one raises `InputError`; every other
    miss is listed in `tried` as "PATH (rule): reason" and the search goes on. Nothing is
    created or written.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    tried: list[str] = []

    if explicit is not None:
        path = os.fspath(explicit)
        if not path:
            raise UsageError("the models dir given is empty")
        problem = _dir_problem(path)
        if problem:
            hint = ""
            if problem == "holds no manifests/ folder":
                if os.path.basename(os.path.normpath(path)) == "manifests":
                    hint = " (give the folder above manifests/)"
                elif _dir_problem(os.path.join(path, "models")) is None:
                    hint = f" (did you mean {os.path.join(path, 'models')}?)"
            raise InputError(_printable(path), f"not an Ollama models dir: {problem}{hint}")
        return Path(path), "--models-dir", tried

    candidates: list[tuple[str, str]] = []
    value = _env_value(env, "OLLAMA_MODELS")
    if value:
        candidates.append((value, "OLLAMA_MODELS"))
    for item in log_dirs:
        if isinstance(item, tuple):
            path, label = item
        else:
            path, label = item, "server config"
        candidates.append((os.fspath(path), str(label)))
    if home is None:
        home = _env_value(env, "USERPROFILE" if platform.startswith("win") else "HOME") or None
    candidates += _platform_defaults(platform, os.fspath(home) if home is not None else None)

    seen: set[str] = set()
    for path, how in candidates:
        shown = f"{_printable(path)} ({_printable(how)})"
        if not os.path.isabs(path):
            if _WINDOWS_PATH.match(path):
                tried.append(f"{shown}: a Windows path, not one of this system")
            else:
                # a relative OLLAMA_MODELS is relative to the server's working directory
                tried.append(f"{shown}: a relative path, the server's working directory is unknown")
            continue
        norm = os.path.normpath(path)
        if norm in seen:
            continue
        seen.add(norm)
        problem = _dir_problem(path)
        if problem is None:
            return Path(path), how, tried
        tried.append(f"{shown}: {problem}")
    return None, "not found", tried


# ----------------------------------------------------------------------------- reading files

class _Unreadable(Exception):
    """A file under the models dir that cannot be used; str() is the reason."""


def _inside(base_real: str, path: str) -> bool:
    real = os.path.realpath(path)
    try:
        return os.path.commonpath([base_real, real]) == base_real
    except ValueError:   # different drives on Windows
        return False


def _read_small(path: str, limit: int, base_real: str) -> bytes:
    """The bytes of a regular file inside `base_real` of at most `limit` bytes, else _Unreadable."""
    if not _inside(base_real, path):
        raise _Unreadable("a symlink leads outside the models dir")
    try:
        # O_NONBLOCK: a FIFO planted in place of a file must not hang the read
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise _Unreadable("absent") from None
    except PermissionError:
        raise _Unreadable("permission denied") from None
    except OSError as e:
        raise _Unreadable(e.strerror or str(e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Unreadable("not a regular file")
        if st.st_size > limit:
            raise _Unreadable(f"{st.st_size} bytes, more than the {limit} a file of this kind may have")
        chunks = []
        left = limit + 1
        while left > 0:
            b = os.read(fd, min(left, 1 << 20))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        data = b"".join(chunks)
        if len(data) > limit:
            raise _Unreadable(f"more than the {limit} bytes a file of this kind may have")
        return data
    except OSError as e:
        raise _Unreadable(e.strerror or str(e)) from None
    finally:
        os.close(fd)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _json(data: bytes):
    """Decode JSON as Go's json.Decoder does (what Ollama reads, we read): invalid UTF-8 becomes
    U+FFFD, NaN and Infinity are errors, anything after the first value is ignored.
    _Unreadable with the reason when it is not JSON."""
    text = data.decode("utf-8", "replace").lstrip(" \t\r\n")
    try:
        return _JSON.raw_decode(text)[0]
    except RecursionError:
        raise _Unreadable("not JSON (nested too deeply)") from None
    except json.JSONDecodeError as e:
        raise _Unreadable(f"not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except ValueError as e:
        raise _Unreadable(f"not JSON ({e})") from None


def normalize_digest(text: str, allow_prefix: bool = False) -> str:
    """`sha256:<hex>`, `sha256-<hex>` or bare hex -> lower-case hex; `UsageError` otherwise.

    With `allow_prefix`, a prefix of at least 12 hex digits is accepted too.
    """
    t = text.strip() if isinstance(text, str) else ""
    low = t.lower()
    if low.startswith(("sha256:", "sha256-")):
        low = low[7:]
    if _HEX64.fullmatch(low):
        return low
    if allow_prefix and re.fullmatch(r"[0-9a-f]{%d,63}" % MIN_DIGEST_PREFIX, low):
        return low
    want = f"64 hex digits (or a prefix of {MIN_DIGEST_PREFIX} or more)" if allow_prefix else "sha256:<64 hex digits>"
    raise UsageError(f"invalid blob digest {_show(t)}: expected {want}")


def _blob_file(models_dir: str, hexd: str) -> tuple[str, str] | None:
    """(path, real path of blobs/) of the file holding blob `hexd`, named `sha256-<hex>` or, as
    before Ollama 0.1.30 renamed them, `sha256:<hex>`; None when neither exists."""
    blobs = os.path.join(models_dir, "blobs")
    for name in (f"sha256-{hexd}", f"sha256:{hexd}"):
        p = os.path.join(blobs, name)
        if os.path.lexists(p):
            return p, os.path.realpath(blobs)
    return None


def blob_path(models_dir: str | os.PathLike, digest: str) -> Path | None:
    """The file holding blob `digest` (any form `normalize_digest` takes), or None when there is
    none inside the models dir (absent, or a symlink that leads out of it)."""
    found = _blob_file(os.fspath(models_dir), normalize_digest(digest))
    if found is None or not _inside(found[1], found[0]):
        return None
    return Path(found[0])


def _read_blob(models_dir: str, hexd: str) -> bytes:
    found = _blob_file(models_dir, hexd)
    if found is None:
        raise _Unreadable("absent")
    return _read_small(found[0], SMALL_BLOB_MAX_BYTES, found[1])


# ----------------------------------------------------------------------------- manifests

@dataclass(frozen=True)
class Layer:
    """One entry of a manifest's `layers` (or its `config`), as Ollama's `Layer` struct reads it."""
    media_type: str
    digest: str | None       # 64 lower-case hex; None when the manifest's is not sha256:<64 hex>
    size: int | None
    from_model: str | None   # "from": the model a layer was taken from by `ollama create`
    name: str | None         # "name": the tensor of a safetensors layer
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> str:
        """`model`, `params`, `template`, ... for Ollama's media types, else the media type."""
        mt = self.media_type
        return mt[len(MEDIA_PREFIX):] if mt.startswith(MEDIA_PREFIX) else mt


@dataclass
class Manifest:
    """A tag's manifest with what `why` needs from it.

    `params` is the merged params blob (Modelfile PARAMETERs: num_ctx, num_gpu, num_batch, stop,
    temperature, ...; values as JSON gives them), `{}` when the manifest has no params layer;
    when the blob cannot be read `params` is `{}` and `params_error` says why. `config` and
    `config_error` likewise for the config blob (model_format, model_family, model_type,
    file_type, ...). `problems` lists anything else odd about the manifest (no weights layer,
    an invalid digest, a blob whose content does not match its digest).
    """
    name: ModelName
    path: Path
    digest: str                                   # sha256 of the manifest file: `ollama list`'s ID
    layers: list[Layer]
    config_layer: Layer | None
    weights_digest: str | None = None
    weights_size: int | None = None
    weights_from: str | None = None
    projector_digests: list[str] = field(default_factory=list)
    adapter_digests: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    params_digest: str | None = None
    params_error: str | None = None
    config: dict = field(default_factory=dict)
    config_error: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def config_digest(self) -> str | None:
        return self.config_layer.digest if self.config_layer else None

    def digests(self, kind: str) -> list[str]:
        """The digests of the layers of one kind (`model`, `template`, `license`, ...), in order."""
        return [lay.digest for lay in self.layers if lay.kind == kind and lay.digest]


@dataclass(frozen=True)
class Skipped:
    """A file under `manifests/` that is not a usable manifest, and why."""
    path: str
    reason: str


def _layer(obj, where: str, problems: list[str]) -> Layer | None:
    if not isinstance(obj, dict):
        problems.append(f"{where} is not a JSON object")
        return None
    mt = obj.get("mediaType")
    if not isinstance(mt, str):
        problems.append(f"{where} has no mediaType")
        mt = ""
    dig = obj.get("digest")
    hexd = None
    if isinstance(dig, str):
        m = _DIGEST.fullmatch(dig)
        if m:
            hexd = m.group(1).lower()
    if hexd is None and dig not in (None, ""):
        problems.append(f"{where} ({mt or 'no media type'}) has an invalid digest {_show(str(dig))}")
    size = obj.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        if size is not None:
            problems.append(f"{where} ({mt}) has an invalid size {_show(str(size))}")
        size = None
    frm = obj.get("from")
    name = obj.get("name")
    return Layer(mt, hexd, size, frm if isinstance(frm, str) and frm else None,
                 name if isinstance(name, str) and name else None, obj)


def _blob_json(models_dir: str, lay: Layer, what: str, problems: list[str]) -> tuple[dict, str | None]:
    """A small JSON-object blob: (object, None) or ({}, why it cannot be used)."""
    if lay.digest is None:
        return {}, f"the {what} layer has no valid digest"
    try:
        data = _read_blob(models_dir, lay.digest)
        obj = _json(data)
    except _Unreadable as e:
        return {}, f"{what} blob sha256-{lay.digest[:12]}: {e}"
    if not isinstance(obj, dict):
        return {}, f"{what} blob sha256-{lay.digest[:12]}: not a JSON object"
    if hashlib.sha256(data).hexdigest() != lay.digest:
        problems.append(f"the {what} blob sha256-{lay.digest[:12]} does not hold what its digest says")
    return obj, None


def _parse_manifest(models_dir: str, name: ModelName, path: str, data: bytes) -> Manifest:
    """A Manifest from the bytes of a manifest file; _Unreadable when it is not one."""
    obj = _json(data)
    if not isinstance(obj, dict):
        raise _Unreadable("not an Ollama manifest (not a JSON object)")
    raw_layers = obj.get("layers")
    if raw_layers is None and "schemaVersion" not in obj and "config" not in obj:
        raise _Unreadable("not an Ollama manifest (no layers, config or schemaVersion)")
    if raw_layers is not None and not isinstance(raw_layers, list):
        raise _Unreadable("not an Ollama manifest (layers is not a list)")
    problems: list[str] = []
    layers = []
    for i, o in enumerate(raw_layers or []):
        lay = _layer(o, f"layer {i}", problems)
        if lay is not None:
            layers.append(lay)
    cfg = obj.get("config")
    config_layer = _layer(cfg, "config", problems) if cfg is not None else None
    m = Manifest(name=name, path=Path(path), digest=hashlib.sha256(data).hexdigest(),
                 layers=layers, config_layer=config_layer, problems=problems)

    # As GetModel walks the layers: the last model layer wins, projectors and adapters add up,
    # params layers decode into one map in order.
    models = [lay for lay in layers if lay.media_type == MEDIA_MODEL]
    if not models:
        problems.append("no weights layer (application/vnd.ollama.image.model)")
    else:
        if len(models) > 1:
            problems.append(f"{len(models)} weights layers; Ollama uses the last")
        w = models[-1]
        m.weights_digest, m.weights_size, m.weights_from = w.digest, w.size, w.from_model
        if w.digest is None:
            problems.append("the weights layer has no valid digest")
    m.projector_digests = [lay.digest for lay in layers if lay.media_type == MEDIA_PROJECTOR and lay.digest]
    m.adapter_digests = [lay.digest for lay in layers if lay.media_type == MEDIA_ADAPTER and lay.digest]
    for lay in (lay for lay in layers if lay.media_type == MEDIA_PARAMS):
        params, err = _blob_json(models_dir, lay, "params", problems)
        m.params_digest = lay.digest
        if err:
            m.params_error = err
        else:
            m.params.update(params)
    if m.params_error:
        m.params = {}
    if config_layer is not None and config_layer.digest is not None:
        m.config, m.config_error = _blob_json(models_dir, config_layer, "config", problems)
    elif config_layer is not None:
        m.config_error = "the config has no valid digest"
    return m


def _entries(path: str) -> list[str]:
    with os.scandir(path) as it:
        return sorted(e.name for e in it)


def _child(dir_path: str, part: str) -> str | None:
    """The entry of `dir_path` named `part`, matched as Ollama matches names: exactly if such
    an entry exists, else case-insensitively (the first in sorted order)."""
    names = _entries(dir_path)
    if part in names:
        return part
    low = part.lower()
    for n in names:
        if n.lower() == low:
            return n
    return None


def _manifests_root(models_dir: str | os.PathLike) -> tuple[str, str]:
    md = os.fspath(models_dir)
    problem = _dir_problem(md)
    if problem:
        raise InputError(md, f"not an Ollama models dir: {problem}")
    root = os.path.join(md, "manifests")
    return md, root


def read_manifest(models_dir: str | os.PathLike, name: ModelName | str) -> Manifest | None:
    """The manifest of tag `name` in `models_dir`, or None when there is no such tag.

    `name` is a ModelName or text for `ModelName.parse` (an invalid name raises `UsageError`).
    Each part is looked up case-insensitively, as Ollama does, and the result is named with
    the case found on disk. Raises `InputError` (one line) when `models_dir` is not a models
    dir or the manifest exists but cannot be read or is not a manifest.
    """
    n = ModelName.coerce(name)
    md, root = _manifests_root(models_dir)
    base = os.path.realpath(root)
    path = root
    found = []
    try:
        for part in n.parts:
            if not os.path.isdir(path):
                return None
            child = _child(path, part)
            if child is None:
                return None
            found.append(child)
            path = os.path.join(path, child)
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None
    if os.path.isdir(path):
        return None
    try:
        data = _read_small(path, MANIFEST_MAX_BYTES, base)
        return _parse_manifest(md, ModelName(*found), path, data)
    except _Unreadable as e:
        raise InputError(path, str(e)) from None


def scan_manifests(models_dir: str | os.PathLike) -> tuple[list[Manifest], list[Skipped]]:
    """Every tag of `models_dir` (as Ollama lists them: files at `manifests/*/*/*/*`), sorted by
    name, and the files there that are not usable manifests with the reason for each."""
    md, root = _manifests_root(models_dir)
    base = os.path.realpath(root)
    out: list[Manifest] = []
    skipped: list[Skipped] = []

    def listing(path: str) -> list[str]:
        try:
            return _entries(path)
        except NotADirectoryError:
            return []
        except PermissionError:
            skipped.append(Skipped(path, "permission denied"))
        except OSError as e:
            skipped.append(Skipped(path, e.strerror or str(e)))
        return []

    def walk(path: str, parts: list[str]):
        if len(parts) == 4:
            if os.path.isdir(path):
                return
            try:
                n = ModelName(*parts)
            except UsageError as e:
                skipped.append(Skipped(path, str(e).replace("invalid model name", "not a model name", 1)))
                return
            try:
                data = _read_small(path, MANIFEST_MAX_BYTES, base)
                out.append(_parse_manifest(md, n, path, data))
            except _Unreadable as e:
                skipped.append(Skipped(path, str(e)))
            return
        if not os.path.isdir(path):
            return   # files above the tag level are not manifests; Ollama ignores them too
        if not _inside(base, path):
            skipped.append(Skipped(path, "a symlink leads outside the models dir"))
            return
        for child in listing(path):
            walk(os.path.join(path, child), parts + [child])

    walk(root, [])
    out.sort(key=lambda m: m.name.key)
    return out, skipped


def list_manifests(models_dir: str | os.PathLike) -> list[Manifest]:
    """Every usable tag of `models_dir`, sorted by name (`scan_manifests` also says what it skipped)."""
    return scan_manifests(models_dir)[0]


def tags_for_blob(models_dir: str | os.PathLike, digest: str,
                  manifests: Iterable[Manifest] | None = None) -> list[Manifest]:
    """Every tag whose weights layer is blob `digest` (64 hex, `sha256:`/`sha256-` allowed, or
    a prefix of 12+ hex digits), sorted by name. Pass `manifests` (from `list_manifests`) to
    match against those instead of scanning the dir again."""
    want = normalize_digest(digest, allow_prefix=True)
    ms = list_manifests(models_dir) if manifests is None else manifests
    return sorted((m for m in ms if m.weights_digest and m.weights_digest.startswith(want)),
                  key=lambda m: m.name.key)
