"""Method 8 (issue 26): the core with record contexts for fixed-length records. The record length
is found where rows repeat (and not in text or code), the payload names it, the round trip is
exact, and a table codes smaller than under the core alone."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

import nczip
from nczip.errors import FormatError
from nczip.methods.records import record_length

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "corpora" / "alice29.txt").read_bytes()


def _table(rows: int, width: int = 24, seed: int = 1) -> bytes:
    """Fixed-width records: an id that counts, a few slowly changing fields, some noise."""
    rng = random.Random(seed)
    out = bytearray()
    price = 1000
    for i in range(rows):
        price += rng.randrange(-3, 4)
        record = f"{i:08d}|{price:06d}|{rng.choice('ABCD')}|".encode() + bytes([rng.randrange(256)])
        out += record.ljust(width, b" ")
    return bytes(out)


def test_the_record_length_is_found_in_tables_and_not_in_text() -> None:
    assert record_length(_table(3000)) == 24
    assert record_length(_table(3000, width=37)) == 37
    assert record_length(TEXT) == 0
    assert record_length(b"") == 0 and record_length(b"abc") == 0


def test_a_table_is_coded_with_its_records_smaller_than_by_the_core_alone() -> None:
    table = _table(6000)
    packed = nczip.compress(table, level=1)
    assert nczip.decompress(packed) == table
    assert nczip.scan_container(io.BytesIO(packed)).methods == {"cm-record": 1}
    from nczip.levels import level_config
    from nczip.config import parse
    from nczip.predictors import cm

    spec = parse(level_config(1)[0]).cm
    assert spec is not None
    alone = cm.encode(table, spec)
    assert alone is not None and len(packed) < 0.9 * len(alone)


def test_text_is_not_taken_for_records() -> None:
    packed = nczip.compress(TEXT[:40000], level=1)
    assert nczip.scan_container(io.BytesIO(packed)).methods == {"cm": 1}


@pytest.mark.parametrize("record", [0, 1, 2, 2049, 1 << 20])
def test_a_record_length_out_of_range_is_refused(record: int) -> None:
    from nczip.container import METHOD_STORED  # noqa: F401 (the frame layout is the container's)
    from nczip.methods.records import Records
    from nczip.methods.base import ChunkJob
    from nczip.methods.tokens import varint
    from nczip.levels import level_config
    from nczip.config import parse

    job = ChunkJob(parse(level_config(1)[0]))
    with pytest.raises(FormatError, match="record length"):
        Records().decode(varint(record) + b"\0" * 16, 100, job)
