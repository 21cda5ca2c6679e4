"""Coding one chunk: a token path (LLM or online models), the byte model, zstd or stored, whichever is smallest.

A chunk is self-contained (fresh model state, fresh LLM context), which is what lets chunks go to
different workers and lets any worker count decode any file.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import zstandard

from . import bounds
from .codec import Before, CodingStats, Progress, decode_lanes, decode_symbols, encode_lanes, encode_symbols
from .container import METHOD_CM, METHOD_LLM, METHOD_NEURAL, METHOD_STORED, METHOD_TOKENS, METHOD_ZSTD, ChunkFrame
from .errors import FormatError, NczError
from .config import CodecConfig, Ensemble
from .predictors import build_predictor, cm

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
# A chunk with more than this fraction of its bytes outside round-tripping text goes to the byte
# model instead of the LLM.
_MAX_RAW_FRACTION = 0.5
# The shortest lane worth its own LLM window: each lane starts with an empty context, whose first
# tokens cost more (measured: docs/lanes.md).
MIN_LANE_BYTES = 16384


@dataclass
class Runtime:
    """Per-process facts a chunk coder needs that are not part of the format (picklable)."""

    model_path: str | None = None
    threads: int = 1


@dataclass
class EncodedChunk:
    """A coded chunk plus the figures the bench and ``-v`` report about it."""

    frame: ChunkFrame
    stats: CodingStats = field(default_factory=CodingStats)
    neural_bytes: int = 0  # size of the model-coded payload that was tried (0 if none)
    tokens: int = 0
    load_seconds: float = 0.0  # time spent loading the LLM for this chunk (0 once cached)


def _varint(n: int) -> bytes:
    from .tokens import length_digits  # the same base-128 digits as raw-span lengths

    return bytes(length_digits(n))


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
    raise FormatError("corrupt LLM chunk header")


def _scaled(progress: Progress | None, factor: float) -> Progress | None:
    return None if progress is None else (lambda n: progress(int(n * factor)))


class _TokenCoder:
    """The token paths of one process: the loaded vocabulary (and LLM) and a chunk's predictor.

    Two layouts share everything but the predictor: the LLM levels code token ids under the
    LLM ensemble (:class:`~nczip.predictors.tokenstream.TokenStreamModel`), the fast levels code
    compact ranks under the online models (:class:`~nczip.predictors.compact.CompactTokenModel`).
    """

    def __init__(self, config: CodecConfig, runtime: Runtime) -> None:
        from .predictors.llm import LlamaModel

        if runtime.model_path is None:
            raise NczError("no model available for a token level")
        self.config = config
        self.runtime = runtime
        self.uses_llm = config.uses_llm
        started = time.monotonic()
        self.model = LlamaModel.load(runtime.model_path, vocab_only=not self.uses_llm)
        self.load_seconds = time.monotonic() - started
        self.pieces = self.model.pieces()

    @property
    def max_lanes(self) -> int:
        """Lanes a chunk may be cut into; above 1 the payload records each lane's symbol count."""
        return self.config.llm.lanes if self.config.llm is not None else 1

    def predictors(self, allow_escape: bool, lanes: int) -> tuple[list[Any], Before | None, Any]:
        """One predictor per lane, the step hook that evaluates their LLM lanes together, and
        what to close afterwards."""
        if self.config.llm is None:
            from .predictors.compact import CompactTokenModel

            assert self.config.tokens is not None
            return [CompactTokenModel(self.model.codable(), build_predictor(self.config.predictor), allow_escape,
                                      self.config.tokens)], None, None
        from .predictors.llm import LlmContext
        from .predictors.mixer import TokenMixer
        from .predictors.tokenstream import TokenStreamModel

        llm = self.config.llm
        context = LlmContext(self.model, n_ctx=llm.n_ctx, slide=llm.slide, threads=self.runtime.threads,
                             lanes=lanes)
        first = TokenMixer(context.codable, self.config.ensemble or Ensemble())
        mixers = [first] + [first.sibling() if llm.shared else TokenMixer(context.codable, first.config)
                            for _ in range(lanes - 1)]
        models = [TokenStreamModel(context.lanes[i], build_predictor(self.config.predictor), self.pieces,
                                   allow_escape, mixer=mixers[i]) for i in range(lanes)]

        def before(live: list[int]) -> None:  # one llama_decode for every lane that needs the LLM now
            context.evaluate([lane for lane in live if models[lane].needs_llm()])

        return models, before, context

    def encode(self, data: bytes, progress: Progress | None) -> tuple[bytes, CodingStats, int] | None:
        from .tokens import cut_lanes, raw_fraction, segment, to_compact_symbols, to_symbols

        parts = cut_lanes(data, self.max_lanes, MIN_LANE_BYTES)  # one lane: [data]
        segments = [segment(part, self.model.tokenize, self.pieces) for part in parts]
        if raw_fraction([seg for lane in segments for seg in lane]) > _MAX_RAW_FRACTION:
            return None
        if self.uses_llm:
            lanes = [to_symbols(lane, self.model.n_vocab) for lane in segments]
        else:
            lanes = [to_compact_symbols(lane) for lane in segments]
        allow_escape = any(seg.tokens is None for lane in segments for seg in lane)
        models, before, context = self.predictors(allow_escape, len(lanes))
        stats = CodingStats()
        count = sum(len(symbols) for symbols in lanes)
        try:
            coded = encode_lanes(models, lanes, stats, _scaled(progress, len(data) / max(1, count)),
                                 self.config.quantize, before)
        finally:
            if context is not None:
                context.close()
        head = _varint(int(allow_escape))
        if self.max_lanes > 1:
            head += _varint(len(lanes))
        head += b"".join(_varint(len(symbols)) for symbols in lanes)
        return head + coded, stats, sum(model.tokens for model in models)

    def decode(self, payload: bytes, original_length: int, progress: Progress | None) -> bytes:
        from .tokens import from_compact_symbols, from_symbols

        flags, pos = _read_varint(payload, 0)
        n_lanes = 1
        if self.max_lanes > 1:
            n_lanes, pos = _read_varint(payload, pos)
            if not 1 <= n_lanes <= self.max_lanes:
                raise FormatError("corrupt token chunk header")
        counts = []
        for _ in range(n_lanes):
            count, pos = _read_varint(payload, pos)
            counts.append(count)
        if flags > 1 or sum(counts) > 3 * original_length + 16 or (n_lanes > 1 and 0 in counts):
            raise FormatError("corrupt token chunk header")
        models, before, context = self.predictors(bool(flags), n_lanes)
        try:
            lanes = decode_lanes(models, payload[pos:], counts,
                                 _scaled(progress, original_length / max(1, sum(counts))), self.config.quantize,
                                 before)
        finally:
            if context is not None:
                context.close()
        try:
            if self.uses_llm:
                return b"".join(from_symbols(symbols, self.model.n_vocab, self.pieces) for symbols in lanes)
            return from_compact_symbols(lanes[0], self.pieces)
        except (ValueError, IndexError):
            raise FormatError("corrupt token chunk") from None


def encode_chunk(data: bytes, config: CodecConfig, progress: Progress | None = None,
                 runtime: Runtime | None = None) -> EncodedChunk:
    """Code ``data`` with every method the configuration allows and keep the smallest."""
    runtime = runtime or Runtime()
    crc = zlib.crc32(data)
    result = EncodedChunk(ChunkFrame(METHOD_STORED, len(data), crc, data))

    def offer(method: int, payload: bytes | None) -> None:
        """Keep ``payload`` if it is smaller than the best so far (stored, at first) and within
        its method's bound (nczip.bounds: a decoder refuses a frame beyond it)."""
        if (payload is not None and len(payload) < len(result.frame.payload)
                and bounds.within(method, len(data), len(payload))):
            result.frame = ChunkFrame(method, len(data), crc, payload)

    def can_win(method: int) -> bool:
        """Whether ``method`` could code the chunk smaller than the best so far: not where that
        is already below the least its bound lets it write (long runs, zeros: zstd's few bytes
        per 128 KiB beat the core's floor of one byte per 2,840), so its work is skipped."""
        return bounds.least_payload(method, len(data)) < len(result.frame.payload)

    zstd_payload = zstandard.ZstdCompressor(level=config.zstd_level,
                                            write_content_size=False).compress(data)
    offer(METHOD_ZSTD, zstd_payload)
    if config.cm is not None and not config.token_level:
        # The context-mixing levels ask for zstd at its fast level 3 (their configuration's
        # zstd_level): the core beats zstd -19 wherever zstd compresses at all, so zstd is only the
        # fallback for noise and the test for it, and -19 would cost more time than the core.
        if (len(data) < _NOISE_MIN or len(zstd_payload) < _INCOMPRESSIBLE * len(data)) and can_win(METHOD_CM):
            coded_cm = cm.encode(data, config.cm, progress, result.stats)
            result.neural_bytes = len(coded_cm or b"")
            offer(METHOD_CM, coded_cm)
            if coded_cm is None or len(coded_cm) > _CM_WEAK * len(zstd_payload):
                # little better than zstd -3 (binary the core has no model for, e.g. a fax image):
                # zstd's strongest level may win there, and costs little on such a chunk
                offer(METHOD_ZSTD, zstandard.ZstdCompressor(level=ZSTD_STRONG_LEVEL,
                                                            write_content_size=False).compress(data))
        return result
    quick = zstandard.ZstdCompressor(level=3).compress(data) if len(data) >= _NOISE_MIN else b""
    if len(quick) < _INCOMPRESSIBLE * len(data):
        coded = None
        if config.token_level and can_win(METHOD_LLM if config.uses_llm else METHOD_TOKENS):
            coder = _TokenCoder(config, runtime)
            result.load_seconds = coder.load_seconds
            coded = coder.encode(data, progress)
        payload: bytes | None
        if coded is not None:
            payload, result.stats, result.tokens = coded
            method = METHOD_LLM if config.uses_llm else METHOD_TOKENS
        elif config.cm is not None:  # mostly not text: the core instead of the PPM byte model
            method = METHOD_CM
            payload = cm.encode(data, config.cm, progress, result.stats) if can_win(method) else None
        elif not can_win(METHOD_NEURAL):
            payload, method = None, METHOD_NEURAL
        else:
            model = build_predictor(config.predictor)
            payload = encode_symbols(model, data, result.stats, progress, config.quantize)
            method = METHOD_NEURAL
        result.neural_bytes = len(payload or data)
        offer(method, payload)
        if coded is not None and config.cm is not None and can_win(METHOD_CM):
            # the core costs ~1/1000 of the LLM's time: where it codes the chunk smaller, it wins
            offer(METHOD_CM, cm.encode(data, config.cm))
    return result


def check_token_chunk(frame: ChunkFrame, config: CodecConfig, index: int) -> None:
    """Refuse a token chunk this configuration cannot have written, or whose models are retired."""
    check_frame(frame, config, index)
    reason = config.retired()
    if reason:
        raise FormatError(reason)


def check_frame(frame: ChunkFrame, config: CodecConfig, index: int) -> None:
    """Refuse a frame of a method this configuration never writes, or one claiming more bytes
    than its payload can code (:mod:`nczip.bounds`): cheap, so run as each frame is read."""
    bounds.check_frame(frame.method, frame.original_length, len(frame.payload), config, index)


def decode_chunk(frame: ChunkFrame, config: CodecConfig, index: int = 0,
                 progress: Progress | None = None, runtime: Runtime | None = None) -> bytes:
    """Decode one frame and verify its checksum; raise :class:`FormatError` if it is corrupt."""
    check_frame(frame, config, index)
    if frame.method == METHOD_STORED:
        data = frame.payload
    elif frame.method == METHOD_ZSTD:
        try:
            data = zstandard.ZstdDecompressor().decompress(frame.payload, max_output_size=frame.original_length)
        except zstandard.ZstdError:
            raise FormatError(f"corrupt chunk {index} (zstd data invalid)") from None
    elif frame.method == METHOD_NEURAL:
        model = build_predictor(config.predictor)
        data = bytes(decode_symbols(model, frame.payload, frame.original_length, progress, config.quantize))
    elif frame.method == METHOD_CM:
        assert config.cm is not None  # check_frame: only configurations with the core write it
        data = cm.decode(frame.payload, frame.original_length, config.cm, progress)
    elif frame.method in (METHOD_LLM, METHOD_TOKENS):
        check_token_chunk(frame, config, index)
        data = _TokenCoder(config, runtime or Runtime()).decode(frame.payload, frame.original_length, progress)
    else:  # read_frames already rejects unknown methods
        raise FormatError(f"unsupported chunk method {frame.method}")
    if len(data) != frame.original_length or zlib.crc32(data) != frame.crc32:
        raise FormatError(f"corrupt chunk {index} (checksum mismatch)")
    return data
