"""The context-mixing core (nczip/kernels/cm.c) against Python references of its parts, and its
round trips, determinism and refusals."""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import random

import numpy as np
import pytest

from nczip import kernels
from nczip.config import CM_CONTEXTS, CmSpec, parse
from nczip.errors import FormatError
from nczip.levels import level_config
from nczip.predictors import cm


def _spec(level: int) -> CmSpec:
    config = parse(level_config(level)[0])
    assert config.cm is not None
    return config.cm


def _reference_states() -> tuple[list[tuple[int, int]], dict[tuple[int, int], tuple[int, int]]]:
    """The bit-history table as the C comment describes it, rebuilt in Python."""
    cap = [40, 30, 20, 12, 8, 7, 7, 7]

    def allowed(a: int, b: int) -> bool:
        lo, hi = min(a, b), max(a, b)
        return lo <= 7 and hi <= cap[lo]

    pairs = [(t - n1, n1) for t in range(81) for n1 in range(t + 1)
             if t - n1 <= 40 and n1 <= 40 and allowed(t - n1, n1)]
    nxt = {}
    for a0, b0 in pairs:
        out = []
        for y in (0, 1):
            a, b = a0, b0
            if y:
                b += 1
                a = (a + 2) // 2 if a > 2 else a
            else:
                a += 1
                b = (b + 2) // 2 if b > 2 else b
            while not allowed(a, b):
                if a > b or (a == b and y):
                    a -= 1
                else:
                    b -= 1
            out.append(pairs.index((a, b)))
        nxt[(a0, b0)] = (out[0], out[1])
    return pairs, nxt


def test_state_table_matches_reference() -> None:
    nxt = np.zeros((256, 2), dtype=np.uint8)
    n0 = np.zeros(256, dtype=np.uint8)
    n1 = np.zeros(256, dtype=np.uint8)
    count = kernels.lib().cm_states(kernels.ptr(nxt), kernels.ptr(n0), kernels.ptr(n1))
    pairs, reference = _reference_states()
    assert count == len(pairs) <= 256
    for s, pair in enumerate(pairs):
        assert (n0[s], n1[s]) == pair
        assert tuple(nxt[s]) == reference[pair]


def test_squash_and_stretch() -> None:
    squash = np.zeros(4096, dtype=np.int16)
    stretch = np.zeros(4096, dtype=np.int16)
    kernels.lib().cm_squash_table(kernels.ptr(squash), kernels.ptr(stretch))
    for x in range(-2048, 2048, 7):
        expected = min(4095, max(1, int(4096 / (1 + math.exp(-x / 256)))))
        assert abs(int(squash[x + 2048]) - expected) <= 1
    assert np.all(np.diff(squash) >= 0) and np.all(np.diff(stretch) >= 0)
    for p in range(1, 4095, 13):  # stretch inverts squash
        assert squash[int(stretch[p]) + 2048] >= p


def _reference_code(bits: list[int], probs: list[int]) -> bytes:
    """The binary arithmetic coder in Python: 32-bit interval, 12-bit probabilities of a 1."""
    x1, x2, out = 0, 0xFFFFFFFF, bytearray()
    for y, p in zip(bits, probs):
        mid = x1 + (((x2 - x1) * p) >> 12)
        if y:
            x2 = mid
        else:
            x1 = mid + 1
        while (x1 ^ x2) & 0xFF000000 == 0:
            out.append(x2 >> 24)
            x1 = (x1 << 8) & 0xFFFFFFFF
            x2 = ((x2 << 8) & 0xFFFFFFFF) | 255
    out.append((x1 >> 24) + (1 if x1 & 0xFFFFFF else 0))
    return bytes(out)


def test_binary_coder_matches_reference() -> None:
    rng = random.Random(5)
    bits = [rng.random() < 0.3 for _ in range(20000)]
    probs = [rng.choice([1, 2, 100, 1228, 2048, 3000, 4094, 4095]) for _ in bits]
    b = np.array(bits, dtype=np.uint8)
    p = np.array(probs, dtype=np.int16)
    out = np.zeros(len(bits), dtype=np.uint8)
    n = kernels.lib().cm_code_bits(kernels.ptr(b), kernels.ptr(p), len(bits), kernels.ptr(out), len(out))
    assert bytes(out[:n]) == _reference_code([int(x) for x in bits], probs)


def _samples() -> dict[str, bytes]:
    rng = random.Random(7)
    text = b" ".join(rng.choice([b"the", b"cat", b"sat", b"on", b"mat\n", b"<page>", b"1984"]) for _ in range(6000))
    return {"one byte": b"x", "text": text, "zeros": bytes(50000),
            "random": bytes(rng.getrandbits(8) for _ in range(20000)),
            "mixed": text[:10000] + bytes(rng.getrandbits(8) for _ in range(5000)) + text[:10000]}


@pytest.mark.parametrize("level", [1, 2, 3])
def test_round_trip(level: int) -> None:
    spec = _spec(level)
    for name, data in _samples().items():
        coded = cm.encode(data, spec)
        if coded is None:  # not smaller: the chunk is stored instead
            assert name in ("one byte", "random"), name
            continue
        assert len(coded) < len(data)
        assert cm.decode(coded, len(data), spec) == data, name


def test_slicing_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _samples()["mixed"] * 3
    spec = _spec(3)
    whole = cm.encode(data, spec)
    monkeypatch.setattr(cm, "_SLICE", 777)
    assert cm.encode(data, spec) == whole
    assert cm.decode(whole or b"", len(data), spec) == data


def test_known_answer() -> None:
    """The same bytes on every machine: a change here is a format change (a new cm/ name)."""
    data = _samples()["text"]
    digests = {level: hashlib.sha256(cm.encode(data, _spec(level)) or b"").hexdigest()[:16] for level in (1, 3)}
    assert digests == {1: KNOWN[1], 3: KNOWN[3]}


KNOWN = {1: "0fd25f1f927b8fe1", 3: "02685a12a598a122"}


def test_truncated_payload_is_refused() -> None:
    data = _samples()["text"]
    spec = _spec(2)
    coded = cm.encode(data, spec)
    assert coded is not None
    with pytest.raises(FormatError):
        cm.decode(coded[: len(coded) // 2], len(data), spec)


@pytest.mark.parametrize("field, value", [("table_bits", 27), ("table_bits", 9), ("match_bits", 5),
                                          ("contexts", []), ("contexts", ["o1", "o1"]), ("contexts", ["o7"]),
                                          ("selectors", 4), ("apm", 3), ("lr", 0), ("limit", 2000),
                                          ("extra", 1)])
def test_hostile_configuration_refused(field: str, value: object) -> None:
    raw = level_config(3)[0]
    raw["cm"][field] = value
    with pytest.raises(FormatError, match="unsupported codec configuration"):
        parse(raw)


def test_memory_is_bounded_by_the_level() -> None:
    sizes = [cm.memory(_spec(level)) for level in (1, 2, 3)]
    assert sizes == sorted(sizes) and sizes[-1] < 400 << 20
    assert len(CM_CONTEXTS) == 17  # 15 of the levels' + 2 of method 8's record model


def test_the_llm_levels_send_non_text_and_markup_they_lose_on_to_the_core() -> None:
    """Levels 4-9 carry level 3's core: a chunk that is mostly not text goes to it instead of the
    PPM byte model, and any chunk it codes smaller than the LLM does is kept in its form."""
    import io

    import nczip

    rng = random.Random(5)
    words = [bytes(rng.randrange(128, 256) for _ in range(rng.randrange(2, 6))) for _ in range(50)]
    binary = b"".join(rng.choice(words) for _ in range(3000))  # not UTF-8: no tokens at all
    packed = nczip.compress(binary, level=4)
    assert nczip.scan_container(io.BytesIO(packed)).methods == {"cm": 1}
    assert nczip.decompress(packed) == binary
    config = parse(level_config(4)[0])
    assert config.cm == _spec(3) and config.llm is not None


def test_the_context_mixing_levels_need_neither_llama_cpp_nor_a_model() -> None:
    import subprocess
    import sys

    script = ("import sys; sys.modules['llama_cpp'] = None\n"  # any import of it now fails
              "import nczip\n"
              "data = b'no model needed here, only bytes and their contexts. ' * 200\n"
              "for level in (1, 2, 3):\n"
              "    assert nczip.decompress(nczip.compress(data, level=level)) == data\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NCZIP_MODEL": "/nonexistent.gguf"})
    assert done.returncode == 0, done.stderr
