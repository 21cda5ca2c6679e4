"""Peak memory grows with chunk size x workers, never with the input (docs/memory.md).

Each run is a fresh ``python -m nczip`` reading stdin; its peak RSS is the largest resident set of
the process or any worker it ran (GNU time's %M), from ``getrusage(RUSAGE_CHILDREN)`` in a small
launcher process. The input is random, so
every chunk is stored after zstd's test and the context-mixing tables (level 1: 144 MiB, the same
for every input) are never allocated: what is left is the streaming path itself (chunks read
ahead, in flight in the workers, and written), which is what could buffer a whole input. A buffered
input shows as a growth of at least the input's growth (28 MiB here); the slack allowed is a third
of that, and each figure is the smallest of two runs (a run's peak can only be raised by noise).
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

MIB = 1 << 20
SMALL, LARGE = 4 * MIB, 32 * MIB
CHUNK_SMALL, CHUNK_LARGE = 256 << 10, 4 * MIB
SLACK = 9 * MIB  # an input held in memory would add >= LARGE - SMALL = 28 MiB

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB, wait4: Linux")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    rng = random.Random(16)
    folder = tmp_path_factory.mktemp("memory")
    data = rng.randbytes(LARGE)
    paths = {}
    for size in (SMALL, LARGE):
        paths[size] = folder / f"in-{size}"
        paths[size].write_bytes(data[:size])
    return paths


# A fresh, small process runs nczip and reports the children's peak: measured from the test process
# itself, the peak would include the test's own resident set, which the child has at its exec.
_LAUNCHER = """
import resource, subprocess, sys
with open(sys.argv[1], "rb") as src:
    done = subprocess.run(sys.argv[2:], stdin=src, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"""


def _peak(args: list[str], stdin: Path) -> int:
    """Bytes of the largest resident set of one ``nczip`` run (or its workers), the least of two runs."""
    peaks = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(stdin), sys.executable, "-m", "nczip", *args],
                              capture_output=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        peaks.append(int(done.stdout) * 1024)  # Linux: KiB
    return min(peaks)


_peaks: dict[tuple[int, int, int], int] = {}


def _compress(size: int, chunk: int, workers: int, inputs: dict[int, Path]) -> int:
    key = (size, chunk, workers)
    if key not in _peaks:
        _peaks[key] = _peak(["-1", "-c", "-T", str(workers), "--chunk-size", str(chunk)], inputs[size])
    return _peaks[key]


@pytest.mark.parametrize("workers", [1, 2])
def test_compress_peak_does_not_grow_with_input(inputs: dict[int, Path], workers: int) -> None:
    small = _compress(SMALL, CHUNK_SMALL, workers, inputs)
    large = _compress(LARGE, CHUNK_SMALL, workers, inputs)
    assert large - small < SLACK, (small / MIB, large / MIB)


def test_compress_peak_grows_with_chunk_size_times_workers(inputs: dict[int, Path]) -> None:
    growth = {workers: _compress(LARGE, CHUNK_LARGE, workers, inputs) - _compress(LARGE, CHUNK_SMALL, workers, inputs)
              for workers in (1, 2)}
    shown = {workers: round(g / MIB, 1) for workers, g in growth.items()}
    step = CHUNK_LARGE - CHUNK_SMALL
    for workers, g in growth.items():
        # Larger chunks: at least one whole chunk more is held, and at most a few per worker.
        assert step <= g <= 10 * workers * CHUNK_LARGE, shown
    # A second worker holds chunks of its own (and the parent keeps more in flight for it).
    assert growth[2] >= growth[1] + step, shown


def test_decompress_peak_does_not_grow_with_input(inputs: dict[int, Path], tmp_path: Path) -> None:
    peaks = {}
    for size in (SMALL, LARGE):
        packed = tmp_path / f"{size}.ncz"
        with open(inputs[size], "rb") as src, open(packed, "wb") as dst:
            subprocess.run([sys.executable, "-m", "nczip", "-1", "-c", "--chunk-size", str(CHUNK_SMALL)],
                           stdin=src, stdout=dst, check=True, cwd=ROOT)
        peaks[size] = _peak(["-d", "-c", "-T", "2"], packed)
    assert peaks[LARGE] - peaks[SMALL] < SLACK, {k // MIB: v / MIB for k, v in peaks.items()}
