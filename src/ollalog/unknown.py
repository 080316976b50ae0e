"""The lines no grammar read, grouped by shape: what the parser does not know yet.

A shape is the line with its numbers, hex ids, GPU ids and blob digests masked, so that a message
printed a thousand times with different values counts once. `Shapes` collects them from
`read_batches(..., on_unknown=shapes.add)`; `report()` lists the most frequent with a count and
the first line that had each shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_MASKS = [
    (re.compile(r"sha256[-:][0-9a-f]{6,64}", re.ASCII), "<digest>"),
    (re.compile(r"GPU-[0-9a-fA-F-]{4,}", re.ASCII), "GPU-<id>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b", re.ASCII), "<addr>"),
    (re.compile(r"\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.ASCII), "<hex>"),
    (re.compile(r"\d+(?:[.,:]\d+)*", re.ASCII), "<n>"),
    (re.compile(r"[ \t]+"), " "),
]
EXAMPLE_CHARS = 160


def shape(text: str) -> str:
    """`text` with its variable parts masked."""
    t = text.strip()
    for pattern, mask in _MASKS:
        t = pattern.sub(mask, t)
    return t


@dataclass
class Shape:
    count: int
    file: str
    line: int
    example: str


class Shapes:
    """Unknown lines by shape, in order of first appearance."""

    def __init__(self):
        self.by_shape: dict[str, Shape] = {}
        self.lines = 0

    def add(self, file: str, line: int, text: str) -> None:
        self.lines += 1
        key = shape(text)
        s = self.by_shape.get(key)
        if s is None:
            self.by_shape[key] = Shape(1, file, line, text)
        else:
            s.count += 1

    def most_frequent(self, n: int) -> list[tuple[str, Shape]]:
        """The n most frequent shapes, ties in order of first appearance."""
        return sorted(self.by_shape.items(), key=lambda kv: -kv[1].count)[:n]

    def report(self, n: int = 20) -> list[str]:
        if not self.lines:
            return ["unknown lines: none (blank lines aside)"]
        top = self.most_frequent(n)
        out = [f"unknown lines: {self.lines:,} in {len(self.by_shape):,} shape{'s' if len(self.by_shape) != 1 else ''}"
               + (f", the {len(top)} most frequent:" if len(self.by_shape) > len(top) else ":")]
        width = len(f"{top[0][1].count:,}")
        for key, s in top:
            example = s.example if len(s.example) <= EXAMPLE_CHARS else s.example[:EXAMPLE_CHARS - 3] + "..."
            out.append(f"  {s.count:>{width},}  {_clip(key)}")
            out.append(f"  {'':>{width}}  first: {s.file}:{s.line}: {example}")
        return out


def _clip(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 3] + "..."
