"""Exceptions: each also inherits the builtin a caller would expect to catch."""
from __future__ import annotations


class OllalogError(Exception):
    """Base of every error ollalog raises on purpose; str() is one line fit for a terminal."""


class InputError(OllalogError, OSError):
    """An input that cannot be read: missing, a directory with no logs, binary, truncated."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class OutputError(OllalogError, OSError):
    """An output that cannot be written: a folder that cannot be made, a file that cannot be created."""

    def __init__(self, path: str, reason):
        if isinstance(reason, OSError):
            reason = (reason.strerror or str(reason)).lower()
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


class UsageError(OllalogError, ValueError):
    """Arguments that cannot work together."""
