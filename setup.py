"""Builds nczip's C kernels (nczip/kernels/*.c) into one shared library loaded with ctypes.

It is a plain C library, not a CPython extension (no Python.h, so no python3-dev needed): setuptools
only compiles and links it. -ffp-contract=off forbids fusing a*b+c into an FMA, which some CPUs
would and others would not, so the kernels' floats are the same on every x86-64 and arm64 machine.
-fno-math-errno and -fno-trapping-math change no value (sqrt need not set errno; comparisons may be
if-converted), they only let loops with sqrt and clamps vectorise. Nothing here allows
reassociation (-ffast-math would, and would make sums depend on the vector width).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "nczip._kernels",
            sources=["nczip/kernels/ssm.c", "nczip/kernels/dense.c"],
            depends=["nczip/kernels/nc_math.h"],
            extra_compile_args=["-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
        )
    ]
)
