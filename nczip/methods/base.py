"""What a chunk frame may claim: which methods a configuration can write, and how many bytes a
payload of each method may decode to.

A frame's method and lengths are untrusted input. Without these rules a 111-byte file could
name the byte model (which cm levels never write) under a 32-bit quantizer, where a zero byte
costs ~10^-7 bit, and claim 2^28 bytes: hours of decoding from 8 payload bytes. So:

* a frame may use only a method its configuration's encoder can produce (:func:`methods`);
* a frame of a model-coded method may claim at most ``ratio`` original bytes per payload byte
  (plus ``slack`` payload bytes for the coder's start and flush) and at most ``longest`` bytes in
  all (:data:`BOUNDS`). The decoder refuses anything beyond that before it does any work, and the
  encoder never writes it (it keeps another method's payload instead), so every file this
  nczip writes decodes.

For the context-mixing core the ratio is a theorem of its binary coder, not a choice: every bit
is coded at a probability clamped to [1/4096, 4095/4096], so each bit shrinks the coder's 32-bit
range by at least 4095/4096 (log2: 3.52e-4 bit) and each payload byte restores 8 bits of range:
n bytes need 8n x 3.52e-4 <= 8 x payload + 32 bits, i.e. n <= 2839.6 x (payload + 4). For the range
coder's methods (byte model, token models, LLM) the quantizers' floors are far too small to
bound anything (one count in 2^24 or 2^32), so the limit is set here, well above what those
models reach on real data (docs/hardening.md has the measured figures), and enforced at both
ends. zstd bounds itself (at most 128 KiB per 4-byte RLE block, decoded at memory speed) and is
decoded with its output capped at the frame's length.

The same bounds tell the encoder when a method cannot win: if a cheaper method's payload is
already smaller than the least the model could write (:func:`least_payload`), the model is not
run at all (256 MiB of zeros: the core's full per-byte work for nothing, issue 22).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import CodecConfig
from .container import (MAX_CHUNK_SIZE, METHOD_CM, METHOD_LLM, METHOD_NAMES, METHOD_NEURAL, METHOD_STORED,
                        METHOD_TOKENS, METHOD_ZSTD)
from .errors import FormatError


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


#: Per model-coded method: the byte model (Python, ~20-30 KB/s) and the compact token models get
#: 256 bytes per payload byte (0.03 bit per byte); the LLM (~200 B/s on a CPU) 64 (0.125 bit per
#: byte, seven times below what it reaches on English). The byte model's frames are also at most
#: 32 MiB, the largest chunk any level ever gave it, which bounds its dictionaries (docs/hardening.md).
BOUNDS: dict[int, Bound] = {
    METHOD_STORED: Bound(1, 0),
    METHOD_CM: Bound(2840, 4),
    METHOD_NEURAL: Bound(256, 16, 32 << 20),
    METHOD_TOKENS: Bound(256, 16),
    METHOD_LLM: Bound(64, 16),
}


def methods(config: CodecConfig) -> frozenset[int]:
    """The chunk methods an encoder with this configuration can write (nczip.chunks.encode_chunk):
    stored and zstd always; the core where the configuration has one, else the byte model; and
    the token path of a token configuration (LLM ids or compact ranks)."""
    found = {METHOD_STORED, METHOD_ZSTD, METHOD_CM if config.cm is not None else METHOD_NEURAL}
    if config.token_level:
        found.add(METHOD_LLM if config.uses_llm else METHOD_TOKENS)
    return frozenset(found)


def within(method: int, length: int, payload: int) -> bool:
    """Whether a ``method`` frame of ``payload`` bytes may claim ``length`` original bytes."""
    bound = BOUNDS.get(method)
    return bound is None or length <= bound.most(payload)


def least_payload(method: int, length: int) -> int:
    """The fewest payload bytes ``method`` may use for ``length`` bytes: a payload of another
    method no larger than this cannot be beaten by it."""
    bound = BOUNDS.get(method)
    return 0 if bound is None else bound.least(length)


def check_frame(method: int, length: int, payload: int, config: CodecConfig, index: int) -> None:
    """Refuse a frame its configuration cannot have written, or one claiming more than its
    method's bound, before any of its work is done."""
    name = METHOD_NAMES.get(method, str(method))
    if method not in methods(config):
        raise FormatError(f"corrupt chunk {index} (a {name} chunk in a file whose configuration never writes one)")
    if not within(method, length, payload):
        bound = BOUNDS[method]
        raise FormatError(f"corrupt chunk {index} ({length} bytes claimed from {payload} {name} payload bytes; "
                          f"the most is {bound.most(payload)})")
