"""The quantiser and range coder: exact integers, exact round trips, near-ideal size."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from nczip.errors import FormatError

from nczip.coding import TOTAL, RangeDecoder, RangeEncoder, cumulative, quantize, table


def test_quantize_sums_to_total_and_keeps_every_symbol_codable():
    rng = np.random.default_rng(1)
    for n in (2, 256, 49152):
        p = rng.dirichlet(np.full(n, 0.05))
        p[:3] = 0.0  # symbols the model thinks impossible must still be codable
        f = quantize(p)
        assert f.dtype == np.int64 and int(f.sum()) == TOTAL and int(f.min()) >= 1


def test_quantize_is_a_pure_function_of_the_floats():
    p = np.random.default_rng(2).random(1000)
    assert np.array_equal(quantize(p), quantize(p.copy()))


@pytest.mark.parametrize("bad", [np.zeros(10), np.full(10, np.nan), np.array([np.inf, 1.0, -1.0])])
def test_quantize_survives_degenerate_vectors(bad):
    f = quantize(bad)
    assert int(f.sum()) == TOTAL and int(f.min()) >= 1


_VECTORS = [np.random.default_rng(4).dirichlet(np.full(n, a)) for n, a in ((2, 1.0), (300, 0.05), (49152, 0.01))] + [
    np.zeros(10), np.full(10, np.nan), np.array([np.inf, 1.0, -1.0, 0.0, 1e-300]), np.array([1e308, 1e308, 1.0]),
    np.random.default_rng(5).random(20000) ** 8]


@pytest.mark.parametrize("p", _VECTORS)
def test_the_c_quantizer_version_1_is_exactly_the_numpy_reference(p):
    freqs, starts, _ = table(p, 1)
    assert np.array_equal(freqs, quantize(p))
    assert np.array_equal(starts, cumulative(freqs))


@pytest.mark.parametrize("p", _VECTORS)
def test_the_c_quantizer_version_2_is_a_valid_table(p):
    freqs, starts, _ = table(p, 2)
    assert int(freqs.sum()) == TOTAL and int(freqs.min()) >= 1 and int(starts[-1]) == TOTAL
    assert np.abs(freqs - quantize(p)).max() <= 1 or not np.isfinite(p).all() or p.max() > 1e300


def _code(tables: list[np.ndarray], symbols: list[int]) -> bytes:
    enc = RangeEncoder()
    for f, s in zip(tables, symbols):
        starts = cumulative(f)
        enc.encode(int(starts[s]), int(f[s]))
    return enc.finish()


def _decode(tables: list[np.ndarray], payload: bytes) -> list[int]:
    dec = RangeDecoder(payload)
    out = []
    for f in tables:
        starts = cumulative(f)
        s = int(np.searchsorted(starts, dec.target(), side="right")) - 1
        dec.consume(int(starts[s]), int(f[s]))
        out.append(s)
    return out


def test_range_coder_round_trips_and_stays_within_a_few_bytes_of_ideal():
    rng = np.random.default_rng(3)
    tables, symbols, ideal = [], [], 0.0
    for _ in range(3000):
        f = quantize(rng.dirichlet(np.full(64, 0.1)))
        s = int(rng.choice(64, p=f / TOTAL))
        tables.append(f)
        symbols.append(s)
        ideal -= math.log2(f[s] / TOTAL)
    payload = _code(tables, symbols)
    assert _decode(tables, payload) == symbols
    assert len(payload) * 8 <= ideal + 8 * 10


def test_range_coder_handles_carries_and_extreme_probabilities():
    # Alternating near-certain and near-impossible symbols forces carry propagation.
    f = np.ones(4, dtype=np.int64)
    f[0] = TOTAL - 3
    rng = random.Random(4)
    symbols = [rng.choice([0, 0, 0, 1, 3]) for _ in range(5000)]
    tables = [f] * len(symbols)
    assert _decode(tables, _code(tables, symbols)) == symbols


def test_decoder_decodes_garbage_but_not_past_the_end_of_it():
    # Any bytes decode to some symbols (the CRC catches them later), but 100 uniform bytes need
    # 100 bytes of code: from 40 the decoder stops once it is 8 bytes past the end, rather than
    # decoding zeros for as long as the frame claims (a 2^28-symbol claim took hours).
    f = quantize(np.ones(256))
    tables = [f] * 100
    garbage = random.Random(5).randbytes(120)
    out = _decode(tables, garbage)
    assert len(out) == 100 and all(0 <= s < 256 for s in out)
    with pytest.raises(FormatError, match="ends before its symbols do"):
        _decode(tables, garbage[:40])


@pytest.mark.parametrize("p", _VECTORS)
def test_the_c_quantizer_version_3_totals_2_to_the_32(p):
    freqs, starts, _ = table(p, 3)
    assert int(freqs.sum()) == 1 << 32 and int(freqs.min()) >= 1 and int(starts[-1]) == 1 << 32
    assert np.array_equal(starts, cumulative(freqs))
    # exactly the specified formula, given the float total the kernel summed (as version 2 does)
    _, _, total = table(p, 3)
    clean = np.where(np.isfinite(p) & (p > 0.0) & (p <= 1.7976931348623157e308), p, 0.0)
    if not clean.any():
        clean, total = np.ones_like(clean), float(clean.size)
    expected = np.floor(clean * (((1 << 32) - p.size) / total)).astype(np.int64) + 1
    expected[int(np.argmax(expected))] += (1 << 32) - int(expected.sum())
    assert np.array_equal(freqs, expected)


def test_the_32_bit_coder_round_trips_and_shrinks_the_floor_cost_of_a_large_alphabet():
    """A 49,152-symbol alphabet where the coded symbols are likely: with 2^24 totals every one of
    the 49,152 floors of one count takes mass from them (~0.29 %); with 2^32 almost none."""
    rng = np.random.default_rng(7)
    steps, sizes, table_bits = 400, {}, {}
    probs = [rng.dirichlet(np.full(49152, 0.002)) for _ in range(steps)]
    symbols = [int(rng.choice(49152, p=p / p.sum())) for p in probs]
    for version, precision in ((2, 24), (3, 32)):
        enc = RangeEncoder(precision)
        tables = []
        table_bits[version] = 0.0
        for p, s in zip(probs, symbols):
            freqs, starts, _ = table(p, version)
            tables.append((freqs, starts))
            enc.encode(int(starts[s]), int(freqs[s]))
            table_bits[version] -= math.log2(int(freqs[s]) / (1 << precision))
        payload = enc.finish()
        dec = RangeDecoder(payload, precision)
        out = []
        for freqs, starts in tables:
            s = int(np.searchsorted(starts, dec.target(), side="right")) - 1
            dec.consume(int(starts[s]), int(freqs[s]))
            out.append(s)
        assert out == symbols
        sizes[version] = len(payload) * 8
        assert sizes[version] <= table_bits[version] + 72  # a few bytes of flush, nothing per symbol
    ideal = -sum(math.log2(p[s] / p.sum()) for p, s in zip(probs, symbols))
    floor_cost = -math.log2(1 - 49152 / (1 << 24))  # bits per symbol the 2^24 floors take
    assert table_bits[2] - ideal > 0.5 * steps * floor_cost
    assert table_bits[3] - ideal < 0.01 * steps * floor_cost
