"""``--cluster``: chunks coded by workers on a real Ray cluster, started here by the tests
(``ray start --head`` with two CPUs on this machine), writing exactly the bytes a local run
writes, surviving a killed worker, and keeping memory bounded (issue 25)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nczip
from tests.conftest import run_nczip

ray = pytest.importorskip("ray", reason="Ray is the cluster extra (scripts/setup.sh test installs it)")

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "corpora" / "alice29.txt").read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A two-CPU Ray cluster on this machine, for this module's tests; its address. With token
    authentication, as Ray now starts clusters (the token in ~/.ray/auth_token): the processes
    that join it say so by RAY_AUTH_MODE, as a user's would (docs/cluster.md)."""
    ray_bin = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    port = _free_port()
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_USAGE_STATS_ENABLED")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_USAGE_STATS_ENABLED="0")  # inherited by every nczip run
    env = dict(os.environ)
    started = subprocess.run([ray_bin, "start", "--head", "--num-cpus=2", "--num-gpus=0", f"--port={port}",
                              "--include-dashboard=false", "--disable-usage-stats"],
                             capture_output=True, text=True, env=env, timeout=180)
    if started.returncode != 0:
        pytest.fail(f"ray start failed: {started.stderr[-2000:]}")
    # the address it listens on: this machine's node IP (not always 127.0.0.1), as it says
    found = re.search(r"ray start --address='([^']+)'", started.stdout + started.stderr)
    try:
        yield found.group(1) if found else "auto"
    finally:
        subprocess.run([ray_bin, "stop", "--force"], capture_output=True, env=env, timeout=120)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _workers() -> list[int]:
    """PIDs of the cluster's nczip workers (Ray names an actor's process after its class)."""
    done = subprocess.run(["pgrep", "-f", "ray::_Worker"], capture_output=True, text=True)
    return [int(pid) for pid in done.stdout.split()]


def test_a_cluster_writes_and_reads_the_bytes_a_local_run_does(cluster: str, tmp_path: Path) -> None:
    data = TEXT * 4  # 608 KB in 64 KiB chunks: ten chunks over two workers
    local = nczip.compress(data, level=1, chunk_size=1 << 16)
    (tmp_path / "t").write_bytes(data)
    done = run_nczip("-1", "--chunk-size", "64K", "--cluster", cluster, "-c", "t", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == local
    assert nczip.compress(data, level=1, chunk_size=1 << 16, threads=2) == local
    (tmp_path / "t.ncz").write_bytes(local)
    back = run_nczip("-d", "-c", "t.ncz", cwd=tmp_path, env={"NCZIP_CLUSTER": cluster})  # the variable works too
    assert back.returncode == 0 and back.stdout == data, back.stderr


def test_a_corrupt_chunk_decoded_on_the_cluster_is_named(cluster: str, tmp_path: Path) -> None:
    data = TEXT * 2
    packed = bytearray(nczip.compress(data, level=1, chunk_size=1 << 16))
    packed[len(packed) // 2] ^= 0x10  # inside a middle chunk's payload
    (tmp_path / "bad.ncz").write_bytes(bytes(packed))
    done = run_nczip("-t", "--cluster", cluster, "bad.ncz", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(b"nczip: bad.ncz: corrupt chunk ") and done.stderr.count(b"\n") == 1, done.stderr


def test_a_killed_worker_is_restarted_and_the_output_is_the_same(cluster: str, tmp_path: Path) -> None:
    data = (TEXT * 24)[:3_500_000]  # level 3 in 256 KiB chunks: ~14 chunks, several seconds per worker
    (tmp_path / "t").write_bytes(data)
    local = run_nczip("-3", "--chunk-size", "256K", "-c", "t", cwd=tmp_path).stdout
    proc = subprocess.Popen([sys.executable, "-m", "nczip", "-3", "--chunk-size", "256K", "--cluster", cluster, "-c",
                             "t"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not _workers() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.5)  # a chunk or two into the run
    victims = _workers()
    assert victims, "no worker process to kill"
    os.kill(victims[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert out == local


_BOUNDED = """
import sys
from nczip import cluster

read = 0

def items():
    global read
    for i in range(40):
        read += 1
        yield i

workers = cluster.connect(sys.argv[1])
done = 0
for done, result in enumerate(cluster.ordered_map(abs, items(), sys.argv[1]), 1):
    assert result == done - 1
    assert read - done <= 2 * workers, (read, done, workers)  # never more than 2 x workers ahead
assert done == 40
print("bounded", workers)
"""


def test_the_driver_keeps_a_bounded_number_of_chunks_in_flight(cluster: str) -> None:
    done = subprocess.run([sys.executable, "-c", _BOUNDED, cluster], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0 and done.stdout == "bounded 2\n", done.stderr[-2000:]


def test_without_ray_cluster_says_how_to_get_it(tmp_path: Path) -> None:
    (tmp_path / "ray.py").write_text("raise ImportError('no ray here')\n")
    (tmp_path / "t").write_bytes(b"hello\n" * 100)
    done = run_nczip("--cluster", "auto", "-c", "t", cwd=tmp_path,
                     env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"})
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.count(b"\n") == 1 and b"needs Ray" in done.stderr and b"pip install" in done.stderr


def test_a_cluster_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "t").write_bytes(b"hello\n" * 100)
    done = run_nczip("--cluster", f"127.0.0.1:{_free_port()}", "-c", "t", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.count(b"\n") == 1 and b"cannot join the Ray cluster" in done.stderr, done.stderr


@pytest.mark.skipif(nczip.api.uses_llm(4) and __import__("nczip.llama_build").llama_build.llm_missing() is not None,
                    reason="the LLM extra is not installed")
def test_an_llm_level_on_the_cluster_writes_the_local_bytes(cluster: str, tmp_path: Path) -> None:
    data = TEXT[:1500]
    (tmp_path / "t").write_bytes(data)
    local = run_nczip("-4", "--chunk-size", "1K", "-c", "t", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    done = run_nczip("-4", "--chunk-size", "1K", "--cluster", cluster, "-c", "t", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == local.stdout
    (tmp_path / "t.ncz").write_bytes(done.stdout)
    back = run_nczip("-d", "--cluster", cluster, "-c", "t.ncz", cwd=tmp_path)
    assert back.returncode == 0 and back.stdout == data, back.stderr
