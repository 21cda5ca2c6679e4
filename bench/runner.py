"""Running the planned jobs one after another, with progress, and stopping cleanly on Ctrl-C.

Jobs run strictly one at a time: two compressors running side by side would slow each other down and
make the speed figures meaningless (the machine is shared and noisy enough already). Every finished
row is handed to ``on_row`` at once (which writes the JSON), so Ctrl-C, or even a kill, loses at most
the row that was running.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from .compressors import Compressor
from .corpora import Input
from .estimate import human_seconds
from .measure import OK, Row, measure


@dataclass
class Job:
    source: Input
    compressor: Compressor
    estimate: float | None = None  # seconds, from the calibration


def run_jobs(jobs: list[Job], workdir: Path, device: str, on_row: Callable[[Row], None],
             out: TextIO = sys.stderr) -> bool:
    """Run every job; return True when Ctrl-C stopped the run early (finished rows are kept)."""
    started = time.monotonic()
    spent_estimated = spent_actual = 0.0
    width_corpus = max((len(job.source.name) for job in jobs), default=0)
    width_compressor = max((len(job.compressor.name) for job in jobs), default=0)
    for number, job in enumerate(jobs, 1):
        head = (f"[{number:>{len(str(len(jobs)))}}/{len(jobs)}] {job.source.name:<{width_corpus}}  "
                f"{job.compressor.name:<{width_compressor}}  ")
        hint = f"(~{human_seconds(job.estimate)}) " if job.estimate and job.estimate >= 10 else ""
        out.write(head + hint)
        out.flush()
        job_started = time.monotonic()
        try:
            row = measure(job.compressor, job.source, workdir, device)
        except KeyboardInterrupt:
            out.write("interrupted\n")
            out.flush()
            return True
        took = time.monotonic() - job_started
        on_row(row)
        if job.estimate:
            spent_estimated += job.estimate
            spent_actual += took
        left = _remaining(jobs[number:], spent_actual / spent_estimated if spent_estimated else 1.0)
        verdict = OK if row.status == OK else f"FAILED: {row.error}"
        figures = (f"{row.bits_per_byte:.4f} bpb  c {row.compress_seconds:6.1f} s  d {row.decompress_seconds:6.1f} s"
                   if row.bits_per_byte is not None and row.decompress_seconds is not None else "")
        elapsed = human_seconds(time.monotonic() - started)
        out.write(f"{figures}  {verdict}   {elapsed} elapsed" + (f", ~{human_seconds(left)} left" if left else "") + "\n")
        out.flush()
    return False


def _remaining(jobs: list[Job], correction: float) -> float | None:
    """Estimated seconds for ``jobs``, scaled by how the estimates have fared so far."""
    known = [job.estimate for job in jobs if job.estimate is not None]
    return sum(known) * correction if known else None
