"""Every stored container decodes to its original forever (formats/vectors/), on every machine.

The vectors were made on machines with different CPUs (formats/vectors/MADE_ON.md), and their
SHA-256 sums are pinned (formats/vectors/SHA256SUMS), so a vector can be added but never changed:
decoding all of them here is the cross-machine determinism test. They are decoded once more with
numpy's SIMD dispatch switched off and with the baseline-only (no AVX2 clones) build of nczip's
kernels: neither may change a single bit of any model's floats.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nczip
from nczip import kernels
from nczip.errors import FormatError

DIR = Path(__file__).resolve().parent.parent / "formats" / "vectors"
VECTORS = sorted(DIR.glob("*.ncz"))
_NOT_VECTORS = ("SHA256SUMS", "MADE_ON.md")


def _pinned() -> dict[str, str]:
    out = {}
    for line in (DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert name not in out, f"{name} is listed twice"
        out[name] = digest
    return out


def test_vectors_exist_for_every_method():
    names = {v.stem for v in VECTORS}
    assert len(VECTORS) >= 20
    for needed in ("v1-k2-level1", "v1-k2-level2", "v1-k2-level3", "v1-k2-level4", "v1-k2-level4-skip",
                   "v1-k2-level4-fibonacci", "v1-k2-level1-quantizer1", "v1-dict1-level1", "v1-cm-x86-level3",
                   "v1-cm-record-level1"):
        assert needed in names


def test_every_vector_file_is_pinned_by_its_sha256():
    pinned = _pinned()
    present = {p.name for p in DIR.iterdir() if p.is_file() and p.name not in _NOT_VECTORS}
    assert present == set(pinned), "a vector file was added without its sum, or removed"
    for name, digest in pinned.items():
        assert hashlib.sha256((DIR / name).read_bytes()).hexdigest() == digest, f"{name} was changed"


@pytest.mark.parametrize("vector", VECTORS, ids=[v.stem for v in VECTORS])
def test_vector_decodes_to_its_original(vector: Path):
    refused = vector.with_suffix(".refused")
    if refused.exists():
        with pytest.raises(FormatError, match=refused.read_text()):
            nczip.decompress(vector.read_bytes())
    else:
        assert nczip.decompress(vector.read_bytes()) == vector.with_suffix("").read_bytes()


_DECODE_ALL = """
import sys
from pathlib import Path
import numpy
import nczip
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
on = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
assert not on, f"numpy dispatch still on: {on}"
for vector in sorted(Path(sys.argv[1]).glob("*.ncz")):
    if vector.with_suffix(".refused").exists():
        continue
    assert nczip.decompress(vector.read_bytes()) == vector.with_suffix("").read_bytes(), vector.name
print("decoded", len(list(Path(sys.argv[1]).glob("*.ncz"))))
"""


def test_vectors_decode_without_numpy_simd_and_with_baseline_kernels(tmp_path):
    """numpy's dispatch restricted to its baseline and nczip's kernels built without AVX2 clones:
    the files made with AVX-512 numpy and AVX2 kernels decode bit-exactly all the same."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc")
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    source = Path(kernels.__file__).parent
    library = tmp_path / "baseline.so"
    flags = (source / "cflags.txt").read_text().split()
    subprocess.run([gcc, *flags, "-DNC_BASELINE_ONLY", "-shared", "-fPIC",
                    *map(str, sorted(source.glob("*.c"))), "-o", str(library)], check=True)
    disable = " ".join(name for name in __cpu_dispatch__ if __cpu_features__.get(name))
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": disable, "NCZIP_KERNELS_LIBRARY": str(library)}
    run = subprocess.run([sys.executable, "-c", _DECODE_ALL, str(DIR)], capture_output=True, text=True, env=env,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("decoded")
