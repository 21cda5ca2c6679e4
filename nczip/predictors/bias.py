"""The bias head: a per-document vector over the vocabulary, applied in log space after the stages.

``q <- q * exp(b) / Z``, updated by ``b -= lr * (q - onehot(y))`` after every token: it learns the
document's unigram drift. It is a head, not a linear stage (:mod:`nczip.predictors.stage`),
because it reweights every id multiplicatively. Only ``exp(b)`` is kept, and its update is
multiplicative too (``nc_bias_update`` in nczip/kernels/dense.c), so no log or exp of the whole
vector is taken per token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import kernels
from ..kernels import ptr
from .schema import Declared, number
from .stage import Head


@dataclass(frozen=True)
class Bias(Declared):
    """The bias head's configuration (component ``bias``)."""

    lr: float = number(0.0, 10.0)
    warmup: float = number(0.0, 1e9, default=0.0)


class BiasHead(Head):
    """``exp(b)`` over ``n_vocab`` ids, with learning rate ``lr`` ramped up over ``warmup`` tokens."""

    CONFIG = Bias

    def __init__(self, n_vocab: int, lr: float, warmup: float = 0.0) -> None:
        self.lr = lr
        self.warmup = warmup
        self.exp_bias = np.ones(n_vocab)
        self._p = ptr(self.exp_bias)
        self._k = kernels.lib()

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "BiasHead":
        return cls(n_vocab, config.lr, config.warmup)

    def apply(self, q: np.ndarray, scale: float) -> None:
        self._k.nc_scale_bias(ptr(q), q.shape[0], scale, self._p)  # one pass: scale, bias, normalise

    def update(self, q: np.ndarray, token: int, step: int) -> None:
        # The rate ramps up over the first tokens: a large step on little evidence hurts.
        rate = self.lr * min(1.0, (step + 1) / self.warmup) if self.warmup else self.lr
        self._k.nc_bias_update(self._p, ptr(q), q.shape[0], rate, token)

    def sibling(self) -> "BiasHead":
        return self  # the lanes of a chunk share one bias vector (they are one document)
