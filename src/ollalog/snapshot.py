"""JSON snapshots of a file's load assembler, so that an ingest of a grown file goes on where the
last one stopped: the loads still open, the server's version and config, the runner summaries seen.

The codec is generic over the assembler's attributes (so a new field needs no change here) but
builds nothing it does not know: plain JSON values, lists, tuples, sets, dicts with any keys,
UTC datetimes, and the dataclasses of assemble.py (`Load`, ...), kept by identity (`cur` refers
into `loads`). A snapshot names
the code that made it (`VERSION`); one from other code is not used, and the file is read anew.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from . import __version__, assemble, schema as S
from .assemble import Assembler, Load


def _code_version() -> str:
    h = hashlib.sha256(__version__.encode())
    from . import assemble
    try:
        with open(assemble.__file__, "rb") as f:
            h.update(f.read())
    except OSError:  # a frozen build: the release version alone
        pass
    h.update(",".join(f.name for f in dataclasses.fields(Load)).encode())  # (the file's hash covers the rest)
    h.update(",".join(f.name for f in S.schema("loads")).encode())
    return h.hexdigest()[:16]


VERSION = _code_version()
UTC = dt.timezone.utc


class SnapshotError(ValueError):
    """A snapshot that cannot be used (other code, damaged): the file is read anew."""


def _enc(o, memo: dict):
    if o is None or isinstance(o, (bool, int, float, str)):
        return o
    if isinstance(o, list):
        return [_enc(x, memo) for x in o]
    if isinstance(o, tuple):
        return {"$t": [_enc(x, memo) for x in o]}
    if isinstance(o, (set, frozenset)):
        return {"$s": sorted((_enc(x, memo) for x in o), key=repr)}
    if isinstance(o, dict):
        return {"$d": [[_enc(k, memo), _enc(v, memo)] for k, v in o.items()]}
    if isinstance(o, dt.datetime):
        if o.tzinfo is None:
            raise TypeError("naive datetime in assembler state")
        return {"$dt": (o - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)}
    if dataclasses.is_dataclass(o) and _known(type(o).__name__) is type(o):
        if id(o) in memo:
            return {"$ref": memo[id(o)]}
        memo[id(o)] = len(memo)
        return {"$obj": [type(o).__name__, {f.name: _enc(getattr(o, f.name), memo) for f in dataclasses.fields(o)}]}
    raise TypeError(f"cannot snapshot a {type(o).__name__}")


def _known(name: str):
    """A dataclass of assemble.py by name, else None: a snapshot builds nothing else."""
    cls = getattr(assemble, name, None) if not name.startswith("_") else None
    return cls if isinstance(cls, type) and dataclasses.is_dataclass(cls) else None


def _dec(o, refs: list):
    if o is None or isinstance(o, (bool, int, float, str)):
        return o
    if isinstance(o, list):
        return [_dec(x, refs) for x in o]
    if not isinstance(o, dict) or len(o) != 1:
        raise SnapshotError("damaged snapshot")
    (tag, v), = o.items()
    if tag == "$t":
        return tuple(_dec(x, refs) for x in v)
    if tag == "$s":
        return {_dec(x, refs) for x in v}
    if tag == "$d":
        return {_dec(k, refs): _dec(x, refs) for k, x in v}
    if tag == "$dt":
        return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=int(v))
    if tag == "$ref":
        return refs[int(v)]
    if tag == "$obj":
        name, fields = v
        cls = _known(name)
        if cls is None or set(fields) != {f.name for f in dataclasses.fields(cls)}:
            raise SnapshotError(f"snapshot of another {name}")
        obj = object.__new__(cls)
        refs.append(obj)
        for k, x in fields.items():
            setattr(obj, k, _dec(x, refs))
        return obj
    raise SnapshotError(f"damaged snapshot (tag {tag!r})")


def encode(o):
    """A value of the kinds the codec knows (see the module's doc) as JSON-able data."""
    return _enc(o, {})


def decode(data):
    """encode()'s value back; SnapshotError when the data is damaged."""
    try:
        return _dec(data, [])
    except (TypeError, ValueError, IndexError, KeyError) as e:
        if isinstance(e, SnapshotError):
            raise
        raise SnapshotError(f"damaged snapshot ({e})") from None


def dump(asm: Assembler, seen: set) -> dict:
    """The assembler and the runner summaries seen, as JSON-able data."""
    memo: dict = {}
    return {"version": VERSION, "seen": sorted(seen),
            "assembler": {k: _enc(v, memo) for k, v in vars(asm).items()}}


def load(data: dict) -> tuple[Assembler, set]:
    """(assembler, seen) back from dump(); SnapshotError when it cannot be used."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise SnapshotError("snapshot from another version of ollalog")
    asm = object.__new__(Assembler)
    refs: list = []
    want = set(vars(Assembler("")))
    got = data.get("assembler") or {}
    if set(got) != want:
        raise SnapshotError("snapshot of another Assembler")
    try:
        for k, v in got.items():
            setattr(asm, k, _dec(v, refs))
        seen = set(data.get("seen") or ())
    except (TypeError, ValueError, IndexError, KeyError) as e:
        raise SnapshotError(f"damaged snapshot ({e})") from None
    return asm, seen

