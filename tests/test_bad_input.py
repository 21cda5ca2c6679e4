"""Corrupt, truncated, foreign and future containers fail with a FormatError, never a hang."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest

import nczip
from nczip.container import FORMAT_VERSION, MAGIC, Header
from nczip.errors import FormatError


@pytest.fixture(scope="module")
def packed() -> bytes:
    data = b"The quick brown fox jumps over the lazy dog. " * 6 + bytes(range(40))
    return nczip.compress(data, level=1, chunk_size=150)


def test_every_truncation_is_detected(packed):
    assert nczip.decompress(b"") == b""  # nothing is not a cut container (gzip and bz2 agree)
    for cut in range(1, len(packed)):
        with pytest.raises(FormatError):
            nczip.decompress(packed[:cut])


def test_no_single_bit_flip_yields_wrong_output(packed):
    # A flip either raises or, in the last bits of a range-coded payload where any value inside
    # the final interval decodes the same, still gives the exact original: never silent garbage.
    original = nczip.decompress(packed)
    harmless = 0
    for pos in range(len(packed)):
        for bit in range(8):
            broken = bytearray(packed)
            broken[pos] ^= 1 << bit
            try:
                out = nczip.decompress(bytes(broken))
            except FormatError:
                continue
            assert out == original, f"byte {pos} bit {bit} decoded to wrong data"
            harmless += 1
    assert harmless <= 0.01 * 8 * len(packed)


@pytest.mark.parametrize("data", [b"hello, world\n", random.Random(1).randbytes(4096),
                                  b"\x1f\x8b\x08\x00" + bytes(40)], ids=["text", "random", "gzip"])
def test_foreign_input_is_rejected(data):
    with pytest.raises(FormatError):
        nczip.decompress(data)


def _with_version(packed: bytes, version: int) -> bytes:
    # Re-sign the header so only the version is wrong.
    header = Header.__new__(Header)
    src = io.BytesIO(packed)
    from nczip.container import read_header
    header = read_header(src)
    header.version = version
    return header.to_bytes() + packed[src.tell():]


def test_future_version_is_refused_by_name(packed):
    with pytest.raises(FormatError, match=f"unsupported format version {FORMAT_VERSION + 1}"):
        nczip.decompress(_with_version(packed, FORMAT_VERSION + 1))


def test_huge_lengths_in_a_frame_are_refused_before_allocating():
    from nczip.levels import level_config

    header = Header(level=1, chunk_size=1 << 16, config=level_config(1)[0]).to_bytes()
    head = struct.pack("<BBIII", 0x43, 2, 0xFFFFFFFF, 0xFFFFFFF0, 0)
    frame = head + struct.pack("<I", zlib.crc32(head))
    with pytest.raises(FormatError, match="corrupt frame 0"):
        nczip.decompress(header + frame)


@pytest.mark.parametrize("level,payload", [(1, b""), (1, b"\x01"), (3, b"\x00\x80\x80\x80\x80\x01")],
                         ids=["byte-model-empty", "byte-model-one-byte", "tokens-claiming-2^28"])
def test_a_frame_claiming_more_than_its_payload_holds_fails_at_once(level, payload):
    # Was a hang: 2^28 bytes claimed over an empty payload decoded every symbol (~4.6 hours)
    # before the checksum could fail. The range decoder now fails once it reads past the end.
    import time

    from nczip.container import METHOD_NEURAL, METHOD_TOKENS, ChunkFrame, read_header

    header = read_header(io.BytesIO(nczip.compress(b"Some text to name the models.", level=level)))
    header.chunk_size = 1 << 28
    header = header.to_bytes()
    method = METHOD_NEURAL if level == 1 else METHOD_TOKENS
    frame = ChunkFrame(method, 1 << 28, 0, payload).to_bytes()
    started = time.monotonic()
    with pytest.raises(FormatError, match="corrupt"):
        nczip.decompress(header + frame)
    assert time.monotonic() - started < 30


def test_trailing_garbage_is_an_error(packed):
    with pytest.raises(FormatError):
        nczip.decompress(packed + b"garbage")


def test_concatenated_containers_decode_to_the_concatenation():
    a, b = b"first part\n" * 20, b"second part\n" * 30
    assert nczip.decompress(nczip.compress(a, level=1) + nczip.compress(b, level=2)) == a + b


def test_magic_is_the_specified_one():
    assert MAGIC == b"\x89NCZ"


def _with_flags(packed: bytes, flags: int) -> bytes:
    """``packed`` with the header's flags byte replaced and its CRC recomputed."""
    from nczip.container import read_header

    src = io.BytesIO(packed)
    read_header(src)
    body = bytearray(packed[:src.tell() - 4])
    body[5] = flags
    return bytes(body) + struct.pack("<I", zlib.crc32(bytes(body))) + packed[src.tell():]


def test_headers_use_the_preset_dictionary_and_stay_small():
    from nczip.container import (FLAG_DEFLATED_METADATA, FLAG_PRESET_DICTIONARY, FLAG_PRESET_DICTIONARY_2,
                                 FLAG_PRESET_DICTIONARY_3)

    for level in (1, 3):
        packed = nczip.compress(b"hello world", level=level)
        assert packed[5] == FLAG_DEFLATED_METADATA | FLAG_PRESET_DICTIONARY_3
        assert len(packed) < 120  # was 518 bytes before the dictionary (gzip -9: 32)
    # The metadata only decodes against its dictionary: without it, or with another, inflating fails.
    for flags in (FLAG_DEFLATED_METADATA, FLAG_DEFLATED_METADATA | FLAG_PRESET_DICTIONARY,
                  FLAG_DEFLATED_METADATA | FLAG_PRESET_DICTIONARY_2):
        with pytest.raises(FormatError, match="corrupt header"):
            nczip.decompress(_with_flags(packed, flags))
    with pytest.raises(FormatError, match="unsupported header flags 0x8"):
        nczip.decompress(_with_flags(packed, FLAG_PRESET_DICTIONARY_3))
    with pytest.raises(FormatError, match="unsupported header flags 0xd"):
        nczip.decompress(_with_flags(packed, FLAG_DEFLATED_METADATA | FLAG_PRESET_DICTIONARY_2 | FLAG_PRESET_DICTIONARY_3))
    with pytest.raises(FormatError, match="unsupported header flags 0x11"):
        nczip.decompress(_with_flags(packed, 0x11))
