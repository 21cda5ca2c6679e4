"""Method 6, the LLM inside the core (issue 24): the token -> byte bridge codes a token as its
bytes under the marginals of a token distribution and an end event, and decodes the same token;
its ideal cost is exactly the token's -log2 probability; the method round-trips at an LLM level."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pytest

import nczip
import nczip.methods.tokens
from nczip.config import parse
from nczip.levels import level_config
from nczip.methods.bridge import SortedVocab, p12
from nczip.options import EncodeOptions
from nczip.stream import compress_stream

PIECES = [b"", b"a", b"ab", b"abc", b"b", b"ba", b"c", b"\xff", b"ab\x00"]


class RecordingLane:
    """Stands in for a core lane: records what the encoder codes, replays it to the decoder, and
    sums the ideal cost of the bridge's own probabilities."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.script = script
        self.coded: list[int] = []
        self.bits = 0.0

    def _next(self, value: int | None) -> int:
        if self.script is not None:
            value = self.script.pop(0)
        assert value is not None
        self.coded.append(value)
        return value

    def byte(self, value: int | None, weights: np.ndarray) -> int:
        got = self._next(value)
        assert weights[got] > 0, "a byte some token continues with must have weight"
        self.bits -= math.log2(weights[got] / weights.sum())
        return got

    def event(self, bit: int | None, p: int) -> int:
        got = self._next(bit)
        self.bits -= math.log2((p if got else 4096 - p) / 4096)
        return got


@pytest.mark.parametrize("token", range(1, len(PIECES)))
def test_every_token_round_trips_through_the_bridge(token):
    vocab = SortedVocab(PIECES)
    probs = np.array([0.0, 0.2, 0.1, 0.05, 0.3, 0.1, 0.1, 0.05, 0.1])
    encoder = RecordingLane()
    assert vocab.code(encoder, probs, token) == token
    decoder = RecordingLane(list(encoder.coded))
    assert vocab.code(decoder, probs, None) == token
    # the chain of byte marginals and end events is the token's probability (up to the 12-bit
    # events and the integer weights)
    assert encoder.bits == pytest.approx(-math.log2(probs[token] / probs.sum()), abs=0.01)


def test_end_events_only_where_the_token_could_end_or_go_on():
    vocab = SortedVocab(PIECES)
    lane = RecordingLane()
    vocab.code(lane, np.full(len(PIECES), 0.1), PIECES.index(b"b"))
    assert lane.coded == [ord("b"), 0] or lane.coded == [ord("b"), 1]  # "b" or "ba": one event
    lane = RecordingLane()
    vocab.code(lane, np.full(len(PIECES), 0.1), PIECES.index(b"c"))
    assert lane.coded == [ord("c")]  # nothing longer starts with "c": no event


def test_p12_stays_in_the_coders_range():
    assert p12(0.0) == 1 and p12(1.0) == 4095 and p12(0.5) == 2048


def _options(level: int, lanes: int | None = None) -> EncodeOptions:
    raw, chunk = level_config(level, lanes=lanes)
    raw = copy.deepcopy(raw)
    raw["llm"]["core"] = True
    return EncodeOptions(level, 1, chunk, None, lanes, None, None, raw, parse(raw))


@pytest.mark.parametrize("lanes", [1, 2])
def test_the_method_round_trips_with_lanes_and_escapes(lanes, monkeypatch):
    from nczip.methods.base import ChunkJob, Runtime
    from nczip.methods.bridge import Bridge
    from nczip.models import default_model

    monkeypatch.setattr(nczip.methods.tokens, "MIN_LANE_BYTES", 64)
    data = (("Plain text, then CRLF\r\n\tand tabs\there,\r\n" + " " * 40 + "long whitespace\n"
             "non-ASCII: naïve café, Ελληνικά, 日本語, emoji 🙂\n").encode()
            + b"invalid \xff\xfe utf-8 and control bytes \x04\x06\x13 in a line\nand text again after it.\n")
    options = _options(4, lanes)
    runtime = Runtime(default_model().path, 1)
    payload = Bridge().encode(data, ChunkJob(options.config, runtime))
    assert payload is not None and payload[1] == lanes  # flags (escapes present), then the lane count
    assert payload[0] == 1
    assert Bridge().decode(payload, len(data), ChunkJob(options.config, runtime)) == data
    with pytest.raises(nczip.FormatError):
        Bridge().decode(payload[:-3], len(data), ChunkJob(options.config, runtime))


def test_a_file_with_the_core_setting_round_trips_and_never_writes_method_3():
    data = b"Alice was beginning to get very tired of sitting by her sister on the bank. " * 2
    out = io.BytesIO()
    summary = compress_stream(io.BytesIO(data), out, _options(4))
    assert nczip.decompress(out.getvalue()) == data
    assert "llm" not in summary.methods
