"""Compression options, checked where the caller wrote them and resolved once into the typed
plan every door encodes with: :func:`nczip.compress`, :class:`nczip.Compressor`, the file object,
the command line and the bench all call :func:`encode_options` and hand its result on; nothing
below resolves a level again.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .config import MAX_LANES, CodecConfig
from .config import parse as parse_config
from .container import MAX_CHUNK_SIZE
from .errors import FormatError
from .levels import DEFAULT_LEVEL, MAX_LEVEL, MIN_LEVEL, level_config
from .llama_build import DEVICES


class Component(enum.StrEnum):
    """An online model mixed into a level's predictions (experts and ablations: ``components=``).

    The values are the names written into a container's configuration. ``SSM`` and ``FLOOR``
    apply at every level; the others at every level through the token mixer.
    """

    NGRAM = "ngram"
    MATCH = "match"
    BIAS = "bias"
    MIXER = "mixer"
    SKIP = "skip"
    PHRASE = "phrase"
    SSM = "ssm"
    FLOOR = "floor"


class Tiling(enum.StrEnum):
    """The tiling of the phrase hierarchy; giving one switches the phrase predictor on."""

    FIBONACCI = "fibonacci"
    PERIOD5 = "period5"
    NONE = "none"


PathArg = str | os.PathLike[str]


@dataclass(frozen=True)
class EncodeOptions:
    """Validated compression options and what they resolve to: the configuration written into
    the header (raw, and parsed as a decoder will parse it) and the chunk size."""

    level: int
    threads: int
    chunk_size: int  # the given one, or the level's
    model_path: str | None
    lanes: int | None
    components: list[str] | None
    tiling: str | None
    raw_config: dict[str, Any] = field(repr=False)
    config: CodecConfig = field(repr=False)
    cluster: str | None = None  # a Ray address: chunks are coded there (nczip.cluster)
    device: str = "auto"  # where the LLM runs: auto, cpu or cuda (levels 4-9)


def int_option(name: str, value: Any, low: int, high: int | None = None) -> int:
    """An int option in ``[low, high]``; ``bool`` is refused although it is an ``int`` subclass."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, not {value}")
    return value


def model_path_option(model: PathArg | None) -> str | None:
    """A model path as ``str`` (what the model registry and the header code take)."""
    if model is None:
        return None
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a path (str or os.PathLike), not {type(model).__name__}")
    return os.fspath(model)


def cluster_option(cluster: str | None) -> str | None:
    """A Ray address (``None`` or ``""``: no cluster), refused here if it is not a string."""
    if cluster is not None and not isinstance(cluster, str):
        raise TypeError(f"cluster must be a Ray address (str), not {type(cluster).__name__}")
    return cluster or None


def encode_options(*, level: int = DEFAULT_LEVEL, threads: int = 1, chunk_size: int | None = None,
                   model: PathArg | None = None, lanes: int | None = None,
                   components: Iterable[Component] | None = None, tiling: Tiling | None = None,
                   cluster: str | None = None, device: str = "auto") -> EncodeOptions:
    """Check every compression option where the caller wrote it (the codec would fail later, or
    not at all for an option the level ignores) and build the configuration once to refuse
    combinations the format cannot hold (e.g. more lanes than the level's window allows)."""
    int_option("level", level, MIN_LEVEL, MAX_LEVEL)
    int_option("threads", threads, 0)
    if chunk_size is not None:
        int_option("chunk_size", chunk_size, 1, MAX_CHUNK_SIZE)
    if lanes is not None:
        int_option("lanes", lanes, 1, MAX_LANES)
    names: list[str] | None = None
    if components is not None:
        if isinstance(components, (str, bytes)):
            raise TypeError("components must be an iterable of nczip.Component, not a string")
        names = []
        for component in components:
            if not isinstance(component, Component):
                raise TypeError(f"components must hold nczip.Component members, not {component!r}")
            if component.value not in names:
                names.append(component.value)
    if tiling is not None and not isinstance(tiling, Tiling):
        raise TypeError(f"tiling must be an nczip.Tiling member, not {tiling!r}")
    tiling_name = None if tiling is None else tiling.value
    raw_config, default_chunk = level_config(level, names, tiling_name, lanes)
    try:
        config = parse_config(raw_config)  # what a decoder will parse, so whatever is written decodes
    except FormatError as exc:  # e.g. more lanes than the level's window allows
        raise ValueError(str(exc)) from None
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    return EncodeOptions(level, threads, chunk_size or default_chunk, model_path_option(model), lanes, names,
                         tiling_name, raw_config, config, cluster_option(cluster), device)
