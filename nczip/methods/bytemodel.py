"""Method 2: the bytes range-coded under the configuration's PPM byte model (``predictor``).

Written by configurations without the context-mixing core (the first files, the former token
levels) for chunks that do not tokenise; the core replaced it wherever a configuration has one.
"""

from __future__ import annotations

from ..coding.loop import decode_symbols, encode_symbols
from ..config import CodecConfig
from ..container import METHOD_NEURAL
from ..predictors import build_predictor
from .base import Bound, ChunkJob, Method


class ByteModel(Method):
    id = METHOD_NEURAL
    name = "neural"
    # 256 bytes per payload byte (0.03 bit a byte) at ~20-30 KB/s, and at most 32 MiB a frame, the
    # largest chunk any level gave it, which bounds its dictionaries (docs/hardening.md)
    bound = Bound(256, 16, 32 << 20)

    def writes(self, config: CodecConfig) -> bool:
        return config.cm is None

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        model = build_predictor(job.config.predictor)
        return encode_symbols(model, data, job.stats, job.progress, job.config.quantize)

    def decode(self, payload: bytes, length: int, job: ChunkJob) -> bytes:
        model = build_predictor(job.config.predictor)
        return bytes(decode_symbols(model, payload, length, job.progress, job.config.quantize))
