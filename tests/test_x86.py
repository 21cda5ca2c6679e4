"""Method 7 (issue 26): the core over x86 code with absolute call/jump addresses. The transform
is exactly reversible on any bytes, makes repeated call targets repeat, is chosen for code and
never for text, and never costs bytes (the smaller of the core with and without it is kept)."""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

import pytest

import nczip
from nczip.methods.x86 import MIN_DENSITY, looks_like_x86, transformed

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "corpora" / "alice29.txt").read_bytes()


def _code(n_calls: int, seed: int = 1) -> bytes:
    """Something shaped like x86 code: filler instructions, and CALLs/JMPs to a few functions."""
    rng = random.Random(seed)
    targets = [rng.randrange(0, 60000) for _ in range(12)]
    out = bytearray()
    for _ in range(n_calls):
        out += b"".join(rng.choice([b"\x55", b"\x89\xe5", b"\x8b\x45\x08", b"\x83\xec\x10", b"\x5d", b"\xc3"])
                        for _ in range(rng.randrange(1, 4)))
        opcode = rng.choice(b"\xe8\xe9")
        target = rng.choice(targets)
        out += bytes([opcode]) + struct.pack("<i", target - (len(out) + 5))
    return bytes(out)


@pytest.mark.parametrize("seed", range(20))
def test_the_transform_is_exactly_reversible_on_any_bytes(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.choice([0, 1, 4, 5, 6, 9, 100, 5000])
    # bytes rich in E8/E9 and 00/FF, so that candidates overlap in every way
    data = bytes(rng.choice([0x00, 0xFF, 0xE8, 0xE9, rng.randrange(256)]) for _ in range(size))
    forward = transformed(data, True)
    assert len(forward) == len(data) and transformed(forward, False) == data


def test_calls_to_the_same_function_look_the_same_after_the_transform() -> None:
    code = _code(300)
    after = transformed(code, True)
    sites = [i for i in range(len(code) - 4) if code[i] in (0xE8, 0xE9) and code[i + 4] in (0x00, 0xFF)]
    distinct_before = {code[i + 1:i + 4] for i in sites}
    distinct_after = {after[i + 1:i + 4] for i in sites}
    assert len(distinct_after) < len(distinct_before) / 4


def test_code_is_coded_with_the_transform_and_text_without() -> None:
    code = _code(4000)
    assert looks_like_x86(code) and not looks_like_x86(TEXT)
    packed = nczip.compress(code, level=3)
    assert nczip.decompress(packed) == code
    assert nczip.scan_container(io.BytesIO(packed)).methods == {"cm-x86": 1}
    text = nczip.compress(TEXT[:30000], level=3)
    assert nczip.scan_container(io.BytesIO(text)).methods == {"cm": 1}


def test_the_density_threshold_is_what_the_docstring_says() -> None:
    assert 0 < MIN_DENSITY < 1 / 100
