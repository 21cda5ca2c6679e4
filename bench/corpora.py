"""Which bytes the bench compresses: the named corpora, files given by path, and slices of them.

Every input ends up as a plain file on disk (compressors are run as subprocesses on a path) and is
only ever streamed, never read whole, so the same code handles a 4 KB Canterbury file and the full
1 GB enwik9. The shared corpora are checked against the sha256 in their MANIFEST before use, because
a ratio measured on the wrong bytes is worse than none; a corpus that is absent or does not match is
reported and skipped, never a crash.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent
PROJECT_CORPORA = ROOT / "corpora"
SHARED_CORPORA = ROOT.parent / "shared" / "corpora"
CACHE = ROOT / "bench" / "cache"
BLOCK = 1 << 20

#: Files recognised by size and sha256 so a row is labelled with the benchmark's usual name
#: whatever the file was called (enwik8/enwik9 are not stored on these machines; given by --file).
KNOWN_FILES: dict[tuple[int, str], str] = {
    (100_000_000, "2b49720ec4d78c3c9fabaee6e4179a5e997302b3a70029f30f2d582218c024a8"): "enwik8",
    (1_000_000_000, "159b85351e5f76e60cbe32e04c677847a9ecba3adc79addab6f4c6c7aa3744bc"): "enwik9",
}

CANTERBURY = ("asyoulik.txt", "cp.html", "fields.c", "grammar.lsp", "kennedy.xls", "lcet10.txt",
              "plrabn12.txt", "ptt5", "sum", "xargs.1")  # alice29.txt is the project's own copy


@dataclass(frozen=True)
class CorpusSpec:
    """A named corpus: where it is stored and how (raw, or xz to be unpacked into the cache)."""

    name: str
    stored: str  # path relative to its root; a ``.xz`` suffix means "decompress into bench/cache/"
    shared: bool = True  # under ../shared/corpora (checked against its MANIFEST) or corpora/
    note: str = ""


def _registry() -> dict[str, CorpusSpec]:
    specs = [CorpusSpec("alice29", "alice29.txt", shared=False, note="Canterbury alice29.txt"),
             CorpusSpec("enwik8-1M", "enwik/enwik8_first1M", note="enwik8 first 1,000,000 bytes"),
             CorpusSpec("enwik8-3M", "enwik/enwik8_first3M", note="enwik8 first 3,000,000 bytes"),
             CorpusSpec("bible", "large/bible.txt", note="Canterbury large bible.txt"),
             CorpusSpec("world192", "large/world192.txt", note="Canterbury large world192.txt"),
             CorpusSpec("dickens", "silesia/dickens.xz", note="Silesia dickens"),
             CorpusSpec("xml", "silesia/xml.xz", note="Silesia xml")]
    specs += [CorpusSpec(f"canterbury-{name}", f"canterbury/{name}", note=f"Canterbury {name}") for name in CANTERBURY]
    return {spec.name: spec for spec in specs}


REGISTRY = _registry()
#: names accepted by --corpora that stand for several corpora
GROUPS: dict[str, tuple[str, ...]] = {
    "quick": ("alice29", "enwik8-1M"),
    "canterbury": tuple(f"canterbury-{name}" for name in CANTERBURY),
    "all": tuple(REGISTRY),
}
DEFAULT_CORPORA = ("alice29", "enwik8-1M", "enwik8-3M", *GROUPS["canterbury"], "bible", "world192", "dickens", "xml")


@dataclass
class Input:
    """One input of the run: a file on disk, what it is called and what is known about its bytes."""

    name: str  # the row's corpus name, e.g. "enwik8-1M" or "enwik9[:1M]"
    path: Path  # a plain file holding exactly these bytes
    size: int
    sha256: str
    source: str  # where the bytes came from, for the JSON
    label: str | None = None  # "enwik8"/"enwik9" when recognised, with a slice suffix if sliced
    slice_bytes: int | None = None


class CorpusUnavailable(Exception):
    """A corpus that cannot be used in this run; the reason is phrased for the user."""


def parse_size(text: str) -> int:
    """``"1M"`` -> 1,000,000: decimal units, as enwik's 1 MB slices and the issue's sizes are."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?)[bB]?\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 20000, 20K, 1M, 1MiB)")
    base = 1024 if match.group(3) else 1000
    value = float(match.group(1)) * base ** " kmg".index(match.group(2).lower() or " ")
    if value < 1:
        raise ValueError(f"{text!r}: a size must be at least one byte")
    return int(value)


def format_size(n: int) -> str:
    """Short name of a slice size for labels: 1000000 -> '1M', 20000 -> '20K', 1048576 -> '1MiB'."""
    for unit, base in (("G", 10**9), ("M", 10**6), ("K", 10**3), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= base and n % base == 0:
            return f"{n // base}{unit}"
    return str(n)


def sha256_file(path: Path, limit: int | None = None) -> str:
    """sha256 of a file (or its first ``limit`` bytes), streamed in blocks."""
    digest = hashlib.sha256()
    left = limit
    with open(path, "rb") as src:
        while left is None or left > 0:
            block = src.read(BLOCK if left is None else min(BLOCK, left))
            if not block:
                break
            digest.update(block)
            if left is not None:
                left -= len(block)
    return digest.hexdigest()


def recognise(size: int, sha256: str, known: dict[tuple[int, str], str] | None = None) -> str | None:
    """Name of a well-known benchmark file with these bytes (enwik8, enwik9), else ``None``."""
    return (KNOWN_FILES if known is None else known).get((size, sha256))


def read_manifest(root: Path = SHARED_CORPORA) -> dict[str, tuple[int, str]]:
    """``stored_path -> (original bytes, sha256 of the original)`` from the shared MANIFEST.txt."""
    entries: dict[str, tuple[int, str]] = {}
    try:
        text = (root / "MANIFEST.txt").read_text()
    except OSError:
        return entries
    for line in text.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if line.startswith("#") or len(fields) < 4 or not fields[2].isdigit():
            continue
        entries[fields[0]] = (int(fields[2]), fields[3])
    return entries


def expand_names(names: Iterable[str]) -> list[str]:
    """Resolve group names and short Canterbury names (``canterbury-sum``, ``canterbury-cp``)."""
    out: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in GROUPS:
            found: Iterable[str] = GROUPS[name]
        elif name in REGISTRY:
            found = (name,)
        else:
            stems = [key for key in REGISTRY if key.startswith("canterbury-") and key.rsplit(".", 1)[0] == name]
            if len(stems) != 1:
                known = ", ".join([*GROUPS, *REGISTRY])
                raise ValueError(f"unknown corpus {name!r} (known: {known})")
            found = stems
        out += [item for item in found if item not in out]
    return out


def resolve_corpus(name: str, shared_root: Path = SHARED_CORPORA, cache: Path = CACHE) -> Input:
    """A plain, verified file with the named corpus' bytes (unpacking ``.xz`` into the cache once)."""
    spec = REGISTRY[name]
    if not spec.shared:
        path = PROJECT_CORPORA / spec.stored
        if not path.is_file():
            raise CorpusUnavailable(f"{path} not found")
        return Input(name, path, path.stat().st_size, sha256_file(path), source=str(path))
    stored = shared_root / spec.stored
    if not stored.is_file():
        raise CorpusUnavailable(f"{stored} not found")
    expected = read_manifest(shared_root).get(spec.stored)
    if expected is None:
        raise CorpusUnavailable(f"{spec.stored} is not listed in {shared_root / 'MANIFEST.txt'}")
    size, digest = expected
    path = _unpacked(stored, size, digest, cache) if spec.stored.endswith(".xz") else stored
    actual_size = path.stat().st_size
    actual = sha256_file(path)
    if (actual_size, actual) != (size, digest):
        raise CorpusUnavailable(f"{path}: {actual_size} bytes, sha256 {actual[:12]}..., "
                                f"but the MANIFEST says {size} bytes, sha256 {digest[:12]}...")
    return Input(name, path, size, actual, source=str(stored))


def _unpacked(stored: Path, size: int, digest: str, cache: Path) -> Path:
    """Decompress ``stored`` (xz) into ``cache`` once; a cached copy is reused if size and hash match."""
    target = cache / stored.name[: -len(".xz")]
    if target.is_file() and target.stat().st_size == size and sha256_file(target) == digest:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with lzma.open(stored, "rb") as src, open(temporary, "wb") as dst:
            shutil.copyfileobj(src, dst, BLOCK)
        os.replace(temporary, target)
    except (OSError, lzma.LZMAError) as exc:
        temporary.unlink(missing_ok=True)
        raise CorpusUnavailable(f"cannot unpack {stored}: {exc}") from None
    return target


def resolve_file(path: str) -> Input:
    """An input given by path: used as it is, labelled enwik8/enwik9 when its bytes are those."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise CorpusUnavailable(f"{path} not found (or not a regular file)")
    size = file.stat().st_size
    digest = sha256_file(file)
    label = recognise(size, digest)
    return Input(label or file.name, file, size, digest, source=str(file), label=label)


def take_slice(whole: Input, size: int, workdir: Path) -> Input:
    """The first ``size`` bytes of ``whole`` as their own file in ``workdir`` (the whole if shorter)."""
    if size >= whole.size:
        return whole
    suffix = f"[:{format_size(size)}]"
    path = workdir / f"{re.sub(r'[^A-Za-z0-9._-]', '_', whole.name)}.first{size}"
    if not path.exists():
        with open(whole.path, "rb") as src, open(path, "wb") as dst:
            left = size
            while left:
                block = src.read(min(BLOCK, left))
                if not block:
                    break
                dst.write(block)
                left -= len(block)
    return Input(whole.name + suffix, path, size, sha256_file(path), source=whole.source,
                 label=whole.label + suffix if whole.label else None, slice_bytes=size)
