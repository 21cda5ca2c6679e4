"""``--ablation``: the nczip predictor set with one component switched off at a time.

A variant is only a name and the extra nczip command-line arguments that switch the component off,
so nczip needs no bench-only switches and every variant is something a user can run. The
description below is the intent; what a variant really is gets read back from the container it
wrote (level, chunk size, predictor configuration) and the report prints how each differs from
the baseline, so a stale description cannot pass unnoticed.

The fast levels' token models (``nczip -3``: type counts, n-gram tables, bias head, learned
mixing and the online SSM) are switched with nczip's expert option ``--with``; the phrase
hierarchy with ``--tiling``.
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


BASELINE = Variant("full", "nothing (level 3: counts, n-grams, bias head, mixer, SSM)", ("-3",))

VARIANTS: tuple[Variant, ...] = (
    BASELINE,
    Variant("no-ssm", "the online SSM", ("-3", "--with", "ngram,bias,mixer")),
    Variant("ssm+counts", "n-grams, bias head and mixer learning", ("-3", "--with", "ssm")),
    Variant("counts", "everything but the types' counts (the frequency baseline)", ("-3", "--with", "none")),
    Variant("+phrases", "nothing; adds the Fibonacci phrase hierarchy", ("-3", "--tiling", "fibonacci")),
)

#: The phrase hierarchy's tilings (issue 8), on level 1's models in one chunk per file.
TILING_VARIANTS: tuple[Variant, ...] = (
    Variant("no-phrases", "the phrase hierarchy", ("-1", "--chunk-size", "64M")),
    Variant("fibonacci", "nothing (Fibonacci tiling)", ("-1", "--chunk-size", "64M", "--tiling", "fibonacci")),
    Variant("period5", "the quasi-periodic tiling (period-5 instead)", ("-1", "--chunk-size", "64M", "--tiling", "period5")),
    Variant("none", "any tiling (every position at every level)", ("-1", "--chunk-size", "64M", "--tiling", "none")),
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
GROUPS = {"fast": VARIANTS, "llm": LLM_VARIANTS, "tiling": TILING_VARIANTS}


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
