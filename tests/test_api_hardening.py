"""The API under misuse (issue 22, items 3 and 4): threads sharing one file object or compressor,
and a decompressor used again after it failed.

Threads: the chunk coders release the GIL (ctypes), so without a lock two threads were inside
one chunk's coder at once and the container came out corrupt with no error at writing time.
Every block the threads write is distinct and of one size that divides the chunk size, so
whatever order the lock lets them in, the output must be whole blocks, each exactly once.

Failures: a decompressor that has raised once must raise the same error on every later call;
before, it returned the bytes it had just rejected and then raised a bare ``StopIteration``.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import pytest

import nczip
from nczip import Compressor, Decompressor, FormatError
from nczip.container import _FRAME, _TRAILER, MAGIC, Trailer, read_frames, read_header

BLOCK = 512
CHUNK = 4096  # eight blocks: chunks are coded often, and each holds whole blocks only
THREADS = 8
WRITES = 40


def _block(thread: int, index: int) -> bytes:
    """A block that names its writer and its place, so a torn or repeated one is recognised."""
    tag = b"<%02d:%05d>" % (thread, index)
    return (tag * (BLOCK // len(tag) + 1))[:BLOCK]


def _expected() -> list[bytes]:
    return sorted(_block(t, i) for t in range(THREADS) for i in range(WRITES))


def _blocks_of(data: bytes) -> list[bytes]:
    assert len(data) == THREADS * WRITES * BLOCK
    return sorted(data[i:i + BLOCK] for i in range(0, len(data), BLOCK))


def _in_threads(work: Callable[[int], None]) -> None:
    """Run ``work(thread)`` in THREADS threads started together (a barrier makes them overlap)."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def body(thread: int) -> None:
        barrier.wait()
        try:
            work(thread)
        except BaseException as exc:  # reported by the test thread, not lost in the worker's
            errors.append(exc)

    workers = [threading.Thread(target=body, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


class _OneAtATime:
    """Wraps a compressor's chunk coder to record whether two threads were ever inside it at once.

    Each call first sleeps a millisecond, which releases the GIL as the C kernels do, so on code
    without the lock the threads that arrive meanwhile reliably overlap instead of rarely."""

    def __init__(self, job: Callable[[bytes], object]) -> None:
        self.job = job
        self.inside = 0
        self.overlapped = False
        self.lock = threading.Lock()

    def __call__(self, data: bytes) -> object:
        with self.lock:
            self.inside += 1
            self.overlapped = self.overlapped or self.inside > 1
        try:
            time.sleep(0.001)
            return self.job(data)
        finally:
            with self.lock:
                self.inside -= 1


def _watched(compressor: Compressor) -> _OneAtATime:
    probe = _OneAtATime(compressor._plan.job)
    compressor._plan.job = probe  # type: ignore[assignment]
    return probe


# -- item 3: threads -----------------------------------------------------------------------------

@pytest.mark.parametrize("attempt", range(3))
def test_threads_writing_one_ncz_file_give_a_valid_container(attempt: int) -> None:
    """Each write is one compression plus one write of its frames: under the file's lock the
    result decodes, with every block intact and none lost or repeated (the code without it: a
    whole-file checksum mismatch in every run). The first run uses the real coder alone; the
    others also check that no two threads were ever inside it at once."""
    buffer = io.BytesIO()
    with nczip.NczFile(buffer, "w", level=1, chunk_size=CHUNK) as f:
        assert f._compressor is not None
        probe = _watched(f._compressor) if attempt else None

        def work(thread: int) -> None:
            for i in range(WRITES):
                f.write(_block(thread, i))

        _in_threads(work)
        assert f.tell() == THREADS * WRITES * BLOCK
    assert _blocks_of(nczip.decompress(buffer.getvalue())) == _expected()
    assert probe is None or not probe.overlapped


def test_threads_sharing_one_compressor_never_corrupt_its_state() -> None:
    """One chunk is coded at a time, and the compressor's state stays whole.

    Threads cannot know the order of their calls, so the pieces they get back are joined here in
    any order: frames are whole units of eight whole blocks each, so the header (once), every
    frame's CRC, the blocks (each once) and the trailer's counts must still check out."""
    compressor = Compressor(level=1, chunk_size=CHUNK)
    probe = _watched(compressor)
    pieces: list[bytes] = []

    def work(thread: int) -> None:
        for i in range(WRITES):
            pieces.append(compressor.compress(_block(thread, i)))

    _in_threads(work)
    tail = compressor.flush()
    headed = [piece for piece in pieces if piece.startswith(MAGIC)]
    assert len(headed) == 1
    body = b"".join(piece for piece in pieces if not piece.startswith(MAGIC))
    trailer, tail = tail[-(_TRAILER.size + 4):], tail[:-(_TRAILER.size + 4)]
    decompressor = Decompressor()
    data = decompressor.decompress(headed[0] + body + tail)  # every frame decoded and CRC-checked
    assert decompressor.needs_input and not decompressor.eof
    assert _blocks_of(data) == _expected()
    _, total, chunks, _ = _TRAILER.unpack(trailer[:_TRAILER.size])
    assert (total, chunks) == (len(data), len(data) // CHUNK)
    assert not probe.overlapped, "two threads were inside one compressor's chunk coder at once"


# -- item 4: a failed decompressor stays failed ----------------------------------------------------

TEXT = b"".join(b"Entry %d: it was the best of times, it was the worst of times.\n" % i for i in range(80))
SMALL_CHUNK = 1200


@pytest.fixture(scope="module")
def packed() -> bytes:
    return nczip.compress(TEXT, level=1, chunk_size=SMALL_CHUNK)


def _bad_digest(packed: bytes) -> bytes:
    """The container with its trailer re-signed over a wrong SHA-256: every chunk decodes and
    passes its CRC, and only the whole-file check at the end refuses it."""
    size = _TRAILER.size + 4
    _, total, chunks, digest = _TRAILER.unpack(packed[-size:-4])
    return packed[:-size] + Trailer(total, chunks, bytes(b ^ 0xFF for b in digest)).to_bytes()


def _bad_chunk(packed: bytes, index: int = 0) -> bytes:
    """The container with one byte of frame ``index``'s payload flipped: that chunk's CRC fails."""
    src = io.BytesIO(packed)
    frames = read_frames(src, read_header(src))
    start = src.tell()
    for _ in range(index):
        next(frames)
        start = src.tell()
    at = start + _FRAME.size + 4 + 10  # past the frame's head and its CRC, into the payload
    return packed[:at] + bytes([packed[at] ^ 0x55]) + packed[at + 1:]


def _assert_stays_failed(decompressor: Decompressor, first: BaseException) -> None:
    """Later calls, with or without input, raise what the first failure raised and return nothing."""
    for data in (b"", b"", b"more input", b""):
        with pytest.raises(type(first)) as again:
            decompressor.decompress(data)
        assert str(again.value) == str(first)
    assert not decompressor.needs_input and not decompressor.eof


@pytest.mark.parametrize("spoil, message", [
    (_bad_digest, "whole-file checksum mismatch"),
    (_bad_chunk, "corrupt"),
    (lambda packed: b"not a container at all" + packed, "not in nczip format"),
])
def test_a_failed_decompressor_raises_the_same_error_ever_after(
        packed: bytes, spoil: Callable[[bytes], bytes], message: str) -> None:
    """Whatever the failure (the whole-file digest, a chunk's CRC, a foreign header), later calls
    raise it again: before, the digest's failure was followed by the rejected last chunk and then
    a bare StopIteration, and the others by whatever came next."""
    decompressor = Decompressor()
    with pytest.raises(FormatError, match=message) as first:
        decompressor.decompress(spoil(packed))
    _assert_stays_failed(decompressor, first.value)


def test_a_decompressor_failing_mid_stream_returns_nothing_of_the_rest(packed: bytes) -> None:
    """Fed one byte at a time, it returns good chunks until the bad one, then only errors: before,
    the chunks after the corrupt one came out on the next calls (the batch was dropped, not the
    decoder)."""
    data = _bad_chunk(packed, index=2)
    decompressor = Decompressor()
    out = bytearray()
    for at in range(len(data)):
        try:
            out += decompressor.decompress(data[at:at + 1])
        except FormatError as exc:
            rest = data[at + 1:]
            with pytest.raises(FormatError) as again:
                decompressor.decompress(rest)
            assert str(again.value) == str(exc)
            break
    else:
        pytest.fail("the corrupt chunk was accepted")
    assert out == TEXT[:2 * SMALL_CHUNK]


def test_the_truncation_error_ends_the_decompressor(packed: bytes) -> None:
    """Asking why the input is truncated parses what is buffered; feeding the rest afterwards
    used to raise a bare StopIteration out of ``decompress``."""
    cut = len(packed) // 2
    decompressor = Decompressor()
    decompressor.decompress(packed[:cut])
    error = decompressor.truncation_error()
    assert isinstance(error, FormatError) and "truncated" in str(error)
    with pytest.raises(FormatError) as again:
        decompressor.decompress(packed[cut:])
    assert str(again.value) == str(error)
    _assert_stays_failed(decompressor, error)


def test_an_interrupted_decompressor_refuses_to_go_on(packed: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyboardInterrupt in the middle of a batch loses that batch: going on would skip chunks,
    so later calls raise (a RuntimeError: the interruption itself is not repeated)."""
    import nczip.session

    real = nczip.session.decode_chunk_stream

    def interrupted(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(nczip.session, "decode_chunk_stream", real)
        raise KeyboardInterrupt

    monkeypatch.setattr(nczip.session, "decode_chunk_stream", interrupted)
    decompressor = Decompressor()
    with pytest.raises(KeyboardInterrupt):
        decompressor.decompress(packed[:len(packed) // 2])
    for data in (b"", packed[len(packed) // 2:], b""):
        with pytest.raises(RuntimeError, match="interrupted"):
            decompressor.decompress(data)


@pytest.mark.parametrize("read", [
    lambda f: f.read(),
    lambda f: f.read(100),
    lambda f: f.readline(),
    lambda f: f.peek(1),
])
def test_a_file_whose_decompressor_failed_keeps_raising(packed: bytes,
                                                        read: Callable[[nczip.NczFile], bytes]) -> None:
    """The file object reads on after an error only to raise it again: before, the next read
    returned the bytes the whole-file checksum had just refused."""
    with nczip.NczFile(io.BytesIO(_bad_digest(packed))) as f:
        with pytest.raises(FormatError, match="whole-file checksum mismatch") as first:
            f.read()
        for _ in range(3):
            with pytest.raises(FormatError) as again:
                read(f)
            assert str(again.value) == str(first.value)
