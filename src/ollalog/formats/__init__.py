"""Formats as data shared by the C engine and the Python reference: the message catalogue
(messages.tsv) and the month names of journald prefixes in every locale (months.tsv); and, for
`ollalog watch`'s metrics, the routes of Ollama's HTTP server (routes.tsv)."""
from __future__ import annotations

import os
from dataclasses import dataclass

_HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGES_PATH = os.path.join(_HERE, "messages.tsv")
MONTHS_PATH = os.path.join(_HERE, "months.tsv")
ROUTES_PATH = os.path.join(_HERE, "routes.tsv")

SCOPES = ("msg", "native")
MATCHES = ("exact", "prefix", "contains")


@dataclass(frozen=True)
class Rule:
    event: str
    scope: str
    match: str
    text: str


def _records(path: str, strip: bool = False):
    """(line number, line) of a data file's records: blank lines and `#` comments skipped; the
    line without its newline, or (`strip`) without surrounding blanks."""
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip() if strip else raw.rstrip("\n")
            if line and not line.startswith("#"):
                yield n, line


def load_rules(path: str = MESSAGES_PATH) -> list[Rule]:
    rules = []
    for n, line in _records(path):
        parts = line.split("\t")
        if len(parts) != 4 or parts[1] not in SCOPES or parts[2] not in MATCHES:
            raise ValueError(f"{path}:{n}: expected EVENT<tab>SCOPE<tab>MATCH<tab>TEXT")
        rules.append(Rule(*parts))
    return rules


def load_months(path: str = MONTHS_PATH) -> dict[str, int]:
    """Month name (as journald prints it in some locale) -> month number 1..12."""
    months: dict[str, int] = {}
    for n, line in _records(path):
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].isdigit() or not 1 <= int(parts[0]) <= 12 or not parts[1]:
            raise ValueError(f"{path}:{n}: expected MONTH<tab>NAME")
        months[parts[1]] = int(parts[0])
    return months


def event_names(rules: list[Rule]) -> list[str]:
    """Event names in first-appearance order: the dictionary of the `event` column."""
    seen: dict[str, None] = {}
    for r in rules:
        seen.setdefault(r.event, None)
    for extra in ("panic",):  # named by code, not by a rule
        seen.setdefault(extra, None)
    return list(seen)


class Catalogue:
    """Lookup of a message in one scope: exact rules first, then prefix, then contains."""

    def __init__(self, rules: list[Rule], scope: str):
        self.exact: dict[str, str] = {}
        self.prefix: list[tuple[str, str]] = []
        self.contains: list[tuple[str, str]] = []
        for r in rules:
            if r.scope != scope:
                continue
            if r.match == "exact":
                self.exact.setdefault(r.text, r.event)
            elif r.match == "prefix":
                self.prefix.append((r.text, r.event))
            else:
                self.contains.append((r.text, r.event))

    def lookup(self, msg: str) -> str | None:
        ev = self.exact.get(msg)
        if ev is not None:
            return ev
        for text, ev in self.prefix:
            if msg.startswith(text):
                return ev
        for text, ev in self.contains:
            if text in msg:
                return ev
        return None


RELEASES_PATH = os.path.join(_HERE, "releases.tsv")


def load_releases(path: str = RELEASES_PATH) -> list[tuple[str, str]]:
    """(version, YYYY-MM-DD) of every Ollama release, oldest first."""
    out = []
    for _, line in _records(path, strip=True):
        v, d = line.split("\t")
        out.append((v, d))
    return out


def load_routes(path: str = ROUTES_PATH) -> list[str]:
    """Ollama's HTTP routes (`/api/chat`, `/api/blobs/:digest`), in file order."""
    routes = []
    for n, line in _records(path, strip=True):
        if not line.startswith("/") or any(c.isspace() for c in line):
            raise ValueError(f"{path}:{n}: expected a route such as /api/chat")
        routes.append(line)
    return routes
