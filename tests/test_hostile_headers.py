"""Headers are untrusted input: hostile configuration values get a one-line refusal, never a crash.

Each case takes a valid container, changes its header's configuration or model identity and
re-signs the header (a correct CRC), so only :mod:`nczip.config`'s validation stands between the
value and the models' allocations and C kernels. The named cases are the ones found by hand
(issues 13 and 16); the hypothesis test mutates fields at random: types, ranges, missing and
unknown keys.
"""

from __future__ import annotations

import copy
import io
import json
import struct
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nczip
from nczip.container import read_header
from nczip.errors import NczError

from conftest import run_nczip, token_models, with_header

TEXT = b"The quick brown fox jumps over the lazy dog. " * 4 + b"Pack my box with five dozen liquor jugs.\n"


@pytest.fixture(scope="module")
def containers() -> dict[int, bytes]:
    """Tiny valid containers whose one chunk is coded by each level's token models (levels 1 and 3:
    the former token models, selected by components)."""
    out = {}
    for level in (1, 3, 4):
        packed = nczip.compress(TEXT, level=level, components=token_models(level) if level < 4 else None)
        assert nczip.scan_container(io.BytesIO(packed)).methods == {"llm" if level == 4 else "tokens": 1}
        out[level] = packed
    return out


def _config(packed: bytes) -> dict[str, Any]:
    return read_header(io.BytesIO(packed)).config


def _set(tree: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``tree`` with the field at dotted ``path`` set (``DELETE`` removes it)."""
    tree = copy.deepcopy(tree)
    *parents, last = path.split(".")
    node = tree
    for key in parents:
        node = node[key]
    if value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return tree


DELETE = object()

# (level, field, value, what the one-line error must say)
NAMED = [
    (3, "tokens.ssm.di", 1 << 20, "di 1048576 out of range"),  # was a segfault (C stack arrays)
    (4, "ensemble.ssm", {"name": "ssm/3", "dm": 8, "di": 1 << 20, "ds": 4, "layers": 1, "conv": 4, "dt_rank": 4,
                         "shortlist": 16, "block": 4, "lr": 0.01, "seed": 1}, "di 1048576 out of range"),
    (3, "tokens.ssm.layers", 100000, "layers 100000 out of range"),  # was 4 GiB in 36 s
    (3, "tokens.ssm.dm", 50000, "dm 50000 out of range"),  # was a 19.7 GB allocation
    (3, "tokens.ssm.shortlist", 200000000, "shortlist 200000000 out of range"),
    (1, "tokens.ensemble.phrase", {"tiling": "fibonacci", "levels": 200000, "max_entries": 16}, "levels 200000"),
    (3, "tokens.ssm.conv", 0, "conv 0 out of range"),
    (3, "tokens.ssm.dt_rank", 0, "dt_rank 0 out of range"),
    (3, "tokens.ssm.block", 0, "block 0 out of range"),
    (3, "tokens.ssm.shortlist", 0, "shortlist 0 out of range"),
    (3, "tokens.ssm.dm", -48, "dm -48 out of range"),
    (3, "tokens.ssm.dm", 10 ** 4000, "000... out of range [1, 256]"),  # the message quotes it shortly
    (3, "tokens.ssm.seed", -1, "seed -1 out of range"),
    (3, "tokens.ssm.dm", "48", "dm must be an integer, not a string"),
    (3, "tokens.ssm.dm", 48.0, "dm must be an integer, not float"),
    (3, "tokens.ssm.dm", True, "dm must be an integer, not a boolean"),
    (3, "tokens.ssm.dm", DELETE, "missing 'dm'"),
    (3, "tokens.ssm.lr", float("nan"), "lr nan out of range"),
    (3, "tokens.ssm.lr", float("inf"), "lr inf out of range"),
    (1, "tokens", [], "tokens: must be an object, not a list"),
    (3, "tokens.ssm", "ssm", "ssm: must be an object, not a string"),
    (1, "predictor", 5, "predictor: must be an object, not int"),
    (4, "llm", None, "llm: must be an object, not null"),
    (1, "predictor", DELETE, "missing 'predictor'"),
    (4, "llm.n_ctx", 0, "n_ctx 0 out of range"),
    (4, "llm.n_ctx", 1000000000, "n_ctx 1000000000 out of range"),
    (4, "llm.slide", 0, "slide 0 out of range"),
    (4, "llm.name", "llm/3", "unknown model 'llm/3' (this nczip runs llm/2)"),
    (4, "llm.name", "llm/1", "llm/1 model was written by an earlier development version"),
    (4, "ensemble.telepathy", {"lr": 1.0}, "unknown field 'telepathy'"),
    (1, "tokens.ensemble.ngram.orders", [2, 2], "orders must be a list of 1 to 16 distinct integers"),
    (1, "tokens.ensemble.ngram.orders", list(range(1, 100)), "orders must be a list"),
    (1, "surprise", 1, "unknown field 'surprise'"),
    (1, "quantize", 4, "quantize 4 out of range"),
    (1, "predictor.max_order", 99, "max_order 99 out of range"),
    (1, "predictor.name", "bytes-ppm/2", "unknown model 'bytes-ppm/2'"),
    (1, "tokens.ensemble.phrase", {"tiling": "penrose", "levels": 3, "max_entries": 16}, "tiling 'penrose'"),
    (1, "tokens.name", "compact/1", "compact/1 model was written by an earlier development version"),
    (4, "ensemble.name", "mixer/7", "unknown model 'mixer/7'"),
    # lanes: each is a KV window allocated up front, so lanes x n_ctx is bounded (2^17 tokens)
    (4, "llm.lanes", 0, "lanes 0 out of range"),
    (4, "llm.lanes", 100000, "lanes 100000 out of range [1, 256]"),
    (4, "llm", {"name": "llm/2", "n_ctx": 8192, "slide": 64, "lanes": 17}, "lanes 17 out of range [1, 16]"),
    (4, "llm.shared", 1, "shared must be true or false, not int"),
]


@pytest.mark.parametrize("level,path,value,message", NAMED, ids=[f"{c[0]}-{c[1]}-{c[3][:20]}" for c in NAMED])
def test_named_hostile_values_are_refused_in_one_line(containers, level, path, value, message):
    forged = with_header(containers[level], config=_set(_config(containers[level]), path, value))
    with pytest.raises(NczError) as info:
        nczip.decompress(forged)
    assert message in str(info.value) and "\n" not in str(info.value)


def _raw_header(config_json: bytes, model_json: bytes = b"") -> bytes:
    """A header whose metadata is given as raw JSON bytes (what json.dumps cannot write)."""
    from nczip.container import _HEAD, FLAG_DEFLATED_METADATA, MAGIC

    def deflate(raw: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(raw) + packer.flush() if raw else b""

    config, model = deflate(config_json), deflate(model_json)
    body = (_HEAD.pack(MAGIC, 1, FLAG_DEFLATED_METADATA, 1 << 16, 1) + struct.pack("<H", len(config)) + config
            + struct.pack("<H", len(model)) + model)
    return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize("config_json", [b"[" * 30000 + b"]" * 30000, b'{"a":' * 20000 + b"1" + b"}" * 20000,
                                         b'{"predictor": NaN}', b"\xff\xfe", b'"just a string"'])
def test_malformed_configuration_json_is_refused(config_json):
    with pytest.raises(NczError) as info:
        nczip.decompress(_raw_header(config_json) + b"E")
    assert "\n" not in str(info.value)


MODEL_CASES = [
    ({"name": 5, "sha256": "0" * 64}, "name must be a string"),
    ({"name": "x", "sha256": "xyz"}, "sha256 must be 64 lowercase hexadecimal digits"),
    ({"name": "x"}, "missing 'sha256'"),
    ([1, 2], None),  # not an object: the container layer refuses it as corrupt
]


@pytest.mark.parametrize("model,message", MODEL_CASES)
def test_hostile_model_identities_are_refused(containers, model, message):
    if isinstance(model, list):
        forged = _raw_header(json.dumps(_config(containers[1])).encode(), json.dumps(model).encode()) + b"E"
    else:
        forged = with_header(containers[1], model=model)
    with pytest.raises(NczError) as info:
        nczip.decompress(forged)
    assert (message or "corrupt header") in str(info.value)


def test_another_backend_is_refused_before_decoding(containers):
    model = read_header(io.BytesIO(containers[4])).model
    native = "llama.cpp 0.3.36 SSE3 SSSE3 AVX AVX2 F16C FMA BMI2 AVX512 AMX_INT8 OPENMP REPACK; kernels 2 x86_64"
    with pytest.raises(NczError, match=r"cannot decode this file here: it was made with llama.cpp 0.3.36 .*AVX512"):
        nczip.decompress(with_header(containers[4], model={**model, "backend": native}))
    for recorded, message in [("kernels 3 x86_64", "needs nczip kernels 3"), ("kernels 2 aarch64", "kernels 2 aarch64"),
                              ("nczip-kernels/1 x86_64; numpy 2.4.6 AVX2", "earlier development version")]:
        forged = with_header(containers[1], model={**model, "backend": recorded})
        with pytest.raises(NczError, match=message):
            nczip.decompress(forged)


def test_info_and_decompress_give_one_line_and_exit_1(tmp_path, containers):
    forged = tmp_path / "forged.ncz"
    forged.write_bytes(with_header(containers[3], config=_set(_config(containers[3]), "tokens", "not an object")))
    for args in (["info", str(forged)], ["-d", "-c", str(forged)], ["test", str(forged)]):
        run = run_nczip(*args)
        assert run.returncode == 1, args
        lines = run.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and "tokens: must be an object" in lines[0] and "internal error" not in lines[0]


# -- random mutations ---------------------------------------------------------------------------

def _paths(tree: Any, prefix: str = "") -> list[str]:
    out = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            path = f"{prefix}.{key}" if prefix else key
            out.append(path)
            out += _paths(value, path)
    return out


VALUES = st.one_of(
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.sampled_from([0, 1, -1, 2, 3, 255, 256, 1 << 16, 1 << 20, 1 << 24, 1 << 31, 1 << 32, 1 << 63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-5, max_value=100), max_size=20),
    st.dictionaries(st.sampled_from(["name", "dm", "lr", "x"]), st.integers(-3, 3), max_size=3),
    st.just(DELETE),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_mutations_decode_or_are_refused_in_one_line(containers, data):
    level = data.draw(st.sampled_from(sorted(containers)))
    config = _config(containers[level])
    path = data.draw(st.sampled_from(_paths(config)))
    if data.draw(st.booleans()):  # or an extra key beside the chosen field
        path = path.rsplit(".", 1)[0] + ".unexpected" if "." in path else "unexpected"
    value = data.draw(VALUES)
    forged = with_header(containers[level], config=_set(config, path, value))
    try:
        out = nczip.decompress(forged)
    except NczError as exc:  # refused (or, for a valid but different configuration, checksum mismatch)
        assert str(exc) and "\n" not in str(exc)
    else:
        assert out == TEXT  # only a change the models never read can still decode
