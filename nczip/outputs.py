"""Writing an output file so that nothing the user had is lost: atomic names, devices, signals.

- A regular output is written to a temporary file beside it and given its name only after
  success. Without ``--force`` the name is taken with ``link(2)``, which fails if anything has
  appeared there meanwhile: of two nczip runs writing the same name at once, the second fails in
  one line instead of silently replacing the first one's result (a check-then-rename would not).
- An existing output that is not a regular file (a character device such as ``/dev/null``, a
  FIFO, a socket) is written straight into with ``--force``, as gzip and zstd do; nczip never
  renames over it, which would replace a device node by a regular file.
- A new regular output gets the original's mode, times and, where permitted (as root), owner
  and group, as gzip restores them; ownership is best effort, as in gzip.
- A failure to create, write or name the output (a full disk, a name too long) is an
  :class:`OutputError` naming the output, never the input.
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
from typing import BinaryIO, Callable, Iterator, TypeVar

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
    """``path``'s status, None if nothing is there; an error that says the name itself cannot be
    used (too long, a file where a directory should be) names the output."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _naming(target: str) -> Iterator[None]:
    """Turn an OSError from work on the output alone (open, flush, fsync, close) into one that
    names it."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"{target}: {exc.strerror or exc}") from None


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
    """Run ``write`` into ``target`` (see the module docstring); ``like``'s owner, mode and times
    are copied onto a new regular output."""
    check_target(target, force)
    if is_special(target):  # only with force (check_target refused otherwise)
        with _naming(target):
            fd = os.open(target, os.O_WRONLY | os.O_TRUNC)
        return _write_into(fd, write, target, sync=False)
    directory = os.path.dirname(os.path.abspath(target))
    with _naming(target):
        fd, temporary = tempfile.mkstemp(prefix=".nczip-", suffix=".tmp", dir=directory)
    try:
        result = _write_into(fd, write, target, sync=True)
        if like is not None and os.path.isfile(like):
            _copy_owner(like, temporary)
            shutil.copystat(like, temporary)
        _give_name(temporary, target, force)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    return result


def _write_into(fd: int, write: Callable[[BinaryIO], T], target: str, sync: bool) -> T:
    """Run ``write`` into the open ``fd`` and close it; the buffer's last flush, the sync and the
    close are where a full disk often shows, so their errors name ``target``. After a failed
    ``write`` the close is quiet: the first error is the one to report."""
    dst = os.fdopen(fd, "wb")
    try:
        result = write(dst)
        with _naming(target):
            dst.flush()
            if sync:
                os.fsync(dst.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            dst.close()
        raise
    with _naming(target):
        dst.close()
    return result


def _copy_owner(like: str, temporary: str) -> None:
    """Give the output the original's owner and group before its mode (a change of owner clears
    set-user-ID bits, so the mode comes after), as gzip does. Only root may give a file away, so
    EPERM (and EINVAL, an id this user namespace cannot map) leave the output ours."""
    st = os.stat(like)
    try:
        os.chown(temporary, st.st_uid, st.st_gid)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EINVAL):
            raise


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
