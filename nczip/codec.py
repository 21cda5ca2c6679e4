"""The one prediction/coding loop, shared by the encoder and the decoder.

Both directions run :func:`code_symbols`; they differ only in the ``step`` that either writes the
known symbol or reads the next one. So the decoder sees exactly the model states, probabilities
and integer tables the encoder saw: there is no second copy of the loop to keep in step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .coding import PRECISIONS, RangeDecoder, RangeEncoder, table
from .predictors import Predictor

#: step(index, freqs, starts) -> the symbol at ``index`` (written or read by the step)
Step = Callable[[int, np.ndarray, np.ndarray], int]
#: called every so often with the number of symbols done, for progress displays
Progress = Callable[[int], None]


@dataclass
class CodingStats:
    """What coding a stream cost, to show the coder's overhead against the model's ideal."""

    symbols: int = 0
    ideal_bits: float = 0.0  # -sum log2 q(symbol) under the model's float probabilities


def code_symbols(model: Predictor, count: int, step: Step, stats: CodingStats | None = None,
                 progress: Progress | None = None, quantizer: int = 1) -> list[int]:
    """Drive ``model`` over ``count`` symbols, letting ``step`` code each one; return them.

    ``quantizer`` is the container's quantizer version (:data:`nczip.coding.QUANTIZERS`)."""
    symbols: list[int] = []
    for i in range(count):
        probs = model.predict()
        freqs, starts, total = table(probs, quantizer)
        symbol = step(i, freqs, starts)
        if stats is not None:
            stats.ideal_bits -= math.log2(max(float(probs[symbol]), 1e-300) / total)
        model.update(symbol)
        symbols.append(symbol)
        if progress is not None and (i & 0xFFF) == 0xFFF:
            progress(i + 1)
    if stats is not None:
        stats.symbols += count
    return symbols


def encode_symbols(model: Predictor, symbols: Sequence[int], stats: CodingStats | None = None,
                   progress: Progress | None = None, quantizer: int = 1) -> bytes:
    """Range-code ``symbols`` under ``model``; the decoder needs the count from elsewhere."""
    encoder = RangeEncoder(PRECISIONS[quantizer])

    def write(i: int, freqs: np.ndarray, starts: np.ndarray) -> int:
        s = symbols[i]
        encoder.encode(int(starts[s]), int(freqs[s]))
        return s

    code_symbols(model, len(symbols), write, stats, progress, quantizer)
    return encoder.finish()


def decode_symbols(model: Predictor, payload: bytes, count: int,
                   progress: Progress | None = None, quantizer: int = 1) -> list[int]:
    """Inverse of :func:`encode_symbols` for a fresh ``model`` built from the same spec."""
    decoder = RangeDecoder(payload, PRECISIONS[quantizer])

    def read(i: int, freqs: np.ndarray, starts: np.ndarray) -> int:
        s = int(np.searchsorted(starts, decoder.target(), side="right")) - 1
        decoder.consume(int(starts[s]), int(freqs[s]))
        return s

    return code_symbols(model, count, read, None, progress, quantizer)
