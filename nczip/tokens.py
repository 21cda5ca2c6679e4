"""Tokenisation with a round-trip guarantee: text spans become LLM tokens, the rest stays bytes.

llama.cpp's tokenizer is not lossless (invalid UTF-8 becomes U+FFFD; some control bytes vanish),
so its output is never trusted: a span is coded as tokens only if the tokens' exact bytes (the
vocabulary byte table) reproduce it. Spans that fail go to the byte model as raw bytes.

Also here: the symbol stream of a chunk. Tokens and raw spans are laid out as one sequence of
symbols in three modes, so the one codec loop can code them (see :class:`SymbolMode`):

- TOKEN: a token id, or ESCAPE (= vocabulary size) announcing a raw span;
- LENGTH: the span length as little-endian base-128 digits (bit 7 = more digits follow);
- RAW: the span's bytes.

The fast levels use a *compact* layout instead (:func:`to_compact_symbols`): a token is its rank
among the types seen so far in the chunk, so models predict over the few thousand types that
occur rather than the whole vocabulary. TOKEN symbols are then RAW_ESCAPE (0), NEW_TYPE (1) or
2 + rank; NEW_TYPE is followed by the new type's id in two symbols, NEW_HIGH (id >> 8) and
NEW_LOW (id & 255), after which the type has the next rank.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Sequence


class SymbolMode(enum.IntEnum):
    TOKEN = 0
    LENGTH = 1
    RAW = 2
    NEW_HIGH = 3
    NEW_LOW = 4


RAW_ESCAPE, NEW_TYPE, FIRST_RANK = 0, 1, 2  # the compact layout's TOKEN symbols


@dataclass
class Segment:
    """A run of the chunk: ``tokens`` (text that round-trips) or ``raw`` bytes."""

    tokens: list[int] | None = None
    raw: bytes = b""
    size: int = 0  # bytes of the chunk this segment covers


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def segment(data: bytes, tokenize: Callable[[bytes], list[int]], pieces: Sequence[bytes]) -> list[Segment]:
    """Split ``data`` into token runs that round-trip exactly and raw byte runs.

    The whole chunk is tried first; if it does not round-trip, each line (split after b"\\n") is
    tried on its own, consecutive good lines are re-tokenised together, and bad lines stay raw.
    Only valid UTF-8 ever reaches the tokenizer: llama.cpp aborts the whole process (an uncaught
    C++ ``invalid codepoint``) on some invalid sequences, e.g. random bytes >= 0x80.
    """
    def exact(tokens: list[int], span: bytes) -> bool:
        return b"".join(pieces[t] for t in tokens) == span

    if _is_utf8(data):
        tokens = tokenize(data)
        if exact(tokens, data):
            return [Segment(tokens=tokens, size=len(data))] if data else []
    lines = data.splitlines(keepends=True)
    out: list[Segment] = []
    good: list[bytes] = []
    good_tokens: list[int] = []

    def flush_good() -> None:
        if not good:
            return
        span = b"".join(good)
        joined = tokenize(span)
        out.append(Segment(tokens=joined if exact(joined, span) else list(good_tokens), size=len(span)))
        good.clear()
        good_tokens.clear()

    for line in lines:
        line_tokens = tokenize(line) if _is_utf8(line) else None
        if line_tokens is not None and exact(line_tokens, line):
            good.append(line)
            good_tokens.extend(line_tokens)
            continue
        flush_good()
        if out and out[-1].tokens is None:
            out[-1].raw += line
            out[-1].size += len(line)
        else:
            out.append(Segment(raw=line, size=len(line)))
    flush_good()
    return out


def cut_lanes(data: bytes, lanes: int, min_bytes: int) -> list[bytes]:
    """Cut ``data`` into at most ``lanes`` contiguous parts of at least ``min_bytes`` (roughly
    equal), each cut moved just past the next newline, or else the next space, within 1 KiB.

    Any cut decodes correctly (each lane is tokenised and coded on its own and the lanes are
    concatenated); cutting between lines keeps words and UTF-8 sequences whole, so each lane
    tokenises as the whole text would.
    """
    n = max(1, min(lanes, len(data) // max(1, min_bytes)))
    cuts = [0]
    for i in range(1, n):
        target = max(cuts[-1], len(data) * i // n)
        window = data[target:target + 1024]
        at = window.find(b"\n")
        if at < 0:
            at = window.find(b" ")
        cuts.append(target + at + 1 if at >= 0 else target)
    cuts.append(len(data))
    return [data[a:b] for a, b in zip(cuts, cuts[1:]) if b > a] or [data]


def raw_fraction(segments: list[Segment]) -> float:
    """Share of the chunk's bytes that could not be tokenised exactly."""
    total = sum(seg.size for seg in segments)
    raw = sum(seg.size for seg in segments if seg.tokens is None)
    return raw / total if total else 0.0


def length_digits(n: int) -> list[int]:
    """``n`` >= 0 as base-128 digits, least significant first, bit 7 set on all but the last."""
    digits = []
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            digits.append(low | 0x80)
        else:
            digits.append(low)
            return digits


def _raw_symbols(raw: bytes) -> list[int]:
    return [*length_digits(len(raw)), *raw]


def _read_raw(symbols: Sequence[int], i: int) -> tuple[bytes, int]:
    """The raw span whose length digits start at ``symbols[i]``, and the index after it."""
    length = shift = 0
    n = len(symbols)
    while i < n:
        digit = symbols[i]
        i += 1
        length |= (digit & 0x7F) << shift
        shift += 7
        if not digit & 0x80:
            break
    return bytes(symbols[i:i + length]), i + length


def to_symbols(segments: list[Segment], escape: int) -> list[int]:
    """Lay the segments out as the chunk's symbol stream (see the module docstring)."""
    symbols: list[int] = []
    for seg in segments:
        if seg.tokens is not None:
            symbols.extend(seg.tokens)
        else:
            symbols.append(escape)
            symbols.extend(_raw_symbols(seg.raw))
    return symbols


def from_symbols(symbols: Sequence[int], escape: int, pieces: Sequence[bytes]) -> bytes:
    """Inverse of :func:`to_symbols`: the chunk's bytes."""
    out = bytearray()
    i, n = 0, len(symbols)
    while i < n:
        s = symbols[i]
        i += 1
        if s != escape:
            out += pieces[s]
            continue
        raw, i = _read_raw(symbols, i)
        out += raw
    return bytes(out)


def to_compact_symbols(segments: list[Segment]) -> list[int]:
    """The compact layout of the segments (see the module docstring)."""
    ranks: dict[int, int] = {}
    symbols: list[int] = []
    for seg in segments:
        if seg.tokens is None:
            symbols.append(RAW_ESCAPE)
            symbols.extend(_raw_symbols(seg.raw))
            continue
        for token in seg.tokens:
            rank = ranks.get(token)
            if rank is None:
                ranks[token] = len(ranks)
                symbols.extend((NEW_TYPE, token >> 8, token & 0xFF))
            else:
                symbols.append(FIRST_RANK + rank)
    return symbols


def from_compact_symbols(symbols: Sequence[int], pieces: Sequence[bytes]) -> bytes:
    """Inverse of :func:`to_compact_symbols`: the chunk's bytes."""
    out = bytearray()
    types: list[int] = []
    i, n = 0, len(symbols)
    while i < n:
        s = symbols[i]
        i += 1
        if s == RAW_ESCAPE:
            raw, i = _read_raw(symbols, i)
            out += raw
        elif s == NEW_TYPE:
            token = (symbols[i] << 8) | symbols[i + 1] if i + 1 < n else -1
            i += 2
            if not 0 <= token < len(pieces):
                raise ValueError("token id out of range")
            types.append(token)
            out += pieces[token]
        else:
            out += pieces[types[s - FIRST_RANK]]
    return bytes(out)
