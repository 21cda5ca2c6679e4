"""An online selective state-space model (Mamba-style) trained on the chunk it is coding.

Why this shape (StateSMix's recipe, see shared/seeds/PAPERS.md): a tiny SSM with no pretrained
weights, started from a fixed seed and trained token by token on the input itself, learns the
document's syntax fast enough to beat count-based models, and encoder and decoder train it
identically because they see the same tokens.

Architecture, per layer (pre-norm residual): ``x += W_out((y + D*u) * silu(z))`` where
``u, z = W_in rmsnorm(x)``, ``u`` goes through a causal depthwise convolution and silu, and
``y`` is the selective scan ``h_t = exp(dt_t * a) h_{t-1} + dt_t u_t B_t^T``, ``y_t = h_t C_t``
with ``dt_t = softplus(W_dt(W_x u_t)) ``, ``B_t, C_t = W_x u_t`` (input-dependent, hence
"selective"). The decay ``a`` is one scalar per channel (the Mamba-2 simplification), which lets
training use the block form below with a T x T x channels tensor instead of T x channels x state.

The output layer is the cost of a 49,152-token vocabulary, so the model works on a *compact
vocabulary*: the token types seen so far in this chunk, numbered in order of first appearance.
Its logits are the final hidden state against the tied embedding rows of those types only (a
32 x n product, n ~ 19k types on enwik8's first MB rather than 49k), and a new type is announced
by the caller's NEW symbol, not by this model. Embedding and output are tied so a type's row is
trained both as an input and as an output.

Schedule (what makes it decodable): prediction runs the recurrent form one token at a time in
numpy (low per-call overhead) on views of the torch parameters; every ``block`` tokens the block
is replayed in torch in its parallel form from the states saved at its start, one Adam step is
taken on its mean cross-entropy, and prediction continues from the recurrent state it had (the
state is not recomputed under the new weights). The decoder sees the same tokens at the same
steps, so it takes the same steps. torch runs single-threaded; numpy's element-wise and
matrix-vector operations depend only on their inputs on a given machine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_EPS = 1e-6


def _torch():
    import torch

    # One intra-op thread: a reduction split across threads could sum in a different order. (The
    # ops used here are deterministic on the CPU; use_deterministic_algorithms adds nothing there
    # but 3 s of imports and NaN-filling of every new tensor.)
    torch.set_num_threads(1)
    return torch


def backend_identity() -> str:
    """What must match between encoder and decoder for the SSM's floats to agree."""
    import platform

    torch = _torch()
    return f"torch {torch.__version__} {platform.machine()} {torch.backends.cpu.get_cpu_capability()}"


def _silu_np(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def _softplus_np(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(x, np.float32(0.0)).astype(np.float32)


class OnlineSSM:
    """Next-token log-probabilities over the compact vocabulary, learned from the chunk itself."""

    NAME = "ssm/1"

    def __init__(self, capacity: int, dm: int = 32, di: int = 64, ds: int = 16, layers: int = 2,
                 conv: int = 4, dt_rank: int = 4, shortlist: int = 2048, block: int = 16, lr: float = 0.005,
                 seed: int = 1) -> None:
        torch = _torch()
        self.torch = torch
        self.capacity, self.dm, self.di, self.ds = int(capacity), int(dm), int(di), int(ds)
        self.n_layers, self.conv, self.dt_rank, self.block = int(layers), int(conv), int(dt_rank), int(block)
        self.lr = float(lr)
        self.shortlist = int(shortlist)
        gen = torch.Generator().manual_seed(int(seed))

        def init(*shape: int, scale: float = 0.0, value: float = 0.0) -> Any:
            if scale:
                return torch.randn(*shape, generator=gen, dtype=torch.float32) * scale
            return torch.full(shape, value, dtype=torch.float32)

        # Row 0 of the embedding is the start-of-chunk input; type k of the compact vocabulary is row k + 1.
        self.embed = init(self.capacity + 1, dm, scale=0.1)
        core: list[tuple[str, Any]] = [("norm_f", init(dm, value=1.0)),
                                       ("out_w", init(self.shortlist, dm, scale=0.1)),
                                       ("out_b", init(self.shortlist))]
        for k in range(self.n_layers):
            dt_init = torch.exp(torch.rand(di, generator=gen) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
            core += [(f"{k}.{name}", value) for name, value in (
                ("norm", init(dm, value=1.0)),
                ("w_in", init(2 * di, dm, scale=1.0 / math.sqrt(dm))),
                ("conv_w", init(di, conv, scale=1.0 / math.sqrt(conv))),
                ("conv_b", init(di)),
                ("w_x", init(dt_rank + 2 * ds, di, scale=1.0 / math.sqrt(di))),
                ("w_dt", init(di, dt_rank, scale=1.0 / math.sqrt(dt_rank))),
                ("b_dt", (dt_init + torch.log(-torch.expm1(-dt_init))).float()),
                ("a_log", torch.log(torch.linspace(1.0, 16.0, di)).float()),
                ("d", init(di, value=1.0)),
                ("w_out", init(dm, di, scale=0.5 / math.sqrt(di))),
            )]
        # One flat leaf for all the small parameters: one Adam update instead of one per tensor.
        self.flat = torch.cat([value.reshape(-1) for _, value in core]).requires_grad_(True)
        self._shapes = [(name, tuple(value.shape)) for name, value in core]
        # Adam moments; torch.optim.Adam is not used because constructing it imports torch's
        # compiler stack (1.5 s per chunk) and its step goes through a dynamo wrapper.
        self._flat_m = torch.zeros_like(self.flat)
        self._flat_v = torch.zeros_like(self.flat)
        # Adam moments of the input embedding, updated on the rows a block used only (lazy Adam).
        self._m = torch.zeros_like(self.embed)
        self._v = torch.zeros_like(self.embed)
        self._steps = 0
        # numpy views share memory with the torch tensors, so they see every update.
        self.np_embed = self.embed.numpy()
        views = self._views(self.flat.detach().numpy())
        self.np_norm_f, self.np_out_w, self.np_out_b = views["norm_f"], views["out_w"], views["out_b"]
        self.np_layers = self._layers(views)
        self.counts = np.zeros(self.capacity)  # occurrences of each type, to share the rare class
        self.log_counts = np.zeros(self.capacity)  # their logs, kept up to date one type at a time
        self._rare_total = 0.0  # occurrences of the types in the shared class
        # Recurrent state: per layer the last conv-1 inputs and the scan state.
        self.conv_state = [np.zeros((conv - 1, di), np.float32) for _ in range(self.n_layers)]
        self.scan_state = [np.zeros((di, ds), np.float32) for _ in range(self.n_layers)]
        self._start_states = self._snapshot()
        self._inputs: list[int] = []  # embedding rows fed in this block
        self._targets: list[int] = []  # compact ids that followed them
        self._prev_row = 0
        self._x = self._advance(0)  # final hidden state after the start symbol

    def _views(self, flat: Any) -> dict[str, Any]:
        """The named parameters as views (reshaped slices) of the flat buffer, numpy or torch."""
        out, pos = {}, 0
        for name, shape in self._shapes:
            size = math.prod(shape)
            out[name] = flat[pos:pos + size].reshape(shape)
            pos += size
        return out

    def _layers(self, views: dict[str, Any]) -> list[dict[str, Any]]:
        """Per layer, its parameters by short name (``"0.w_in"`` -> ``layers[0]["w_in"]``)."""
        layers: list[dict[str, Any]] = [{} for _ in range(self.n_layers)]
        for name, value in views.items():
            index, _, short = name.partition(".")
            if short:
                layers[int(index)][short] = value
        return layers

    # -- recurrent prediction (numpy) ------------------------------------------------------------
    def _snapshot(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(c.copy(), h.copy()) for c, h in zip(self.conv_state, self.scan_state)]

    def _advance(self, row: int) -> np.ndarray:
        """Feed one embedding row through every layer; return the normalised final state."""
        x = self.np_embed[row].copy()
        di, ds, r = self.di, self.ds, self.dt_rank
        for k, p in enumerate(self.np_layers):
            xn = x / np.sqrt(np.float32(np.dot(x, x) / x.shape[0]) + np.float32(_EPS)) * p["norm"]
            uz = p["w_in"] @ xn
            u, z = uz[:di], uz[di:]
            window = np.concatenate((self.conv_state[k], u[None, :]))
            self.conv_state[k] = window[1:]
            uc = _silu_np(np.einsum("kd,dk->d", window, p["conv_w"]) + p["conv_b"])
            proj = p["w_x"] @ uc
            dt = _softplus_np(p["w_dt"] @ proj[:r] + p["b_dt"])
            decay = np.exp(-np.exp(p["a_log"]) * dt)
            h = self.scan_state[k]
            h *= decay[:, None]
            h += np.outer(dt * uc, proj[r:r + ds])
            y = h @ proj[r + ds:] + p["d"] * uc
            x = x + p["w_out"] @ (y * _silu_np(z))
        return x / np.sqrt(np.float32(np.dot(x, x) / x.shape[0]) + np.float32(_EPS)) * self.np_norm_f

    def _classes(self, n: int) -> int:
        """Output rows in use with n types: one per type, the last row shared once n >= shortlist."""
        return min(n, self.shortlist)

    def log_probs(self, n: int) -> np.ndarray:
        """float64 log-probabilities of the n types seen so far (compact ids 0..n-1).

        Types 0..shortlist-2 (the first seen, which are mostly the frequent ones) have their own
        output row; later types share the last row's probability in proportion to their counts.
        That keeps the output layer a fixed 32 x shortlist product however many types appear.
        """
        k = self._classes(n)
        logits = (self.np_out_w[:k] @ self._x + self.np_out_b[:k]).astype(np.float64)
        logits -= logits.max()
        logits -= math.log(float(np.cumsum(np.exp(logits))[-1]))
        if n < self.shortlist:
            return logits
        out = np.empty(n)
        out[:k - 1] = logits[:k - 1]
        np.add(self.log_counts[k - 1:n], logits[k - 1] - math.log(self._rare_total), out=out[k - 1:])
        return out

    def update(self, compact_id: int, n: int) -> None:
        """Learn that type ``compact_id`` came next (``n`` types known, this one included)."""
        count = self.counts[compact_id] = self.counts[compact_id] + 1.0
        self.log_counts[compact_id] = math.log(count)
        if compact_id >= self.shortlist - 1:
            self._rare_total += 1.0
        self._inputs.append(self._prev_row)
        self._targets.append(min(compact_id, self.shortlist - 1))
        if len(self._targets) == self.block:
            self._train(self._classes(n))
            self._inputs, self._targets = [], []
            self._start_states = self._snapshot()  # the next block starts by feeding this token
        self._prev_row = compact_id + 1
        self._x = self._advance(self._prev_row)

    # -- block training (torch) ------------------------------------------------------------------
    def _train(self, classes: int) -> None:
        torch = self.torch
        rows, where = torch.unique(torch.tensor(self._inputs, dtype=torch.long), return_inverse=True)
        targets = torch.tensor(self._targets, dtype=torch.long)
        # The block's embedding rows as one small leaf: gradient and update cost O(block), not O(types).
        embed = self.embed[rows].requires_grad_(True)
        params = self._views(self.flat)
        x = torch.nn.functional.embedding(where, embed)
        for layer, (conv0, h0) in zip(self._layers(params), self._start_states):
            x = x + self._block_layer(layer, x, torch.from_numpy(conv0), torch.from_numpy(h0))
        xn = torch.nn.functional.rms_norm(x, (self.dm,), params["norm_f"], _EPS)
        logits = xn @ params["out_w"][:classes].T + params["out_b"][:classes]
        loss = torch.nn.functional.cross_entropy(logits, targets)
        loss.backward()
        self._steps += 1
        with torch.no_grad():
            self._adam_rows(self.flat, self.flat.grad, self._flat_m, self._flat_v)
            self.flat.grad = None
            m, v = self._m[rows], self._v[rows]
            self._adam_rows(embed, embed.grad, m, v)
            self.embed[rows] = embed
            self._m[rows] = m
            self._v[rows] = v

    def _adam_rows(self, data: Any, grad: Any, m: Any, v: Any) -> None:
        """One Adam step (lr, betas 0.9/0.999, eps 1e-8) on ``data`` in place."""
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        m.mul_(beta1).add_(grad, alpha=1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        c1 = 1.0 - beta1 ** self._steps
        c2 = 1.0 - beta2 ** self._steps
        data.addcdiv_(m, (v / c2).sqrt_().add_(eps), value=-self.lr / c1)

    def _block_layer(self, p: dict[str, Any], x: Any, conv0: Any, h0: Any) -> Any:
        """One layer over a block of T inputs in parallel form, from the saved start state."""
        torch = self.torch
        F = torch.nn.functional
        di, ds, r = self.di, self.ds, self.dt_rank
        xn = F.rms_norm(x, (self.dm,), p["norm"], _EPS)
        uz = xn @ p["w_in"].T
        u, z = uz[:, :di], uz[:, di:]
        padded = torch.cat((conv0, u)).T[None]  # (1, di, conv-1+T)
        uc = F.silu(F.conv1d(padded, p["conv_w"][:, None, :], p["conv_b"], groups=di)[0].T)
        t = x.shape[0]
        proj = uc @ p["w_x"].T
        dt = F.softplus(proj[:, :r] @ p["w_dt"].T + p["b_dt"])
        log_decay = -torch.exp(p["a_log"]) * dt  # (T, di)
        cum = torch.cumsum(log_decay, 0)
        diff = cum[:, None, :] - cum[None, :, :]  # (T, T, di): log decay from s to t
        causal = torch.ones(t, t, dtype=torch.bool).tril()[:, :, None]
        decay = torch.exp(diff.masked_fill(~causal, float("-inf")))
        b, c = proj[:, r:r + ds], proj[:, r + ds:]
        y = (decay * (c @ b.T)[:, :, None] * (dt * uc)[None, :, :]).sum(1)
        y = y + torch.exp(cum) * (c @ h0.T)  # the state carried in from before the block
        y = y + p["d"] * uc
        return (y * F.silu(z)) @ p["w_out"].T
