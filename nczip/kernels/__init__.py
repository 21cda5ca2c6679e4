"""ctypes bindings of nczip's C kernels (the .c files beside this one, built by setup.py).

Why ctypes and a plain C library rather than a CPython extension: the kernels take raw pointers
into numpy arrays the Python side owns, the call overhead (~1 µs) is small against the work per
call, and the build needs gcc only, not Python's headers.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
import platform
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import NczError

if TYPE_CHECKING:
    import numpy as np

#: Bumped whenever a kernel's arithmetic changes: it is part of the backend identity in headers.
VERSION = 1

_P = ctypes.c_void_p
_I = ctypes.c_int
_L = ctypes.c_int64
_D = ctypes.c_double
_SIGNATURES = {
    "ssm_record_floats": (_L, [_P]),
    "ssm_layer_floats": (_L, [_P]),
    "ssm_work_floats": (_L, [_P, _I]),
    "ssm_step": (None, [_P, _P, _P, _P, _P, _P]),
    "ssm_log_softmax": (None, [_P, _P, _P, _I, _P, _P]),
    "ssm_backward": (_D, [_P, _I, _I, _P, _P, _P, _P, _P, _P, _L, _P, _P, _P, _P]),
    "ssm_adam": (None, [_P, _P, _P, _P, _L, _D, _D, _D]),
    "ssm_adam_rows": (None, [_P, _P, _P, _I, _P, _P, _I, _D, _D, _D]),
    "nc_dot": (_D, [_P, _P, _L]),
    "nc_softmax": (_D, [_P, _L, _D, _P]),
    "nc_scale_bias": (None, [_P, _L, _D, _P]),
    "nc_bias_update": (None, [_P, _P, _L, _D, _L]),
    "nc_quantize": (_D, [_P, _L, _I, _P, _P]),
}


def _path() -> str:
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = os.path.join(package, "_kernels" + suffix)
        if os.path.isfile(candidate):
            return candidate
    raise NczError("nczip's C kernels are not built (run scripts/setup.sh, or pip install -e .)")


@lru_cache(maxsize=1)
def lib() -> ctypes.CDLL:
    """The loaded kernel library with every function's signature declared."""
    so = ctypes.CDLL(_path())
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(so, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return so


def ptr(array: "np.ndarray") -> int:
    """The address of a C-contiguous array's first element, for a kernel argument."""
    assert array.flags.c_contiguous
    return array.ctypes.data


def backend_identity() -> str:
    """The kernels' floats depend on their source version and IEEE arithmetic only."""
    return f"nczip-kernels/{VERSION} {platform.machine()}"
