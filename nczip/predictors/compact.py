"""The fast levels' predictor: online models over a compact vocabulary, no LLM.

The symbol stream is :func:`nczip.tokens.to_compact_symbols`'s: each token is its rank among the
types seen so far, or NEW_TYPE followed by the new type's id. In TOKEN mode the distribution is

``[raw escape, new type, type 0, type 1, ..., type n-1]``

with the escape and new-type probabilities estimated from their rates so far (Krichevsky-
Trofimov) and the known types' share from the token mixer (:mod:`nczip.predictors.mixer`), whose
dense base is the online SSM (:mod:`nczip.predictors.ssm`) when the level has one and the types'
counts otherwise; the n-gram tables and the bias head refine it as at the LLM levels.

A new type's id is coded against a Zipf prior over the ids not seen yet, ``(id + offset)^-alpha``:
byte-pair merges are numbered roughly by frequency, so low ids are likelier. Measured on enwik8's
first MB (18,722 new types): 14.9 bits per new type against 15.6 for a flat code and 23.5 for
spelling the type out under the order-5 byte model. The id goes as two symbols (high and low
byte) whose distributions are the prior's exact marginal and conditional, so each costs O(256)
instead of O(vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import kernels
from ..tokens import FIRST_RANK, NEW_TYPE, RAW_ESCAPE, SymbolMode
from . import Predictor
from .mixer import Ensemble, TokenMixer
from .schema import Declared, arithmetic, number, part
from .ssm import Ssm, from_config
from .tokenstream import RawSpans

# compact/1 (files that wrote no name) computed the Zipf prior with numpy's power, whose last bits
# differ between CPUs.
COMPACT = "compact/2"


@dataclass(frozen=True)
class NewTypes(Declared):
    """The Zipf prior over new types' ids, ``(id + offset)^-alpha``."""

    alpha: float = number(0.0, 8.0)
    offset: float = number(1e-3, 1e9)


@dataclass(frozen=True)
class Tokens(Declared):
    """The fast levels' compact token layout (a header's ``tokens``)."""

    ensemble: Ensemble = part(Ensemble, required=True)
    new_types: NewTypes = part(NewTypes, required=True)
    ssm: Ssm | None = part(Ssm)
    name: str = arithmetic(COMPACT, missing="compact/1", retired=("compact/1",))


class NewTypeModel:
    """Zipf prior over the token ids not seen yet, as a high byte then a low byte."""

    def __init__(self, codable: np.ndarray, alpha: float = 0.6, offset: float = 50.0) -> None:
        blocks = -(-codable.shape[0] // 256)
        weights = np.zeros(blocks * 256)
        ids = np.arange(codable.shape[0], dtype=np.float64)
        # (id + offset)^-alpha with the kernels' exp and log (compact/2): numpy's power has a
        # separate AVX-512 implementation whose last bits differ from other CPUs'.
        weights[:codable.shape[0]] = np.where(codable, kernels.exp(-alpha * kernels.log(ids + offset)), 0.0)
        self.weights = weights.reshape(blocks, 256)
        self.block_mass = np.cumsum(self.weights, axis=1)[:, -1].copy()

    def predict_high(self) -> np.ndarray:
        return self.block_mass

    def predict_low(self, high: int) -> np.ndarray:
        return self.weights[high]

    def remove(self, token: int) -> None:
        """``token`` is seen now: it can never be new again."""
        row = self.weights[token >> 8]
        row[token & 0xFF] = 0.0
        self.block_mass[token >> 8] = float(np.cumsum(row)[-1])


class CompactTokenModel:
    """Predictor of a chunk's compact symbol stream (see the module docstring)."""

    def __init__(self, codable: np.ndarray, byte_model: Predictor, allow_escape: bool,
                 config: Tokens) -> None:
        n_vocab = codable.shape[0]
        self.mixer = TokenMixer(np.ones(n_vocab, dtype=bool), config.ensemble)
        self.mixer.size = 0
        self.ssm: Any = from_config(n_vocab, config.ssm) if config.ssm else None
        self.new_types = NewTypeModel(codable, config.new_types.alpha, config.new_types.offset)
        self.raw = RawSpans(byte_model)
        self.allow_escape = allow_escape
        self.mode = SymbolMode.TOKEN
        self._out = np.empty(FIRST_RANK + n_vocab)  # predict()'s output buffer
        self.types: list[int] = []
        self._high = 0
        self._steps = self._escapes = self._new = 0
        self.tokens = 0

    def predict(self) -> np.ndarray:
        if self.mode != SymbolMode.TOKEN:
            if self.mode == SymbolMode.NEW_HIGH:
                return self.new_types.predict_high()
            if self.mode == SymbolMode.NEW_LOW:
                return self.new_types.predict_low(self._high)
            return self.raw.predict(self.mode)
        n = len(self.types)
        # Krichevsky-Trofimov over the outcomes possible here: escape (if the chunk has raw
        # spans), new type, known type (once there is one).
        outcomes = int(self.allow_escape) + 1 + int(n > 0)
        total = self._steps + 0.5 * outcomes
        out = self._out[:FIRST_RANK + n]
        out[RAW_ESCAPE] = (self._escapes + 0.5) / total if self.allow_escape else 0.0
        out[NEW_TYPE] = (self._new + 0.5) / total
        if n:
            # The SSM's probabilities are mixed as they are: a learned temperature on them (as the
            # LLM gets) made enwik8's first 300 kB 0.1 % larger.
            q = self.mixer.predict(None, self.ssm.probs(n) if self.ssm is not None else None)
            known = self._steps - self._escapes - self._new
            np.multiply(q, (known + 0.5) / total, out=out[FIRST_RANK:])
        return out

    def update(self, symbol: int) -> None:
        mode = self.mode
        if mode == SymbolMode.TOKEN:
            self._steps += 1
            if symbol == RAW_ESCAPE:
                self._escapes += 1
                self.mode = self.raw.start()
            elif symbol == NEW_TYPE:
                self._new += 1
                self.mode = SymbolMode.NEW_HIGH
            else:
                self._learn(symbol - FIRST_RANK, known=True)
        elif mode == SymbolMode.NEW_HIGH:
            self._high = symbol
            self.mode = SymbolMode.NEW_LOW
        elif mode == SymbolMode.NEW_LOW:
            token = (self._high << 8) | symbol
            self.new_types.remove(token)
            self.types.append(token)
            self.mode = SymbolMode.TOKEN
            self._learn(len(self.types) - 1, known=False)
        else:
            self.mode = self.raw.update(mode, symbol)

    def _learn(self, rank: int, known: bool) -> None:
        self.tokens += 1
        n = len(self.types)
        self.mixer.size = n
        self.mixer.update(rank, learn=known)
        if self.ssm is not None:
            self.ssm.update(rank, n)
