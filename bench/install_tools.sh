#!/usr/bin/env bash
# Installs the classical compressors that `python -m bench` measures nczip against, from Debian
# packages, and only those that are missing: the bench skips an absent tool with a warning, so a
# machine without apt (or without the network) still runs; this script then warns and exits 0.
# `apt-get update` runs only when something has to be installed (it is slow and needs the network).
# Usage: bash bench/install_tools.sh
set -uo pipefail

# command -> Debian package that provides it; GNU time measures a compressor's own peak RSS
tools=(gzip:gzip bzip2:bzip2 xz:xz-utils zstd:zstd brotli:brotli zpaq:zpaq 7zz:7zip /usr/bin/time:time)

missing=()
for entry in "${tools[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "bench/install_tools.sh: not root and no sudo; missing: ${missing[*]} (the bench will skip them)" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench/install_tools.sh: no apt-get; missing: ${missing[*]} (the bench will skip them)" >&2
    exit 0
fi

echo "bench/install_tools.sh: installing ${missing[*]}" >&2
if ! { $sudo apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"; } >&2; then
    echo "bench/install_tools.sh: apt-get failed; missing: ${missing[*]} (the bench will skip them)" >&2
fi
exit 0
