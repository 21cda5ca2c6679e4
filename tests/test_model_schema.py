"""Models own their schema (issue 23): each model declares its configuration beside its code
(nczip/predictors/schema.py), the header parser (nczip/config.py) only walks those declarations,
the token ensemble's component names come from one registry, and the models' layer imports nothing
above it, with no import cycle anywhere in the package."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

import nczip
from nczip import config
from nczip.errors import FormatError
from nczip.predictors import registry, schema
from nczip.predictors.bytecontext import ByteContextModel
from nczip.predictors.llm import LlmLane
from nczip.predictors.mixer import Ensemble
from nczip.predictors.ssm import OnlineSSM

PACKAGE = Path(nczip.__file__).parent


# -- the registry and the ensemble ----------------------------------------------------------------

def test_the_api_s_components_are_the_registry_s():
    names = registry.component_names()
    assert len(names) == len(set(names))
    assert {c.value for c in nczip.Component} == set(names)


def test_the_ensemble_has_one_field_per_component_of_the_model_s_own_type():
    parts = {f.name: schema.spec(f) for f in dataclasses.fields(Ensemble) if isinstance(schema.spec(f), schema.Part)}
    assert set(parts) == set(registry.component_names())
    for name, model in {**registry.STAGES, **registry.HEADS}.items():
        declared = parts[name]
        assert isinstance(declared, schema.Part) and declared.cls is model.CONFIG, name


# -- the declarations -----------------------------------------------------------------------------

def _declared_classes(cls: type = config.CodecConfig) -> list[type]:
    found = [cls]
    for f in dataclasses.fields(cls):
        declared = schema.spec(f)
        if isinstance(declared, schema.Part) and declared.cls not in found:
            found += [c for c in _declared_classes(declared.cls) if c not in found]
    return found


def test_every_field_of_every_configuration_is_declared():
    classes = _declared_classes()
    assert len(classes) == 15
    for cls in classes:
        assert issubclass(cls, schema.Declared) and cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        assert all(schema.spec(f) is not None for f in dataclasses.fields(cls)), cls


def _string_constants() -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                counts[node.value] = counts.get(node.value, 0) + 1
    return counts


def test_each_model_s_name_is_written_once_beside_its_code():
    names = [s.expected for cls in _declared_classes() for f in dataclasses.fields(cls)
             if isinstance(s := schema.spec(f), schema.Name)]
    assert sorted(names) == ["bytes-ppm/1", "cm/1", "compact/2", "llm/2", "mixer/2", "ssm/3"]
    counts = _string_constants()
    assert {name: counts.get(name) for name in names} == {name: 1 for name in names}
    # the models compare what a file names with the same constants
    assert (ByteContextModel.NAME, LlmLane.NAME, OnlineSSM.NAME) == (config.BYTE_MODEL, config.LLM, config.SSM)
    assert config.RETIRED == {"llm/1": "llm/2", "mixer/1": "mixer/2", "compact/1": "compact/2", "ssm/1": "ssm/3",
                              "ssm/2": "ssm/3"}


def _refusal(path: str, value: Any, raw: dict[str, Any]) -> str:
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value
    with pytest.raises(FormatError) as info:
        config.parse(raw)
    return str(info.value)


@pytest.mark.parametrize("path,value,message", [
    ("predictor.max_order", 6, "max_order 6 out of range [0, 5]"),
    ("predictor.max_contexts", (1 << 18) + 1, "max_contexts 262145 out of range [1, 262144]"),
    ("tokens.ensemble.ngram.max_contexts", (1 << 20) + 1, "max_contexts 1048577 out of range [1, 1048576]"),
    ("tokens.ensemble.ngram.max_followers", 65, "max_followers 65 out of range [1, 64]"),
    ("tokens.ssm.di", 1025, "tokens.ssm: di 1025 out of range [1, 1024]"),
])
def test_the_tightened_bounds_hold(path, value, message):
    from nczip.levels import level_config

    raw, _ = level_config(3, components=["ngram", "ssm"])
    assert message in _refusal(path, value, raw)


@pytest.mark.parametrize("level,path,value,message", [
    (4, "llm.slide", 511, "slide 511 out of range [1, 510]"),  # a bound that follows n_ctx (512 at level 5)
    (4, "llm.lanes", 257, "lanes 257 out of range [1, 256]"),
    (1, "cm.match_bits", 5, "match_bits 5 out of range (0, or [10, 26])"),
    (1, "cm.contexts", ["o1", "o1"], "contexts must be a list of distinct names"),
    (1, "cm.name", "cm/2", "unknown model 'cm/2' (this nczip runs cm/1)"),
])
def test_computed_bounds_checks_and_names(level, path, value, message):
    from nczip.levels import level_config

    raw, _ = level_config(5 if level == 4 else level)
    assert message in _refusal(path, value, raw)


# -- a model declared outside nczip: nothing else needs to change ----------------------------------

@dataclasses.dataclass(frozen=True)
class _Inner(schema.Declared):
    k: int = schema.integer(0, 3)


def _pair(raw: Any) -> tuple[int, int]:
    if not (isinstance(raw, list) and len(raw) == 2 and all(type(v) is int for v in raw)):
        raise schema.Invalid("pair must be two integers")
    return (raw[0], raw[1])


@dataclasses.dataclass(frozen=True)
class _Toy(schema.Declared):
    size: int = schema.integer(1, 64)
    half: int = schema.integer(0, lambda got: got["size"] // 2)
    pair: tuple[int, int] = schema.custom(_pair)
    mode: str = schema.choice(("a", "b"))
    rate: float = schema.number(0.0, 1.0, default=0.5)
    on: bool = schema.flag(False)
    inner: _Inner | None = schema.part(_Inner)
    name: str = schema.arithmetic("toy/2", missing="toy/1", retired=("toy/1",))


def test_a_new_model_s_declaration_is_all_its_configuration_needs():
    toy = _Toy.parse({"name": "toy/2", "size": 8, "half": 4, "pair": [1, 2], "mode": "b", "inner": {"k": 3}}, "toy")
    assert toy == _Toy(size=8, half=4, pair=(1, 2), mode="b", rate=0.5, on=False, inner=_Inner(3), name="toy/2")
    assert _Toy.parse({"size": 8, "half": 0, "pair": [0, 0], "mode": "a"}, "toy").name == "toy/1"  # an old file
    for raw, message in [
        ({"size": 8, "half": 5, "pair": [0, 0], "mode": "a"}, "toy: half 5 out of range [0, 4]"),
        ({"size": 8, "half": 0, "pair": [0], "mode": "a"}, "toy: pair must be two integers"),
        ({"size": 8, "half": 0, "pair": [0, 0], "mode": "c"}, "toy: mode 'c' is not one of a, b"),
        ({"size": 8, "half": 0, "pair": [0, 0], "mode": "a", "on": 1}, "on must be true or false, not int"),
        ({"size": 8, "half": 0, "pair": [0, 0], "mode": "a", "inner": {"k": 4}}, "toy.inner: k 4 out of range"),
        ({"size": 8, "half": 0, "pair": [0, 0], "mode": "a", "extra": 1}, "toy: unknown field 'extra'"),
        ({"name": "toy/3", "size": "8"}, "toy: unknown model 'toy/3' (this nczip runs toy/2)"),  # the name first
    ]:
        with pytest.raises(FormatError, match="^unsupported codec configuration") as info:
            _Toy.parse(raw, "toy")
        assert message in str(info.value), raw


# -- layers and cycles ----------------------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(module: str) -> list[tuple[str, bool]]:
    """(nczip module imported, whether the import is inside a function) for every import in
    ``module``'s source, wherever it is (function bodies and TYPE_CHECKING blocks included)."""
    path = MODULES[module]
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                parent = base[:len(base) - child.level + 1] if child.level else []
                source = parent + (child.module.split(".") if child.module else [])
                targets = [".".join(source + [alias.name]) for alias in child.names]
            for target in targets:
                while target not in MODULES and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in MODULES and target != module:
                    found.append((target, in_function))
            visit(child, nested)

    visit(ast.parse(path.read_text()), False)
    return found


def test_the_package_has_no_import_cycle():
    graph = {module: {target for target, _ in _imports(module)} for module in MODULES}
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module):] + [module]))
        if module not in done:
            for target in sorted(graph[module]):
                walk(target, path + [module])
            done.add(module)

    for module in sorted(graph):
        walk(module, [])


# What the models may import: the layers below them. Above them are the configuration parser
# (nczip.config), the coding loop (nczip.coding.loop) and everything that chooses and runs methods.
BELOW_MODELS = ("nczip.errors", "nczip.kernels", "nczip.coding", "nczip.tokens", "nczip.llama_build",
                "nczip.predictors")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("nczip.predictors")))
def test_the_models_import_nothing_above_them_and_nothing_lazily(module):
    for target, lazy in _imports(module):
        assert target.startswith(BELOW_MODELS), f"{module} imports {target}, a layer above the models"
        assert not lazy, f"{module} imports {target} inside a function"


def test_the_stage_interface_and_the_schema_know_no_model():
    assert _imports("nczip.predictors.stage") == []
    assert _imports("nczip.predictors.schema") == [("nczip.errors", False)]
    assert not any(lazy for _, lazy in _imports("nczip.config"))
