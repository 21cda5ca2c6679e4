"""Byte-identical round trips through the Python API, whatever the data and the worker count."""

from __future__ import annotations

import gzip
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nczip
from conftest import token_models
from nczip.container import METHOD_LLM, METHOD_NEURAL, METHOD_STORED, METHOD_TOKENS, METHOD_ZSTD
from nczip.stream import scan_container

import io

CASES = {
    "empty": b"",
    "one byte": b"x",
    "invalid utf-8": b"caf\xe9 \xff\xfe\xc3\x28 \xed\xa0\x80 text",
    "random binary": random.Random(7).randbytes(3000),
    "crlf and tabs": b"line one\r\n\tindented\r\n" * 40 + b"   \t  \r\n" * 10,
}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_is_byte_identical(name):
    data = CASES[name]
    assert nczip.decompress(nczip.compress(data, level=1)) == data


def test_round_trip_across_several_chunks(alice):
    data = alice[:9000] + random.Random(8).randbytes(2500) + alice[9000:12000]
    packed = nczip.compress(data, level=1, chunk_size=4096)
    assert nczip.decompress(packed) == data
    summary = scan_container(io.BytesIO(packed))
    assert summary.chunks == 4 and summary.original_bytes == len(data)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=1500), st.integers(min_value=200, max_value=2000))
def test_any_bytes_round_trip(data, chunk_size):
    assert nczip.decompress(nczip.compress(data, level=1, chunk_size=chunk_size)) == data


def test_output_does_not_depend_on_worker_count(alice):
    data = alice[:6000] + os.urandom(1000) + alice[6000:9000]
    one = nczip.compress(data, level=1, threads=1, chunk_size=2500)
    two = nczip.compress(data, level=1, threads=2, chunk_size=2500)
    assert one == two
    assert nczip.decompress(one, threads=3) == data


def test_text_is_coded_as_tokens_and_beats_gzip(alice):
    data = alice[:30000]
    packed = nczip.compress(data, level=2, components=token_models(2))
    assert scan_container(io.BytesIO(packed)).methods == {"tokens": 1}
    assert len(packed) < len(gzip.compress(data, 9))


def test_bytes_that_do_not_tokenise_go_to_the_byte_model():
    # Random "words" of bytes >= 0x80: not UTF-8 (and they made llama.cpp's tokenizer abort the
    # process before segment() kept invalid UTF-8 away from it).
    rng = random.Random(5)
    words = [bytes(rng.randrange(128, 256) for _ in range(rng.randrange(2, 6))) for _ in range(50)]
    data = b"".join(rng.choice(words) for _ in range(6000))
    packed = nczip.compress(data, level=1, components=token_models(1))
    assert scan_container(io.BytesIO(packed)).methods == {"neural": 1}
    assert scan_container(io.BytesIO(nczip.compress(data, level=1))).methods == {"cm": 1}  # bytes are its alphabet
    assert nczip.decompress(packed) == data


def test_incompressible_chunk_is_stored_with_only_frame_overhead():
    data = random.Random(9).randbytes(5000)
    packed = nczip.compress(data, level=1)
    assert scan_container(io.BytesIO(packed)).methods == {"stored": 1}
    empty = len(nczip.compress(b"", level=1))
    assert len(packed) - empty - len(data) <= 18  # one frame header


def test_repetitive_binary_falls_back_to_zstd_when_smaller():
    data = bytes(range(256)) * 200
    packed = nczip.compress(data, level=1)
    methods = scan_container(io.BytesIO(packed)).methods
    assert set(methods) <= {"zstd", "neural"}
    assert len(packed) - len(nczip.compress(b"", level=1)) < 350  # payload, frame and trailer


def test_method_constants_are_the_specified_ones():
    # formats/SPEC.md fixes these numbers; changing them would break old files.
    assert (METHOD_STORED, METHOD_ZSTD, METHOD_NEURAL, METHOD_LLM, METHOD_TOKENS) == (0, 1, 2, 3, 4)
