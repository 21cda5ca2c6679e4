"""A 64-bit range coder over integer frequency tables with total 2**precision (24 or 32 bits).

Why our own and not constriction's: constriction's Python API takes float probabilities and
re-quantises them itself, so the integer table the decoder must reproduce would not be the one we
computed. Here the coder consumes exactly the integers from :func:`nczip.coding.quantize`; with a
64-bit range (at least 2**56 before each symbol) the truncation ``range >> 24`` costs less than
2**-32 of a bit per symbol, ``range >> 32`` less than 2**-24, so the
coded size is the ideal code length of the integer table plus a few bytes of flush. The carry
handling is LZMA's (a cached byte plus a run of pending 0xFF bytes), widened to 64 bits.
Python integers make the arithmetic exact; a step costs about a microsecond, far below the cost
of producing the probabilities.
"""

from __future__ import annotations

from ..errors import FormatError
from .quantize import PRECISION

_TOP = 1 << 56  # renormalise when range drops below this
_MASK64 = (1 << 64) - 1
_LOW_KEEP = (1 << 56) - 1
_CARRY_THRESHOLD = 0xFF << 56
_FLUSH_BYTES = 9  # 8 bytes of low plus the cached byte
# The encoder drops at most this many trailing zero bytes, so a decoder that reads more than this
# past its payload's end has been given a corrupt or truncated payload (see RangeDecoder).
MAX_OVERRUN = 8


class RangeEncoder:
    """Encodes (start, freq) intervals of a table whose total is 2**PRECISION."""

    __slots__ = ("_low", "_range", "_cache", "_pending", "_out", "_first", "_precision")

    def __init__(self, precision: int = PRECISION) -> None:
        self._precision = precision
        self._low = 0
        self._range = _MASK64
        self._cache = 0
        self._pending = 1
        self._out = bytearray()
        self._first = True  # LZMA's leading byte is always 0; we do not emit it

    def encode(self, start: int, freq: int) -> None:
        r = self._range >> self._precision
        self._low += r * start
        self._range = r * freq
        while self._range < _TOP:
            self._range <<= 8
            self._shift_low()

    def _shift_low(self) -> None:
        low = self._low
        if low < _CARRY_THRESHOLD or low > _MASK64:
            carry = low >> 64
            byte = self._cache
            out = self._out
            while True:
                if self._first:
                    self._first = False
                else:
                    out.append((byte + carry) & 0xFF)
                byte = 0xFF
                self._pending -= 1
                if self._pending == 0:
                    break
            self._cache = (low >> 56) & 0xFF
        self._pending += 1
        self._low = (low & _LOW_KEEP) << 8

    def finish(self) -> bytes:
        """Flush and return the coded bytes; the encoder must not be used afterwards.

        Any value in [low, low + range) decodes correctly; we emit the one with the most trailing
        zero bits and drop those zeros (the decoder reads zeros past the end). That saves several
        bytes per chunk and leaves no slack bits whose corruption would go unnoticed. At most
        :data:`MAX_OVERRUN` zero bytes are dropped: zeros before them may be data (a run of NUL
        bytes codes as zeros), and the decoder's end check relies on the bound.
        """
        low, high = self._low, self._low + self._range - 1
        for shift in range(64, -1, -1):
            value = ((low + (1 << shift) - 1) >> shift) << shift
            if value <= high:
                self._low = value
                break
        for _ in range(_FLUSH_BYTES):
            self._shift_low()
        # Trailing zero bytes carry no information: the decoder reads zeros past the end.
        out = bytes(self._out)
        keep = max(len(out.rstrip(b"\x00")), len(out) - MAX_OVERRUN)
        return out[:keep]


class RangeDecoder:
    """Decodes symbols from bytes produced by :class:`RangeEncoder`.

    Reading past the end yields zero bytes (the encoder drops trailing zeros), but never more
    than :data:`MAX_OVERRUN` of them: a decoder that needs more was given a payload too short for
    the symbols it claims (corrupt, truncated or forged), and raises
    :class:`~nczip.errors.FormatError` there, so the work a frame can cause is bounded by its
    payload, not by the length it claims. (Development files whose range code ended in more than
    eight zero bytes, possible only after a run of NUL bytes at the byte model, are refused.)
    """

    __slots__ = ("_data", "_pos", "_range", "_code", "_r", "_precision")

    def __init__(self, data: bytes, precision: int = PRECISION) -> None:
        self._precision = precision
        self._data = data
        self._range = _MASK64
        self._code = int.from_bytes(data[:8].ljust(8, b"\x00"), "big")
        self._pos = 8
        self._r = 1

    def target(self) -> int:
        """The value in [0, 2**precision) whose interval holds the next symbol."""
        self._r = self._range >> self._precision
        value = self._code // self._r
        limit = (1 << self._precision) - 1
        return value if value < limit else limit

    def consume(self, start: int, freq: int) -> None:
        """Remove the interval of the symbol just found via :meth:`target`."""
        r = self._r
        self._code -= r * start
        self._range = r * freq
        while self._range < _TOP:
            self._range <<= 8
            pos = self._pos
            if pos < len(self._data):
                byte = self._data[pos]
            elif pos < len(self._data) + MAX_OVERRUN:
                byte = 0
            else:
                raise FormatError("corrupt chunk (its coded data ends before its symbols do)")
            self._pos = pos + 1
            self._code = ((self._code << 8) | byte) & _MASK64
