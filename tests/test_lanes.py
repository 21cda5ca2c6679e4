"""Lanes: a chunk cut into contiguous parts coded in lockstep, one llama.cpp sequence each.

What must hold: each lane's logits in a lockstep batch equal running that lane alone (so lanes
cost no accuracy beyond their cold starts), the frame records the lanes so any decoder follows
the encoder's schedule, and a hostile lane table is refused before any work.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import nczip
import nczip.methods.tokens
import nczip.levels
from nczip.container import ChunkFrame, read_frames, read_header
from nczip.errors import NczError
from nczip.models import default_model
from nczip.predictors.llm import LlamaModel, LlmContext, LlmPredictor
from nczip import compress_stream
from nczip.tokens import cut_lanes

from conftest import run_nczip


@pytest.fixture(scope="module")
def llama() -> LlamaModel:
    return LlamaModel.load(default_model().path)


def test_cut_lanes_covers_the_input_and_cuts_after_newlines():
    data = b"".join(b"line %d of some text\n" % i for i in range(500))
    parts = cut_lanes(data, 4, 1000)
    assert b"".join(parts) == data and len(parts) == 4
    assert all(part.endswith(b"\n") for part in parts)
    assert cut_lanes(data, 16, len(data) // 3 + 1) == cut_lanes(data, 2, 1)  # min size caps the count
    assert cut_lanes(b"", 8, 1) == [b""] and cut_lanes(b"x" * 10, 8, 100) == [b"x" * 10]
    no_spaces = bytes(range(33, 127)) * 50
    assert b"".join(cut_lanes(no_spaces, 5, 10)) == no_spaces


def test_lockstep_logits_equal_each_lane_run_alone(llama):
    texts = [b"The cat sat on the mat.", b"def main():\n    return 0\n", b"Es war einmal ein"]
    streams = [llama.tokenize(t) for t in texts]
    steps = min(len(s) for s in streams)
    context = LlmContext(llama, n_ctx=64, slide=16, lanes=3)
    alone = [LlmPredictor(llama, n_ctx=64, slide=16) for _ in texts]
    try:
        for step in range(steps):
            context.evaluate([0, 1, 2])
            for lane, single in zip(context.lanes, alone):
                np.testing.assert_array_equal(lane.predict(), single.predict())
            for lane, single, tokens in zip(context.lanes, alone, streams):
                lane.update(tokens[step])
                single.update(tokens[step])
        assert context.evaluations == steps  # one llama_decode per step for all three lanes
    finally:
        context.close()
        for single in alone:
            single.close()


def _lanes_container(data: bytes, lanes: int, monkeypatch, shared: bool = True) -> bytes:
    monkeypatch.setattr(nczip.methods.tokens, "MIN_LANE_BYTES", 256)
    monkeypatch.setattr(nczip.levels, "LLM_SHARED", shared)
    out = io.BytesIO()
    compress_stream(io.BytesIO(data), out, level=4, lanes=lanes)
    return out.getvalue()


def _split(packed: bytes) -> tuple[bytes, ChunkFrame, bytes]:
    """A one-chunk container as header, frame and trailer."""
    src = io.BytesIO(packed)
    header = read_header(src)
    head = packed[:src.tell()]
    frame = next(iter(read_frames(src, header)))
    return head, frame, packed[len(head) + len(frame.to_bytes()):]


def test_lanes_round_trip_through_another_process(tmp_path, alice, monkeypatch):
    data = alice[2000:3200]
    packed = _lanes_container(data, 3, monkeypatch)
    assert _split(packed)[1].payload[:2] == b"\x00\x03"  # no escapes, three lanes, their symbol counts
    assert nczip.decompress(packed) == data
    path = tmp_path / "a.ncz"
    path.write_bytes(packed)
    done = run_nczip("-d", "-c", "-T", "2", str(path))  # another process, two workers
    assert done.returncode == 0 and done.stdout == data


def test_lanes_with_their_own_models_round_trip(alice, monkeypatch):
    data = alice[5000:5800]
    own = _lanes_container(data, 2, monkeypatch, shared=False)
    assert read_header(io.BytesIO(own)).config["llm"]["shared"] is False
    assert nczip.decompress(own) == data


@pytest.mark.parametrize("table", [
    b"\x00\x09\x10" + b"\x10" * 8,  # nine lanes where the header allows three
    b"\x00\x00",  # no lanes
    b"\x00\x03\x00\x05\x05",  # an empty lane
    b"\x00\x02\xff\xff\xff\x7f\x01",  # more symbols than the chunk has bytes
])
def test_hostile_lane_tables_are_refused(alice, monkeypatch, table):
    head, frame, trailer = _split(_lanes_container(alice[2000:3200], 3, monkeypatch))
    assert frame.payload[:2] == b"\x00\x03" and max(frame.payload[2:5]) < 0x80  # one-byte counts
    forged = ChunkFrame(frame.method, frame.original_length, frame.crc32, table + frame.payload[5:])
    with pytest.raises(NczError) as info:
        nczip.decompress(head + forged.to_bytes() + trailer)
    assert "corrupt token chunk header" in str(info.value)


def test_more_lanes_than_the_window_allows_is_a_usage_error(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"text\n")
    done = run_nczip("-9", "--lanes", "65", "a.txt", cwd=tmp_path)  # 65 x 2,048 tokens > 2^17
    assert done.returncode == 2 and b"lanes 65 out of range [1, 64]" in done.stderr
    assert not (tmp_path / "a.txt.ncz").exists()
