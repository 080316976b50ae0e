"""Ollama's printed quantities -> numbers: HumanBytes2 sizes, size lists, MiB figures."""
from __future__ import annotations

import math
import re

_MULT = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
         "KB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3, "TB": 1000 ** 4}
_SIZE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)\b", re.ASCII)


def _round(x: float) -> int:
    return int(math.floor(x + 0.5))


def parse_size(text) -> int | None:
    """`"23.2 GiB"` -> bytes (rounded to the nearest byte); a bare integer is already bytes."""
    if text is None:
        return None
    t = str(text).strip()
    if re.fullmatch(r"-?\d+", t, re.ASCII):
        return int(t)
    m = _SIZE.fullmatch(t)
    if not m:
        return None
    return _round(float(m.group(1)) * _MULT[m.group(2)])


def parse_size_list(text) -> list[int] | None:
    """`"[22.0 GiB 22.0 GiB]"` -> [bytes, bytes]; a single size gives a one-element list."""
    if text is None:
        return None
    t = str(text).strip()
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    if not t.strip():
        return []
    out = [_round(float(m.group(1)) * _MULT[m.group(2)]) for m in _SIZE.finditer(t)]
    if out:
        return out
    if re.fullmatch(r"[\d ]+", t, re.ASCII):
        return [int(x) for x in t.split()]
    return None


def mib(text: str) -> int:
    """llama.cpp's `%8.2f MiB` figure -> bytes."""
    return _round(float(text) * (1 << 20))
