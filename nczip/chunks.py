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

from .codec import CodingStats, Progress, decode_symbols, encode_symbols
from .container import METHOD_LLM, METHOD_NEURAL, METHOD_STORED, METHOD_TOKENS, METHOD_ZSTD, ChunkFrame
from .errors import FormatError, NczError
from .config import CodecConfig
from .predictors import build_predictor

# zstd at level 3 shrinking a chunk of at least _NOISE_MIN bytes by less than this fraction marks
# it as incompressible noise: the models would not do better there, and skipping them saves their
# full cost. (Short chunks are never compressible by zstd, so they always get the models.)
_INCOMPRESSIBLE = 0.98
_NOISE_MIN = 4096
# A chunk with more than this fraction of its bytes outside round-tripping text goes to the byte
# model instead of the LLM.
_MAX_RAW_FRACTION = 0.5


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

    def predictor(self, allow_escape: bool):
        byte_model = build_predictor(self.config.predictor)
        if self.config.llm is None:
            from .predictors.compact import CompactTokenModel

            assert self.config.tokens is not None
            return CompactTokenModel(self.model.codable(), byte_model, allow_escape, self.config.tokens)
        from .predictors.llm import LlmPredictor
        from .predictors.tokenstream import TokenStreamModel

        llm = LlmPredictor(self.model, n_ctx=self.config.llm.n_ctx, slide=self.config.llm.slide,
                           threads=self.runtime.threads)
        return TokenStreamModel(llm, byte_model, self.pieces, allow_escape, self.config.ensemble)

    @staticmethod
    def _close(model: Any) -> None:
        llm = getattr(model, "llm", None)
        if llm is not None:
            llm.close()

    def encode(self, data: bytes, progress: Progress | None) -> tuple[bytes, CodingStats, int] | None:
        from .tokens import raw_fraction, segment, to_compact_symbols, to_symbols

        segments = segment(data, self.model.tokenize, self.pieces)
        if raw_fraction(segments) > _MAX_RAW_FRACTION:
            return None
        symbols = to_symbols(segments, self.model.n_vocab) if self.uses_llm else to_compact_symbols(segments)
        allow_escape = any(s.tokens is None for s in segments)
        model = self.predictor(allow_escape)
        stats = CodingStats()
        try:
            coded = encode_symbols(model, symbols, stats, _scaled(progress, len(data) / max(1, len(symbols))),
                                   self.config.quantize)
        finally:
            self._close(model)
        head = _varint(int(allow_escape)) + _varint(len(symbols))
        return head + coded, stats, model.tokens

    def decode(self, payload: bytes, original_length: int, progress: Progress | None) -> bytes:
        from .tokens import from_compact_symbols, from_symbols

        flags, pos = _read_varint(payload, 0)
        count, pos = _read_varint(payload, pos)
        if flags > 1 or count > 3 * original_length + 16:
            raise FormatError("corrupt token chunk header")
        model = self.predictor(bool(flags))
        try:
            symbols = decode_symbols(model, payload[pos:], count,
                                     _scaled(progress, original_length / max(1, count)), self.config.quantize)
        finally:
            self._close(model)
        try:
            if self.uses_llm:
                return from_symbols(symbols, self.model.n_vocab, self.pieces)
            return from_compact_symbols(symbols, self.pieces)
        except (ValueError, IndexError):
            raise FormatError("corrupt token chunk") from None


def encode_chunk(data: bytes, config: CodecConfig, progress: Progress | None = None,
                 runtime: Runtime | None = None) -> EncodedChunk:
    """Code ``data`` with every method the configuration allows and keep the smallest."""
    runtime = runtime or Runtime()
    crc = zlib.crc32(data)
    best_method, best_payload = METHOD_STORED, data
    zstd_payload = zstandard.ZstdCompressor(level=config.zstd_level,
                                            write_content_size=False).compress(data)
    if len(zstd_payload) < len(best_payload):
        best_method, best_payload = METHOD_ZSTD, zstd_payload
    result = EncodedChunk(ChunkFrame(METHOD_STORED, len(data), crc, b""))
    quick = zstandard.ZstdCompressor(level=3).compress(data) if len(data) >= _NOISE_MIN else b""
    if len(quick) < _INCOMPRESSIBLE * len(data):
        coded = None
        if config.token_level:
            coder = _TokenCoder(config, runtime)
            result.load_seconds = coder.load_seconds
            coded = coder.encode(data, progress)
        if coded is not None:
            payload, result.stats, result.tokens = coded
            method = METHOD_LLM if config.uses_llm else METHOD_TOKENS
        else:
            model = build_predictor(config.predictor)
            payload = encode_symbols(model, data, result.stats, progress, config.quantize)
            method = METHOD_NEURAL
        result.neural_bytes = len(payload)
        if len(payload) < len(best_payload):
            best_method, best_payload = method, payload
    result.frame = ChunkFrame(best_method, len(data), crc, best_payload)
    return result


def check_token_chunk(frame: ChunkFrame, config: CodecConfig, index: int) -> None:
    """Refuse a token chunk this configuration cannot have written, or whose models are retired."""
    if config.uses_llm != (frame.method == METHOD_LLM) or not config.token_level:
        raise FormatError(f"corrupt chunk {index} (token chunk of a kind this file's models do not code)")
    reason = config.retired()
    if reason:
        raise FormatError(reason)


def decode_chunk(frame: ChunkFrame, config: CodecConfig, index: int = 0,
                 progress: Progress | None = None, runtime: Runtime | None = None) -> bytes:
    """Decode one frame and verify its checksum; raise :class:`FormatError` if it is corrupt."""
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
    elif frame.method in (METHOD_LLM, METHOD_TOKENS):
        check_token_chunk(frame, config, index)
        data = _TokenCoder(config, runtime or Runtime()).decode(frame.payload, frame.original_length, progress)
    else:  # read_frames already rejects unknown methods
        raise FormatError(f"unsupported chunk method {frame.method}")
    if len(data) != frame.original_length or zlib.crc32(data) != frame.crc32:
        raise FormatError(f"corrupt chunk {index} (checksum mismatch)")
    return data
