"""The command line as a gzip/zstd user drives it: files, pipes, suffixes, refusals, one-line errors."""

from __future__ import annotations

import os
import pty
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import drain_pty, run_nczip

TEXT = b"It was the best of times, it was the worst of times.\n" * 30


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "doc.txt").write_bytes(TEXT)
    return tmp_path


def _no_traceback(result: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in result.stderr
    assert result.stderr.count(b"\n") == 1, result.stderr


def test_compress_then_decompress_a_file_keeps_the_input(workdir):
    r = run_nczip("-1", "doc.txt", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert (workdir / "doc.txt").read_bytes() == TEXT and (workdir / "doc.txt.ncz").exists()
    (workdir / "doc.txt").rename(workdir / "orig.txt")
    r = run_nczip("-d", "doc.txt.ncz", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert (workdir / "doc.txt").read_bytes() == TEXT
    assert not list(workdir.glob(".nczip-*")), "temporary file left behind"


@pytest.mark.parametrize("data", [b"", b"z", b"\xff\xfe\x00invalid utf-8 \xc3",
                                  random.Random(3).randbytes(5000), TEXT * 3],
                         ids=["empty", "one byte", "invalid utf-8", "random", "text"])
def test_pipe_round_trip(data):
    packed = run_nczip("-1", "-c", input=data)
    assert packed.returncode == 0, packed.stderr
    unpacked = run_nczip("-dc", input=packed.stdout)
    assert unpacked.returncode == 0, unpacked.stderr
    assert unpacked.stdout == data


def test_shell_pipeline_with_several_chunks_and_workers(workdir, alice):
    (workdir / "a.txt").write_bytes(alice[:20000])
    cmd = (f"cat a.txt | {sys.executable} -m nczip -1 -T 2 --chunk-size 6K -c "
           f"| {sys.executable} -m nczip -dc -T 1 | cmp - a.txt")
    assert subprocess.run(cmd, shell=True, cwd=workdir, timeout=600).returncode == 0


def test_refuses_to_overwrite_without_force(workdir):
    (workdir / "doc.txt.ncz").write_bytes(b"precious")
    r = run_nczip("-1", "doc.txt", cwd=workdir)
    assert r.returncode == 1 and b"already exists" in r.stderr
    _no_traceback(r)
    assert (workdir / "doc.txt.ncz").read_bytes() == b"precious"
    r = run_nczip("-1", "-f", "doc.txt", cwd=workdir)
    assert r.returncode == 0 and (workdir / "doc.txt.ncz").read_bytes() != b"precious"


def test_rm_removes_input_only_after_success(workdir):
    r = run_nczip("-1", "--rm", "doc.txt", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert not (workdir / "doc.txt").exists()
    r = run_nczip("-d", "--rm", "doc.txt.ncz", cwd=workdir)
    assert r.returncode == 0 and (workdir / "doc.txt").read_bytes() == TEXT
    assert not (workdir / "doc.txt.ncz").exists()


def test_output_option_and_suffix_rules(workdir):
    assert run_nczip("-1", "-o", "out.bin", "doc.txt", cwd=workdir).returncode == 0
    r = run_nczip("-d", "out.bin", cwd=workdir)
    assert r.returncode == 1 and b"unknown suffix" in r.stderr
    r = run_nczip("-d", "-o", "back.txt", "out.bin", cwd=workdir)
    assert r.returncode == 0 and (workdir / "back.txt").read_bytes() == TEXT


BAD = {
    "empty": b"",
    "not nczip": b"hello world, not compressed\n",
    "random": random.Random(5).randbytes(2000),
}


@pytest.mark.parametrize("kind", [*BAD, "truncated", "bit-flipped", "future version"])
def test_bad_input_gives_one_line_and_leaves_nothing(workdir, kind):
    good = run_nczip("-1", "-c", "doc.txt", cwd=workdir).stdout
    if kind == "truncated":
        data = good[: len(good) // 2]
    elif kind == "bit-flipped":
        data = bytearray(good)
        data[len(good) // 2] ^= 0x10
        data = bytes(data)
    elif kind == "future version":
        data = good[:4] + bytes([99]) + good[5:]
    else:
        data = BAD[kind]
    (workdir / "bad.ncz").write_bytes(data)
    r = run_nczip("-d", "bad.ncz", cwd=workdir)
    assert r.returncode == 1
    _no_traceback(r)
    assert r.stderr.startswith(b"nczip: bad.ncz: ")
    assert not (workdir / "bad").exists()
    assert not list(workdir.glob(".nczip-*"))
    assert (workdir / "bad.ncz").read_bytes() == data
    # info reads the structure only (as gzip -l does): a flip inside a chunk's payload passes it.
    for command in ("test",) if kind == "bit-flipped" else ("test", "info"):
        r = run_nczip(command, "bad.ncz", cwd=workdir)
        assert r.returncode == 1
        _no_traceback(r)


def test_future_version_message_names_the_version(workdir):
    good = run_nczip("-1", "-c", "doc.txt", cwd=workdir).stdout
    r = run_nczip("-dc", input=good[:4] + bytes([7]) + good[5:])
    assert b"unsupported format version 7" in r.stderr


def test_missing_file_and_directory_are_one_line_errors(workdir):
    for args in (("missing.txt",), ("-d", "missing.ncz"), (str(workdir),)):
        r = run_nczip(*args, cwd=workdir)
        assert r.returncode == 1
        _no_traceback(r)


def test_info_and_test_report_on_a_good_file(workdir):
    run_nczip("-1", "doc.txt", cwd=workdir)
    r = run_nczip("info", "doc.txt.ncz", cwd=workdir)
    assert r.returncode == 0
    for field in (b"format version:  1", b"level:           1", b"chunks:", b"original size:   1590",
                  b"bits per byte:", b"model:"):
        assert field in r.stdout
    r = run_nczip("-t", "-v", "doc.txt.ncz", cwd=workdir)
    assert r.returncode == 0 and b"OK" in r.stderr
    assert not (workdir / "doc.txt").with_suffix(".txt.out").exists()


def test_verbose_compress_reports_ratio_and_coder_overhead(workdir):
    r = run_nczip("-1", "-v", "-c", "doc.txt", cwd=workdir)
    assert b"bpb" in r.stderr and b"coder overhead" in r.stderr


def _run_with_tty_stdout(args: list[str]) -> tuple[int, bytes]:
    """Run nczip with stdout on a pseudo-terminal; return (status, what reached the terminal)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "nczip", *args], stdin=subprocess.PIPE,
                            stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    _, err = proc.communicate(TEXT, timeout=120)
    return proc.returncode, err + drain_pty(leader)


def test_refuses_to_write_compressed_data_to_a_terminal():
    status, seen = _run_with_tty_stdout(["-1"])
    assert status == 1 and b"terminal" in seen and b"\x89NCZ" not in seen


def test_unknown_model_component_is_a_usage_error(workdir):
    (workdir / "a.txt").write_bytes(b"some text\n")
    done = run_nczip("-9", "--with", "lstm", "a.txt", cwd=workdir)
    assert done.returncode == 2
    assert b"--with: unknown ensemble component(s): lstm" in done.stderr
    assert b"Traceback" not in done.stderr and not (workdir / "a.txt.ncz").exists()


def test_decompress_skips_zero_padding_and_says_so_as_gzip_does(tmp_path, alice):
    packed = run_nczip("-1", "-c", input=alice[:5000]).stdout
    (tmp_path / "p.ncz").write_bytes(packed + bytes(1000))
    done = run_nczip("-d", "p.ncz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b"nczip: p.ncz: decompression OK, 1000 trailing zero bytes ignored\n"
    assert (tmp_path / "p").read_bytes() == alice[:5000]
    assert run_nczip("-d", "-q", "-c", "p.ncz", cwd=tmp_path).stderr == b""
    garbage = run_nczip("-d", "-c", input=packed + bytes(3) + b"junk")
    assert garbage.returncode == 1
    assert garbage.stderr == f"nczip: -: trailing garbage at byte {len(packed) + 3} (neither an nczip container " \
                             "nor zero padding)\n".encode()
