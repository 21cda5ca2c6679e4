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
#: 2: the LLM's log-softmax, exp/log of arrays and the SSM's Gaussian initialisation moved here.
VERSION = 2
# (cm.c, the context-mixing core, is versioned by its own arithmetic name, cm/1: nczip.config.)

# The C interface, declared in the headers beside the sources (cm.h, dense.h, ssm.h) and bound here
# by name, return type and argument types; tests/test_kernel_interface.py checks the two agree
# and that the library exports nothing else.
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
    "nc_log_softmax_f32": (_D, [_P, _L, _P, _P]),
    "nc_exp_array": (None, [_P, _L, _P]),
    "nc_log_array": (None, [_P, _L, _P]),
    "nc_exp_scalar": (_D, [_D]),
    "nc_log_scalar": (_D, [_D]),
    "nc_polar_gauss": (_L, [_P, _L, _P, _L, _P]),
    "cm_new": (_P, [_P]),
    "cm_free": (None, [_P]),
    "cm_memory": (_L, [_P]),
    "cm_encode": (_L, [_P, _P, _L, _L, _P, _L]),
    "cm_finish": (_L, [_P]),
    "cm_decode": (_I, [_P, _P, _L, _P, _L, _L]),
    "cm_states": (_I, [_P, _P, _P]),
    "cm_squash_table": (None, [_P, _P]),
    "cm_code_bits": (_L, [_P, _P, _L, _P, _L]),
    "cm_code_byte": (_I, [_P, _P, _L, _P]),
    "cm_code_event": (_I, [_P, _I, _I]),
    "cm_ideal_bits": (_D, [_P]),
    "cm_set_output": (None, [_P, _P, _L]),
    "cm_set_input": (None, [_P, _P, _L]),
    "nc_x86_count": (_L, [_P, _L]),
    "nc_x86_forward": (None, [_P, _L]),
    "nc_x86_inverse": (None, [_P, _L]),
}


def _path() -> str:
    # For tests: another build of the same sources (the baseline-only one, tests/test_vectors.py).
    override = os.environ.get("NCZIP_KERNELS_LIBRARY")
    if override:
        return override
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


def _unary(name: str, x: "np.ndarray | float") -> "np.ndarray":
    import numpy as np

    src = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(src)
    getattr(lib(), name)(ptr(src), src.size, ptr(out))
    return out


def exp(x: "np.ndarray | float") -> "np.ndarray":
    """Element-wise exp with the kernels' own arithmetic (the same bits on every CPU; numpy's
    and libm's exp are not): a float64 array of x's shape."""
    return _unary("nc_exp_array", x)


def log(x: "np.ndarray | float") -> "np.ndarray":
    """Element-wise natural log with the kernels' own arithmetic (see :func:`exp`)."""
    return _unary("nc_log_array", x)


def exp1(x: float) -> float:
    """exp of one float with the kernels' own arithmetic (see :func:`exp`)."""
    return float(lib().nc_exp_scalar(x))


def log1(x: float) -> float:
    """log of one float with the kernels' own arithmetic (see :func:`exp`)."""
    return float(lib().nc_log_scalar(x))


def standard_normal(rng: "np.random.RandomState", size: int) -> "np.ndarray":
    """``size`` standard normal deviates from ``rng``'s uniforms by the polar method in C.

    numpy's own ``standard_normal`` calls libm's log, whose last bit may differ between CPUs and C
    libraries; the uniforms (``random_sample``: integer bits scaled by 2^-53) do not."""
    import numpy as np

    out = np.empty(size, dtype=np.float64)
    filled = 0
    left = np.empty(0)
    got = ctypes.c_int64(0)
    while filled < size:
        # 4/pi uniform pairs per accepted pair, plus a margin
        u = np.concatenate([left, rng.random_sample(2 * ((size - filled) * 2 // 3 + 8))])
        used = lib().nc_polar_gauss(ptr(u), u.size, ptr(out[filled:]), size - filled, ctypes.addressof(got))
        filled += got.value
        left = u[used:]
    return out


def architecture() -> str:
    """The machine architecture, as recorded beside the kernels' version (x86_64, aarch64)."""
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
