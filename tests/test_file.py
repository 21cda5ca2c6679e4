"""The file object, after CPython's tests of ``lzma.LZMAFile`` and ``gzip.GzipFile`` (Lib/test/test_lzma.py,
test_gzip.py): modes, text, concatenated members, partial reads, seeking, errors.

Level 1 and a small chunk size throughout, so containers have several chunks and tests take seconds.
"""

from __future__ import annotations

import array
import io
import os
import pathlib
import random

import pytest

import nczip
from nczip import FormatError, NczFile, TrailingDataError

TEXT = b"".join(b"Line %d: the quick brown fox jumps over the lazy dog.\n" % i for i in range(120))
CHUNK = 1500  # TEXT is ~6.5 KB: five chunks
OPTS = {"level": 1, "chunk_size": CHUNK}


@pytest.fixture(scope="module")
def packed() -> bytes:
    return nczip.compress(TEXT, **OPTS)


@pytest.fixture(scope="module")
def packed_other() -> bytes:
    return nczip.compress(b"second member\n" * 10, level=1)


# -- construction and modes --------------------------------------------------------------------

def test_is_a_standard_buffered_stream(packed):
    with NczFile(io.BytesIO(packed)) as f:
        assert isinstance(f, io.BufferedIOBase)
        assert f.readable() and not f.writable() and f.seekable()


@pytest.mark.parametrize("mode", ["r", "rb"])
def test_read_modes(packed, mode):
    with NczFile(io.BytesIO(packed), mode) as f:
        assert f.read() == TEXT


@pytest.mark.parametrize("mode", ["w", "wb", "x", "xb", "a", "ab"])
def test_write_modes_on_a_file_object(mode):
    dst = io.BytesIO()
    with NczFile(dst, mode, **OPTS) as f:
        assert f.writable() and not f.readable() and not f.seekable()
        f.write(TEXT)
    assert nczip.decompress(dst.getvalue()) == TEXT


@pytest.mark.parametrize("mode", ["", "z", "rw", "rt", "wt", "r+", "w+", "rbb"])
def test_bad_mode(mode):
    with pytest.raises(ValueError):
        NczFile(io.BytesIO(), mode)


def test_bad_filename_type():
    with pytest.raises(TypeError):
        NczFile(42)  # type: ignore[arg-type]


def test_compression_options_are_refused_when_reading(packed):
    for option in ({"level": 1}, {"chunk_size": 100}, {"lanes": 2}, {"components": []},
                   {"tiling": nczip.Tiling.FIBONACCI}):
        with pytest.raises(ValueError, match="not allowed when reading"):
            NczFile(io.BytesIO(packed), "r", **option)


def test_bad_options_are_refused_before_the_file_is_created(tmp_path):
    target = tmp_path / "out.ncz"
    with pytest.raises(ValueError):
        NczFile(target, "w", level=0)
    with pytest.raises(TypeError):
        NczFile(target, "w", components=["ngram"])  # type: ignore[list-item]
    assert not target.exists()


@pytest.mark.parametrize("kind", [str, bytes, pathlib.Path])
def test_paths_are_opened_and_closed_here(tmp_path, kind):
    path = tmp_path / "a.ncz"
    name = os.fsencode(path) if kind is bytes else kind(path)
    with NczFile(name, "w", **OPTS) as f:
        f.write(TEXT)
        underlying = f._fp
    assert underlying is not None and underlying.closed
    with NczFile(name) as f:
        assert f.read() == TEXT


def test_exclusive_mode_refuses_an_existing_file(tmp_path):
    path = tmp_path / "a.ncz"
    with NczFile(path, "x", **OPTS) as f:
        f.write(b"first")
    with pytest.raises(FileExistsError):
        NczFile(path, "x", **OPTS)
    assert nczip.decompress(path.read_bytes()) == b"first"


def test_append_mode_adds_a_member(tmp_path):
    path = tmp_path / "a.ncz"
    with NczFile(path, "w", **OPTS) as f:
        f.write(b"one\n")
    with NczFile(path, "a", level=2) as f:
        f.write(b"two\n")
    with NczFile(path) as f:
        assert f.read() == b"one\ntwo\n"
    assert nczip.decompress(path.read_bytes()) == b"one\ntwo\n"


def test_a_given_file_object_is_left_open(packed):
    src = io.BytesIO(packed)
    with NczFile(src) as f:
        f.read()
    assert not src.closed


# -- closing -----------------------------------------------------------------------------------

def test_close_is_idempotent_and_later_operations_fail(packed):
    f = NczFile(io.BytesIO(packed))
    f.close()
    f.close()
    assert f.closed
    for operation in (f.read, f.readline, f.peek, f.tell, f.readable, f.writable, f.seekable, f.fileno):
        with pytest.raises(ValueError):
            operation()
    with pytest.raises(ValueError):
        f.seek(0)


def test_fileno(tmp_path, packed):
    path = tmp_path / "a.ncz"
    path.write_bytes(packed)
    with NczFile(path) as f:
        assert f.fileno() == f._fp.fileno()  # type: ignore[union-attr]
    with pytest.raises(io.UnsupportedOperation):
        NczFile(io.BytesIO(packed)).fileno()


def test_writing_nothing_writes_an_empty_container():
    dst = io.BytesIO()
    NczFile(dst, "w", level=1).close()
    assert nczip.decompress(dst.getvalue()) == b""
    assert NczFile(io.BytesIO(dst.getvalue())).read() == b""


# -- reading -----------------------------------------------------------------------------------

def test_read_in_pieces(packed):
    with NczFile(io.BytesIO(packed)) as f:
        pieces = []
        while piece := f.read(97):
            assert len(piece) <= 97
            pieces.append(piece)
        assert b"".join(pieces) == TEXT
        assert f.read() == b"" and f.read(10) == b""


def test_read_zero_and_none(packed):
    with NczFile(io.BytesIO(packed)) as f:
        assert f.read(0) == b""
        assert f.read(None) == TEXT


def test_read_multistream(packed, packed_other):
    with NczFile(io.BytesIO(packed + packed_other + packed)) as f:
        assert f.read() == TEXT + b"second member\n" * 10 + TEXT


def test_read_multistream_in_small_pieces(packed, packed_other):
    with NczFile(io.BytesIO(packed_other * 3)) as f:
        assert b"".join(iter(lambda: f.read(7), b"")) == b"second member\n" * 30


def test_read1_and_readinto(packed):
    with NczFile(io.BytesIO(packed)) as f:
        first = f.read1()
        assert first and TEXT.startswith(first)
        buffer = bytearray(100)
        n = f.readinto(buffer)
        assert buffer[:n] == TEXT[len(first):len(first) + n]
        assert f.read1(-1) != b"" or f.read() == b""


def test_peek_does_not_advance(packed):
    with NczFile(io.BytesIO(packed)) as f:
        head = f.peek()
        assert head and TEXT.startswith(head)
        assert f.read(5) == TEXT[:5]
        f.read()
        assert f.peek() == b""


def test_readline_readlines_and_iteration(packed):
    lines = TEXT.splitlines(keepends=True)
    with NczFile(io.BytesIO(packed)) as f:
        assert f.readline() == lines[0]
        assert f.readline(4) == lines[1][:4]
        assert f.readline() == lines[1][4:]
        assert f.readlines() == lines[2:]
    with NczFile(io.BytesIO(packed)) as f:
        assert list(f) == lines


def test_line_longer_than_a_chunk():
    data = b"x" * 5000 + b"\n" + b"tail"
    with NczFile(io.BytesIO(nczip.compress(data, **OPTS))) as f:
        assert list(f) == [b"x" * 5000 + b"\n", b"tail"]


def test_reading_is_incremental():
    # Only what is needed is read from the compressed file: the first line needs the first chunk.
    data = b"first line\n" + random.Random(2).randbytes(60000)  # stored chunks: the container is as large
    packed = nczip.compress(data, level=1, chunk_size=4000)
    src = io.BytesIO(packed)
    with NczFile(src) as f:
        assert f.readline() == b"first line\n"
        assert src.tell() <= 2 * 8192


# -- invalid input -----------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"not nczip at all", b"\x89NC", b"\x1f\x8b\x08\x00" + bytes(40)],
                         ids=["foreign", "magic prefix", "gzip"])
def test_invalid_input_is_a_format_error_and_an_oserror(data):
    with pytest.raises(FormatError), NczFile(io.BytesIO(data)) as f:
        f.read()
    with pytest.raises(OSError), NczFile(io.BytesIO(data)) as f:
        f.read()


def test_an_empty_file_reads_as_nothing_as_gzip_and_decompress_have_it():
    with NczFile(io.BytesIO(b"")) as f:
        assert f.read() == b""
    assert nczip.decompress(b"") == b""


def test_every_truncation_fails_as_decompress_does(packed):
    for cut in range(1, len(packed), 7):
        with pytest.raises(FormatError) as via_file, NczFile(io.BytesIO(packed[:cut])) as f:
            f.read()
        with pytest.raises(FormatError) as via_bytes:
            nczip.decompress(packed[:cut])
        assert str(via_file.value) == str(via_bytes.value), cut


def test_trailing_garbage_is_refused_unlike_lzma(packed):
    # lzma.LZMAFile ignores trailing data that is not a stream; nczip refuses it everywhere, as
    # gzip does, naming where it starts (after any zero padding).
    for tail in (b"garbage", bytes(3) + b"garbage"):
        offset = len(packed) + len(tail) - len(b"garbage")
        with pytest.raises(TrailingDataError, match=f"at byte {offset} ") as raised, \
                NczFile(io.BytesIO(packed + tail)) as f:
            f.read()
        assert raised.value.offset == offset
        with pytest.raises(TrailingDataError, match=f"at byte {offset} "):
            nczip.decompress(packed + tail)


@pytest.mark.parametrize("zeros", [1, 512, 70000])
def test_zero_padding_is_skipped_as_gzip_does(packed, zeros):
    data = nczip.decompress(packed)
    assert nczip.decompress(packed + bytes(zeros)) == data
    assert nczip.decompress(packed + bytes(zeros) + packed + bytes(zeros)) == data * 2
    with NczFile(io.BytesIO(packed + bytes(zeros) + packed)) as f:
        assert f.read() == data * 2


def test_data_before_an_error_is_delivered():
    data = TEXT * 5  # more than the reader's 8 KiB buffer: decoding stops long before the end
    broken = bytearray(nczip.compress(data, **OPTS))
    broken[-40] ^= 0xFF  # inside the trailer's checksum: every chunk decodes, the end fails
    with NczFile(io.BytesIO(bytes(broken))) as f:
        assert f.read(100) == data[:100]
        with pytest.raises(FormatError, match="corrupt trailer"):
            f.read()


# -- writing -----------------------------------------------------------------------------------

def test_write_equals_compress(packed):
    dst = io.BytesIO()
    with NczFile(dst, "w", **OPTS) as f:
        for i in range(0, len(TEXT), 333):
            assert f.write(TEXT[i:i + 333]) == len(TEXT[i:i + 333])
    assert dst.getvalue() == packed


def test_write_streams_whole_chunks_before_close():
    dst = io.BytesIO()
    with NczFile(dst, "w", **OPTS) as f:
        f.write(TEXT[:CHUNK - 1])
        header_only = len(dst.getvalue())
        f.write(TEXT[CHUNK - 1:2 * CHUNK])
        assert len(dst.getvalue()) > header_only  # the first chunk went out
        assert f.tell() == 2 * CHUNK


def test_write_bytes_like_objects():
    dst = io.BytesIO()
    with NczFile(dst, "w", level=1) as f:
        assert f.write(memoryview(b"abc")) == 3
        assert f.write(bytearray(b"def")) == 3
        assert f.write(array.array("I", [1, 2])) == 8
        f.writelines([b"g", b"h"])
    assert nczip.decompress(dst.getvalue()) == b"abcdef" + array.array("I", [1, 2]).tobytes() + b"gh"


def test_write_on_a_reader_and_read_on_a_writer_fail(packed):
    with NczFile(io.BytesIO(packed)) as f, pytest.raises(io.UnsupportedOperation):
        f.write(b"x")
    with NczFile(io.BytesIO(), "w", level=1) as g:
        for operation in (g.read, g.readline, g.peek):
            with pytest.raises(io.UnsupportedOperation):
                operation()
        with pytest.raises(io.UnsupportedOperation):
            g.seek(0)


def test_writing_with_workers_gives_the_same_bytes(packed):
    dst = io.BytesIO()
    with NczFile(dst, "w", threads=2, **OPTS) as f:
        f.write(TEXT)
    assert dst.getvalue() == packed


# -- seeking -----------------------------------------------------------------------------------

def test_seek_forward_backward_and_from_the_end(packed):
    with NczFile(io.BytesIO(packed)) as f:
        assert f.seek(2000) == 2000 and f.read(10) == TEXT[2000:2010]
        assert f.seek(100) == 100 and f.read(10) == TEXT[100:110]
        assert f.seek(-5, io.SEEK_CUR) == 105 and f.tell() == 105
        assert f.seek(-10, io.SEEK_END) == len(TEXT) - 10 and f.read() == TEXT[-10:]
        assert f.seek(len(TEXT) + 100) == len(TEXT) and f.read() == b""
        with pytest.raises(ValueError):
            f.seek(0, 3)


def test_seek_on_an_unseekable_file_fails(packed):
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    with NczFile(Unseekable(packed)) as f:
        assert not f.seekable()
        with pytest.raises(io.UnsupportedOperation):
            f.seek(0)
        assert f.read() == TEXT


# -- text mode and nczip.open ------------------------------------------------------------------

def test_open_binary_and_text(tmp_path):
    path = tmp_path / "t.ncz"
    text = "héllo wörld\nsecond line\n" * 20
    with nczip.open(path, "wt", encoding="utf-8", level=1) as f:
        f.write(text)
    with nczip.open(path, "rt", encoding="utf-8") as f:
        assert isinstance(f, io.TextIOWrapper)
        assert f.read() == text
    with nczip.open(path) as b:
        assert isinstance(b, NczFile) and b.read() == text.encode()
    with nczip.open(path, "rt", encoding="utf-8") as f:
        assert list(f) == text.splitlines(keepends=True)


def test_open_text_newline_and_errors(tmp_path):
    path = tmp_path / "t.ncz"
    with nczip.open(path, "wt", encoding="ascii", newline="\r\n", level=1) as f:
        f.write("a\nb\n")
    assert nczip.decompress(path.read_bytes()) == b"a\r\nb\r\n"
    with nczip.open(path, "rt", encoding="ascii", newline="") as f:
        assert f.readlines() == ["a\r\n", "b\r\n"]
    with nczip.open(io.BytesIO(nczip.compress(b"caf\xe9", level=1)), "rt", encoding="utf-8",
                    errors="replace") as f:
        assert f.read() == "caf\ufffd"


def test_open_append_text_and_exclusive(tmp_path):
    path = tmp_path / "t.ncz"
    with nczip.open(path, "xt", encoding="utf-8", level=1) as f:
        f.write("one\n")
    with nczip.open(path, "at", encoding="utf-8", level=1) as f:
        f.write("two\n")
    with nczip.open(path, "rt", encoding="utf-8") as f:
        assert f.read() == "one\ntwo\n"


def test_open_refuses_text_arguments_in_binary_mode_and_mixed_modes():
    for kwargs in ({"encoding": "utf-8"}, {"errors": "ignore"}, {"newline": "\n"}):
        with pytest.raises(ValueError):
            nczip.open(io.BytesIO(), "rb", **kwargs)  # type: ignore[call-overload]
    with pytest.raises(ValueError):
        nczip.open(io.BytesIO(), "rbt")
    with pytest.raises(ValueError):
        nczip.open(io.BytesIO(), "wbt")


def test_open_with_a_file_object_in_text_mode():
    dst = io.BytesIO()
    with nczip.open(dst, "wt", encoding="utf-8", level=1) as f:
        f.write("through a file object\n")
    assert nczip.decompress(dst.getvalue()) == b"through a file object\n"
