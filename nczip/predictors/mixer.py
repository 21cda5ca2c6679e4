"""The token ensemble: LLM log-probs, n-gram and match models, a log-space bias head, LLM skip.

How the pieces combine, and why this way:

1. **LLM with a learned temperature.** ``base = softmax(tau * L)`` where L are the LLM's log-probs.
   tau starts at 1 and follows the gradient of code length, ``d(-log q(y))/d tau``, exactly
   (geometric mixing of a single model: it corrects a quantised model's over/under-confidence).
2. **Sparse stages.** The models of :data:`nczip.predictors.registry.STAGES`, in that order (the
   online SSM, each n-gram order whose context was seen, lowest first, the match model, the
   deepest phrase level with an active match, the uniform floor), each move a share lambda of the
   mass onto the tokens they speak about:
   ``q <- (1 - lambda) q + lambda s`` with ``s`` the stage's distribution (an order's empirical
   continuations, a match's one token, ...). Tokens a stage never saw keep their relative shape
   (only scaled), which is what the sparse tables can honestly say. lambda =
   sigmoid(w[cell]) with ``w`` the stage's weight table and the cell chosen by the stage from its
   evidence (order and count bucket, match length, phrase level) and how sure the base already is
   (the entropy-adaptive part: little help when the LLM is sure, more when it is not), and w
   follows the exact gradient of code length through the chain. Linear rather than geometric
   mixing here because a sparse predictor has no opinion about the other 49,000 tokens; the
   update costs O(support). Every stage speaks one interface (:mod:`nczip.predictors.stage`),
   so the mixer does not know which models it drives.
3. **Heads.** The bias head (:mod:`nczip.predictors.bias`): ``q <- q * exp(b) / Z`` with a
   per-document vector b over the vocabulary, updated by ``b -= lr * (q - onehot(y))`` after
   every token: it learns the document's unigram drift in log space.
4. **Base.** Without the LLM (skipped, or the fast levels) the base is a dense model's ``probs``
   (the fast levels' SSM) or the unigram counts, with no temperature.
5. **Confidence skip.** Before a token, if a stage proposes a token (``TokenStage.propose``: a
   deterministic high-order n-gram context, else a long match) and such proposals have been
   right often enough so far, the LLM is not evaluated for this token:
   ``q = (1 - eps) onehot(candidate) + eps q_cheap`` with eps the proposals' measured error rate.
   Only past data decide, so the decoder skips the same tokens; the LLM catches up on skipped
   tokens in one batch at its next evaluation.

Every component can be switched off by leaving it out of the configuration; with all off the
output is exactly ``softmax(L)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import kernels
from ..kernels import ptr
from .bias import Bias
from .floor import FloorConfig
from .ngram import Match, Ngram
from .phrases import Phrase
from .registry import build_heads, build_stages
from .schema import MAX_INT32, Declared, arithmetic, integer, number, part
from .ssm import Ssm
from .stage import CONF_EDGES, Head, StageContext, TokenStage, bucket

# mixer/1 (files that wrote no name) took its sigmoid with libm's exp, whose last bits differ
# between CPUs.
MIXER = "mixer/2"


@dataclass(frozen=True)
class MixerRates(Declared):
    """The mixer's learning rates and its stages' initial weight (component ``mixer``)."""

    lr: float = number(0.0, 10.0)
    init: float = number(-50.0, 50.0)
    tau_lr: float = number(0.0, 10.0, default=0.0)


@dataclass(frozen=True)
class Skip(Declared):
    """The confidence skip's schedule (component ``skip``)."""

    warmup: int = integer(0, MAX_INT32)
    min_trials: int = integer(0, MAX_INT32)
    max_error: float = number(0.0, 1.0)


@dataclass(frozen=True)
class Ensemble(Declared):
    """The online token models mixed at a token level: one field per component name of the
    registry (:mod:`nczip.predictors.registry`; tests/test_model_schema.py checks they agree),
    each None when off."""

    ngram: Ngram | None = part(Ngram)
    match: Match | None = part(Match)
    bias: Bias | None = part(Bias)
    mixer: MixerRates | None = part(MixerRates)
    skip: Skip | None = part(Skip)
    phrase: Phrase | None = part(Phrase)
    ssm: Ssm | None = part(Ssm)
    floor: FloorConfig | None = part(FloorConfig)
    stage_init: float = number(-50.0, 50.0, default=-1.5)  # the stages' initial weight with no mixer to set it
    name: str = arithmetic(MIXER, missing="mixer/1", retired=("mixer/1",))


_MASKED = -1e30  # log-prob of tokens that can never occur (control tokens): finite, exp() == 0


def _sigmoid(x: float) -> float:
    # the kernels' exp: math.exp is libm's, whose last bit may differ between machines (mixer/2)
    return 1.0 / (1.0 + kernels.exp1(-x))


class TokenMixer:
    """Combines a base distribution with the online token models; see the module docstring.

    The models are built by name from the configuration (:mod:`nczip.predictors.registry`); the
    mixer owns what they share: one weight table per stage, the heads, the skip statistics.
    """

    def __init__(self, codable: np.ndarray, config: Ensemble,
                 models: tuple[list[tuple[str, TokenStage]], list[tuple[str, Head]]] | None = None) -> None:
        self.codable = codable
        self.n_vocab = codable.shape[0]
        self.config = config
        mixer = config.mixer
        self.learn_rate = mixer.lr if mixer else 0.0
        self.tau_rate = mixer.tau_lr if mixer else 0.0
        self.tau = 1.0
        # The sparse stages, in the order they are applied, and the heads after them.
        self.stages, self.heads = models if models is not None else \
            (build_stages(config, self.n_vocab), build_heads(config, self.n_vocab))
        init = mixer.init if mixer else config.stage_init
        self._tables: dict[str, np.ndarray] = {
            name: np.full(stage.weight_shape, init if stage.weight_init is None else stage.weight_init)
            for name, stage in self.stages}
        # Skip proposals: the stages that make them, in order, each with its first bucket.
        self._proposers: list[tuple[TokenStage, int]] = []
        buckets = 0
        for _, stage in self.stages:
            if stage.proposal_buckets:
                self._proposers.append((stage, buckets))
                buckets += stage.proposal_buckets
        self.skip = config.skip
        self.skip_stats = np.zeros((buckets, 2))  # per bucket: [right, tried]
        self._skip_eps: float | None = None
        self.unigram = np.where(codable, 0.02, 0.0)
        self._k = kernels.lib()
        # Per-token working arrays, allocated once (their addresses go to the C kernels).
        self._base_buf, self._q_buf = np.empty(self.n_vocab), np.empty(self.n_vocab)
        self._p_base, self._p_q = ptr(self._base_buf), ptr(self._q_buf)
        self.size = self.n_vocab  # ids predicted when there are no log-probs (a compact vocabulary grows)
        self.steps = 0
        self.skipped = 0
        self._proposal: tuple[int, int] | None = None  # (token, bucket) proposed for this step
        self._trace: dict[str, Any] = {}

    def stage(self, name: str) -> TokenStage | None:
        """The stage called ``name`` (a component name), or None when it is off."""
        return next((stage for key, stage in self.stages if key == name), None)

    def sibling(self) -> "TokenMixer":
        """A mixer for another lane of the same chunk (:class:`~nczip.predictors.llm.LlmContext`).

        It has its own context (token histories, match model, phrases, SSM, temperature, working
        buffers: each stage's :meth:`~nczip.predictors.stage.TokenStage.sibling` decides) and
        this mixer's learned state: n-gram tables, mixing weights, bias head, unigram counts and
        skip statistics. Lanes are updated one after another in a fixed order, so the shared state
        evolves identically in both directions, and every lane learns from the whole chunk instead
        of from its own share of it.
        """
        other = TokenMixer(self.codable, self.config,
                           ([(name, stage.sibling()) for name, stage in self.stages],
                            [(name, head.sibling()) for name, head in self.heads]))
        other._tables = self._tables
        other.unigram, other.skip_stats = self.unigram, self.skip_stats
        return other

    # -- the confidence skip -------------------------------------------------------------------
    def _propose(self) -> tuple[int, int] | None:
        """A cheap model's confident guess for the next token, with its evidence bucket: the first
        stage's that has one (the n-grams' deterministic high order, else a long match)."""
        for stage, first in self._proposers:
            guess = stage.propose()
            if guess is not None:
                return guess[0], first + guess[1]
        return None

    def wants_llm(self) -> bool:
        """False when the LLM may be skipped for the next token (decided from past data only)."""
        for _, stage in self.stages:
            stage.prepare()
        self._proposal = self._propose() if self.skip else None
        if self._proposal is None or self.skip is None or self.steps < self.skip.warmup:
            self._skip_eps = None
            return True
        right, tried = self.skip_stats[self._proposal[1]]
        eps = (tried - right + 0.5) / (tried + 1.0)
        if tried >= self.skip.min_trials and eps <= self.skip.max_error:
            self._skip_eps = eps
            return False
        self._skip_eps = None
        return True

    # -- prediction ----------------------------------------------------------------------------
    def predict(self, log_probs: np.ndarray | None, probs: np.ndarray | None = None) -> np.ndarray:
        """The next-token distribution from the LLM's ``log_probs`` (a temperature is learned on
        them), or from ``probs``, an already normalised dense model (the fast levels' SSM), or,
        with neither (the LLM skipped, or no dense model), from the unigram counts.

        The distribution covers the first ``len(log_probs)`` token ids (the first ``size`` when
        None): the whole vocabulary for the LLM, the types seen so far for a compact vocabulary.
        The arrays returned and traced live in buffers the next call overwrites.
        """
        trace: dict[str, Any] = {"stages": [], "llm": None}
        self._trace = trace
        k = self._k
        if log_probs is not None:
            log_probs = np.ascontiguousarray(log_probs, dtype=np.float64)
            n = log_probs.shape[0]
            base = self._base_buf[:n]
            conf = bucket(k.nc_softmax(ptr(log_probs), n, self.tau, self._p_base), CONF_EDGES)
            trace["llm"] = (log_probs, base)
        elif probs is not None:
            n = probs.shape[0]
            base = probs
            conf = bucket(float(probs.max()), CONF_EDGES)
        else:
            n = self.size
            base = self._base_buf[:n]
            base[:] = self.unigram[:n]
            k.nc_scale_bias(self._p_base, n, 1.0, None)
            conf = 0
        trace["skipped"] = log_probs is None and probs is None
        trace["base"] = base
        q = self._q_buf[:n]
        q[:] = base
        # q is kept as scale * q: a stage's (1 - lambda) goes into the scalar, its lambda * s onto
        # the few tokens it saw, so a stage costs O(support), not O(vocabulary).
        scale = 1.0
        ctx = StageContext(conf, n, self.codable)
        for name, stage in self.stages:
            for cell, tokens, s in stage.predict(ctx):
                lam = _sigmoid(self._tables[name][cell])
                scale *= 1.0 - lam
                if tokens is None:
                    q += (lam / scale) * s
                else:
                    q[tokens] += (lam / scale) * s
                trace["stages"].append((name, cell, lam, tokens, s))
        if self.heads:  # q <- normalise(scale * q * head), one pass per head
            for i, (_, head) in enumerate(self.heads):
                head.apply(q, scale if i == 0 else 1.0)
        elif scale != 1.0:
            q *= scale
        trace["biased"] = q
        if log_probs is None and self._skip_eps is not None:
            assert self._proposal is not None  # wants_llm sets _skip_eps only with a proposal
            token = self._proposal[0]
            eps = self._skip_eps
            q = q * eps
            q[token] += 1.0 - eps
        trace["final"] = q
        return q

    # -- learning ------------------------------------------------------------------------------
    def update(self, token: int, learn: bool = True) -> None:
        """Record ``token``; ``learn=False`` when it was outside the predicted ids (a new type):
        the tables still see it, the mixing weights and heads do not."""
        trace = self._trace if learn else {}
        if self.learn_rate and trace:
            self._learn_mixing(trace, token)
        if trace:
            for _, head in self.heads:
                head.update(trace["biased"], token, self.steps)
        if self._proposal is not None:
            stats = self.skip_stats[self._proposal[1]]
            stats[0] += self._proposal[0] == token
            stats[1] += 1
            if trace.get("skipped"):
                self.skipped += 1
        self.unigram[token] += 1.0
        for _, stage in self.stages:
            stage.update(token)
        self.steps += 1
        self._proposal = None

    def _learn_mixing(self, trace: dict[str, Any], token: int) -> None:
        """Exact gradient of -log q(y) through the chain of sparse stages (the heads excluded)."""
        stages = trace["stages"]
        values = [float(trace["base"][token])]  # q_k(y) after each stage
        s_y = []
        for _, _, lam, tokens, s in stages:
            if tokens is None:
                sy = float(s)
            else:
                where = np.flatnonzero(tokens == token)
                sy = float(s[where[0]]) if where.size else 0.0
            s_y.append(sy)
            values.append((1.0 - lam) * values[-1] + lam * sy)
        final = values[-1]
        if final <= 0.0:
            return
        scale = 1.0  # product of (1 - lambda) of the stages after the current one
        for k in range(len(stages) - 1, -1, -1):
            table, cell, lam, _, _ = stages[k]
            grad = -scale * (s_y[k] - values[k]) / final * lam * (1.0 - lam)
            target = self._tables[table]
            target[cell] -= self.learn_rate * grad
            scale *= 1.0 - lam
        llm = trace.get("llm")
        if llm is not None and self.tau_rate:
            log_probs, base = llm
            expected = self._k.nc_dot(self._p_base, ptr(log_probs), base.shape[0])  # fixed order: same on every run
            grad_tau = -scale * float(base[token]) * (float(log_probs[token]) - expected) / final
            self.tau = min(3.0, max(0.3, self.tau - self.tau_rate * grad_tau))

