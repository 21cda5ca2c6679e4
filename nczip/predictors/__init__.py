"""Predictors: models that give a probability for every next symbol and learn from each one.

Every model speaks the :class:`Predictor` interface, so the codec loop and the mixer never know
which model they drive. :func:`build_predictor` turns a codec configuration (as stored in a
container header) back into the model, which is how a decoder rebuilds the encoder's exact state.

The token models the mixer combines speak a second, sparse interface (their contribution to the
next token, then learn it: :class:`nczip.predictors.stage.TokenStage`), and are built by name
from :mod:`nczip.predictors.registry`. Each model declares its configuration (a header's part of
it) beside its code, with :mod:`nczip.predictors.schema`; :mod:`nczip.config` reads headers with
those declarations.
"""

from __future__ import annotations

from ..coding.loop import Predictor  # the interface the coding loop drives, defined beside it
from .bytecontext import BytePpm, ByteContextModel

__all__ = ["Predictor", "build_predictor"]


def build_predictor(spec: BytePpm) -> Predictor:
    """Build a fresh byte predictor from its validated specification (:mod:`nczip.config`)."""
    if spec.name != ByteContextModel.NAME:
        raise ValueError(f"unknown predictor {spec.name!r}")
    return ByteContextModel(spec.max_order, spec.discount, spec.max_contexts)
