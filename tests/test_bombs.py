"""Decompression bombs (issue 22): a frame may use only a method its configuration writes, and may
claim only as many bytes as its method's bound allows (nczip/methods/); the encoder keeps to the
same bounds, and skips a model that cannot beat what zstd already has."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zlib

import pytest

import nczip
from nczip import Component, methods
from nczip.methods.records import METHOD_RECORDS
from nczip.methods.x86 import METHOD_X86
from nczip.methods import BY_ID, policy as chunks
from nczip.config import parse
from nczip.container import (MAX_CHUNK_SIZE, METHOD_CM, METHOD_LLM, METHOD_NEURAL, METHOD_STORED, METHOD_TOKENS,
                             METHOD_ZSTD, ChunkFrame, Trailer, read_frames, read_header)
from nczip.errors import FormatError
from nczip.levels import level_config


def bomb(base: bytes, method: int, claim: int, payload: bytes, edit=None) -> bytes:
    """``base``'s header (re-signed after ``edit`` of its configuration, chunk size at the
    container's limit) and one frame of ``method`` claiming ``claim`` bytes from ``payload``."""
    header = read_header(io.BytesIO(base))
    config = json.loads(json.dumps(header.config))
    if edit:
        edit(config)
    header.config = config
    header.chunk_size = MAX_CHUNK_SIZE
    return (header.to_bytes() + ChunkFrame(method, claim, 0, payload).to_bytes()
            + Trailer(claim, 1, bytes(32)).to_bytes())


def quantize3(config: dict) -> None:
    config["quantize"] = 3


def refused_quickly(blob: bytes, match: str, seconds: float = 1.0) -> None:
    started = time.monotonic()
    with pytest.raises(FormatError, match=match):
        nczip.decompress(blob)
    assert time.monotonic() - started < seconds


@pytest.fixture(scope="module")
def level1() -> bytes:
    return nczip.compress(b"hello\n", level=1)


def test_the_111_byte_bomb_is_refused_in_under_a_second(level1):
    # The file: a byte-model frame (which levels 1-3 never write) under quantizer 3, where a
    # zero byte costs ~1e-7 bit, so 8 zero payload bytes decoded 2^28 bytes in hours.
    blob = bomb(level1, METHOD_NEURAL, 1 << 28, bytes(8), quantize3)
    assert len(blob) < 160
    refused_quickly(blob, "never writes one")


@pytest.mark.parametrize("method", [METHOD_NEURAL, METHOD_LLM, METHOD_TOKENS])
def test_methods_a_core_level_never_writes_are_refused(level1, method):
    refused_quickly(bomb(level1, method, 100, bytes(8)), "never writes one")


def test_the_core_in_a_file_without_it_is_refused():
    base = nczip.compress(b"hello hello\n", level=1, components=[Component.NGRAM])  # the former token level
    assert "cm" not in read_header(io.BytesIO(base)).config
    refused_quickly(bomb(base, METHOD_CM, 100, bytes(8)), "never writes one")


def test_a_byte_model_config_still_cannot_claim_more_than_its_bound(level1):
    # Without the core the byte model's method is legal: then its bound refuses the claim.
    def no_core(config: dict) -> None:
        del config["cm"]
        config["quantize"] = 3

    refused_quickly(bomb(level1, METHOD_NEURAL, 1 << 28, bytes(8), no_core), "bytes claimed from 8")
    most = BY_ID[METHOD_NEURAL].bound.most(8)
    refused_quickly(bomb(level1, METHOD_NEURAL, most + 1, bytes(8), no_core), "bytes claimed")
    # at the bound it is decoded, in bounded time, and fails its checksum
    refused_quickly(bomb(level1, METHOD_NEURAL, most, bytes(8), no_core), "checksum", seconds=20)


def test_core_and_token_frames_are_bounded(level1):
    refused_quickly(bomb(level1, METHOD_CM, 1 << 28, bytes(8)), "bytes claimed from 8")
    tokens = nczip.compress(b"hello hello\n", level=1, components=[Component.NGRAM])
    refused_quickly(bomb(tokens, METHOD_TOKENS, 1 << 24, bytes(8)), "bytes claimed from 8")


def test_the_cli_refuses_a_bomb_in_one_line(tmp_path, level1):
    path = tmp_path / "bomb.ncz"
    path.write_bytes(bomb(level1, METHOD_NEURAL, 1 << 28, bytes(8), quantize3))
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "nczip", "-t", str(path)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "never writes one" in run.stderr
    assert time.monotonic() - started < 20  # interpreter start included


def test_the_methods_each_configuration_writes():
    core = parse(level_config(1)[0])
    assert methods.writable(core) == {METHOD_STORED, METHOD_ZSTD, METHOD_CM, METHOD_X86, METHOD_RECORDS}
    llm = parse(level_config(9)[0])
    assert methods.writable(llm) == {METHOD_STORED, METHOD_ZSTD, METHOD_CM, METHOD_X86, METHOD_RECORDS, METHOD_LLM}
    former = parse(level_config(1, components=["ngram"])[0])
    assert methods.writable(former) == {METHOD_STORED, METHOD_ZSTD, METHOD_NEURAL, METHOD_TOKENS}


def test_the_core_cannot_beat_its_bound_even_on_zeros():
    # The bound is a theorem of the core's coder (probabilities clamped to 1/4096): check it where
    # the core comes closest, on zeros, at the level with the fewest contexts.
    from nczip.predictors import cm

    data = bytes(1 << 20)
    payload = cm.encode(data, parse(level_config(1)[0]).cm)
    assert payload is not None
    assert BY_ID[METHOD_CM].within(len(data), len(payload))
    assert len(data) > 0.98 * BY_ID[METHOD_CM].bound.most(len(payload))  # and it is nearly tight


def test_the_encoder_keeps_to_the_bounds_it_enforces():
    # The byte model codes a long run of zeros far below its bound: the encoder then keeps zstd's
    # payload instead, so that what it writes decodes.
    data = bytes(200_000) + b"\x01\xff" * 50
    packed = nczip.compress(data, level=1, components=[Component.NGRAM])
    assert nczip.decompress(packed) == data
    src = io.BytesIO(packed)
    header = read_header(src)
    config = parse(header.config)
    for index, frame in enumerate(item for item in read_frames(src, header) if isinstance(item, ChunkFrame)):
        methods.check_frame(frame.method, frame.original_length, len(frame.payload), config, index)


def test_zeros_skip_the_core(monkeypatch):
    # zstd's payload for zeros is below the least the core could ever write: the core's full
    # per-byte work (and zstd -22's) would be spent for nothing (issue 22: 256 MiB took 396 s).
    from nczip.predictors import cm as cm_model

    def never(*args, **kwargs):
        raise AssertionError("the core ran on zeros")

    monkeypatch.setattr(cm_model, "encode", never)
    data = bytes(1 << 20)
    encoded = chunks.encode_chunk(data, parse(level_config(1)[0]))
    assert encoded.frame.method == METHOD_ZSTD
    assert chunks.decode_chunk(encoded.frame, parse(level_config(1)[0])) == data


def test_text_still_goes_to_the_core():
    data = b"".join(b"line %d of a log that repeats itself a little\n" % i for i in range(3000))
    encoded = chunks.encode_chunk(data, parse(level_config(1)[0]))
    assert encoded.frame.method in (METHOD_CM, METHOD_RECORDS)  # lines of similar length: records may win
    assert zlib.crc32(chunks.decode_chunk(encoded.frame, parse(level_config(1)[0]))) == zlib.crc32(data)


@pytest.mark.parametrize("field, value", [("max_contexts", 1 << 24), ("max_order", 7)])
def test_byte_model_tables_are_bounded_by_what_encoders_write(level1, field, value):
    def bigger(config: dict) -> None:
        config["predictor"][field] = value

    header = read_header(io.BytesIO(level1))
    header.config = json.loads(json.dumps(header.config))
    bigger(header.config)
    with pytest.raises(FormatError, match=field):
        nczip.decompress(header.to_bytes() + level1[len(read_header_bytes(level1)):])


def read_header_bytes(packed: bytes) -> bytes:
    src = io.BytesIO(packed)
    read_header(src)
    return packed[:src.tell()]
