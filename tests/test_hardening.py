"""Nothing the user had is lost and nothing is left behind: devices, races, signals, workers, pipes.

Each test is one defect found by trying nczip as an attacker or an unlucky user would (issue 16).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nczip import outputs
from nczip.container import MAGIC

from conftest import ROOT, run_nczip

TEXT = b"The quick brown fox jumps over the lazy dog.\n" * 40
# Text the LLM level does code (a run of one line is below the least its bound lets it write, so
# the encoder gives such a chunk to zstd or the core without running the LLM: nczip/methods).
SLOW_TEXT = b"".join(b"Line %d: the fox jumped over %d lazy dogs and %d cats.\n" % (i, i * 7 % 13, i * i % 97)
                     for i in range(800))


def _start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nczip", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _temporaries(directory: Path) -> list[Path]:
    return list(directory.glob(".nczip-*.tmp"))


def _wait_for(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_force_writes_into_a_fifo_instead_of_replacing_it(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = run_nczip("-1", "-f", "-o", str(fifo), "a.txt", cwd=tmp_path)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not a regular file renamed over it
    assert received and received[0][:4] == MAGIC  # the container went through it
    assert run_nczip("-d", "-c", input=received[0]).stdout == TEXT
    assert not _temporaries(tmp_path)


def test_an_existing_fifo_is_not_overwritten_without_force(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    os.mkfifo(tmp_path / "pipe")
    done = run_nczip("-1", "-o", "pipe", "a.txt", cwd=tmp_path)
    assert done.returncode == 1 and b"pipe already exists" in done.stderr


def test_a_name_taken_while_nczip_worked_is_not_replaced(tmp_path):
    # Two writers of one name: the second to finish must fail, not silently replace the first.
    target = tmp_path / "out.ncz"

    def write(dst):
        target.write_bytes(b"the other writer's result")  # appears while we work
        dst.write(b"ours")
        return None

    with pytest.raises(outputs.OutputError, match="already exists"):
        outputs.write_output(str(target), write, force=False)
    assert target.read_bytes() == b"the other writer's result"
    assert not _temporaries(tmp_path)
    outputs.write_output(str(target), lambda dst: dst.write(b"ours"), force=True)  # -f replaces it
    assert target.read_bytes() == b"ours"


def test_errors_about_the_output_name_the_output(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    done = run_nczip("-1", "-o", "nodir/x.ncz", "a.txt", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == "nczip: nodir/x.ncz: No such file or directory"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_removes_the_temporary_file_and_exits_128_plus_n(tmp_path, signum):
    (tmp_path / "a.txt").write_bytes(SLOW_TEXT)
    proc = _start("-4", "a.txt", cwd=tmp_path)  # the LLM level: slow enough to be caught working
    assert _wait_for(lambda: _temporaries(tmp_path)), proc.communicate()
    time.sleep(1.0)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert err.decode().count("\n") == 1 and "Aborted" not in err.decode()
    assert not _temporaries(tmp_path) and not (tmp_path / "a.txt.ncz").exists()
    assert (tmp_path / "a.txt").read_bytes() == SLOW_TEXT


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the workers")
def test_workers_die_with_nczip(tmp_path):
    (tmp_path / "a.txt").write_bytes(SLOW_TEXT)
    proc = _start("-4", "-T", "2", "--chunk-size", "900", "a.txt", cwd=tmp_path)
    assert _wait_for(lambda: len(_children(proc.pid)) >= 2), proc.communicate()
    workers = _children(proc.pid)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 10.0)


def test_a_reader_that_goes_away_ends_nczip_quietly(tmp_path):
    data = os.urandom(8 << 20)  # incompressible: stored chunks, decoded fast, far more than a pipe holds
    (tmp_path / "r").write_bytes(data)
    assert run_nczip("-1", "r", cwd=tmp_path).returncode == 0
    proc = _start("-d", "-c", "r.ncz", cwd=tmp_path)
    assert proc.stdout is not None and proc.stdout.read(10) == data[:10]
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert err == b"" and proc.returncode == 128 + signal.SIGPIPE


def test_three_foreign_bytes_are_not_nczip_rather_than_truncated():
    done = run_nczip("-d", "-c", input=b"abc")
    assert b"not in nczip format" in done.stderr and done.returncode == 1
    assert b"truncated file" in run_nczip("-d", "-c", input=MAGIC[:3]).stderr  # starts like nczip


def test_a_file_named_like_a_command_is_compressed(tmp_path):
    (tmp_path / "test").write_bytes(TEXT)
    done = run_nczip("test", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "test.ncz").exists()


def test_a_newline_in_a_file_name_stays_on_one_line(tmp_path):
    done = run_nczip("-d", "no\nsuch.ncz", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.decode().count("\n") == 1 and "no\\nsuch.ncz" in done.stderr.decode()


def test_info_to_a_closed_stdout_fails(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    assert run_nczip("-1", "a.txt", cwd=tmp_path).returncode == 0
    done = subprocess.run(f"{sys.executable} -m nczip info a.txt.ncz >&-", shell=True, cwd=tmp_path,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and b"standard output is closed" in done.stderr
