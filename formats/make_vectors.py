"""Write the v1 test vectors. Run once per format version; never regenerate existing vectors:
they pin what every later nczip must still decode."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import nczip

HERE = Path(__file__).resolve().parent / "vectors"
ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"

CASES = {
    "v1-empty": (b"", 1, None),
    "v1-one-byte": (b"A", 1, None),
    "v1-text-level1": (ALICE.read_bytes()[:4000], 1, None),
    "v1-text-level3": (ALICE.read_bytes()[4000:7000], 3, None),
    "v1-mixed-chunks": (ALICE.read_bytes()[:2500] + random.Random(11).randbytes(700)
                        + bytes(range(256)) * 8 + "naïve café ☕\r\n\ttabs".encode() * 20, 2, 1024),
    # written after the header's configuration became deflated (flag bit 0)
    "v1-deflated-header": (ALICE.read_bytes()[7000:9000], 2, None),
}

if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name, (data, level, chunk) in CASES.items():
        if (HERE / f"{name}.ncz").exists() and "--force" not in sys.argv:
            continue
        (HERE / name).write_bytes(data)
        (HERE / f"{name}.ncz").write_bytes(nczip.compress(data, level=level, chunk_size=chunk))
        print(name)
