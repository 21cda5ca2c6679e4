"""Method 6: the LLM inside the context-mixing core. A chunk's bytes are coded bit by bit by the
core (configuration ``cm``), and the LLM's token ensemble (LLM + online token models, the same
:class:`~nczip.predictors.tokenstream.TokenStreamModel` as method 3) is one more input of the
core's mixer at every bit, beside its contexts and match model.

The token -> bit bridge. At each token step the ensemble gives a distribution over the
vocabulary. The token's exact bytes (the GGUF byte table) are coded one by one; the LLM's input for
the byte at offset ``i`` is the ensemble's mass on each next byte value, marginalised over the
tokens whose bytes agree with the ``i`` bytes coded so far of this token. With the vocabulary
sorted by byte string, those tokens are one contiguous range, and the mass on each next byte is a
difference of one prefix-sum array per step (:class:`SortedVocab`): no pass over the vocabulary per
bit. Where the token ends is an event coded with the ensemble's probability that it ends here
(the mass of the token equal to the bytes so far, over the range's), and only where both are
possible: when no token equals the bytes so far it cannot end, when none is longer it must. An
escape (a raw span of bytes no token round-trips) is an event at the token's start with the
escape probability; the span's length is coded as plain bits and its bytes by the core with the
byte model's distribution as the external input.

Each lane (nczip/methods/tokens.py: one LLM sequence per lane, stepped in lockstep) has a core of
its own, sized by its bytes, and a payload of its own. All sums are sequential (``np.cumsum``) and
every probability reaches C as integers, so encoder and decoder compute the same bits.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from .. import kernels
from ..config import CodecConfig
from ..errors import FormatError
from ..predictors import cm
from ..tokens import SymbolMode
from .base import Bound, ChunkJob, Method
from . import tokens as token_method  # MIN_LANE_BYTES read at each use (tests shorten it)
from .tokens import TokenCoder, read_varint, varint

METHOD_BRIDGE = 6
#: the external input's weights are scaled to this total (the core takes integer weights)
_WEIGHT_TOTAL = 1 << 24


def p12(p: float) -> int:
    """A probability of a 1 as the core's coder takes it: 1/4096 .. 4095/4096."""
    return min(4095, max(1, int(p * 4096.0 + 0.5)))


class SortedVocab:
    """The vocabulary sorted by byte string: the tables that turn a token distribution into the
    next byte's distribution given a token's first bytes (module docstring)."""

    def __init__(self, pieces: list[bytes]) -> None:
        seen: dict[bytes, int] = {}
        for token, piece in enumerate(pieces):
            if piece and piece not in seen:  # duplicates of a byte string code as its first id
                seen[piece] = token
        ordered = sorted(seen.items())
        self.canonical = np.arange(len(pieces))
        for token, piece in enumerate(pieces):
            if piece in seen:
                self.canonical[token] = seen[piece]
        self.order = np.array([token for _, token in ordered], dtype=np.int64)
        self.lengths = np.array([len(piece) for piece, _ in ordered], dtype=np.int64)
        width = int(self.lengths.max()) + 1
        self.at = np.full((len(ordered), width), -1, dtype=np.int16)
        for row, (piece, _) in enumerate(ordered):
            self.at[row, :len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        self.pieces = pieces
        self._values = np.arange(257, dtype=np.int16)

    def code(self, lane: "CoreLane", probs: np.ndarray, token: int | None) -> int:
        """Code ``token`` (encoding) or decode one (``None``) under the distribution ``probs``
        over the vocabulary; returns the token."""
        sums = np.empty(self.order.shape[0] + 1)
        sums[0] = 0.0
        np.cumsum(probs[self.order], out=sums[1:])
        piece = self.pieces[token] if token is not None else b""
        lo, hi, i = 0, self.order.shape[0], 0
        while True:
            if i and self.lengths[lo] == i:  # the bytes so far are a token: it may end here
                if hi - lo == 1:
                    return int(self.order[lo])
                total = sums[hi] - sums[lo]
                p_end = (sums[lo + 1] - sums[lo]) / total if total > 0.0 else 0.5
                if lane.event(None if token is None else int(i == len(piece)), p12(p_end)):
                    return int(self.order[lo])
                lo += 1
            starts = lo + np.searchsorted(self.at[lo:hi, i], self._values)
            mass = sums[starts[1:]] - sums[starts[:-1]]
            total = float(sums[hi] - sums[lo])
            present = starts[1:] > starts[:-1]
            if total > 0.0:
                weights = np.floor(mass * (_WEIGHT_TOTAL / total)).astype(np.int32) + present
            else:
                weights = present.astype(np.int32)
            byte = lane.byte(None if token is None else piece[i], weights)
            lo, hi = int(starts[byte]), int(starts[byte + 1])
            if lo == hi:
                raise FormatError("corrupt chunk (bytes of no token)")
            i += 1


class CoreLane:
    """One lane's core: its bytes (history), its coder (encoding into a buffer, or decoding a
    payload) and the C calls for a byte with external weights and for a bare event."""

    def __init__(self, spec: Any, length: int, payload: bytes | None) -> None:
        self.lib = kernels.lib()
        self.data = ctypes.create_string_buffer(max(1, length))
        self.length = length
        self.pos = 0
        self._model = cm.Model(spec, length, external=True)
        self.handle = self._model.__enter__()
        self.encoding = payload is None
        if payload is None:
            self.cap = 2 * length + 1024
            self.out = ctypes.create_string_buffer(self.cap)
            self.lib.cm_set_output(self.handle, self.out, self.cap)
        else:
            self.payload = payload
            self.lib.cm_set_input(self.handle, payload, len(payload))

    def set_data(self, data: bytes) -> None:
        ctypes.memmove(self.data, data, len(data))

    def byte(self, value: int | None, weights: np.ndarray) -> int:
        if self.pos >= self.length:
            raise FormatError("corrupt chunk (more bytes than the lane holds)")
        weights = np.ascontiguousarray(weights, dtype=np.int32)
        got = self.lib.cm_code_byte(self.handle, self.data, self.pos, kernels.ptr(weights))
        if got < 0:
            raise FormatError("corrupt chunk (its coded data ends before its bytes do)")
        assert value is None or got == value
        self.pos += 1
        return int(got)

    def event(self, bit: int | None, p: int) -> int:
        got = self.lib.cm_code_event(self.handle, -1 if bit is None else bit, p)
        if got < 0:
            raise FormatError("corrupt chunk (its coded data ends before its bytes do)")
        return int(got)

    def finish(self) -> bytes:
        total = self.lib.cm_finish(self.handle)
        return self.out.raw[:total] if total <= self.cap else b""

    def close(self) -> None:
        self._model.__exit__()


_UNIFORM = np.ones(256, dtype=np.int32)


def _code_symbol(model: Any, lane: CoreLane, vocab: SortedVocab, symbol: int | None) -> int:
    """One symbol of a lane's token stream through the core (both directions)."""
    if model.mode == SymbolMode.TOKEN:
        probs = model.predict()
        if model.allow_escape:
            escape = lane.event(None if symbol is None else int(symbol == model.escape), p12(float(probs[-1])))
            if escape:
                return int(model.escape)
            probs = probs[:-1]
        return vocab.code(lane, probs, symbol)
    if model.mode == SymbolMode.LENGTH:  # a raw span's length digit: eight plain bits
        value = 0
        for k in range(7, -1, -1):
            value |= lane.event(None if symbol is None else (symbol >> k) & 1, 2048) << k
        return value
    weights = np.floor(model.predict() * _WEIGHT_TOTAL).astype(np.int32) + 1  # a raw byte
    return lane.byte(symbol, weights)


class Bridge(Method):
    id = METHOD_BRIDGE
    name = "llm-cm"
    needs_model = True
    bound = Bound(64, 16)

    def writes(self, config: CodecConfig) -> bool:
        return config.llm is not None and config.llm.core and config.cm is not None

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        from ..tokens import cut_lanes, raw_fraction, segment, to_symbols

        coder = TokenCoder(job.config, job.runtime)
        job.load_seconds = coder.load_seconds
        parts = cut_lanes(data, coder.max_lanes, token_method.MIN_LANE_BYTES)
        segments = [segment(part, coder.model.tokenize, coder.pieces) for part in parts]
        if raw_fraction([seg for lane in segments for seg in lane]) > 0.5:
            return None
        vocab = _vocab(coder.pieces)
        for lane_segments in segments:  # a byte string shared by several ids codes as its first
            for seg in lane_segments:
                if seg.tokens is not None:
                    seg.tokens = [int(vocab.canonical[t]) for t in seg.tokens]
        lanes = [to_symbols(lane, coder.model.n_vocab) for lane in segments]
        allow_escape = any(seg.tokens is None for lane in segments for seg in lane)
        cores = [CoreLane(job.config.cm, len(part), None) for part in parts]
        for core, part in zip(cores, parts):
            core.set_data(part)
        try:
            self._run(coder, vocab, cores, lanes, [len(s) for s in lanes], allow_escape, job)
            payloads = [core.finish() for core in cores]
        finally:
            for core in cores:
                core.close()
        head = varint(int(allow_escape)) + varint(len(lanes))
        for symbols, part, payload in zip(lanes, parts, payloads):
            head += varint(len(symbols)) + varint(len(part)) + varint(len(payload))
        job.tokens = sum(len(s) for s in lanes)
        return head + b"".join(payloads)

    def decode(self, payload: bytes, length: int, job: ChunkJob) -> bytes:
        coder = TokenCoder(job.config, job.runtime)
        flags, pos = read_varint(payload, 0)
        n_lanes, pos = read_varint(payload, pos)
        if flags > 1 or not 1 <= n_lanes <= coder.max_lanes:
            raise FormatError("corrupt llm-cm chunk header")
        counts: list[int] = []
        sizes: list[int] = []
        coded: list[int] = []
        for _ in range(n_lanes):
            for into in (counts, sizes, coded):
                value, pos = read_varint(payload, pos)
                into.append(value)
        if (sum(sizes) != length or sum(counts) > 3 * length + 16 or pos + sum(coded) != len(payload)
                or (n_lanes > 1 and 0 in sizes)):
            raise FormatError("corrupt llm-cm chunk header")
        cores = []
        for size, n in zip(sizes, coded):
            cores.append(CoreLane(job.config.cm, size, payload[pos:pos + n]))
            pos += n
        try:
            self._run(coder, _vocab(coder.pieces), cores, None, counts, bool(flags), job)
            out = b"".join(core.data.raw[:core.length] for core in cores)
            if any(core.pos != core.length for core in cores):
                raise FormatError("corrupt llm-cm chunk (lane lengths)")
        finally:
            for core in cores:
                core.close()
        return out

    @staticmethod
    def _run(coder: TokenCoder, vocab: SortedVocab, cores: list[CoreLane], lanes: list[list[int]] | None,
             counts: list[int], allow_escape: bool, job: ChunkJob) -> None:
        """The lockstep schedule of nczip.coding.loop.code_lanes, with each symbol coded through
        its lane's core instead of a range coder."""
        models, before, context = coder.predictors(allow_escape, len(cores))
        done = [0] * len(cores)
        try:
            live = [lane for lane, count in enumerate(counts) if count > 0]
            while live:
                if before is not None:
                    before(live)
                for lane in live:
                    symbol = None if lanes is None else lanes[lane][done[lane]]
                    symbol = _code_symbol(models[lane], cores[lane], vocab, symbol)
                    models[lane].update(symbol)
                    done[lane] += 1
                live = [lane for lane in live if done[lane] < counts[lane]]
                if job.progress is not None:
                    job.progress(sum(core.pos for core in cores))
        finally:
            if context is not None:
                context.close()


_VOCABS: dict[int, SortedVocab] = {}


def _vocab(pieces: list[bytes]) -> SortedVocab:
    """The sorted tables of a loaded model's vocabulary (built once per process)."""
    key = id(pieces)
    if key not in _VOCABS:
        _VOCABS[key] = SortedVocab(pieces)
    return _VOCABS[key]
