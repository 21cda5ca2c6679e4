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


def test_a_fresh_virtualenv_gets_levels_1_to_3_from_the_wheel_and_its_dependencies(wheel: Path, tmp_path: Path) -> None:
    """The case a user of ``pip install nczip`` is in: a new virtualenv, the wheel and what it
    depends on from PyPI (no llama.cpp: the LLM is the optional ``llm`` extra). Levels 1-3 work;
    level 9 says in one line how to get the LLM levels, before reading any input."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        if any(s in done.stderr for s in ("NewConnectionError", "Network is unreachable", "No matching distribution",
                                          "Temporary failure in name resolution")):
            pytest.skip(f"PyPI is not reachable from here: {done.stderr.strip().splitlines()[-1]}")
        pytest.fail(done.stderr[-2000:])
    installed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True,
                               check=True).stdout.lower()
    assert "llama" not in installed and "torch" not in installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    run = tmp_path / "run"
    run.mkdir()
    nczip = str(venv / "bin" / "nczip")
    data = (ROOT / "corpora" / "alice29.txt").read_bytes()[:30000]
    packed = subprocess.run([nczip, "-c"], input=data, cwd=run, env=env, capture_output=True, check=True).stdout
    back = subprocess.run([nczip, "-dc"], input=packed, cwd=run, env=env, capture_output=True, check=True).stdout
    assert back == data and len(packed) < len(data) // 2
    refused = subprocess.run([nczip, "-9", "-c"], input=data, cwd=run, env=env, capture_output=True, text=False)
    message = refused.stderr.decode()
    assert refused.returncode == 1 and refused.stdout == b""
    assert message.count("\n") == 1 and "scripts/setup.sh llm" in message, message
