"""The token ensemble's one model interface: what the mixer asks of every online token model.

Why an interface: the mixer (:mod:`nczip.predictors.mixer`) used to know every model by its own
calls (``hits()``, ``predicted()``, ``probs(n)``, ...), so a new model meant edits in four places
of the mixer. Now it only walks the registry's stages (and heads) in order
(:mod:`nczip.predictors.registry`) and asks each model the same questions, as cmix's ``Model``:

- :meth:`TokenStage.predict` gives the model's contribution to the next token, as
  :data:`Contribution` triples ``(cell, tokens, s)``: ``s`` is a distribution over ``tokens``
  (``None``: every predicted id, each with the scalar ``s``) and ``cell`` indexes the model's own
  weight table, whose entry the mixer turns into the share ``lambda = sigmoid(w[cell])`` it moves
  onto ``s`` (``q <- (1 - lambda) q + lambda s``) and trains by the exact gradient of code length;
- :meth:`TokenStage.update` learns the token that came (the decoder calls it with the same tokens);
- :meth:`TokenStage.sibling` gives the model for another lane of the same chunk (shared learned
  state where the model has some worth sharing, its own context);
- optional: :meth:`TokenStage.prepare` (look at the context before a step's first prediction) and
  :meth:`TokenStage.propose` (a confident guess that may let the LLM be skipped).

The bias head (:mod:`nczip.predictors.bias`) is the other kind, a *head*: it reweights the whole
mixed distribution in log space (``q * exp(b) / Z``), which no linear stage can express.

Each model names its configuration type, :attr:`TokenStage.CONFIG` (a dataclass declared with
:mod:`nczip.predictors.schema` in the model's module). This module knows no concrete model: the
models import it, and the registry imports them. How to add a model: docs/stages.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

#: One term of a stage's prediction: (weight cell, token ids or None for every id, their probabilities).
Contribution = tuple[tuple[int, ...], "np.ndarray | None", "np.ndarray | float"]

CONF_EDGES = (0.3, 0.6, 0.9)  # max probability of the base distribution -> 4 buckets
N_CONF = len(CONF_EDGES) + 1
ONE = np.ones(1)  # s of a stage that proposes a single token


def bucket(value: float, edges: tuple[float, ...]) -> int:
    """Index of the first edge above ``value`` (``len(edges)`` when none is)."""
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


@dataclass(frozen=True, slots=True)
class StageContext:
    """What every stage may look at when it predicts."""

    conf: int  # confidence bucket of the base distribution (bucket(max prob, CONF_EDGES))
    n: int  # ids predicted this step: the whole vocabulary, or the types seen so far (compact)
    codable: np.ndarray  # bool per token id: False for ids that can never occur


class TokenStage:
    """A sparse token model mixed linearly by :class:`~nczip.predictors.mixer.TokenMixer`.

    Subclasses set :attr:`weight_shape` (the shape of their weight table) and implement
    :meth:`predict`, :meth:`update`, :meth:`sibling` and :meth:`from_config`.
    """

    #: the configuration type a header's component gives it (:mod:`nczip.predictors.schema`)
    CONFIG: ClassVar[type]
    #: shape of the weight table the stage's cells index (one table per stage, shared by lanes)
    weight_shape: tuple[int, ...] = (N_CONF,)
    #: its entries' initial value; None: the mixer's (``mixer.init``, else ``stage_init``)
    weight_init: float | None = None
    #: how many skip-statistics buckets :meth:`propose` uses (0: the stage never proposes)
    proposal_buckets = 0

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "TokenStage":
        """The stage a validated component configuration (a :attr:`CONFIG`) describes."""
        raise NotImplementedError

    def predict(self, ctx: StageContext) -> list[Contribution]:
        """The stage's contribution to the next token, in the order the mixer applies it."""
        raise NotImplementedError

    def update(self, token: int) -> None:
        """Learn that ``token`` came next."""
        raise NotImplementedError

    def sibling(self) -> "TokenStage":
        """The stage for another lane of the chunk (see :meth:`TokenMixer.sibling`)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Look at the context of the next token before the step's prediction. The LLM levels call
        it (:meth:`TokenMixer.wants_llm`) for every lane before any lane predicts or updates, so a
        stage whose tables the lanes share keeps what it saw here for its next :meth:`predict`,
        which uses it once: that is the schedule files were written with."""

    def propose(self) -> tuple[int, int] | None:
        """A confident guess ``(token, bucket < proposal_buckets)`` for the next token, or None."""
        return None


class Head:
    """A model applied to the mixed distribution as a whole, after every stage (the bias head)."""

    #: the configuration type a header's component gives it (:mod:`nczip.predictors.schema`)
    CONFIG: ClassVar[type]

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "Head":
        raise NotImplementedError

    def apply(self, q: np.ndarray, scale: float) -> None:
        """``q <- normalise(scale * q * head)`` in place (``q`` a prefix of the mixer's buffer)."""
        raise NotImplementedError

    def update(self, q: np.ndarray, token: int, step: int) -> None:
        """Learn ``token`` from the distribution ``q`` it was coded with (``step`` tokens before it)."""
        raise NotImplementedError

    def sibling(self) -> "Head":
        """The head for another lane of the chunk."""
        raise NotImplementedError
