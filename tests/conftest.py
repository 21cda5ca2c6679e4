from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"
SHARED_CORPORA = ROOT.parent / "shared" / "corpora"


def run_nczip(*args: str, input: bytes | None = None, cwd: str | os.PathLike | None = None,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the command line as a user would, capturing bytes."""
    return subprocess.run([sys.executable, "-m", "nczip", *args], input=input, capture_output=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=600)


@pytest.fixture
def alice() -> bytes:
    return (CORPORA / "alice29.txt").read_bytes()
