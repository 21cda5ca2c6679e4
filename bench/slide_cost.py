"""Cost of a native KV-cache slide against re-evaluating the kept window (issue 5's question).

Run: python -m bench.slide_cost [--n-ctx 2048 --slide 512]. Feeds alice29.txt token by token
through the LLM predictor until the window is full, then times: an ordinary one-token decode, the
slide itself (``llama_memory_seq_rm`` + ``llama_memory_seq_add``), the first decode after it, and
re-evaluating the kept tokens from scratch (what a window without KV editing would cost, one token
per call as the decoder must run).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from nczip.models import default_model
from nczip.predictors.llm import LlamaModel, LlmPredictor, threads_per_worker

ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--slide", type=int, default=512)
    args = parser.parse_args()
    model = LlamaModel.load(default_model().path)
    tokens = model.tokenize(ALICE.read_bytes())[: args.n_ctx + 64]
    llm = LlmPredictor(model, n_ctx=args.n_ctx, slide=args.slide, threads=threads_per_worker(1))
    normal = []
    for i, token in enumerate(tokens[: args.n_ctx - 1]):
        started = time.perf_counter()
        llm.predict()
        if i >= args.n_ctx - 33:
            normal.append(time.perf_counter() - started)
        llm.update(token)
    llm.predict()  # position n_ctx - 1: the window is now full
    started = time.perf_counter()
    llm._slide_window()
    edit = time.perf_counter() - started
    llm._pending = []
    started = time.perf_counter()
    llm._decode([tokens[args.n_ctx - 1]])
    after = time.perf_counter() - started
    llm.close()
    kept = args.n_ctx - args.slide
    fresh = LlmPredictor(model, n_ctx=args.n_ctx, slide=args.slide, threads=threads_per_worker(1))
    started = time.perf_counter()
    for token in tokens[:kept]:
        fresh.update(token)
        fresh.predict()
    reeval = time.perf_counter() - started
    fresh.close()
    per_token = statistics.median(normal)
    print(f"n_ctx {args.n_ctx}, slide {args.slide}: one-token decode at full depth {per_token * 1e3:.1f} ms; "
          f"KV edit {edit * 1e3:.2f} ms; first decode after the slide {after * 1e3:.1f} ms "
          f"(+{(after - per_token) * 1e3:.1f} ms); re-evaluating the {kept} kept tokens {reeval:.2f} s "
          f"-> a slide costs {(edit + after - per_token) / reeval * 100:.2f}% of a re-evaluation")


if __name__ == "__main__":
    main()
