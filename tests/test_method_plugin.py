"""A new chunk method is one module and one registry line (issue 23): a toy run-length method,
registered the way a real one would be, is scheduled by the policy, written, listed by name,
decoded, bounded, and refused by a decoder that does not know it."""

from __future__ import annotations

import io
import struct

import pytest

import nczip
from nczip import methods
from nczip.config import CodecConfig
from nczip.errors import FormatError
from nczip.methods.base import Bound, ChunkJob, Method

_RUN = struct.Struct("<BI")


class RunLength(Method):
    """Byte, run length: what a method module holds (id, name, bound, writes, encode, decode)."""

    id = 100
    name = "rle"
    bound = Bound(1 << 20, 0)

    def writes(self, config: CodecConfig) -> bool:
        return config.cm is not None

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        out, i = bytearray(), 0
        while i < len(data):
            j = i
            while j < len(data) and data[j] == data[i] and j - i < 0xFFFFFFFF:
                j += 1
            out += _RUN.pack(data[i], j - i)
            i = j
        return bytes(out)

    def decode(self, payload: bytes, length: int, job: ChunkJob) -> bytes:
        if len(payload) % _RUN.size:
            raise FormatError("corrupt rle chunk")
        out = bytearray()
        for byte, count in _RUN.iter_unpack(payload):
            if len(out) + count > length:
                raise FormatError("corrupt rle chunk")
            out += bytes([byte]) * count
        return bytes(out)


@pytest.fixture
def registered(monkeypatch):
    """The registry line ``REGISTRY = (..., RunLength())`` (and what nczip.methods derives from it)."""
    toy = RunLength()
    monkeypatch.setattr(methods, "REGISTRY", (*methods.REGISTRY, toy))
    monkeypatch.setattr(methods, "BY_ID", {**methods.BY_ID, toy.id: toy})
    monkeypatch.setattr(methods, "NAMES", {**methods.NAMES, toy.id: toy.name})
    return toy


DATA = b"a" * 32768 + b"b" * 32768


def test_a_registered_method_is_scheduled_written_listed_and_decoded(registered):
    packed = nczip.compress(DATA, level=1)
    summary = nczip.scan_container(io.BytesIO(packed))
    assert dict(summary.methods) == {"rle": 1}
    assert nczip.decompress(packed) == DATA


def test_a_decoder_without_it_refuses_it_by_number(registered, monkeypatch):
    packed = nczip.compress(DATA, level=1)
    monkeypatch.undo()
    with pytest.raises(FormatError, match="unsupported chunk method 100"):
        nczip.decompress(packed)
