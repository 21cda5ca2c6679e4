"""Method 8: the context-mixing core with record contexts, for data in fixed-length records
(tables, databases, spreadsheets, the rows of an image such as a fax page).

Where a chunk's bytes repeat at a fixed distance far more often than at others (the length of
a row), that distance is taken as the record length and the core gets two more contexts
(nczip/kernels/cm.c: the position in the record with the byte one record above; the bytes
above, above-left and above-right with the last byte), paq8's record model in a small form. The
payload starts with the record length (a varint), so the decoder runs the same model. Tried only
where :func:`record_length` finds a length, and kept only where it codes smaller than the core
alone (:mod:`nczip.methods.policy`), so a wrong guess costs one more core pass, never a byte.
"""

from __future__ import annotations

import numpy as np

from ..config import CodecConfig
from ..errors import FormatError
from ..predictors import cm
from .base import Bound, ChunkJob, Method
from .tokens import read_varint, varint

METHOD_RECORDS = 8
#: the longest record looked for, and the most bytes of a chunk the search reads
LONGEST, SAMPLE = 2048, 1 << 16
#: a length is taken when bytes equal the byte one record before at least this often, and
#: STRONGER times as often as at the median distance
AGREEMENT, STRONGER = 0.25, 2.0


def record_length(data: bytes) -> int:
    """The record length of ``data`` (the distance at which bytes repeat most), or 0 for none.

    Agreement is counted only at bytes that differ from the byte before them: runs (the white
    of a fax page, zero padding) agree at every distance and would hide the rows. Of distances
    nearly as good as the best (95 %), the shortest: a multiple of a record length repeats as well
    as the length itself. Measured: ptt5 216 (its rows: 1728 pixels), kennedy.xls 13, nci 70;
    text, xml and code below the threshold (docs/cm.md)."""
    a = np.frombuffer(data, dtype=np.uint8)[:SAMPLE]
    if a.size < 8 * 3:
        return 0
    distances = np.arange(3, min(LONGEST, a.size // 4) + 1)
    if distances.size == 0:
        return 0
    change = a[1:] != a[:-1]  # change[i - 1]: byte i differs from byte i - 1
    agree = np.array([int(np.count_nonzero((a[d:] == a[:-d]) & change[d - 1:]))
                      / max(1, int(np.count_nonzero(change[d - 1:]))) for d in distances])
    best = float(agree.max())
    if best < AGREEMENT or best < STRONGER * float(np.median(agree)):
        return 0
    return int(distances[np.argmax(agree >= 0.95 * best)])


class Records(Method):
    id = METHOD_RECORDS
    name = "cm-record"
    bound = Bound(2840, 8)  # the core's coder, and the record length's varint before its payload

    def writes(self, config: CodecConfig) -> bool:
        return config.cm is not None

    def encode(self, data: bytes, job: ChunkJob) -> bytes | None:
        length = record_length(data)
        if not length:
            return None
        assert job.config.cm is not None
        payload = cm.encode(data, job.config.cm, record=length)
        return None if payload is None else varint(length) + payload

    def decode(self, payload: bytes, length: int, job: ChunkJob) -> bytes:
        assert job.config.cm is not None  # writes(): only configurations with the core have its frames
        record, start = read_varint(payload, 0)
        if not 3 <= record <= LONGEST:
            raise FormatError(f"corrupt chunk {job.index} (record length {record})")
        return cm.decode(payload[start:], length, job.config.cm, job.progress, record=record)
