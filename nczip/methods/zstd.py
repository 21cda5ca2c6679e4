"""Method 1: one zstd frame. The fallback for noise and for data no model of the file's
configuration codes smaller, and the cheap first test of every chunk (nczip.methods.policy)."""

from __future__ import annotations

from typing import Iterator

import zstandard

from ..config import CodecConfig
from ..container import METHOD_ZSTD
from ..errors import FormatError
from .base import STREAM_SLICE, ChunkJob, Method


def compress(data: bytes, level: int) -> bytes:
    """One zstd frame without a content size (the frame head has the length)."""
    return zstandard.ZstdCompressor(level=level, write_content_size=False).compress(data)


class Zstd(Method):
    id = METHOD_ZSTD
    name = "zstd"

    def writes(self, config: CodecConfig) -> bool:
        return True

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        return compress(data, job.config.zstd_level)

    def decode_stream(self, payload: bytes, length: int, job: ChunkJob) -> Iterator[bytes]:
        """Slices as zstd produces them, never more than ``length`` bytes in all (a payload
        claiming more is corrupt: the CRC check after the last slice says so)."""
        left = length
        try:
            for block in zstandard.ZstdDecompressor().read_to_iter(payload, read_size=len(payload) or 1,
                                                                    write_size=STREAM_SLICE):
                if len(block) > left:
                    raise FormatError(f"corrupt chunk {job.index} (zstd data longer than its frame says)")
                left -= len(block)
                yield block
        except zstandard.ZstdError:
            raise FormatError(f"corrupt chunk {job.index} (zstd data invalid)") from None
