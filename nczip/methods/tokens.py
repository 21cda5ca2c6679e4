"""Methods 3 and 4: the chunk as tokens with raw byte spans, range-coded under the LLM ensemble
(method 3, the LLM levels) or under the compact online token models (method 4, the former fast
levels). Both need the model file the header names (the LLM, or only its vocabulary), and both
share everything but the predictor (:class:`TokenCoder`).
"""

from __future__ import annotations

import time
from typing import Any

from ..coding.loop import Before, CodingStats, Progress, decode_lanes, encode_lanes
from ..config import CodecConfig, Ensemble
from ..container import METHOD_LLM, METHOD_TOKENS
from ..errors import FormatError, NczError
from ..predictors import build_predictor
from .base import Bound, ChunkJob, Method, Runtime

# A chunk with more than this fraction of its bytes outside round-tripping text goes to the byte
# model (or the core) instead of the token path.
_MAX_RAW_FRACTION = 0.5
# The shortest lane worth its own LLM window: each lane starts with an empty context, whose first
# tokens cost more (measured: docs/lanes.md).
MIN_LANE_BYTES = 16384


def varint(n: int) -> bytes:
    from ..tokens import length_digits  # the same base-128 digits as raw-span lengths

    return bytes(length_digits(n))


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
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


class TokenCoder:
    """The token paths of one process: the loaded vocabulary (and LLM) and a chunk's predictor.

    Two layouts share everything but the predictor: the LLM levels code token ids under the
    LLM ensemble (:class:`~nczip.predictors.tokenstream.TokenStreamModel`), the fast levels code
    compact ranks under the online models (:class:`~nczip.predictors.compact.CompactTokenModel`).
    """

    def __init__(self, config: CodecConfig, runtime: Runtime) -> None:
        from ..predictors.llm import LlamaModel

        if runtime.model_path is None:
            raise NczError("no model available for a token level")
        self.config = config
        self.runtime = runtime
        self.uses_llm = config.uses_llm
        started = time.monotonic()
        self.model = LlamaModel.load(runtime.model_path, vocab_only=not self.uses_llm,
                                     device=runtime.device if self.uses_llm else "cpu")
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
            from ..predictors.compact import CompactTokenModel

            assert self.config.tokens is not None
            return [CompactTokenModel(self.model.codable(), build_predictor(self.config.predictor), allow_escape,
                                      self.config.tokens)], None, None
        from ..predictors.llm import LlmContext
        from ..predictors.mixer import TokenMixer
        from ..predictors.tokenstream import TokenStreamModel

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
        from ..tokens import cut_lanes, raw_fraction, segment, to_compact_symbols, to_symbols

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
        head = varint(int(allow_escape))
        if self.max_lanes > 1:
            head += varint(len(lanes))
        head += b"".join(varint(len(symbols)) for symbols in lanes)
        return head + coded, stats, sum(model.tokens for model in models)

    def decode(self, payload: bytes, original_length: int, progress: Progress | None) -> bytes:
        from ..tokens import from_compact_symbols, from_symbols

        flags, pos = read_varint(payload, 0)
        n_lanes = 1
        if self.max_lanes > 1:
            n_lanes, pos = read_varint(payload, pos)
            if not 1 <= n_lanes <= self.max_lanes:
                raise FormatError("corrupt token chunk header")
        counts = []
        for _ in range(n_lanes):
            count, pos = read_varint(payload, pos)
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


class _TokenMethod(Method):
    needs_model = True

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        coder = TokenCoder(job.config, job.runtime)
        job.load_seconds = coder.load_seconds
        coded = coder.encode(data, job.progress)
        if coded is None:
            return None
        payload, job.stats, job.tokens = coded
        return payload

    def decode(self, payload: bytes, length: int, job: ChunkJob) -> bytes:
        reason = job.config.retired()
        if reason:
            raise FormatError(reason)
        return TokenCoder(job.config, job.runtime).decode(payload, length, job.progress)


class Llm(_TokenMethod):
    id = METHOD_LLM
    name = "llm"
    # 64 bytes per payload byte (0.125 bit a byte over a chunk, seven times below what level 9
    # reaches on English) at ~200 B/s on a CPU
    bound = Bound(64, 16)

    def writes(self, config: CodecConfig) -> bool:
        return config.token_level and config.uses_llm and not (config.llm is not None and config.llm.core)


class Tokens(_TokenMethod):
    id = METHOD_TOKENS
    name = "tokens"
    bound = Bound(256, 16)

    def writes(self, config: CodecConfig) -> bool:
        return config.token_level and not config.uses_llm
