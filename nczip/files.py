"""The command line's file handling, one path for ``compress``, ``decompress`` and ``test``.

Conventions follow gzip/zstd: ``FILE`` becomes ``FILE.ncz`` and back, no file (or ``-``) means
stdin to stdout, ``-c`` writes to stdout, nothing is overwritten without ``-f``, compressed data
is neither written to nor read from a terminal without ``-f``, and the input is removed only with
``--rm`` once its output is verified, and only if it is still the file that was read, unchanged
(a writer appending meanwhile keeps it). Inputs that are not regular files (devices, FIFOs,
sockets) are refused, as gzip does, unless ``-f`` asks to read them as a stream; they are never
removed. Symbolic links to regular files are followed (``--rm`` removes the link). Outputs are
written atomically by :mod:`nczip.outputs`. ``-r`` expands directories into the files each
command takes. Every failure is one line ``nczip: FILE: reason`` on stderr; the caller turns any
failure into exit status 1.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import stat
import sys
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, cast

import click

from . import outputs
from .errors import NczError
from .api import ProgressLine, Summary, decompress_stream, human_bytes, resolve_workers, scan_container, usable_cpus

SUFFIX = ".ncz"
STDIO = "-"
COMPRESS, DECOMPRESS, TEST = "compress", "decompress", "test"

#: a coder: reads the input, writes the output (None: only verify), reports progress
Work = Callable[[BinaryIO, BinaryIO | None, ProgressLine], Summary]


class Failure(Exception):
    """A per-file failure already phrased for the user."""


#: what a per-file failure may be; anything else is a bug, still reported in one line
EXPECTED = (Failure, NczError, OSError, MemoryError, outputs.OutputError)


def say(message: str) -> None:
    """One line on stderr, prefixed like every nczip message."""
    click.echo(f"nczip: {message}", err=True)


def quote(name: str) -> str:
    """A file name as one line: control characters (a newline in a name) are escaped."""
    return repr(name)[1:-1] if any(ord(c) < 32 or ord(c) == 127 for c in name) else name


def report(name: str, exc: BaseException) -> None:
    """Say why ``name`` failed, in one line (a traceback only with NCZIP_DEBUG set)."""
    if isinstance(exc, BrokenPipeError):
        reader_gone()
    if isinstance(exc, outputs.OutputError):  # names the output itself
        say(str(exc))
        return
    name = quote(name)
    if not isinstance(exc, EXPECTED):
        if os.environ.get("NCZIP_DEBUG"):
            raise exc
        say(f"{name}: internal error: {exc!r} (set NCZIP_DEBUG=1 for a traceback)")
        return
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    elif isinstance(exc, MemoryError):
        reason = "out of memory"
    else:
        reason = str(exc)
    say(f"{name}: {reason}")


def reader_gone() -> None:
    """The reader of our output went away (``nczip -dc f | head``): end quietly, with the status
    of a process ended by SIGPIPE, as gzip does (workers die with us; no temporary file is open
    when writing to a pipe)."""
    with contextlib.suppress(OSError):
        sys.stdout = None  # type: ignore[assignment]
    os._exit(128 + signal.SIGPIPE)


class WriteAll:
    """Writes every byte or raises. :class:`io.BufferedWriter` returns a short count, and drops the
    error, when its raw file fails after a partial write of a large block (a reader gone after
    64 KiB of a chunk, a full disk): a coder that ignored the count would end with status 0 and a
    truncated output. Writing the rest again surfaces the error (BrokenPipeError, ENOSPC).

    With ``name`` (a file output), a failed write is an :class:`outputs.OutputError` naming that
    output: the coder reads the input and writes the output in one call, so without this a full
    disk would be reported against the input."""

    def __init__(self, dst: BinaryIO, name: str | None = None) -> None:
        self.dst = dst
        self.name = name

    def write(self, data: bytes) -> int:
        view = memoryview(data).cast("B")
        with self._naming_output():
            while view:
                written = self.dst.write(view)
                if not written:
                    raise OSError(errno.EIO, "Input/output error (nothing written)")
                view = view[written:]
        return len(data)

    def flush(self) -> None:
        with self._naming_output():
            self.dst.flush()

    @contextlib.contextmanager
    def _naming_output(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as exc:
            if self.name is None:
                raise
            raise outputs.OutputError(f"{quote(self.name)}: {exc.strerror or exc}") from None


def for_each(names: list[str], one: Callable[[str], None]) -> bool:
    """Run ``one`` on every name, reporting each failure in one line; True if all succeeded."""
    ok = True
    for name in names:
        try:
            one(name)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            report(name, exc)
            ok = False
    return ok


def expand(names: tuple[str, ...], recursive: bool, mode: str) -> tuple[list[str], bool]:
    """The inputs a command works on, and whether every directory could be read: stdin when none
    is named; with ``-r`` each directory becomes its regular files (sorted, symbolic links not
    followed) that the command takes: names without ``.ncz`` to compress, with it to decompress,
    test or list. A directory that cannot be read is one line and a failed run, as in gzip (the
    files in it would otherwise be skipped silently); a file that vanishes during the walk is
    skipped, there being nothing left to work on."""
    if not names:
        return [STDIO], True
    found: list[str] = []
    failed: list[OSError] = []
    for name in names:
        if recursive and name != STDIO and os.path.isdir(name):
            found.extend(_walk(name, mode, failed.append))
        else:
            found.append(name)
    for exc in failed:
        report(exc.filename or "", exc)
    return found, not failed


def _walk(top: str, mode: str, onerror: Callable[[OSError], None]) -> Iterator[str]:
    """The files under ``top`` that ``mode`` takes, in sorted order; ``onerror`` gets each
    directory that could not be read."""
    for root, dirs, files in os.walk(top, onerror=onerror):
        dirs.sort()
        for file in sorted(files):
            path = os.path.join(root, file)
            if file.startswith(".nczip-") and file.endswith(".tmp"):
                continue
            if file.endswith(SUFFIX) == (mode == COMPRESS) or not _is_regular(path, onerror):
                continue
            yield path


def _is_regular(path: str, onerror: Callable[[OSError], None]) -> bool:
    """Whether ``path`` is a regular file, not followed if a link; False if it has vanished."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
    except OSError as exc:
        onerror(exc)
        return False


@contextlib.contextmanager
def open_input(name: str, streams: bool = True) -> Iterator[tuple[BinaryIO, int | None]]:
    """The input and its size (None for stdin, pipes and devices). A device, FIFO or socket is
    read as a stream only if ``streams`` (``-f``); otherwise it is refused before it is opened (a
    FIFO's open would wait for a writer, ``/dev/zero`` would never end), and the descriptor is
    checked again after a non-blocking open, in case the name was replaced in between."""
    if name == STDIO:
        yield sys.stdin.buffer, None
        return
    _check_kind(os.stat(name).st_mode, streams)
    fd = os.open(name, os.O_RDONLY | os.O_NOCTTY | (0 if streams else os.O_NONBLOCK))
    try:
        mode = os.fstat(fd).st_mode
        _check_kind(mode, streams)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as src:
        yield src, os.fstat(fd).st_size if stat.S_ISREG(mode) else None


def _check_kind(mode: int, streams: bool) -> None:
    """Refuse a directory always, and anything else that is not a regular file unless ``streams``."""
    if stat.S_ISDIR(mode):
        raise Failure("is a directory -- ignored")
    if not stat.S_ISREG(mode) and not streams:
        raise Failure("not a regular file -- ignored (use -f to read it as a stream)")


def output_name(mode: str, name: str, output: str | None, to_stdout: bool, force: bool) -> str:
    """Where ``name``'s result goes: ``-o``, stdout, or the name with ``.ncz`` added or removed."""
    if output:
        return output
    if to_stdout or name == STDIO:
        return STDIO
    if mode == COMPRESS:
        if name.endswith(SUFFIX) and not force:
            raise Failure(f"already has {SUFFIX} suffix -- unchanged (use -f to compress anyway)")
        return name + SUFFIX
    if not name.endswith(SUFFIX) or len(name) == len(SUFFIX):
        raise Failure(f"unknown suffix -- ignored (expected {SUFFIX}; use -o or -c)")
    return name[: -len(SUFFIX)]


@dataclass
class FileOptions:
    """The per-file options shared by compress, decompress and test."""

    output: str | None = None
    to_stdout: bool = False
    force: bool = False
    remove: bool = False
    quiet: bool = False
    verbose: bool = False
    threads: int = 1
    model_path: str | None = None
    chunk_size: int | None = None  # the chunk size compression uses, for the progress line


def run_files(mode: str, names: list[str], opts: FileOptions, work: Work) -> bool:
    """Run ``work`` over every input; True if all succeeded. ``-o`` with several inputs is a
    usage error (exit 2), like any other contradiction among the arguments."""
    if opts.output and len(names) > 1:
        raise click.UsageError("-o can only be used with a single input file")
    if opts.threads > resolve_workers(opts.threads) and not opts.quiet:
        say(f"-T {opts.threads} capped at {usable_cpus()} (CPUs available)")
    return for_each(names, lambda name: _one_file(mode, name, opts, work))


def _progress(mode: str, name: str, size: int | None, opts: FileOptions) -> ProgressLine:
    """The progress line: on a terminal only, and not with -q. Decoding counts original bytes,
    so its total is read from the container's structure first (cheap next to decoding)."""
    enabled = not opts.quiet and sys.stderr.isatty()
    chunks = None
    if enabled and mode != COMPRESS and size is not None:
        try:
            with open(name, "rb") as scan:
                summary = scan_container(scan)
            size, chunks = summary.original_bytes, summary.chunks
        except (NczError, OSError):
            size = None  # decoding will say what is wrong
    elif size is not None and opts.chunk_size:
        chunks = -(-size // opts.chunk_size)
    return ProgressLine(mode, size, enabled, chunks=chunks, workers=resolve_workers(opts.threads))


def _one_file(mode: str, name: str, opts: FileOptions, work: Work) -> None:
    force = opts.force
    target = None if mode == TEST else output_name(mode, name, opts.output, opts.to_stdout, force)
    if target == STDIO and sys.stdout is None:
        raise Failure("standard output is closed")
    if target == STDIO and mode == COMPRESS and sys.stdout.isatty() and not force:
        raise Failure("refusing to write compressed data to a terminal (use -f to force)")
    if target not in (None, STDIO):
        outputs.check_target(target, force)
        if name != STDIO and os.path.exists(name) and os.path.exists(target) and os.path.samefile(name, target):
            raise Failure("input and output are the same file")
    if name != STDIO and not os.path.exists(name):
        raise Failure("No such file or directory")
    if name == STDIO and mode != COMPRESS and sys.stdin.isatty() and not force:
        raise Failure("refusing to read compressed data from a terminal (use -f to force)")
    with open_input(name, streams=force) as (src, size):
        opened = os.fstat(src.fileno()) if size is not None and name != STDIO else None
        progress = _progress(mode, name, size, opts)
        try:
            if target is None:
                summary = work(src, None, progress)
            elif target == STDIO:
                summary = work(src, cast(BinaryIO, WriteAll(sys.stdout.buffer)), progress)
                sys.stdout.buffer.flush()
            else:
                summary = outputs.write_output(
                    target, lambda dst: work(src, cast(BinaryIO, WriteAll(dst, target)), progress),
                    force, None if name == STDIO else name)
        finally:
            progress.close()
        if opts.remove and name != STDIO and target not in (None, STDIO):
            if mode == COMPRESS:
                _verify_compressed(str(target), opts)
            _remove_input(mode, name, src, opened, opts.quiet)  # still open: see _unchanged
    if summary.padding_bytes and mode != COMPRESS and not opts.quiet:  # what gzip -d says of such a file
        say(f"{quote(name)}: decompression OK, {summary.padding_bytes} trailing zero bytes ignored")
    if opts.verbose:
        say(f"{quote(name)}: OK ({summary.original_bytes} bytes)" if target is None
            else describe(mode, name, str(target), summary))


def _remove_input(mode: str, name: str, src: BinaryIO, opened: os.stat_result | None, quiet: bool) -> None:
    """``--rm``: remove the input, but only if it is still the file that was read, unchanged; a
    device or FIFO read with ``-f`` is never removed."""
    if opened is None:
        if not quiet:
            say(f"{quote(name)}: not a regular file -- not removed")
        return
    if not _unchanged(name, opened, os.fstat(src.fileno())):
        raise Failure(f"changed while being {mode}ed -- not removed")
    os.remove(name)


def _unchanged(name: str, opened: os.stat_result, now: os.stat_result) -> bool:
    """Whether the open input is as it was when opened (a writer appending during the seconds of
    coding and verifying changes its size or times; its data would be lost with the file) and
    ``name`` still is that file (not replaced meanwhile by another one, which is not ours to
    remove). The descriptor stays open until this decision, so its inode cannot be reused."""
    try:
        named = os.stat(name)
    except FileNotFoundError:
        return False
    same = ("st_ino", "st_dev", "st_size", "st_mtime_ns", "st_ctime_ns")
    return (all(getattr(opened, field) == getattr(now, field) for field in same)
            and (named.st_ino, named.st_dev) == (now.st_ino, now.st_dev))


def _verify_compressed(path: str, opts: FileOptions) -> None:
    """Decode the new container fully before the user's original is removed."""
    with open(path, "rb") as src:
        try:
            decompress_stream(src, None, threads=opts.threads, model=opts.model_path)
        except NczError as exc:
            raise Failure(f"verification of {path} failed ({exc}); input kept") from None


def describe(mode: str, name: str, target: str, s: Summary) -> str:
    """The ``-v`` line: sizes, ratio, speed, coder overhead, tokens, model load, peak memory."""
    speed = human_bytes(s.original_bytes / s.seconds) + "/s" if s.seconds else "-"
    if mode == COMPRESS:
        ratio = 100.0 * s.compressed_bytes / s.original_bytes if s.original_bytes else 0.0
        text = (f"{name}: {s.original_bytes} -> {s.compressed_bytes} bytes ({ratio:.2f}%, "
                f"{s.bits_per_byte:.4f} bpb) in {s.seconds:.2f} s ({speed}), {s.chunks} chunks")
        if s.coder_overhead_percent is not None:
            text += f", coder overhead {s.coder_overhead_percent:+.4f}% over the model's ideal"
    else:
        text = f"{name}: {s.compressed_bytes} -> {s.original_bytes} bytes in {s.seconds:.2f} s ({speed})"
    if s.tokens and s.seconds:
        text += f", {s.tokens} tokens ({s.tokens / s.seconds:.0f} tokens/s)"
    if s.load_seconds:
        text += f", model load {s.load_seconds:.2f} s"
    return text + f", peak RSS {_peak_rss_mb():.0f} MB -> {target}"


def _peak_rss_mb() -> float:
    """Largest resident set of this process or any worker it ran (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024.0
