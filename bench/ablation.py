"""``--ablation``: the nczip predictor set with one component switched off at a time.

A variant is only a name and the extra nczip command-line arguments that switch the component off,
so nczip needs no bench-only switches and every variant is something a user can run. The
description below is the intent; what a variant really is gets read back from the container it
wrote (level, chunk size, predictor configuration) and the report prints how each differs from
the baseline, so a stale description cannot pass unnoticed.

Today nczip has one predictor (``bytes-ppm/1``, byte contexts of order 0..max_order) and chunking,
so the components that can be switched off with existing options are the high context orders
(a lower level's model, at the baseline's chunk size) and context across 64 KiB (small chunks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .compressors import Compressor, nczip


@dataclass(frozen=True)
class Variant:
    name: str
    switched_off: str  # what this variant removes from the baseline, in words
    args: tuple[str, ...]  # nczip arguments (level first)


BASELINE = Variant("full", "nothing (the level-3 predictor set)", ("-3",))

VARIANTS: tuple[Variant, ...] = (
    BASELINE,
    Variant("no-order-5", "order-5 byte contexts (level 2's model at level 3's chunk size)", ("-2", "--chunk-size", "4M")),
    Variant("no-order-4-5", "order-4 and -5 byte contexts (level 1's model)", ("-1", "--chunk-size", "4M")),
    Variant("no-long-context", "context beyond 64 KiB (64 KiB chunks)", ("-3", "--chunk-size", "64K")),
    # A later component adds one line here, e.g. once the online SSM has an off switch:
    # Variant("no-ssm", "the online SSM predictor", ("-3", "--predictor-off", "ssm")),
)

#: The LLM level's ensemble (nczip/predictors/mixer.py), one component added at a time through
#: nczip's expert option --with, then the default set. Each row is a full LLM run: on a CPU
#: `python -m bench.ensemble` gives the same table from one LLM pass.
LLM_VARIANTS: tuple[Variant, ...] = (
    Variant("default", "nothing (level 9's default ensemble)", ("-9",)),
    Variant("llm-alone", "every online model (the LLM alone)", ("-9", "--with", "none")),
    Variant("+ngram", "all but n-grams with fixed weights", ("-9", "--with", "ngram")),
    Variant("+match", "bias head and mixer learning", ("-9", "--with", "ngram,match")),
    Variant("+bias", "mixer learning", ("-9", "--with", "ngram,match,bias")),
    Variant("+mixer", "skip", ("-9", "--with", "ngram,match,bias,mixer")),
    Variant("+skip", "nothing (every component on)", ("-9", "--with", "ngram,match,bias,mixer,skip")),
)
GROUPS = {"fast": VARIANTS, "llm": LLM_VARIANTS}


def label(variant: Variant) -> str:
    return f"nczip[{variant.name}]"


def compressors(threads: int, variants: tuple[Variant, ...] = VARIANTS) -> list[Compressor]:
    """One nczip compressor per variant, labelled ``nczip[name]``."""
    return [nczip(label(v), v.args, threads, note=f"off: {v.switched_off}") for v in variants]


def describe(variants: tuple[Variant, ...] = VARIANTS) -> list[dict[str, Any]]:
    """The variants for the JSON and the report (the first is the baseline)."""
    return [{"compressor": label(v), "name": v.name, "switched_off": v.switched_off, "args": list(v.args)}
            for v in variants]


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"predictor": {"max_order": 5}}`` -> ``{"predictor.max_order": 5}``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differences(baseline: dict[str, Any] | None, variant: dict[str, Any] | None) -> str:
    """How a variant's container settings differ from the baseline's, e.g. ``predictor.max_order 5->4``."""
    if baseline is None or variant is None:
        return "unknown (no container read back)"
    base, other = flatten(baseline), flatten(variant)
    changed = [f"{key} {base.get(key, '-')}->{other.get(key, '-')}" for key in sorted(set(base) | set(other))
               if base.get(key) != other.get(key)]
    return ", ".join(changed) or "same as the baseline"
