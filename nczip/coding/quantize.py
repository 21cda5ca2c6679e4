"""Probability vector -> integer frequency table with total 2**PRECISION, every symbol >= 1.

The encoder and the decoder must derive the very same integers from the same float vector. Every
operation here is element-wise IEEE arithmetic or a sequential ``cumsum`` (numpy's ``sum`` uses
pairwise/SIMD summation whose order may depend on the CPU; ``cumsum`` is strictly left to right),
so the result depends only on the input floats, never on the machine's vector width.
"""

from __future__ import annotations

import numpy as np

PRECISION = 24
TOTAL = 1 << PRECISION
#: Quantizer versions (the container configuration's "quantize", 1 when absent) and the bits of
#: their frequency total. 1: the float total summed strictly left to right, as :func:`quantize`;
#: 2: in sixteen interleaved partial sums in a fixed order (nczip/kernels/dense.c), as
#: reproducible and several times faster; 3: as 2 with a 2^32 total, so that a 49,152-token
#: vocabulary's floors of one count take 0.001 % of the mass instead of 0.29 %.
PRECISIONS = {1: 24, 2: 24, 3: 32}
QUANTIZERS = tuple(PRECISIONS)


def quantize(probs: np.ndarray) -> np.ndarray:
    """Return int64 frequencies summing to exactly ``TOTAL``, each at least 1.

    Every symbol keeps a frequency of at least 1 so that any input stays codable whatever the
    model believed; the rounding remainder goes to the most probable symbol, where it costs least.
    """
    p = np.asarray(probs, dtype=np.float64)
    n = p.shape[0]
    if n > TOTAL // 2:
        raise ValueError(f"alphabet of {n} symbols is too large for {PRECISION}-bit coding")
    p = np.where(np.isfinite(p) & (p > 0.0), p, 0.0)
    total = float(np.cumsum(p)[-1])
    if not total > 0.0:
        p = np.ones(n, dtype=np.float64)
        total = float(n)
    freqs = np.floor(p * ((TOTAL - n) / total)).astype(np.int64)
    freqs += 1
    deficit = TOTAL - int(np.cumsum(freqs)[-1])
    freqs[int(np.argmax(freqs))] += deficit
    return freqs


def cumulative(freqs: np.ndarray) -> np.ndarray:
    """Exclusive prefix sums: ``starts[s]`` is where symbol s's interval begins (length n + 1)."""
    starts = np.empty(freqs.shape[0] + 1, dtype=np.int64)
    starts[0] = 0
    np.cumsum(freqs, out=starts[1:])
    return starts


def table(probs: np.ndarray, version: int = 1) -> tuple[np.ndarray, np.ndarray, float]:
    """``(freqs, starts, total)``: :func:`quantize` and :func:`cumulative` in one C pass, and the
    total the probabilities were scaled by. Version 1 gives exactly :func:`quantize`'s integers
    (tests/test_coding.py checks it); version 2 sums in sixteen lanes; version 3 as 2, with
    frequencies totalling 2^32 (:data:`PRECISIONS`)."""
    from .. import kernels

    p = np.ascontiguousarray(probs, dtype=np.float64)
    n = p.shape[0]
    if n > (1 << PRECISIONS[version]) // 2 or n == 0:
        raise ValueError(f"alphabet of {n} symbols cannot be coded with {PRECISIONS[version]}-bit frequencies")
    freqs = np.empty(n, dtype=np.int64)
    starts = np.empty(n + 1, dtype=np.int64)
    total = kernels.lib().nc_quantize(kernels.ptr(p), n, version, kernels.ptr(freqs),
                                      kernels.ptr(starts))
    return freqs, starts, total
