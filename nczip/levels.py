"""Compression levels -> codec configurations.

A level is only a name for a configuration: the configuration itself is written into every
container, so a decoder rebuilds the models from the file, never from its own level table, and
retuning a level later cannot break old files.
"""

from __future__ import annotations

import copy
from typing import Any

from . import config as names  # the models' arithmetic names, validated there

DEFAULT_LEVEL = 3
MIN_LEVEL, MAX_LEVEL = 1, 9
ZSTD_FALLBACK_LEVEL = 19

# The quantizer versions new files use (nczip.coding.QUANTIZERS): 2 sums in sixteen lanes, several
# times faster than the strictly sequential version 1 of the first files; 3 (the LLM levels) also
# totals 2^32 instead of 2^24, so 49,152 one-count floors no longer cost 0.1 % at level 9.
QUANTIZER = 2
QUANTIZER_LLM = 3
# Fast levels (no LLM): (max context order of the byte model, chunk size in bytes, online SSM or
# None). The byte model codes raw spans and chunks that do not tokenise; its orders were measured
# on alice29.txt (one chunk): 3 -> 44,027 B, 4 -> 42,333 B, 5 -> 42,331 B, 6 -> 42,941 B.
# The SSM's shape and schedule, measured on enwik8's first 1 MB as one level-3 chunk (compressed
# bytes, seconds with two runs sharing the 2-core machine), once the SSM ran in C: d_model 32 /
# shortlist 2,048: 253,381 B, 35 s; 32 / 8,192: 248,956 B, 54 s; 64 / 4,096: 248,125 B, 51 s;
# 48 / 8,192: 246,864 B, 60 s; 64 / 8,192: 246,001 B, 80 s (68 s alone). Two layers (64 / 4,096):
# 248,200 B, no better. Training every 8 tokens instead of 16 (32 / 2,048): 253,825 B, worse.
# (d_inner is twice d_model throughout.)
SSM_CONFIG: dict[str, Any] = {"name": names.SSM, "dm": 48, "di": 96, "ds": 16, "layers": 1, "conv": 4,
                              "dt_rank": 4, "shortlist": 8192, "block": 16, "lr": 0.005, "seed": 1}
SSM_SMALL = {**SSM_CONFIG, "dm": 32, "di": 64, "shortlist": 2048}
_FAST_LEVELS: dict[int, tuple[int, int, dict[str, Any] | None]] = {
    1: (3, 1 << 20, None),
    2: (4, 2 << 20, SSM_SMALL),
    3: (5, 4 << 20, SSM_CONFIG),
}
# Fast levels since the context-mixing core (nczip/kernels/cm.c, docs/cm.md): the core's
# configuration and the chunk size. Memory is the tables (2^table_bits x 16 B + 2^match_bits x 4 B)
# plus the chunk, per worker, whatever the input. Measured in docs/cm.md.
# Level 3's contexts: every one the core had when it was tuned (the record contexts, appended
# since, are method 8's, added per chunk with a record length: nczip/methods/records.py).
_CM_ALL = [c for c in names.CM_CONTEXTS if c not in ("record1", "record2")]
# zstd's level beside the core: only noise goes to zstd there, and level 19 would take longer than
# the core itself on text (nczip/methods/policy.py).
CM_ZSTD_LEVEL = 3
_CM_LEVELS: dict[int, tuple[dict[str, Any], int]] = {
    1: ({"contexts": ["o1", "o2", "o3", "o4", "o6", "word"], "table_bits": 23, "match_bits": 22, "match_min": 6,
         "selectors": 3, "apm": 2, "lr": 3, "limit": 1023}, 16 << 20),
    2: ({"contexts": ["o0", "o1", "o2", "o3", "o4", "o5", "o6", "word", "word2"], "table_bits": 24,
         "match_bits": 22, "match_min": 6, "selectors": 3, "apm": 2, "lr": 3, "limit": 1023}, 32 << 20),
    3: ({"contexts": _CM_ALL, "table_bits": 24, "match_bits": 22, "match_min": 6, "selectors": 3, "apm": 2,
         "lr": 3, "limit": 1023}, 32 << 20),
}
# The Zipf prior over new types' ids (nczip/predictors/compact.py).
NEW_TYPES = {"alpha": 0.6, "offset": 50.0}
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
# Lanes per LLM chunk (nczip/predictors/llm.py: one llama.cpp context, one sequence per lane, one
# token of every lane per llama_decode): measured in docs/lanes.md.
LLM_LANES = 16
# Lanes share their online models (n-gram tables, mixing weights, bias head): docs/lanes.md.
LLM_SHARED = True

# The online token models mixed with the LLM (nczip/predictors/mixer.py): every component's
# parameters, and which are on by default. Measured with `python -m bench.ensemble` (README):
# the bias head gives most of the gain, n-grams a little more; the match model gained nothing
# over the LLM's own in-context copying, and the skip saved < 2 % of LLM calls on enwik8, so
# both are off by default (a user can still ask for them with --with). The models themselves are
# built by name from nczip/predictors/registry.py (docs/stages.md); tests/test_stages.py
# checks that its names, these and nczip.Component agree.
ENSEMBLE_COMPONENTS: dict[str, dict[str, Any]] = {
    "ngram": {"orders": [2, 3, 4, 6, 8, 12, 16, 24, 32], "max_contexts": 1 << 20, "max_followers": 16},
    "match": {"min_length": 6, "max_index": 1 << 20},
    "bias": {"lr": 0.15},
    "mixer": {"lr": 0.05, "tau_lr": 0.002, "init": -4.0},
    "skip": {"warmup": 100, "min_trials": 10, "max_error": 0.02},
    "phrase": {"tiling": "fibonacci", "levels": 10, "max_entries": 1 << 18, "theta": 0.0},
    "ssm": dict(SSM_CONFIG),
    "floor": {"init": -3.5},
}
ENSEMBLE_DEFAULT = ("ngram", "bias", "mixer")
# The floor, measured on enwik8's first 1.5 MB at level 3 as a fixed share of the known types'
# mass spread uniformly: 0 -> 368,781 B; 0.3 % 368,285; 1 % 367,757; 3 % 367,307; 6 % 367,538;
# 10 % 368,552; learned per confidence bucket from 3 % (sigmoid(-3.5)): see the README.
FAST_DEFAULT = ("ngram", "bias", "mixer", "floor")


def ensemble_config(components: tuple[str, ...] | list[str] = ENSEMBLE_DEFAULT) -> dict[str, Any]:
    """The mixer configuration with exactly ``components`` switched on."""
    unknown = set(components) - set(ENSEMBLE_COMPONENTS)
    if unknown:
        raise ValueError(f"unknown ensemble component(s): {', '.join(sorted(unknown))}")
    return {"name": names.MIXER, **{name: copy.deepcopy(ENSEMBLE_COMPONENTS[name]) for name in components}}


def _set_tiling(ensemble: dict[str, Any], tiling: str | None) -> None:
    if tiling is not None:
        ensemble.setdefault("phrase", copy.deepcopy(ENSEMBLE_COMPONENTS["phrase"]))["tiling"] = tiling


def token_components(level: int) -> list[str]:
    """The components that give fast level ``level`` its former token models (the design before
    the context-mixing core; they still decode and are still reachable with ``components``)."""
    return list(FAST_DEFAULT) + (["ssm"] if _FAST_LEVELS[level][2] else [])


def uses_llm(level: int) -> bool:
    return level in _LLM_LEVELS


def level_config(level: int, components: tuple[str, ...] | list[str] | None = None,
                 tiling: str | None = None, lanes: int | None = None) -> tuple[dict[str, Any], int]:
    """Return ``(codec configuration, default chunk size)`` for a level.

    The fast levels (1-3) use the context-mixing core; ``components`` or ``tiling`` there selects
    their former token models instead (ablation, experts; ``ssm`` is one of the components).
    ``components`` overrides which ensemble components the level uses. ``tiling`` switches the
    phrase hierarchy on with that tiling.
    ``lanes`` overrides the LLM levels' most lanes per chunk (ignored at the fast levels).
    """
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"level must be between {MIN_LEVEL} and {MAX_LEVEL}")
    order, chunk_size, ssm = _FAST_LEVELS.get(level, (5, LLM_CHUNK_SIZE, None))
    config: dict[str, Any] = {
        "predictor": {"name": names.BYTE_MODEL, "max_order": order, "discount": 0.5, "max_contexts": 1 << 18},
        "zstd_level": ZSTD_FALLBACK_LEVEL,
        "quantize": QUANTIZER_LLM if uses_llm(level) else QUANTIZER,
    }
    if not uses_llm(level) and components is None and tiling is None:
        cm, chunk_size = _CM_LEVELS[level]
        config["cm"] = {"name": names.CM, **copy.deepcopy(cm)}
        config["zstd_level"] = CM_ZSTD_LEVEL
        return config, chunk_size
    if uses_llm(level):
        n_ctx, slide = _LLM_LEVELS[level]
        config["llm"] = {"name": names.LLM, "n_ctx": n_ctx, "slide": slide, "lanes": lanes or LLM_LANES,
                         "shared": LLM_SHARED}
        config["ensemble"] = ensemble_config(ENSEMBLE_DEFAULT if components is None else components)
        _set_tiling(config["ensemble"], tiling)
        # level 3's core beside the LLM: chunks that are mostly not text, and chunks it codes
        # smaller (markup, tables, numbers), go to it (nczip/methods/policy.py)
        config["cm"] = {"name": names.CM, **copy.deepcopy(_CM_LEVELS[3][0])}
    else:
        if components is not None:
            ssm = (ssm or SSM_CONFIG) if "ssm" in components else None
            components = [c for c in components if c != "ssm"]
        tokens: dict[str, Any] = {"name": names.COMPACT,
                                  "ensemble": ensemble_config(FAST_DEFAULT if components is None else components),
                                  "new_types": dict(NEW_TYPES)}
        tokens["ensemble"].get("mixer", {}).pop("tau_lr", None)  # no temperature on the SSM (compact.py)
        if ssm:
            tokens["ssm"] = copy.deepcopy(ssm)
        _set_tiling(tokens["ensemble"], tiling)
        config["tokens"] = tokens
    return config, chunk_size
