"""The fast levels' context-mixing core (``cm/1``, nczip/kernels/cm.c) seen from Python.

The whole bit loop (predict, code, learn) runs in C: at a few hundred nanoseconds a bit, a call
per bit from Python would cost more than the model. Python hands the C side a whole chunk and asks
for it in slices, only to report progress; the model and its arithmetic coder keep their state in
one C object between slices, so slicing changes no output byte.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol

from .. import kernels
from ..coding.stats import CodingStats
from ..errors import FormatError, NczError
from .schema import Declared, Invalid, arithmetic, custom, integer

if TYPE_CHECKING:
    import numpy as np

CM = "cm/1"
# The core's contexts, in the order of its bit mask (nczip/kernels/cm.c, CTX_*).
CM_CONTEXTS = ("o0", "o1", "o2", "o3", "o4", "o5", "o6", "o8", "word", "word2", "sparse1", "sparse2",
               "column", "sparse3", "word3", "record1", "record2")
#: the contexts of a fixed record length (method 8 adds them to a configuration's, with its length)
RECORD_CONTEXTS = ("record1", "record2")



def _contexts(raw: Any) -> tuple[str, ...]:
    if (not isinstance(raw, list) or not 1 <= len(raw) <= len(CM_CONTEXTS)
            or any(not isinstance(c, str) or c not in CM_CONTEXTS for c in raw) or len(set(raw)) != len(raw)):
        raise Invalid(f"contexts must be a list of distinct names from {', '.join(CM_CONTEXTS)}")
    return tuple(raw)


def _match_bits(bits: int) -> None:
    if 0 < bits < 10:
        raise Invalid(f"match_bits {bits} out of range (0, or [10, 26])")


@dataclass(frozen=True)
class CmSpec(Declared):
    """The core's configuration (a header's ``cm``): its contexts, table sizes (log2;
    ``2^table_bits`` 16-byte slots, ``2^match_bits`` match positions, 0 for no match model) and
    mixer settings. The bounds cap what a header can make a decoder allocate at ~1.3 GiB."""

    contexts: tuple[str, ...] = custom(_contexts)
    table_bits: int = integer(10, 26)
    match_bits: int = integer(0, 26, check=_match_bits)
    match_min: int = integer(2, 32)
    selectors: int = integer(1, 3)
    apm: int = integer(0, 2)
    lr: int = integer(1, 64)
    limit: int = integer(1, 1023)
    name: str = arithmetic(CM)


# Bytes coded between progress reports: ~0.1-1 s of work at every level.
_SLICE = 1 << 17
# Coded output a chunk may grow to before the core gives up on it (the chunk is then stored or
# zstd-coded, which is never larger than the input).
_SLACK = 1024


def table_bits(spec: CmSpec, length: int | None) -> tuple[int, int]:
    """The slot and match tables' sizes (log2) for a chunk of ``length`` bytes: the level's, or
    less for a short chunk (8 slots and 2 match positions a byte, at least 2^16 and 2^12), which
    learn as well and cost a short input far less time (alice29 at level 1: 2^23 slots 37,848 B,
    265 KB/s; 2^20 slots 37,855 B, 449 KB/s). Both sides know the chunk's length (its frame), so
    this is part of the ``cm/1`` arithmetic, not a header field. ``None``: the level's own sizes."""
    if length is None:
        return spec.table_bits, spec.match_bits
    bits = max(1, length).bit_length()
    match = min(spec.match_bits, max(12, bits + 1)) if spec.match_bits else 0
    return min(spec.table_bits, max(16, bits + 3)), match


def _params(spec: CmSpec, length: int | None = None, external: bool = False,
            record: int = 0) -> ctypes.Array[ctypes.c_int32]:
    """The C core's parameter array (its enum P_* order) for a chunk of ``length`` bytes;
    ``external``: one more input, a next-byte distribution the caller computes (:func:`encode_with`);
    ``record``: a record length, which adds the record contexts (method 8)."""
    mask = 0
    for name in spec.contexts + (RECORD_CONTEXTS if record else ()):
        mask |= 1 << CM_CONTEXTS.index(name)
    slots, match = table_bits(spec, length)
    values = [slots, mask, match, spec.match_min, spec.selectors, spec.apm, spec.lr, spec.limit, int(external),
              record]
    return (ctypes.c_int32 * len(values))(*values)


def memory(spec: CmSpec) -> int:
    """Bytes the model's tables take at most (for a chunk of the level's full size)."""
    return int(kernels.lib().cm_memory(_params(spec)))


class Model:
    """One C model: created on entry, freed on exit (the tables can be hundreds of MB)."""

    def __init__(self, spec: CmSpec, length: int, external: bool = False, record: int = 0) -> None:
        self.params = _params(spec, length, external, record)
        self.handle: int | None = None

    def __enter__(self) -> int:
        self.handle = kernels.lib().cm_new(self.params)
        if not self.handle:
            need = kernels.lib().cm_memory(self.params) / 2**20
            raise NczError(f"not enough memory for the context-mixing model ({need:.0f} MiB)")
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle:
            kernels.lib().cm_free(self.handle)
            self.handle = None


def encode(data: bytes, spec: CmSpec, progress: Callable[[int], None] | None = None,
           stats: CodingStats | None = None, record: int = 0) -> bytes | None:
    """``data`` coded under the model, or None when that would not be smaller than ``data``;
    ``stats`` gets the bytes coded and the model's ideal code length; ``record``: as for
    :class:`Model`."""
    lib = kernels.lib()
    cap = len(data) + _SLACK
    out = ctypes.create_string_buffer(cap)
    with Model(spec, len(data), record=record) as model:
        for start in range(0, len(data), _SLICE):
            end = min(len(data), start + _SLICE)
            total = lib.cm_encode(model, data, start, end, out, cap)
            if total > len(data):
                return None
            if progress is not None:
                progress(end)
        total = lib.cm_finish(model)
        if stats is not None:
            stats.symbols += len(data)
            stats.ideal_bits += float(lib.cm_ideal_bits(model))
    if total >= len(data):
        return None
    return out.raw[:total]


def decode(payload: bytes, length: int, spec: CmSpec, progress: Callable[[int], None] | None = None,
           record: int = 0) -> bytes:
    """The ``length`` bytes ``payload`` codes; :class:`FormatError` if it ends too early."""
    return b"".join(decode_slices(payload, length, spec, progress, record=record))


def decode_slices(payload: bytes, length: int, spec: CmSpec, progress: Callable[[int], None] | None = None,
                  index: int = 0, record: int = 0) -> Iterator[bytes]:
    """The bytes ``payload`` codes, one slice at a time as the model decodes them (the model and
    the chunk's history, which its match model reads, live until the last slice); ``index``
    names the chunk in errors."""
    lib = kernels.lib()
    out = ctypes.create_string_buffer(max(1, length))
    base = ctypes.addressof(out)
    with Model(spec, length, record=record) as model:
        for start in range(0, length, _SLICE):
            end = min(length, start + _SLICE)
            if lib.cm_decode(model, payload, len(payload), out, start, end) != 0:
                raise FormatError(f"corrupt chunk {index} (its coded data ends before its bytes do)")
            if progress is not None:
                progress(end)
            yield ctypes.string_at(base + start, end - start)


class ByteModel(Protocol):
    """A next-byte model run beside the core (an experiment's extra mixer input)."""

    def weights(self) -> "np.ndarray":
        """Non-negative int32 weights of the 256 next bytes."""

    def update(self, byte: int) -> None:
        """Learn the byte that came."""


def encode_with(data: bytes, spec: CmSpec, extra: ByteModel) -> bytes:
    """``data`` coded with ``extra``'s next-byte distribution as one more mixer input: one call
    into C per byte (the extra model runs in Python), for measuring what a model adds."""
    lib = kernels.lib()
    cap = len(data) + _SLACK
    out = ctypes.create_string_buffer(cap)
    buffer = ctypes.create_string_buffer(data, len(data))
    with Model(spec, len(data), external=True) as model:
        lib.cm_set_output(model, out, cap)
        for i in range(len(data)):
            lib.cm_code_byte(model, buffer, i, kernels.ptr(extra.weights()))
            extra.update(data[i])
        total = lib.cm_finish(model)
    return out.raw[:total]


def decode_with(payload: bytes, length: int, spec: CmSpec, extra: ByteModel) -> bytes:
    """The inverse of :func:`encode_with`."""
    lib = kernels.lib()
    out = ctypes.create_string_buffer(max(1, length))
    with Model(spec, length, external=True) as model:
        lib.cm_set_input(model, payload, len(payload))
        for i in range(length):
            byte = lib.cm_code_byte(model, out, i, kernels.ptr(extra.weights()))
            if byte < 0:
                raise FormatError("corrupt chunk (its coded data ends before its bytes do)")
            extra.update(byte)
    return out.raw[:length]
