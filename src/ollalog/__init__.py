"""ollalog: Ollama server logs as typed Arrow tables, and why a model ran where it ran.

    import ollalog
    t = ollalog.read(["server.log"])          # Tables(events, requests, loads, gpus, lines)
    for table, batch in ollalog.read_batches(["big.log.gz"]):
        ...                                     # streaming, bounded memory
"""
from __future__ import annotations

from .errors import InputError, OllalogError, UsageError
from .read import Tables, read, read_batches
from .schema import describe

__version__ = "0.1.0"
__all__ = ["read", "read_batches", "Tables", "describe", "OllalogError", "InputError",
           "UsageError", "__version__"]
