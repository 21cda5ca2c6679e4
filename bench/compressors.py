"""The compressors of a run and the exact command lines that measure them.

Every compressor, nczip included, runs as a subprocess reading a file and writing its stream to
stdout, and decompresses from stdin to stdout: the same path for all, so wall time and peak RSS mean
the same thing in every row. Classical tools whose output could depend on the machine's core count
are pinned to one thread (``xz -T1``, ``zstd -T1``); nczip's output never depends on ``-T``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .corpora import ROOT


@dataclass(frozen=True)
class Compressor:
    """One column of the comparison: how to compress a file and how to get it back."""

    name: str  # the row label, e.g. "xz -9e" or "nczip -1"
    key: str  # what --compressors selects: "xz", "zstd-ultra", "nczip"
    compress_cmd: tuple[str, ...]  # the input path is appended; the stream goes to stdout
    decompress_cmd: tuple[str, ...]  # stdin -> stdout
    binary: str  # must be on PATH (or a path) for the compressor to run
    version_cmd: tuple[str, ...] = ()
    nczip_args: tuple[str, ...] | None = None  # set for nczip: the level/variant arguments
    note: str = ""  # e.g. what an ablation variant switches off
    env: dict[str, str] = field(default_factory=dict)

    @property
    def is_nczip(self) -> bool:
        return self.nczip_args is not None

    def compress_argv(self, path: Path, stats_json: Path | None = None) -> list[str]:
        """Command line compressing ``path`` to stdout; nczip also writes its figures as JSON."""
        stats = ["--stats-json", str(stats_json)] if self.is_nczip and stats_json else []
        return [*self.compress_cmd, *stats, str(path)]

    def decompress_argv(self) -> list[str]:
        return list(self.decompress_cmd)

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def version(self) -> str | None:
        """First line the tool prints about its version (bzip2 prints it to stderr)."""
        if not self.version_cmd:
            return None
        try:
            done = subprocess.run(self.version_cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=30, cwd=ROOT)
        except (OSError, subprocess.SubprocessError):
            return None
        lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
        return lines[0] if lines else None


def _classical(name: str, key: str, compress: tuple[str, ...], decompress: tuple[str, ...],
               version: tuple[str, ...]) -> Compressor:
    return Compressor(name, key, compress, decompress, binary=compress[0], version_cmd=version)


#: the classical baselines, in table order; labels are the settings the issue asks for
CLASSICAL: tuple[Compressor, ...] = (
    _classical("gzip -9", "gzip", ("gzip", "-9", "-c"), ("gzip", "-d", "-c"), ("gzip", "--version")),
    _classical("bzip2 -9", "bzip2", ("bzip2", "-9", "-c"), ("bzip2", "-d", "-c"), ("bzip2", "--version")),
    _classical("xz -9e", "xz", ("xz", "-9e", "-T1", "-c"), ("xz", "-d", "-c"), ("xz", "--version")),
    _classical("zstd -19", "zstd", ("zstd", "-19", "-T1", "-q", "-c"), ("zstd", "-d", "-q", "-c"),
               ("zstd", "--version")),
    _classical("zstd --ultra -22 --long=27", "zstd-ultra", ("zstd", "--ultra", "-22", "--long=27", "-T1", "-q", "-c"),
               ("zstd", "-d", "-q", "-c", "--long=27"), ("zstd", "--version")),
    _classical("brotli -q 11", "brotli", ("brotli", "-q", "11", "-c"), ("brotli", "-d", "-c"), ("brotli", "--version")),
)
_ARCHIVER = str(ROOT / "bench" / "archiver.sh")


def _archived(name: str, key: str, tool: str, option: str, binary: str, version: tuple[str, ...]) -> Compressor:
    """An archiver behind bench/archiver.sh's stream interface (one thread, like the others)."""
    return Compressor(name, key, ("bash", _ARCHIVER, tool, option, "compress"),
                      ("bash", _ARCHIVER, tool, option, "decompress"), binary=binary, version_cmd=version)


# Context mixing (zpaq -m1..-m5, single-threaded) and PPM (7-Zip's PPMd, order 32, 1 GB) are the
# classical tools nearest nczip's fast levels: they are what its levels must beat.
CLASSICAL += (
    *(_archived(f"zpaq -m{m}", "zpaq", "zpaq", f"-m{m}", "zpaq", ("bash", "-c", "zpaq 2>&1 | head -1"))
      for m in range(1, 6)),
    _archived("7-Zip PPMd o=32 1GB", "ppmd", "7z-ppmd", "o=32:mem=1g", "7zz", ("bash", "-c", "7zz | sed -n 2p")),
)
COMPRESSOR_KEYS: tuple[str, ...] = ("nczip", *dict.fromkeys(c.key for c in CLASSICAL))


def nczip(name: str, args: tuple[str, ...], threads: int, note: str = "") -> Compressor:
    """nczip with ``args`` (a level such as ``-1``, maybe more options), run from this checkout."""
    python = sys.executable
    return Compressor(name, "nczip", (python, "-m", "nczip", *args, "-T", str(threads), "-c"),
                      (python, "-m", "nczip", "-d", "-T", str(threads), "-c"), binary=python,
                      version_cmd=(python, "-m", "nczip", "--version"), nczip_args=tuple(args), note=note)


def nczip_level(level: int, threads: int) -> Compressor:
    return nczip(f"nczip -{level}", (f"-{level}",), threads)


def nczip_chunk_size(args: tuple[str, ...]) -> int | None:
    """Bytes per chunk nczip will use with ``args`` (for the time estimate); ``None`` if unknown.

    Reads ``--chunk-size`` (binary units, as nczip parses it) or the level's default from
    :mod:`nczip.levels`; any failure only makes the estimate assume a single chunk.
    """
    try:
        if "--chunk-size" in args:
            match = re.fullmatch(r"(\d+)([kKmMgG]?)i?[bB]?", args[args.index("--chunk-size") + 1])
            return int(match.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[match.group(2).lower()]
        from nczip.levels import DEFAULT_LEVEL, level_config

        levels = [int(a[1:]) for a in args if len(a) == 2 and a[0] == "-" and a[1].isdigit()]
        return int(level_config(levels[-1] if levels else DEFAULT_LEVEL)[1])
    except Exception:  # noqa: BLE001 - an estimate must never stop the run
        return None


def select(keys: list[str], levels: list[int], threads: int,
           variants: list[Compressor] | None = None) -> tuple[list[Compressor], list[str]]:
    """The compressors to run, in table order, and a warning for each one that is not installed."""
    chosen: list[Compressor] = []
    if "nczip" in keys:
        chosen += variants if variants is not None else [nczip_level(level, threads) for level in levels]
    chosen += [c for c in CLASSICAL if c.key in keys]
    warnings = [f"{c.name}: {c.binary} not found, skipped (bash bench/install_tools.sh installs it)"
                for c in chosen if not c.available()]
    return [c for c in chosen if c.available()], warnings
