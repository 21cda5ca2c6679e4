#!/usr/bin/env bash
# Installs nczip and everything it needs on a fresh machine (Python 3.11, pip, gcc; no GPU).
# Usage: bash scripts/setup.sh        # the compressor
#        bash scripts/setup.sh test   # plus the test and benchmark tools
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[ "${1:-}" = "test" ] && extras="[test,bench]"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".${extras}"
