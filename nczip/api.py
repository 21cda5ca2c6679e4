"""The Python API, shaped like the standard library's :mod:`lzma`, :mod:`gzip` and :mod:`bz2`.

- :func:`compress` / :func:`decompress` work on bytes; :func:`compress_stream` /
  :func:`decompress_stream` on binary file objects (one pool of workers for the whole input);
- :class:`Compressor` / :class:`Decompressor` are incremental, like :class:`lzma.LZMACompressor`
  and :class:`lzma.LZMADecompressor` (``compress(data)``/``flush()``; ``decompress(data)``,
  ``eof``, ``unused_data``, ``needs_input``);
- the file object (:class:`nczip.NczFile`, :func:`nczip.open`) is in :mod:`nczip.ncfile`.

Options are keyword-only and typed: a level is an ``int`` (see the ``LEVEL_*`` constants), model
components are :class:`Component` members and a tiling a :class:`Tiling`, never free strings, so a
misspelt option fails where it is written (``TypeError``/``ValueError``) instead of deep inside
the codec. Every function produces the same bytes for the same options: the incremental
compressor, the file object and :func:`compress` write identical containers.
"""

from __future__ import annotations

import copy
import hashlib
import io
import operator
import threading
from collections.abc import Iterable, Iterator
from typing import BinaryIO, NoReturn, SupportsIndex

from .container import ChunkFrame, Header, Trailer
from .errors import FormatError, TrailingDataError, TruncatedError  # noqa: F401 (named in docstrings)
from .facts import Facts, predictors, read_facts, tied_to  # noqa: F401 (what a container is, for callers)
from .levels import DEFAULT_LEVEL, MAX_LEVEL, MIN_LEVEL, uses_llm
from .options import (MAX_LANES, Component, EncodeOptions, PathArg, Tiling, cluster_option,  # noqa: F401
                      encode_options, int_option, model_path_option)
from .container import MAX_CHUNK_SIZE  # noqa: F401 (the largest chunk size, for callers)
from .parallel import ordered_map, resolve_workers, usable_cpus  # noqa: F401 (worker counts, for callers)
from .progress import ProgressLine, human_bytes  # noqa: F401 (the progress display the stream functions take)
from .session import DecodeSession
from .stream import Summary, plan_encoding, scan_container  # noqa: F401 (scan_container: for callers)
from .stream import compress_stream as _compress_stream
from .stream import decompress_stream as _decompress_stream

#: the fastest level (no LLM; an order-3 byte model and online token models)
LEVEL_FASTEST = MIN_LEVEL
#: what ``nczip FILE`` and every function here use when no level is given (no LLM)
LEVEL_DEFAULT = DEFAULT_LEVEL
#: the best ratio (the LLM with its widest window); thousands of times slower than level 1
LEVEL_BEST = MAX_LEVEL
#: levels that need no LLM: tens to hundreds of KiB/s
FAST_LEVELS = tuple(level for level in range(MIN_LEVEL, MAX_LEVEL + 1) if not uses_llm(level))
#: levels that run the LLM through llama.cpp: hundreds of bytes to a few KiB/s on a CPU
LLM_LEVELS = tuple(level for level in range(MIN_LEVEL, MAX_LEVEL + 1) if uses_llm(level))


def compress(data: bytes, *, level: int = DEFAULT_LEVEL, threads: int = 1, chunk_size: int | None = None,
             model: PathArg | None = None, lanes: int | None = None,
             components: Iterable[Component] | None = None, tiling: Tiling | None = None) -> bytes:
    """Return ``data`` as one complete container (what ``nczip -c`` writes for the same options).

    ``threads`` is the number of worker processes (0: one per CPU); the output never depends on
    it. ``model`` is a GGUF file for levels 4-9 (default: the registry's model).
    """
    out = io.BytesIO()
    compress_stream(io.BytesIO(data), out, level=level, threads=threads, chunk_size=chunk_size, model=model,
                    lanes=lanes, components=components, tiling=tiling)
    return out.getvalue()


def decompress(data: bytes, *, threads: int = 1, model: PathArg | None = None) -> bytes:
    """Decode a container (or several concatenated) and verify every checksum.

    ``b""`` decodes to ``b""`` and zero bytes after a container are padding, skipped (both as in
    :mod:`gzip`). Raises :class:`FormatError` for anything else that is not a sequence of valid
    containers: foreign bytes, other trailing bytes (:class:`TrailingDataError`, naming their
    offset), corruption; truncation raises :class:`TruncatedError`, an :class:`EOFError` too.
    """
    if not len(memoryview(data)):
        return b""
    out = io.BytesIO()
    decompress_stream(io.BytesIO(data), out, threads=threads, model=model)
    return out.getvalue()


def compress_stream(src: BinaryIO, dst: BinaryIO, *, level: int = DEFAULT_LEVEL, threads: int = 1,
                    chunk_size: int | None = None, model: PathArg | None = None, lanes: int | None = None,
                    components: Iterable[Component] | None = None, tiling: Tiling | None = None,
                    cluster: str | None = None, options: EncodeOptions | None = None,
                    progress: ProgressLine | None = None) -> Summary:
    """Compress everything readable from ``src`` into one container written to ``dst``.

    Reads one chunk per worker ahead, so memory is bounded by chunk size x workers, not by input.
    ``options`` (from :func:`encode_options`, checked once for many files) replaces the keywords
    before it; ``progress`` is the command line's progress display. ``cluster``: the address of a
    Ray cluster whose workers code the chunks (``"auto"``, ``"local"``, ``"ray://host:port"``;
    :mod:`nczip.cluster`): the same bytes as a local run.
    """
    if options is None:
        options = encode_options(level=level, threads=threads, chunk_size=chunk_size, model=model, lanes=lanes,
                                 components=components, tiling=tiling, cluster=cluster)
    return _compress_stream(src, dst, options, progress)


def decompress_stream(src: BinaryIO, dst: BinaryIO | None, *, threads: int = 1,
                      model: PathArg | None = None, cluster: str | None = None,
                      progress: ProgressLine | None = None) -> Summary:
    """Decode every container in ``src`` to ``dst`` (``None``: verify only); see :func:`decompress`.
    ``cluster`` as for :func:`compress_stream`; ``progress`` is the command line's progress display."""
    int_option("threads", threads, 0)
    return _decompress_stream(src, dst, threads=threads, progress=progress, model_path=model_path_option(model),
                              cluster=cluster_option(cluster))


class NotPicklable:
    """Refuses pickling (and copying) under every protocol, at ``dumps``: a coder's state is C
    tables, worker pools and locks, which no pickle can carry. Without this, protocols 0 and 1
    "succeed" through :mod:`copyreg` and ``loads`` fails later, far from the mistake."""

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


class Compressor(NotPicklable):
    """Incremental compression, like :class:`lzma.LZMACompressor`.

    :meth:`compress` returns the header with its first call and then a frame for every complete
    chunk (so it often returns ``b""``: a chunk is megabytes at the default sizes); :meth:`flush`
    codes the last partial chunk and closes the container. The concatenation of all returned
    bytes equals :func:`compress` of the concatenated input with the same options.

    One compressor may be shared by threads: each call holds a lock for as long as it runs,
    because the chunk coders release the GIL (ctypes) and two threads inside one would interleave
    their state and write a corrupt container without any error.
    """

    def __init__(self, *, level: int = DEFAULT_LEVEL, threads: int = 1, chunk_size: int | None = None,
                 model: PathArg | None = None, lanes: int | None = None,
                 components: Iterable[Component] | None = None, tiling: Tiling | None = None) -> None:
        o = encode_options(level=level, threads=threads, chunk_size=chunk_size, model=model, lanes=lanes,
                           components=components, tiling=tiling)
        self._plan = plan_encoding(o)
        self._chunk_size = self._plan.header.chunk_size
        self._pending = bytearray()
        self._digest = hashlib.sha256()
        self._length = 0
        self._chunks = 0
        self._started = False
        self._flushed = False
        self._lock = threading.Lock()

    @property
    def chunk_size(self) -> int:
        """Bytes per chunk: :meth:`compress` returns frames only once this many have arrived."""
        return self._chunk_size

    def _head(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return self._plan.header.to_bytes()

    def _encode(self, blocks: list[bytes]) -> bytes:
        """Code ``blocks`` in order, on up to one worker per block (a pool only when it pays)."""
        if not blocks:
            return b""
        for block in blocks:
            self._digest.update(block)
            self._length += len(block)
        self._chunks += len(blocks)
        workers = min(self._plan.workers, len(blocks))
        return b"".join(chunk.frame.to_bytes() for chunk in ordered_map(self._plan.job, blocks, workers))

    def _take_chunks(self, at_least: int) -> list[bytes]:
        """Cut complete chunks off the pending input, if there are ``at_least`` of them."""
        count = len(self._pending) // self._chunk_size
        if count < max(at_least, 1):
            return []
        size = count * self._chunk_size
        view = bytes(self._pending[:size])
        del self._pending[:size]
        return [view[i:i + self._chunk_size] for i in range(0, size, self._chunk_size)]

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        """Add ``data``; return whatever part of the container is ready."""
        with self._lock:
            if self._flushed:
                raise ValueError("Compressor has been flushed")
            self._pending += data
            # With several workers, wait until each has a chunk: a pool per chunk would start
            # (and, at levels 4-9, load the LLM) once per chunk.
            return self._head() + self._encode(self._take_chunks(self._plan.workers))

    def flush(self) -> bytes:
        """Code what is left and close the container; the compressor cannot be used afterwards."""
        with self._lock:
            if self._flushed:
                raise ValueError("Compressor has been flushed")
            self._flushed = True
            blocks = self._take_chunks(1)
            if self._pending:
                blocks.append(bytes(self._pending))
                self._pending.clear()
            body = self._encode(blocks)
            trailer = Trailer(self._length, self._chunks, self._digest.digest()).to_bytes()
            return self._head() + body + trailer


class Decompressor(NotPicklable):
    """Incremental decoding of one container, like :class:`lzma.LZMADecompressor`.

    Chunks are decoded as soon as they are complete, checked against their CRC32, and the whole
    container against its trailer's length and SHA-256. After the trailer, :attr:`eof` is True and
    any further bytes (the next concatenated container, or garbage) are in :attr:`unused_data`.

    A decompressor that has raised stays failed: every later :meth:`decompress` raises the same
    error again. Its state is half-updated by then (frames parsed, output decoded but refused by
    the checksum), so going on would return bytes that were just rejected. Calls hold a lock, as
    :class:`Compressor`'s do, so threads sharing one cannot interleave its state.
    """

    def __init__(self, *, threads: int = 1, model: PathArg | None = None) -> None:
        self._workers = resolve_workers(int_option("threads", threads, 0))
        self._session = DecodeSession(self._workers, model_path_option(model))
        self._output = bytearray()
        self._current: Iterator[bytes] | None = None  # the chunk being decoded slice by slice
        self.eof = False
        self.unused_data = b""
        self.needs_input = True
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    @property
    def header(self) -> Header | None:
        """The container's header once it has been read (level, chunk size, models)."""
        return self._session.header

    def decompress(self, data: bytes | bytearray | memoryview, max_length: int = -1) -> bytes:
        """Add ``data``; return up to ``max_length`` decoded bytes (all, when negative).

        The arguments are checked before any input is taken, so a wrong call leaves the
        decompressor as it was (``TypeError``)."""
        max_length = operator.index(max_length)
        data = memoryview(data)
        with self._lock:
            self._raise_if_failed()
            if self.eof:
                raise EOFError("already at the end of the container")
            try:
                return self._decompress(data, max_length)
            except BaseException as exc:
                self._fail(exc)
                raise

    def _raise_if_failed(self) -> None:
        """Raise the error this decompressor failed with, as a fresh copy when it can be made:
        re-raising one object would grow its traceback with every call."""
        if self._error is None:
            return
        error = self._error
        try:
            again = copy.copy(error)
        except Exception:  # an exception type copy cannot rebuild: raise the original
            again = error
        raise again.with_traceback(None) from error.__cause__

    def _fail(self, exc: BaseException) -> None:
        """Remember why decoding stopped and drop what it held, so nothing rejected is returned.
        An interruption (Ctrl-C, SystemExit) is not repeated as such to later callers, yet leaves
        the state just as unusable, so it becomes a plain error for them."""
        if isinstance(exc, Exception):
            self._error = exc
        else:
            self._error = RuntimeError(f"decompression was interrupted ({type(exc).__name__}); "
                                       "this decompressor cannot go on")
        self._output.clear()
        self._current = None
        self._session = DecodeSession()  # what it held is dropped: nothing rejected is returned
        self.needs_input = False

    def _decompress(self, data: bytes | bytearray | memoryview, max_length: int) -> bytes:
        self._session.feed(data)
        stalled = self._run(max_length)
        if max_length < 0:
            out = bytes(self._output)
            self._output.clear()
        else:
            out = bytes(self._output[:max_length])
            del self._output[:max_length]
        self.needs_input = stalled and not self._output and not self.eof
        return out

    def _run(self, max_length: int) -> bool:
        """Decode while output is wanted; True if it stopped for input. With one worker a chunk
        is decoded a slice at a time (:meth:`DecodeJob.stream`), so ``max_length`` bounds the
        work and the output held, not just what is returned; with several, whole frames are
        decoded ``workers`` at a time in worker processes."""
        batch: list[tuple[int, ChunkFrame]] = []
        planned = len(self._output)
        stalled = False
        while not self.eof and not 0 <= max_length <= planned:
            if self._current is not None:
                piece = next(self._current, None)
                if piece is None:
                    self._current = None
                else:
                    self._session.account(piece)
                    self._output += piece
                    planned += len(piece)
                continue
            item = self._session.next()
            if item is None:
                stalled = True
                break
            if isinstance(item, Trailer):
                self._decode(batch)
                self._session.finish()
                self.eof = True
                self.unused_data = self._session.unused()
                break
            if self._workers <= 1:
                assert self._session.job is not None
                self._current = self._session.job.stream(item)
                continue
            batch.append(item)
            planned += item[1].original_length
            if len(batch) >= self._workers:
                self._decode(batch)
        self._decode(batch)
        return stalled

    def _decode(self, batch: list[tuple[int, ChunkFrame]]) -> None:
        if not batch:
            return
        assert self._session.job is not None
        for data in ordered_map(self._session.job, list(batch), self._workers):  # no more processes than frames
            self._session.account(data)
            self._output += data
        batch.clear()

    def truncation_error(self) -> FormatError:
        """Why the input, ended here, is not a whole container: the file object raises this at
        the end of its input, with the same message :func:`decompress` gives.

        Telling the end ends the decompressor: finding the reason parses what is buffered, so it
        could not go on, and the reason becomes its failure (later calls raise it). After an
        earlier failure it raises that one: it, not the truncation, says what is wrong.
        """
        with self._lock:
            self._raise_if_failed()
            error = self._truncation_error()
            self._fail(error)
            return error

    def _truncation_error(self) -> FormatError:
        if self.eof:
            raise ValueError("the container is complete")
        return self._session.truncation_error()
