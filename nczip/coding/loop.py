"""The one prediction/coding loop, shared by the encoder and the decoder.

Both directions run :func:`code_lanes`; they differ only in the ``step`` that either writes the
known symbol or reads the next one. So the decoder sees exactly the model states, probabilities
and integer tables the encoder saw: there is no second copy of the loop to keep in step.
"""

from __future__ import annotations

import math
from typing import Callable, Protocol, Sequence

import numpy as np

from .quantize import PRECISIONS, table
from .rangecoder import RangeDecoder, RangeEncoder
from .stats import CodingStats as CodingStats  # re-exported: the loop's callers take it from here

class Predictor(Protocol):
    """A model of the next symbol, trained online on the symbols coded so far."""

    alphabet_size: int

    def predict(self) -> np.ndarray:
        """Probabilities (float64, length ``alphabet_size``) of the next symbol."""

    def update(self, symbol: int) -> None:
        """Learn that ``symbol`` came next; the decoder calls this with the same symbols."""


#: step(lane, freqs, starts) -> the lane's next symbol (written or read by the step)
Step = Callable[[int, np.ndarray, np.ndarray], int]
#: called every so often with the number of symbols done, for progress displays
Progress = Callable[[int], None]
#: before(live lanes) runs once per step before any lane predicts: where lanes share work (one
#: batched LLM evaluation for all of them)
Before = Callable[[list[int]], None]


def code_lanes(models: Sequence[Predictor], counts: Sequence[int], step: Step, stats: CodingStats | None = None,
               progress: Progress | None = None, quantizer: int = 1, before: Before | None = None) -> list[list[int]]:
    """Drive ``models[i]`` over ``counts[i]`` symbols each, in lockstep; return the symbols.

    The schedule, identical in both directions: each step, every lane that has symbols left (in
    lane order) predicts, lets ``step`` code its next symbol, and learns it; a lane leaves when
    its count is done. One range coder carries all lanes, interleaved in that order. With one
    lane this is the plain sequential loop. ``quantizer`` is the container's quantizer version
    (:data:`nczip.coding.QUANTIZERS`)."""
    out: list[list[int]] = [[] for _ in models]
    live = [lane for lane, count in enumerate(counts) if count > 0]
    done = 0
    while live:
        if before is not None:
            before(live)
        for lane in live:
            model = models[lane]
            probs = model.predict()
            freqs, starts, total = table(probs, quantizer)
            symbol = step(lane, freqs, starts)
            if stats is not None:
                stats.ideal_bits -= math.log2(max(float(probs[symbol]), 1e-300) / total)
            model.update(symbol)
            out[lane].append(symbol)
            done += 1
            if progress is not None and (done & 0xFFF) == 0:
                progress(done)
        live = [lane for lane in live if len(out[lane]) < counts[lane]]
    if stats is not None:
        stats.symbols += done
    return out


def encode_lanes(models: Sequence[Predictor], lanes: Sequence[Sequence[int]], stats: CodingStats | None = None,
                 progress: Progress | None = None, quantizer: int = 1, before: Before | None = None) -> bytes:
    """Range-code each lane's symbols under its model; the decoder needs the counts from elsewhere."""
    encoder = RangeEncoder(PRECISIONS[quantizer])
    position = [0] * len(lanes)

    def write(lane: int, freqs: np.ndarray, starts: np.ndarray) -> int:
        s = lanes[lane][position[lane]]
        position[lane] += 1
        encoder.encode(int(starts[s]), int(freqs[s]))
        return s

    code_lanes(models, [len(symbols) for symbols in lanes], write, stats, progress, quantizer, before)
    return encoder.finish()


def decode_lanes(models: Sequence[Predictor], payload: bytes, counts: Sequence[int],
                 progress: Progress | None = None, quantizer: int = 1,
                 before: Before | None = None) -> list[list[int]]:
    """Inverse of :func:`encode_lanes` for fresh ``models`` built from the same spec."""
    decoder = RangeDecoder(payload, PRECISIONS[quantizer])

    def read(lane: int, freqs: np.ndarray, starts: np.ndarray) -> int:
        s = int(np.searchsorted(starts, decoder.target(), side="right")) - 1
        decoder.consume(int(starts[s]), int(freqs[s]))
        return s

    return code_lanes(models, counts, read, None, progress, quantizer, before)


def encode_symbols(model: Predictor, symbols: Sequence[int], stats: CodingStats | None = None,
                   progress: Progress | None = None, quantizer: int = 1) -> bytes:
    """Range-code one stream of ``symbols`` under ``model`` (one lane)."""
    return encode_lanes([model], [symbols], stats, progress, quantizer)


def decode_symbols(model: Predictor, payload: bytes, count: int,
                   progress: Progress | None = None, quantizer: int = 1) -> list[int]:
    """Inverse of :func:`encode_symbols`."""
    return decode_lanes([model], payload, [count], progress, quantizer)[0]
