"""The backend identity: what a machine must run to reproduce a file's model floats bit for bit.

A container records it (the model identity's ``backend`` field) as ``; ``-separated parts, one per
floating-point engine the configuration uses:

- ``kernels V ARCH``: nczip's C kernels (mixer passes, quantiser, SSM, the LLM's log-softmax), at
  every token level. Their floats depend only on their source version: own exp/log, fixed-order
  sums, no FMA contraction. The architecture is recorded too and must match.
- ``llama.cpp VERSION FEATURES``: the llama.cpp build at the LLM levels, by the CPU features it
  reports (``llama_print_system_info``). nczip's pinned build (:mod:`nczip.llama_build`) reports
  the same features on every x86-64-v3 machine, so its files decode on all of them; a file made
  with another build is tied to a build with those features.

The byte model, zstd and storage need neither, so a file's chunks of those kinds decode anywhere.
Before a token chunk is decoded, :func:`refusal` compares the recorded parts with this machine's,
so a file that cannot decode here is refused in one line instead of failing its checksum after
the whole chunk was decoded (an hour per MiB at level 9).
"""

from __future__ import annotations

from functools import lru_cache

from .config import CodecConfig
from .llama_build import LLM_SETUP


@lru_cache(maxsize=1)
def llama_part(device: str = "cpu") -> str:
    """This machine's llama.cpp build, as recorded: ``llama.cpp 0.3.36 SSE3 SSSE3 AVX ...``; on a
    GPU, then ``cuda sm_90`` (the device and its compute capability: the same build's logits
    differ between a CPU and a GPU, and between GPU generations)."""
    from .predictors.llm import build_features, compute_capability

    version, features = build_features()
    on = ["cuda", compute_capability()] if device == "cuda" else []
    return " ".join(["llama.cpp", version, *features, *on])


def recorded_device(recorded: str) -> str:
    """The device a file's backend identity says its LLM ran on."""
    return "cuda" if " cuda sm_" in _parts(recorded).get("llama.cpp", "") else "cpu"


def kernels_part() -> str:
    from .kernels import VERSION, architecture

    return f"kernels {VERSION} {architecture()}"


def identity(config: CodecConfig, device: str = "cpu") -> str:
    """The backend a file coded with ``config`` on this machine (its LLM on ``device``) depends
    on ("" for none)."""
    parts = []
    if config.uses_llm:
        parts.append(llama_part(device))
    if config.token_level:
        parts.append(kernels_part())
    return "; ".join(parts)


def _parts(recorded: str) -> dict[str, str]:
    out = {}
    for part in recorded.split(";"):
        part = part.strip()
        if part:
            out[part.split(" ", 1)[0]] = part
    return out


def refusal(recorded: str, config: CodecConfig) -> str | None:
    """Why this machine cannot decode the token chunks of a file with backend ``recorded`` (None
    if it can); ``recorded`` comes validated from :func:`nczip.config.parse_model`."""
    have = _parts(recorded)
    if "kernels" not in have:
        old = next((p for p in have.values() if p.startswith("nczip-kernels/")), None)
        if old is not None:
            return (f"it was made by an earlier development version of nczip ({old}); this nczip has"
                    f" {kernels_part()}")
        return f"its header records no kernels version ([{recorded[:80]}])"
    if have["kernels"] != kernels_part():
        return f"it needs nczip {have['kernels']}; this nczip has {kernels_part()}"
    if config.uses_llm:
        need = have.get("llama.cpp")
        if need is None:
            return f"its header records no llama.cpp build ([{recorded[:80]}])"
        here = llama_part(recorded_device(recorded))
        if need != here:
            return (f"it was made with {need} and this machine has {here}, whose logits differ"
                    f" ({LLM_SETUP} installs nczip's pinned build)")
    return None


def tied_to(recorded: str) -> str | None:
    """For ``info``: the llama.cpp build a file depends on when it is not nczip's pinned one."""
    from .llama_build import is_pinned

    part = _parts(recorded).get("llama.cpp")
    if part is None:
        return None
    _, version, *features = part.split(" ")
    return None if is_pinned(version, features) else part
