"""Writing an output file so that nothing the user had is lost: atomic names, devices, signals.

- A regular output is written to a temporary file beside it and given its name only after
  success. Without ``--force`` the name is taken with ``link(2)``, which fails if anything has
  appeared there meanwhile: of two nczip runs writing the same name at once, the second fails in
  one line instead of silently replacing the first one's result (a check-then-rename would not).
- An existing output that is not a regular file (a character device such as ``/dev/null``, a
  FIFO, a socket) is written straight into with ``--force``, as gzip and zstd do; nczip never
  renames over it, which would replace a device node by a regular file.
- SIGTERM, SIGHUP and SIGINT raise :class:`Interrupted` in the main thread, so the temporary file
  is removed on the way out and the command exits with 128 + the signal number.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import tempfile
from typing import BinaryIO, Callable, TypeVar

T = TypeVar("T")
CAUGHT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class OutputError(Exception):
    """An output cannot be written; the message names the output, not the input."""


class Interrupted(BaseException):
    """A catchable termination signal arrived (a BaseException, like KeyboardInterrupt, so that
    no ``except Exception`` swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """Turn SIGINT/SIGTERM/SIGHUP into :class:`Interrupted` (the command line only)."""
    for signum in CAUGHT_SIGNALS:
        signal.signal(signum, _raise_interrupted)


def _existing(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def is_special(path: str) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a directory (device, FIFO, ...)."""
    st = _existing(path)
    return st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


def check_target(target: str, force: bool) -> None:
    """Refuse early what :func:`write_output` would refuse at the end (saves the work)."""
    st = _existing(target)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{target}: is a directory")
    if not force:
        raise OutputError(f"{target} already exists; not overwritten (use -f)")


def write_output(target: str, write: Callable[[BinaryIO], T], force: bool, like: str | None = None) -> T:
    """Run ``write`` into ``target`` (see the module docstring); ``like``'s mode and times are
    copied onto a new regular output."""
    check_target(target, force)
    if is_special(target):  # only with force (check_target refused otherwise)
        with open(target, "wb") as dst:
            return write(dst)
    directory = os.path.dirname(os.path.abspath(target))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".nczip-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"{target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as dst:
            result = write(dst)
            dst.flush()
            os.fsync(dst.fileno())
        if like is not None and os.path.isfile(like):
            shutil.copystat(like, temporary)
        _give_name(temporary, target, force)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    return result


def _give_name(temporary: str, target: str, force: bool) -> None:
    if force:
        if is_special(target):  # appeared while we worked: never rename over a device or FIFO
            raise OutputError(f"{target} became a special file while nczip worked; output not written")
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)  # atomic: fails if the name exists, whoever made it
    except FileExistsError:
        raise OutputError(f"{target} already exists; not overwritten (use -f)") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise OutputError(f"{target}: {exc.strerror}") from None
        _claim_then_replace(temporary, target)  # a file system without hard links
        return
    os.remove(temporary)


def _claim_then_replace(temporary: str, target: str) -> None:
    """Take the name with O_EXCL (atomic), then rename the finished file over our own claim."""
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise OutputError(f"{target} already exists; not overwritten (use -f)") from None
    os.replace(temporary, target)
