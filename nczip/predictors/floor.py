"""The floor: a uniform distribution over every predicted id, as the last stage.

The fast levels' token models underrate rare types: coding under the quantiser's 1/2^24 floor
came out smaller than their own ideal code length. The floor's share is learned per confidence
bucket of the base distribution, from ``init`` (measured in nczip/levels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .schema import Declared, number
from .stage import Contribution, StageContext, TokenStage


@dataclass(frozen=True)
class FloorConfig(Declared):
    """The floor's configuration (component ``floor``): its weights' initial value."""

    init: float = number(-50.0, 50.0)


class Floor(TokenStage):
    """``s = 1/n`` on every predicted id; one weight per confidence bucket."""

    CONFIG = FloorConfig

    def __init__(self, init: float) -> None:
        self.init = init
        self.weight_init = init

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "Floor":
        return cls(config.init)

    def predict(self, ctx: StageContext) -> list[Contribution]:
        return [((ctx.conf,), None, 1.0 / ctx.n)]  # None: every id, each with s

    def update(self, token: int) -> None:
        pass  # nothing to learn but its weights, which the mixer trains

    def sibling(self) -> "Floor":
        return Floor(self.init)
