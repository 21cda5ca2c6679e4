"""The fast levels: the context-mixing core by default; the former compact token layout and online
SSM (selected with components), determinism across worker counts."""

from __future__ import annotations

import io

import numpy as np
import pytest

import nczip
from nczip.container import read_header
from nczip.backend import kernels_part
from nczip.models import default_model
from nczip.predictors.llm import LlamaModel
from nczip.predictors.ssm import OnlineSSM
from nczip.tokens import from_compact_symbols, segment, to_compact_symbols

from conftest import run_nczip, token_flag, token_models, with_header
from test_llm import MIXED


@pytest.fixture(scope="module")
def vocab() -> LlamaModel:
    return LlamaModel.load(default_model().path, vocab_only=True)


def test_compact_layout_reproduces_every_byte(vocab):
    segments = segment(MIXED * 2, vocab.tokenize, vocab.pieces())
    symbols = to_compact_symbols(segments)
    assert from_compact_symbols(symbols, vocab.pieces()) == MIXED * 2
    # The second copy of the text reuses the first copy's types: no new-type announcements.
    tokens = [t for s in segments if s.tokens for t in s.tokens]
    assert symbols.count(1) >= len(set(tokens)) and symbols.count(1) < len(tokens)


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("design", ["cm", "tokens"])
def test_fast_levels_round_trip_mixed_text(level, design, alice):
    data = alice[:3000] + MIXED + alice[3000:4000]
    packed = nczip.compress(data, level=level, components=token_models(level) if design == "tokens" else None)
    assert nczip.decompress(packed) == data
    assert nczip.scan_container(io.BytesIO(packed)).methods == {design: 1}


def test_context_mixing_levels_name_no_model():
    header = read_header(io.BytesIO(nczip.compress(b"x" * 10, level=2)))
    assert header.model == {} and header.config["cm"]["name"] == "cm/1"


def test_fast_levels_record_the_kernel_backend():
    header = read_header(io.BytesIO(nczip.compress(b"x" * 10, level=3, components=token_models(3))))
    assert header.config["tokens"]["ssm"]["dm"] == 48 and header.config["tokens"]["ssm"]["shortlist"] == 8192
    assert header.model["sha256"] == default_model().sha256
    # numpy's SIMD level is no longer part of it: no numpy transcendental is on the coding path
    assert header.model["backend"] == kernels_part()
    # Level 1 has no SSM, but its mixer and quantiser run in the same kernels.
    assert read_header(io.BytesIO(nczip.compress(b"x" * 10, level=1, components=token_models(1)))
                       ).model["backend"] == kernels_part()


def test_ssm_learns_a_repeating_sequence():
    ssm = OnlineSSM(100, block=8, lr=0.01)
    pattern = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 60
    first = last = 0.0
    for i, rank in enumerate(pattern):
        p = ssm.probs(10) if i >= 10 else None
        if p is not None and i < 100:
            first -= np.log(p[rank])
        if p is not None and i >= len(pattern) - 90:
            last -= np.log(p[rank])
        ssm.update(rank, 10)
    assert last < 0.25 * first  # nats over 90 tokens: from near-uniform to mostly right


def test_ssm_is_reproducible_from_its_seed():
    def run() -> np.ndarray:
        ssm = OnlineSSM(50, block=4)
        for rank in [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4]:
            ssm.update(rank, 10)
        return ssm.probs(10).copy()

    assert np.array_equal(run(), run())


@pytest.mark.parametrize("enc_threads,dec_threads", [(1, 2), (2, 1)])
def test_ssm_level_output_does_not_depend_on_worker_count(tmp_path, alice, enc_threads, dec_threads):
    data = alice[:6000]
    (tmp_path / "in.txt").write_bytes(data)
    args = ("-3", *token_flag(3), "--chunk-size", "2000", "-c", "in.txt")
    one = run_nczip(*args, "-T", str(enc_threads), cwd=tmp_path)
    other = run_nczip(*args, "-T", str(3 - enc_threads), cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert one.stdout == other.stdout
    back = run_nczip("-d", "-T", str(dec_threads), "-c", input=one.stdout)
    assert back.returncode == 0 and back.stdout == data


def test_ssm_beats_the_type_counts_alone(alice):
    from nczip import Component, compress_stream

    def size(components: list[str]) -> int:
        out = io.BytesIO()
        compress_stream(io.BytesIO(alice[:20000]), out, level=3, components=[Component(c) for c in components])
        return len(out.getvalue())

    assert size(["ssm"]) < size([])


def test_a_file_from_another_ssm_version_is_refused_by_name(alice):
    from nczip.errors import FormatError

    packed = nczip.compress(alice[:3000], level=3, components=token_models(3))
    config = read_header(io.BytesIO(packed)).config
    # a retired version (its initialisation used libm's log): refused by name, before decoding
    config["tokens"]["ssm"]["name"] = "ssm/2"
    with pytest.raises(FormatError, match=r"ssm/2 model was written by an earlier development version.*ssm/3"):
        nczip.decompress(with_header(packed, config=config))
    config["tokens"]["ssm"]["name"] = "ssm/9"
    with pytest.raises(FormatError, match=r"unknown model 'ssm/9' \(this nczip runs ssm/3\)"):
        nczip.decompress(with_header(packed, config=config))
