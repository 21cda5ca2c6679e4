"""The token ensemble's registry: every online token model by component name, and building them.

A component name is the key of the model's configuration in a header's ``ensemble`` object
(:class:`nczip.predictors.mixer.Ensemble`) and the value of :class:`nczip.Component`. The stage
interface is :mod:`nczip.predictors.stage`, which knows no model; this module imports the models.

Why the order matters: the stages are applied one after another in :data:`STAGES`'s order and
each rescales what came before, so the order is part of the arithmetic of every file written. A
new stage goes last; moving one changes the bytes of every file that uses both.
"""

from __future__ import annotations

from typing import Any, TypeVar

from .bias import BiasHead
from .floor import Floor
from .ngram import MatchModel, NgramModel
from .phrases import PhraseHierarchy
from .ssm import SsmStage
from .stage import Head, TokenStage

T = TypeVar("T", TokenStage, Head)

#: The sparse stages by component name, in the order the mixer applies them: that order is part of
#: the format (a new stage goes last).
STAGES: dict[str, type[TokenStage]] = {
    "ssm": SsmStage,
    "ngram": NgramModel,
    "match": MatchModel,
    "phrase": PhraseHierarchy,
    "floor": Floor,
}
#: Heads: applied to the mixed distribution after every stage, in this order.
HEADS: dict[str, type[Head]] = {
    "bias": BiasHead,
}
#: Components that are the mixer's own settings (its learning rates, the confidence skip), not
#: models: their configuration types are the mixer's (:mod:`nczip.predictors.mixer`).
SETTINGS = ("mixer", "skip")
#: Every component name a configuration may switch on.
COMPONENTS = (*STAGES, *HEADS, *SETTINGS)


def component_names() -> tuple[str, ...]:
    """Every component name a configuration may switch on: what ``nczip.Component`` lists."""
    return COMPONENTS


def _build(registry: dict[str, type[T]], config: Any, n_vocab: int) -> list[tuple[str, T]]:
    """The models of ``registry`` that ``config`` (an ``Ensemble``) switches on, in the registry's order."""
    return [(name, model.from_config(getattr(config, name), n_vocab)) for name, model in registry.items()
            if getattr(config, name) is not None]


def build_stages(config: Any, n_vocab: int) -> list[tuple[str, TokenStage]]:
    """The stages ``config`` (an ``Ensemble``) switches on, in :data:`STAGES`'s order."""
    return _build(STAGES, config, n_vocab)


def build_heads(config: Any, n_vocab: int) -> list[tuple[str, Head]]:
    """The heads ``config`` (an ``Ensemble``) switches on, in :data:`HEADS`'s order."""
    return _build(HEADS, config, n_vocab)
