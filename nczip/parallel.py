"""Chunk scheduling over worker processes, in order, with a bounded number of chunks in flight.

Chunks are independent, so the result never depends on the worker count; only memory and speed
do. At most ``2 * workers`` chunks are read ahead, which is what bounds memory by chunk size x
workers instead of by file size (``Pool.imap`` would drain the whole input into its queue).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def resolve_workers(threads: int) -> int:
    """``-T 0`` means one worker per CPU, as in zstd and xz."""
    if threads < 0:
        raise ValueError("the number of threads cannot be negative")
    return threads or (os.cpu_count() or 1)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """Yield ``fn(item)`` for each item in input order, computed by up to ``workers`` processes.

    With one worker everything runs in this process (no pickling, and progress callbacks work).
    """
    if workers <= 1:
        for item in items:
            yield fn(item)
        return
    context = multiprocessing.get_context("spawn" if os.environ.get("NCZIP_SPAWN") else "fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
