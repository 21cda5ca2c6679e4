"""Time to the first bytes, and peak memory, of ``nczip -dc FILE | head -c N`` (issue 27).

``python -m bench.first_byte FILE.ncz --bytes 100 -T 2`` starts ``nczip -d -c -T 2 FILE.ncz``,
reads ``--bytes`` bytes of its output, records when they arrived, then closes the pipe as
``head`` does and records when nczip exited (a well-behaved decoder stops at the broken pipe) and
with what status, and the peak resident set of its processes (bench.memory's sampler: the
largest one process, GNU time's %M, and the largest sum over the tree). Prints one JSON line;
``--out`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import machine
from .memory import Measured


def run(path: Path, size: int, threads: int) -> dict[str, Any]:
    with open(path, "rb") as src:
        proc = Measured(["-d", "-c", "-T", str(threads)], src, subprocess.PIPE)
        assert proc.proc.stdout
        got = b""
        while len(got) < size:
            block = proc.proc.stdout.read1(size - len(got))  # type: ignore[attr-defined]
            if not block:
                break
            got += block
        first = time.monotonic() - proc.started
        proc.proc.stdout.close()  # what head does once it has its bytes
        status = proc.wait()
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "file": str(path), "file_bytes": path.stat().st_size, "wanted": size, "got": len(got),
            "threads": threads, "seconds_to_bytes": round(first, 3), "exit_status": status,
            "machine": machine.describe([], []), **proc.report()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_byte", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--bytes", type=int, default=100)
    parser.add_argument("-T", "--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = run(args.file, args.bytes, args.threads)
    line = json.dumps(result)
    print(line)
    if args.out:
        args.out.write_text(line + "\n")
    return 0 if result["got"] == args.bytes else 1


if __name__ == "__main__":
    sys.exit(main())
