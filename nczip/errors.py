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
