"""The measuring half of ``bench/gpu_check.sh`` (run there after the GPU build is installed).

Level 9 on the GPU: one file compressed (lanes as the level has them, 64 at most per chunk),
decoded twice, both decodes compared with the input and with each other; then the LLM alone,
tokens per second at 1, 16, 64 and 256 lanes (one batched llama_decode per step, as the codec
runs it), each measurement cut short to fit ``--seconds``. Writes one JSON with the machine, the
GPU (nvidia-smi) and the commands.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .machine import describe, gpus

ROOT = Path(__file__).resolve().parent.parent
ENWIK = ROOT.parent / "shared" / "corpora" / "enwik" / "enwik8_first1M"


def _nczip(*args: str, data: bytes) -> tuple[bytes, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "nczip", *args], input=data, capture_output=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"gpu_check: nczip {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return done.stdout, time.monotonic() - started


def round_trip(data: bytes) -> dict[str, Any]:
    packed, encode = _nczip("-9", "--device", "cuda", "--lanes", "64", "-c", data=data)
    first, decode = _nczip("-d", "-c", data=packed)
    second, decode2 = _nczip("-d", "-c", data=packed)
    return {"bytes": len(data), "compressed": len(packed), "bpb": round(8 * len(packed) / len(data), 4),
            "encode_s": round(encode, 1), "decode_s": round(decode, 1), "decode2_s": round(decode2, 1),
            "exact": first == data, "decodes_agree": first == second,
            "sha256": hashlib.sha256(packed).hexdigest(),
            "command": "nczip -9 --device cuda --lanes 64 -c; nczip -d -c (twice)"}


def tokens_per_second(lanes: int, seconds: float) -> dict[str, Any]:
    """The LLM alone on the GPU: ``lanes`` sequences stepped in lockstep for about ``seconds``."""
    from nczip.models import default_model
    from nczip.predictors.llm import LlamaModel, LlmContext

    model = LlamaModel.load(default_model().path, device="cuda")
    context = LlmContext(model, n_ctx=2048, slide=512, threads=1, lanes=lanes)
    try:
        tokens = steps = 0
        started = time.monotonic()
        while time.monotonic() - started < seconds and steps < 512:
            if steps:  # each lane starts with its BOS queued; then one token each per step
                for lane in context.lanes:
                    lane.update(1000 + (steps * 7 + lane.index) % 20000)
            context.evaluate(list(range(lanes)))
            tokens += lanes
            steps += 1
        elapsed = time.monotonic() - started
    finally:
        context.close()
    return {"lanes": lanes, "steps": steps, "tokens": tokens, "seconds": round(elapsed, 2),
            "tokens_per_s": round(tokens / elapsed, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_check")
    parser.add_argument("--seconds", type=float, default=300.0, help="time left for the measurements")
    parser.add_argument("--install-seconds", type=float, default=0.0)
    parser.add_argument("--tests-status", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.monotonic()
    source = ENWIK if ENWIK.is_file() else ROOT / "corpora" / "alice29.txt"
    data = source.read_bytes()[:1_000_000 if source == ENWIK else None]
    result: dict[str, Any] = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "machine": describe([], gpus()), "install_seconds": args.install_seconds,
                              "pytest_gpu_status": args.tests_status, "input": str(source.name)}
    result["round_trip"] = round_trip(data)
    left = args.seconds - (time.monotonic() - started)
    result["llm_tokens_per_s"] = [tokens_per_second(lanes, max(2.0, left / 5)) for lanes in (1, 16, 64, 256)]
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["round_trip"]))
    print(json.dumps(result["llm_tokens_per_s"]))
    ok = result["round_trip"]["exact"] and result["round_trip"]["decodes_agree"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
