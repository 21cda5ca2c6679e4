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


def with_header(packed: bytes, config: dict | None = None, model: dict | None = None) -> bytes:
    """``packed`` with its header's configuration and/or model identity replaced (CRC recomputed):
    a valid container but for what the caller changed."""
    import io

    from nczip.container import read_header

    src = io.BytesIO(packed)
    header = read_header(src)
    if config is not None:
        header.config = config
    if model is not None:
        header.model = model
    return header.to_bytes() + packed[src.tell():]


def token_models(level: int) -> list:
    """``components=`` that give fast level ``level`` its former token models (before cm/1): the
    tests of those models, which still decode old files and are still selectable, use them."""
    import nczip
    from nczip.levels import token_components

    return [nczip.Component(name) for name in token_components(level)]


def token_flag(level: int) -> tuple[str, str]:
    """The CLI's ``--with`` for :func:`token_models`."""
    from nczip.levels import token_components

    return ("--with", ",".join(token_components(level)))


def drain_pty(leader: int) -> bytes:
    """Everything written to a pseudo-terminal until its other end closes; closes ``leader``."""
    chunks = []
    try:
        while data := os.read(leader, 4096):
            chunks.append(data)
    except OSError:  # EIO once the follower side is closed
        pass
    os.close(leader)
    return b"".join(chunks)
