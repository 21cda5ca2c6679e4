"""Builds nczip's C kernels (nczip/kernels/*.c) into one shared library loaded with ctypes.

It is a plain C library, not a CPython extension (no Python.h, so no python3-dev needed): setuptools
only compiles and links it. -ffp-contract=off forbids fusing a*b+c into an FMA, which some CPUs
would and others would not, so the kernels' floats are the same on every x86-64 and arm64 machine.
-fno-math-errno and -fno-trapping-math change no value (sqrt need not set errno; comparisons may be
if-converted), they only let loops with sqrt and clamps vectorise. Nothing here allows
reassociation (-ffast-math would, and would make sums depend on the vector width).
"""

from pathlib import Path

from setuptools import Extension, setup

# One list of flags for the build and for the test that rebuilds the kernels without AVX2 clones.
CFLAGS = Path("nczip/kernels/cflags.txt").read_text().split()

setup(
    ext_modules=[
        Extension(
            "nczip._kernels",
            sources=["nczip/kernels/ssm.c", "nczip/kernels/dense.c", "nczip/kernels/cm.c",
                     "nczip/kernels/transforms.c"],
            # every header (cm.h, dense.h, ssm.h: the interfaces; nc_math.h): a change rebuilds
            depends=[*map(str, sorted(Path("nczip/kernels").glob("*.h"))), "nczip/kernels/cflags.txt"],
            extra_compile_args=CFLAGS,
        )
    ]
)
