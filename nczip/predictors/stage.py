"""The token ensemble's one model interface, and the registry that builds the mixer's inputs by name.

Why an interface: the mixer (:mod:`nczip.predictors.mixer`) used to know every model by its own
calls (``hits()``, ``predicted()``, ``probs(n)``, ...), so a new model meant edits in four places
of the mixer. Now it only walks :data:`STAGES` (and :data:`HEADS`) in order and asks each model the
same questions, as cmix's ``Model``:

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

Why the order matters: the stages are applied one after another in :data:`STAGES`'s order and
each rescales what came before, so the order is part of the arithmetic of every file written. A
new stage goes last; moving one changes the bytes of every file that uses both.

The bias head (:mod:`nczip.predictors.bias`) is the other kind, a *head*: it reweights the whole
mixed distribution in log space (``q * exp(b) / Z``), which no linear stage can express.
``mixer`` and ``skip`` are the mixer's own settings (its learning rates, the confidence skip), not
models. How to add a model: docs/stages.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import numpy as np

T = TypeVar("T")

if TYPE_CHECKING:
    from ..config import Ensemble

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

    #: shape of the weight table the stage's cells index (one table per stage, shared by lanes)
    weight_shape: tuple[int, ...] = (N_CONF,)
    #: its entries' initial value; None: the mixer's (``mixer.init``, else ``stage_init``)
    weight_init: float | None = None
    #: how many skip-statistics buckets :meth:`propose` uses (0: the stage never proposes)
    proposal_buckets = 0

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "TokenStage":
        """The stage a validated component configuration describes (:mod:`nczip.config`)."""
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


def _ssm(config: Any, n_vocab: int) -> TokenStage:
    from .ssm import SsmStage

    return SsmStage.from_config(config, n_vocab)


def _ngram(config: Any, n_vocab: int) -> TokenStage:
    from .ngram import NgramModel

    return NgramModel.from_config(config, n_vocab)


def _match(config: Any, n_vocab: int) -> TokenStage:
    from .ngram import MatchModel

    return MatchModel.from_config(config, n_vocab)


def _phrase(config: Any, n_vocab: int) -> TokenStage:
    from .phrases import PhraseHierarchy

    return PhraseHierarchy.from_config(config, n_vocab)


def _floor(config: Any, n_vocab: int) -> TokenStage:
    from .floor import Floor

    return Floor.from_config(config, n_vocab)


class Head:
    """A model applied to the mixed distribution as a whole, after every stage (the bias head)."""

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


def _bias(config: Any, n_vocab: int) -> Head:
    from .bias import BiasHead

    return BiasHead.from_config(config, n_vocab)


#: The sparse stages by component name (the key in the ``ensemble`` configuration), in the order
#: the mixer applies them: that order is part of the format (a new stage goes last).
STAGES: dict[str, Callable[[Any, int], TokenStage]] = {
    "ssm": _ssm,
    "ngram": _ngram,
    "match": _match,
    "phrase": _phrase,
    "floor": _floor,
}
#: Heads: applied to the mixed distribution after every stage, in this order.
HEADS: dict[str, Callable[[Any, int], Head]] = {
    "bias": _bias,
}
#: Components that are the mixer's own settings, not models.
SETTINGS = ("mixer", "skip")
#: Every component name a configuration may switch on.
COMPONENTS = (*STAGES, *HEADS, *SETTINGS)


def _build(registry: dict[str, Callable[[Any, int], T]], config: Ensemble, n_vocab: int) -> list[tuple[str, T]]:
    """The models of ``registry`` that ``config`` switches on, in the registry's order."""
    return [(name, build(getattr(config, name), n_vocab)) for name, build in registry.items()
            if getattr(config, name) is not None]


def build_stages(config: Ensemble, n_vocab: int) -> list[tuple[str, TokenStage]]:
    """The stages ``config`` switches on, in :data:`STAGES`'s order."""
    return _build(STAGES, config, n_vocab)


def build_heads(config: Ensemble, n_vocab: int) -> list[tuple[str, Head]]:
    """The heads ``config`` switches on, in :data:`HEADS`'s order."""
    return _build(HEADS, config, n_vocab)
