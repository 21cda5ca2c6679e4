"""Ratio and speed against chunk size (issue 15): ``python -m bench.chunk_sizes FILE --level 3
--sizes 2M,8M,32M --workers 1,2 [--decode] [--out JSON]``.

Each run is the CLI as a user runs it (``python -m nczip -L --chunk-size S -T W -c FILE``), one
after another on the same machine, timed by wall clock with the interpreter's start included.
Bigger chunks let the models learn from more of the input; smaller ones give workers chunks to
share. Memory is reported as the peak RSS of the whole process tree (GNU time, children included
when workers run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def _timed(argv: list[str], stdin: Path | None, stdout: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, the largest process of the tree) of one command."""
    started = time.perf_counter()
    with open(stdout, "wb") as out, tempfile.NamedTemporaryFile("r") as rss:
        src = open(stdin, "rb") if stdin else subprocess.DEVNULL
        try:
            subprocess.run(["/usr/bin/time", "-o", rss.name, "-f", "%M", *argv], stdin=src, stdout=out, check=True)
        finally:
            if stdin:
                src.close()
        peak = int(rss.read().split()[-1])
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--level", type=int, default=3)
    parser.add_argument("--sizes", default="2M,8M,32M")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--decode", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    length = args.file.stat().st_size
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        packed, back = Path(tmp) / "packed.ncz", Path(tmp) / "back"
        for size in args.sizes.split(","):
            for workers in args.workers.split(","):
                nczip = [sys.executable, "-m", "nczip"]
                seconds, rss = _timed([*nczip, f"-{args.level}", "--chunk-size", str(_size(size)), "-T", workers,
                                       "-c", str(args.file)], None, packed)
                row = {"chunk_size": size, "workers": int(workers), "compressed": packed.stat().st_size,
                       "bpb": round(8 * packed.stat().st_size / length, 4), "compress_s": round(seconds, 2),
                       "compress_kb_s": round(length / seconds / 1000, 1), "compress_peak_rss_mib": round(rss / 1024)}
                if args.decode:
                    seconds, rss = _timed([*nczip, "-d", "-T", workers, "-c"], packed, back)
                    row.update(decompress_s=round(seconds, 2), decompress_kb_s=round(length / seconds / 1000, 1),
                               decompress_peak_rss_mib=round(rss / 1024),
                               round_trip=back.read_bytes() == args.file.read_bytes())
                print(json.dumps(row), flush=True)
                rows.append(row)
    document = {"file": str(args.file), "bytes": length, "level": args.level, "date": time.strftime("%Y-%m-%d %H:%M"),
                "command": " ".join(sys.argv), "rows": rows}
    if args.out:
        args.out.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
