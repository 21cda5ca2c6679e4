"""nczip: a neural lossless compressor, with the Python API of the standard library's codecs.

As with :mod:`lzma` and :mod:`gzip`::

    import nczip

    packed = nczip.compress(data, level=nczip.LEVEL_FASTEST)
    assert nczip.decompress(packed) == data

    with nczip.open("notes.txt.ncz", "wt", encoding="utf-8") as f:
        f.write("hello\\n")
    with nczip.open("notes.txt.ncz", "rt", encoding="utf-8") as f:
        for line in f:
            ...

Incremental coding goes through :class:`Compressor` and :class:`Decompressor`; any invalid input
raises :class:`FormatError`, an :class:`OSError` (input that ends inside a container raises
:class:`TruncatedError`, an :class:`EOFError` as well, as :mod:`bz2` and :mod:`lzma` do). Levels 1-3 (:data:`FAST_LEVELS`) need no LLM;
levels 4-9 (:data:`LLM_LEVELS`) run one through llama.cpp and are far slower. ``docs/api.md`` has
the details and the command line's exit codes.
"""

from __future__ import annotations

from .api import (FAST_LEVELS, LEVEL_BEST, LEVEL_DEFAULT, LEVEL_FASTEST, LLM_LEVELS, Component, Compressor,
                  Decompressor, Tiling, compress, compress_stream, decompress, decompress_stream)
from .errors import FormatError, NczError, TrailingDataError, TruncatedError
from .levels import DEFAULT_LEVEL, MAX_LEVEL, MIN_LEVEL
from .ncfile import NczFile, open
from .stream import Summary, scan_container

__version__ = "0.1.0"

__all__ = [
    "open", "NczFile", "compress", "decompress", "Compressor", "Decompressor",
    "compress_stream", "decompress_stream", "scan_container", "Summary",
    "Component", "Tiling", "NczError", "FormatError", "TruncatedError", "TrailingDataError",
    "LEVEL_FASTEST", "LEVEL_DEFAULT", "LEVEL_BEST", "DEFAULT_LEVEL", "MIN_LEVEL", "MAX_LEVEL",
    "FAST_LEVELS", "LLM_LEVELS", "__version__",
]
