"""Fuzzing harness: mutated containers of every method either fail in one line or decode exactly.

Bases: small valid containers of every chunk method and level family (stored, zstd, byte model,
compact tokens at levels 1 and 3, LLM tokens at level 4, several chunks, concatenated members).
Mutations: bit flips, byte overwrites, truncation at every frame boundary and at random, extreme
and inconsistent lengths and counts in frame headers (re-signed, so they pass the frame CRC),
shuffled, duplicated and dropped frames, foreign magic, future versions, hostile
configuration values (re-signed headers), and bombs: a re-signed header with an extreme quantizer,
with or without the context-mixing core, and one frame of any method whose few payload bytes claim
up to 256 MiB (nczip/methods; decoded under a 20-second limit, since a bound that held only
after hours would be no bound). Each case is decoded in a worker process under a time
limit (SIGALRM) and an address-space limit; the outcome is one of

- ``exact``: decoded to the original (a flip in the slack of the final range-coder interval);
- ``refused``: a :class:`~nczip.errors.NczError` with a one-line message;
- failures: ``wrong`` (other bytes accepted), ``traceback`` (any other exception, or a message
  with a newline), ``hang`` (over the time limit), ``signal`` (the worker died), ``memory``
  (MemoryError under the limit).

Usage: python3 -m bench.fuzz [--cases 100000] [--seed 1] [--llm-share 0.02] [--timeout 60]
       [--workers 2] [--out docs/fuzz-….json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import signal
import struct
import sys
import time
import zlib
from collections import Counter, deque
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterator

FAILURES = ("wrong", "traceback", "hang", "signal", "memory")
_FRAME = struct.Struct("<BBIII")  # tag, method, original length, payload length, crc32 (container.py)
_MEMORY_LIMIT = 6 << 30  # the LLM, its KV windows and the vocabulary fit well below this


def bases(llm: bool = True) -> dict[str, tuple[bytes, bytes]]:
    """name -> (container, original): one per chunk method and level family."""
    import nczip
    from nczip import Component

    text = (b"It was the best of times, it was the worst of times; it was the age of wisdom.\n" * 3
            + "naïve café — ünïcödé\n".encode())
    rng = random.Random(7)
    binary = bytes(rng.randrange(256) for _ in range(600))
    sparse = bytes(rng.choice([0, 0, 0, 1, 2, 255]) for _ in range(800))
    skewed = bytes(rng.choice([0, 0, 0, 0, 0, 0, 1, 2, 255]) for _ in range(800))  # PPM beats zstd here
    x86 = bytearray()
    for _ in range(200):  # pushes and calls to three functions: each call site has its own offset
        x86 += b"\x55\x89\xe5" + bytes([0xE8]) + ((rng.choice([500, 2000, 3500]) - len(x86) - 8) % 2**32).to_bytes(4, "little")
    x86 = bytes(x86)
    records = b"".join(f"{i:05d}|{1000 + i % 7:04d}|{rng.choice('AB')}|".encode() for i in range(120))
    out = {
        "level1-tokens": (nczip.compress(text, level=1), text),
        "level1-chunks": (nczip.compress(text * 2, level=1, chunk_size=120), text * 2),
        "level3-tokens": (nczip.compress(text, level=3), text),
        "stored": (nczip.compress(binary, level=1), binary),
        "byte-model": (nczip.compress(sparse, level=1), sparse),
        # the former token levels (no core): compact tokens, and the PPM byte model's method
        "tokens": (nczip.compress(text, level=1, components=[Component.NGRAM]), text),
        "ppm": (nczip.compress(skewed, level=1, components=[Component.NGRAM]), skewed),
        "zstd": (nczip.compress(b"abc" * 400, level=1), b"abc" * 400),
        "members": (nczip.compress(b"one\n", level=1) + nczip.compress(b"two\n", level=1), b"one\ntwo\n"),
        "empty": (nczip.compress(b"", level=1), b""),
        # method 7 (x86 calls: E8/E9, a 32-bit offset whose top byte is 00 or FF) and method 8 (records)
        "x86": (nczip.compress(x86, level=1), x86),
        "records": (nczip.compress(records, level=1), records),
    }
    if llm:
        out["level4-llm"] = (nczip.compress(text[:120], level=4), text[:120])
    return out


def _frames(packed: bytes) -> tuple[int, list[tuple[int, int]]]:
    """The header's length and each chunk frame's (start, end) in a one-member container."""
    from nczip.container import read_frames, read_header

    src = io.BytesIO(packed)
    header = read_header(src)
    head_end = src.tell()
    spans = []
    start = head_end
    for item in read_frames(src, header):
        if hasattr(item, "payload"):
            spans.append((start, src.tell()))
        start = src.tell()
    return head_end, spans


def _resign_frame(frame: bytes, method: int | None = None, original: int | None = None,
                  coded: int | None = None) -> bytes:
    tag, m, o, c, crc = _FRAME.unpack(frame[:_FRAME.size])
    head = _FRAME.pack(tag, m if method is None else method, o if original is None else original,
                       c if coded is None else coded, crc)
    return head + struct.pack("<I", zlib.crc32(head)) + frame[_FRAME.size + 4:]


_EXTREMES = (0, 1, 2, 255, 256, 65535, 1 << 20, (1 << 28) - 1, 1 << 28, (1 << 28) + 1, (1 << 31) - 1,
             (1 << 32) - 1)


def _hostile_config(packed: bytes, rng: random.Random) -> bytes:
    from nczip.container import read_header

    src = io.BytesIO(packed)
    header = read_header(src)
    rest = packed[src.tell():]
    config = json.loads(json.dumps(header.config))
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append((node, i))
                walk(value)

    walk(config)
    if paths:
        node, key = rng.choice(paths)
        node[key] = rng.choice([-1, 0, 1, 1 << 40, 10 ** 30, 1e308, float("nan"), "x", None, [], {}, True,
                                [1] * 1000, "llm/9"])
    header.config = config
    try:
        return header.to_bytes() + rest
    except (ValueError, TypeError):
        return packed


_BOMB_CLAIMS = (1 << 16, 1 << 20, 4 << 20, 1 << 28)
_BOMB_PAYLOADS = (0, 1, 8, 64, 111)


def _bomb(packed: bytes, rng: random.Random) -> bytes:
    """A container of the base's header, re-signed with an extreme quantizer (and, half the
    time, without the context-mixing core, which makes the byte model's method legal), and one
    frame of any method whose few payload bytes claim a large output."""
    from nczip.container import MAX_CHUNK_SIZE, ChunkFrame, Trailer, read_header
    from nczip.methods import NAMES

    header = read_header(io.BytesIO(packed))
    config = json.loads(json.dumps(header.config))
    config["quantize"] = rng.choice([1, 2, 3, 3])
    if "cm" in config and rng.random() < 0.5:
        del config["cm"]
    header.config = config
    header.chunk_size = MAX_CHUNK_SIZE
    claim = rng.choice(_BOMB_CLAIMS)
    size = rng.choice(_BOMB_PAYLOADS)
    payload = bytes(size) if rng.random() < 0.5 else bytes(rng.randrange(256) for _ in range(size))
    frame = ChunkFrame(rng.choice(sorted(NAMES) + [9]), claim, rng.randrange(1 << 32), payload)
    return header.to_bytes() + frame.to_bytes() + Trailer(claim, 1, bytes(32)).to_bytes()


def mutate(packed: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One mutation of a container, named by kind."""
    from nczip.container import FORMAT_VERSION

    kind = rng.choice(["flip", "flip", "overwrite", "truncate", "truncate-frame", "length", "length",
                       "shuffle", "duplicate", "drop", "magic", "version", "config", "splice", "bomb"])
    data = bytearray(packed)
    if kind == "flip":
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        return kind, bytes(data)
    if kind == "overwrite":
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return kind, bytes(data)
    if kind == "truncate":
        return kind, packed[:rng.randrange(len(packed))]
    if kind == "magic":
        return kind, bytes(rng.randrange(256) for _ in range(4)) + packed[4:]
    if kind == "version":
        data[4] = rng.choice([0, FORMAT_VERSION + 1, 255])
        return kind, bytes(data)
    if kind == "config":
        return kind, _hostile_config(packed, rng)
    if kind == "bomb":
        return kind, _bomb(packed, rng)
    if kind == "splice":
        cut = rng.randrange(len(packed))
        return kind, packed[:cut] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + packed[cut:]
    try:
        head_end, spans = _frames(packed)
    except Exception:  # noqa: BLE001 - concatenated members: fall back to a flip
        return "flip", bytes(data[:-1]) + bytes([data[-1] ^ 1])
    if not spans:
        return "truncate", packed[:rng.randrange(len(packed))]
    frames = [packed[a:b] for a, b in spans]
    tail = packed[spans[-1][1]:]
    head = packed[:head_end]
    if kind == "truncate-frame":
        cut = rng.choice([a for a, _ in spans] + [b for _, b in spans])
        return kind, packed[:cut + rng.choice([-1, 0, 1, _FRAME.size, _FRAME.size + 4])]
    if kind == "length":
        i = rng.randrange(len(frames))
        field = rng.choice(["original", "coded", "method", "both"])
        value = rng.choice(_EXTREMES)
        if field == "original":
            frames[i] = _resign_frame(frames[i], original=value)
        elif field == "coded":
            frames[i] = _resign_frame(frames[i], coded=value)
        elif field == "method":
            frames[i] = _resign_frame(frames[i], method=rng.randrange(8))
        else:
            frames[i] = _resign_frame(frames[i], original=value, coded=rng.choice(_EXTREMES))
    elif kind == "shuffle":
        rng.shuffle(frames)
    elif kind == "duplicate":
        i = rng.randrange(len(frames))
        frames.insert(i, frames[i])
    elif kind == "drop":
        del frames[rng.randrange(len(frames))]
    return kind, head + b"".join(frames) + tail


def _limits(seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    os.environ["NCZIP_FUZZ_TIMEOUT"] = str(seconds)


class _Timeout(BaseException):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout()


#: a bomb must be refused (or bounded) quickly, not merely eventually
BOMB_SECONDS = 20


def run_case(blob: bytes, original: bytes, seconds: int | None = None) -> str:
    """Decode ``blob`` in this (worker) process within ``seconds`` (default: the harness's
    limit); return the outcome (see the module docstring)."""
    import nczip
    from nczip.errors import NczError

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds or int(os.environ.get("NCZIP_FUZZ_TIMEOUT", "60")))
    try:
        out = nczip.decompress(blob)
    except NczError as exc:
        return "traceback" if "\n" in str(exc) else "refused"
    except _Timeout:
        return "hang"
    except MemoryError:
        return "memory"
    except Exception:  # noqa: BLE001 - exactly what the harness looks for
        return "traceback"
    finally:
        signal.alarm(0)
    return "exact" if out == original else "wrong"


def cases(count: int, seed: int, llm_share: float, with_llm: bool) -> Iterator[tuple[str, str, bytes, bytes]]:
    """(base name, mutation kind, blob, expected output) for ``count`` cases, reproducibly from ``seed``.

    A mutation may leave a valid file: the concatenated members cut exactly after the first
    member are a one-member file (as with gzip), whose right output is the first member's; a cut
    to nothing is the empty input, which decodes to ``b""`` (as with gzip and bz2).
    """
    import nczip

    rng = random.Random(seed)
    found = bases(with_llm)
    cheap = [name for name in found if name != "level4-llm"]
    first_member = nczip.compress(b"one\n", level=1)
    for _ in range(count):
        name = "level4-llm" if with_llm and rng.random() < llm_share else rng.choice(cheap)
        packed, original = found[name]
        kind, blob = mutate(packed, rng)
        if name == "members" and blob == first_member:
            original = b"one\n"
        elif not blob:
            original = b""
        yield name, kind, blob, original


def fuzz(count: int, seed: int = 1, llm_share: float = 0.02, timeout: int = 60, workers: int = 2,
         progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run ``count`` cases; return the outcome counts and the failing cases (kept as hex)."""
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    failing: list[dict[str, str]] = []
    started = time.monotonic()
    pending = list(cases(count, seed, llm_share, llm_share > 0))

    def new_pool() -> ProcessPoolExecutor:
        # spawn, not fork: forked workers (of a pytest process that had run llama.cpp and imported
        # torch, under the address-space limit) hung in a futex once; spawned ones never did
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_limits, initargs=(timeout,))

    def kill(pool: ProcessPoolExecutor) -> None:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def record(case: tuple[str, str, bytes, bytes], outcome: str) -> None:
        name, kind, blob, _ = case
        outcomes[outcome] += 1
        kinds[kind] += 1
        if outcome in FAILURES and len(failing) < 50:
            failing.append({"base": name, "kind": kind, "outcome": outcome, "hex": blob.hex()[:4000]})

    pool = new_pool()
    queue = deque(pending)
    done = 0
    try:
        while queue:
            chunk = [queue.popleft() for _ in range(min(256, len(queue)))]
            futures = [pool.submit(run_case, case[2], case[3],
                                   BOMB_SECONDS if case[1] == "bomb" and case[0] != "level4-llm" else None)
                       for case in chunk]
            for i, (case, future) in enumerate(zip(chunk, futures)):
                try:
                    # the worker's own alarm cannot interrupt C code: this deadline can
                    outcome = future.result(timeout=2 * timeout + 30)
                except (BrokenProcessPool, FutureTimeout) as exc:
                    record(case, "signal" if isinstance(exc, BrokenProcessPool) else "hang")
                    kill(pool)
                    pool = new_pool()
                    queue.extendleft(reversed(chunk[i + 1:]))  # the rest of the batch runs again
                    done += 1
                    break
                record(case, outcome)
                done += 1
            if progress:
                progress(done)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return {"cases": count, "seed": seed, "seconds": round(time.monotonic() - started, 1),
            "outcomes": dict(outcomes), "kinds": dict(kinds), "failures": sum(outcomes[f] for f in FAILURES),
            "failing": failing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--llm-share", type=float, default=0.02)
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    result = fuzz(args.cases, args.seed, args.llm_share, args.timeout, args.workers,
                  lambda n: print(f"\r{n}/{args.cases}", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    result["command"] = "python3 -m bench.fuzz " + " ".join(sys.argv[1:])
    result["date"] = time.strftime("%Y-%m-%d %H:%M")
    print(json.dumps({k: v for k, v in result.items() if k != "failing"}))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    sys.exit(1 if result["failures"] else 0)


if __name__ == "__main__":
    main()
