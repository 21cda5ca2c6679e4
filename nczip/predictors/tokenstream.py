"""The predictor of a text chunk's symbol stream: LLM tokens, escapes and raw byte spans.

It switches model by :class:`~nczip.tokens.SymbolMode`, which follows from the symbols alone, so
encoder and decoder always agree on which model predicts the next symbol. The byte model learns
from every byte of the chunk (token bytes too), so a raw span is predicted in its text context.
"""

from __future__ import annotations

import numpy as np

from ..tokens import SymbolMode
from . import Predictor
from .llm import LlmLane
from .mixer import Ensemble, TokenMixer

_UNIFORM_256 = np.full(256, 1.0 / 256.0)


class RawSpans:
    """The LENGTH and RAW modes shared by both token layouts: a raw span's base-128 length, then
    its bytes under the byte model."""

    def __init__(self, byte_model: Predictor) -> None:
        self.byte_model = byte_model
        self._length = self._shift = self._remaining = 0

    def start(self) -> SymbolMode:
        self._length = self._shift = 0
        return SymbolMode.LENGTH

    def predict(self, mode: SymbolMode) -> np.ndarray:
        return _UNIFORM_256 if mode == SymbolMode.LENGTH else self.byte_model.predict()

    def update(self, mode: SymbolMode, symbol: int) -> SymbolMode:
        """Learn ``symbol`` in LENGTH or RAW mode; return the mode of the next symbol."""
        if mode == SymbolMode.LENGTH:
            self._length |= (symbol & 0x7F) << self._shift
            self._shift += 7
            if symbol & 0x80:
                return SymbolMode.LENGTH
            self._remaining = self._length
            return SymbolMode.RAW if self._remaining else SymbolMode.TOKEN
        self.byte_model.update(symbol)
        self._remaining -= 1
        return SymbolMode.RAW if self._remaining else SymbolMode.TOKEN


class TokenStreamModel:
    """Composite predictor whose alphabet depends on the mode (vocabulary + escape, or bytes)."""

    def __init__(self, llm: LlmLane, byte_model: Predictor, pieces: list[bytes],
                 allow_escape: bool, ensemble: Ensemble | None = None, mixer: TokenMixer | None = None) -> None:
        self.llm = llm
        self.mixer = mixer or TokenMixer(llm.codable, ensemble or Ensemble())
        self.byte_model = byte_model
        self.raw = RawSpans(byte_model)
        self.pieces = pieces
        self.allow_escape = allow_escape
        self.escape = llm.alphabet_size
        self.mode = SymbolMode.TOKEN
        self._escapes = 0
        self._token_steps = 0
        self.tokens = 0
        self._wants: bool | None = None

    def needs_llm(self) -> bool:
        """Whether the next prediction evaluates the LLM, decided from past symbols only; the lane
        schedule asks every lane before any predicts, to evaluate them all in one batch."""
        if self.mode != SymbolMode.TOKEN:
            return False
        if self._wants is None:
            self._wants = self.mixer.wants_llm()
        return self._wants

    def predict(self) -> np.ndarray:
        if self.mode == SymbolMode.TOKEN:
            wants, self._wants = self.needs_llm(), None
            p = self.mixer.predict(self.llm.predict() if wants else None)
            if not self.allow_escape:
                return p
            # Krichevsky-Trofimov estimate of the escape rate, learned from this chunk.
            pe = (self._escapes + 0.5) / (self._token_steps + 1.0)
            out = np.empty(p.shape[0] + 1)
            np.multiply(p, 1.0 - pe, out=out[:-1])
            out[-1] = pe
            return out
        return self.raw.predict(self.mode)

    def update(self, symbol: int) -> None:
        if self.mode == SymbolMode.TOKEN:
            self._token_steps += 1
            if symbol == self.escape:
                self._escapes += 1
                self.mode = self.raw.start()
                return
            self.tokens += 1
            self.llm.update(symbol)
            self.mixer.update(symbol)
            for byte in self.pieces[symbol]:
                self.byte_model.update(byte)
        else:
            self.mode = self.raw.update(self.mode, symbol)
