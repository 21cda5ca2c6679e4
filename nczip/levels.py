"""Compression levels -> codec configurations.

A level is only a name for a configuration: the configuration itself is written into every
container, so a decoder rebuilds the models from the file, never from its own level table, and
retuning a level later cannot break old files.
"""

from __future__ import annotations

from typing import Any

DEFAULT_LEVEL = 3
MIN_LEVEL, MAX_LEVEL = 1, 9
ZSTD_FALLBACK_LEVEL = 19

# Model-free levels: (max context order of the byte model, chunk size in bytes). Orders measured
# on alice29.txt (one chunk): 3 -> 44,027 B, 4 -> 42,333 B, 5 -> 42,331 B, 6 -> 42,941 B.
_BYTE_MODEL_LEVELS = {
    1: (3, 1 << 20),
    2: (4, 2 << 20),
    3: (5, 4 << 20),
}
# LLM levels: (context window in tokens, tokens dropped per slide). Chunks of 1 MiB hold ~290k
# tokens, so the cold start of each chunk's context costs little and workers have chunks to share.
_LLM_LEVELS = {
    4: (256, 64),
    5: (512, 128),
    6: (1024, 256),
    7: (1536, 384),
    8: (2048, 512),
    9: (2048, 256),
}
LLM_CHUNK_SIZE = 1 << 20


def uses_llm(level: int) -> bool:
    return level in _LLM_LEVELS


def level_config(level: int) -> tuple[dict[str, Any], int]:
    """Return ``(codec configuration, default chunk size)`` for a level."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"level must be between {MIN_LEVEL} and {MAX_LEVEL}")
    order, chunk_size = _BYTE_MODEL_LEVELS.get(level, (5, LLM_CHUNK_SIZE))
    config: dict[str, Any] = {
        "predictor": {"name": "bytes-ppm/1", "max_order": order, "discount": 0.5, "max_contexts": 1 << 18},
        "zstd_level": ZSTD_FALLBACK_LEVEL,
    }
    if uses_llm(level):
        n_ctx, slide = _LLM_LEVELS[level]
        config["llm"] = {"name": "llm/1", "n_ctx": n_ctx, "slide": slide}
    return config, chunk_size
