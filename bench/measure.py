"""Measure one (input, compressor) pair: size, wall time, peak memory and a byte-exact round trip.

Each direction is one subprocess with its stdin and stdout on files, timed around its whole life
(interpreter start included: that is what a user waits for), its peak RSS taken for that child
alone (never ``RUSAGE_CHILDREN``, the maximum over every child this process has had). A figure is
only reported together with the check that the bytes came back exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .compressors import ROOT, Compressor
from .corpora import BLOCK, Input

OK, FAILED = "OK", "FAILED"


@dataclass
class ProcessRun:
    """What one subprocess took."""

    returncode: int
    seconds: float
    peak_rss_kib: int  # largest resident set of the compressor, see RSS_METHOD
    stderr: str


@dataclass
class Row:
    """Every figure about one (input, compressor) pair; one row of the table and of the JSON."""

    corpus: str
    compressor: str
    input_bytes: int
    input_sha256: str
    source: str
    label: str | None
    slice_bytes: int | None
    compress_argv: list[str]
    decompress_argv: list[str]
    status: str = FAILED
    error: str | None = None
    compressed_bytes: int | None = None
    bits_per_byte: float | None = None
    compress_seconds: float | None = None
    decompress_seconds: float | None = None
    compress_kb_per_s: float | None = None  # KB = 1000 bytes of the original, per wall second
    decompress_kb_per_s: float | None = None
    compress_peak_rss_mib: float | None = None
    decompress_peak_rss_mib: float | None = None
    nczip: dict[str, Any] | None = None
    note: str = ""
    device: str = "cpu"
    finished_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gnu_time() -> str | None:
    """GNU time, if installed: it forks the compressor from its own ~2 MB process image."""
    path = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    if not path:
        return None
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if "GNU" in done.stdout + done.stderr else None


#: Linux carries a process' pre-exec peak RSS over an exec, so a child forked straight from this
#: Python process would report at least this process' size (34 MB for gzip's 1.4 MB). Launched
#: through GNU time (package ``time``), the figure is the compressor's own.
GNU_TIME = _gnu_time()
RSS_METHOD = ("GNU time %M (the compressor's own peak RSS)" if GNU_TIME else
              "os.wait4 ru_maxrss (an upper bound: includes the harness' size at fork; install GNU time)")


def run_process(argv: list[str], stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO) -> ProcessRun:
    """Run ``argv`` to completion in its own process group, killed with all it started on Ctrl-C."""
    with tempfile.NamedTemporaryFile(prefix="nczip-bench-rss-") as rss_file:
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss_file.name, "--", *argv] if GNU_TIME else argv
        started = time.perf_counter()
        process = subprocess.Popen(wrapped, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                   stdout=stdout, stderr=stderr, cwd=ROOT, process_group=0)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss
        if GNU_TIME:
            lines = rss_file.read().decode("ascii", "replace").split()
            peak = int(lines[-1]) if lines and lines[-1].isdigit() else peak
    stderr.seek(0)
    text = stderr.read().decode("utf-8", "replace")
    stderr.seek(0)
    stderr.truncate()
    return ProcessRun(process.returncode, seconds, peak, text)


def first_difference(expected: Path, actual: Path) -> int | None:
    """Offset of the first byte where two files differ (a length difference counts), else ``None``."""
    offset = 0
    with open(expected, "rb") as a, open(actual, "rb") as b:
        while True:
            block_a, block_b = a.read(BLOCK), b.read(BLOCK)
            if block_a != block_b:
                return offset + next((i for i, (x, y) in enumerate(zip(block_a, block_b)) if x != y),
                                     min(len(block_a), len(block_b)))
            if not block_a:
                return None
            offset += len(block_a)


def _nczip_figures(stats_path: Path, packed: Path) -> dict[str, Any]:
    """nczip's own figures (from ``--stats-json``) plus the settings its container records."""
    stats: dict[str, Any] = json.loads(stats_path.read_text())
    ideal, neural = stats.get("ideal_bits") or 0.0, stats.get("neural_bytes") or 0
    original, seconds = stats.get("original_bytes") or 0, stats.get("seconds") or 0.0
    figures = {
        "stats": stats,
        # the model's -sum log2 q over every chunk it was tried on (whichever method won the chunk);
        # chunks that looked incompressible are not tried and add nothing
        "ideal_bytes": ideal / 8.0 if ideal else None,
        "ideal_bits_per_byte": ideal / original if ideal and original else None,
        "coder_overhead_percent": 100.0 * (8.0 * neural / ideal - 1.0) if ideal else None,
        "symbols": stats.get("symbols"),
        "symbols_per_second": stats["symbols"] / seconds if seconds and stats.get("symbols") else None,
        "coding_seconds": seconds,  # nczip's own timing, without interpreter start
        "container": None,
    }
    try:
        from nczip import scan_container

        with open(packed, "rb") as src:
            header = scan_container(src).headers[0]
        figures["container"] = {"level": header.level, "chunk_size": header.chunk_size, "config": header.config}
    except Exception as exc:  # noqa: BLE001 - the settings are informative; the round trip is the check
        figures["container_error"] = repr(exc)
    return figures


def measure(compressor: Compressor, source: Input, workdir: Path, device: str = "cpu") -> Row:
    """Compress ``source`` with ``compressor``, decompress it back, compare; never raises on failure.

    Ctrl-C is the exception: it propagates (after the running child is killed) so the run can stop.
    """
    packed, unpacked, stats = workdir / "packed", workdir / "unpacked", workdir / "stats.json"
    row = Row(corpus=source.name, compressor=compressor.name, input_bytes=source.size, input_sha256=source.sha256,
              source=source.source, label=source.label, slice_bytes=source.slice_bytes,
              compress_argv=compressor.compress_argv(source.path, stats if compressor.is_nczip else None),
              decompress_argv=compressor.decompress_argv(), note=compressor.note, device=device)
    stats.unlink(missing_ok=True)
    try:
        with open(workdir / "stderr", "w+b") as err:
            with open(packed, "wb") as out:
                comp = run_process(row.compress_argv, None, out, err)
            row.compress_seconds = comp.seconds
            row.compress_peak_rss_mib = comp.peak_rss_kib / 1024.0
            if comp.returncode != 0:
                row.error = f"compress exited {comp.returncode}: {_tail(comp.stderr)}"
                return row
            row.compressed_bytes = packed.stat().st_size
            row.bits_per_byte = 8.0 * row.compressed_bytes / source.size if source.size else None
            row.compress_kb_per_s = source.size / 1000.0 / comp.seconds
            if compressor.is_nczip:
                try:
                    row.nczip = _nczip_figures(stats, packed)
                except (OSError, ValueError, KeyError) as exc:
                    row.nczip = {"error": f"no --stats-json figures: {exc}"}
            with open(packed, "rb") as src, open(unpacked, "wb") as out:
                dec = run_process(row.decompress_argv, src, out, err)
            row.decompress_seconds = dec.seconds
            row.decompress_peak_rss_mib = dec.peak_rss_kib / 1024.0
            row.decompress_kb_per_s = source.size / 1000.0 / dec.seconds
            if dec.returncode != 0:
                row.error = f"decompress exited {dec.returncode}: {_tail(dec.stderr)}"
                return row
            where = first_difference(source.path, unpacked)
            if where is not None:
                row.error = (f"round trip differs from the original at byte {where} "
                             f"({unpacked.stat().st_size} bytes back for {source.size})")
                return row
            row.status = OK
            return row
    except OSError as exc:
        row.error = f"{type(exc).__name__}: {exc}"
        return row
    finally:
        row.finished_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        for path in (packed, unpacked, stats):
            path.unlink(missing_ok=True)


def _tail(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "..." + text[-limit:]

