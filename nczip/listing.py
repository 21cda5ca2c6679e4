"""What ``nczip info`` and ``nczip -l`` say about a container (the facts are :mod:`nczip.facts`'s).

``info`` describes one file in detail (as text, or as JSON for scripts); ``-l`` puts several in a
table with a total, as ``gzip -l`` and ``xz -l`` do. Both read headers, frame heads and trailers
only, so they take the time of reading the file, not of decoding it.
"""

from __future__ import annotations

from typing import Any

from .api import Facts, predictors, read_facts, tied_to
from .files import for_each, open_input


def scan_all(names: list[str]) -> tuple[list[Facts], bool]:
    """Every file's structure, and whether all could be read (failures are reported in one line each)."""
    found: list[Facts] = []

    def one(name: str) -> None:
        with open_input(name) as (src, _size):
            found.append(read_facts(name, src))

    return found, for_each(names, one)


def info_lines(facts: Facts, shown_name: str) -> list[str]:
    """``nczip info``'s text: one ``field: value`` line each."""
    s, header, model = facts.summary, facts.header, facts.model
    lines = [
        f"file:            {shown_name}",
        f"format version:  {header.version}",
        f"level:           {header.level}",
        f"predictors:      {predictors(facts.config)}",
        f"model:           {model.name if model else 'none (model-free level)'}",
    ]
    if model:
        lines.append(f"model sha256:    {model.sha256}")
        lines.append(f"backend:         {model.backend or 'none (byte model only)'}")
        tied = tied_to(facts)
        if tied:
            lines.append(f"portability:     tied to a llama.cpp build with [{tied}] (not nczip's pinned"
                         " build): its LLM chunks decode only under such a build")
    lines += [
        f"chunk size:      {header.chunk_size}",
        f"chunks:          {s.chunks} (" + ", ".join(f"{n} {m}" for m, n in sorted(s.methods.items())) + ")",
        f"original size:   {s.original_bytes}",
        f"compressed size: {s.compressed_bytes}",
        f"ratio:           {facts.ratio:.3f}",
        f"bits per byte:   {s.bits_per_byte:.4f}",
    ]
    if len(s.headers) > 1:
        lines.append(f"members:         {len(s.headers)} concatenated containers")
    return lines


def info_json(facts: Facts) -> dict[str, Any]:
    """``nczip info --json``: the same facts with stable keys and plain JSON values."""
    s, header, model = facts.summary, facts.header, facts.model
    return {
        "file": facts.name,
        "format_version": header.version,
        "level": header.level,
        "levels": sorted({h.level for h in s.headers}),
        "predictors": predictors(facts.config),
        "model": None if model is None else {
            "name": model.name, "sha256": model.sha256, "backend": model.backend or None,
            "tied_to": tied_to(facts) or None},
        "chunk_size": header.chunk_size,
        "chunks": s.chunks,
        "methods": dict(sorted(s.methods.items())),
        "original_size": s.original_bytes,
        "compressed_size": s.compressed_bytes,
        "ratio": round(facts.ratio, 6),
        "bits_per_byte": round(s.bits_per_byte, 6),
        "members": len(s.headers),
    }


_COLUMNS = f"{'compressed':>12} {'uncompressed':>12} {'ratio':>7} {'bpb':>7} {'level':>5}  {'model':<16} name"


def list_table(rows: list[Facts], shown: list[str]) -> list[str]:
    """``nczip -l``: a heading, one row per file and, for several files, their total."""
    def row(compressed: int, original: int, level: str, model: str, name: str) -> str:
        ratio = original / compressed if compressed else 0.0
        bpb = 8.0 * compressed / original if original else 0.0
        return f"{compressed:>12} {original:>12} {ratio:>7.3f} {bpb:>7.4f} {level:>5}  {model:<16} {name}"

    lines = [_COLUMNS]
    for facts, name in zip(rows, shown):
        lines.append(row(facts.summary.compressed_bytes, facts.summary.original_bytes, facts.levels,
                         facts.model.name if facts.model else "-", name))
    if len(rows) > 1:
        lines.append(row(sum(f.summary.compressed_bytes for f in rows), sum(f.summary.original_bytes for f in rows),
                         "", "", f"(totals, {len(rows)} files)"))
    return lines
