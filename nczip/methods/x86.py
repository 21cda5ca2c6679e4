"""Method 7: the context-mixing core over x86 code with its call and jump addresses made
absolute (nczip/kernels/transforms.c: the E8/E9 transform), for executables, libraries and the
code inside archives.

A relative CALL/JMP offset differs at every call site of the same function; the absolute target
repeats, so the core's contexts and match model predict it. The transform is tried only on
chunks with at least one candidate (E8 or E9 followed by an offset whose top byte is 00 or FF)
per :data:`MIN_DENSITY` bytes, the density of x86 code (text has next to none), and kept only
where it codes smaller than the core alone (:mod:`nczip.methods.policy` keeps the smallest
payload), so a wrong guess costs the time of one more core pass and never a byte.
"""

from __future__ import annotations

import ctypes

from .. import kernels
from ..config import CodecConfig
from ..predictors import cm
from .base import ChunkJob, Method
from .core import Core

METHOD_X86 = 7
#: candidates per byte below which a chunk is not taken for x86 code: counted on this project's
#: inputs (docs/cm.md): ooffice (x86) 1 per 35 bytes; kennedy.xls 1 per 2,258, sum (SPARC code)
#: 1 per 6,373; dickens, xml, nci, alice29, enwik8 none, reymont 2 in 6.6 MB
MIN_DENSITY = 1 / 400


def transformed(data: bytes, forward: bool) -> bytes:
    """``data`` with its x86 call/jump offsets made absolute (``forward``) or relative again."""
    lib = kernels.lib()
    buffer = ctypes.create_string_buffer(data, len(data))
    (lib.nc_x86_forward if forward else lib.nc_x86_inverse)(buffer, len(data))
    return buffer.raw[:len(data)]


def looks_like_x86(data: bytes) -> bool:
    """Enough E8/E9 candidates for the transform to be worth a core pass."""
    return kernels.lib().nc_x86_count(data, len(data)) >= MIN_DENSITY * len(data) > 0


class X86(Method):
    id = METHOD_X86
    name = "cm-x86"
    bound = Core.bound  # the core codes the transformed bytes

    def writes(self, config: CodecConfig) -> bool:
        return config.cm is not None

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        if not looks_like_x86(data):
            return None
        assert job.config.cm is not None
        return cm.encode(transformed(data, True), job.config.cm)

    def decode(self, payload: bytes, length: int, job: ChunkJob) -> bytes:
        assert job.config.cm is not None  # writes(): only configurations with the core have its frames
        return transformed(cm.decode(payload, length, job.config.cm, job.progress), False)
