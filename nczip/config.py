"""A container's codec configuration as typed, validated values: the only door from a header to the models.

A header's configuration is JSON written by some encoder, so it is untrusted input: a size in it
becomes a C stack array, an allocation or a loop bound. :func:`parse` checks every field (type,
range, required, unknown keys refused) and every model's arithmetic name before anything is
allocated or handed to C, and returns frozen dataclasses; the models take those, never the raw
dict. The encoder parses its own configuration the same way, so whatever it writes, a decoder
accepts. Any failure is a :class:`~nczip.errors.FormatError` with a one-line reason.

Each model's arithmetic is named and versioned (``bytes-ppm/1``, ``llm/2``, ``mixer/2``,
``compact/2``, ``ssm/3``, quantizer 1 and 2): a change to what a model computes gets a new name, so
a decoder either runs exactly the encoder's arithmetic or refuses by name. Names this version
knows but no longer runs (the development versions whose floats depended on numpy's or libm's
per-CPU code) are refused with that reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Callable, TypeVar

from .coding.quantize import QUANTIZERS
from .errors import FormatError

T = TypeVar("T")

BYTE_MODEL = "bytes-ppm/1"
LLM = "llm/2"
MIXER = "mixer/2"
COMPACT = "compact/2"
SSM = "ssm/3"
CM = "cm/1"
# The context-mixing core's contexts, in the order of its bit mask (nczip/kernels/cm.c, CTX_*).
CM_CONTEXTS = ("o0", "o1", "o2", "o3", "o4", "o5", "o6", "o8", "word", "word2", "sparse1", "sparse2",
               "column", "sparse3", "word3")
TILINGS = ("fibonacci", "period5", "none")
# Written by earlier development versions: their log-softmax, sigmoid, Zipf prior or SSM
# initialisation used numpy's or libm's exp/log, whose last bits differ between CPUs.
RETIRED = {"llm/1": LLM, "mixer/1": MIXER, "compact/1": COMPACT, "ssm/1": SSM, "ssm/2": SSM}
MAX_INT32 = (1 << 31) - 1
# Lanes per chunk, and their KV windows in all: each lane's window is allocated up front (~23 KB a
# token for SmolLM2-135M), so 2^17 tokens bounds what a header can make a decoder allocate (~3 GB).
MAX_LANES = 256
MAX_LANE_TOKENS = 1 << 17
MISSING: Any = object()  # an optional field that is absent


class _Fields:
    """Reads one JSON object's fields with bounds; remembers which keys were used."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise _bad(where, f"must be an object, not {_kind(raw)}")
        self.raw, self.where, self.used = raw, where, set[str]()

    def _get(self, key: str, required: bool) -> Any:
        """The field's value; MISSING when it is absent and optional (JSON null is a value)."""
        self.used.add(key)
        if key not in self.raw:
            if required:
                raise _bad(self.where, f"missing {key!r}")
            return MISSING
        return self.raw[key]

    def int(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self._get(key, default is None)
        if value is MISSING:
            assert default is not None  # absent only when optional, i.e. with a default
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self.where, f"{key} must be an integer, not {_kind(value)}")
        if not low <= value <= high:
            raise _bad(self.where, f"{key} {_short(value)} out of range [{low}, {high}]")
        return value

    def float(self, key: str, low: float, high: float, default: float | None = None) -> float:
        value = self._get(key, default is None)
        if value is MISSING:
            assert default is not None  # absent only when optional, i.e. with a default
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(self.where, f"{key} must be a number, not {_kind(value)}")
        value = float(value)
        if not (math.isfinite(value) and low <= value <= high):
            raise _bad(self.where, f"{key} {_short(value)} out of range [{low}, {high}]")
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self._get(key, False)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            raise _bad(self.where, f"{key} must be true or false, not {_kind(value)}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self._get(key, True)
        if not isinstance(value, str) or value not in allowed:
            raise _bad(self.where, f"{key} {_short(value)} is not one of {', '.join(allowed)}")
        return value

    def name(self, expected: str, missing: str | None = None) -> str:
        """The model's arithmetic name; ``missing`` is what an absent name means (old files)."""
        value = self._get("name", missing is None)
        value = missing if value is MISSING else value
        if isinstance(value, str) and (value == expected or RETIRED.get(value) == expected):
            return value  # a retired name is refused only where that model would run: retired()
        raise _bad(self.where, f"unknown model {_short(value)} (this nczip runs {expected})")

    def sub(self, key: str, parse: Callable[[Any, str], T]) -> T | None:
        value = self._get(key, False)
        return None if value is MISSING else parse(value, f"{self.where}.{key}")

    def required(self, key: str, parse: Callable[[Any, str], T]) -> T:
        return parse(self._get(key, True), f"{self.where}.{key}")

    def done(self) -> None:
        extra = sorted(str(k) for k in self.raw if k not in self.used)
        if extra:
            raise _bad(self.where, f"unknown field {_short(extra[0])}")


def _read(raw: Any, where: str, build: Callable[[_Fields], T]) -> T:
    """``build`` reads an object's fields; then any field it did not read is refused."""
    f = _Fields(raw, where)
    out = build(f)
    f.done()
    return out


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad(where: str, reason: str) -> FormatError:
    return FormatError(f"unsupported codec configuration ({where}: {reason})")


@dataclass(frozen=True)
class BytePpm:
    """The byte model (:mod:`nczip.predictors.bytecontext`)."""

    max_order: int
    discount: float
    max_contexts: int
    name: str = BYTE_MODEL

    @classmethod
    def parse(cls, raw: Any, where: str) -> "BytePpm":
        return _read(raw, where, lambda f: cls(name=f.name(BYTE_MODEL), max_order=f.int("max_order", 0, 5),
                                               discount=f.float("discount", 1e-6, 1 - 1e-6),
                                               max_contexts=f.int("max_contexts", 1, 1 << 18)))


@dataclass(frozen=True)
class Llm:
    """The LLM's context window and slide per lane, the most lanes a chunk is cut into, and whether
    the lanes share their online models (:mod:`nczip.predictors.llm`). Files from before lanes
    had one."""

    n_ctx: int
    slide: int
    lanes: int = 1
    shared: bool = True
    name: str = LLM

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Llm":
        def build(f: _Fields) -> Llm:
            name, n_ctx = f.name(LLM), f.int("n_ctx", 16, 8192)
            slide = f.int("slide", 1, n_ctx - 2)
            lanes = f.int("lanes", 1, min(MAX_LANES, MAX_LANE_TOKENS // n_ctx), default=1)
            return cls(n_ctx, slide, lanes=lanes, shared=f.bool("shared", True), name=name)

        return _read(raw, where, build)


@dataclass(frozen=True)
class Ngram:
    orders: tuple[int, ...]
    max_contexts: int
    max_followers: int

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Ngram":
        def build(f: _Fields) -> Ngram:
            orders = f._get("orders", True)
            if (not isinstance(orders, list) or not 1 <= len(orders) <= 16
                    or any(isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 64 for k in orders)
                    or len(set(orders)) != len(orders)):
                raise _bad(where, "orders must be a list of 1 to 16 distinct integers in [1, 64]")
            return cls(tuple(sorted(orders)), f.int("max_contexts", 1, 1 << 20), f.int("max_followers", 1, 64))

        return _read(raw, where, build)


@dataclass(frozen=True)
class Match:
    min_length: int
    max_index: int

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Match":
        return _read(raw, where, lambda f: cls(f.int("min_length", 1, 64), f.int("max_index", 1, 1 << 24)))


@dataclass(frozen=True)
class Bias:
    lr: float
    warmup: float = 0.0

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Bias":
        return _read(raw, where, lambda f: cls(f.float("lr", 0.0, 10.0), f.float("warmup", 0.0, 1e9, default=0.0)))


@dataclass(frozen=True)
class MixerRates:
    lr: float
    init: float
    tau_lr: float = 0.0

    @classmethod
    def parse(cls, raw: Any, where: str) -> "MixerRates":
        return _read(raw, where, lambda f: cls(f.float("lr", 0.0, 10.0), f.float("init", -50.0, 50.0),
                                               f.float("tau_lr", 0.0, 10.0, default=0.0)))


@dataclass(frozen=True)
class Skip:
    warmup: int
    min_trials: int
    max_error: float

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Skip":
        return _read(raw, where, lambda f: cls(f.int("warmup", 0, MAX_INT32), f.int("min_trials", 0, MAX_INT32),
                                               f.float("max_error", 0.0, 1.0)))


@dataclass(frozen=True)
class Phrase:
    tiling: str
    levels: int
    max_entries: int
    theta: float = 0.0

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Phrase":
        return _read(raw, where, lambda f: cls(f.choice("tiling", TILINGS), f.int("levels", 1, 16),
                                               f.int("max_entries", 1, 1 << 24),
                                               f.float("theta", -1e6, 1e6, default=0.0)))


@dataclass(frozen=True)
class Floor:
    init: float

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Floor":
        return _read(raw, where, lambda f: cls(f.float("init", -50.0, 50.0)))


@dataclass(frozen=True)
class Ssm:
    """The online SSM's shape and schedule (:mod:`nczip.predictors.ssm`). The bounds keep every C
    stack array under 64 KiB and the parameters under ~100 MB."""

    dm: int
    di: int
    ds: int
    layers: int
    conv: int
    dt_rank: int
    shortlist: int
    block: int
    lr: float
    seed: int
    name: str = SSM

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Ssm":
        return _read(raw, where, lambda f: cls(
            name=f.name(SSM), dm=f.int("dm", 1, 256), di=f.int("di", 1, 1024), ds=f.int("ds", 1, 64),
            layers=f.int("layers", 1, 4), conv=f.int("conv", 1, 16), dt_rank=f.int("dt_rank", 1, 64),
            shortlist=f.int("shortlist", 2, 16384), block=f.int("block", 1, 256), lr=f.float("lr", 0.0, 1.0),
            seed=f.int("seed", 0, (1 << 32) - 1)))

    def params(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}


@dataclass(frozen=True)
class Ensemble:
    """The online token models mixed at a token level (:mod:`nczip.predictors.mixer`); a
    component that is None is off."""

    ngram: Ngram | None = None
    match: Match | None = None
    bias: Bias | None = None
    mixer: MixerRates | None = None
    skip: Skip | None = None
    phrase: Phrase | None = None
    ssm: Ssm | None = None
    floor: Floor | None = None
    stage_init: float = -1.5  # the stages' initial weight when there is no mixer to set it
    name: str = MIXER

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Ensemble":
        return _read(raw, where, lambda f: cls(
            name=f.name(MIXER, missing="mixer/1"), ngram=f.sub("ngram", Ngram.parse),
            match=f.sub("match", Match.parse), bias=f.sub("bias", Bias.parse), mixer=f.sub("mixer", MixerRates.parse),
            skip=f.sub("skip", Skip.parse), phrase=f.sub("phrase", Phrase.parse), ssm=f.sub("ssm", Ssm.parse),
            floor=f.sub("floor", Floor.parse), stage_init=f.float("stage_init", -50.0, 50.0, default=-1.5)))


@dataclass(frozen=True)
class NewTypes:
    alpha: float
    offset: float

    @classmethod
    def parse(cls, raw: Any, where: str) -> "NewTypes":
        return _read(raw, where, lambda f: cls(f.float("alpha", 0.0, 8.0), f.float("offset", 1e-3, 1e9)))


@dataclass(frozen=True)
class Tokens:
    """The fast levels' compact token layout (:mod:`nczip.predictors.compact`)."""

    ensemble: Ensemble
    new_types: NewTypes
    ssm: Ssm | None = None
    name: str = COMPACT

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Tokens":
        return _read(raw, where, lambda f: cls(
            name=f.name(COMPACT, missing="compact/1"), ensemble=f.required("ensemble", Ensemble.parse),
            new_types=f.required("new_types", NewTypes.parse), ssm=f.sub("ssm", Ssm.parse)))


@dataclass(frozen=True)
class CmSpec:
    """The context-mixing core (:mod:`nczip.predictors.cm`): its contexts, table sizes (log2;
    ``2^table_bits`` 16-byte slots, ``2^match_bits`` match positions, 0 for no match model) and
    mixer settings. The bounds cap what a header can make a decoder allocate at ~1.3 GiB."""

    contexts: tuple[str, ...]
    table_bits: int
    match_bits: int
    match_min: int
    selectors: int
    apm: int
    lr: int
    limit: int
    name: str = CM

    @classmethod
    def parse(cls, raw: Any, where: str) -> "CmSpec":
        def build(f: _Fields) -> CmSpec:
            contexts = f._get("contexts", True)
            if (not isinstance(contexts, list) or not 1 <= len(contexts) <= len(CM_CONTEXTS)
                    or any(not isinstance(c, str) or c not in CM_CONTEXTS for c in contexts)
                    or len(set(contexts)) != len(contexts)):
                raise _bad(where, f"contexts must be a list of distinct names from {', '.join(CM_CONTEXTS)}")
            match_bits = f.int("match_bits", 0, 26)
            if 0 < match_bits < 10:
                raise _bad(where, f"match_bits {match_bits} out of range (0, or [10, 26])")
            return cls(name=f.name(CM), contexts=tuple(contexts), table_bits=f.int("table_bits", 10, 26),
                       match_bits=match_bits, match_min=f.int("match_min", 2, 32),
                       selectors=f.int("selectors", 1, 3), apm=f.int("apm", 0, 2), lr=f.int("lr", 1, 64),
                       limit=f.int("limit", 1, 1023))

        return _read(raw, where, build)


@dataclass(frozen=True)
class CodecConfig:
    """Everything a chunk coder needs from a header, validated."""

    predictor: BytePpm
    zstd_level: int
    quantize: int
    llm: Llm | None = None
    ensemble: Ensemble | None = None
    tokens: Tokens | None = None
    cm: CmSpec | None = None

    @property
    def uses_llm(self) -> bool:
        return self.llm is not None

    def retired(self) -> str | None:
        """Why this configuration's token models cannot run here (None if they can).

        Checked before the first token chunk is decoded, not when the header is read: a file of a
        retired version whose chunks all went to the byte model, zstd or storage still decodes."""
        names = [self.llm.name if self.llm else None]
        for ensemble in (self.ensemble, self.tokens.ensemble if self.tokens else None):
            if ensemble is not None:
                names += [ensemble.name, ensemble.ssm.name if ensemble.ssm else None]
        if self.tokens is not None:
            names += [self.tokens.name, self.tokens.ssm.name if self.tokens.ssm else None]
        for name in names:
            if name in RETIRED:
                return (f"this file's {name} model was written by an earlier development version of nczip whose"
                        f" arithmetic depended on the CPU; this nczip runs {RETIRED[name]}")
        return None

    @property
    def token_level(self) -> bool:
        """Whether chunks may be coded as tokens (LLM or compact), which needs the model's vocabulary."""
        return self.llm is not None or self.tokens is not None


@dataclass(frozen=True)
class ModelIdentity:
    """Which model file and backend a container was coded with (see :mod:`nczip.backend`)."""

    name: str
    sha256: str
    backend: str = ""


def parse_model(raw: Any) -> ModelIdentity | None:
    """Validate a header's model identity (None: the file names no model)."""
    f = _Fields(raw, "model identity")
    if not raw:
        return None
    name, sha256, backend = f._get("name", True), f._get("sha256", True), f._get("backend", False)
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        raise _bad("model identity", "name must be a string of 1 to 200 characters")
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise _bad("model identity", "sha256 must be 64 lowercase hexadecimal digits")
    if backend is MISSING:
        backend = ""
    if not isinstance(backend, str) or len(backend) > 1000:
        raise _bad("model identity", "backend must be a string of at most 1000 characters")
    f.done()
    return ModelIdentity(name, sha256, backend)


def parse(raw: Any) -> CodecConfig:
    """Validate a header's configuration (see the module docstring); raise :class:`FormatError`."""
    f = _Fields(raw, "configuration")
    predictor = f.required("predictor", BytePpm.parse)
    # files from before the quantizer was recorded used version 1
    quantize = f.int("quantize", 1, max(QUANTIZERS), default=1)
    config = CodecConfig(predictor=predictor, zstd_level=f.int("zstd_level", 1, 22), quantize=quantize,
                         llm=f.sub("llm", Llm.parse), ensemble=f.sub("ensemble", Ensemble.parse),
                         tokens=f.sub("tokens", Tokens.parse), cm=f.sub("cm", CmSpec.parse))
    f.done()
    if config.llm is not None and config.tokens is not None:
        raise _bad("configuration", "both llm and tokens")
    if config.cm is not None and config.tokens is not None:
        raise _bad("configuration", "cm beside tokens")
    if config.ensemble is not None and config.llm is None:
        raise _bad("configuration", "an ensemble without an llm")
    return config
