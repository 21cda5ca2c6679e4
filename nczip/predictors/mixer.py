"""The token ensemble: LLM log-probs, n-gram and match models, a log-space bias head, LLM skip.

How the pieces combine, and why this way:

1. **LLM with a learned temperature.** ``base = softmax(tau * L)`` where L are the LLM's log-probs.
   tau starts at 1 and follows the gradient of code length, ``d(-log q(y))/d tau``, exactly
   (geometric mixing of a single model: it corrects a quantised model's over/under-confidence).
2. **Sparse stages.** Each n-gram order whose context was seen, lowest first, then the match
   model, moves a share lambda of the mass onto the tokens it saw:
   ``q <- (1 - lambda) q + lambda s`` with ``s`` the order's empirical continuation distribution.
   Tokens it never saw keep their relative shape (only scaled), which is what the sparse tables
   can honestly say. lambda = sigmoid(theta[stage, count bucket, confidence bucket]) is chosen by
   how much evidence the order has and how sure the LLM already is (the entropy-adaptive part:
   little help when the LLM is sure, more when it is not), and theta follows the exact gradient
   of code length through the chain. Linear rather than geometric mixing here because a sparse
   predictor has no opinion about the other 49,000 tokens; the update costs O(support).
3. **Bias head.** ``q <- q * exp(b) / Z`` with a per-document vector b over the vocabulary,
   updated by ``b -= lr * (q - onehot(y))`` after every token: it learns the document's unigram
   drift in log space.
4. **Phrase hierarchy.** The deepest level of the Fibonacci phrase hierarchy with an active
   match (:mod:`nczip.predictors.phrases`) is one more sparse stage, its lambda chosen by level,
   match length and the base's confidence.
5. **Confidence skip.** Before a token, if a long match (or a deterministic high-order context)
   proposes a token and such proposals have been right often enough so far, the LLM is not
   evaluated for this token: ``q = (1 - eps) onehot(candidate) + eps q_cheap`` with eps the
   proposals' measured error rate. Only past data decide, so the decoder skips the same tokens;
   the LLM catches up on skipped tokens in one batch at its next evaluation.

Every component can be switched off by leaving it out of the configuration; with all off the
output is exactly ``softmax(L)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..kernels import ptr
from ..config import Ensemble
from .ngram import MatchModel, NgramModel
from .phrases import PhraseHierarchy

_MASKED = -1e30  # log-prob of tokens that can never occur (control tokens): finite, exp() == 0


def _bucket(value: float, edges: tuple[float, ...]) -> int:
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


_COUNT_EDGES = (2.0, 4.0, 8.0, 16.0)  # total continuations seen in a context -> 5 buckets
_CONF_EDGES = (0.3, 0.6, 0.9)  # max probability of the LLM -> 4 buckets
_MATCH_EDGES = (8, 12, 16, 24, 32)  # match length -> 6 buckets
_PHRASE_EDGES = (4, 8, 16, 32, 64)  # phrase match length (tokens matched so far) -> 6 buckets
_SKIP_ORDER_EDGES = (4, 8, 16)  # order of a deterministic n-gram context -> 4 buckets (x 2 counts)
_N_NGRAM_SKIP = 2 * (len(_SKIP_ORDER_EDGES) + 1)
_ONE = np.ones(1)


def _sigmoid(x: float) -> float:
    # the kernels' exp: math.exp is libm's, whose last bit may differ between machines (mixer/2)
    return 1.0 / (1.0 + kernels.exp1(-x))


class TokenMixer:
    """Combines the LLM with the online token models; see the module docstring."""

    def __init__(self, codable: np.ndarray, config: Ensemble) -> None:
        self.codable = codable
        self.n_vocab = codable.shape[0]
        self.config = config
        mixer = config.mixer
        self.learn_rate = mixer.lr if mixer else 0.0
        self.tau_rate = mixer.tau_lr if mixer else 0.0
        self.tau = 1.0
        ngram = config.ngram
        self.ngram = NgramModel(ngram.orders, ngram.max_contexts, ngram.max_followers) if ngram else None
        match = config.match
        self.match = MatchModel(match.min_length, match.max_index) if match else None
        init = mixer.init if mixer else config.stage_init
        n_orders = len(self.ngram.orders) if self.ngram else 0
        self.theta = np.full((n_orders, len(_COUNT_EDGES) + 1, len(_CONF_EDGES) + 1), init)
        self.phi = np.full((len(_MATCH_EDGES) + 1, len(_CONF_EDGES) + 1), init)
        phrase = config.phrase
        self.phrase = PhraseHierarchy(phrase.tiling, phrase.levels, phrase.max_entries, phrase.theta) \
            if phrase else None
        self.psi = np.full((phrase.levels if phrase else 0, len(_PHRASE_EDGES) + 1, len(_CONF_EDGES) + 1), init)
        # The online SSM over the types seen so far in the chunk (LLM levels; at the fast levels it
        # is the dense base instead, nczip/predictors/compact.py): one more stage, its lambda by
        # the LLM's confidence.
        if config.ssm:
            from .ssm import from_config

            self.ssm: Any = from_config(self.n_vocab, config.ssm)
        else:
            self.ssm = None
        self._compact: dict[int, int] = {}  # token id -> rank of first appearance (the SSM's vocabulary)
        self._type_ids = np.zeros(self.n_vocab, dtype=np.int64)  # rank -> token id
        self.sigma = np.full((len(_CONF_EDGES) + 1,), init)
        # A uniform floor over every predicted id, as the last stage: the fast levels' models
        # underrate rare types (coding under the quantiser's 1/2^24 floor came out smaller than
        # their own ideal code length).
        self.floor = config.floor is not None
        self.upsilon = np.full((len(_CONF_EDGES) + 1,), config.floor.init if config.floor else init)
        self._tables = {"theta": self.theta, "phi": self.phi, "psi": self.psi, "sigma": self.sigma,
                        "upsilon": self.upsilon}
        bias = config.bias
        self.bias_rate = bias.lr if bias else 0.0
        self.bias_warmup = bias.warmup if bias else 0.0
        # The bias head is kept as exp(bias) only (its update is multiplicative: kernels/dense.c).
        self.exp_bias = np.ones(self.n_vocab) if bias else None
        self.skip = config.skip
        self.skip_stats = np.zeros((_N_NGRAM_SKIP + len(_MATCH_EDGES) + 1, 2))  # per bucket: [right, tried]
        self._hits: list = []
        self._hits_fresh = False
        self._skip_eps: float | None = None
        self.unigram = np.where(codable, 0.02, 0.0)
        self._k = kernels.lib()
        # Per-token working arrays, allocated once (their addresses go to the C kernels).
        self._base_buf, self._q_buf = np.empty(self.n_vocab), np.empty(self.n_vocab)
        self._p_base, self._p_q = ptr(self._base_buf), ptr(self._q_buf)
        self._p_exp_bias = ptr(self.exp_bias) if self.exp_bias is not None else None
        self.size = self.n_vocab  # ids predicted when there are no log-probs (a compact vocabulary grows)
        self.steps = 0
        self.skipped = 0
        self._proposal: tuple[int, int] | None = None  # (token, bucket) proposed for this step
        self._trace: dict[str, Any] = {}

    def sibling(self) -> "TokenMixer":
        """A mixer for another lane of the same chunk (:class:`~nczip.predictors.llm.LlmContext`).

        It has its own context (token histories, match model, phrases, SSM, temperature, working
        buffers) and this mixer's learned state: n-gram tables, mixing weights, bias head, unigram
        counts and skip statistics. Lanes are updated one after another in a fixed order, so the
        shared state evolves identically in both directions, and every lane learns from the whole
        chunk instead of from its own share of it.
        """
        other = TokenMixer(self.codable, self.config)
        other.ngram = self.ngram.sharing() if self.ngram is not None else None
        other.theta, other.phi, other.psi, other.sigma, other.upsilon = \
            self.theta, self.phi, self.psi, self.sigma, self.upsilon
        other._tables = self._tables
        other.exp_bias, other._p_exp_bias = self.exp_bias, self._p_exp_bias
        other.unigram, other.skip_stats = self.unigram, self.skip_stats
        return other

    # -- the confidence skip -------------------------------------------------------------------
    def _propose(self) -> tuple[int, int] | None:
        """A cheap model's confident guess for the next token, with its evidence bucket.

        Candidates: the highest n-gram order seen here if it has only ever seen one continuation
        (bucket by order and count), else a long match (bucket by length).
        """
        if self.ngram is not None and self._hits:
            top = self._hits[-1]
            if top.tokens.shape[0] == 1 and top.order >= 3 and top.total >= 2:
                order_bucket = min(len(_SKIP_ORDER_EDGES), _bucket(top.order, _SKIP_ORDER_EDGES))
                count_bucket = 0 if top.total < 4 else 1
                return int(top.tokens[0]), 2 * order_bucket + count_bucket
        if self.match is not None:
            token = self.match.predicted()
            if token is not None and self.match.length >= 8:
                return token, _N_NGRAM_SKIP + _bucket(self.match.length, _MATCH_EDGES)
        return None

    def wants_llm(self) -> bool:
        """False when the LLM may be skipped for the next token (decided from past data only)."""
        self._hits = self.ngram.hits() if self.ngram is not None else []
        self._hits_fresh = True
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
            conf = _bucket(k.nc_softmax(ptr(log_probs), n, self.tau, self._p_base), _CONF_EDGES)
            trace["llm"] = (log_probs, base)
        elif probs is not None:
            n = probs.shape[0]
            base = probs
            conf = _bucket(float(probs.max()), _CONF_EDGES)
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
        stages: list[tuple[str, tuple[int, ...], np.ndarray | None, np.ndarray | float]] = []
        if self.ssm is not None and self._compact:
            types = len(self._compact)
            stages.append(("sigma", (conf,), self._type_ids[:types], self.ssm.probs(types)))
        if self.ngram is not None:
            hits = self._hits if self._hits_fresh else self.ngram.hits()
            self._hits_fresh = False
            for hit in hits:
                cell: tuple[int, ...] = (self.ngram.orders.index(hit.order), _bucket(hit.total, _COUNT_EDGES), conf)
                stages.append(("theta", cell, hit.tokens, hit.counts / hit.total))
        if self.match is not None:
            token = self.match.predicted()
            if token is not None and self.codable[token]:
                stages.append(("phi", (_bucket(self.match.length, _MATCH_EDGES), conf), np.array([token]), _ONE))
        if self.phrase is not None:
            guess = self.phrase.predicted()
            if guess is not None and guess[0] < q.shape[0]:
                token, level, run = guess
                stages.append(("psi", (level, _bucket(run, _PHRASE_EDGES), conf), np.array([token]), _ONE))
        if self.floor:
            stages.append(("upsilon", (conf,), None, 1.0 / n))  # None: every id, each with s
        for table, cell, tokens, s in stages:
            lam = _sigmoid(self._tables[table][cell])
            scale *= 1.0 - lam
            if tokens is None:
                q += (lam / scale) * s
            else:
                q[tokens] += (lam / scale) * s
            trace["stages"].append((table, cell, lam, tokens, s))
        if self.exp_bias is not None:  # q <- normalise(scale * q * exp(bias)), one pass
            k.nc_scale_bias(self._p_q, n, scale, self._p_exp_bias)
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
        the tables still see it, the mixing weights and bias head do not."""
        trace = self._trace if learn else {}
        if self.learn_rate and trace:
            self._learn_mixing(trace, token)
        if self.exp_bias is not None and trace:
            # The rate ramps up over the first tokens: a large step on little evidence hurts.
            rate = self.bias_rate * min(1.0, (self.steps + 1) / self.bias_warmup) if self.bias_warmup \
                else self.bias_rate
            self._k.nc_bias_update(self._p_exp_bias, self._p_q, trace["biased"].shape[0], rate, token)
        if self._proposal is not None:
            stats = self.skip_stats[self._proposal[1]]
            stats[0] += self._proposal[0] == token
            stats[1] += 1
            if trace.get("skipped"):
                self.skipped += 1
        self.unigram[token] += 1.0
        if self.ssm is not None:
            rank = self._compact.setdefault(token, len(self._compact))
            self._type_ids[rank] = token
            self.ssm.update(rank, len(self._compact))
        if self.ngram is not None:
            self.ngram.update(token)
        if self.match is not None:
            self.match.update(token)
        if self.phrase is not None:
            self.phrase.update(token)
        self.steps += 1
        self._proposal = None

    def _learn_mixing(self, trace: dict[str, Any], token: int) -> None:
        """Exact gradient of -log q(y) through the chain of sparse stages (bias head excluded)."""
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

