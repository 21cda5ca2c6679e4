"""A Fibonacci phrase hierarchy (after Quasicryth) as a sparse token predictor.

**The tiling.** Token positions k = 0, 1, 2, ... get letters of the Fibonacci (Sturmian) word by
cut-and-project: L when ``floor((k + 1 + theta) / phi) - floor((k + theta) / phi) == 1``, else S
(phi the golden ratio, theta a phase). Read as tiles, L covers 2 tokens and S covers 1, which cuts
the stream into level-0 tiles. The next level comes from the inverse Fibonacci substitution: an
L followed by an S merges into a super-L, an L followed by an L becomes a super-S on its own. The
super-tiles are again a Fibonacci word (the substitution L -> LS, S -> L is invertible on it), so
the construction repeats, and level j's tiles are F(j+2) or F(j+1) tokens long: L-tiles of 2, 3,
5, 8, 13, 21, 34, 55, 89 and 144 tokens at levels 0..9.

**Why every level keeps positions.** A Fibonacci word never has two S in a row and every S
follows an L, so every tile is consumed by a merge and every level is again a Fibonacci word
whose tile starts have density ~phi^-(j+1): positions thin out geometrically but never run out.
A periodic word such as (LLSLS)* does not have that property: after a few merges it produces an
S that follows no L, which cannot merge and is dropped; for LLSLS the levels go S L L, S L, L L,
S S and then nothing (measured by :func:`tile_starts`: no positions from level 5 on). That is
Quasicryth's "collapse", and why ``period5`` is its periodic baseline. ``none`` is no tiling at
all: every position is a tile start at every level (the dense hierarchy: the most lookups, and
codebooks that fill 1/density times faster).

**The predictor.** Level j keeps a bounded codebook from the hash of the F(j+2) tokens ending at
each level-j tile start to the position right after them. At every position a level without an
active match looks its last F(j+2) tokens up; a hit starts a match that predicts the token that
followed the earlier occurrence and extends while it keeps coming true (like an LZP match, at ten
context lengths). The deepest level with an active match is the prediction; the mixer weighs it by
level and match length (:mod:`nczip.predictors.mixer`). Insertions happen only at tile starts, so
the tiling decides which phrases a bounded codebook holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .schema import Declared, choice, integer, number
from .stage import N_CONF, ONE, Contribution, StageContext, TokenStage, bucket

PHRASE_EDGES = (4, 8, 16, 32, 64)  # phrase match length (tokens matched so far) -> 6 buckets
PHI = (1.0 + math.sqrt(5.0)) / 2.0
TILINGS = ("fibonacci", "period5", "none")
_PERIOD5 = (True, True, False, True, False)  # L L S L S


@dataclass(frozen=True)
class Phrase(Declared):
    """The phrase hierarchy's configuration (component ``phrase``)."""

    tiling: str = choice(TILINGS)
    levels: int = integer(1, 16)
    max_entries: int = integer(1, 1 << 24)
    theta: float = number(-1e6, 1e6, default=0.0)


def _letters(tiling: str, count: int, theta: float) -> np.ndarray:
    """Level-0 letters (True = L) of the first ``count`` tiles."""
    k = np.arange(count, dtype=np.float64)
    if tiling == "fibonacci":
        return (np.floor((k + 1.0 + theta) / PHI) - np.floor((k + theta) / PHI)) == 1.0
    if tiling == "period5":
        return np.array(_PERIOD5 * (count // 5 + 1), dtype=bool)[:count]
    raise ValueError(f"unknown tiling {tiling!r}")


def tile_starts(tiling: str, positions: int, levels: int, theta: float = 0.0) -> list[np.ndarray]:
    """Token positions (< ``positions``) where a tile starts, for each level 0..levels-1."""
    letters = _letters(tiling, positions + 1, theta)
    starts: Any = np.concatenate(([0], np.cumsum(np.where(letters, 2, 1))[:-1]))  # then a list
    keep = starts < positions
    kinds, starts = letters[keep].tolist(), starts[keep].tolist()
    out = [np.array(starts, dtype=np.int64)]
    for _ in range(1, levels):
        next_kinds, next_starts = [], []
        i, n = 0, len(kinds)
        while i < n:
            if kinds[i] and i + 1 < n and not kinds[i + 1]:
                next_kinds.append(True)  # L S -> super-L
                next_starts.append(starts[i])
                i += 2
            elif kinds[i]:
                next_kinds.append(False)  # lone L -> super-S
                next_starts.append(starts[i])
                i += 1
            else:
                i += 1  # an S that follows no L cannot merge: the position is lost (collapse)
        kinds, starts = next_kinds, next_starts
        out.append(np.array(starts, dtype=np.int64))
    return out


class PhraseHierarchy(TokenStage):
    """Ten levels of phrase codebooks on a tiling of the token stream (see the module docstring).

    As a stage: the deepest level's prediction, weighted by (level, match length bucket,
    confidence bucket).
    """

    NAME = "phrases/1"
    CONFIG = Phrase
    _MARGIN = 1024  # tile starts are final this far before the end of the computed range

    def __init__(self, tiling: str = "fibonacci", levels: int = 10, max_entries: int = 1 << 18,
                 theta: float = 0.0) -> None:
        if tiling not in TILINGS:
            raise ValueError(f"unknown tiling {tiling!r}")
        self.tiling = tiling
        self.levels = int(levels)
        self.max_entries = int(max_entries)
        self.theta = float(theta)
        fib = [1, 2]
        while len(fib) < self.levels + 1:
            fib.append(fib[-1] + fib[-2])
        self.lengths = fib[1:self.levels + 1]  # L-tile length per level: 2, 3, 5, ..., 144
        self._books: list[dict[int, int]] = [{} for _ in range(self.levels)]
        self._history: list[int] = []
        self._ptr = [-1] * self.levels
        self._run = [0] * self.levels  # tokens matched so far by each level's match
        self._starts: list[set[int]] = []
        self._computed = 0
        self.hits = np.zeros(self.levels, dtype=np.int64)  # deepest-level predictions that came true
        self.tries = np.zeros(self.levels, dtype=np.int64)
        self.weight_shape = (self.levels, len(PHRASE_EDGES) + 1, N_CONF)

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "PhraseHierarchy":
        return cls(config.tiling, config.levels, config.max_entries, config.theta)

    def sibling(self) -> "PhraseHierarchy":
        return PhraseHierarchy(self.tiling, self.levels, self.max_entries, self.theta)  # own history

    def predict(self, ctx: StageContext) -> list[Contribution]:
        guess = self.predicted()
        if guess is None or guess[0] >= ctx.n:
            return []
        token, level, run = guess
        return [((level, bucket(run, PHRASE_EDGES), ctx.conf), np.array([token]), ONE)]

    def _is_start(self, level: int, position: int) -> bool:
        if self.tiling == "none":
            return True
        if position >= self._computed - self._MARGIN:
            self._computed = max(4096, 4 * self._computed)
            self._starts = [set(a.tolist()) for a in tile_starts(self.tiling, self._computed, self.levels,
                                                                  self.theta)]
        return position in self._starts[level]

    def predicted(self) -> tuple[int, int, int] | None:
        """(token, level, match length) of the deepest level with an active match, or None."""
        for level in range(self.levels - 1, -1, -1):
            ptr = self._ptr[level]
            if ptr >= 0:
                return self._history[ptr], level, self._run[level]
        return None

    def update(self, token: int) -> None:
        guess = self.predicted()
        if guess is not None:
            self.tries[guess[1]] += 1
            self.hits[guess[1]] += guess[0] == token
        h = self._history
        for level in range(self.levels):
            ptr = self._ptr[level]
            if ptr >= 0:
                if h[ptr] == token:
                    self._ptr[level] = ptr + 1
                    self._run[level] += 1
                else:
                    self._ptr[level] = -1
                    self._run[level] = 0
        h.append(token)
        t = len(h)
        for level, length in enumerate(self.lengths):
            if t < length:
                break
            key = hash(tuple(h[t - length:]))
            book = self._books[level]
            if self._ptr[level] < 0:
                found = book.get(key)
                if found is not None:
                    self._ptr[level] = found
                    self._run[level] = length
            if self._is_start(level, t) and (key in book or len(book) < self.max_entries):
                book[key] = t
        for level in range(self.levels):
            if self._ptr[level] >= t:  # cannot predict past what has been seen
                self._ptr[level] = -1
                self._run[level] = 0
