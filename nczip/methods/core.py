"""Method 5: the bits coded under the context-mixing core (configuration ``cm``, nczip/kernels/cm.c)."""

from __future__ import annotations

from typing import Iterator

from ..config import CodecConfig
from ..container import METHOD_CM
from ..predictors import cm
from .base import Bound, ChunkJob, Method


class Core(Method):
    id = METHOD_CM
    name = "cm"
    # a theorem of the core's binary coder (nczip.methods.base): measured 2,838 on zeros
    bound = Bound(2840, 4)

    def writes(self, config: CodecConfig) -> bool:
        return config.cm is not None

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        assert job.config.cm is not None
        return cm.encode(data, job.config.cm, job.progress, job.stats)

    def decode_stream(self, payload: bytes, length: int, job: ChunkJob) -> Iterator[bytes]:
        assert job.config.cm is not None  # writes(): only configurations with the core have its frames
        return cm.decode_slices(payload, length, job.config.cm, job.progress, job.index)
