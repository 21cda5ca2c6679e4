"""What the figures were measured on, recorded with them.

Speeds mean nothing without the machine, and ratios can change with a tool's version, so every
result file carries the CPU, core count, memory, GPU (when ``nvidia-smi`` finds one), load at the
start, the versions of Python, nczip, numpy and each classical tool, and the nczip checkout's commit.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable

from .compressors import Compressor
from .corpora import ROOT


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / (1 << 20), 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def gpus() -> list[dict[str, str]]:
    """The GPUs ``nvidia-smi`` lists (name, memory, driver); empty without one or without the tool."""
    if not shutil.which("nvidia-smi"):
        return []
    text = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"])
    found = []
    for line in (text or "").splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) == 3:
            found.append({"name": parts[0], "memory": parts[1], "driver": parts[2]})
    return found


def _module_version(name: str) -> str | None:
    try:
        module = __import__(name)
    except Exception:  # noqa: BLE001 - a missing module is recorded as None
        return None
    return getattr(module, "__version__", None)


def describe(compressors: Iterable[Compressor], gpu_list: list[dict[str, str]]) -> dict[str, Any]:
    """The machine and software versions, as a JSON-ready dict."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    commit = _run(["git", "rev-parse", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    tools: dict[str, str | None] = {}
    for compressor in compressors:
        if not compressor.is_nczip and compressor.binary not in tools:
            tools[compressor.binary] = compressor.version()
    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "memory_gib": _memory_gib(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "gpus": gpu_list,
        "python": platform.python_version(),
        "nczip": _module_version("nczip"),
        "nczip_commit": (commit + ("+dirty" if dirty else "")) if commit else None,
        "numpy": _module_version("numpy"),
        "tools": tools,
    }
