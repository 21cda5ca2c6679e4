"""Chunks on a Ray cluster (``--cluster ADDRESS``, or ``NCZIP_CLUSTER``).

nczip's chunks are independent and their coding is deterministic, so a cluster changes where
they are coded, never what is written: the driver (the ``nczip`` process) reads and cuts the
input, keeps at most ``2 x workers`` chunks in flight (memory bounded whatever the input's size),
and writes results in input order as they complete, exactly as :func:`nczip.parallel.ordered_map`
does with local processes. Ray (https://docs.ray.io) does the rest, which is why it is used and
not a home-made scheduler: placing work on nodes, moving chunks through its object store,
restarting a worker process that dies and retrying its chunk (the output is still identical), and
tearing everything down with the driver.

Each worker is a long-lived Ray actor reserving one CPU (and one GPU where the job asks for one),
so a model is loaded once per worker, not once per chunk (the LLM takes seconds to load). Every
node needs the same nczip and, for levels 4-9, the same model file (``docs/cluster.md``).

``ADDRESS`` is what :func:`ray.init` takes: ``auto`` (the cluster this machine belongs to,
started with ``ray start``), ``ray://host:port``, ``host:port``; or ``local``, a private cluster of
this machine's CPUs started for the run (for trying it out, and for the bench's comparison).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .errors import NczError

T = TypeVar("T")
R = TypeVar("R")

#: how a user gets Ray (the ``cluster`` extra)
INSTALL = "pip install 'ray==2.60.0' (in nczip's source tree: pip install -e '.[cluster]')"
#: how often a worker is restarted, and a chunk retried, before the run fails
RETRIES = 3
#: set while a run stops its workers (see _keep_stdout_clean)
_ending = False


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise NczError(f"--cluster needs Ray, which is not installed: {INSTALL}") from None
    return ray


def _keep_stdout_clean() -> None:
    """Send the messages Ray's driver prints about the cluster (a worker died, a task is being
    retried) to stderr: it prints them to stdout, where ``nczip -c`` writes the container
    (measured: a killed worker put 1,072 bytes of its report inside the compressed output)."""
    from ray._private import worker as driver

    shown = getattr(driver, "print_to_stdstream", None)
    if shown is None or getattr(shown, "nczip_to_stderr", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        if not _ending:  # a run's end kills its workers: Ray's reports of that are noise
            shown({**data, "is_err": True}, ignore_prefix)

    setattr(to_stderr, "nczip_to_stderr", True)
    driver.print_to_stdstream = to_stderr


def connect(address: str) -> int:
    """Join the cluster at ``address`` (once per process); the CPUs it has."""
    ray = _ray()
    _keep_stdout_clean()
    if not ray.is_initialized():
        _reachable(address)
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            if address == "local":
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet)
            else:
                ray.init(address=address, **quiet)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise NczError(f"cannot join the Ray cluster at {address!r}: {str(exc).splitlines()[0]}") from None
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _reachable(address: str) -> None:
    """Refuse an explicit address nothing answers at, in seconds: :func:`ray.init` would keep
    retrying for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local", or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise NczError(f"cannot join the Ray cluster at {address!r}: {exc.strerror or exc}") from None


class _Worker:
    """A Ray actor holding one job (the container's configuration and runtime): it codes the
    chunks sent to it, keeping what the job loads (the LLM) between chunks."""

    def __init__(self, job: Callable[[Any], Any]) -> None:
        self.job = job

    def run(self, item: Any) -> Any:
        return self.job(item)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], address: str, gpus: float = 0.0) -> Iterator[R]:
    """Yield ``fn(item)`` for each item in input order, computed by workers on the cluster at
    ``address`` (one per CPU of the cluster, started as items need them), with at most
    ``2 x workers`` items in flight. Each item goes to a worker as soon as one is free (chunks
    differ in cost: a fixed round robin left one worker idle 12 % of a 100 MB run here).
    ``gpus``: what each worker reserves."""
    global _ending
    ray = _ray()
    workers = connect(address)
    _ending = False
    remote = ray.remote(_Worker).options(num_cpus=1, num_gpus=gpus, max_restarts=RETRIES,
                                         max_task_retries=RETRIES)
    actors: list[Any] = []
    idle: deque[Any] = deque()
    busy: dict[Any, Any] = {}  # task -> its worker, until it ends
    order: deque[Any] = deque()  # tasks in input order, until their results are yielded
    ended: set[Any] = set()
    source = iter(items)
    more = True
    try:
        while True:
            while more and len(order) < 2 * workers and (idle or len(actors) < workers):
                item = next(source, _END)  # first: reading it may finish the job (the decoder
                if item is _END:           # resolves the model at the first frame that needs it)
                    more = False
                    break
                if not idle:
                    actors.append(remote.remote(fn))
                    idle.append(actors[-1])
                task = idle[0].run.remote(item)
                busy[task] = idle.popleft()
                order.append(task)
                del item
            if not order:
                return
            if order[0] in ended:
                ended.discard(order[0])
                yield _result(ray, order.popleft())
                continue
            ready, _ = ray.wait(list(busy), num_returns=1)
            for task in ready:
                idle.append(busy.pop(task))
                ended.add(task)
    finally:
        _ending = True  # an error, an interruption or a consumer that stopped early: stop all
        for task in busy:
            try:
                ray.cancel(task)
            except Exception:  # noqa: BLE001 - a task that already ended cannot be cancelled
                pass
        for actor in actors:
            ray.kill(actor, no_restart=True)


_END = object()


def _result(ray: Any, ref: Any) -> Any:
    """A task's result; its error as nczip's own (a corrupt chunk names the chunk)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise NczError(f"a chunk failed on the cluster: {str(exc).splitlines()[0]}") from None
    except ray.exceptions.RayActorError:
        raise NczError(f"a cluster worker died {RETRIES + 1} times (killed, or out of memory)") from None
