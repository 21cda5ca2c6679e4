"""An online selective state-space model (Mamba-style) trained on the chunk it is coding.

Why this shape (StateSMix's recipe, see shared/seeds/PAPERS.md): a tiny SSM with no pretrained
weights, started from a fixed seed and trained token by token on the input itself, learns the
document's syntax fast enough to beat count-based models, and encoder and decoder train it
identically because they see the same tokens.

Architecture, per layer (pre-norm residual): ``x += W_out((y + D*u) * silu(z))`` where
``u, z = W_in rmsnorm(x)``, ``u`` goes through a causal depthwise convolution and silu, and
``y`` is the selective scan ``h_t = exp(dt_t * a) h_{t-1} + dt_t u_t B_t^T``, ``y_t = h_t C_t``
with ``dt_t = softplus(W_dt(W_x u_t)) ``, ``B_t, C_t = W_x u_t`` (input-dependent, hence
"selective"). The decay ``a`` is one scalar per channel (the Mamba-2 simplification).

The output layer is the cost of a 49,152-token vocabulary, so the model works on a *compact
vocabulary*: the token types seen so far in this chunk, numbered in order of first appearance,
and its output is a fixed shortlist (see :meth:`OnlineSSM.log_probs`).

Schedule (what makes it decodable): prediction runs the recurrent form one token at a time; every
``block`` tokens one Adam step is taken on the block's mean cross-entropy, and prediction goes on
from the recurrent state it had. Weights change only at block ends, so the activations the
recurrent steps recorded are the block's forward pass and the gradient needs no second one.

Where it runs: the step, the block gradient and Adam are C kernels (:mod:`nczip.kernels`,
``ssm.c``). The first version ran the step in numpy and the gradient in torch's autograd; the
profile put 49 % of level 3's time there, nearly all per-operation overhead on 32-wide tensors.
The kernels' floats depend only on their source (own exp/log, fixed summation order, no FMA), so
any x86-64 machine decodes what another encoded. tests/test_ssm_kernels.py checks the C gradient
against torch's autograd of the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .. import kernels
from ..errors import NczError
from .schema import Declared, arithmetic, integer, number
from .stage import Contribution, StageContext, TokenStage

# ssm/1 and ssm/2 initialised their weights with numpy's or libm's exp/log, whose last bits differ
# between CPUs.
SSM = "ssm/3"


@dataclass(frozen=True)
class Ssm(Declared):
    """The online SSM's shape and schedule (component ``ssm``, and the compact layout's base). The
    bounds keep every C stack array under 64 KiB and the parameters under ~100 MB."""

    dm: int = integer(1, 256)
    di: int = integer(1, 1024)
    ds: int = integer(1, 64)
    layers: int = integer(1, 4)
    conv: int = integer(1, 16)
    dt_rank: int = integer(1, 64)
    shortlist: int = integer(2, 16384)
    block: int = integer(1, 256)
    lr: float = number(0.0, 1.0)
    seed: int = integer(0, (1 << 32) - 1)
    name: str = arithmetic(SSM, retired=("ssm/1", "ssm/2"))

    def params(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}


def from_config(capacity: int, config: Ssm) -> OnlineSSM:
    """The SSM a validated configuration describes (:mod:`nczip.config` bounds its sizes and
    refuses names this version does not run)."""
    if config.name != OnlineSSM.NAME:
        raise NczError(f"this file's SSM ({config.name}) is not one this version of nczip runs ({OnlineSSM.NAME})")
    return OnlineSSM(capacity, **config.params())


class OnlineSSM:
    """Next-token probabilities over the compact vocabulary, learned from the chunk itself."""

    # ssm/3: initialised and trained with the kernels' own exp/log (ssm/2 used numpy's and libm's)
    NAME = SSM

    def __init__(self, capacity: int, dm: int = 32, di: int = 64, ds: int = 16, layers: int = 1,
                 conv: int = 4, dt_rank: int = 4, shortlist: int = 2048, block: int = 16, lr: float = 0.005,
                 seed: int = 1) -> None:
        self.lib = lib = kernels.lib()
        self.capacity, self.dm, self.block, self.lr = int(capacity), int(dm), int(block), float(lr)
        self.shortlist = int(shortlist)
        self.dims = np.array([dm, di, ds, layers, conv, dt_rank, shortlist], np.int32)
        # RandomState, not Generator: its streams are frozen across numpy versions. Only its
        # uniforms are used; the Gaussians and the exp/log below come from the C kernels, whose
        # bits do not depend on the CPU (numpy's and libm's may).
        rng = np.random.RandomState(int(seed))

        def randn(*shape: int, scale: float) -> np.ndarray:
            count = int(np.prod(shape))
            return (kernels.standard_normal(rng, count).reshape(shape) * scale).astype(np.float32)

        # Row 0 of the embedding is the start-of-chunk input; type k of the compact vocabulary is row k + 1.
        self.embed = randn(self.capacity + 1, dm, scale=0.1)
        # The output weights are stored transposed, (dm, shortlist): see ssm_log_softmax.
        parts = [np.ones(dm), randn(self.shortlist, dm, scale=0.1).T, np.zeros(self.shortlist)]
        for _ in range(int(layers)):
            low, high = kernels.log1(0.001), kernels.log1(0.1)
            dt = kernels.exp(rng.random_sample(di) * (high - low) + low)
            parts += [np.ones(dm), randn(2 * di, dm, scale=1.0 / math.sqrt(dm)),
                      randn(di, conv, scale=1.0 / math.sqrt(conv)), np.zeros(di),
                      randn(dt_rank + 2 * ds, di, scale=1.0 / math.sqrt(di)),
                      randn(di, dt_rank, scale=1.0 / math.sqrt(dt_rank)),
                      dt + kernels.log(1.0 - kernels.exp(-dt)),  # softplus^-1(dt): dt starts in [0.001, 0.1]
                      kernels.log(np.linspace(1.0, 16.0, di)), np.ones(di),
                      randn(dm, di, scale=0.5 / math.sqrt(di))]
        # All parameters but the embedding in one flat buffer, in the order ssm.c's layer_at reads.
        self.flat = np.concatenate([np.ravel(p) for p in parts]).astype(np.float32)
        assert self.flat.size == dm + shortlist * (dm + 1) + layers * lib.ssm_layer_floats(kernels.ptr(self.dims))
        self.grad = np.zeros_like(self.flat)
        self.flat_m, self.flat_v = np.zeros_like(self.flat), np.zeros_like(self.flat)
        self.embed_m, self.embed_v = np.zeros_like(self.embed), np.zeros_like(self.embed)
        self._steps = 0
        self._beta1_t = self._beta2_t = 1.0  # 0.9 ** steps, 0.999 ** steps
        record = lib.ssm_record_floats(kernels.ptr(self.dims))
        self.records = np.zeros((self.block, record), np.float32)  # one per position of the block
        self.work = np.zeros(lib.ssm_work_floats(kernels.ptr(self.dims), self.block), np.float32)
        self.d_inputs = np.zeros((self.block, dm), np.float32)
        self.conv_state = np.zeros((layers, conv - 1, di), np.float32)
        self.scan_state = np.zeros((layers, di, ds), np.float32)
        self.conv0, self.h0 = self.conv_state.copy(), self.scan_state.copy()  # at the block's start
        self.inputs = np.zeros(self.block, np.int32)  # embedding rows fed in this block
        self.targets = np.zeros(self.block, np.int32)  # output classes that followed them
        self._fill = 0
        self.logits = np.zeros(self.shortlist)
        # The output probabilities prediction computed at each position of the block, and over
        # how many rows (-1: none), for the gradient to reuse.
        self.probs_rows = np.zeros((self.block, self.shortlist))
        self.probs_k = np.full(self.block, -1, np.int32)
        self.counts = np.zeros(self.capacity)  # occurrences of each type, to share the rare class
        self._dist = np.zeros(self.capacity)  # probs()'s output once the shortlist is full
        self._rare_total = 0.0  # occurrences of the types in the shared class
        self._p = {name: kernels.ptr(getattr(self, name)) for name in (
            "dims", "flat", "grad", "flat_m", "flat_v", "embed", "embed_m", "embed_v", "records", "work",
            "d_inputs", "conv_state", "scan_state", "conv0", "h0", "inputs", "targets", "logits",
            "probs_rows", "probs_k")}
        self._record_bytes = record * 4
        self._row_bytes = dm * 4
        self._xf_offset = (record - dm) * 4  # the normalised final state ends each record
        self._advance(0)

    def _advance(self, row: int) -> None:
        """Feed embedding row ``row`` as the input at the next position of the block."""
        p = self._p
        self.inputs[self._fill] = row
        self.probs_k[self._fill] = -1
        self._slot = p["records"] + self._fill * self._record_bytes
        self.lib.ssm_step(p["dims"], p["flat"], p["embed"] + row * self._row_bytes, p["conv_state"],
                          p["scan_state"], self._slot)

    def _classes(self, n: int) -> int:
        """Output rows in use with n types: one per type, the last row shared once n >= shortlist."""
        return min(n, self.shortlist)

    def probs(self, n: int) -> np.ndarray:
        """float64 probabilities of the n types seen so far (compact ids 0..n-1), summing to 1.

        Types 0..shortlist-2 (the first seen, which are mostly the frequent ones) have their own
        output class; later types share the last class's probability in proportion to their
        counts. That keeps the output layer a fixed dm x shortlist product however many types
        appear. The array is a buffer the next call overwrites.
        """
        k = self._classes(n)
        slot = self.probs_rows[self._fill]
        self.lib.ssm_log_softmax(self._p["dims"], self._p["flat"], self._slot + self._xf_offset, k,
                                 self._p["logits"], self._p["probs_rows"] + self._fill * self.shortlist * 8)
        self.probs_k[self._fill] = k
        if n < self.shortlist:
            return slot[:n]
        out = self._dist[:n]
        out[:k - 1] = slot[:k - 1]
        np.multiply(self.counts[k - 1:n], slot[k - 1] / self._rare_total, out=out[k - 1:])
        return out

    def update(self, compact_id: int, n: int) -> None:
        """Learn that type ``compact_id`` came next (``n`` types known, this one included)."""
        self.counts[compact_id] += 1.0
        if compact_id >= self.shortlist - 1:
            self._rare_total += 1.0
        self.targets[self._fill] = min(compact_id, self.shortlist - 1)
        self._fill += 1
        if self._fill == self.block:
            self._train(self._classes(n))
            self._fill = 0
            np.copyto(self.conv0, self.conv_state)  # the next block starts by feeding this token
            np.copyto(self.h0, self.scan_state)
        self._advance(compact_id + 1)

    def _train(self, classes: int) -> float:
        """One Adam step on the block's mean cross-entropy; returns the loss (nats per token)."""
        p, lib = self._p, self.lib
        loss = lib.ssm_backward(p["dims"], self._fill, classes, p["targets"], p["flat"], p["records"],
                                p["conv0"], p["h0"], p["grad"], self.flat.size, p["d_inputs"], p["work"],
                                p["probs_rows"], p["probs_k"])
        self._steps += 1
        # Adam's bias corrections from running powers: Python's ** is libm's pow, not the same
        # last bit everywhere.
        self._beta1_t *= 0.9
        self._beta2_t *= 0.999
        c1, c2 = 1.0 - self._beta1_t, 1.0 - self._beta2_t
        lib.ssm_adam(p["flat"], p["grad"], p["flat_m"], p["flat_v"], self.flat.size, self.lr, c1, c2)
        lib.ssm_adam_rows(p["embed"], p["embed_m"], p["embed_v"], self.dm, p["inputs"], p["d_inputs"],
                          self._fill, self.lr, c1, c2)
        return loss


class SsmStage(TokenStage):
    """The online SSM as a stage of the token mixer, over the types seen so far in the chunk.

    Its vocabulary is the chunk's token types in order of first appearance, which the decoder
    rebuilds from the tokens it has decoded; its contribution is the SSM's distribution over them,
    weighted by the base's confidence bucket. (At the fast levels the SSM is the dense base
    instead: nczip/predictors/compact.py.)
    """

    CONFIG = Ssm

    def __init__(self, n_vocab: int, config: Ssm) -> None:
        self.config = config
        self.ssm = from_config(n_vocab, config)
        self.compact: dict[int, int] = {}  # token id -> rank of first appearance
        self.type_ids = np.zeros(n_vocab, dtype=np.int64)  # rank -> token id

    @classmethod
    def from_config(cls, config: Any, n_vocab: int) -> "SsmStage":
        return cls(n_vocab, config)

    def sibling(self) -> "SsmStage":
        return SsmStage(self.type_ids.shape[0], self.config)  # each lane trains its own

    def predict(self, ctx: StageContext) -> list[Contribution]:
        if not self.compact:
            return []
        types = len(self.compact)
        return [((ctx.conf,), self.type_ids[:types], self.ssm.probs(types))]

    def update(self, token: int) -> None:
        rank = self.compact.setdefault(token, len(self.compact))
        self.type_ids[rank] = token
        self.ssm.update(rank, len(self.compact))
