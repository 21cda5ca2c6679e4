"""Ratio and speed of an LLM level against the number of lanes (and workers, and a competing load).

Each run compresses one input in this process (``compress_stream``: the real codec, lanes
scheduled by :mod:`nczip.methods.policy`), optionally decompresses and checks it, and records bytes,
seconds, tokens/s and bytes/s each way. ``--min-lane`` overrides the shortest lane the encoder
cuts (default: nczip's 16 KiB), so small inputs can show many lanes; ``--shared 0`` gives every
lane its own online models; ``--load`` runs N CPU-bound processes beside the measurement.

Usage: python3 -m bench.lanes FILE [--bytes N] [--level 9] [--lanes 1,4,16] [--workers 1]
       [--decode] [--min-lane BYTES] [--shared 1] [--load 0] [--out bench/published/lanes-….json]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import time
from pathlib import Path

import nczip.methods.tokens
import nczip.levels
from nczip import compress_stream, decompress_stream

from .machine import describe, gpus


def _spin() -> None:  # a competing CPU-bound process
    while True:
        pass


def run(data: bytes, level: int, lanes: int, workers: int, decode: bool, chunk_size: int | None) -> dict:
    started = time.perf_counter()
    out = io.BytesIO()
    summary = compress_stream(io.BytesIO(data), out, level=level, threads=workers, lanes=lanes,
                              chunk_size=chunk_size)
    encode_s = time.perf_counter() - started
    row = {"level": level, "lanes": lanes, "workers": workers, "bytes_in": len(data), "bytes_out": len(out.getvalue()),
           "bpb": round(8 * len(out.getvalue()) / len(data), 4), "tokens": summary.tokens,
           "encode_s": round(encode_s, 1), "encode_Bps": round(len(data) / encode_s, 1),
           "encode_tokps": round(summary.tokens / encode_s, 1)}
    if decode:
        started = time.perf_counter()
        back = io.BytesIO()
        decompress_stream(io.BytesIO(out.getvalue()), back, threads=workers)
        decode_s = time.perf_counter() - started
        if back.getvalue() != data:
            raise SystemExit("round trip FAILED")
        row.update(decode_s=round(decode_s, 1), decode_Bps=round(len(data) / decode_s, 1))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--bytes", type=int, default=None, help="use the first N bytes")
    parser.add_argument("--level", type=int, default=9)
    parser.add_argument("--lanes", default="1,4,16")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--decode", action="store_true")
    parser.add_argument("--min-lane", type=int, default=None)
    parser.add_argument("--shared", type=int, default=1)
    parser.add_argument("--load", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    data = Path(args.file).read_bytes()[:args.bytes]
    if args.min_lane:
        nczip.methods.tokens.MIN_LANE_BYTES = args.min_lane
    nczip.levels.LLM_SHARED = bool(args.shared)
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for p in spinners:
        p.start()
    rows = []
    try:
        for workers in (int(w) for w in args.workers.split(",")):
            for lanes in (int(b) for b in args.lanes.split(",")):
                row = run(data, args.level, lanes, workers, args.decode, args.chunk_size)
                row.update(min_lane=nczip.methods.tokens.MIN_LANE_BYTES, shared=bool(args.shared), load=args.load)
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        for p in spinners:
            p.terminate()
    record = {"command": "python3 -m bench.lanes " + " ".join(os.sys.argv[1:]), "date": time.strftime("%Y-%m-%d %H:%M"),
              "file": args.file, "machine": describe([], gpus()), "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
