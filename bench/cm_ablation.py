"""What the online SSM adds as one more input of the context-mixing core (issue 15's ablation).

``python -m bench.cm_ablation FILE [--level 3] [--bytes N] [--ssm small|level3] [--decode]``
codes the input with the core alone, then with a byte-level online SSM (nczip/predictors/ssm.py,
the fast levels' former token model, here over the 256 byte values) mixed in as one more input,
and prints sizes and speeds as JSON. The SSM runs in Python one byte at a time, so the second
figure's speed is the price of that schedule, not of the core.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from nczip.config import Ssm, parse
from nczip.levels import SSM_CONFIG, SSM_SMALL, level_config
from nczip.predictors import cm
from nczip.predictors.ssm import from_config


class SsmBytes:
    """The online SSM over bytes, as a :class:`nczip.predictors.cm.ByteModel`."""

    def __init__(self, config: dict) -> None:
        raw = {**config, "shortlist": 257}  # one output class per byte value
        self.ssm = from_config(256, Ssm.parse(raw, "ssm"))
        self.out = np.zeros(256, dtype=np.int32)

    def weights(self) -> np.ndarray:
        p = self.ssm.probs(256)
        np.copyto(self.out, np.maximum(1.0, p * float(1 << 24)), casting="unsafe")
        return self.out

    def update(self, byte: int) -> None:
        self.ssm.update(byte, 256)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--level", type=int, default=3)
    parser.add_argument("--bytes", type=int, default=0, help="only the first N bytes")
    parser.add_argument("--ssm", choices=("small", "level3"), default="small")
    parser.add_argument("--decode", action="store_true", help="also decode the SSM variant and compare")
    args = parser.parse_args()
    data = args.file.read_bytes()
    data = data[:args.bytes] if args.bytes else data
    spec = parse(level_config(args.level)[0]).cm
    assert spec is not None
    rows = []
    started = time.perf_counter()
    alone = cm.encode(data, spec) or data
    rows.append({"variant": "core alone", "bytes": len(alone), "seconds": time.perf_counter() - started})
    ssm_config = SSM_SMALL if args.ssm == "small" else SSM_CONFIG
    started = time.perf_counter()
    mixed = cm.encode_with(data, spec, SsmBytes(ssm_config))
    row = {"variant": f"core + byte SSM ({args.ssm}: dm {ssm_config['dm']})", "bytes": len(mixed),
           "seconds": time.perf_counter() - started}
    if args.decode:
        started = time.perf_counter()
        row["round_trip"] = cm.decode_with(mixed, len(data), spec, SsmBytes(ssm_config)) == data
        row["decode_seconds"] = time.perf_counter() - started
    rows.append(row)
    for r in rows:
        r["bpb"] = round(8 * r["bytes"] / len(data), 4)
        r["kb_per_s"] = round(len(data) / r["seconds"] / 1000, 1)
    print(json.dumps({"file": str(args.file), "input_bytes": len(data), "level": args.level, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
