"""Method 0: the chunk's bytes as they are (what a chunk no model shrinks costs: its frame head)."""

from __future__ import annotations

from typing import Iterator

from ..config import CodecConfig
from ..container import METHOD_STORED
from .base import STREAM_SLICE, Bound, ChunkJob, Method


class Stored(Method):
    id = METHOD_STORED
    name = "stored"
    bound = Bound(1, 0)

    def writes(self, config: CodecConfig) -> bool:
        return True

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        return data

    def decode_stream(self, payload: bytes, length: int, job: ChunkJob) -> Iterator[bytes]:
        view = memoryview(payload)
        for start in range(0, len(payload), STREAM_SLICE):
            yield bytes(view[start:start + STREAM_SLICE])
