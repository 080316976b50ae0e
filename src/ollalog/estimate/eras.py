"""What each Ollama release does that changes a memory estimate or a piece of advice.

One table of facts, by version, read from Ollama's source at the tags named here (research notes,
section 3 and appendix D). The estimators and the advice ask this module; nothing else hard-codes a
version number. A version is a tuple `(major, minor, patch)`; `None` means the log did not say.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

Version = Tuple[int, int, int]

MIB = 1 << 20
GIB = 1 << 30


def parse_version(text: Optional[str]) -> Optional[Version]:
    """'0.5.7' -> (0, 5, 7); '0.14.3-rc3' -> (0, 14, 3); None or junk -> None."""
    if not text:
        return None
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", str(text).strip(), re.ASCII)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def at_least(v: Optional[Version], want: Version) -> bool:
    return v is not None and v >= want


def before(v: Optional[Version], want: Version) -> bool:
    return v is not None and v < want


def vstr(v: Optional[Version]) -> str:
    return "unknown" if v is None else "%d.%d.%d" % v


_RELEASES: list = []


def releases() -> list:
    """[(version, 'YYYY-MM-DD')] of every release, oldest first (formats/releases.tsv)."""
    if not _RELEASES:
        from ..formats import load_releases
        _RELEASES.extend((parse_version(v), d) for v, d in load_releases())
    return _RELEASES


def bound_by_date(lo: Version, hi: Version, day: Optional[str]) -> tuple:
    """Narrow a version range [lo, hi] with the date of a log line ('YYYY-MM-DD', UTC): no line
    predates its release (a day of slack for the tag-vs-publish gap). Returns (lo, hi, narrowed)."""
    if not day:
        return lo, hi, False
    import datetime as _dt
    try:
        limit = (_dt.date.fromisoformat(day[:10]) + _dt.timedelta(days=1)).isoformat()
    except ValueError:
        return lo, hi, False
    out = [v for v, d in releases() if lo <= v <= hi and d <= limit]
    if not out:
        return lo, hi, False
    return lo, max(out), max(out) < hi


def releases_between(lo: Version, hi: Version) -> list:
    return [v for v, _ in releases() if lo <= v <= hi]


# -- which estimator wrote the log's numbers ---------------------------------------------------

LEGACY_FIRST = (0, 1, 45)      # llm/memory.go per-GPU loop
LEGACY_LAST = (0, 12, 10)
LAYOUT_FIRST = (0, 11, 5)      # new memory layout (opt-in; default for the Ollama engine from 0.11.11)
LAYOUT_LAST = (0, 24, 0)
FIT_FIRST = (0, 30, 0)         # upstream llama-server, llama.cpp's --fit decides


def minimum_memory(library: Optional[str], version: Optional[Version] = None) -> int:
    """Per-GPU reserve the legacy and layout estimators keep free (gpu/gpu*.go, discover/gpu*.go):
    457 MiB (512 on Metal), except 0.1.34's 256 MiB (384 on Metal)."""
    lib = (library or "").lower()
    if lib == "cpu":
        return 0
    if version == (0, 1, 34):
        return 384 * MIB if lib == "metal" else 256 * MIB
    return 512 * MIB if lib == "metal" else 457 * MIB


def legacy_traits(v: Optional[Version]) -> dict:
    """How `llm/memory.go` of version v places layers and prints `memory.weights.*`.

    weights: 'with_kv'  memory.weights.total = sum(block + kv/L), repeating = total - output (<= 0.6.0)
             'blocks'   total = repeating = sum(block)                                        (0.6.1-0.6.2)
             'split'    total = repeating + nonrepeating, repeating = sum(block)             (0.6.3+)
    """
    return {
        # OLLAMA_GPU_OVERHEAD enters every check from 0.3.10
        "overhead_in_checks": v is None or v >= (0, 3, 10),
        # layers are tried last to first from 0.7.0
        "reverse": v is not None and v >= (0, 7, 0),
        # 0.7.0 alone keeps the largest layer, not blk.0, as the one-layer buffer
        "buffer_max_layer": v == (0, 7, 0),
        # the Ollama engine's vision weights and graph travel with the output layer from 0.7.1
        "projector_with_output": v is None or v >= (0, 7, 1),
        "weights": ("with_kv" if v is not None and v < (0, 6, 1) else
                    "blocks" if v is not None and v < (0, 6, 3) else "split"),
        # GQA for the fallback graph: n_head / n_head_kv; max over min heads from 0.9.3
        "gqa_max_min": v is None or v >= (0, 9, 3),
    }


# -- defaults a recommendation must know ---------------------------------------------------------

def default_num_ctx(v: Optional[Version], total_vram: Optional[int] = None) -> Optional[int]:
    """The num_ctx a load gets when nothing sets one (no Modelfile, request or OLLAMA_CONTEXT_LENGTH)."""
    if v is None:
        return None
    if v < (0, 6, 7):
        return 2048
    if v < (0, 15, 5):
        return 4096
    if total_vram is None:
        return None
    return 262144 if total_vram >= 47 * GIB else 32768 if total_vram >= 23 * GIB else 4096


def has_context_length_env(v: Optional[Version]) -> bool:
    """OLLAMA_CONTEXT_LENGTH sets the server-wide default num_ctx (0.5.13+)."""
    return v is None or v >= (0, 5, 13)


def has_kv_cache_type(v: Optional[Version]) -> bool:
    """OLLAMA_KV_CACHE_TYPE exists (0.5.0+); it is honoured only with flash attention."""
    return v is None or v >= (0, 5, 0)


def has_flash_attention_env(v: Optional[Version]) -> bool:
    return v is None or v >= (0, 1, 39)


def has_num_parallel(v: Optional[Version]) -> bool:
    return v is None or v >= (0, 1, 33)


def auto_parallel(v: Optional[Version]) -> Optional[str]:
    """What an unset OLLAMA_NUM_PARALLEL means: '4,1' / '2,1' tried in order, or '1'."""
    if v is None:
        return None
    if v < (0, 2, 0):
        return "1"
    if v < (0, 6, 7):
        return "4,1"
    if v < (0, 10, 0):
        return "2,1"
    return "1"


# architectures that turn flash attention on by themselves (fs/ggml FlashAttention(), by version)
_FA_DEFAULT = [
    ((0, 11, 8), {"gptoss", "gpt-oss"}),
    ((0, 12, 11), {"gemma3", "qwen3", "qwen3moe", "qwen3vl", "qwen3vlmoe"}),
    ((0, 13, 5), {"bert", "mistral3", "olmo3"}),
    ((0, 15, 0), {"glm4moelite", "lfm2"}),
    ((0, 20, 0), {"glmocr", "lfm2moe", "nemotron_h", "nemotron_h_moe"}),
    ((0, 24, 0), {"gemma4"}),
]


def flash_attention_default(v: Optional[Version], architecture: Optional[str]) -> bool:
    """The architecture enables flash attention without OLLAMA_FLASH_ATTENTION in this version."""
    if v is None or not architecture:
        return False
    arch = architecture.lower()
    return any(v >= since and arch in archs for since, archs in _FA_DEFAULT)


def supports_flash_attention(architecture: Optional[str], head_k: Optional[int], head_v: Optional[int]) -> bool:
    """fs/ggml SupportsFlashAttention: not gemma2, not an embedding model, equal non-zero K/V heads."""
    if (architecture or "").lower() == "gemma2":
        return False
    if head_k is None or head_v is None:
        return True  # unknown: assume the common case (equal heads)
    return head_k != 0 and head_k == head_v


KV_BYTES = {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5}
