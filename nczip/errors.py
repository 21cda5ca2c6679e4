"""Errors shown to the user as one line: ``nczip: FILE: <reason>``."""


class NczError(Exception):
    """Any failure the user should read as a one-line reason (bad input, missing model, ...)."""


class FormatError(NczError, OSError):
    """The input is not a valid nczip container (corrupt, truncated, foreign or too new).

    An :class:`OSError` as well, like :class:`lzma.LZMAError`'s neighbour :class:`gzip.BadGzipFile`,
    so code written for the standard library's file objects (``except OSError``) handles a bad
    ``.ncz`` file too; still an :class:`NczError`, so ``except NczError`` keeps catching it.
    It is raised with a single argument, so ``str(exc)`` is the reason and ``exc.errno`` is None.
    """


class TruncatedError(FormatError, EOFError):
    """The input ended inside a container (a cut download, a partial copy).

    An :class:`EOFError` as well, as the standard library's file objects raise when a
    compressed file ends before its end-of-stream marker (:mod:`bz2`, :mod:`lzma`, :mod:`gzip`),
    so ``except EOFError`` code written for them catches it; still a :class:`FormatError`.
    """


class TrailingDataError(FormatError):
    """Bytes after the last container that are neither another container nor zero padding
    (:func:`nczip.decompress` and ``nczip -d`` skip zero padding, as :mod:`gzip` does)."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"trailing garbage at byte {offset} (neither an nczip container nor zero padding)")
        self.offset = offset
