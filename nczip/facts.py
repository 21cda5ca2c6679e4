"""What a container is, read from its structure without decoding: its summary (sizes, chunks,
methods, members), its first header and that header's models, and words for them. The library's
answer to "what is in this file?"; ``nczip info`` and ``-l`` print it (:mod:`nczip.listing`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import BinaryIO

from . import backend
from .config import CodecConfig, Ensemble, ModelIdentity
from .config import parse as parse_config
from .config import parse_model
from .container import Header
from .stream import Summary, scan_container


@dataclass
class Facts:
    """One file's structure: its summary, first header and that header's models (validated)."""

    name: str
    summary: Summary
    header: Header
    config: CodecConfig
    model: ModelIdentity | None

    @property
    def ratio(self) -> float:
        """Original over compressed size (3.0: a third of the size)."""
        s = self.summary
        return s.original_bytes / s.compressed_bytes if s.compressed_bytes else 0.0

    @property
    def levels(self) -> str:
        """The level, or each member's level when concatenated containers differ (``1,3``)."""
        levels = sorted({h.level for h in self.summary.headers})
        return ",".join(map(str, levels))


def read_facts(name: str, src: BinaryIO) -> Facts:
    """Scan a container (raises FormatError for anything that is not one)."""
    summary = scan_container(src)
    header = summary.headers[0]
    return Facts(name, summary, header, parse_config(header.config), parse_model(header.model))


def predictors(config: CodecConfig) -> str:
    """The models a container's configuration names, e.g. ``compact/2 + mixer/2(ngram, bias) + ssm/3``."""
    def components(ensemble: Ensemble | None) -> list[str]:
        if ensemble is None:
            return []
        on = [f.name for f in dataclasses.fields(ensemble) if f.name not in ("name", "stage_init", "ssm")
              and getattr(ensemble, f.name) is not None]
        return [f"{ensemble.name}({', '.join(on)})", *([ensemble.ssm.name] if ensemble.ssm else [])]

    if config.llm is not None:
        lanes = f" ({config.llm.lanes} lanes{', shared models' if config.llm.shared else ''})" \
            if config.llm.lanes > 1 else ""
        parts = [config.llm.name + lanes, *components(config.ensemble)]
    elif config.tokens is not None:
        parts = [config.tokens.name, *components(config.tokens.ensemble),
                 *([config.tokens.ssm.name] if config.tokens.ssm else [])]
    elif config.cm is not None:
        cm = config.cm
        return (f"{cm.name} ({len(cm.contexts)} contexts: {' '.join(cm.contexts)}; 2^{cm.table_bits} slots, "
                f"{cm.selectors} weight sets, {cm.apm} APMs)")
    else:
        parts = []
    byte_model = config.predictor.name
    return f"{' + '.join(parts)}; non-text: {byte_model}" if parts else byte_model


def tied_to(facts: Facts) -> str:
    """The llama.cpp build features the file's LLM chunks are tied to ("" when portable)."""
    return (backend.tied_to(facts.model.backend) or "") if facts.model else ""
