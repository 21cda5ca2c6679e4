"""The command line against a careless user and a hostile world (issue 22, items 1, 2, 7, 8, 9):
``--rm`` racing a writer, device nodes and FIFOs as inputs, ``-T`` far above the CPUs, ``-r`` over
a tree that changes or cannot be read, and the usage and output errors that named the wrong file.

Each test failed on cd24759. The CLI runs either in this process (click's runner, where a
function can be patched to play the other writer deterministically) or as ``python -m nczip``
with the same ``nczip`` package this process imported, so both see the same code.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import nczip
from nczip import cli, files, outputs, parallel

PACKAGE_ROOT = Path(nczip.__file__).resolve().parent.parent
TEXT = b"the quick brown fox jumps over the lazy dog, again and again\n" * 40


def run(*args: str, cwd: Path, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``nczip ARGS`` in a new process, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    return subprocess.run([sys.executable, "-m", "nczip", *args], input=input, capture_output=True, cwd=cwd,
                          env=env, timeout=timeout)


def invoke(*args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """``nczip ARGS`` in this process, so that a test can patch what happens in between."""
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli.main, list(args), prog_name="nczip")


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# 1. --rm removes only the file that was compressed, unchanged

def test_rm_keeps_an_input_appended_to_during_the_verify(tmp_path, monkeypatch):
    log = tmp_path / "log.txt"
    log.write_bytes(TEXT)
    verify = files._verify_compressed

    def appending_then_verify(path: str, opts: files.FileOptions) -> None:
        with open(log, "ab") as writer:  # the other writer, in the seconds the verify takes
            writer.write(b"IMPORTANT\n")
        verify(path, opts)

    monkeypatch.setattr(files, "_verify_compressed", appending_then_verify)
    done = invoke("-1", "--rm", "log.txt", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.exit_code == 1, done.output
    assert done.stderr == "nczip: log.txt: changed while being compressed -- not removed\n"
    assert log.read_bytes() == TEXT + b"IMPORTANT\n"
    assert run("-dc", "log.txt.ncz", cwd=tmp_path).stdout == TEXT  # what was read, complete


def test_rm_keeps_a_name_replaced_during_the_verify(tmp_path, monkeypatch):
    log = tmp_path / "log.txt"
    log.write_bytes(TEXT)
    verify = files._verify_compressed

    def replacing_then_verify(path: str, opts: files.FileOptions) -> None:
        (tmp_path / "new").write_bytes(TEXT)  # same size, same bytes, but another file
        os.replace(tmp_path / "new", log)
        verify(path, opts)

    monkeypatch.setattr(files, "_verify_compressed", replacing_then_verify)
    done = invoke("-1", "--rm", "log.txt", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.exit_code == 1
    assert "not removed" in done.stderr and log.read_bytes() == TEXT


def test_decompress_rm_keeps_an_input_appended_to_meanwhile(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(TEXT)
    assert run("-1", "--rm", "a.txt", cwd=tmp_path).returncode == 0  # unchanged: removed as before
    assert not (tmp_path / "a.txt").exists()
    packed = (tmp_path / "a.txt.ncz").read_bytes()
    write_output = outputs.write_output

    def write_then_append(*args, **kwargs):
        result = write_output(*args, **kwargs)
        with open(tmp_path / "a.txt.ncz", "ab") as writer:
            writer.write(b"more")
        return result

    monkeypatch.setattr(outputs, "write_output", write_then_append)
    done = invoke("-d", "--rm", "a.txt.ncz", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.exit_code == 1
    assert done.stderr == "nczip: a.txt.ncz: changed while being decompressed -- not removed\n"
    assert (tmp_path / "a.txt.ncz").read_bytes() == packed + b"more"
    assert (tmp_path / "a.txt").read_bytes() == TEXT


# 2. devices, FIFOs and sockets are refused unless forced, and never removed

def test_fifo_is_refused_at_once_and_kept(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    done = run("--rm", "fifo", cwd=tmp_path, timeout=30)  # cd24759 waited forever for a writer
    assert done.returncode == 1
    assert done.stderr.decode() == "nczip: fifo: not a regular file -- ignored (use -f to read it as a stream)\n"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode) and not (tmp_path / "fifo.ncz").exists()


def test_forced_fifo_is_read_as_a_stream_and_never_removed(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "nczip", "-1", "-f", "--rm", "fifo"], cwd=tmp_path, env=env,
                            stderr=subprocess.PIPE)
    with open(tmp_path / "fifo", "wb") as writer:  # waits for nczip to open it
        writer.write(TEXT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err.decode() == "nczip: fifo: not a regular file -- not removed\n"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
    assert run("-dc", "fifo.ncz", cwd=tmp_path).stdout == TEXT


def test_device_node_is_refused_and_never_removed(tmp_path):
    node = tmp_path / "n"
    try:
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("making a device node needs root (and CAP_MKNOD)")
    done = run("--rm", "n", cwd=tmp_path, timeout=30)
    assert done.returncode == 1 and b"not a regular file -- ignored" in done.stderr
    forced = run("-f", "--rm", "-q", "n", cwd=tmp_path, timeout=60)
    assert forced.returncode == 0, forced.stderr
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert run("-dc", "n.ncz", cwd=tmp_path).stdout == b""


def test_stdin_is_still_read(tmp_path):
    done = run("-1", "-c", cwd=tmp_path, input=TEXT)
    assert done.returncode == 0 and run("-dc", cwd=tmp_path, input=done.stdout).stdout == TEXT


# 7. -T is capped at the CPUs, and no more workers start than there are chunks

def _square(x: int) -> int:
    return x * x


class _CountingPool:
    """A stand-in for ProcessPoolExecutor that records the workers asked for (never more than
    four real ones start, whatever the code under test asks)."""

    asked: list[int] = []

    def __new__(cls, max_workers: int, **kwargs):
        cls.asked.append(max_workers)
        return parallel_pool(max_workers=min(max_workers, 4), **kwargs)


parallel_pool = parallel.ProcessPoolExecutor


def test_ordered_map_starts_no_more_workers_than_items(monkeypatch):
    _CountingPool.asked = []
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", _CountingPool)
    assert list(parallel.ordered_map(_square, iter([1, 2, 3]), 64)) == [1, 4, 9]
    assert _CountingPool.asked and max(_CountingPool.asked) <= 3
    assert list(parallel.ordered_map(_square, range(20), 3)) == [x * x for x in range(20)]


def test_ordered_map_runs_one_item_in_this_process(monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool for one item")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    assert list(parallel.ordered_map(_square, [7], 64)) == [49]
    assert list(parallel.ordered_map(_square, [], 64)) == []


def test_resolve_workers_caps_at_the_usable_cpus():
    assert parallel.resolve_workers(100_000) == usable_cpus()
    assert parallel.resolve_workers(0) == usable_cpus()
    assert parallel.resolve_workers(1) == 1


def test_huge_thread_count_is_capped_and_said_once(tmp_path):
    # Checked in this process first: the CLI of cd24759 would fork 100000 workers.
    assert parallel.resolve_workers(100_000) <= usable_cpus()
    (tmp_path / "two").write_bytes(b"hi")
    started = time.monotonic()
    done = run("-1", "-T", "100000", "two", cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    assert done.stderr.decode() == f"nczip: -T 100000 capped at {usable_cpus()} (CPUs available)\n"
    assert run("-dc", "two.ncz", cwd=tmp_path).stdout == b"hi"
    quiet = run("-1", "-q", "-T", "100000", "-c", "two", cwd=tmp_path, timeout=60)
    assert quiet.returncode == 0 and quiet.stderr == b""
    assert run("-1", "-T", "0", "-c", "two", cwd=tmp_path, timeout=60).stderr == b""


def test_capped_output_is_the_same_as_one_thread(tmp_path):
    assert parallel.resolve_workers(100_000) <= usable_cpus()  # as above: never fork 100000
    (tmp_path / "in").write_bytes(TEXT * 3)
    many = run("-1", "-q", "-c", "-T", "100000", "--chunk-size", "1K", "in", cwd=tmp_path)
    one = run("-1", "-q", "-c", "-T", "1", "--chunk-size", "1K", "in", cwd=tmp_path)
    assert many.returncode == one.returncode == 0
    assert many.stdout == one.stdout


# 8. -r over a tree that changes or cannot be read

def _tree(tmp_path: Path) -> Path:
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "a.txt").write_bytes(TEXT)
    (tmp_path / "tree" / "sub" / "b.txt").write_bytes(TEXT)
    return tmp_path / "tree"


def test_recursive_skips_a_file_that_vanished_during_the_walk(tmp_path, monkeypatch):
    tree = _tree(tmp_path)
    walk = os.walk

    def walk_with_a_ghost(top, *args, **kwargs):
        for root, dirs, names in walk(top, *args, **kwargs):
            yield root, dirs, [*names, "ghost.txt"]  # listed, then removed before its lstat

    monkeypatch.setattr(os, "walk", walk_with_a_ghost)
    done = invoke("-1", "-r", "tree", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.exit_code == 0, (done.stderr, done.exception)
    assert done.stderr == ""
    assert (tree / "a.txt.ncz").exists() and (tree / "sub" / "b.txt.ncz").exists()


def test_recursive_reports_an_unreadable_directory(tmp_path, monkeypatch):
    tree = _tree(tmp_path)
    locked = str(tree / "locked")
    walk = os.walk

    def walk_with_a_locked_directory(top, topdown=True, onerror=None, followlinks=False):
        if onerror is not None:  # what os.walk does with a directory it cannot list
            onerror(PermissionError(errno.EACCES, "Permission denied", locked))
        yield from walk(top, topdown, onerror, followlinks)

    monkeypatch.setattr(os, "walk", walk_with_a_locked_directory)
    done = invoke("-1", "-r", "tree", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.exit_code == 1
    assert done.stderr == f"nczip: {locked}: Permission denied\n"
    assert (tree / "a.txt.ncz").exists() and (tree / "sub" / "b.txt.ncz").exists()  # the rest is done


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a directory whatever its mode")
def test_recursive_reports_a_real_unreadable_directory(tmp_path):
    tree = _tree(tmp_path)
    (tree / "sub").chmod(0)
    try:
        done = run("-1", "-r", "tree", cwd=tmp_path)
    finally:
        (tree / "sub").chmod(0o755)
    assert done.returncode == 1
    assert done.stderr.decode() == f"nczip: {os.path.join('tree', 'sub')}: Permission denied\n"
    assert (tree / "a.txt.ncz").exists()


# 9. usage errors exit 2; output errors name the output; ownership is restored

def test_chunk_size_above_the_container_limit_is_a_usage_error(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    done = run("--chunk-size", "300M", "a.txt", cwd=tmp_path)
    assert done.returncode == 2
    assert b"256M" in done.stderr and b"internal error" not in done.stderr
    assert not (tmp_path / "a.txt.ncz").exists()


def test_output_with_two_inputs_is_a_usage_error(tmp_path):
    (tmp_path / "a").write_bytes(TEXT)
    (tmp_path / "b").write_bytes(TEXT)
    done = run("-o", "X", "a", "b", cwd=tmp_path)
    assert done.returncode == 2
    assert b"-o can only be used with a single input file" in done.stderr
    assert not (tmp_path / "X").exists()


def test_name_too_long_names_the_output(tmp_path):
    name = "a" * 253  # a legal name; with .ncz it is 257 bytes, over NAME_MAX
    (tmp_path / name).write_bytes(TEXT)
    done = run("-1", name, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.decode() == f"nczip: {name}.ncz: File name too long\n"
    long_output = "o" * 300
    done = run("-1", "-o", long_output, name, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.decode() == f"nczip: {long_output}: File name too long\n"


class _FullDisk:
    """An output file whose every write fails as on a full disk."""

    def __init__(self, real) -> None:
        self.real = real

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def __enter__(self) -> "_FullDisk":
        return self

    def __exit__(self, *exc) -> None:
        self.real.close()


def test_full_disk_names_the_output(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(TEXT)
    fdopen = os.fdopen

    def full_for_writing(fd, mode="r", *args, **kwargs):
        real = fdopen(fd, mode, *args, **kwargs)
        return _FullDisk(real) if "w" in mode else real

    monkeypatch.setattr(os, "fdopen", full_for_writing)
    done = invoke("-1", "a.txt", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.exit_code == 1
    assert done.stderr == "nczip: a.txt.ncz: No space left on device\n"
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]  # no output, no temporary


def test_full_disk_at_the_final_sync_names_the_output(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(TEXT)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    done = invoke("-1", "a.txt", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.exit_code == 1
    assert done.stderr == "nczip: a.txt.ncz: No space left on device\n"
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_owner_and_group_are_restored_as_root(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    os.chown(tmp_path / "a.txt", 1234, 1234)
    assert run("-1", "--rm", "a.txt", cwd=tmp_path).returncode == 0
    packed = os.stat(tmp_path / "a.txt.ncz")
    assert (packed.st_uid, packed.st_gid) == (1234, 1234)
    assert run("-d", "a.txt.ncz", cwd=tmp_path).returncode == 0
    back = os.stat(tmp_path / "a.txt")
    assert (back.st_uid, back.st_gid) == (1234, 1234)
    assert (tmp_path / "a.txt").read_bytes() == TEXT
