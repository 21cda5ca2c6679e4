"""Which methods code a chunk, in what order, and which payload is kept: the smallest.

A chunk is self-contained (fresh model state, fresh LLM context), which is what lets chunks go to
different workers and lets any worker count decode any file. The schedule:

1. zstd at the configuration's level, always (the fallback, and the test for noise);
2. at the core's levels (``cm`` without a token path): the core, unless the chunk is noise or
   zstd's payload is already below the least the core may write (zeros, long runs); zstd at its
   strongest level where the core did little better than zstd -3;
3. at token levels and configurations without the core: the token path (LLM or compact tokens)
   where the configuration writes it, else the core or the byte model for a chunk that does not
   tokenise; beside a token payload, the core, which costs ~1/1000 of the LLM's time;
4. any registered method not named above, wherever its configuration writes it (the LLM inside
   the core, method 6, at configurations with ``llm.core``).

Every model is skipped where it cannot win (``least_payload`` above the best so far), and a
payload beyond its method's bound is never kept (:mod:`nczip.methods.base`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Iterator

from ..coding.loop import CodingStats, Progress
from ..config import CodecConfig
from ..container import METHOD_CM, METHOD_LLM, METHOD_NEURAL, METHOD_STORED, METHOD_TOKENS, METHOD_ZSTD, ChunkFrame
from ..errors import FormatError
from .. import methods as registry  # read at each use: the registry is the one list of methods
from .base import ChunkJob, Method, Runtime
from .zstd import compress as zstd_compress

# zstd at level 3 shrinking a chunk of at least _NOISE_MIN bytes by less than this fraction marks
# it as incompressible noise: the models would not do better there, and skipping them saves their
# full cost. (Short chunks are never compressible by zstd, so they always get the models.)
_INCOMPRESSIBLE = 0.98
_NOISE_MIN = 4096
# At the context-mixing levels, a chunk the core codes to more than this fraction of zstd -3's
# size also tries zstd at level ZSTD_STRONG_LEVEL (text codes to 0.55-0.65 of zstd -3; the fax image
# ptt5 to 0.8, where zstd was smaller than level 1: 43,534 B at 22, 43,637 B at 19 with the
# zstandard module's libzstd 1.5.7, 44,631 B level 1's core).
_CM_WEAK = 0.75
ZSTD_STRONG_LEVEL = 22
#: the methods the schedule names; any other registered method is tried after them
_SCHEDULED = {METHOD_STORED, METHOD_ZSTD, METHOD_CM, METHOD_NEURAL, METHOD_LLM, METHOD_TOKENS}


@dataclass
class EncodedChunk:
    """A coded chunk plus the figures the bench and ``-v`` report about it."""

    frame: ChunkFrame
    stats: CodingStats = field(default_factory=CodingStats)
    neural_bytes: int = 0  # size of the model-coded payload that was tried (0 if none)
    tokens: int = 0
    load_seconds: float = 0.0  # time spent loading the LLM for this chunk (0 once cached)


class _Candidates:
    """The best frame so far for one chunk, and the tests against it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.crc = zlib.crc32(data)
        self.result = EncodedChunk(ChunkFrame(METHOD_STORED, len(data), self.crc, data))

    def offer(self, method_id: int, payload: bytes | None) -> None:
        """Keep ``payload`` if it is smaller than the best so far (stored, at first) and within
        its method's bound (a decoder refuses a frame beyond it)."""
        if (payload is not None and len(payload) < len(self.result.frame.payload)
                and registry.BY_ID[method_id].within(len(self.data), len(payload))):
            self.result.frame = ChunkFrame(method_id, len(self.data), self.crc, payload)

    def can_win(self, method_id: int) -> bool:
        """Whether the method could code the chunk smaller than the best so far: not where that
        is already below the least its bound lets it write (long runs, zeros: zstd's few bytes
        per 128 KiB beat the core's floor of one byte per 2,840), so its work is skipped."""
        return registry.BY_ID[method_id].least_payload(len(self.data)) < len(self.result.frame.payload)


def encode_chunk(data: bytes, config: CodecConfig, progress: Progress | None = None,
                 runtime: Runtime | None = None) -> EncodedChunk:
    """Code ``data`` with the methods the configuration allows and keep the smallest."""
    runtime = runtime or Runtime()
    best = _Candidates(data)
    result = best.result
    job = ChunkJob(config, runtime, progress, stats=result.stats)
    zstd_payload = zstd_compress(data, config.zstd_level)
    best.offer(METHOD_ZSTD, zstd_payload)
    core = registry.BY_ID[METHOD_CM]
    if config.cm is not None and not config.token_level:
        # The context-mixing levels ask for zstd at its fast level 3 (their configuration's
        # zstd_level): the core beats zstd -19 wherever zstd compresses at all, so zstd is only the
        # fallback for noise and the test for it, and -19 would cost more time than the core.
        if (len(data) < _NOISE_MIN or len(zstd_payload) < _INCOMPRESSIBLE * len(data)) and best.can_win(METHOD_CM):
            coded_cm = core.encode(data, job)
            result.neural_bytes = len(coded_cm or b"")
            best.offer(METHOD_CM, coded_cm)
            if coded_cm is None or len(coded_cm) > _CM_WEAK * len(zstd_payload):
                # little better than zstd -3 (binary the core has no model for, e.g. a fax image):
                # zstd's strongest level may win there, and costs little on such a chunk
                best.offer(METHOD_ZSTD, zstd_compress(data, ZSTD_STRONG_LEVEL))
        _others(best, config, runtime)
        return result
    quick = zstd_compress(data, 3) if len(data) >= _NOISE_MIN else b""
    if len(quick) < _INCOMPRESSIBLE * len(data):
        token = METHOD_LLM if config.uses_llm else METHOD_TOKENS
        coded = None
        if config.token_level and registry.BY_ID[token].writes(config) and best.can_win(token):
            coded = registry.BY_ID[token].encode(data, job)
            result.load_seconds, result.tokens = job.load_seconds, job.tokens
            result.stats = job.stats
        payload: bytes | None
        if coded is not None:
            payload, method_id = coded, token
        elif config.cm is not None:  # mostly not text: the core instead of the PPM byte model
            method_id = METHOD_CM
            payload = core.encode(data, job) if best.can_win(method_id) else None
        else:
            method_id = METHOD_NEURAL
            payload = registry.BY_ID[method_id].encode(data, job) if best.can_win(method_id) else None
        result.neural_bytes = len(payload or data)
        best.offer(method_id, payload)
        if coded is not None and config.cm is not None and best.can_win(METHOD_CM):
            # the core costs ~1/1000 of the LLM's time: where it codes the chunk smaller, it wins
            best.offer(METHOD_CM, core.encode(data, ChunkJob(config, runtime)))
    _others(best, config, runtime)
    return result


def _others(best: _Candidates, config: CodecConfig, runtime: Runtime) -> None:
    """Step 4 of the schedule: registered methods the steps above do not name."""
    for method in registry.REGISTRY:
        if method.id not in _SCHEDULED and method.writes(config) and best.can_win(method.id):
            best.offer(method.id, method.encode(best.data, ChunkJob(config, runtime)))


def check_frame(frame: ChunkFrame, config: CodecConfig, index: int) -> Method:
    """Refuse a frame of a method this configuration never writes, or one claiming more bytes
    than its payload can code: cheap, so run as each frame is read; returns its method."""
    return registry.check_frame(frame.method, frame.original_length, len(frame.payload), config, index)


def decode_chunk(frame: ChunkFrame, config: CodecConfig, index: int = 0,
                 progress: Progress | None = None, runtime: Runtime | None = None) -> bytes:
    """Decode one frame and verify its checksum; raise :class:`FormatError` if it is corrupt."""
    return b"".join(decode_chunk_stream(frame, config, index, progress, runtime))


def decode_chunk_stream(frame: ChunkFrame, config: CodecConfig, index: int = 0,
                        progress: Progress | None = None, runtime: Runtime | None = None) -> Iterator[bytes]:
    """Decode one frame in slices as its method produces them (:meth:`Method.decode_stream`),
    checking length and CRC32 as they pass: a slice is handed out before the chunk's checksum is
    known (as :mod:`lzma` and :mod:`gzip` hand out data before their stream's check), and a
    corrupt chunk raises :class:`FormatError` at the latest after its last slice."""
    method = check_frame(frame, config, index)
    crc = length = 0
    for piece in method.decode_stream(frame.payload, frame.original_length,
                                      ChunkJob(config, runtime or Runtime(), progress, index)):
        length += len(piece)
        if length > frame.original_length:
            raise FormatError(f"corrupt chunk {index} (longer than its frame says)")
        crc = zlib.crc32(piece, crc)
        yield piece
    if length != frame.original_length or crc != frame.crc32:
        raise FormatError(f"corrupt chunk {index} (checksum mismatch)")
