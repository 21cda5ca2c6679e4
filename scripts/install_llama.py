"""Install llama-cpp-python as nczip's one pinned CPU build (run by scripts/setup.sh).

Why not ``pip install llama-cpp-python``: its default build compiles llama.cpp with
``-march=native``. On an Intel VM that advertises AMX without enabling it, such a build dies with
SIGILL on every multi-token ``llama_decode``; and a native build's logits differ between CPUs (an
AVX-512 build and an AVX2 build differ by up to 1.6), so an LLM-level file made on one machine would
not decode on another. nczip's files are portable only if every machine runs the same kernels.

So this script compiles llama.cpp for one fixed x86-64-v3 target (AVX, AVX2, FMA, F16C, BMI2;
nothing above: no AVX-512, no AVX-VNNI, no AMX, no llamafile sgemm, no runtime CPU variants), with
``-ffp-contract=off`` so the compiler never fuses a*b+c on its own (ggml's explicit FMA intrinsics
stay), the same flags on every machine.

Why a wheel directory of our own: pip's wheel cache keys on the package version, not on
``CMAKE_ARGS``, so ``pip install llama-cpp-python==0.3.36`` can silently reuse a wheel once built
with other flags. The pinned wheel is built with ``--no-cache-dir`` into a directory named after a
hash of the flags and the compiler, and installed from that file (never by name); an installed
llama-cpp-python whose features (``llama_print_system_info``) are not the pinned set is replaced.

Usage: python3 scripts/install_llama.py            # build if needed, install, verify
       python3 scripts/install_llama.py --check    # exit 1 unless the pinned build is installed
       python3 scripts/install_llama.py --cuda [ARCHS]  # the GPU build (ARCHS e.g. "90"; default
                                                   # nczip.llama_build.CUDA_ARCHITECTURES), not in CI
       python3 scripts/install_llama.py --cuda 90 --build-only   # compile it, install nothing
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

# The flags, the pinned feature set and the CPU check live in the package, which checks the same
# things at run time; loaded by path, because nothing (numpy included) is installed yet.
_spec = importlib.util.spec_from_file_location(
    "nczip_llama_build", Path(__file__).resolve().parent.parent / "nczip" / "llama_build.py")
assert _spec is not None and _spec.loader is not None
pin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pin)
VERSION = pin.VERSION


def _compiler() -> str:
    try:
        return subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def wheel_dir(args: tuple[str, ...] = pin.CMAKE_ARGS, extra: str = "") -> Path:
    """Where the pinned wheel lives: named after everything that shapes the binary."""
    key = hashlib.sha256("\n".join([VERSION, platform.machine(), _compiler(), *args, *([extra] if extra else [])]).encode())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "nczip" / f"llama-cpp-python-{VERSION}-{key.hexdigest()[:16]}"


def installed_features() -> list[str] | None:
    """The CPU features of the installed llama-cpp-python build (None if none is importable)."""
    probe = ("import llama_cpp, sys; v = llama_cpp.__version__; i = llama_cpp.llama_print_system_info();"
             "sys.stdout.write(v + '\\n' + i.decode('utf-8', 'replace'))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    if run.returncode != 0 or not run.stdout:
        return None
    version, _, info = run.stdout.partition("\n")
    if version != VERSION:
        return [f"version {version}"]
    return pin.enabled_features(info)


def _pip(*args: str, env: dict[str, str] | None = None) -> None:
    extra = ["--root-user-action=ignore"] if args[0] == "install" else []
    cmd = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", *extra]
    if subprocess.run(cmd, env=env).returncode != 0:
        raise SystemExit(f"install_llama: pip {args[0]} failed (see above)")


def build(target: Path, args: tuple[str, ...] = pin.CMAKE_ARGS, env_extra: dict[str, str] | None = None,
          what: str = "pinned x86-64-v3 build, ~4 min") -> Path:
    """Compile the pinned wheel into ``target`` (about 4 minutes on 2 cores)."""
    target.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("CFLAGS", "CXXFLAGS", "CPPFLAGS")}
    env.update(CMAKE_ARGS=" ".join(args), FORCE_CMAKE="1", CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
    env.update(env_extra or {})
    print(f"install_llama: compiling llama-cpp-python {VERSION} ({what})", file=sys.stderr)
    _pip("wheel", "--quiet", "--no-deps", "--no-cache-dir", "--no-binary", "llama-cpp-python",
         f"llama-cpp-python=={VERSION}", "-w", str(target), env=env)
    wheels = sorted(target.glob(f"llama_cpp_python-{VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"install_llama: the build left no wheel in {target}")
    return wheels[0]


def _libraries_in(wheel: Path) -> dict[str, str]:
    """sha256 of each shared library the wheel installs (llama_cpp/lib/*)."""
    with zipfile.ZipFile(wheel) as zf:
        return {Path(name).name: hashlib.sha256(zf.read(name)).hexdigest() for name in zf.namelist()
                if name.startswith("llama_cpp/lib/") and ".so" in name}


def _libraries_installed() -> dict[str, str]:
    """sha256 of each shared library of the installed llama_cpp package ({} if none)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return {}
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(lib.glob("*.so*")) if p.is_file()}


def cuda_toolkit() -> dict[str, str]:
    """The CUDA compiler for the GPU build: ``CUDACXX`` if set, else ``nvcc`` on the PATH or in
    /usr/local/cuda, else NVIDIA's toolkit packages from PyPI (nvcc, runtime, cuBLAS for CUDA 12),
    installed here. The environment CMake needs to find it."""
    found = os.environ.get("CUDACXX") or shutil.which("nvcc")
    if not found and Path("/usr/local/cuda/bin/nvcc").is_file():
        found = "/usr/local/cuda/bin/nvcc"
    if not found:
        print("install_llama: no CUDA toolkit found; installing NVIDIA's from PyPI (CUDA 12)", file=sys.stderr)
        _pip("install", "--quiet", "nvidia-cuda-nvcc-cu12", "nvidia-cuda-runtime-cu12", "nvidia-cublas-cu12",
             "nvidia-cuda-cccl-cu12")
        import nvidia  # the packages' namespace: nvidia/cuda_nvcc/bin/nvcc, nvidia/cuda_runtime/...

        root = Path(list(nvidia.__path__)[0])
        found = str(root / "cuda_nvcc" / "bin" / "nvcc")
        if not Path(found).is_file():
            raise SystemExit("install_llama: the PyPI CUDA toolkit has no nvcc at " + found)
    nvcc = Path(found).resolve()
    return {"CUDACXX": str(nvcc), "CUDAToolkit_ROOT": str(nvcc.parent.parent)}


def cublas_args(toolkit: dict[str, str], major: str) -> tuple[list[str], dict[str, str]]:
    """ggml's CUDA backend links cuBLAS, which some toolkits (the CUDA 13 compiler image seen
    here) do not ship: then NVIDIA's cuBLAS wheel for the compiler's major version is installed
    into ~/.cache/nczip and named to CMake (libraries, headers, and a run path to find them)."""
    root = Path(toolkit["CUDAToolkit_ROOT"])
    if any((root / d / "cublas_v2.h").is_file() for d in ("include", "targets/x86_64-linux/include")):
        return [], {}
    package = "nvidia-cublas" if int(major) >= 13 else f"nvidia-cublas-cu{major}"
    target = wheel_dir((), package).with_name(f"cublas-{major}")
    found = sorted(target.glob("nvidia/*/lib/libcublas.so.*")) + sorted(target.glob("nvidia/cublas/lib/libcublas.so.*"))
    if not found:
        print(f"install_llama: the CUDA toolkit has no cuBLAS; installing {package} into {target}", file=sys.stderr)
        _pip("install", "--quiet", "--no-deps", "--target", str(target), f"{package}=={major}.*")
        found = sorted(target.glob("nvidia/*/lib/libcublas.so.*")) + sorted(target.glob("nvidia/cublas/lib/libcublas.so.*"))
    if not found:
        raise SystemExit(f"install_llama: {package} left no libcublas in {target}")
    lib = found[0].parent
    include = lib.parent / "include"
    lt = sorted(lib.glob("libcublasLt.so.*"))
    args = [f"-DCUDA_cublas_LIBRARY={found[0]}", f"-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath,{lib}"]
    if lt:
        args.append(f"-DCUDA_cublasLt_LIBRARY={lt[0]}")
    return args, {"CPATH": str(include)}


def main_cuda(architectures: str, install: bool = True) -> int:
    """``--cuda [ARCHS]``: build (or reuse) and install the GPU wheel (not part of CI);
    ``--build-only``: build it and say where, installing nothing (to check that it compiles on
    a machine without a GPU, whose CPU build stays installed)."""
    toolkit = cuda_toolkit()
    version = subprocess.run([toolkit["CUDACXX"], "--version"], capture_output=True, text=True).stdout.strip()
    major = (version.split("release ")[1].split(".")[0]) if "release " in version else "12"
    extra, env = cublas_args(toolkit, major)
    args = pin.cuda_cmake_args(architectures) + tuple(extra)
    toolkit = {**toolkit, **env}
    target = wheel_dir(args, version.splitlines()[-1] if version else "")
    wheels = sorted(target.glob(f"llama_cpp_python-{VERSION}-*.whl"))
    started = time.monotonic()
    wheel = wheels[0] if wheels else build(target, args, toolkit, f"CUDA build for sm {architectures}")
    if not wheels:
        print(f"install_llama: the CUDA build took {time.monotonic() - started:.0f} s", file=sys.stderr)
    if not install:
        print(f"install_llama: built {wheel}", file=sys.stderr)
        return 0
    if _libraries_installed() != _libraries_in(wheel):
        _pip("install", "--quiet", "--no-deps", "--force-reinstall", str(wheel))
    probe = "import llama_cpp, sys; sys.stdout.write(llama_cpp.llama_print_system_info().decode())"
    info = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    if not pin.is_cuda_build(info):
        print(f"install_llama: the installed build is not a CUDA build: {info}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if "--cuda" in argv:
        rest = argv[argv.index("--cuda") + 1:]
        return main_cuda(rest[0] if rest and not rest[0].startswith("-") else pin.CUDA_ARCHITECTURES,
                         install="--build-only" not in argv)
    missing = pin.missing_baseline()
    if missing:
        print(f"install_llama: {pin.baseline_message(missing)}", file=sys.stderr)
        return 1
    target = wheel_dir()
    wheels = sorted(target.glob(f"llama_cpp_python-{VERSION}-*.whl"))
    if "--check" in argv:
        ok = bool(wheels) and _libraries_installed() == _libraries_in(wheels[0])
        if not ok:
            print("install_llama: the installed llama-cpp-python is not nczip's pinned build", file=sys.stderr)
        return 0 if ok else 1
    wheel = wheels[0] if wheels else build(target)
    # The same feature list can come from other flags (a native build on an AVX2-only CPU, another
    # -ffp-contract): only the very libraries of the pinned wheel count as installed.
    if _libraries_installed() != _libraries_in(wheel):
        have = installed_features()
        if have is not None:
            print(f"install_llama: replacing the installed llama-cpp-python ({' '.join(have)}) by the pinned build",
                  file=sys.stderr)
        _pip("install", "--quiet", "--no-deps", "--force-reinstall", str(wheel))
        _pip("install", "--quiet", str(wheel))  # its own dependencies (numpy, diskcache, ...), if missing
    have = installed_features()
    if have is None or not pin.is_pinned(VERSION, have) or _libraries_installed() != _libraries_in(wheel):
        print(f"install_llama: the installed build reports {have}, expected {list(pin.PINNED_FEATURES)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
