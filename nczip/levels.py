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

# level: (max context order of the byte model, chunk size in bytes). Orders measured on alice29.txt
# (one chunk): 3 -> 44,027 B, 4 -> 42,333 B, 5 -> 42,331 B, 6 -> 42,941 B. Until the LLM predictor
# lands, levels 4-9 use the best byte model with larger chunks (more context per model).
_BYTE_MODEL_LEVELS = {
    1: (3, 1 << 20),
    2: (4, 2 << 20),
    3: (5, 4 << 20),
    4: (5, 8 << 20),
    5: (5, 8 << 20),
    6: (5, 16 << 20),
    7: (5, 16 << 20),
    8: (5, 32 << 20),
    9: (5, 32 << 20),
}


def level_config(level: int) -> tuple[dict[str, Any], int]:
    """Return ``(codec configuration, default chunk size)`` for a level."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"level must be between {MIN_LEVEL} and {MAX_LEVEL}")
    order, chunk_size = _BYTE_MODEL_LEVELS[level]
    config = {
        "predictor": {"name": "bytes-ppm/1", "max_order": order, "discount": 0.5, "max_contexts": 1 << 18},
        "zstd_level": ZSTD_FALLBACK_LEVEL,
    }
    return config, chunk_size
