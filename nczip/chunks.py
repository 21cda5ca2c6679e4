"""Coding one chunk: the neural path, zstd, or stored, whichever is smallest.

A chunk is self-contained (fresh model state), which is what lets chunks go to different workers
and lets any worker count decode any file.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import zstandard

from .codec import CodingStats, Progress, decode_symbols, encode_symbols
from .container import METHOD_NEURAL, METHOD_STORED, METHOD_ZSTD, ChunkFrame
from .errors import FormatError, NczError
from .predictors import build_predictor

# zstd at level 3 shrinking a chunk by less than this fraction marks it as incompressible noise:
# the byte model would not do better there, and skipping it saves its full cost.
_INCOMPRESSIBLE = 0.98


@dataclass
class EncodedChunk:
    """A coded chunk plus the figures the bench and ``-v`` report about it."""

    frame: ChunkFrame
    ideal_bits: float  # the neural model's ideal code length (0 when it was not run)
    neural_bytes: int  # size of the neural payload (0 when it was not run)
    symbols: int


def encode_chunk(data: bytes, config: dict[str, Any], progress: Progress | None = None) -> EncodedChunk:
    """Code ``data`` with every method the configuration allows and keep the smallest."""
    crc = zlib.crc32(data)
    best_method, best_payload = METHOD_STORED, data
    zstd_payload = zstandard.ZstdCompressor(level=int(config.get("zstd_level", 19)),
                                            write_content_size=False).compress(data)
    if len(zstd_payload) < len(best_payload):
        best_method, best_payload = METHOD_ZSTD, zstd_payload
    stats = CodingStats()
    neural = b""
    quick = zstandard.ZstdCompressor(level=3).compress(data)
    if len(quick) < _INCOMPRESSIBLE * len(data):
        model = build_predictor(config["predictor"])
        neural = encode_symbols(model, data, stats, progress)
        if len(neural) < len(best_payload):
            best_method, best_payload = METHOD_NEURAL, neural
    frame = ChunkFrame(best_method, len(data), crc, best_payload)
    return EncodedChunk(frame, stats.ideal_bits, len(neural) if stats.symbols else 0, stats.symbols)


def decode_chunk(frame: ChunkFrame, config: dict[str, Any], index: int = 0,
                 progress: Progress | None = None) -> bytes:
    """Decode one frame and verify its checksum; raise :class:`FormatError` if it is corrupt."""
    if frame.method == METHOD_STORED:
        data = frame.payload
    elif frame.method == METHOD_ZSTD:
        try:
            data = zstandard.ZstdDecompressor().decompress(frame.payload, max_output_size=frame.original_length)
        except zstandard.ZstdError:
            raise FormatError(f"corrupt chunk {index} (zstd data invalid)") from None
    elif frame.method == METHOD_NEURAL:
        try:
            model = build_predictor(config["predictor"])
        except (KeyError, TypeError, ValueError) as exc:
            raise NczError(f"unsupported codec configuration ({exc})") from None
        data = bytes(decode_symbols(model, frame.payload, frame.original_length, progress))
    else:  # read_frames already rejects unknown methods
        raise FormatError(f"unsupported chunk method {frame.method}")
    if len(data) != frame.original_length or zlib.crc32(data) != frame.crc32:
        raise FormatError(f"corrupt chunk {index} (checksum mismatch)")
    return data
