"""Online token n-gram tables (orders 2..32) and an LZP-style match model.

Both learn from the chunk being coded and only ever speak about tokens they have seen follow the
current context, so they are *sparse* predictors: the mixer (:mod:`nczip.predictors.mixer`) lets
them move probability onto those few tokens and leaves the shape of the rest of the distribution
alone. Memory is bounded: at most ``max_contexts`` contexts per order and ``max_followers``
distinct continuations per context (the rarest is forgotten), and the match model's index holds
one position per hashed context.

Context keys are the hashes of Python tuples of ints: integer and tuple hashing is not randomised
per process (only str/bytes are), so encoder and decoder build identical tables. A 64-bit hash
instead of the tuple itself saves ~1.3 KB per position over the nine orders (a 32-token tuple
alone is 312 bytes); two contexts of one order colliding is a ~2^-40 event per lookup at 1 MiB,
and would only make a prediction worse, never undecodable. A context with one continuation so
far (most high-order contexts) stores it as one int, ``token << 32 | count``, rather than a dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .schema import Declared, Invalid, custom, integer
from .stage import N_CONF, ONE, Contribution, StageContext, TokenStage, bucket

_COUNT = (1 << 32) - 1
COUNT_EDGES = (2.0, 4.0, 8.0, 16.0)  # total continuations seen in a context -> 5 buckets
SKIP_ORDER_EDGES = (4, 8, 16)  # order of a deterministic context proposed for the skip -> 4 buckets (x 2 counts)
MATCH_EDGES = (8, 12, 16, 24, 32)  # match length -> 6 buckets


def _orders(raw: Any) -> tuple[int, ...]:
    if (not isinstance(raw, list) or not 1 <= len(raw) <= 16
            or any(isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 64 for k in raw)
            or len(set(raw)) != len(raw)):
        raise Invalid("orders must be a list of 1 to 16 distinct integers in [1, 64]")
    return tuple(sorted(raw))


@dataclass(frozen=True)
class Ngram(Declared):
    """The n-gram stage's configuration (component ``ngram``): its orders and table bounds."""

    orders: tuple[int, ...] = custom(_orders)
    max_contexts: int = integer(1, 1 << 20)
    max_followers: int = integer(1, 64)


@dataclass(frozen=True)
class Match(Declared):
    """The match model's configuration (component ``match``)."""

    min_length: int = integer(1, 64)
    max_index: int = integer(1, 1 << 24)


@dataclass
class NgramHit:
    """What one order knows about the current context: continuations and their counts."""

    order: int
    tokens: np.ndarray  # int64 token ids seen after this context
    counts: np.ndarray  # float64 counts, same length
    total: float


class NgramModel(TokenStage):
    """Counts of the tokens that followed each context of ``orders`` tokens.

    As a stage: every order whose context was seen, lowest first, contributes its empirical
    continuation distribution, weighted by (order, count bucket, confidence bucket).
    """

    NAME = "ngram/1"
    CONFIG = Ngram
    proposal_buckets = 2 * (len(SKIP_ORDER_EDGES) + 1)

    def __init__(self, orders: tuple[int, ...] = (2, 3, 4, 6, 8, 12, 16, 24, 32),
                 max_contexts: int = 1 << 20, max_followers: int = 16) -> None:
        self.orders = tuple(sorted(int(k) for k in orders))
        self.max_contexts = int(max_contexts)
        self.max_followers = int(max_followers)
        self._tables: list[dict[int, int | dict[int, int]]] = [{} for _ in self.orders]
        self._history: list[int] = []
        self._seen = 0
        self._window = max(self.orders)
        self._keys: list[int] = []  # hashes of the current contexts, one per order (computed once)
        self._keys_at = -1  # number of tokens seen when _keys was computed
        self._hits: list[NgramHit] = []  # what prepare() saw
        self._hits_fresh = False  # whether the next predict() uses them
        self.weight_shape = (len(self.orders), len(COUNT_EDGES) + 1, N_CONF)

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "NgramModel":
        return cls(config.orders, config.max_contexts, config.max_followers)

    def sharing(self) -> "NgramModel":
        """A model for another lane of the chunk: these tables (each lane's tokens count for all),
        its own context."""
        other = NgramModel(self.orders, self.max_contexts, self.max_followers)
        other._tables = self._tables
        return other

    def sibling(self) -> "NgramModel":
        return self.sharing()

    def prepare(self) -> None:
        # The lanes share the tables and update them one after another: the next predict() must
        # see them as they were now, before any lane of this step updated them.
        self._hits = self.hits()
        self._hits_fresh = True

    def propose(self) -> tuple[int, int] | None:
        """The highest order seen here if it has only ever seen one continuation (bucket by order
        and count)."""
        if self._hits:
            top = self._hits[-1]
            if top.tokens.shape[0] == 1 and top.order >= 3 and top.total >= 2:
                order_bucket = min(len(SKIP_ORDER_EDGES), bucket(top.order, SKIP_ORDER_EDGES))
                count_bucket = 0 if top.total < 4 else 1
                return int(top.tokens[0]), 2 * order_bucket + count_bucket
        return None

    def predict(self, ctx: StageContext) -> list[Contribution]:
        hits = self._hits if self._hits_fresh else self.hits()
        self._hits_fresh = False
        return [((self.orders.index(hit.order), bucket(hit.total, COUNT_EDGES), ctx.conf), hit.tokens,
                 hit.counts / hit.total) for hit in hits]

    def _context_keys(self) -> list[int]:
        h = self._history
        if self._keys_at != self._seen:
            self._keys = [hash(tuple(h[-order:])) for order in self.orders if len(h) >= order]
            self._keys_at = self._seen
        return self._keys

    def hits(self) -> list[NgramHit]:
        """The orders whose current context has been seen, lowest order first."""
        out = []
        for order, table, key in zip(self.orders, self._tables, self._context_keys()):
            stats = table.get(key)
            if stats is None:
                continue
            if isinstance(stats, int):
                out.append(NgramHit(order, np.array([stats >> 32]), np.array([float(stats & _COUNT)]),
                                    float(stats & _COUNT)))
            else:
                tokens = np.fromiter(stats.keys(), np.int64, len(stats))
                counts = np.fromiter(stats.values(), np.float64, len(stats))
                out.append(NgramHit(order, tokens, counts, float(np.cumsum(counts)[-1])))
        return out

    def update(self, token: int) -> None:
        for table, key in zip(self._tables, self._context_keys()):
            stats = table.get(key)
            if stats is None:
                if len(table) < self.max_contexts:
                    table[key] = token << 32 | 1
                continue
            if isinstance(stats, int):
                if stats >> 32 == token:
                    table[key] = stats + 1
                    continue
                stats = table[key] = {stats >> 32: stats & _COUNT}
            if token in stats:
                stats[token] += 1
            else:
                if len(stats) >= self.max_followers:
                    del stats[min(stats, key=stats.__getitem__)]
                stats[token] = 1
        h = self._history
        h.append(token)
        self._seen += 1
        if len(h) > 4 * self._window:
            del h[: len(h) - self._window]


class MatchModel(TokenStage):
    """Predicts the token that followed the most recent earlier occurrence of the current context.

    Like LZP: an index from the hash of the last ``min_length`` tokens to the position after
    them. While the prediction keeps coming true the match extends; its length is the confidence
    signal the mixer learns to trust (weights by length bucket and confidence bucket). Catches
    repeats far beyond the LLM's context window.
    """

    NAME = "match/1"
    CONFIG = Match
    weight_shape = (len(MATCH_EDGES) + 1, N_CONF)
    proposal_buckets = len(MATCH_EDGES) + 1

    def __init__(self, min_length: int = 6, max_index: int = 1 << 20) -> None:
        self.min_length = int(min_length)
        self.max_index = int(max_index)
        self._history: list[int] = []
        self._index: dict[tuple[int, ...], int] = {}
        self._ptr = -1
        self.length = 0

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "MatchModel":
        return cls(config.min_length, config.max_index)

    def sibling(self) -> "MatchModel":
        return MatchModel(self.min_length, self.max_index)  # each lane matches its own history

    def predicted(self) -> int | None:
        """The token the current match expects next, or None."""
        return self._history[self._ptr] if self._ptr >= 0 else None

    def predict(self, ctx: StageContext) -> list[Contribution]:
        token = self.predicted()
        if token is None or not ctx.codable[token]:
            return []
        return [((bucket(self.length, MATCH_EDGES), ctx.conf), np.array([token]), ONE)]

    def propose(self) -> tuple[int, int] | None:
        """A long match's next token (bucket by length)."""
        token = self.predicted()
        if token is not None and self.length >= 8:
            return token, bucket(self.length, MATCH_EDGES)
        return None

    def update(self, token: int) -> None:
        h = self._history
        if self._ptr >= 0 and h[self._ptr] == token:
            self._ptr += 1
            self.length += 1
        else:
            self._ptr = -1
            self.length = 0
        h.append(token)
        n = len(h)
        if n >= self.min_length:
            key = tuple(h[n - self.min_length:])
            if self._ptr < 0:
                found = self._index.get(key)
                if found is not None:
                    self._ptr = found
                    self.length = self.min_length
            if key in self._index or len(self._index) < self.max_index:
                self._index[key] = n
        if self._ptr >= n:  # cannot predict past the end of what we have seen
            self._ptr = -1
            self.length = 0
