"""The byte context model (nczip/predictors/bytecontext.py) on its own: PPM blending with
exclusion, its bounds, and the Predictor interface the codec drives it through."""

from __future__ import annotations

import numpy as np
import pytest

from nczip.config import BytePpm
from nczip.predictors import Predictor, build_predictor
from nczip.predictors.bytecontext import ByteContextModel


def test_a_fresh_model_is_uniform():
    p = ByteContextModel().predict()
    assert p.shape == (256,) and np.all(p == 1.0 / 256.0)


def test_one_byte_seen_gets_the_discounted_count_and_the_rest_share_the_escape():
    model = ByteContextModel(max_order=2, discount=0.5)
    model.update(ord("a"))
    p = model.predict()
    # order 0 saw 'a' once: (1 - d) / 1 for it; the escape u * d / n = 0.5 over the 255 others
    assert p[ord("a")] == 0.5
    np.testing.assert_allclose(np.delete(p, ord("a")), 0.5 / 255, rtol=1e-15)


@pytest.mark.parametrize("order", [0, 1, 3, 5])
def test_predictions_are_distributions_and_learn_repeats(order):
    model = ByteContextModel(max_order=order)
    text = b"abracadabra " * 30
    for byte in text:
        p = model.predict()
        assert p.min() > 0.0 and abs(float(p.sum()) - 1.0) < 1e-9
        model.update(byte)
    assert model.predict()[ord("a")] > (0.9 if order >= 1 else 0.3)


def test_higher_orders_see_further():
    text = b"xay xby xay xby " * 20
    costs = []
    for order in (0, 2):
        model = ByteContextModel(max_order=order)
        bits = 0.0
        for byte in text:
            bits -= float(np.log2(model.predict()[byte]))
            model.update(byte)
        costs.append(bits)
    assert costs[1] < 0.5 * costs[0]


def test_contexts_per_order_are_bounded():
    model = ByteContextModel(max_order=3, max_contexts=10)
    for byte in bytes(range(256)):
        model.update(byte)
    assert all(len(table) <= 10 for table in model._tables)
    assert len(model._tables[0]) == 1  # the empty context


def test_the_same_bytes_give_the_same_floats():
    rng = np.random.RandomState(0)
    data = bytes(rng.randint(0, 40, 2000).astype(np.uint8))
    a, b = ByteContextModel(4), ByteContextModel(4)
    for byte in data:
        assert a.predict().tobytes() == b.predict().tobytes()
        a.update(byte)
        b.update(byte)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        ByteContextModel(max_order=8)
    with pytest.raises(ValueError):
        ByteContextModel(discount=1.0)


def test_the_configuration_builds_it_as_a_predictor():
    spec = BytePpm.parse({"name": "bytes-ppm/1", "max_order": 2, "discount": 0.5, "max_contexts": 64}, "predictor")
    model: Predictor = build_predictor(spec)
    assert isinstance(model, ByteContextModel) and model.alphabet_size == 256
    assert model.spec() == {"name": "bytes-ppm/1", "max_order": 2, "discount": 0.5, "max_contexts": 64}
