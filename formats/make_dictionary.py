"""How ``nczip/metadata-dictionary-2.txt`` was made (run once; the file is frozen, never regenerated).

A header's configuration and model identity are deflated against a preset dictionary (header flag
bit 2) holding what they usually are: the canonical JSON of every level's configuration and model
identity at the time the dictionary was frozen. deflate finds nearer matches cheaper, so the
default level (3) comes last. Dictionary 1 (flag bit 1) was made the same way before the models'
arithmetic names (llm/2, mixer/2, compact/2, ssm/3) and the backend identity format changed.

Dictionary 3 (flag bit 3, what new files use) is dictionary 2 followed by the context-mixing
levels' configurations (cm/1), level 3 last: ``python3 formats/make_dictionary.py 3``.

Usage: python3 formats/make_dictionary.py > nczip/metadata-dictionary-2.txt
       python3 formats/make_dictionary.py 3 > nczip/metadata-dictionary-3.txt
"""

from __future__ import annotations

import json
import sys

from nczip.levels import level_config

MODEL = {"name": "smollm2-135m-instruct-q4_1",
         "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"}
PINNED = "llama.cpp 0.3.36 SSE3 SSSE3 AVX AVX2 F16C FMA BMI2 OPENMP REPACK"
KERNELS = "kernels 2 x86_64"
# Words of other builds' identities (native x86 builds, GPU builds, arm64), for their headers.
OTHER = ("AVX_VNNI AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16 AMX_INT8 LLAMAFILE CUDA aarch64 NEON ARM_FMA FP16_VA"
         " DOTPROD")


def canonical(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def main() -> None:
    if sys.argv[1:] == ["3"]:
        from pathlib import Path

        base = (Path(__file__).resolve().parent.parent / "nczip" / "metadata-dictionary-2.txt").read_text()
        sys.stdout.write(base + "\n".join(canonical(level_config(level)[0]) for level in (1, 2, 3)) + "\n")
        return
    lines = [OTHER]
    for level in (9, 8, 7, 6, 5, 4):
        lines.append(canonical(level_config(level)[0]))
    lines.append(canonical({**MODEL, "backend": f"{PINNED}; {KERNELS}"}))
    for level in (1, 2):
        lines.append(canonical(level_config(level)[0]))
    lines.append(canonical({**MODEL, "backend": KERNELS}))
    lines.append(canonical(level_config(3)[0]))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
