"""The Fibonacci phrase hierarchy: its tiling, its predictions, the --tiling switch."""

from __future__ import annotations

import io

import numpy as np
import pytest

import nczip
from nczip.container import read_header
from nczip.predictors.phrases import PhraseHierarchy, tile_starts
from nczip import Component, Tiling, compress_stream

from conftest import run_nczip, token_models

FIBONACCI = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]


def test_fibonacci_tiles_at_level_j_are_consecutive_fibonacci_lengths():
    for level, starts in enumerate(tile_starts("fibonacci", 50000, 10)):
        assert set(np.diff(starts).tolist()) == {FIBONACCI[level], FIBONACCI[level + 1]}


def test_fibonacci_levels_never_run_out_while_period5_collapses():
    fib = [len(s) for s in tile_starts("fibonacci", 100000, 10)]
    periodic = [len(s) for s in tile_starts("period5", 100000, 10)]
    assert all(a > b > 0 for a, b in zip(fib, fib[1:]))
    assert periodic[:5] == [62500, 37500, 25000, 12499, 12499] and periodic[5:] == [0] * 5


def test_tile_starts_do_not_depend_on_how_far_they_were_computed():
    short, long = tile_starts("fibonacci", 5000, 10), tile_starts("fibonacci", 20000, 10)
    for a, b in zip(short, long):
        assert b[b < 5000 - 1024].tolist() == a[a < 5000 - 1024].tolist()


@pytest.mark.parametrize("tiling", ["fibonacci", "period5", "none"])
def test_a_long_repeat_is_predicted_by_a_deep_level(tiling):
    rng = np.random.default_rng(3)
    text = rng.integers(0, 500, 3000).tolist()
    model = PhraseHierarchy(tiling)
    right = 0
    for i, token in enumerate(text + text):
        guess = model.predicted()
        if i >= len(text) + 300 and guess is not None and guess[0] == token:
            right += 1
        model.update(token)
    assert right >= 2700 - 5
    deepest_used = max(np.flatnonzero(model.tries))
    assert deepest_used >= (4 if tiling == "period5" else 9)


def test_tiling_is_recorded_and_decoding_needs_no_flag(tmp_path, alice):
    data = alice[:4000] * 2
    (tmp_path / "in.txt").write_bytes(data)
    done = run_nczip("-1", "--tiling", "period5", "-c", "in.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header = read_header(io.BytesIO(done.stdout))
    assert header.config["tokens"]["ensemble"]["phrase"]["tiling"] == "period5"
    assert nczip.decompress(done.stdout) == data


def test_tiling_switches_the_phrase_predictor_on():
    def ensemble(components: list[str] | None = None, tiling: str | None = None) -> dict:
        out = io.BytesIO()
        compress_stream(io.BytesIO(b"hello world\n" * 50), out, level=1,
                        components=None if components is None else [Component(c) for c in components],
                        tiling=None if tiling is None else Tiling(tiling))
        return read_header(io.BytesIO(out.getvalue())).config["tokens"]["ensemble"]

    assert "phrase" not in ensemble(components=token_models(1))  # off by default: see README (phrase A/B)
    assert ensemble(tiling="none")["phrase"]["tiling"] == "none"
