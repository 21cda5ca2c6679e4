"""Chunk methods: how one chunk's bytes become a frame's payload and back.

Each method is one module defining a :class:`~nczip.methods.base.Method` (its frame id, name,
which configurations write it, the bound on what its payload may claim, encoder and decoder) and
one line in :data:`REGISTRY`. Which methods to try for a chunk, and in what order, is
:mod:`nczip.methods.policy`; a registered method that policy does not schedule by name is tried
after the others wherever its :meth:`~nczip.methods.base.Method.writes` says so. Adding a method:
docs/architecture.md.
"""

from __future__ import annotations

from ..config import CodecConfig
from ..errors import FormatError
from .base import Bound, ChunkJob, Method, Runtime
from .bridge import Bridge
from .bytemodel import ByteModel
from .core import Core
from .stored import Stored
from .tokens import Llm, Tokens
from .records import Records
from .x86 import X86
from .zstd import Zstd

#: every method this nczip reads and writes, one instance each
REGISTRY: tuple[Method, ...] = (Stored(), Zstd(), ByteModel(), Llm(), Tokens(), Core(), Bridge(), X86(), Records())
BY_ID: dict[int, Method] = {method.id: method for method in REGISTRY}
assert len(BY_ID) == len(REGISTRY), "two methods share a frame id"
NAMES: dict[int, str] = {method.id: method.name for method in REGISTRY}


def writable(config: CodecConfig) -> frozenset[int]:
    """The ids of the methods an encoder with ``config`` can write."""
    return frozenset(method.id for method in REGISTRY if method.writes(config))


def check_frame(method_id: int, length: int, payload: int, config: CodecConfig, index: int) -> Method:
    """The frame's method, after refusing one this nczip does not know, one its configuration
    never writes, or one claiming more than its bound (before any of its work is done)."""
    method = BY_ID.get(method_id)
    if method is None:
        raise FormatError(f"unsupported chunk method {method_id} in frame {index}")
    if not method.writes(config):
        raise FormatError(f"corrupt chunk {index} (a {method.name} chunk in a file whose configuration "
                          "never writes one)")
    if not method.within(length, payload):
        assert method.bound is not None
        raise FormatError(f"corrupt chunk {index} ({length} bytes claimed from {payload} {method.name} payload "
                          f"bytes; the most is {method.bound.most(payload)})")
    return method


__all__ = ["BY_ID", "NAMES", "REGISTRY", "Bound", "ChunkJob", "Method", "Runtime", "check_frame", "writable"]
