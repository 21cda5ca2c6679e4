"""How long a run will take, from a quick calibration on this machine, now.

Each compressor is measured (both directions, round trip checked) on two prefixes of the largest
input, which gives a fixed cost (interpreter start, table allocation) and a cost per byte; a job's
estimate is the fixed cost plus its bytes at that rate, divided for nczip by the workers its chunks
can keep busy. It is a forecast for the progress display, not a result: nothing of it goes in the table.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .compressors import Compressor, nczip_chunk_size
from .corpora import Input, take_slice
from .measure import OK, measure

#: prefix sizes measured per compressor: nczip codes tens of KB/s, the classical tools MB/s
NCZIP_SAMPLES = (8_000, 32_000)
CLASSICAL_SAMPLES = (64_000, 512_000)


@dataclass(frozen=True)
class Cost:
    """Seconds for compress + decompress of ``n`` bytes: ``fixed + per_byte * n / parallel``."""

    fixed: float
    per_byte: float
    chunk_size: int | None = None  # nczip: bytes per chunk, to know how many workers can help
    workers: int = 1

    def seconds(self, n: int) -> float:
        parallel = 1
        if self.chunk_size and self.workers > 1:
            parallel = max(1, min(self.workers, math.ceil(n / self.chunk_size), os.cpu_count() or 1))
        return self.fixed + self.per_byte * n / parallel


def calibrate(compressors: list[Compressor], sample: Input, workdir: Path, threads: int,
              say: Callable[[str], None] = lambda _: None) -> dict[str, Cost]:
    """A :class:`Cost` per compressor name; a compressor that fails here gets none (and a warning)."""
    costs: dict[str, Cost] = {}
    for compressor in compressors:
        sizes = NCZIP_SAMPLES if compressor.is_nczip else CLASSICAL_SAMPLES
        points: list[tuple[int, float]] = []
        for size in sorted({min(size, sample.size) for size in sizes}):
            part = take_slice(sample, size, workdir)
            row = measure(compressor, part, workdir)
            if row.status != OK:
                say(f"calibration: {compressor.name} failed on {part.name}: {row.error}")
                points = []
                break
            points.append((size, (row.compress_seconds or 0.0) + (row.decompress_seconds or 0.0)))
        if not points:
            continue
        (a, ta), (b, tb) = points[0], points[-1]
        per_byte = (tb - ta) / (b - a) if b > a else tb / b
        per_byte = max(per_byte, 0.0)
        fixed = max(ta - per_byte * a, 0.0) if b > a else 0.0
        workers = threads or (os.cpu_count() or 1)
        chunk = nczip_chunk_size(compressor.nczip_args) if compressor.is_nczip else None
        costs[compressor.name] = Cost(fixed, per_byte, chunk, workers)
    return costs


def job_seconds(costs: dict[str, Cost], compressor: Compressor, size: int) -> float | None:
    cost = costs.get(compressor.name)
    return cost.seconds(size) if cost else None


def human_seconds(seconds: float) -> str:
    """``75`` -> ``1:15``, ``4000`` -> ``1:06:40``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
