"""The file object: :class:`NczFile` and :func:`open`, as :class:`lzma.LZMAFile` and :func:`lzma.open`.

Reading decodes the containers one after the other (a file may hold several, concatenated, as
``cat a.ncz b.ncz`` makes and mode ``"a"`` writes), verifies each, skips zero padding after
them (as :mod:`gzip` does) and raises :class:`~nczip.errors.FormatError` (an ``OSError``) for
anything else: unlike :mod:`lzma`, which ignores trailing data that is not a stream, nczip
refuses it, as :func:`nczip.decompress` and ``nczip -d`` do, so the file object and the command
line never disagree about a file. Reading decodes a chunk a slice at a time (with one thread), so
``read(n)`` does about ``n`` bytes' work and holds the model and the chunk decoded so far, not
whole chunks of output. Writing
buffers one chunk per worker (megabytes; the size depends on the level) before coding it; the container is
complete when the file is closed.
"""

from __future__ import annotations

import builtins
import io
import os
import threading
from collections.abc import Iterable
from typing import IO, Any, BinaryIO, Literal, cast, overload

from _compression import BUFFER_SIZE as _BUFFER_SIZE
from _compression import BaseStream, DecompressReader

from .api import Component, Compressor, Decompressor, NotPicklable, PathArg, Tiling
from .levels import DEFAULT_LEVEL
from .session import next_member

_MODE_CLOSED, _MODE_READ, _MODE_WRITE = 0, 1, 2

FileArg = str | bytes | os.PathLike[str] | os.PathLike[bytes] | IO[bytes]


class _Reader(DecompressReader):
    """Decoded bytes of every container in ``fp`` as a raw stream (what :class:`io.BufferedReader`
    wraps), the standard library's reader over :class:`~nczip.Decompressor` as gzip/lzma/bz2 build
    theirs; seeking is emulated by decoding, backwards by starting again from the beginning.

    What :func:`nczip.decompress` and ``nczip -d`` accept, this accepts: an empty file reads as
    ``b""``; zero bytes after a container are padding, skipped; other bytes there raise
    :class:`~nczip.errors.TrailingDataError` naming their offset; input that ends inside a
    container raises the decompressor's reason, a :class:`~nczip.errors.TruncatedError` (an
    :class:`EOFError`, as :mod:`bz2` and :mod:`lzma` raise) unless it is already corrupt.
    """

    # DecompressReader's state, which typeshed does not declare
    _fp: IO[bytes]
    _eof: bool
    _pos: int
    _size: int
    _decompressor: Decompressor
    _decomp_args: dict[str, Any]

    def __init__(self, fp: IO[bytes], threads: int, model: PathArg | None) -> None:
        super().__init__(fp, cast(Any, Decompressor), threads=threads, model=model)  # typeshed's protocol wants Buffer
        self._read_bytes = 0  # compressed bytes read so far: offsets for messages

    def _raw(self) -> bytes:
        block = self._fp.read(_BUFFER_SIZE)
        self._read_bytes += len(block)
        return block

    def _rewind(self) -> None:
        super()._rewind()  # type: ignore[misc]  # DecompressReader's, not in typeshed
        self._read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return self.readall()
        if not size or self._eof:
            return b""
        data = b""
        while not data:
            current = self._decompressor
            if current.eof:
                rawblock = next_member(current.unused_data or self._raw(), self._raw, lambda: self._read_bytes)
                if not rawblock:
                    break
                self._decompressor = Decompressor(**self._decomp_args)
            elif current.needs_input:
                rawblock = self._raw()
                if not rawblock:
                    if not self._read_bytes:  # an empty file, as gzip reads one
                        break
                    raise current.truncation_error()
            else:
                rawblock = b""
            data = self._decompressor.decompress(rawblock, size)
        if not data:
            self._eof = True
            self._size = self._pos
            return b""
        self._pos += len(data)
        return data

class NczFile(NotPicklable, BaseStream):
    """A file object that compresses what is written to it and decompresses what is read.

    ``filename`` is a path (str, bytes or os.PathLike), opened and closed here, or a binary file
    object, used as it is and left open. ``mode`` is ``"r"``/``"rb"`` (read), ``"w"``/``"wb"``
    (truncate), ``"x"``/``"xb"`` (create; fail if it exists) or ``"a"``/``"ab"`` (append a new
    container after what is there). The compression keywords (see :func:`nczip.compress`) apply
    to writing only and are refused when reading; ``threads`` and ``model`` apply to both.

    Threads may share one: every operation holds the file's lock (as :class:`bz2.BZ2File` does),
    since a write is a compression followed by a write of its frames, and two interleaved would
    put frames out of order (the chunk coders release the GIL), and a read moves a decoder on.
    A reentrant lock, so that an operation may call another (``close`` from ``__exit__``).
    """

    def __init__(self, filename: FileArg, mode: str = "r", *, level: int | None = None,
                 threads: int = 1, chunk_size: int | None = None, model: PathArg | None = None,
                 lanes: int | None = None, components: Iterable[Component] | None = None,
                 tiling: Tiling | None = None) -> None:
        self._fp: IO[bytes] | None = None
        self._closefp = False
        self._mode = _MODE_CLOSED
        self._buffer: io.BufferedReader | None = None
        self._compressor: Compressor | None = None
        self._pos = 0
        self._lock = threading.RLock()
        if mode in ("r", "rb"):
            given = {"level": level, "chunk_size": chunk_size, "lanes": lanes, "components": components,
                     "tiling": tiling}
            unexpected = [name for name, value in given.items() if value is not None]
            if unexpected:
                raise ValueError(f"{', '.join(unexpected)}: compression options, not allowed when reading")
            mode_code = _MODE_READ
        elif mode in ("w", "wb", "a", "ab", "x", "xb"):
            mode_code = _MODE_WRITE
            # Options are checked (and the model found) before a file is created or truncated.
            self._compressor = Compressor(level=DEFAULT_LEVEL if level is None else level, threads=threads,
                                          chunk_size=chunk_size, model=model, lanes=lanes,
                                          components=components, tiling=tiling)
        else:
            raise ValueError(f"invalid mode: {mode!r}")
        if isinstance(filename, (str, bytes, os.PathLike)):
            self._fp = cast(IO[bytes], builtins.open(filename, mode if "b" in mode else mode + "b"))
            self._closefp = True
        elif hasattr(filename, "read") or hasattr(filename, "write"):
            self._fp = filename
        else:
            raise TypeError("filename must be a str, bytes, file or PathLike object")
        self._mode = mode_code
        if mode_code == _MODE_READ:
            self._buffer = io.BufferedReader(_Reader(self._fp, threads, model))

    # The checks _compression.BaseStream makes (restated: typeshed does not declare them).
    def _check_not_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def _check_can_read(self) -> None:
        if not self.readable():
            raise io.UnsupportedOperation("File not open for reading")

    def _check_can_write(self) -> None:
        if not self.writable():
            raise io.UnsupportedOperation("File not open for writing")

    def _check_can_seek(self) -> None:
        if not self.readable():
            raise io.UnsupportedOperation("Seeking is only supported on files open for reading")
        if not self.seekable():
            raise io.UnsupportedOperation("The underlying file object does not support seeking")

    def close(self) -> None:
        """Finish the container (writing) and close the file; calling it again does nothing."""
        with self._lock:
            if self._mode == _MODE_CLOSED:
                return
            try:
                if self._buffer is not None:
                    self._buffer.close()
                elif self._compressor is not None and self._fp is not None:
                    self._fp.write(self._compressor.flush())
            finally:
                try:
                    if self._closefp and self._fp is not None:
                        self._fp.close()
                finally:
                    self._fp = None
                    self._buffer = None
                    self._compressor = None
                    self._closefp = False
                    self._mode = _MODE_CLOSED

    def flush(self) -> None:
        """Nothing to push (a chunk reaches the file when it is complete, the last at
        :meth:`close`: flushing part of one would change the output); ``ValueError`` once closed,
        as for every other operation."""
        with self._lock:
            self._check_not_closed()

    @property
    def closed(self) -> bool:
        """True once the file is closed."""
        return self._mode == _MODE_CLOSED

    def fileno(self) -> int:
        """The file descriptor of the underlying (compressed) file."""
        self._check_not_closed()
        assert self._fp is not None
        return self._fp.fileno()

    def seekable(self) -> bool:
        """Reading a seekable file only: seeking decodes from the start again when it goes back."""
        return self.readable() and self._reading().seekable()

    def readable(self) -> bool:
        self._check_not_closed()
        return self._mode == _MODE_READ

    def writable(self) -> bool:
        self._check_not_closed()
        return self._mode == _MODE_WRITE

    def _reading(self) -> io.BufferedReader:
        self._check_can_read()
        assert self._buffer is not None
        return self._buffer

    def peek(self, size: int = -1) -> bytes:
        """Buffered bytes without moving the position: at least one unless at the end."""
        with self._lock:
            return self._reading().peek(size)

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` decoded bytes (all that is left when negative); ``b""`` at the end."""
        with self._lock:
            return self._reading().read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes with at most one read of the compressed file."""
        with self._lock:
            return self._reading().read1(io.DEFAULT_BUFFER_SIZE if size < 0 else size)

    def readinto(self, buffer: Any) -> int:
        with self._lock:
            return self._reading().readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        """One line, its newline kept; at most ``size`` bytes when that is not negative."""
        with self._lock:
            return self._reading().readline(-1 if size is None else size)

    def write(self, data: Any) -> int:
        """Compress ``data`` (any bytes-like object); return its length in bytes.

        What is written reaches the file a whole chunk at a time, and completely at :meth:`close`.
        """
        with self._lock:
            self._check_can_write()
            assert self._compressor is not None and self._fp is not None
            if isinstance(data, (bytes, bytearray)):
                length = len(data)
            else:
                data = memoryview(data)
                length = data.nbytes
            self._fp.write(self._compressor.compress(data))
            self._pos += length
            return length

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the read position (emulated by decoding: going back decodes from the start)."""
        with self._lock:
            self._check_can_seek()
            return self._reading().seek(offset, whence)

    def tell(self) -> int:
        """The position in the decoded data."""
        with self._lock:
            self._check_not_closed()
            if self._mode == _MODE_READ:
                return self._reading().tell()
            return self._pos


BinaryMode = Literal["r", "rb", "w", "wb", "x", "xb", "a", "ab"]
TextMode = Literal["rt", "wt", "xt", "at"]


@overload
def open(filename: FileArg, mode: BinaryMode = "rb", *, level: int | None = None, threads: int = 1,
         chunk_size: int | None = None, model: PathArg | None = None, lanes: int | None = None,
         components: Iterable[Component] | None = None, tiling: Tiling | None = None,
         encoding: None = None, errors: None = None, newline: None = None) -> NczFile: ...


@overload
def open(filename: FileArg, mode: TextMode, *, level: int | None = None, threads: int = 1,
         chunk_size: int | None = None, model: PathArg | None = None, lanes: int | None = None,
         components: Iterable[Component] | None = None, tiling: Tiling | None = None,
         encoding: str | None = None, errors: str | None = None, newline: str | None = None) -> io.TextIOWrapper: ...


@overload
def open(filename: FileArg, mode: str = "rb", *, level: int | None = None, threads: int = 1,
         chunk_size: int | None = None, model: PathArg | None = None, lanes: int | None = None,
         components: Iterable[Component] | None = None, tiling: Tiling | None = None,
         encoding: str | None = None, errors: str | None = None,
         newline: str | None = None) -> NczFile | io.TextIOWrapper: ...


def open(filename: FileArg, mode: str = "rb", *, level: int | None = None, threads: int = 1,
         chunk_size: int | None = None, model: PathArg | None = None, lanes: int | None = None,
         components: Iterable[Component] | None = None, tiling: Tiling | None = None,
         encoding: str | None = None, errors: str | None = None,
         newline: str | None = None) -> NczFile | io.TextIOWrapper:
    """Open an nczip file in binary mode (an :class:`NczFile`) or text mode (``"rt"``, ``"wt"``,
    ``"xt"``, ``"at"``: that file in an :class:`io.TextIOWrapper` with ``encoding``, ``errors``
    and ``newline``), as :func:`lzma.open` and :func:`gzip.open` do."""
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"invalid mode: {mode!r}")
    else:
        for name, value in (("encoding", encoding), ("errors", errors), ("newline", newline)):
            if value is not None:
                raise ValueError(f"argument {name!r} not supported in binary mode")
    binary = NczFile(filename, mode.replace("t", ""), level=level, threads=threads, chunk_size=chunk_size,
                     model=model, lanes=lanes, components=components, tiling=tiling)
    if "t" in mode:
        return io.TextIOWrapper(cast(BinaryIO, binary), io.text_encoding(encoding), errors, newline)
    return binary
