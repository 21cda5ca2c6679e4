"""A few thousand mutated containers of every method: each fails in one line or decodes exactly.

The long mode (``python -m bench.fuzz``, 100,000 cases) is recorded in docs/hardening.md; this is
the same harness at a size the default suite can afford.
"""

from __future__ import annotations

import random

from bench.fuzz import FAILURES, bases, fuzz, mutate


def test_every_mutation_kind_changes_the_container():
    rng = random.Random(3)
    packed, _ = bases(llm=False)["level1-chunks"]
    kinds = set()
    unchanged = 0
    for _ in range(400):
        kind, blob = mutate(packed, rng)
        kinds.add(kind)
        unchanged += blob == packed  # e.g. a method "changed" to the one it had
    assert unchanged < 20
    assert {"flip", "length", "shuffle", "duplicate", "drop", "truncate-frame", "config"} <= kinds


def test_two_thousand_mutated_containers_fail_cleanly_or_decode_exactly():
    result = fuzz(2000, seed=11, llm_share=0.01, timeout=60, workers=2)
    assert result["failures"] == 0, result["failing"][:3]
    assert result["outcomes"]["refused"] > 1500
    assert not set(result["outcomes"]) & set(FAILURES)
