"""`why`: where each load of a model ran, why in numbers, the num_ctx that fits, what to change.

The library behind `ollalog why`: read the logs (loads and the catalogued events only), put the
tables into DuckDB, gather each load's facts, re-run the era's estimator, explain, and resolve the
model name the user typed to the loads it names. The result is plain data (`Report.to_dict()` is
the JSON contract of docs/why.md); rendering is `render`'s business.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from . import facts as F, views
from .errors import InputError, OllalogError, UsageError

TABLES = ("events", "loads", "gpus", "lines")


class ModelNotLoaded(OllalogError, LookupError):
    """The model asked about never loaded in these logs."""


@dataclass
class WhatIf:
    """`--num-ctx`, `--parallel`, `--kv-cache-type`, `--flash-attention`, `--num-gpu`."""
    num_ctx: Optional[int] = None
    parallel: Optional[int] = None
    kv_cache_type: Optional[str] = None
    flash_attention: Optional[bool] = None
    num_gpu: Optional[int] = None

    def asked(self) -> bool:
        return any(v is not None for v in self.__dict__.values())

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Report:
    model: Optional[str]
    groups: list                      # [{model, resolved, loads, recommendations}]
    inputs: dict = field(default_factory=dict)
    loaded_models: list = field(default_factory=list)
    all_models: bool = False

    @property
    def loads(self) -> list:
        return [ld for g in self.groups for ld in g["loads"]]

    def to_dict(self) -> dict:
        if self.all_models:
            return {"model": None, "models": self.groups, "inputs": self.inputs}
        g = self.groups[0] if self.groups else {"resolved": None, "loads": [], "recommendations": []}
        return {"model": self.model, "resolved": g["resolved"], "loads": g["loads"],
                "recommendations": g["recommendations"], "loaded_models": self.loaded_models,
                "inputs": self.inputs}


def why(model: Optional[str], paths: Iterable[str] | str, *, models_dir: Optional[str] = None,
        all_models: bool = False, whatif: Optional[WhatIf] = None, host: Optional[str] = None,
        year: Optional[int] = None, engine: str = "c",
        on_error: Optional[Callable[[InputError], None]] = None) -> Report:
    """Explain every load of `model` (or of every model with `all_models`) in the logs `paths`.

    Raises `ModelNotLoaded` when the model never loaded (the message lists the models that did),
    `UsageError` for an invalid model name, `InputError` for an unreadable input unless
    `on_error` takes it (then that input is skipped)."""
    from . import explain  # numpy's estimator: imported when used
    from .read import read, without_ignored
    if not all_models and not model:
        raise UsageError("name a model, or ask for --all")
    name = None
    if model and not all_models:
        from .models import ModelName
        name = ModelName.parse(model)
    errors: list = []
    tables = read(paths, host=host, year=year, engine=engine, tables=TABLES, events=F.events_used(),
                  on_error=on_error if on_error is not None else errors.append)
    if errors and on_error is None:
        raise errors[0]
    tables.events = without_ignored(tables.events)  # rows no load's facts can cite
    con = views.connect(tables)
    inputs = {"files": tables.lines.column("file").to_pylist(),
              "errors": [str(e) for e in (tables.errors or [])]}
    mdir, mhow = _models_dir(models_dir, con)
    asked = whatif.as_dict() if whatif and whatif.asked() else None
    if all_models:
        groups, _ = explain_all(con, mdir, mhow, asked, estimators=False)
        return Report(model=None, groups=groups, inputs=inputs, all_models=True)
    load_rows = views.rows(con, "SELECT * FROM loads ORDER BY load_idx")
    from .models import read_manifest, tags_for_blob
    manifest = read_manifest(mdir, name) if mdir is not None else None
    sibs = tags_for_blob(mdir, manifest.weights_digest) if manifest is not None and manifest.weights_digest else []
    params = (manifest.params if manifest is not None else None) or {}
    cands = _candidates(name, load_rows, manifest)
    # each candidate explained as its facts come, a slice at a time (facts.each), keeping only its
    # verdict and, when tags share its blob, its score against each of them
    verdict_of, scored = {}, {}
    for f in F.each(con, [r["load_idx"] for r in cands], loads=load_rows):
        i = f.load["load_idx"]
        if len(sibs) > 1:
            scored[i] = sorted(((_score(f.load, s, f), s) for s in sibs), key=lambda x: -x[0][0])
        v = _explain(f, asked)
        verdict_of[i] = v, _num_ctx_source(v, params if manifest is not None else None, f)
    resolved, chosen = _resolve(name, cands, scored, sibs, mdir, mhow, manifest)
    if not chosen:
        loaded = _loaded_models(load_rows)
        listing = ", ".join(m["model"] for m in loaded) or "none"
        raise ModelNotLoaded(f"{name.short()} never loaded in {_files(inputs)}"
                             f" ({resolved['how']}); models that loaded: {listing}")
    verdicts = []
    for r in chosen:
        v, source = verdict_of[r["load_idx"]]
        v["match"] = r["match"]
        v["num_ctx_source"] = source
        verdicts.append(v)
    recs = explain.recommendations(verdicts, resolved)
    group = {"model": name.short(), "resolved": resolved, "loads": verdicts, "recommendations": recs}
    return Report(model=name.short(), groups=[group], inputs=inputs, loaded_models=_loaded_models(load_rows))


def _explain(f, asked):
    from . import estimate, explain  # numpy's estimator: imported when used
    return explain.explain_load(f, estimate.for_load(f), asked)


def explain_all(con, mdir: Optional[str], mhow: str, asked: Optional[dict] = None,
                estimators: bool = True) -> tuple[list, list]:
    """`--all` over the views on `con`: (groups as in `Report.groups`, and with `estimators` for
    every load in load order its (estimator or None, verdict), the verdict being the dict in its
    group). The report draws the estimators' curves; `why` keeps the groups. Facts are gathered
    and dropped a slice at a time (facts.each)."""
    from . import estimate, explain  # numpy's estimator: imported when used
    verdicts, explained = [], []
    for f in F.each(con):
        est = estimate.for_load(f)
        v = explain.explain_load(f, est, asked)
        verdicts.append(v)
        if estimators:
            explained.append((est, v))
    return _group_all(verdicts, mdir, mhow), explained


def models_dir(explicit: Optional[str], con) -> tuple:
    """(the models dir or None, how it was found or why none was): `--models-dir`, else
    OLLAMA_MODELS, else the one the logs' server config names, else the platform defaults."""
    return _models_dir(explicit, con)


def _files(inputs) -> str:
    files = inputs.get("files") or []
    return files[0] if len(files) == 1 else f"{len(files)} files"


# -- the models dir -------------------------------------------------------------------------------

def _models_dir(explicit, con):
    from .assemble import parse_config
    from .models import find_models_dir
    log_dirs, seen = [], set()
    for r in views.rows(con, "SELECT file::VARCHAR AS file, line, attrs FROM events "
                             "WHERE event = 'server_config' ORDER BY file, line"):
        env = dict(r["attrs"] or {}).get("env", "")
        d = (parse_config(env).get("OLLAMA_MODELS") or "").strip()
        if d and d not in seen:
            seen.add(d)
            log_dirs.append((d, f"OLLAMA_MODELS in the server config at {r['file']}:{r['line']}"))
    path, how, tried = find_models_dir(explicit, log_dirs=log_dirs)
    if path is not None:
        return path, how
    return None, (f"no models dir here (tried {len(tried)} places: OLLAMA_MODELS, the server config, "
                  "the platform defaults; --models-dir names one)")


def _blob_match(a: Optional[str], b: Optional[str]) -> bool:
    if not a or not b:
        return False
    a, b = a.lower(), b.lower()
    return a.startswith(b) or b.startswith(a)


# -- which loads are this model --------------------------------------------------------------------

def _expected_num_ctx(v: dict, params: dict, f) -> Optional[int]:
    """The num_ctx a load of a tag with these params gets when the request sets none."""
    from . import estimate  # numpy's estimator: imported when used
    from .estimate import eras
    if params.get("num_ctx") is not None:
        try:
            n = int(params["num_ctx"])
        except (TypeError, ValueError):
            return None
    else:
        version = eras.parse_version(v.get("ollama_version"))
        cfg = f.config
        env = (cfg.get("OLLAMA_CONTEXT_LENGTH") or "").strip()
        n = None
        if env.isdigit() and int(env) > 0 and eras.has_context_length_env(version):
            n = int(env)
        if n is None:
            tier = next((e for e in f.context if e.event == "vram_default_ctx"), None)
            if tier is not None and str(tier.attrs.get("default_num_ctx", "")).isdigit():
                n = int(tier.attrs["default_num_ctx"])
        if n is None:
            n = eras.default_num_ctx(version)
        if n is None:
            return None
    train = estimate.hparams_from(f.evidence).n_ctx_train
    version = eras.parse_version(v.get("ollama_version"))
    if train and n > train and (version is None or version >= (0, 9, 3)):
        n = train
    return n


def _num_ctx_source(v: dict, params: Optional[dict], f) -> Optional[str]:
    """Where the load's num_ctx came from: the tag's Modelfile, the server's default (automatic:
    the only kind v0.30+ may reduce and retry after an out-of-memory load), or neither (a request's
    options or OLLAMA_CONTEXT_LENGTH); None without the tag's params."""
    if params is None or v.get("num_ctx") is None:
        return None
    if params.get("num_ctx") is not None:
        return "modelfile" if _expected_num_ctx(v, params, f) == v["num_ctx"] else "request"
    env = (f.config.get("OLLAMA_CONTEXT_LENGTH") or "").strip()
    if env.isdigit() and int(env) > 0 and int(env) == v["num_ctx"]:
        return "OLLAMA_CONTEXT_LENGTH"
    return "default" if _expected_num_ctx(v, params, f) == v["num_ctx"] else "request"


def _score(v: dict, m, f) -> tuple:
    """(score, reasons) of load v against tag manifest m."""
    score, why = 0, []
    want = _expected_num_ctx(v, m.params, f)
    if want is not None and v.get("num_ctx") is not None:
        if want == v["num_ctx"]:
            score += 2
            why.append(f"num_ctx {want}" + (" (its Modelfile)" if m.params.get("num_ctx") is not None else " (the default)"))
        else:
            score -= 1
    ng = m.params.get("num_gpu")
    if ng is not None and v.get("layers_requested") is not None:
        score += 1 if int(ng) == v["layers_requested"] else -1
    return score, why


def _candidates(name, load_rows, manifest) -> list:
    """The loads that may be this model: of its weights blob, naming its tag, or with a fitting
    GGUF name (only when neither of the others exists)."""
    if manifest is not None and manifest.weights_digest:
        return [r for r in load_rows if _blob_match(r.get("model_blob"), manifest.weights_digest)]
    named = [r for r in load_rows if r.get("model_name") and name.equals(r["model_name"])]
    if named:
        blobs = {r.get("model_blob") for r in named}
        return [r for r in load_rows if r in named or (not r.get("model_name") and
                                                        any(_blob_match(r.get("model_blob"), b) for b in blobs))]
    return [r for r in load_rows if _name_fits(name, r)]


def _resolve(name, verdicts, scored, sibs, mdir, mhow, manifest):
    """(resolved, the loads of `verdicts` that are this model, each with its `match`); `sibs`: the
    tags of the manifest's blob, `scored`: by load_idx, each load's (score, reasons) against each
    of them, best first (only when there are several)."""
    if manifest is not None and manifest.weights_digest:
        blob = manifest.weights_digest
        mine = [v for v in verdicts if _blob_match(v.get("model_blob"), blob)]
        resolved = {"name": str(name), "blob": blob, "params": manifest.params,
                    "how": f"manifest in {mdir} ({mhow})", "confidence": None,
                    "tags_sharing_blob": [s.name.short() for s in sibs]}
        if len(sibs) <= 1:
            for v in mine:
                v["match"] = {"tag": name.short(), "confidence": "high", "how": "the only tag of this blob"}
            resolved["confidence"] = "high" if mine else None
            return resolved, mine
        chosen, levels = [], []
        for v in mine:
            scored_v = scored[v["load_idx"]]
            best = scored_v[0][0][0]
            top = [s for (sc, _), s in scored_v if sc == best]
            if not any(s.name.equals(name) for s in top):
                continue
            reasons = next((w for (sc, w), s in scored_v if s.name.equals(name)), [])
            if len(top) == 1 and best >= 2:
                conf, how = "high", "told apart by " + ", ".join(reasons)
            elif best >= 2:
                conf, how = "medium", "as consistent with " + ", ".join(t.name.short() for t in top)
            else:
                conf, how = "low", "no tag's params explain this load's context (request options may have set it)"
            v["match"] = {"tag": name.short(), "confidence": conf, "how": how,
                          "candidates": [t.name.short() for t in top]}
            chosen.append(v)
            levels.append(conf)
        order = {"high": 0, "medium": 1, "low": 2}
        resolved["confidence"] = max(levels, key=lambda c: order[c]) if levels else None
        return resolved, chosen
    # without a manifest: the tag names the log shows, then the GGUF name or size
    named = [v for v in verdicts if v.get("model_name") and name.equals(v["model_name"])]
    if named:
        for v in named:
            v["match"] = {"tag": name.short(), "confidence": "high", "how": "the log names the tag (runner.name)"}
        blob = named[-1].get("model_blob")
        same = [v for v in verdicts if v not in named and _blob_match(v.get("model_blob"), blob)
                and not v.get("model_name")]
        for v in same:
            v["match"] = {"tag": name.short(), "confidence": "medium",
                          "how": "same weights blob as the loads that name the tag"}
        chosen = sorted(named + same, key=lambda v: (v["file"], v["line"]))
        return ({"name": str(name), "blob": blob, "params": None, "confidence": "high",
                 "how": f"the log names the tag; {mhow}"}, chosen)
    fuzzy = [v for v in verdicts if _name_fits(name, v)]
    for v in fuzzy:
        v["match"] = {"tag": name.short(), "confidence": "low", "how": _name_fits(name, v)}
    why = "manifest not found in " + str(mdir) if mdir is not None else mhow
    blob = fuzzy[-1].get("model_blob") if fuzzy else None
    return ({"name": str(name), "blob": blob, "params": None, "confidence": "low" if fuzzy else None,
             "how": why + ("; matched by the GGUF name and size the log prints" if fuzzy else "")}, fuzzy)


def _tokens(text: str) -> list:
    return re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", (text or "").lower())


def _name_fits(name, v) -> str:
    """A reason when the load's GGUF name (and size) fit the model name, else ''."""
    gname = v.get("general_name")
    if not gname:
        return ""
    have = set(_tokens(gname))
    model_toks = [t for t in _tokens(name.model) if t not in ("instruct", "chat", "latest")]
    if not model_toks or not all(t in have for t in model_toks):
        return ""
    size = next((t for t in _tokens(name.tag) if re.fullmatch(r"\d+(\.\d+)?[bm]", t)), None)
    if size and size not in have:
        return ""
    return f"no manifest: the GGUF name '{gname}' fits" + (f" and so does the size {size}" if size else "")


def _loaded_models(verdicts) -> list:
    seen: dict = {}
    for v in verdicts:
        key = v.get("model_name") or v.get("model_blob") or "?"
        label = (v.get("model_name") or (v.get("general_name") and f"{v['general_name']} (blob {(v.get('model_blob') or '?')[:12]})")
                 or f"blob {(v.get('model_blob') or '?')[:12]}")
        seen.setdefault(key, {"model": _short_name(label), "blob": v.get("model_blob"), "loads": 0})
        seen[key]["loads"] += 1
    return list(seen.values())


def _short_name(label: str) -> str:
    for pre in ("registry.ollama.ai/library/", "registry.ollama.ai/"):
        if label.startswith(pre):
            return label[len(pre):]
    return label


def tags_by_blob(mdir) -> dict:
    """{weights digest: [tag, ...]} of the manifests in the models dir `mdir` (None: no dir)."""
    tags_of: dict = {}
    if mdir is not None:
        from .models import list_manifests
        for m in list_manifests(mdir):
            if m.weights_digest:
                tags_of.setdefault(m.weights_digest, []).append(m.name.short())
    return tags_of


def model_label(v: dict, tags_of: dict, named: dict, mdir=None) -> tuple:
    """(key, label, how, tags) naming the model of load `v` as `why --all` groups it: the tag the
    log names, else the tag it names for the same blob elsewhere (`named`: blob -> tag), else the
    models dir's tags of the blob (`tags_of`), else the GGUF name and blob."""
    blob = v.get("model_blob")
    tags = next((t for d, t in tags_of.items() if _blob_match(d, blob)), None)
    if v.get("model_name"):
        return _short_name(v["model_name"]), _short_name(v["model_name"]), "the log names the tag (runner.name)", tags
    if blob in named and not tags:
        return (_short_name(named[blob]), _short_name(named[blob]),
                "the log names the tag (runner.name) for this blob", tags)
    if tags:
        label = " / ".join(sorted(tags))
        return label, label, f"the tags of this blob in {mdir}", tags
    key = blob or f"{v['file']}:{v['line']}"
    label = (f"{v['general_name']} (blob {blob[:12]})" if v.get("general_name") and blob
             else f"blob {blob[:12]}" if blob else "unknown model")
    return key, label, "no tag known: the GGUF name and weights blob the log prints", tags


def tag_of_load(v: dict, f, manifests: list) -> Optional[tuple]:
    """The one tag among `manifests` (the tags of the load's blob) whose params explain load `v`
    (with its facts `f`), as `why MODEL` tells tags apart: (tag, how), or None when none or
    several do."""
    scored = sorted(((_score(v, m, f), m) for m in manifests), key=lambda x: -x[0][0])
    if not scored:
        return None
    best = scored[0][0][0]
    top = [m for (sc, _), m in scored if sc == best]
    if len(top) != 1 or best < 2:
        return None
    return top[0].name.short(), "told apart by " + ", ".join(scored[0][0][1])


def _group_all(verdicts, mdir, mhow) -> list:
    """--all: every load, grouped by model (tag when the log or a manifest names it, else blob)."""
    from . import explain  # numpy's estimator: imported when used
    tags_of = tags_by_blob(mdir)
    named = {}     # blob -> the tag the log names for it elsewhere
    for v in verdicts:
        if v.get("model_name") and v.get("model_blob"):
            named.setdefault(v["model_blob"], v["model_name"])
    groups: dict = {}
    for v in verdicts:
        key, label, how, tags = model_label(v, tags_of, named, mdir)
        g = groups.setdefault(key, {"model": label, "resolved": {"blob": v.get("model_blob"), "tags": tags, "how": how},
                                    "loads": [], "recommendations": []})
        g["loads"].append(v)
    out = list(groups.values())
    for g in out:
        g["recommendations"] = explain.recommendations(g["loads"], None)
    return out
