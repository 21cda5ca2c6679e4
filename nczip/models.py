"""Model registry and resolution: which GGUF file a level or a container needs, checked by SHA-256.

A container names its model by SHA-256, so a decoder never runs a different model by accident
(which would decode garbage). The registry (``nczip/model-registry.json``, package data, so an
installed wheel needs no checkout) maps names to files shipped
by PyPI packages; ``--model PATH`` accepts any other GGUF.

``python -m nczip.models check`` verifies the installed default model (used by scripts/setup.sh).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import NczError
from .llama_build import LLM_SETUP

REGISTRY = Path(__file__).resolve().parent / "model-registry.json"


@dataclass(frozen=True)
class ModelFile:
    """A model file on disk, identified by name and SHA-256."""

    name: str
    path: str
    sha256: str

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256}


@lru_cache(maxsize=1)
def registry() -> dict[str, Any]:
    try:
        return json.loads(REGISTRY.read_text())
    except OSError as exc:
        raise NczError(f"model registry missing ({REGISTRY}: {exc.strerror})") from None


@lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: str) -> str:
    st = os.stat(path)
    return _sha256_of(os.path.abspath(path), st.st_size, st.st_mtime)


def _installed_path(entry: dict[str, Any]) -> str | None:
    spec = importlib.util.find_spec(entry["python_package_dir"])  # does not import the package
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], entry["file"])
    return path if os.path.isfile(path) else None


def default_model() -> ModelFile:
    """The registry's default model, installed by scripts/setup.sh; checked against its SHA-256."""
    reg = registry()
    return registered(reg["default"])


def registered(name: str) -> ModelFile:
    entry = registry()["models"][name]
    path = _installed_path(entry)
    if path is None:
        raise NczError(f"model {name} is not installed (it comes from the PyPI package {entry['package']};"
                       f" run {LLM_SETUP}, or pass --model PATH)")
    digest = sha256_of(path)
    if digest != entry["sha256"]:
        raise NczError(f"model file {path} has sha256 {digest}, expected {entry['sha256']}")
    return ModelFile(name, path, digest)


def from_path(path: str) -> ModelFile:
    """A user-supplied GGUF (``--model PATH``); named after its registry entry if it has one."""
    if not os.path.isfile(path):
        raise NczError(f"model file {path} not found")
    digest = sha256_of(path)
    for name, entry in registry()["models"].items():
        if entry["sha256"] == digest:
            return ModelFile(name, path, digest)
    return ModelFile(os.path.basename(path), path, digest)


def for_identity(identity: dict[str, Any], user_path: str | None = None) -> ModelFile:
    """Find the exact model a container was coded with, or refuse naming it."""
    want = identity.get("sha256", "")
    name = identity.get("name", "?")
    if user_path:
        model = from_path(user_path)
        if model.sha256 != want:
            raise NczError(f"--model {user_path} has sha256 {model.sha256}, but this file needs model"
                           f" {name} (sha256 {want})")
        return model
    for reg_name, entry in registry()["models"].items():
        if entry["sha256"] == want:
            try:
                return registered(reg_name)
            except NczError:
                break
    raise NczError(f"this file needs model {name} (sha256 {want}), which is not installed;"
                   " pass --model PATH")


def main(argv: list[str]) -> int:
    if argv[:1] != ["check"]:
        print("usage: python -m nczip.models check", file=sys.stderr)
        return 2
    try:
        model = default_model()
    except NczError as exc:
        print(f"nczip: {exc}", file=sys.stderr)
        return 1
    print(f"{model.name}: {model.path} sha256 {model.sha256} OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
