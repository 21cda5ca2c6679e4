"""The bytes and incremental API (after CPython's tests of LZMACompressor/LZMADecompressor), its
options and constants, and its types as mypy sees them."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import sys
import textwrap

import pytest

import nczip
from nczip import Component, Compressor, Decompressor, FormatError, NczError, Tiling
from nczip.levels import ENSEMBLE_COMPONENTS

from conftest import ROOT

TEXT = b"".join(b"Entry %d: it was the best of times, it was the worst of times.\n" % i for i in range(80))
CHUNK = 1200


@pytest.fixture(scope="module")
def packed() -> bytes:
    return nczip.compress(TEXT, level=1, chunk_size=CHUNK)


# -- module surface ----------------------------------------------------------------------------

def test_all_names_exist_and_levels_are_ordered():
    for name in nczip.__all__:
        assert hasattr(nczip, name), name
    assert nczip.LEVEL_FASTEST == nczip.MIN_LEVEL == 1
    assert nczip.LEVEL_DEFAULT == nczip.DEFAULT_LEVEL == 3
    assert nczip.LEVEL_BEST == nczip.MAX_LEVEL == 9
    assert nczip.FAST_LEVELS == (1, 2, 3) and nczip.LLM_LEVELS == (4, 5, 6, 7, 8, 9)


def test_format_error_is_an_oserror_and_an_nczerror():
    assert issubclass(FormatError, OSError) and issubclass(FormatError, NczError)
    exc = FormatError("corrupt data")
    assert str(exc) == "corrupt data" and exc.errno is None


def test_components_are_the_levels_components():
    assert {c.value for c in Component} == set(ENSEMBLE_COMPONENTS)
    assert {t.value for t in Tiling} == {"fibonacci", "period5", "none"}


# -- one-shot ----------------------------------------------------------------------------------

@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("data", [b"", b"a", b"\x00\xff" * 300, TEXT[:1500]], ids=["empty", "one", "binary", "text"])
def test_round_trip_at_the_fast_levels(level, data):
    assert nczip.decompress(nczip.compress(data, level=level)) == data


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        nczip.compress(b"x", 1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        nczip.decompress(b"x", 1)  # type: ignore[misc]


@pytest.mark.parametrize("kwargs,error", [
    ({"level": 0}, ValueError), ({"level": 10}, ValueError), ({"level": True}, TypeError),
    ({"level": "1"}, TypeError), ({"threads": -1}, ValueError), ({"chunk_size": 0}, ValueError),
    ({"chunk_size": 1 << 29}, ValueError), ({"lanes": 0}, ValueError), ({"components": "ngram"}, TypeError),
    ({"components": ["ngram"]}, TypeError), ({"tiling": "fibonacci"}, TypeError), ({"model": 3}, TypeError),
    ({"level": 9, "lanes": 200}, ValueError),  # more lanes than level 9's window allows
], ids=lambda v: repr(v))
def test_bad_options_fail_where_they_are_written(kwargs, error):
    with pytest.raises(error):
        nczip.compress(b"data", **kwargs)
    with pytest.raises(error):
        Compressor(**kwargs)


def test_options_resolved_once_give_the_same_bytes_as_keywords():
    from nczip.api import encode_options

    options = encode_options(level=1, components=[Component.NGRAM, Component.BIAS, Component.MIXER],
                             tiling=Tiling.PERIOD5)
    assert options.chunk_size == 1 << 20 and options.raw_config["tokens"]["ensemble"]["phrase"]["tiling"] == "period5"
    out = io.BytesIO()
    nczip.compress_stream(io.BytesIO(TEXT[:2000]), out, options=options)
    typed = nczip.compress(TEXT[:2000], level=1, components=[Component.NGRAM, Component.BIAS, Component.MIXER],
                           tiling=Tiling.PERIOD5)
    assert typed == out.getvalue()
    assert nczip.decompress(typed) == TEXT[:2000]


def test_decompress_errors(packed):
    assert nczip.decompress(b"") == b""
    for bad in (b"hello", packed[:-1], packed + b"x"):
        with pytest.raises(FormatError):
            nczip.decompress(bad)


# -- Compressor --------------------------------------------------------------------------------

@pytest.mark.parametrize("step", [1, 500, CHUNK, 5000])
def test_incremental_compression_equals_one_shot(packed, step):
    c = Compressor(level=1, chunk_size=CHUNK)
    assert c.chunk_size == CHUNK
    out = b"".join(c.compress(TEXT[i:i + step]) for i in range(0, len(TEXT), step)) + c.flush()
    assert out == packed


def test_compressor_returns_frames_as_chunks_complete():
    c = Compressor(level=1, chunk_size=CHUNK)
    head = c.compress(b"")
    assert head.startswith(b"\x89NCZ")
    assert c.compress(TEXT[:CHUNK - 1]) == b""
    assert c.compress(TEXT[CHUNK - 1:CHUNK]) != b""  # the first chunk is complete


def test_compressor_cannot_be_used_after_flush():
    c = Compressor(level=1)
    c.compress(b"abc")
    c.flush()
    with pytest.raises(ValueError):
        c.compress(b"more")
    with pytest.raises(ValueError):
        c.flush()


def test_compressor_of_nothing_is_a_valid_empty_container():
    assert nczip.decompress(Compressor(level=1).flush()) == b""


# -- Decompressor ------------------------------------------------------------------------------

def test_decompressor_fed_one_byte_at_a_time(packed):
    d = Decompressor()
    out = bytearray()
    for i in range(len(packed)):
        assert not d.eof
        out += d.decompress(packed[i:i + 1])
    assert d.eof and bytes(out) == TEXT and d.unused_data == b""
    assert d.header is not None and d.header.level == 1 and d.header.chunk_size == CHUNK


def test_decompressor_max_length_and_needs_input(packed):
    d = Decompressor()
    out = d.decompress(packed, max_length=10)
    assert out == TEXT[:10] and not d.needs_input
    while not d.eof:
        piece = d.decompress(b"", max_length=333)
        assert len(piece) <= 333
        out += piece
    assert out == TEXT


def test_decompressor_needs_input_on_a_partial_container(packed):
    d = Decompressor()
    d.decompress(packed[:len(packed) // 2])
    assert d.needs_input and not d.eof
    d.decompress(packed[len(packed) // 2:])
    assert d.eof and not d.needs_input


def test_unused_data_after_the_container(packed):
    d = Decompressor()
    assert d.decompress(packed + b"next member or garbage") == TEXT
    assert d.eof and d.unused_data == b"next member or garbage"
    with pytest.raises(EOFError):
        d.decompress(b"more")


def test_foreign_data_fails_at_once():
    with pytest.raises(FormatError, match="not in nczip format"):
        Decompressor().decompress(b"PK\x03")  # shorter than a header, but not nczip


def test_future_version_fails_before_the_rest_of_the_header(packed):
    with pytest.raises(FormatError, match="unsupported format version 9"):
        Decompressor().decompress(packed[:4] + b"\x09" + packed[5:11])


def test_truncation_errors_match_decompress(packed):
    # Every cut inside the header and the first frame head, then every 7th byte.
    for cut in sorted(set(range(1, 64)) | set(range(64, len(packed), 7))):
        d = Decompressor()
        d.decompress(packed[:cut])
        assert d.needs_input
        with pytest.raises(FormatError) as expected:
            nczip.decompress(packed[:cut])
        assert str(d.truncation_error()) == str(expected.value), cut


def test_corruption_is_detected(packed):
    rng = random.Random(7)
    for _ in range(60):
        broken = bytearray(packed)
        broken[rng.randrange(len(broken))] ^= 1 << rng.randrange(8)
        d = Decompressor()
        try:
            out = d.decompress(bytes(broken))
        except FormatError:
            continue
        assert not d.eof or out == TEXT  # a harmless flip in a coder's last bits decodes exactly


def test_decompressor_with_workers(packed):
    d = Decompressor(threads=2)
    assert d.decompress(packed) == TEXT and d.eof


# -- types -------------------------------------------------------------------------------------

USAGE = textwrap.dedent('''
    import io
    import nczip

    packed: bytes = nczip.compress(b"x", level=nczip.LEVEL_FASTEST, components=[nczip.Component.NGRAM])
    data: bytes = nczip.decompress(packed, threads=2)
    with nczip.open("a.ncz", "rt", encoding="utf-8") as text:
        line: str = text.readline()
    with nczip.open("a.ncz", "wb", level=2) as binary:
        written: int = binary.write(b"abc")
    c = nczip.Compressor(level=1)
    chunks: bytes = c.compress(b"x") + c.flush()
    d = nczip.Decompressor()
    out: bytes = d.decompress(chunks, max_length=10)
    done: bool = d.eof
    wrong: str = nczip.open("a.ncz").read()  # E: bytes, not str
''')


@pytest.mark.skipif(shutil.which("mypy") is None and sys.modules.get("mypy") is None
                    and subprocess.run([sys.executable, "-c", "import mypy"], capture_output=True).returncode,
                    reason="mypy is not installed (pip install .[test])")
def test_mypy_is_clean_on_the_package_and_types_the_api(tmp_path):
    usage = tmp_path / "usage.py"
    usage.write_text(USAGE)
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
                           "nczip", str(usage)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert [e for e in errors if "usage.py" not in e] == []
    assert len(errors) == 1 and "usage.py:16" in errors[0] and 'has type "bytes"' in errors[0], errors
