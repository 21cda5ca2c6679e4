"""The command line's new file features: ``-l`` (as gzip -l / xz -l), ``-r``, ``info --json``,
shell completion, exit codes, and the progress line (only on a terminal, silent with -q)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from nczip.progress import ProgressLine

from conftest import ROOT, drain_pty, run_nczip

ENV = {"PYTHONPATH": str(ROOT)}
A = b"alpha beta gamma delta\n" * 60
B = b"one two three four five six\n" * 90


def nczip(*args: str, cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    return run_nczip(*args, cwd=cwd, env=ENV, input=input)


@pytest.fixture
def packed(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_bytes(A)
    (tmp_path / "b.txt").write_bytes(B)
    assert nczip("-1", "a.txt", cwd=tmp_path).returncode == 0
    assert nczip("-2", "b.txt", cwd=tmp_path).returncode == 0
    return tmp_path


def test_list_gives_sizes_ratio_level_model_and_a_total(packed):
    done = nczip("-l", "a.txt.ncz", "b.txt.ncz", cwd=packed)
    assert done.returncode == 0, done.stderr
    heading, a, b, total = done.stdout.decode().splitlines()
    assert heading.split() == ["compressed", "uncompressed", "ratio", "bpb", "level", "model", "name"]
    size_a, size_b = (packed / "a.txt.ncz").stat().st_size, (packed / "b.txt.ncz").stat().st_size
    assert a.split()[:2] == [str(size_a), str(len(A))] and a.split()[4] == "1" and a.split()[-1] == "a.txt.ncz"
    assert b.split()[:2] == [str(size_b), str(len(B))] and b.split()[4] == "2"
    assert total.split()[:2] == [str(size_a + size_b), str(len(A) + len(B))] and "2 files" in total
    assert float(a.split()[2]) == pytest.approx(len(A) / size_a, abs=1e-3)


def test_list_alone_has_no_total_and_bad_files_fail_in_one_line(packed):
    (packed / "bad.ncz").write_bytes(b"not nczip")
    done = nczip("--list", "a.txt.ncz", "bad.ncz", cwd=packed)
    assert done.returncode == 1
    assert len(done.stdout.decode().splitlines()) == 2  # heading and a.txt.ncz
    assert done.stderr.decode() == "nczip: bad.ncz: not in nczip format\n"


def test_info_json(packed):
    done = nczip("info", "--json", "a.txt.ncz", "b.txt.ncz", cwd=packed)
    assert done.returncode == 0, done.stderr
    a, b = json.loads(done.stdout)
    assert a["file"] == "a.txt.ncz" and a["level"] == 1 and a["original_size"] == len(A)
    assert a["compressed_size"] == (packed / "a.txt.ncz").stat().st_size
    assert b["level"] == 2 and b["members"] == 1 and a["model"] is None or isinstance(a["model"], dict)
    assert set(a) >= {"format_version", "chunk_size", "chunks", "methods", "ratio", "bits_per_byte", "predictors"}


def test_recursive_compress_decompress_test_and_list(tmp_path):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "x.txt").write_bytes(A)
    (tree / "sub" / "y.txt").write_bytes(B)
    done = nczip("-1", "-r", "--rm", "tree", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tree.rglob("*")) == ["sub", "x.txt.ncz", "y.txt.ncz"]
    assert nczip("-r", "tree", cwd=tmp_path).returncode == 0  # nothing left to compress: .ncz files are skipped
    assert nczip("-t", "-r", "tree", cwd=tmp_path).returncode == 0
    listed = nczip("-l", "-r", "tree", cwd=tmp_path).stdout.decode().splitlines()
    assert [line.split()[-1] for line in listed[1:3]] == ["tree/x.txt.ncz", "tree/sub/y.txt.ncz"]  # as find(1) lists
    assert nczip("-d", "-r", "--rm", "tree", cwd=tmp_path).returncode == 0
    assert (tree / "x.txt").read_bytes() == A and (tree / "sub" / "y.txt").read_bytes() == B
    assert not list(tree.rglob("*.ncz"))


def test_a_directory_without_r_is_still_refused(tmp_path):
    (tmp_path / "d").mkdir()
    done = nczip("d", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.decode() == "nczip: d: is a directory -- ignored\n"


def test_a_reader_gone_after_part_of_a_large_chunk_ends_with_141(tmp_path):
    # One 4 MiB stored chunk: the first write to the pipe is partial, and io.BufferedWriter then
    # drops the error; nczip must not end with status 0 as if the whole output had been delivered.
    data = os.urandom(4 << 20)
    (tmp_path / "r").write_bytes(data)
    assert nczip("-1", "--chunk-size", "4M", "r", cwd=tmp_path).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "nczip", "-dc", "r.ncz"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **ENV})
    assert proc.stdout is not None and proc.stdout.read(10) == data[:10]
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert err == b"" and proc.returncode == 128 + 13  # SIGPIPE


def test_usage_errors_exit_2(tmp_path):
    for args in (["--no-such-option"], ["-1", "--chunk-size", "x", "f"], ["completion", "tcsh"]):
        done = nczip(*args, cwd=tmp_path)
        assert done.returncode == 2 and b"Traceback" not in done.stderr, args


def test_completion_script_and_completions(tmp_path):
    script = nczip("completion", "bash", cwd=tmp_path)
    assert script.returncode == 0 and b"_NCZIP_COMPLETE=bash_complete" in script.stdout
    done = subprocess.run([sys.executable, "-m", "nczip"], capture_output=True, cwd=tmp_path, timeout=60,
                          env={**os.environ, **ENV, "_NCZIP_COMPLETE": "bash_complete",
                               "COMP_WORDS": "nczip info --j", "COMP_CWORD": "2"})
    assert done.returncode == 0 and b"--json" in done.stdout


def test_help_documents_the_exit_codes(tmp_path):
    text = nczip("--help", cwd=tmp_path).stdout.decode()
    assert "Exit status" in text and "130" in text and "2 usage" in text


def test_progress_line_text():
    line = ProgressLine("compress", 4 << 20, enabled=False, chunks=4, workers=2)
    line._start = 0.0
    line.advance(1 << 20)
    text = line.text(now=10.0)
    assert "1.0 MiB / 4.0 MiB (25%)" in text and "102.4 KiB/s" in text
    assert "ETA 0:00:30" in text and "chunk 1/4" in text and "2 workers" in text
    unknown = ProgressLine("decompress", None, enabled=False)
    unknown.advance(10)
    assert "ETA" not in unknown.text() and "1 chunks" in unknown.text()


def _stderr_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, bytes]:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "nczip", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=follower, env={**os.environ, **ENV})
    os.close(follower)
    return proc.wait(timeout=120), drain_pty(leader)


def test_progress_shows_on_a_terminal_only_and_not_with_q(packed):
    status, seen = _stderr_on_a_terminal(["-1", "-f", "--chunk-size", "500", "a.txt"], packed)
    assert status == 0 and b"compress: " in seen and b"chunk " in seen and b"/s" in seen
    status, seen = _stderr_on_a_terminal(["-1", "-f", "-q", "a.txt"], packed)
    assert status == 0 and seen == b""
    done = nczip("-1", "-f", "a.txt", cwd=packed)  # stderr a pipe: silent
    assert done.returncode == 0 and done.stderr == b""
