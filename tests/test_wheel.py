"""Packaging: a wheel built from this checkout holds everything nczip needs at run time (its
compiled kernels, the metadata dictionaries, the model registry), and the installed package
compresses and decompresses with no checkout in sight."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(done.stderr[-2000:])
    (found,) = out.glob("nczip-*.whl")
    return found


def test_the_wheel_holds_what_nczip_needs_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert any(n.startswith("nczip/_kernels") and n.endswith(".so") for n in names)
    for required in ("nczip/model-registry.json", "nczip/metadata-dictionary-1.txt",
                     "nczip/metadata-dictionary-2.txt", "nczip/metadata-dictionary-3.txt",
                     "nczip/kernels/cm.c", "nczip/kernels/cflags.txt", "nczip/__main__.py"):
        assert required in names, required
    assert not any(n.startswith(("tests/", "bench/", "corpora/")) for n in names)


def test_the_installed_wheel_works_without_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}  # the installed copy, not this checkout
    data = (ROOT / "corpora" / "alice29.txt").read_bytes()[:20000]
    run = tmp_path / "run"
    run.mkdir()
    where = subprocess.run([sys.executable, "-c", "import nczip, sys; sys.stdout.write(nczip.__file__)"],
                           cwd=run, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(target))
    packed = subprocess.run([sys.executable, "-m", "nczip", "-2", "-c"], input=data, cwd=run, env=env,
                            capture_output=True, check=True).stdout
    back = subprocess.run([sys.executable, "-m", "nczip", "-d", "-c"], input=packed, cwd=run, env=env,
                          capture_output=True, check=True).stdout
    assert back == data and len(packed) < len(data) // 2
    listed = subprocess.run([sys.executable, "-c", "from nczip.models import registry; print(registry()['default'])"],
                            cwd=run, env=env, capture_output=True, text=True, check=True).stdout
    assert listed.strip() == "smollm2-135m-instruct-q4_1"
