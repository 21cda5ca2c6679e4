"""A one-line progress display on stderr (bytes done, rate, ETA), only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class ProgressLine:
    """Redraws at most twice a second; silent unless ``enabled`` (stderr is a terminal, no -q)."""

    def __init__(self, label: str, total: int | None, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self._partial = 0
        self._start = time.monotonic()
        self._last = 0.0

    def advance(self, nbytes: int) -> None:
        """A chunk of ``nbytes`` original bytes is finished."""
        self.done += nbytes
        self._partial = 0
        self._draw()

    def partial(self, nbytes: int) -> None:
        """Bytes done inside the chunk being coded in this process."""
        self._partial = nbytes
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.5:
            return
        self._last = now
        done = self.done + self._partial
        rate = done / max(now - self._start, 1e-9)
        text = f"{self.label}: {human_bytes(done)}"
        if self.total:
            text += f" / {human_bytes(self.total)} ({100 * done / self.total:.0f}%)"
        text += f"  {human_bytes(rate)}/s"
        if self.total and rate > 0 and done < self.total:
            eta = int((self.total - done) / rate)
            text += f"  ETA {eta // 3600}:{eta // 60 % 60:02d}:{eta % 60:02d}"
        self.stream.write("\r" + text[:120].ljust(79) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
