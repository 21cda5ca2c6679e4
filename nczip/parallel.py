"""Chunk scheduling over worker processes, in order, with a bounded number of chunks in flight.

Chunks are independent, so the result never depends on the worker count; only memory and speed
do. At most ``2 * workers`` chunks are read ahead, which is what bounds memory by chunk size x
workers instead of by file size (``Pool.imap`` would drain the whole input into its queue).
Workers never outlive the run: they die with the parent process, and any early exit (an error,
a signal) kills them instead of waiting for their chunks; a worker that dies ends the run with an
error, never a hang.

The worker count is bounded twice, because a fork costs memory whether or not the worker ever
gets a chunk (``-T 100000`` once set off the OOM killer): :func:`resolve_workers` caps it at the
CPUs this process may run on, and :func:`ordered_map` starts no more processes than there are
items (a one-chunk input runs in this process, with no pool at all).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice
from typing import Callable, Iterable, Iterator, TypeVar

from .errors import NczError

T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which a container or ``taskset`` may
    narrow below ``os.cpu_count()``); more workers than that only add processes that wait."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def resolve_workers(threads: int) -> int:
    """The worker processes to use for ``-T threads``: ``0`` means one per usable CPU, as in zstd
    and xz, and any larger request is capped at that many (the output does not depend on it)."""
    if threads < 0:
        raise ValueError("the number of threads cannot be negative")
    cpus = usable_cpus()
    return min(threads, cpus) if threads else cpus


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


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int, cluster: str | None = None) -> Iterator[R]:
    """Yield ``fn(item)`` for each item in input order, computed by up to ``workers`` processes.

    At most ``min(workers, number of items)`` processes are started: the first ``workers`` items
    are read before the pool is made (within the ``2 * workers`` bound), so a short input never
    forks workers that would have nothing to do. With one worker, or one item, everything runs in
    this process (no pickling, and progress callbacks work). With a ``cluster`` address the items
    go to workers on that Ray cluster instead (:mod:`nczip.cluster`; ``workers`` is then unused).
    """
    for results in ordered_stream(fn, None, items, workers, cluster):
        yield from results


def ordered_stream(fn: Callable[[T], R], local: Callable[[T], Iterator[R]] | None, items: Iterable[T],
                   workers: int, cluster: str | None = None) -> Iterator[Iterator[R]]:
    """For each item in input order, an iterator over its results: ``local(item)``'s pieces for
    items run in this process, ``fn(item)`` alone for items run by a worker (as in
    :func:`ordered_map`, whose rules on processes this follows). With a ``local`` and several
    workers, this process is one of them: it runs every ``workers``-th item itself, the first
    included, while ``workers - 1`` processes run the others, so the first pieces come without
    waiting for a whole item (the first bytes of a decoded file) and exactly ``workers``
    processes work (measured on a 100 MB file in six chunks, -T 2: running the first item here
    beside two workers cost 14 %; this way, none). Each iterator must be used up before the next
    one is taken."""
    if cluster is not None:
        from .cluster import ordered_map as on_cluster

        yield from (iter((result,)) for result in on_cluster(fn, items, cluster))
        return
    here: Callable[[T], Iterator[R]] = local if local is not None else (lambda item: iter((fn(item),)))
    source = iter(items)
    if workers <= 1:
        yield from _in_process(here, source)
        return
    first = list(islice(source, workers))
    count = len(first)
    ahead = chain(first, source)
    del first  # the chain alone holds them, until each is handed on
    if count <= 1:
        yield from _in_process(here, ahead)
    elif local is None:
        yield from _in_pool(fn, ahead, count, here, 0)
    else:
        yield from _in_pool(fn, ahead, count - 1, here, count)


def _in_process(here: Callable[[T], Iterator[R]], items: Iterator[T]) -> Iterator[Iterator[R]]:
    """``here`` over ``items`` in this process, holding one item at a time."""
    for item in items:
        results = here(item)
        del item  # neither is held while the next item is read (docs/memory.md)
        yield results
        del results


def _in_pool(fn: Callable[[T], R], items: Iterator[T], workers: int, here: Callable[[T], Iterator[R]],
             share: int) -> Iterator[Iterator[R]]:
    """``fn`` over ``items`` in ``workers`` processes, at most ``2 * workers`` items in flight;
    with ``share``, every ``share``-th item (the first included) runs here by ``here`` instead,
    once the workers have the items after it."""
    context = multiprocessing.get_context("spawn" if os.environ.get("NCZIP_SPAWN") else "fork")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                               initargs=(os.getpid(),))
    window: deque[tuple[list[T], Future[R] | None]] = deque()  # (the item, for here) or its future
    taken = 0
    finished = False

    def fill() -> None:
        nonlocal taken
        for item in islice(items, max(0, 2 * max(workers, share) - len(window))):
            if share and taken % share == 0:
                window.append(([item], None))
            else:
                window.append(([], pool.submit(fn, item)))
            taken += 1

    try:
        fill()
        while window:
            held, future = window.popleft()
            fill()  # the workers get what follows before this process works on its own item
            yield here(held.pop()) if future is None else iter((future.result(),))
        finished = True
    except BrokenProcessPool:
        raise NczError("a worker process died (killed, or out of memory)") from None
    finally:
        # An error, a signal (nczip.outputs.Interrupted) or a consumer that stopped early: kill.
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop(pool)
