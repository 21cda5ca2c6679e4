"""Each token model on its own, through the one stage interface (nczip/predictors/stage.py), and
the registry that builds them by name (nczip/predictors/registry.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import nczip
from nczip.config import Ensemble
from nczip.levels import ENSEMBLE_COMPONENTS, ensemble_config
from nczip.predictors.bias import BiasHead
from nczip.predictors.floor import Floor
from nczip.predictors.ngram import MatchModel, NgramModel
from nczip.predictors.phrases import PhraseHierarchy
from nczip.predictors.ssm import SsmStage
from nczip.predictors.registry import COMPONENTS, HEADS, SETTINGS, STAGES, build_heads, build_stages
from nczip.predictors.stage import Head, StageContext, TokenStage

CODABLE = np.ones(100, dtype=bool)


def ctx(conf: int = 0, n: int = 100) -> StageContext:
    return StageContext(conf, n, CODABLE)


# -- the registry ---------------------------------------------------------------------------------

def test_every_component_name_is_registered_once_and_known_everywhere():
    assert len(COMPONENTS) == len(set(COMPONENTS))
    assert set(COMPONENTS) == set(ENSEMBLE_COMPONENTS) == {c.value for c in nczip.Component}
    fields = {f.name for f in dataclasses.fields(Ensemble)} - {"name", "stage_init"}
    assert set(COMPONENTS) == fields, "a registered model needs its configuration in nczip.config.Ensemble"
    assert set(SETTINGS).isdisjoint(STAGES) and set(HEADS).isdisjoint(STAGES)


def test_the_stage_order_is_the_format_s():
    # Changing it changes the bytes of every file that uses two of them: a new stage goes last.
    assert list(STAGES) == ["ssm", "ngram", "match", "phrase", "floor"]


def test_the_registry_builds_each_model_from_its_default_configuration():
    raw = ensemble_config(list(ENSEMBLE_COMPONENTS))
    raw["ssm"].update(dm=8, di=16, shortlist=64)  # small: only the wiring is tested here
    config = Ensemble.parse(raw, "ensemble")
    stages = build_stages(config, 100)
    assert [name for name, _ in stages] == list(STAGES)
    for name, stage in stages:
        assert isinstance(stage, TokenStage), name
        if name != "floor":  # the floor speaks before anything is seen; the others cannot
            assert stage.predict(ctx()) == [], f"{name} predicts before it has seen anything"
        twin = stage.sibling()
        assert type(twin) is type(stage) and twin.weight_shape == stage.weight_shape
    heads = build_heads(config, 100)
    assert [name for name, _ in heads] == list(HEADS) and isinstance(heads[0][1], Head)
    assert build_stages(Ensemble(), 100) == [] and build_heads(Ensemble(), 100) == []


# -- n-grams --------------------------------------------------------------------------------------

def test_ngram_counts_the_continuations_of_each_order():
    model = NgramModel(orders=(2, 3))
    for token in [1, 2, 3, 1, 2, 3, 1, 2]:
        model.update(token)
    hits = model.hits()
    assert [(h.order, h.tokens.tolist(), h.counts.tolist(), h.total) for h in hits] == \
        [(2, [3], [2.0], 2.0), (3, [3], [1.0], 1.0)]
    contributions = model.predict(ctx(conf=2))
    assert [(cell, tokens.tolist(), s.tolist()) for cell, tokens, s in contributions] == \
        [((0, 1, 2), [3], [1.0]), ((1, 0, 2), [3], [1.0])]  # (order index, count bucket, confidence)
    assert model.weight_shape == (2, 5, 4)


def test_ngram_forgets_the_rarest_follower_and_bounds_its_contexts():
    model = NgramModel(orders=(1,), max_contexts=2, max_followers=2)
    for token in [0, 1, 0, 1, 0, 2, 0, 3, 0]:
        model.update(token)
    (hit,) = model.hits()  # context (0,) saw 1 twice, then 2 and 3: 2 was the rarest when 3 came
    assert dict(zip(hit.tokens.tolist(), hit.counts.tolist())) == {1: 2.0, 3: 1.0}
    assert len(model._tables[0]) == 2  # contexts 0 and 1; 2 and 3 found the table full


def test_ngram_distributions_sum_to_one():
    rng = np.random.RandomState(0)
    model = NgramModel(orders=(1, 2, 3))
    for token in rng.randint(0, 6, 500).tolist():
        model.update(token)
        for _, tokens, s in model.predict(ctx()):
            assert abs(float(np.sum(s)) - 1.0) < 1e-12 and len(set(tokens.tolist())) == len(tokens)


def test_ngram_siblings_share_tables_and_prepare_keeps_a_snapshot():
    a = NgramModel(orders=(1,))
    b = a.sibling()
    assert b._tables is a._tables
    a.update(5)
    a.update(6)  # context (5,) -> 6
    b.update(5)  # b's own history: its context is (5,) too
    b.prepare()
    a.update(5)
    a.update(7)  # the shared table changes after b looked
    (_, tokens, _), = b.predict(ctx())
    assert tokens.tolist() == [6]  # what b saw at prepare()
    assert sorted(b.predict(ctx())[0][1].tolist()) == [6, 7]  # the next prediction looks again


def test_ngram_proposes_a_deterministic_high_order_context():
    model = NgramModel(orders=(2, 3))
    for token in [4, 5, 6, 9] * 3 + [4, 5]:
        model.update(token)
    model.prepare()
    assert model.propose() == (6, 0)  # order 3 < 4 -> order bucket 0; 2 sightings -> count bucket 0
    assert NgramModel(orders=(2,)).propose() is None
    assert 0 <= model.propose()[1] < model.proposal_buckets


# -- the match model ------------------------------------------------------------------------------

def test_match_predicts_what_followed_the_last_occurrence_and_extends():
    model = MatchModel(min_length=3)
    text = list(range(20))
    for token in text + text[:3]:
        model.update(token)
    assert model.predicted() == 3 and model.length == 3
    (cell, tokens, s), = model.predict(ctx(conf=1))
    assert cell == (0, 1) and tokens.tolist() == [3] and s.tolist() == [1.0]
    for token in text[3:9]:
        model.update(token)
    assert model.predicted() == 9 and model.length == 9
    assert model.propose() == (9, 1)  # length 9: bucket 1 of (8, 12, 16, 24, 32)
    model.update(42)  # a miss ends the match
    assert model.predicted() is None and model.length == 0 and model.predict(ctx()) == []


def test_match_says_nothing_about_a_token_that_can_never_occur():
    model = MatchModel(min_length=2)
    for token in [1, 2, 3, 1, 2]:
        model.update(token)
    codable = CODABLE.copy()
    codable[3] = False
    assert model.predict(StageContext(0, 100, codable)) == []
    assert model.sibling().predicted() is None  # a sibling has its own history


# -- the phrase hierarchy -------------------------------------------------------------------------

def test_phrases_contribute_their_deepest_level():
    rng = np.random.RandomState(4)
    text = rng.randint(0, 50, 400).tolist()
    model = PhraseHierarchy("none", levels=6)
    for token in text + text[:100]:
        model.update(token)
    token, level, run = model.predicted()
    assert token == text[100] and level == 5
    (cell, tokens, s), = model.predict(ctx(conf=3))
    assert cell == (5, 5, 3) and tokens.tolist() == [token] and s.tolist() == [1.0]  # run >= 64: last bucket
    assert model.predict(StageContext(0, token, CODABLE)) == []  # outside the ids predicted now
    assert model.weight_shape == (6, 6, 4) and model.sibling().predicted() is None


# -- the online SSM as a stage --------------------------------------------------------------------

def test_the_ssm_stage_numbers_types_by_first_appearance():
    from nczip.config import Ssm

    config = Ssm.parse({"name": "ssm/3", "dm": 8, "di": 16, "ds": 4, "layers": 1, "conv": 4, "dt_rank": 2,
                        "shortlist": 16, "block": 4, "lr": 0.005, "seed": 1}, "ssm")
    stage = SsmStage(100, config)
    for token in [40, 7, 40, 99, 7, 40]:
        stage.update(token)
    assert stage.compact == {40: 0, 7: 1, 99: 2} and stage.type_ids[:3].tolist() == [40, 7, 99]
    (cell, tokens, s), = stage.predict(ctx(conf=2))
    assert cell == (2,) and tokens.tolist() == [40, 7, 99]
    assert abs(float(np.sum(s)) - 1.0) < 1e-9 and (s > 0).all()
    assert stage.sibling().compact == {}


# -- the floor and the bias head ------------------------------------------------------------------

def test_the_floor_spreads_its_share_over_every_id():
    floor = Floor(-3.5)
    assert floor.predict(ctx(conf=1, n=40)) == [((1,), None, 1.0 / 40)]
    assert floor.weight_init == -3.5 and floor.sibling() is not floor


def test_the_bias_head_normalises_and_learns_the_document_s_drift():
    head = BiasHead(10, lr=0.5)
    q = np.full(10, 2.0)
    head.apply(q, 0.5)
    np.testing.assert_allclose(q, np.full(10, 0.1))
    for _ in range(20):
        q = np.full(10, 0.1)
        head.apply(q, 1.0)
        head.update(q, 4, step=0)
    q = np.full(10, 0.1)
    head.apply(q, 1.0)
    assert int(np.argmax(q)) == 4 and q[4] > 0.5 and abs(float(q.sum()) - 1.0) < 1e-12
    assert head.sibling() is head  # the lanes of a chunk share it


def test_the_bias_head_ramps_its_rate_up_over_the_warmup():
    slow, fast = BiasHead(4, lr=0.4, warmup=10.0), BiasHead(4, lr=0.4)
    q = np.full(4, 0.25)
    slow.update(q, 1, step=0)
    fast.update(q, 1, step=0)
    assert 1.0 < slow.exp_bias[1] < fast.exp_bias[1]


@pytest.mark.parametrize("name", list(STAGES))
def test_every_stage_reports_only_cells_of_its_weight_table(name):
    raw = ensemble_config([name])
    if name == "ssm":
        raw["ssm"].update(dm=8, di=16, shortlist=64)
    (_, stage), = build_stages(Ensemble.parse(raw, "ensemble"), 100)
    table = np.zeros(stage.weight_shape)
    rng = np.random.RandomState(2)
    phrase = rng.randint(0, 100, 30).tolist()
    for token in phrase * 4 + rng.randint(0, 100, 50).tolist():
        for cell, tokens, s in stage.predict(ctx(conf=3)):
            table[cell]  # noqa: B018 -- an IndexError here is the failure
            assert tokens is None or (0 <= tokens).all() and (tokens < 100).all()
        stage.update(token)
