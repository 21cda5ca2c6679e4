"""What a chunk method is: an id in the frame, a name, the configurations that write it, a bound
on what its payload may claim, and its encoder and decoder.

A frame's method and lengths are untrusted input. Without bounds a 111-byte file could name the
byte model (which the core's levels never write) under a 32-bit quantizer, where a zero byte
costs ~10^-7 bit, and claim 2^28 bytes: hours of decoding from 8 payload bytes. So a frame may
use only a method its configuration writes (:meth:`Method.writes`), and a model-coded frame may
claim at most ``ratio`` original bytes per payload byte (plus ``slack`` payload bytes for the
coder's start and flush) and at most ``longest`` bytes in all (:class:`Bound`). The decoder
refuses anything beyond that before it does any work, and the encoder never writes it (it keeps
another method's payload instead), so every file this nczip writes decodes.

For the context-mixing core the ratio is a theorem of its binary coder, not a choice: every bit
is coded at a probability clamped to [1/4096, 4095/4096], so each bit shrinks the coder's 32-bit
range by at least 4095/4096 (log2: 3.52e-4 bit) and each payload byte restores 8 bits of range:
n bytes need 8n x 3.52e-4 <= 8 x payload + 32 bits, i.e. n <= 2839.6 x (payload + 4). For the range
coder's methods (byte model, token models, LLM) the quantizers' floors are far too small to
bound anything (one count in 2^24 or 2^32), so the limit is set by the method, well above what
those models reach on real data (docs/hardening.md), and enforced at both ends. zstd bounds
itself (at most 128 KiB per 4-byte RLE block, decoded at memory speed) and is decoded with its
output capped at the frame's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Iterator

from ..coding.loop import CodingStats, Progress
from ..config import CodecConfig
from ..container import MAX_CHUNK_SIZE


#: the most bytes a streaming decoder hands out at once (:meth:`Method.decode_stream`)
STREAM_SLICE = 1 << 17


@dataclass(frozen=True)
class Bound:
    """At most ``ratio * (payload + slack)`` original bytes, and at most ``longest``, per frame."""

    ratio: int
    slack: int
    longest: int = MAX_CHUNK_SIZE

    def most(self, payload: int) -> int:
        """The most original bytes a payload of ``payload`` bytes may claim."""
        return min(self.longest, self.ratio * (payload + self.slack))

    def least(self, length: int) -> int:
        """The fewest payload bytes that may code ``length`` bytes (0 if any payload may)."""
        return max(0, -(-length // self.ratio) - self.slack)


@dataclass
class Runtime:
    """Per-process facts a chunk coder needs that are not part of the format (picklable)."""

    model_path: str | None = None
    threads: int = 1
    device: str = "cpu"  # where the LLM runs: cpu or cuda (nczip.predictors.llm.resolve_device)


@dataclass
class ChunkJob:
    """One chunk's coding: what the method reads (configuration, runtime, progress, the frame's
    index for messages) and what it reports (the model's statistics, tokens, model load time)."""

    config: CodecConfig
    runtime: Runtime = field(default_factory=Runtime)
    progress: Progress | None = None
    index: int = 0
    stats: CodingStats = field(default_factory=CodingStats)
    tokens: int = 0
    load_seconds: float = 0.0


class Method:
    """A chunk method. Subclasses set the class attributes and implement the three methods; one
    instance of each is listed in :data:`nczip.methods.REGISTRY`."""

    #: the frame's method byte (formats/SPEC.md); never reused once files carry it
    id: ClassVar[int]
    #: shown by ``nczip info`` and ``-v``
    name: ClassVar[str]
    #: what a payload may claim; None: the method bounds itself (stored, zstd)
    bound: ClassVar[Bound | None] = None
    #: whether decoding needs the model file the header names (its vocabulary or the LLM)
    needs_model: ClassVar[bool] = False

    def writes(self, config: CodecConfig) -> bool:
        """Whether an encoder with ``config`` can write this method's frames."""
        raise NotImplementedError

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        """``data``'s payload, or None when this method declines the chunk."""
        raise NotImplementedError

    def decode(self, payload: bytes, length: int, job: ChunkJob) -> bytes:
        """The ``length`` bytes ``payload`` codes (checked against the CRC by the caller);
        :class:`~nczip.errors.FormatError` for a payload that is not one. A method implements
        this or :meth:`decode_stream`; each defaults to the other."""
        return b"".join(self.decode_stream(payload, length, job))

    def decode_stream(self, payload: bytes, length: int, job: ChunkJob) -> Iterator[bytes]:
        """The same bytes as :meth:`decode`, in pieces as they are decoded: a method whose model
        decodes front to back (the core, zstd, stored) yields slices of at most
        :data:`STREAM_SLICE` bytes, so a reader gets the first bytes of a chunk without waiting
        for the whole of it, and never holds it twice. The default yields the whole chunk."""
        yield self.decode(payload, length, job)

    def within(self, length: int, payload: int) -> bool:
        """Whether a frame of ``payload`` bytes may claim ``length`` original bytes."""
        return self.bound is None or length <= self.bound.most(payload)

    def least_payload(self, length: int) -> int:
        """The fewest payload bytes this method may use for ``length`` bytes: a payload of
        another method no larger than this cannot be beaten by it."""
        return 0 if self.bound is None else self.bound.least(length)
