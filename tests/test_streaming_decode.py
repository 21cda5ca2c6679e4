"""Decoding inside a chunk (issue 27): the methods that decode front to back (the core, zstd,
stored) hand out slices, so ``Decompressor(max_length=n)``, ``NczFile.read(n)`` and ``nczip -dc |
head`` do about ``n`` bytes' work and hold the model plus the slice, not whole chunks; bytes of a
chunk come out before its checksum is known, and a corrupt chunk still fails at its end."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nczip
from nczip import FormatError, NczFile, parallel
from nczip.methods import BY_ID
from nczip.methods.base import STREAM_SLICE
from nczip.container import METHOD_CM

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "corpora" / "alice29.txt").read_bytes()
DATA = TEXT * 4  # 608 KB: one chunk of level 1's core, five slices
OPTS = {"level": 1, "chunk_size": 1 << 20}


@pytest.fixture(scope="module")
def packed() -> bytes:
    out = nczip.compress(DATA, **OPTS)
    assert nczip.decompress(out) == DATA
    return out


@pytest.fixture
def slices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The slices the core has decoded so far (their lengths), counted as it hands them out."""
    core = BY_ID[METHOD_CM]
    real = type(core).decode_stream
    seen: list[int] = []

    def counted(self, payload, length, job):
        for piece in real(self, payload, length, job):
            seen.append(len(piece))
            yield piece

    monkeypatch.setattr(type(core), "decode_stream", counted)
    return seen


def test_the_core_chunk_is_one_frame_of_several_slices(packed: bytes) -> None:
    summary = nczip.scan_container(io.BytesIO(packed))
    assert summary.chunks == 1 and summary.methods == {"cm": 1}
    assert len(DATA) > 4 * STREAM_SLICE


def test_max_length_decodes_only_what_it_returns(packed: bytes, slices: list[int]) -> None:
    d = nczip.Decompressor()
    assert d.decompress(packed, max_length=100) == DATA[:100]
    assert slices == [STREAM_SLICE] and not d.needs_input and not d.eof
    out = d.decompress(b"", max_length=STREAM_SLICE)
    assert out == DATA[100:100 + STREAM_SLICE] and len(slices) == 2
    rest = d.decompress(b"")
    assert DATA[:100] + out + rest == DATA and d.eof and sum(slices) == len(DATA)


def test_reading_a_few_bytes_of_the_file_object_decodes_one_slice(packed: bytes, slices: list[int]) -> None:
    with NczFile(io.BytesIO(packed)) as f:
        assert f.read(10) == DATA[:10]
        assert len(slices) == 1
        assert f.read() == DATA[10:]


def test_a_corrupt_chunk_gives_its_good_slices_then_fails_at_its_end(packed: bytes) -> None:
    broken = bytearray(packed)
    broken[-200] ^= 0x55  # near the end of the core's payload: the first slices decode as they were
    d = nczip.Decompressor()
    assert d.decompress(bytes(broken), max_length=STREAM_SLICE) == DATA[:STREAM_SLICE]
    with pytest.raises(FormatError, match="chunk 0"):
        d.decompress(b"")
    with pytest.raises(FormatError):
        nczip.decompress(bytes(broken))


def test_zstd_and_stored_chunks_stream_too() -> None:
    noise = os.urandom(3 * STREAM_SLICE + 5)  # stored
    runs = bytes(range(256)) * 2000  # zstd at level 1 where the core does no better
    for data in (noise, runs, noise + runs):
        packed = nczip.compress(data, level=1, chunk_size=1 << 20)
        d = nczip.Decompressor()
        pieces = []
        while not d.eof:
            pieces.append(d.decompress(packed if not pieces else b"", max_length=STREAM_SLICE // 2))
        assert b"".join(pieces) == data and max(map(len, pieces)) <= STREAM_SLICE // 2


def test_a_zstd_payload_longer_than_its_frame_is_refused() -> None:
    from nczip.container import ChunkFrame, METHOD_ZSTD
    from nczip.methods import zstd
    from nczip.methods.policy import decode_chunk
    from nczip.levels import level_config
    from nczip.config import parse

    config = parse(level_config(1)[0])
    payload = zstd.compress(b"x" * 1000, 3)
    import zlib

    with pytest.raises(FormatError, match="longer than its frame"):
        decode_chunk(ChunkFrame(METHOD_ZSTD, 999, zlib.crc32(b"x" * 999), payload), config)


def _square(x: int) -> int:
    return x * x


def test_ordered_stream_makes_this_process_one_of_the_workers_from_the_first_item_on() -> None:
    here: list[int] = []

    def local(x: int):
        here.append(x)
        yield -x
        yield x

    groups = [list(g) for g in parallel.ordered_stream(_square, local, range(7), 2)]
    assert groups == [[-x, x] if x % 2 == 0 else [x * x] for x in range(7)] and here == [0, 2, 4, 6]
    here.clear()
    groups = [list(g) for g in parallel.ordered_stream(_square, local, range(7), 3)]
    assert groups == [[-x, x] if x % 3 == 0 else [x * x] for x in range(7)] and here == [0, 3, 6]
    assert [list(g) for g in parallel.ordered_stream(_square, local, [3, 4], 1)] == [[-3, 3], [-4, 4]]
    assert [list(g) for g in parallel.ordered_stream(_square, None, [3, 4], 2)] == [[9], [16]]


@pytest.mark.parametrize("threads", ["1", "2"])
def test_the_first_bytes_of_a_pipe_come_before_the_first_chunk_is_decoded(tmp_path: Path, threads: str) -> None:
    data = TEXT * 16  # 2.4 MB: one 8 MiB chunk of the core, ~4 s to decode here
    (tmp_path / "t").write_bytes(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "nczip", "-1", "--chunk-size", str(8 << 20), "t"], cwd=tmp_path,
                   env=env, check=True)
    whole = time.monotonic()
    assert subprocess.run([sys.executable, "-m", "nczip", "-t", "t.ncz"], cwd=tmp_path, env=env).returncode == 0
    whole = time.monotonic() - whole
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "nczip", "-dc", "-T", threads, "t.ncz"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.read(100) == data[:100]
    first = time.monotonic() - started
    proc.stdout.close()
    proc.wait(timeout=60)
    assert first < whole / 3, (first, whole)
