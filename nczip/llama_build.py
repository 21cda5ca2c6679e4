"""nczip's one pinned llama.cpp CPU build: its flags, the features it reports, the CPU it needs.

LLM-level files decode bit-exactly only under the llama.cpp build that made them: a native build
uses whatever the compiling CPU has (AVX-512, AMX) and its logits differ from an AVX2 build's by up
to 1.6, and on VMs that advertise AMX without enabling it, it dies with SIGILL on every multi-token
decode. So ``scripts/install_llama.py`` compiles llama-cpp-python with the flags below on every
machine, and a container records the features of the build that made it.

Standard library only: the install script loads this file before anything else is installed.
"""

from __future__ import annotations

import importlib.util
import platform
from pathlib import Path

VERSION = "0.3.36"
#: What llama_print_system_info() reports as on for the pinned x86-64 build, in its order.
PINNED_FEATURES = ("SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2", "OPENMP", "REPACK")
#: The /proc/cpuinfo flags the pinned build executes (x86-64-v3 as ggml uses it).
BASELINE_FLAGS = ("avx", "avx2", "fma", "f16c", "bmi2")
#: Features whose presence in a build ties its files to CPUs that have them.
ABOVE_BASELINE = ("AVX512", "AVX_VNNI", "AMX", "LLAMAFILE")
_OFF = ("GGML_NATIVE", "GGML_CPU_ALL_VARIANTS", "GGML_BACKEND_DL", "GGML_AVX_VNNI", "GGML_AVX512",
        "GGML_AVX512_VBMI", "GGML_AVX512_VNNI", "GGML_AVX512_BF16", "GGML_AMX_TILE", "GGML_AMX_INT8",
        "GGML_AMX_BF16", "GGML_LLAMAFILE", "GGML_BLAS", "GGML_CUDA", "GGML_VULKAN", "GGML_CCACHE",
        "LLAVA_BUILD", "LLAMA_BUILD_TESTS", "LLAMA_BUILD_EXAMPLES", "LLAMA_BUILD_TOOLS",
        "LLAMA_BUILD_SERVER")
_ON = ("GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2", "GGML_OPENMP")
#: -ffp-contract=off: the compiler never fuses a*b+c on its own (ggml's explicit FMA intrinsics
#: stay), so compilers that contract differently still build the same arithmetic.
CMAKE_ARGS = tuple([f"-D{name}=OFF" for name in _OFF] + [f"-D{name}=ON" for name in _ON]
                   + ["-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_C_FLAGS=-ffp-contract=off",
                      "-DCMAKE_CXX_FLAGS=-ffp-contract=off"])


def is_x86_64() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def missing_baseline(cpuinfo: str | None = None) -> list[str]:
    """The baseline flags this CPU lacks ([] when it has them all, or is not x86-64 Linux)."""
    if not is_x86_64():
        return []
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return []
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return [flag for flag in BASELINE_FLAGS if flag not in flags]
    return []


def baseline_message(missing: list[str]) -> str:
    return (f"nczip's llama.cpp build needs an x86-64-v3 CPU (AVX2, FMA, F16C, BMI2: Intel Haswell, AMD"
            f" Excavator or later); this CPU lacks {', '.join(missing)}")


def enabled_features(info: str) -> list[str]:
    """The features a ``llama_print_system_info()`` string reports as on, in its order."""
    out = []
    for item in info.split("|"):
        name, _, value = item.partition("=")
        if value.strip() == "1":
            out.append(name.split(":")[-1].strip())
    return out


def is_pinned(version: str, features: list[str]) -> bool:
    """Whether a build is nczip's pinned one (off x86-64 there is no pin to compare with)."""
    return version == VERSION and (not is_x86_64() or tuple(features) == PINNED_FEATURES)


def above_baseline(features: list[str]) -> list[str]:
    """The features of a build that some x86-64-v3 CPUs lack (AVX-512, AMX, ...)."""
    return [f for f in features if f.startswith(ABOVE_BASELINE)]


#: how a user gets levels 4-9 (llama-cpp-python as the pinned build, and the model)
LLM_SETUP = "bash scripts/setup.sh llm"


def llm_missing() -> str | None:
    """Why levels 4-9 cannot run here, when llama-cpp-python is not installed (the ``llm`` extra
    is optional: levels 1-3 install in seconds without it); None when it is."""
    if importlib.util.find_spec("llama_cpp") is not None:
        return None
    return f"levels 4-9 need nczip's LLM extra, which is not installed (run: {LLM_SETUP}, in nczip's source tree)"


#: where the LLM runs (``--device``): the best there is, the CPU, or the GPU build's CUDA device
DEVICES = ("auto", "cpu", "cuda")

#: CUDA architectures the GPU build compiles for by default (compute capability x 10): Ampere
#: (A100 80, RTX 30 86), Ada (89) and Hopper (H100/H200 90). One architecture per build keeps
#: the compile short; logits are only compared between machines with the same build.
CUDA_ARCHITECTURES = "80;86;89;90"


def cuda_cmake_args(architectures: str = CUDA_ARCHITECTURES) -> tuple[str, ...]:
    """The GPU build: the pinned CPU flags (the CPU still runs what is not offloaded), with ggml's
    CUDA backend on for ``architectures``, nvcc told not to contract a*b+c either, and without
    ggml's virtual-memory pool (``GGML_CUDA_NO_VMM``), which is what links the driver library
    (libcuda) at build time: so the same build compiles on a machine with no GPU driver (measured:
    the CUDA 13 compiler image here has none) as on the GPU machine."""
    args = [arg for arg in CMAKE_ARGS if arg != "-DGGML_CUDA=OFF"]
    return tuple(args + ["-DGGML_CUDA=ON", "-DGGML_CUDA_NO_VMM=ON", f"-DCMAKE_CUDA_ARCHITECTURES={architectures}",
                         "-DCMAKE_CUDA_FLAGS=--fmad=false"])


def is_cuda_build(info: str) -> bool:
    """Whether a ``llama_print_system_info()`` string is a CUDA build's."""
    return "CUDA" in info
