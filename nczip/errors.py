"""Errors shown to the user as one line: ``nczip: FILE: <reason>``."""


class NczError(Exception):
    """Any failure the user should read as a one-line reason (bad input, missing model, ...)."""


class FormatError(NczError):
    """The input is not a valid nczip container (corrupt, truncated, foreign or too new)."""
