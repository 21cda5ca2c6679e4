"""The C kernels' interface (issue 23): the headers (nczip/kernels/cm.h, dense.h, ssm.h) against
the ctypes signatures the Python side binds (nczip/kernels/__init__.py, ``_SIGNATURES``), the
library's exports against both, and the core's context enum against ``CM_CONTEXTS``.

Each .c file includes its header, so the compiler checks the definitions against the prototypes;
this test closes the loop to Python, where ctypes would otherwise call whatever it is told."""

from __future__ import annotations

import ctypes
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from nczip import kernels
from nczip.config import CM_CONTEXTS, CmSpec

SOURCE = Path(kernels.__file__).resolve().parent
#: each kernel file and the header that declares its interface
UNITS = {"cm.c": "cm.h", "dense.c": "dense.h", "ssm.c": "ssm.h", "transforms.c": "transforms.h"}

_CTYPES_KIND = {ctypes.c_void_p: "pointer", ctypes.c_int64: "int64", ctypes.c_int: "int", ctypes.c_double: "double",
                None: "void"}


def _strip(text: str) -> str:
    """C source without comments and preprocessor lines."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _kind(c_type: str) -> str:
    """The ctypes kind of a C parameter or return type: pointer, int64, int, double or void."""
    if "*" in c_type:
        return "pointer"
    words = [w for w in c_type.split() if w not in ("const", "NC_HOT")]
    kinds = {("int64_t",): "int64", ("int",): "int", ("double",): "double", ("void",): "void"}
    assert tuple(words) in kinds, f"a type ctypes is not bound with here: {c_type!r}"
    return kinds[tuple(words)]


def _prototypes(header: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (return kind, argument kinds) of the function declarations in a header."""
    text = _strip((SOURCE / header).read_text())
    text = re.sub(r"\benum\s+\w*\s*\{.*?\}\s*;", " ", text, flags=re.S)
    text = re.sub(r"\btypedef\b[^;]*;", " ", text)
    found = {}
    for decl in (d.strip() for d in text.split(";")):
        if not decl:
            continue
        match = re.fullmatch(r"([\w\s\*]+?)\s*\b(\w+)\s*\(([^()]*)\)", " ".join(decl.split()))
        assert match, f"{header}: not a function declaration: {decl!r}"
        ret, name, args = match.groups()
        assert name not in found, f"{header}: {name} declared twice"
        params = [] if args.strip() in ("", "void") else [a.strip() for a in args.split(",")]
        # a parameter is its type and a name: drop the name (the last word, after any '*')
        found[name] = (_kind(ret), [_kind(re.sub(r"\w+$", "", p)) for p in params])
    return found


def _definitions(source: str) -> dict[str, bool]:
    """name -> whether exported (not static), for every top-level function defined in a .c file.
    Top level is column 0: the kernels' bodies are indented."""
    text = _strip((SOURCE / source).read_text())
    found = {}
    for match in re.finditer(r"^([A-Za-z_][\w\s\*]*?)\b(\w+)\s*\(([^;{}]*?)\)\s*\{", text, flags=re.M):
        prefix = match.group(1).split()
        found[match.group(2)] = not ({"static", "NC_INLINE"} & set(prefix))
    return found


def _bound() -> dict[str, tuple[str, list[str]]]:
    return {name: (_CTYPES_KIND[ret], [_CTYPES_KIND[a] for a in args])
            for name, (ret, args) in kernels._SIGNATURES.items()}


def test_every_kernel_file_includes_its_header() -> None:
    assert sorted(p.name for p in SOURCE.glob("*.c")) == sorted(UNITS)
    for source, header in UNITS.items():
        assert f'#include "{header}"' in (SOURCE / source).read_text(), source


def test_the_headers_declare_exactly_what_ctypes_binds_with_the_same_signatures() -> None:
    declared: dict[str, tuple[str, list[str]]] = {}
    for header in UNITS.values():
        protos = _prototypes(header)
        assert not set(protos) & set(declared), header
        declared.update(protos)
    bound = _bound()
    assert sorted(declared) == sorted(bound), "declared in a header but not bound, or bound but not declared"
    for name, signature in bound.items():
        assert declared[name] == signature, f"{name}: header {declared[name]}, ctypes {signature}"


def test_each_file_exports_exactly_its_header_s_functions() -> None:
    for source, header in UNITS.items():
        exported = sorted(name for name, public in _definitions(source).items() if public)
        assert exported == sorted(_prototypes(header)), f"{source}: exported without a declaration, or declared only"


def test_the_built_library_exports_only_the_bound_functions() -> None:
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm")
    listed = subprocess.run([nm, "-D", "--defined-only", kernels._path()], capture_output=True, text=True, check=True)
    exported = set()
    for line in listed.stdout.splitlines():
        parts = line.split()
        # T: a function; i: one with AVX2 clones (an ifunc, its resolver is a W symbol "name.resolver")
        if len(parts) == 3 and parts[1] in ("T", "i") and "." not in parts[2] and not parts[2].startswith("_"):
            exported.add(parts[2])
    assert exported == set(kernels._SIGNATURES), "rebuild the kernels (pip install -e .) if the sources changed"


def test_the_headers_compile_on_their_own() -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc")
    for header in UNITS.values():
        subprocess.run([gcc, "-std=c11", "-Wall", "-Werror", "-fsyntax-only", "-x", "c", str(SOURCE / header)],
                       check=True)


def _enum(header: str, name: str) -> list[str]:
    """The members of ``enum name`` in a header, in order; none may set its value."""
    text = _strip((SOURCE / header).read_text())
    match = re.search(r"\benum\s+" + name + r"\s*\{(.*?)\}", text, flags=re.S)
    assert match, f"no enum {name} in {header}"
    members = [m.strip() for m in match.group(1).split(",") if m.strip()]
    assert all(re.fullmatch(r"\w+", m) for m in members), f"enum {name}: members are numbered by their order only"
    return members


def test_the_core_s_context_enum_is_cm_contexts_in_order() -> None:
    members = _enum("cm.h", "cm_context")
    assert members[-1] == "CTX_COUNT"
    assert [m.removeprefix("CTX_").lower() for m in members[:-1]] == list(CM_CONTEXTS)
    assert all(m.startswith("CTX_") for m in members)


def test_the_context_hashes_are_chosen_by_the_enum_s_names() -> None:
    text = _strip((SOURCE / "cm.c").read_text())
    start = text.index("context_hash(const Cm *m")
    body = text[start:text.index("\n}\n", start)]
    cases = re.findall(r"\bcase\s+([^:]+):", body)
    assert sorted(cases) == sorted(_enum("cm.h", "cm_context")[:-1]), "one case per context, by name"


def test_the_core_s_parameters_are_the_schema_s_fields() -> None:
    members = _enum("cm.h", "cm_param")
    assert members[-1] == "P_COUNT"
    names = [m.removeprefix("P_").lower() for m in members[:-1]]
    fields = {f.name for f in dataclasses.fields(CmSpec)} - {"name"}
    # every CmSpec field is a parameter, and the two more are the caller's (cm_code_byte's, method 8's) choice
    assert set(names) == fields | {"external", "record"}, names  # record: method 8's, per chunk
