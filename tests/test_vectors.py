"""Every stored container decodes to its original forever (formats/vectors/)."""

from __future__ import annotations

from pathlib import Path

import pytest

import nczip

VECTORS = sorted((Path(__file__).resolve().parent.parent / "formats" / "vectors").glob("*.ncz"))


def test_vectors_exist():
    assert len(VECTORS) >= 5


@pytest.mark.parametrize("vector", VECTORS, ids=[v.stem for v in VECTORS])
def test_vector_decodes_to_its_original(vector: Path):
    assert nczip.decompress(vector.read_bytes()) == vector.with_suffix("").read_bytes()
