"""The SSM's C kernels against torch's autograd of the same model (the reference they replaced)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctypes
import shutil
import subprocess
from pathlib import Path

import nczip
from nczip import kernels
from nczip.predictors.ssm import OnlineSSM

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _views(ssm: OnlineSSM, flat):
    dm, di, ds, layers, conv, r, short = (int(v) for v in ssm.dims)
    shapes = [("norm_f", (dm,)), ("out_w", (dm, short)), ("out_b", (short,))]
    for k in range(layers):
        shapes += [(f"{k}.norm", (dm,)), (f"{k}.w_in", (2 * di, dm)), (f"{k}.conv_w", (di, conv)),
                   (f"{k}.conv_b", (di,)), (f"{k}.w_x", (r + 2 * ds, di)), (f"{k}.w_dt", (di, r)),
                   (f"{k}.b_dt", (di,)), (f"{k}.a_log", (di,)), (f"{k}.d", (di,)), (f"{k}.w_out", (dm, di))]
    out, pos = {}, 0
    for name, shape in shapes:
        size = math.prod(shape)
        out[name] = flat[pos:pos + size].reshape(shape)
        pos += size
    assert pos == flat.shape[0]
    return out


def _reference_loss(ssm: OnlineSSM, flat, x, targets, classes):
    """Block form of the model in torch (the first implementation's training pass)."""
    dm, di, ds, layers, conv, r, short = (int(v) for v in ssm.dims)
    p = _views(ssm, flat)
    t = x.shape[0]
    for k in range(layers):
        conv0, h0 = torch.from_numpy(ssm.conv0[k]), torch.from_numpy(ssm.h0[k])
        xn = F.rms_norm(x, (dm,), p[f"{k}.norm"], 1e-6)
        uz = xn @ p[f"{k}.w_in"].T
        u, z = uz[:, :di], uz[:, di:]
        padded = torch.cat((conv0, u)).T[None]
        uc = F.silu(F.conv1d(padded, p[f"{k}.conv_w"][:, None, :], p[f"{k}.conv_b"], groups=di)[0].T)
        proj = uc @ p[f"{k}.w_x"].T
        dt = F.softplus(proj[:, :r] @ p[f"{k}.w_dt"].T + p[f"{k}.b_dt"])
        cum = torch.cumsum(-torch.exp(p[f"{k}.a_log"]) * dt, 0)
        causal = torch.ones(t, t, dtype=torch.bool).tril()[:, :, None]
        decay = torch.exp((cum[:, None, :] - cum[None, :, :]).masked_fill(~causal, float("-inf")))
        b, c = proj[:, r:r + ds], proj[:, r + ds:]
        y = (decay * (c @ b.T)[:, :, None] * (dt * uc)[None, :, :]).sum(1)
        y = y + torch.exp(cum) * (c @ h0.T) + p[f"{k}.d"] * uc
        x = x + (y * F.silu(z)) @ p[f"{k}.w_out"].T
    xf = F.rms_norm(x, (dm,), p["norm_f"], 1e-6)
    logits = xf @ p["out_w"][:, :classes] + p["out_b"][:classes]
    return F.cross_entropy(logits, torch.tensor(targets, dtype=torch.long))


def _trained_model(tokens: int, layers: int) -> OnlineSSM:
    rng = np.random.default_rng(5)
    ssm = OnlineSSM(300, layers=layers, shortlist=64, block=8, lr=0.01)
    for i in range(tokens):  # a few blocks, so the weights and the start state are not the initial ones
        # compact ids: type i first appears at step i, then the 100 types recur at random
        if i:
            ssm.probs(min(i, 100))
        ssm.update(i if i < 100 else int(rng.integers(0, 100)), min(i + 1, 100))
    return ssm


@pytest.mark.parametrize("layers", [1, 2])
def test_block_gradient_matches_torch_autograd(layers):
    ssm = _trained_model(8 * 13 + 3, layers)
    rng = np.random.default_rng(6)
    targets = [int(v) for v in rng.integers(0, 64, ssm.block - ssm._fill)]
    for target in targets[:-1]:  # fill the block but stop before the step that trains on it
        ssm.probs(100)  # the gradient reuses these probabilities ...
        ssm.update(target, 100)
    assert ssm.probs_k[ssm._fill] == -1  # ... and recomputes them at the last position
    ssm.targets[ssm._fill] = targets[-1]
    fill = ssm._fill + 1
    classes = 64
    loss_c = ssm.lib.ssm_backward(ssm._p["dims"], fill, classes, ssm._p["targets"], ssm._p["flat"],
                                  ssm._p["records"], ssm._p["conv0"], ssm._p["h0"], ssm._p["grad"],
                                  ssm.flat.size, ssm._p["d_inputs"], ssm._p["work"],
                                  ssm._p["probs_rows"], ssm._p["probs_k"])
    flat = torch.from_numpy(ssm.flat.copy()).requires_grad_(True)
    x = torch.from_numpy(ssm.embed[ssm.inputs[:fill]].copy()).requires_grad_(True)
    loss = _reference_loss(ssm, flat, x, ssm.targets[:fill].tolist(), classes)
    loss.backward()
    assert abs(loss_c - float(loss.detach())) < 1e-4
    scale = float(flat.grad.abs().max())
    assert np.abs(ssm.grad - flat.grad.numpy()).max() < 1e-4 * scale
    assert np.abs(ssm.d_inputs[:fill] - x.grad.numpy()).max() < 1e-4 * float(x.grad.abs().max())


def test_recurrent_step_matches_the_block_forward():
    """The recorded final states (what prediction uses) equal the torch block form's."""
    ssm = _trained_model(8 * 3 + 5, 1)
    fill = ssm._fill + 1
    flat = torch.from_numpy(ssm.flat.copy())
    x = torch.from_numpy(ssm.embed[ssm.inputs[:fill]].copy())
    # Compare through the loss of class 0 at every position: it depends on every final state.
    with torch.no_grad():
        ref_loss = _reference_loss(ssm, flat, x, [0] * fill, 64)
    lp = np.zeros(64)
    total = 0.0
    for t in range(fill):
        ssm.lib.ssm_log_softmax(ssm._p["dims"], ssm._p["flat"], ssm._p["records"] + t * ssm._record_bytes
                                + ssm._xf_offset, 64, lp.ctypes.data, np.zeros(64).ctypes.data)
        total -= lp[0]
    assert abs(total / fill - float(ref_loss)) < 1e-5


def test_the_avx2_and_baseline_builds_code_identically(tmp_path, monkeypatch, alice):
    """The kernels' AVX2 clones differ from the baseline ones in vector width only, which must
    change no result: a file from a machine without AVX2 decodes on one with it, and back."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc")
    source = Path(kernels.__file__).parent
    flags = (source / "cflags.txt").read_text().split()
    library = tmp_path / "baseline.so"
    subprocess.run([gcc, *flags, "-DNC_BASELINE_ONLY", "-shared", "-fPIC",
                    *map(str, sorted(source.glob("*.c"))), "-o", str(library)], check=True)
    baseline = ctypes.CDLL(str(library))
    for name, (restype, argtypes) in kernels._SIGNATURES.items():
        getattr(baseline, name).restype = restype
        getattr(baseline, name).argtypes = argtypes
    data = alice[:20000]
    usual = nczip.compress(data, level=3)
    monkeypatch.setattr(kernels, "lib", lambda: baseline)
    assert nczip.compress(data, level=3) == usual
    assert nczip.decompress(usual) == data
