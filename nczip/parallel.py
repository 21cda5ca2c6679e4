"""Chunk scheduling over worker processes, in order, with a bounded number of chunks in flight.

Chunks are independent, so the result never depends on the worker count; only memory and speed
do. At most ``2 * workers`` chunks are read ahead, which is what bounds memory by chunk size x
workers instead of by file size (``Pool.imap`` would drain the whole input into its queue).
Workers never outlive the run: they die with the parent process, and any early exit (an error,
a signal) kills them instead of waiting for their chunks; a worker that dies ends the run with an
error, never a hang.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator, TypeVar

from .errors import NczError

T = TypeVar("T")
R = TypeVar("R")


def resolve_workers(threads: int) -> int:
    """``-T 0`` means one worker per CPU, as in zstd and xz."""
    if threads < 0:
        raise ValueError("the number of threads cannot be negative")
    return threads or (os.cpu_count() or 1)


_PR_SET_PDEATHSIG = 1


def _worker_init(parent: int) -> None:
    """Workers die with nczip: the kernel sends SIGKILL when the parent exits, however it exits
    (Linux), and Ctrl-C is left to the parent, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (AttributeError, OSError):  # not Linux: the parent still kills its workers on any exit
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Kill the workers now: a chunk in progress can take minutes, and nobody wants it."""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """Yield ``fn(item)`` for each item in input order, computed by up to ``workers`` processes.

    With one worker everything runs in this process (no pickling, and progress callbacks work).
    """
    if workers <= 1:
        for item in items:
            result = fn(item)
            del item  # neither is held while the next item is read (docs/memory.md)
            yield result
            del result
        return
    context = multiprocessing.get_context("spawn" if os.environ.get("NCZIP_SPAWN") else "fork")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                               initargs=(os.getpid(),))
    pending: deque[Future[R]] = deque()
    finished = False
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        finished = True
    except BrokenProcessPool:
        raise NczError("a worker process died (killed, or out of memory)") from None
    finally:
        # An error, a signal (nczip.outputs.Interrupted) or a consumer that stopped early: kill.
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop(pool)
