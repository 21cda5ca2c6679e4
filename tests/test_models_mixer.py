"""The token mixer on its own: its base, its stages built by name, lanes, learning, the skip.

The pinned digests below are of every distribution the mixer returned on a fixed run with every
component on, two lanes sharing their models, and the three bases (LLM log-probs, a dense model's
probabilities, the unigram counts). They were computed with the mixer as it was before the stage
interface (nczip/predictors/stage.py): the refactor, like any change of the mixer that is not
meant to change a file's bytes, must leave them as they are. (Only the public calls are used at
module level, so this file's helpers also run on an older nczip.)
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from nczip import kernels
from nczip.config import Ensemble
from nczip.levels import ENSEMBLE_COMPONENTS, ensemble_config
from nczip.predictors.mixer import TokenMixer

V = 300
SMALL_SSM = {"name": "ssm/3", "dm": 8, "di": 16, "ds": 4, "layers": 1, "conv": 4, "dt_rank": 2,
             "shortlist": 64, "block": 8, "lr": 0.005, "seed": 1}


def _ensemble(components: list[str], **overrides: dict) -> Ensemble:
    raw = ensemble_config(components)
    if "ssm" in raw:
        raw["ssm"] = dict(SMALL_SSM)
    if "skip" in raw:
        raw["skip"] = {"warmup": 10, "min_trials": 3, "max_error": 0.3}
    raw.update(overrides)
    return Ensemble.parse(raw, "ensemble")


def _tokens(seed: int) -> list[int]:
    rng = np.random.RandomState(seed)
    phrase = rng.randint(0, 200, 40).tolist()
    return phrase + rng.randint(0, 290, 30).tolist() + phrase + phrase[:25] + rng.randint(0, 290, 20).tolist() + phrase


def _log_probs(rng: np.random.RandomState, codable: np.ndarray) -> np.ndarray:
    # uniforms and the kernels' log only: the same floats on every machine
    lp = kernels.log(rng.random_sample(V) * 0.98 + 0.01) * 3.0
    return np.where(codable, lp, -1e30)


def llm_digest(components: list[str]) -> str:
    """Two lanes (siblings) run the LLM levels' schedule: every lane asks wants_llm, then each
    predicts and learns its token in turn."""
    codable = np.ones(V, dtype=bool)
    codable[-4:] = False
    first = TokenMixer(codable, _ensemble(components))
    lanes = [first, first.sibling()]
    streams = [_tokens(1), _tokens(2)]
    rng = np.random.RandomState(5)
    digest = hashlib.sha256()
    for step in range(len(streams[0])):
        wants = [mixer.wants_llm() for mixer in lanes]
        for lane, mixer in enumerate(lanes):
            lp = _log_probs(rng, codable)
            q = mixer.predict(lp if wants[lane] else None)
            digest.update(np.ascontiguousarray(q).tobytes())
            mixer.update(streams[lane][step])
    return digest.hexdigest()[:16]


def compact_digest(components: list[str], dense: bool) -> str:
    """The fast levels' use: a compact vocabulary that grows, new types learned with learn=False,
    the base a dense model's probabilities (or the unigram counts)."""
    mixer = TokenMixer(np.ones(V, dtype=bool), _ensemble(components))
    mixer.size = 0
    rng = np.random.RandomState(9)
    digest = hashlib.sha256()
    seen: dict[int, int] = {}
    for token in _tokens(3):
        n = len(seen)
        if n and token in seen:
            probs = None
            if dense:
                raw = rng.random_sample(n) + 0.1
                probs = raw / float(np.cumsum(raw)[-1])
            q = mixer.predict(None, probs)
            digest.update(np.ascontiguousarray(q).tobytes())
            mixer.update(seen[token], learn=True)
        else:
            seen[token] = n
            mixer.size = n + 1
            mixer.update(n, learn=False)
    return digest.hexdigest()[:16]


ALL = ["ngram", "match", "bias", "mixer", "skip", "phrase", "ssm", "floor"]
# Computed with the mixer before the stage interface (commit 7423d2a).
PINNED_LLM = {
    "all": "5031d813228f8769",
    "default": "a56d807a2bb8db37",
    "none": "e099f4ac7dad8629",
    "no-mixer": "c8e9f0b285e72f04",
}
PINNED_COMPACT = {
    "dense": "419501fa274ffeba",
    "unigram": "60270b8912aadcb5",
}
LLM_CASES = {"all": ALL, "default": ["ngram", "bias", "mixer"], "none": [],
             "no-mixer": ["ngram", "match", "phrase", "floor", "skip"]}


@pytest.mark.parametrize("case", sorted(LLM_CASES))
def test_the_mixer_returns_the_pinned_distributions_at_the_llm_levels(case):
    assert llm_digest(LLM_CASES[case]) == PINNED_LLM[case]


@pytest.mark.parametrize("dense", [True, False], ids=["dense", "unigram"])
def test_the_mixer_returns_the_pinned_distributions_over_a_compact_vocabulary(dense):
    case = "dense" if dense else "unigram"
    assert compact_digest(["ngram", "match", "bias", "mixer", "phrase", "floor"], dense) == PINNED_COMPACT[case]


def test_with_every_component_off_the_output_is_the_softmax_of_the_log_probs():
    codable = np.ones(V, dtype=bool)
    mixer = TokenMixer(codable, Ensemble())
    lp = _log_probs(np.random.RandomState(1), codable)
    q = mixer.predict(lp)
    expected = np.exp(lp - lp.max())
    np.testing.assert_allclose(q, expected / expected.sum(), rtol=1e-12)
    assert mixer.stages == [] and mixer.heads == []


def test_stages_are_built_by_name_in_the_registry_order_whatever_the_configuration_order():
    from nczip.predictors.registry import STAGES

    mixer = TokenMixer(np.ones(V, dtype=bool), _ensemble(list(reversed(ALL))))
    assert [name for name, _ in mixer.stages] == list(STAGES)
    assert [name for name, _ in mixer.heads] == ["bias"]
    for name, stage in mixer.stages:
        assert mixer._tables[name].shape == stage.weight_shape
    assert np.all(mixer._tables["floor"] == ENSEMBLE_COMPONENTS["floor"]["init"])
    assert np.all(mixer._tables["ngram"] == ENSEMBLE_COMPONENTS["mixer"]["init"])
    assert mixer.stage("ngram") is mixer.stages[1][1]
    assert TokenMixer(np.ones(V, dtype=bool), Ensemble()).stage("ngram") is None


def test_a_sibling_shares_the_learned_state_and_keeps_its_own_context():
    first = TokenMixer(np.ones(V, dtype=bool), _ensemble(ALL))
    other = first.sibling()
    assert other._tables is first._tables and other.unigram is first.unigram and other.skip_stats is first.skip_stats
    assert other.heads[0][1] is first.heads[0][1]  # one bias vector per chunk
    mine, theirs = dict(first.stages), dict(other.stages)
    assert theirs["ngram"]._tables is mine["ngram"]._tables and theirs["ngram"] is not mine["ngram"]
    for name in ("match", "phrase", "ssm", "floor"):
        assert theirs[name] is not mine[name]


def test_a_stage_that_keeps_being_right_gains_weight():
    mixer = TokenMixer(np.ones(V, dtype=bool), _ensemble(["ngram", "mixer"]))
    lp = np.zeros(V)
    before = mixer._tables["ngram"].copy()
    q_first = None
    for _ in range(30):
        for token in (7, 8, 9):
            q = mixer.predict(lp)
            if token == 9 and q_first is None and mixer._trace["stages"]:
                q_first = float(q[9])
            mixer.update(token)
    q_last = float(mixer.predict(lp)[7])
    assert (mixer._tables["ngram"] > before).any() and not (mixer._tables["ngram"] < before).any()
    assert q_first is not None and q_last > q_first > 1.0 / V


def test_a_new_model_is_mixed_through_the_interface_alone():
    # Any TokenStage can be handed to the mixer: it never asks which model it drives.
    from nczip.predictors.stage import N_CONF, ONE, Contribution, StageContext, TokenStage

    class Echo(TokenStage):  # predicts the previous token again
        weight_shape = (N_CONF,)

        def __init__(self) -> None:
            self.last: int | None = None

        def predict(self, ctx: StageContext) -> list[Contribution]:
            return [] if self.last is None else [((ctx.conf,), np.array([self.last]), ONE)]

        def update(self, token: int) -> None:
            self.last = token

        def sibling(self) -> "Echo":
            return Echo()

    config = _ensemble(["mixer"], mixer={"lr": 1.0, "init": -4.0})
    mixer = TokenMixer(np.ones(V, dtype=bool), config, ([("echo", Echo())], []))
    lp = np.zeros(V)
    for _ in range(50):
        mixer.predict(lp)
        mixer.update(3)
    assert mixer.predict(lp)[3] > 0.9
    assert mixer._tables["echo"][0] > ENSEMBLE_COMPONENTS["mixer"]["init"]


def test_the_skip_fires_on_a_repetitive_stream_and_puts_the_guess_first():
    mixer = TokenMixer(np.ones(V, dtype=bool), _ensemble(["ngram", "match", "mixer", "skip"]))
    lp = np.zeros(V)
    skipped = 0
    for step in range(300):
        token = (10, 11, 12, 13, 14)[step % 5]
        if mixer.wants_llm():
            mixer.predict(lp)
        else:
            q = mixer.predict(None)
            assert int(np.argmax(q)) == token and q[token] >= 0.7
            skipped += 1
        mixer.update(token)
    assert skipped > 200 and mixer.skipped == skipped
