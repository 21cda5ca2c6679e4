"""The loaded llama.cpp is nczip's pinned, portable build, and multi-token decodes run on it.

A native build on a VM that advertises AMX without enabling it died with SIGILL on every
multi-token ``llama_decode`` (the skip's catch-up, and the lanes to come); a native build's logits
also differ between CPUs. scripts/install_llama.py installs one fixed x86-64-v3 build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nczip import llama_build
from nczip.models import default_model
from nczip.predictors.llm import LlamaModel, LlmPredictor, build_features

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not llama_build.is_x86_64(), reason="the pin is for x86-64")
def test_the_loaded_build_is_the_pinned_one_with_nothing_above_the_baseline():
    version, features = build_features()
    assert version == llama_build.VERSION
    assert llama_build.above_baseline(features) == []  # no AVX-512, AVX-VNNI, AMX, llamafile
    assert tuple(features) == llama_build.PINNED_FEATURES


@pytest.mark.skipif(not llama_build.is_x86_64(), reason="the pin is for x86-64")
def test_the_install_step_finds_its_own_wheel_installed():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "install_llama.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_a_multi_token_decode_runs_and_gives_finite_log_probs():
    model = LlamaModel.load(default_model().path)
    llm = LlmPredictor(model, n_ctx=256, slide=64)
    try:
        tokens = model.tokenize(b"Alice was beginning to get very tired of sitting by her sister on the bank")
        assert len(tokens) > 8
        for token in tokens:  # queued: the next predict evaluates them in one multi-token call
            llm.update(token)
        log_probs = llm.predict()
        assert llm.evaluations == 1  # BOS + the whole sentence in one llama_decode
        codable = model.codable()
        assert np.all(np.isfinite(log_probs[codable]))
        # normalised over the whole vocabulary; the control tokens' share is masked out
        total = float(np.exp(log_probs[codable]).sum())
        assert 0.999 < total <= 1.0 + 1e-12
        assert np.all(log_probs[~codable] == -1e30)
    finally:
        llm.close()


def test_the_baseline_check_names_what_a_cpu_lacks():
    old = "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx popcnt\n"
    if llama_build.is_x86_64():
        assert llama_build.missing_baseline(old) == ["avx2", "fma", "f16c", "bmi2"]
        assert "lacks avx2, fma" in llama_build.baseline_message(["avx2", "fma"])
    assert llama_build.missing_baseline("flags : avx avx2 fma f16c bmi2\n") == []


def test_a_foreign_build_is_reported_as_tying_files_to_it():
    from nczip.backend import tied_to

    pinned = "llama.cpp 0.3.36 " + " ".join(llama_build.PINNED_FEATURES) + "; kernels 2 x86_64"
    assert tied_to(pinned) is None if llama_build.is_x86_64() else True
    native = "llama.cpp 0.3.36 SSE3 AVX AVX2 AVX512 AMX_INT8 OPENMP; kernels 2 x86_64"
    assert tied_to(native) == "llama.cpp 0.3.36 SSE3 AVX AVX2 AVX512 AMX_INT8 OPENMP"
    assert tied_to("kernels 2 x86_64") is None  # no LLM: nothing to be tied to


def test_llama_threads_wait_passively_unless_the_user_says_otherwise():
    probe = ("import os; from nczip.predictors.llm import _import_llama; _import_llama();"
             "print(os.environ['OMP_WAIT_POLICY'])")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert run.stdout.strip() == "PASSIVE", run.stderr
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={**env, "OMP_WAIT_POLICY": "ACTIVE"})
    assert run.stdout.strip() == "ACTIVE", run.stderr
