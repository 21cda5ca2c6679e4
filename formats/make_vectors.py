"""Write the test vectors in formats/vectors/. Never regenerate one: they pin what every later nczip
must still decode (or, for ``*.refused``, refuse in one line), and tests/test_vectors.py checks each
file's SHA-256 against formats/vectors/SHA256SUMS, so a vector can be added but never changed.

Each new vector is recorded in formats/vectors/MADE_ON.md with the machine that made it: nczip is
developed and tested on machines with different CPUs, so decoding these everywhere is the
cross-machine test of the format's determinism.

Usage: python3 formats/make_vectors.py   # writes only the vectors that do not exist yet
"""

from __future__ import annotations

import hashlib
import io
import platform
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nczip
from nczip import levels
from nczip.methods import tokens as chunks
from nczip import Component, Tiling, compress_stream

HERE = Path(__file__).resolve().parent / "vectors"
ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"
TEXT = ALICE.read_bytes()
# A paragraph repeated, so that the confidence skip has proposals to learn from and then skips.
REPEATED = (b"The Queen had only one way of settling all difficulties, great or small. 'Off with his head!'"
            b" she said, without even looking round.\n") * 6


@dataclass(frozen=True)
class Case:
    data: bytes
    level: int
    chunk_size: int | None = None
    components: tuple[str, ...] | None = None  # --with
    tiling: str | None = None  # --tiling
    quantizer: int | None = None  # another quantizer version than the level's
    lanes: int | None = None  # --lanes
    min_lane: int | None = None  # the encoder's shortest lane (nczip.methods.tokens.MIN_LANE_BYTES)
    shared: bool = True  # lanes share their online models


CASES = {
    # format version 1, the byte model era (no preset dictionary, or a deflated header)
    "v1-empty": Case(b"", 1),
    "v1-one-byte": Case(b"A", 1),
    "v1-text-level1": Case(TEXT[:4000], 1),
    "v1-text-level3": Case(TEXT[4000:7000], 3),
    "v1-mixed-chunks": Case(TEXT[:2500] + random.Random(11).randbytes(700) + bytes(range(256)) * 8
                            + "naïve café ☕\r\n\ttabs".encode() * 20, 2, 1024),
    "v1-deflated-header": Case(TEXT[7000:9000], 2),
    # v1-dict1-*: made by nczip at commit 6a8f706 (header flag bit 1, preset dictionary 1; models
    # llm/1, mixer/1, compact/1, ssm/2), not by this script: its zstd chunks decode forever, its
    # token chunk is refused by name (kernels 1 floats depended on the CPU).
    # The portable kernels (kernels 2, dictionary 2): one vector per token method and option.
    "v1-k2-level1": Case(TEXT[30000:34000], 1),
    "v1-k2-level2": Case(TEXT[34000:38000], 2),
    "v1-k2-level3": Case(TEXT[38000:42000], 3),
    "v1-k2-level1-quantizer1": Case(TEXT[42000:45000], 1, quantizer=1),
    "v1-k2-level2-fibonacci": Case(TEXT[45000:48000], 2, tiling="fibonacci"),
    "v1-k2-level3-mixed": Case(TEXT[48000:50000] + bytes(range(256)) + "naïve ☕\x04\x06\r\n".encode() * 8
                               + TEXT[50000:51000], 3),
    "v1-k2-level4": Case(TEXT[60000:60400], 4),
    "v1-k2-level4-fibonacci": Case(TEXT[61000:61400], 4, tiling="fibonacci"),
    "v1-k2-level4-skip": Case(REPEATED, 4, components=("ngram", "match", "bias", "mixer", "skip")),
    "v1-k2-level4-quantizer1": Case(TEXT[62000:62300], 4, quantizer=1),
    "v1-k2-level9-ssm": Case(TEXT[63000:63300], 9, components=("ngram", "bias", "mixer", "ssm")),
    # quantizer 3 (2^32 totals), the LLM levels' default since it was added
    "v1-k2-level5-quantizer3": Case(TEXT[64000:64400], 5),
    "v1-k2-level3-quantizer3": Case(TEXT[65000:68000], 3, quantizer=3),
    # lanes: a chunk cut into contiguous parts coded in lockstep (lane counts in the payload)
    "v1-k2-level4-lanes": Case(TEXT[68000:69200], 4, lanes=3, min_lane=256),
    "v1-k2-level4-lanes-own-models": Case(TEXT[69200:70000], 4, lanes=2, min_lane=256, shared=False),
    # the context-mixing core (cm/1, chunk method 5, preset dictionary 3) at the fast levels
    "v1-cm-level1": Case(TEXT[70000:76000], 1),
    "v1-cm-level2": Case(TEXT[76000:82000], 2),
    "v1-cm-level3": Case(TEXT[82000:90000], 3),
    "v1-cm-level3-binary-chunks": Case(TEXT[90000:93000] + bytes(range(256)) * 6 + random.Random(12).randbytes(900)
                                       + TEXT[90000:92000], 3, chunk_size=2048),
    # an LLM level's chunk that is not text goes to level 3's core beside the LLM
    "v1-cm-level4-binary": Case(bytes((i * 37 + i // 7) % 256 for i in range(3000)) * 2, 4),
}


def compress(case: Case) -> bytes:
    saved = levels.QUANTIZER, levels.QUANTIZER_LLM, levels.LLM_SHARED, chunks.MIN_LANE_BYTES
    if case.quantizer is not None:
        levels.QUANTIZER = levels.QUANTIZER_LLM = case.quantizer
    levels.LLM_SHARED = case.shared
    chunks.MIN_LANE_BYTES = case.min_lane or chunks.MIN_LANE_BYTES
    try:
        out = io.BytesIO()
        compress_stream(io.BytesIO(case.data), out, level=case.level, chunk_size=case.chunk_size,
                        components=[Component(c) for c in case.components] if case.components else None,
                        tiling=Tiling(case.tiling) if case.tiling else None,
                        lanes=case.lanes)
        return out.getvalue()
    finally:
        levels.QUANTIZER, levels.QUANTIZER_LLM, levels.LLM_SHARED, chunks.MIN_LANE_BYTES = saved


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    flags = [f for f in ("avx2", "fma", "avx512f", "amx_tile") if f in Path("/proc/cpuinfo").read_text().split()]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    return f"{cpu} ({platform.machine()}; {' '.join(flags)}), nczip {nczip.__version__} at {commit}"


def main() -> None:
    HERE.mkdir(exist_ok=True)
    made = []
    for name, case in CASES.items():
        if (HERE / f"{name}.ncz").exists():
            continue
        (HERE / name).write_bytes(case.data)
        (HERE / f"{name}.ncz").write_bytes(compress(case))
        made.append(name)
        print(name, file=sys.stderr)
    if made:
        with open(HERE / "MADE_ON.md", "a") as log:
            log.write(f"\n{time.strftime('%Y-%m-%d')}: {', '.join(made)}\n  made on {machine()}\n")
    # Append-only: the sums of vectors already listed are never rewritten, so a changed vector
    # fails tests/test_vectors.py instead of being re-pinned.
    listed = (HERE / "SHA256SUMS").read_text() if (HERE / "SHA256SUMS").exists() else ""
    names = {line.split()[1] for line in listed.splitlines() if line.strip()}
    new = sorted(p for p in HERE.iterdir() if p.is_file() and p.name not in names
                 and p.name not in ("SHA256SUMS", "MADE_ON.md"))
    with open(HERE / "SHA256SUMS", "a") as out:
        out.writelines(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in new)


if __name__ == "__main__":
    main()
