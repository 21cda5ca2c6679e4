"""The LLM levels: exact tokens, deterministic coding across worker counts, model identity."""

from __future__ import annotations

import io

import numpy as np
import pytest

import nczip
from nczip.container import Header, read_header
from nczip.errors import NczError
from nczip.config import parse as parse_config
from nczip.levels import level_config
from nczip.models import default_model
from nczip.predictors.llm import LlamaModel
from nczip.tokens import from_symbols, segment, to_symbols

from conftest import run_nczip

MIXED = ("Plain text, then CRLF\r\n\tand tabs\t\there,\r\n" + " " * 40 + "long whitespace\n"
         "non-ASCII: naïve café, Ελληνικά, 日本語, emoji 🙂\n").encode() + \
    b"invalid \xff\xfe utf-8 and control bytes \x04\x06\x13\x14\x16\x1d in a line\n" + \
    b"and text again after it.\n"


@pytest.fixture(scope="module")
def llama() -> LlamaModel:
    return LlamaModel.load(default_model().path)


def test_segments_reproduce_every_byte(llama):
    segments = segment(MIXED, llama.tokenize, llama.pieces())
    escape = llama.n_vocab
    assert from_symbols(to_symbols(segments, escape), escape, llama.pieces()) == MIXED
    assert any(s.tokens is None for s in segments) and any(s.tokens for s in segments)


def test_detokenizer_is_not_trusted(llama):
    # The tokenizer drops these control bytes; a round trip through it alone would lose them.
    data = b"a\x04b"
    assert b"".join(llama.pieces()[t] for t in llama.tokenize(data)) != data
    segments = segment(data, llama.tokenize, llama.pieces())
    assert from_symbols(to_symbols(segments, llama.n_vocab), llama.n_vocab, llama.pieces()) == data


def test_level9_round_trip_of_mixed_text():
    packed = nczip.compress(MIXED, level=9)
    assert nczip.decompress(packed) == MIXED
    assert nczip.scan_container(io.BytesIO(packed)).methods == {"llm": 1}


def test_sliding_context_round_trips(alice):
    # Level 4 keeps 256 tokens and slides by 64: ~1,200 bytes of text force several slides.
    data = alice[2000:3200]
    assert nczip.decompress(nczip.compress(data, level=4)) == data


def test_llm_beats_the_byte_model_on_text(alice):
    data = alice[5000:8000]
    assert len(nczip.compress(data, level=9)) < len(nczip.compress(data, level=3))


@pytest.mark.parametrize("enc_threads,dec_threads", [(1, 2), (2, 1)])
def test_worker_count_never_changes_the_bytes(tmp_path, alice, enc_threads, dec_threads):
    data = alice[:1800]
    (tmp_path / "in.txt").write_bytes(data)
    one = run_nczip("-9", "-T", str(enc_threads), "--chunk-size", "600", "-c", "in.txt", cwd=tmp_path)
    other = run_nczip("-9", "-T", str(3 - enc_threads), "--chunk-size", "600", "-c", "in.txt", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert one.stdout == other.stdout
    back = run_nczip("-d", "-T", str(dec_threads), "-c", input=one.stdout)
    assert back.returncode == 0 and back.stdout == data


def test_decoder_refuses_a_file_whose_model_it_does_not_have():
    packed = nczip.compress(b"some text to code with the model\n", level=5)
    src = io.BytesIO(packed)
    header = read_header(src)
    header.model = {**header.model, "sha256": "0" * 64, "name": "other-model"}
    forged = header.to_bytes() + packed[src.tell():]
    with pytest.raises(NczError, match="needs model other-model .sha256 0000"):
        nczip.decompress(forged)


def test_header_names_model_and_backend():
    header = read_header(io.BytesIO(nczip.compress(b"x" * 10, level=6)))
    assert header.model["sha256"] == default_model().sha256
    llama, kernels = header.model["backend"].split("; ")
    assert llama == "llama.cpp 0.3.36 SSE3 SSSE3 AVX AVX2 F16C FMA BMI2 OPENMP REPACK"  # the pinned build
    assert kernels == "kernels 2 x86_64"  # the mixer's passes and the log-softmax run in the C kernels
    assert header.config["llm"]["n_ctx"] == 1024
    assert isinstance(header, Header)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fields.c", "cp.html"])
def test_level9_round_trip_on_canterbury_files(name):
    # Slow (~1-3 minutes each on 2 cores): python3 -m pytest -m slow tests/test_llm.py
    from conftest import SHARED_CORPORA

    path = SHARED_CORPORA / "canterbury" / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    data = path.read_bytes()
    assert nczip.decompress(nczip.compress(data, level=9)) == data


def test_llm_skip_round_trips_through_batched_catch_up(monkeypatch):
    # Repetitive text makes the cheap models certain, so the skip fires and the LLM later
    # evaluates the skipped tokens in one batch; the decoder must reproduce that schedule.
    from nczip.predictors.mixer import TokenMixer
    from nczip import Component, compress_stream, decompress_stream

    skipped: list[int] = []
    original_update = TokenMixer.update

    def counting_update(self, token):
        original_update(self, token)
        skipped.append(self.skipped)

    monkeypatch.setattr(TokenMixer, "update", counting_update)
    data = b"The Queen said to the Hatter: off with his head, and the Hatter ran away. " * 20
    packed = io.BytesIO()
    compress_stream(io.BytesIO(data), packed, level=4, components=[Component(c) for c in ("ngram", "bias", "mixer", "skip")])
    assert max(skipped) > 20, "the skip never fired; the test would not exercise the catch-up path"
    out = io.BytesIO()
    decompress_stream(io.BytesIO(packed.getvalue()), out)
    assert out.getvalue() == data


def test_the_ssm_stage_at_an_llm_level_round_trips_and_learns(alice):
    # The online SSM as a mixer stage beside the LLM: its vocabulary is the chunk's token types in
    # order of first appearance, which the decoder rebuilds from the tokens it has decoded.
    from nczip.predictors.mixer import TokenMixer
    from nczip.predictors.ssm import SsmStage
    from nczip import Component, compress_stream, decompress_stream

    data = alice[:3000]
    packed = io.BytesIO()
    compress_stream(io.BytesIO(data), packed, level=4, components=[Component(c) for c in ("ngram", "bias", "mixer", "ssm")])
    out = io.BytesIO()
    decompress_stream(io.BytesIO(packed.getvalue()), out)
    assert out.getvalue() == data
    mixer = TokenMixer(np.ones(1000, dtype=bool), parse_config(level_config(4, ["ssm"])[0]).ensemble)
    for token in [5, 9, 5, 7, 9, 5]:
        mixer.predict(np.zeros(1000))
        mixer.update(token)
    stage = mixer.stage("ssm")
    assert isinstance(stage, SsmStage)
    assert stage.compact == {5: 0, 9: 1, 7: 2} and list(stage.type_ids[:3]) == [5, 9, 7]
    assert stage.ssm.counts[:3].tolist() == [3.0, 2.0, 1.0]
