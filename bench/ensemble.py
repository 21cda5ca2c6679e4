"""Ensemble ablation in one LLM pass: every variant of the token mixer on the same LLM log-probs.

Run: ``python -m bench.ensemble [--file F] [--slice 1M] [--level 9] [--json OUT]``.

The LLM dominates the cost (one-token calls, ~150 tokens/s on 2 cores) while the online models are
cheap, so instead of compressing once per variant we run the LLM once and feed its log-probs to
one :class:`~nczip.predictors.mixer.TokenMixer` per variant. Each variant's figure is its ideal
code length (-sum log2 q) over the tokens; the range coder adds ~0.1 % to that at the LLM levels
(see the main bench), and the full configuration's real round trip is checked by ``python -m bench``.

Skip variants are evaluated the same way: when a variant's mixer skips the LLM it gets no
log-probs for that token. In the real codec the LLM then catches up in one batch, whose logits
differ slightly from one-token logits, so skip figures here are close estimates of ratio; its
speed is measured by the real codec (``python -m bench --ablation llm``).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from nczip.config import Ensemble
from nczip.levels import ENSEMBLE_DEFAULT, ensemble_config, level_config
from nczip.models import default_model
from nczip.predictors.llm import LlamaModel, LlmPredictor, threads_per_worker
from nczip.predictors.mixer import TokenMixer
from nczip.tokens import segment

ROOT = Path(__file__).resolve().parent.parent


#: (row name, components on): LLM alone, each component added in turn, then the default set
#: with each of its components removed. A new component adds its name to ENSEMBLE_COMPONENTS
#: and one row here.
VARIANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("llm alone", ()),
    ("+ ngram (fixed weights)", ("ngram",)),
    ("+ match", ("ngram", "match")),
    ("+ bias head", ("ngram", "match", "bias")),
    ("+ mixer learning", ("ngram", "match", "bias", "mixer")),
    ("+ skip", ("ngram", "match", "bias", "mixer", "skip")),
    ("default", ENSEMBLE_DEFAULT),
    ("default + ssm", (*ENSEMBLE_DEFAULT, "ssm")),
    ("default - ngram", tuple(c for c in ENSEMBLE_DEFAULT if c != "ngram")),
    ("default - bias head", tuple(c for c in ENSEMBLE_DEFAULT if c != "bias")),
    ("default - mixer learning", tuple(c for c in ENSEMBLE_DEFAULT if c != "mixer")),
)


def variants() -> dict[str, dict[str, Any]]:
    return {name: ensemble_config(components) for name, components in VARIANTS}


def tokens_of(data: bytes, model: LlamaModel) -> list[int]:
    return [t for seg in segment(data, model.tokenize, model.pieces()) if seg.tokens for t in seg.tokens]


def run(data: bytes, level: int, selected: list[str] | None = None, progress: bool = True,
        threads: int = 0) -> dict[str, Any]:
    config, _ = level_config(level)
    full = config.get("ensemble", {})
    assert "llm" in config, "the ensemble bench runs at the LLM levels (4-9)"
    table = variants()
    if selected:
        table = {k: v for k, v in table.items() if k in selected}
    model = LlamaModel.load(default_model().path)
    tokens = tokens_of(data, model)
    llm_cfg = config["llm"]
    llm = LlmPredictor(model, n_ctx=llm_cfg["n_ctx"], slide=llm_cfg["slide"], threads=threads or threads_per_worker(1))
    mixers = {name: TokenMixer(llm.codable, Ensemble.parse(cfg, name)) for name, cfg in table.items()}
    bits = dict.fromkeys(table, 0.0)
    seconds = dict.fromkeys(table, 0.0)
    llm_seconds = 0.0
    started = time.monotonic()
    for i, token in enumerate(tokens):
        t0 = time.perf_counter()
        log_probs = llm.predict()
        llm_seconds += time.perf_counter() - t0
        for name, mixer in mixers.items():
            t0 = time.perf_counter()
            q = mixer.predict(log_probs if mixer.wants_llm() else None)
            bits[name] -= math.log2(max(float(q[token]) / float(np.cumsum(q)[-1]), 1e-300))
            mixer.update(token)
            seconds[name] += time.perf_counter() - t0
        llm.update(token)
        if progress and i % 2000 == 1999:
            rate = (i + 1) / (time.monotonic() - started)
            print(f"  {i + 1}/{len(tokens)} tokens, {rate:.0f}/s, "
                  f"llm alone {bits.get('llm alone', 0) / (i + 1):.3f} bits/token", flush=True)
    llm.close()
    n = max(1, len(tokens))
    text_bytes = sum(len(model.pieces()[t]) for t in tokens)
    rows = []
    for name in table:
        rows.append({
            "variant": name, "bits": bits[name], "bytes": bits[name] / 8, "bpb": bits[name] / max(1, text_bytes),
            "us_per_token": 1e6 * seconds[name] / n, "skipped_fraction": mixers[name].skipped / n,
        })
    return {"level": level, "tokens": len(tokens), "text_bytes": text_bytes, "input_bytes": len(data),
            "llm_us_per_token": 1e6 * llm_seconds / n, "variants": rows, "ensemble": full}


def markdown(result: dict[str, Any]) -> str:
    base = result["variants"][0]["bits"]
    lines = [f"{result['tokens']} tokens ({result['text_bytes']} bytes of text), level {result['level']}, "
             f"LLM {result['llm_us_per_token']:.0f} µs/token",
             "", "| variant | ideal bytes | bpb | vs LLM alone | mixer µs/token | LLM skipped |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["variants"]:
        lines.append(f"| {row['variant']} | {row['bytes']:,.0f} | {row['bpb']:.4f} | "
                     f"{100 * (row['bits'] / base - 1):+.2f}% | {row['us_per_token']:.0f} | "
                     f"{100 * row['skipped_fraction']:.1f}% |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(ROOT / "corpora" / "alice29.txt"))
    parser.add_argument("--slice", type=int, default=0, help="first N bytes only")
    parser.add_argument("--level", type=int, default=9)
    parser.add_argument("--variants", default="", help="comma-separated subset")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (default: all cores)")
    args = parser.parse_args()
    data = Path(args.file).read_bytes()
    if args.slice:
        data = data[: args.slice]
    result = run(data, args.level, [v for v in args.variants.split(",") if v] or None, threads=args.threads)
    result["file"] = args.file
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
