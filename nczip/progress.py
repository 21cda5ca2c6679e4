"""A one-line progress display on stderr: bytes done, rate, ETA, chunks done, workers; only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def human_bytes(n: float) -> str:
    """``n`` bytes with a binary unit, as people read sizes (``1.5 MiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def clock(seconds: float) -> str:
    """A duration as ``H:MM:SS`` (an LLM level can take hours)."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class ProgressLine:
    """Redraws at most twice a second; silent unless ``enabled`` (stderr is a terminal, no -q).

    ``total`` is the original size when known (a regular file; for decoding, read from the
    container's trailer), ``chunks`` the number of chunks it makes and ``workers`` the processes
    coding them: with several, progress moves a chunk at a time, so the chunk count is what shows
    movement on a slow level.
    """

    def __init__(self, label: str, total: int | None, enabled: bool, stream: TextIO | None = None,
                 chunks: int | None = None, workers: int = 1) -> None:
        self.label = label
        self.total = total
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.chunks = chunks
        self.workers = workers
        self.done = 0
        self.chunks_done = 0
        self._partial = 0
        self._start = time.monotonic()
        self._last = 0.0

    def advance(self, nbytes: int) -> None:
        """A chunk of ``nbytes`` original bytes is finished."""
        self.done += nbytes
        self.chunks_done += 1
        self._partial = 0
        self._draw()

    def partial(self, nbytes: int) -> None:
        """Bytes done inside the chunk being coded in this process."""
        self._partial = nbytes
        self._draw()

    def text(self, now: float | None = None) -> str:
        """The line as drawn at ``now`` (monotonic seconds)."""
        now = time.monotonic() if now is None else now
        done = self.done + self._partial
        rate = done / max(now - self._start, 1e-9)
        text = f"{self.label}: {human_bytes(done)}"
        if self.total:
            text += f" / {human_bytes(self.total)} ({100 * min(done, self.total) / self.total:.0f}%)"
        text += f"  {human_bytes(rate)}/s"
        if self.total and rate > 0 and done < self.total:
            text += f"  ETA {clock((self.total - done) / rate)}"
        text += f"  chunk {self.chunks_done}/{self.chunks}" if self.chunks else f"  {self.chunks_done} chunks"
        if self.workers > 1:
            text += f"  {self.workers} workers"
        return text

    def _draw(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.5:
            return
        self._last = now
        self.stream.write("\r" + self.text(now)[:120].ljust(79) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """Erase the line (the terminal is left as it was)."""
        if self.enabled and self._last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
