"""A container's codec configuration as typed, validated values: the only door from a header to the models.

A header's configuration is JSON written by some encoder, so it is untrusted input: a size in it
becomes a C stack array, an allocation or a loop bound. :func:`parse` checks every field (type,
range, required, unknown keys refused) and every model's arithmetic name before anything is
allocated or handed to C, and returns frozen dataclasses; the models take those, never the raw
dict. The encoder parses its own configuration the same way, so whatever it writes, a decoder
accepts. Any failure is a :class:`~nczip.errors.FormatError` with a one-line reason.

Each model declares its part of the configuration beside its code (:mod:`nczip.predictors.schema`:
``Ssm`` in ssm.py, ``CmSpec`` in cm.py, ...): its fields, bounds, defaults and arithmetic name.
This module only walks those declarations, from :class:`CodecConfig` down. Each model's arithmetic
is named and versioned (``bytes-ppm/1``, ``llm/2``, ``mixer/2``, ``compact/2``, ``ssm/3``,
``cm/1``, quantizer 1 to 3): a change to what a model computes gets a new name, so a decoder either
runs exactly the encoder's arithmetic or refuses by name. Names this version knows but no longer
runs (the development versions whose floats depended on numpy's or libm's per-CPU code) are
refused with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Iterator

from .coding.quantize import QUANTIZERS
from .predictors.bias import Bias
from .predictors.bytecontext import BYTE_MODEL, BytePpm
from .predictors.cm import CM, CM_CONTEXTS, CmSpec
from .predictors.compact import COMPACT, NewTypes, Tokens
from .predictors.floor import FloorConfig
from .predictors.llm import LLM, MAX_LANE_TOKENS, MAX_LANES, Llm
from .predictors.mixer import MIXER, Ensemble, MixerRates, Skip
from .predictors.ngram import Match, Ngram
from .predictors.phrases import TILINGS, Phrase
from .predictors.schema import MAX_INT32, MISSING, Declared, Fields, Name, Part, Spec, bad, integer, part, spec
from .predictors.ssm import SSM, Ssm

__all__ = ["parse", "parse_model", "CodecConfig", "ModelIdentity", "RETIRED", "MAX_INT32",
           # each model's declaration, from its own module
           "BYTE_MODEL", "BytePpm", "LLM", "Llm", "MAX_LANES", "MAX_LANE_TOKENS", "MIXER", "Ensemble",
           "MixerRates", "Skip", "Ngram", "Match", "Bias", "Phrase", "TILINGS", "FloorConfig", "SSM", "Ssm",
           "COMPACT", "NewTypes", "Tokens", "CM", "CM_CONTEXTS", "CmSpec"]


@dataclass(frozen=True)
class CodecConfig(Declared):
    """Everything a chunk coder needs from a header, validated."""

    predictor: BytePpm = part(BytePpm, required=True)
    zstd_level: int = integer(1, 22)
    quantize: int = integer(1, max(QUANTIZERS), default=1)  # files from before it was recorded used 1
    llm: Llm | None = part(Llm)
    ensemble: Ensemble | None = part(Ensemble)
    tokens: Tokens | None = part(Tokens)
    cm: CmSpec | None = part(CmSpec)

    @property
    def uses_llm(self) -> bool:
        return self.llm is not None

    def retired(self) -> str | None:
        """Why this configuration's token models cannot run here (None if they can).

        Checked before the first token chunk is decoded, not when the header is read: a file of a
        retired version whose chunks all went to the byte model, zstd or storage still decodes."""
        for name in _names(self):
            if name in RETIRED:
                return (f"this file's {name} model was written by an earlier development version of nczip whose"
                        f" arithmetic depended on the CPU; this nczip runs {RETIRED[name]}")
        return None

    @property
    def token_level(self) -> bool:
        """Whether chunks may be coded as tokens (LLM or compact), which needs the model's vocabulary."""
        return self.llm is not None or self.tokens is not None


def _declarations(cls: type) -> Iterator[Spec]:
    """The declarations of ``cls``'s fields and of the parts below it, depth first."""
    for f in fields(cls):
        declared = spec(f)
        if declared is not None:
            yield declared
            if isinstance(declared, Part):
                yield from _declarations(declared.cls)


def _names(config: Any) -> Iterator[str]:
    """The arithmetic names in a configuration, each part's before its own."""
    for f in fields(config):
        if isinstance(spec(f), Part) and getattr(config, f.name) is not None:
            yield from _names(getattr(config, f.name))
    yield from (getattr(config, f.name) for f in fields(config) if isinstance(spec(f), Name))


#: Names of former versions this nczip knows but no longer runs, and the version it runs instead.
RETIRED = {old: s.expected for s in _declarations(CodecConfig) if isinstance(s, Name) for old in s.retired}


@dataclass(frozen=True)
class ModelIdentity:
    """Which model file and backend a container was coded with (see :mod:`nczip.backend`)."""

    name: str
    sha256: str
    backend: str = ""


def parse_model(raw: Any) -> ModelIdentity | None:
    """Validate a header's model identity (None: the file names no model)."""
    f = Fields(raw, "model identity")
    if not raw:
        return None
    name, sha256, backend = f._get("name", True), f._get("sha256", True), f._get("backend", False)
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        raise bad("model identity", "name must be a string of 1 to 200 characters")
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise bad("model identity", "sha256 must be 64 lowercase hexadecimal digits")
    if backend is MISSING:
        backend = ""
    if not isinstance(backend, str) or len(backend) > 1000:
        raise bad("model identity", "backend must be a string of at most 1000 characters")
    f.done()
    return ModelIdentity(name, sha256, backend)


def parse(raw: Any) -> CodecConfig:
    """Validate a header's configuration (see the module docstring); raise :class:`FormatError`."""
    config = CodecConfig.parse(raw, "configuration")
    if config.llm is not None and config.tokens is not None:
        raise bad("configuration", "both llm and tokens")
    if config.cm is not None and config.tokens is not None:
        raise bad("configuration", "cm beside tokens")
    if config.ensemble is not None and config.llm is None:
        raise bad("configuration", "an ensemble without an llm")
    return config
