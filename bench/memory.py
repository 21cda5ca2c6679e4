"""Peak memory of nczip on inputs generated on the fly (docs/memory.md).

``python -m bench.memory random --mb 1024 -T 2`` pipes 1 GiB of seeded random bytes (nothing on
disk) through ``nczip -1 -c`` straight into ``nczip -d -c`` and compares the SHA-256 of what went in
with what came out; ``python -m bench.memory text --mb 100 -T 2`` compresses 100 MB of generated text
into a temporary file, then decompresses it (so the two times are separate). Both report, for the
compressor and the decompressor, the largest resident set of any one process of its tree (what
GNU time's %M says), the largest sum over the tree at one instant (the parent and its workers, by
sampling /proc every 0.1 s; RSS counts pages a forked worker shares with its parent twice, PSS
shares them), and the wall time.

The text is words drawn independently with the frequencies they have in corpora/alice29.txt
(whitespace-separated, so punctuation stays attached), a seeded RNG, a line break every 12 words:
unigram English, neither trivially repetitive nor noise.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Run as ``python -c``: writes ``size`` bytes to stdout, then their SHA-256 to stderr.
_GENERATOR = r"""
import hashlib, random, sys
kind, size, seed, corpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
out = sys.stdout.buffer
digest = hashlib.sha256()
left = size
if kind == "text":
    counts = {}
    for word in open(corpus, "rb").read().split():
        counts[word] = counts.get(word, 0) + 1
    words = sorted(counts)
    cum, total = [], 0
    for word in words:
        total += counts[word]
        cum.append(total)
while left > 0:
    if kind == "random":
        block = rng.randbytes(1 << 20)
    else:
        drawn = rng.choices(words, cum_weights=cum, k=120000)
        block = b"\n".join(b" ".join(drawn[i:i + 12]) for i in range(0, len(drawn), 12)) + b"\n"
    block = block[:left]
    digest.update(block)
    out.write(block)
    left -= len(block)
out.flush()
sys.stderr.write(digest.hexdigest() + "\n")
"""


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc's children lists."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


def _status_kib(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in keys:
                    values[name] = int(rest.split()[0])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    values["Pss"] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return values


class Sampler(threading.Thread):
    """Samples a process tree's memory until stopped."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stopped = threading.Event()
        self.hwm: dict[int, int] = {}  # per process: its own high-water mark (VmHWM), KiB
        self.max_sum_rss = self.max_sum_pss = self.max_processes = 0

    def run(self) -> None:
        while not self.stopped.is_set():
            rss = pss = 0
            pids = _tree(self.pid)
            for p in pids:
                v = _status_kib(p, ("VmRSS", "VmHWM"))
                if "VmHWM" in v:
                    self.hwm[p] = max(self.hwm.get(p, 0), v["VmHWM"])
                rss += v.get("VmRSS", 0)
                pss += v.get("Pss", 0)
            self.max_sum_rss = max(self.max_sum_rss, rss)
            self.max_sum_pss = max(self.max_sum_pss, pss)
            self.max_processes = max(self.max_processes, len(pids))
            self.stopped.wait(self.interval)


def _mib(kib: float) -> float:
    return round(kib / 1024, 1)


class Measured:
    """A started nczip process, its sampler, and what wait4 says at its end."""

    def __init__(self, args: list[str], stdin: Any, stdout: Any) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "nczip", *args], stdin=stdin, stdout=stdout,
                                     cwd=ROOT)
        self.sampler = Sampler(self.proc.pid)
        self.sampler.start()
        self.seconds = 0.0
        self.maxrss_kib = 0
        self.args = args

    def wait(self) -> int:
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.seconds = time.monotonic() - self.started
        self.sampler.stopped.set()
        self.sampler.join()
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.maxrss_kib = usage.ru_maxrss  # max over the process and the workers it waited for
        return self.proc.returncode

    def report(self) -> dict[str, Any]:
        s = self.sampler
        own = s.hwm.get(self.proc.pid, 0)
        workers = [v for p, v in s.hwm.items() if p != self.proc.pid]
        return {"args": " ".join(self.args), "seconds": round(self.seconds, 1),
                "peak_rss_mib": _mib(self.maxrss_kib),  # GNU time %M
                "parent_hwm_mib": _mib(own), "worker_hwm_mib": [_mib(v) for v in sorted(workers)],
                "max_tree_rss_mib": _mib(s.max_sum_rss), "max_tree_pss_mib": _mib(s.max_sum_pss)}


def _generator(kind: str, size: int, seed: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _GENERATOR, kind, str(size), str(seed),
                             str(ROOT / "corpora" / "alice29.txt")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run(kind: str, size: int, level: int, threads: int, chunk_size: int | None, seed: int,
        pipeline: bool) -> dict[str, Any]:
    extra = ["--chunk-size", str(chunk_size)] if chunk_size else []
    gen = _generator(kind, size, seed)
    out_digest = hashlib.sha256()
    out_length = compressed = 0
    if pipeline:
        comp = Measured([f"-{level}", "-c", "-T", str(threads), *extra], gen.stdout, subprocess.PIPE)
        decomp = Measured(["-d", "-c", "-T", str(threads)], subprocess.PIPE, subprocess.PIPE)

        assert comp.proc.stdout and decomp.proc.stdin and decomp.proc.stdout
        packed, sink, unpacked = comp.proc.stdout, decomp.proc.stdin, decomp.proc.stdout

        def forward() -> None:
            nonlocal compressed
            while block := packed.read(1 << 20):
                compressed += len(block)
                sink.write(block)
            sink.close()

        copier = threading.Thread(target=forward, daemon=True)
        copier.start()
        while block := unpacked.read(1 << 20):
            out_digest.update(block)
            out_length += len(block)
        copier.join()
        comp.wait()
        decomp.wait()
    else:
        with tempfile.NamedTemporaryFile(prefix="nczip-memory-", suffix=".ncz", dir="/tmp") as tmp:
            comp = Measured([f"-{level}", "-c", "-T", str(threads), *extra], gen.stdout, tmp)
            comp.wait()
            compressed = os.fstat(tmp.fileno()).st_size
            tmp.seek(0)
            decomp = Measured(["-d", "-c", "-T", str(threads)], tmp, subprocess.PIPE)
            assert decomp.proc.stdout
            while block := decomp.proc.stdout.read(1 << 20):
                out_digest.update(block)
                out_length += len(block)
            decomp.wait()
    gen.wait()
    assert gen.stderr
    in_digest = gen.stderr.read().decode().strip()
    ok = (comp.proc.returncode == 0 and decomp.proc.returncode == 0 and in_digest == out_digest.hexdigest())
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "input": kind,
            "bytes": size, "level": level, "threads": threads, "chunk_size": chunk_size, "seed": seed,
            "compressed_bytes": compressed, "round_trip": "OK" if ok else "FAILED",
            "sha256": in_digest, "compress": comp.report(), "decompress": decomp.report()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", choices=("random", "text"))
    parser.add_argument("--mb", type=float, required=True, help="input size in MiB (random) or MB (text)")
    parser.add_argument("-T", "--threads", type=int, default=1)
    parser.add_argument("--level", type=int, default=1)
    parser.add_argument("--chunk-size", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pipeline", action="store_true",
                        help="compress into decompress directly (default for random input)")
    args = parser.parse_args(argv)
    size = int(args.mb * (1 << 20 if args.input == "random" else 10**6))
    result = run(args.input, size, args.level, args.threads, args.chunk_size, args.seed,
                 args.pipeline or args.input == "random")
    print(json.dumps(result))
    return 0 if result["round_trip"] == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
