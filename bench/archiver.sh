#!/usr/bin/env bash
# Puts an archiver (zpaq, 7-Zip) behind the bench's stream interface: "compress FILE" writes the
# archive to stdout, "decompress" reads one from stdin and writes the file's bytes to stdout.
# The archive lives in a temporary directory removed on exit; the few hundred bytes of the file's
# name and the archive's index are counted in the size, as a user of the tool would pay them.
# Usage: bench/archiver.sh zpaq -m5 compress FILE | bench/archiver.sh zpaq -m5 decompress
#        bench/archiver.sh 7z-ppmd o=32:mem=1g compress FILE   (7-Zip's PPMd with those settings)
set -euo pipefail
tool=$1 option=$2 mode=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$tool/$mode" in
zpaq/compress)
    zpaq a "$tmp/a.zpaq" "$(realpath "$4")" "$option" -threads 1 >/dev/null 2>&1
    cat "$tmp/a.zpaq" ;;
zpaq/decompress)
    cat >"$tmp/a.zpaq"
    mkdir "$tmp/out"
    zpaq x "$tmp/a.zpaq" -to "$tmp/out" -threads 1 >/dev/null 2>&1
    find "$tmp/out" -type f -exec cat {} + ;;
7z-ppmd/compress)
    7zz a -bd -mmt1 "-m0=PPMd:$option" "$tmp/a.7z" "$(realpath "$4")" >/dev/null
    cat "$tmp/a.7z" ;;
7z-ppmd/decompress)
    cat >"$tmp/a.7z"
    7zz e -so "$tmp/a.7z" 2>/dev/null ;;
*)
    echo "archiver.sh: unknown tool/mode $tool/$mode" >&2
    exit 2 ;;
esac
