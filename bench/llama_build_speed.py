"""Tokens per second of the LLM predictor under the installed llama.cpp build (pinned vs native).

Runs level 9's LLM settings (2,048-token window, slide 256, one token per ``llama_decode``, the
log-softmax in nczip's kernels) over the first N tokens of a file, with T llama.cpp threads, and
prints one JSON line with the build's features. To compare builds, run it once per build, e.g. a
native wheel installed into its own directory with ``pip install --target DIR`` and
``PYTHONPATH=DIR``.

Usage: python3 -m bench.llama_build_speed [--file corpora/alice29.txt] [--tokens 4000] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time

from nczip.levels import level_config
from nczip.models import default_model
from nczip.predictors.llm import LlamaModel, LlmPredictor, build_features

from .machine import _cpu_model


def measure(path: str, tokens: int, threads: int) -> dict:
    llm_config = level_config(9)[0]["llm"]
    model = LlamaModel.load(default_model().path)
    ids = model.tokenize(open(path, "rb").read())[:tokens]
    llm = LlmPredictor(model, n_ctx=llm_config["n_ctx"], slide=llm_config["slide"], threads=threads)
    started = time.perf_counter()
    for token in ids:
        llm.predict()
        llm.update(token)
    seconds = time.perf_counter() - started
    llm.close()
    version, features = build_features()
    return {"build": f"llama-cpp-python {version} {' '.join(features)}", "cpu": _cpu_model(), "threads": threads,
            "tokens": len(ids), "seconds": round(seconds, 2), "tokens_per_s": round(len(ids) / seconds, 1),
            "file": path, "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="corpora/alice29.txt")
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(measure(args.file, args.tokens, args.threads)))


if __name__ == "__main__":
    main()
