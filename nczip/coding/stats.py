"""What coding a stream cost: the counters the coding loop (:mod:`nczip.coding.loop`) and the C core
(:mod:`nczip.predictors.cm`) fill in, kept apart from both so a model need not import the loop."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CodingStats:
    """What coding a stream cost, to show the coder's overhead against the model's ideal."""

    symbols: int = 0
    ideal_bits: float = 0.0  # -sum log2 q(symbol) under the model's float probabilities
