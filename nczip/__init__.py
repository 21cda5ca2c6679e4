"""nczip: a neural lossless compressor.

The Python API mirrors :mod:`gzip`/:mod:`lzma`: :func:`compress` and :func:`decompress` work on
bytes, :func:`compress_stream` and :func:`decompress_stream` on binary file objects.
"""

from __future__ import annotations

import io

from .errors import FormatError, NczError
from .levels import DEFAULT_LEVEL
from .stream import Summary, compress_stream, decompress_stream, scan_container

__version__ = "0.1.0"

__all__ = ["compress", "decompress", "compress_stream", "decompress_stream", "scan_container",
           "NczError", "FormatError", "Summary", "__version__"]


def compress(data: bytes, level: int = DEFAULT_LEVEL, threads: int = 1, chunk_size: int | None = None) -> bytes:
    """Return ``data`` as a complete nczip container."""
    out = io.BytesIO()
    compress_stream(io.BytesIO(data), out, level=level, threads=threads, chunk_size=chunk_size)
    return out.getvalue()


def decompress(data: bytes, threads: int = 1) -> bytes:
    """Decode a container (or several concatenated) and verify every checksum."""
    out = io.BytesIO()
    decompress_stream(io.BytesIO(data), out, threads=threads)
    return out.getvalue()
