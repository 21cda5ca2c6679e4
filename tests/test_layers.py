"""The package's layer contract, checked on every run (issue 23): written down here so that it
stays true. Read from the source with :mod:`ast`, lazy (in-function) imports included.

Layers, top to bottom; a module may import only from its own layer or below:

- **cli**: the command line (commands, arguments, file handling, outputs, ``info``/``-l`` text);
  it sees only the public library (``nczip``, ``nczip.api``, ``nczip.errors``), as zstd's
  programs see only ``zstd.h``;
- **api**: the public library (functions, incremental objects, the file object, facts);
- **engine**: the resolved options, streaming, the one decoder (session), the worker pool, the chunk methods;
- **models**: configuration, levels, predictors, the LLM backend and model registry, tokens;
- **coding**: the coding loop, the range coder, the quantizer;
- **base**: the container format, errors, the C kernels, progress display.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nczip"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("cli", ("nczip.cli", "nczip.cliargs", "nczip.files", "nczip.listing", "nczip.outputs", "nczip.__main__")),
    ("api", ("nczip", "nczip.api", "nczip.ncfile", "nczip.facts")),
    ("engine", ("nczip.options", "nczip.stream", "nczip.session", "nczip.parallel", "nczip.cluster",
                "nczip.methods")),
    ("models", ("nczip.config", "nczip.levels", "nczip.predictors", "nczip.backend", "nczip.models",
                "nczip.llama_build", "nczip.tokens")),
    ("coding", ("nczip.coding",)),
    ("base", ("nczip.container", "nczip.errors", "nczip.kernels", "nczip.progress")),
]
#: what the command line may import from the library
PUBLIC = {"nczip", "nczip.api", "nczip.errors"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def layer(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported nczip module, imported name or None, line) for every import in ``module``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == "nczip"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "nczip":
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.append((full, None, node.lineno) if full in MODULES else (target, alias.name, node.lineno))
    return found


def test_every_module_is_in_a_layer_and_imports_only_downwards():
    wrong = []
    for module in MODULES:
        for target, _, line in imports(module):
            if target in MODULES and layer(target) < layer(module):
                wrong.append(f"{module}:{line} imports {target} ({LAYERS[layer(module)][0]} -> "
                             f"{LAYERS[layer(target)][0]})")
    assert not wrong, "\n".join(wrong)


def test_the_command_line_imports_only_the_public_library():
    cli = LAYERS[0][1]
    wrong = [f"{module}:{line} imports {target}" for module in MODULES if layer(module) == 0
             for target, _, line in imports(module)
             if target in MODULES and target not in PUBLIC and not target.startswith(cli)]
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_modules_private_names():
    wrong = [f"{module}:{line} imports {target}.{name}" for module in MODULES
             for target, name, line in imports(module)
             if name and name.startswith("_") and not name.startswith("__") and target != module]
    assert not wrong, "\n".join(wrong)


def test_there_is_no_import_cycle():
    graph = {module: {t for t, _, _ in imports(module) if t in MODULES and t != module} for module in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert not cycles, cycles


def test_the_contract_sees_a_violation():
    # the checker itself: a cli module importing the engine is found
    assert layer("nczip.cli") < layer("nczip.stream") < layer("nczip.config") < layer("nczip.container")
    assert "nczip.cli" in MODULES and any(t == "nczip.api" for t, _, _ in imports("nczip.cli"))
