"""Fast-level A/B in one process: phrase tilings (issue 8) or SSM components (issue 7), ideal sizes.

Run: ``python -m bench.components --file F [--file G ...] [--level 1] [--group tiling|ssm] [--json OUT]``.

Group ``tiling``: the same fast-level models with no phrases, Fibonacci, period-5 and no tiling.
Group ``ssm`` (use ``--level 3``): the level's full set, without the SSM, the SSM with the type
counts only, and the counts alone (the frequency baseline).

Each file is one chunk (the claim under test is that the Fibonacci hierarchy's advantage grows
with the input, so the models must see all of it). The figure per variant is the ideal code
length of the chunk's symbol stream under the level's token models (``-sum log2 q``; the range
coder adds ~0.01 % at these levels, see ``nczip -v``), plus, per hierarchy level, how many tokens
that level predicted as the deepest active match and how many of those came true: where the
hierarchy finds its long repeats. The real codec round trip of ``--tiling`` is pinned by the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from nczip.config import parse as parse_config
from nczip.levels import level_config, token_components
from nczip.models import default_model
from nczip.predictors import build_predictor
from nczip.predictors.compact import CompactTokenModel
from nczip.predictors.llm import LlamaModel
from nczip.tokens import segment, to_compact_symbols

#: name -> (components, tiling); None = the level's former token models (levels.token_components)
GROUPS: dict[str, dict[str, tuple[list[str] | None, str | None]]] = {
    "tiling": {"no-phrases": (None, None), "fibonacci": (None, "fibonacci"), "period5": (None, "period5"),
               "none": (None, "none")},
    "ssm": {"full": (None, None), "no-ssm": (["ngram", "bias", "mixer"], None), "ssm+counts": (["ssm"], None),
            "counts": ([], None)},
}


def run_one(data: bytes, level: int, variant: str, spec: tuple[list[str] | None, str | None],
            vocab: LlamaModel) -> dict[str, Any]:
    components = spec[0] if spec[0] is not None else token_components(level)  # not the cm core: tokens
    config = parse_config(level_config(level, components, spec[1])[0])
    assert config.tokens is not None
    segments = segment(data, vocab.tokenize, vocab.pieces())
    symbols = to_compact_symbols(segments)
    model = CompactTokenModel(vocab.codable(), build_predictor(config.predictor),
                              any(s.tokens is None for s in segments), config.tokens)
    bits = 0.0
    started = time.monotonic()
    for symbol in symbols:
        p = model.predict()
        bits -= math.log2(float(p[symbol]) / float(np.cumsum(p)[-1]))
        model.update(symbol)
    seconds = time.monotonic() - started
    row: dict[str, Any] = {"variant": variant, "bits": bits, "bytes": bits / 8, "bpb": bits / max(1, len(data)),
                           "seconds": seconds, "tokens": model.tokens}
    phrase: Any = model.mixer.stage("phrase")  # the phrase stage's own counters, when it is on
    if phrase is not None:
        row["level_tries"] = phrase.tries.tolist()
        row["level_hits"] = phrase.hits.tolist()
        row["codebook_entries"] = [len(book) for book in phrase._books]
    return row


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["| input | bytes | variant | ideal bytes | bpb | vs first row | vs fibonacci | s |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for result in results:
        rows = {row["variant"]: row for row in result["rows"]}
        base, fib = result["rows"][0], rows.get("fibonacci")
        for row in result["rows"]:
            vs_base = f"{row['bytes'] - base['bytes']:+,.0f}"
            vs_fib = f"{row['bytes'] - fib['bytes']:+,.0f}" if fib else ""
            lines.append(f"| {result['file']} | {result['input_bytes']:,} | {row['variant']} | {row['bytes']:,.0f} | "
                         f"{row['bpb']:.4f} | {vs_base} | {vs_fib} | {row['seconds']:.0f} |")
    lines += ["", "Deepest active level per token (predictions / correct), by hierarchy level 0-9 "
              "(phrase lengths 2, 3, 5, ..., 144 tokens):", ""]
    for result in results:
        for row in result["rows"]:
            if "level_tries" in row:
                cells = ", ".join(f"{t}/{h}" for t, h in zip(row["level_tries"], row["level_hits"]))
                lines.append(f"- {result['file']} {row['variant']}: {cells}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", action="append", required=True, help="input file (repeatable)")
    parser.add_argument("--level", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--group", default="tiling", choices=sorted(GROUPS))
    parser.add_argument("--variants", help="comma-separated subset of the group's variants")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    vocab = LlamaModel.load(default_model().path, vocab_only=True)
    results = []
    for path in args.file:
        data = Path(path).read_bytes()
        rows = []
        group = GROUPS[args.group]
        for variant in args.variants.split(",") if args.variants else group:
            rows.append(run_one(data, args.level, variant, group[variant], vocab))
            print(f"{Path(path).name} {variant}: {rows[-1]['bytes']:,.0f} B ideal, {rows[-1]['seconds']:.0f} s",
                  flush=True)
        results.append({"file": Path(path).name, "input_bytes": len(data), "level": args.level, "rows": rows})
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
    print(markdown(results))


if __name__ == "__main__":
    main()
