"""How a model declares its configuration (what a container header may say about it), and reading one.

Every model's configuration is a frozen dataclass in the model's own module (``Ssm`` in ssm.py,
``CmSpec`` in cm.py, ...): its fields, their bounds, the default of an optional one, and the
model's arithmetic name, all in one place beside the code that trusts them. Its fields are made by
the functions below, which put a declaration into the field's metadata:

- :func:`arithmetic` the model's versioned name (read before the other fields),
- :func:`integer`, :func:`number`, :func:`flag`, :func:`choice` a bounded scalar,
- :func:`part` a nested configuration (another declared dataclass),
- :func:`custom` a value only the model can check (a list of orders, of contexts).

:func:`read` (``Cls.parse``) checks a JSON object against a declaration: the type and range of
every field, required fields present, unknown keys refused, the name one this nczip runs or
knows. Any failure is one :class:`~nczip.errors.FormatError` line, ``unsupported codec
configuration (where: reason)``. :func:`nczip.config.parse` reads a whole header this way, from
``CodecConfig`` down. This module knows no model, so every model may use it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any, Callable, TypeVar, Union, cast

from ..errors import FormatError

T = TypeVar("T")
D = TypeVar("D", bound="Declared")
MISSING: Any = object()  # an optional field that is absent
#: the key of a field's declaration in its dataclass field's metadata
KEY = "nczip.schema"
MAX_INT32 = (1 << 31) - 1
#: an integer's bound: a number, or one computed from the fields read before it (``lambda got: got["n_ctx"] - 2``)
Bound = Union[int, Callable[[dict[str, Any]], int]]


class Invalid(ValueError):
    """Raised by a :func:`custom` reader or a check: its message is the reason, the reader adds where."""


@dataclass(frozen=True)
class Int:
    low: Bound
    high: Bound
    default: int | None = None  # None: required
    check: Callable[[int], None] | None = None  # raises Invalid


@dataclass(frozen=True)
class Float:
    low: float
    high: float
    default: float | None = None  # None: required


@dataclass(frozen=True)
class Flag:
    default: bool


@dataclass(frozen=True)
class Choice:
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class Name:
    expected: str
    missing: str | None = None  # what an absent name means (files from before names were written)
    retired: tuple[str, ...] = ()  # former versions: refused by name where the model would run


@dataclass(frozen=True)
class Part:
    cls: type
    required: bool


@dataclass(frozen=True)
class Custom:
    read: Callable[[Any], Any]  # the raw JSON value -> the field's value, or raises Invalid


Spec = Union[Int, Float, Flag, Choice, Name, Part, Custom]


def _field(spec: Spec, default: Any = dataclasses.MISSING) -> Any:
    return dataclasses.field(default=default, metadata={KEY: spec})


def integer(low: Bound, high: Bound, default: int | None = None,
            check: Callable[[int], None] | None = None) -> Any:
    """An integer in ``[low, high]``; required unless it has a default."""
    return _field(Int(low, high, default, check), dataclasses.MISSING if default is None else default)


def number(low: float, high: float, default: float | None = None) -> Any:
    """A finite number in ``[low, high]``; required unless it has a default."""
    return _field(Float(low, high, default), dataclasses.MISSING if default is None else default)


def flag(default: bool) -> Any:
    """true or false, ``default`` when absent."""
    return _field(Flag(default), default)


def choice(allowed: tuple[str, ...]) -> Any:
    """One of ``allowed`` (required)."""
    return _field(Choice(allowed))


def arithmetic(name: str, missing: str | None = None, retired: tuple[str, ...] = ()) -> Any:
    """The model's arithmetic name, ``name``: a change to what the model computes gets a new one.
    ``missing``: what an absent name means (it is then required when None); ``retired``: the
    names of former versions, which this nczip knows but no longer runs."""
    return _field(Name(name, missing, retired), name)


def part(cls: type, required: bool = False) -> Any:
    """A nested configuration of type ``cls`` (a declared dataclass); None when optional and absent."""
    return _field(Part(cls, required), dataclasses.MISSING if required else None)


def custom(read: Callable[[Any], Any]) -> Any:
    """A required field that ``read`` turns from its JSON value into the field's value (or raises
    :class:`Invalid`)."""
    return _field(Custom(read))


class Declared:
    """Base of every declared configuration: :meth:`parse` reads one from a header's JSON."""

    @classmethod
    def parse(cls: type[D], raw: Any, where: str) -> D:
        """The configuration the JSON object ``raw`` at ``where`` (for messages) gives."""
        return read(cls, raw, where)


def spec(field: dataclasses.Field[Any]) -> Spec | None:
    """A dataclass field's declaration (None: not a declared field)."""
    found: Spec | None = field.metadata.get(KEY)
    return found


class Fields:
    """Reads one JSON object's fields with bounds; remembers which keys were used."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise bad(where, f"must be an object, not {kind(raw)}")
        self.raw, self.where, self.used = raw, where, set[str]()

    def _get(self, key: str, required: bool) -> Any:
        """The field's value; MISSING when it is absent and optional (JSON null is a value)."""
        self.used.add(key)
        if key not in self.raw:
            if required:
                raise bad(self.where, f"missing {key!r}")
            return MISSING
        return self.raw[key]

    def int(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self._get(key, default is None)
        if value is MISSING:
            assert default is not None  # absent only when optional, i.e. with a default
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(self.where, f"{key} must be an integer, not {kind(value)}")
        if not low <= value <= high:
            raise bad(self.where, f"{key} {short(value)} out of range [{low}, {high}]")
        return value

    def float(self, key: str, low: float, high: float, default: float | None = None) -> float:
        value = self._get(key, default is None)
        if value is MISSING:
            assert default is not None  # absent only when optional, i.e. with a default
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(self.where, f"{key} must be a number, not {kind(value)}")
        value = float(value)
        if not (math.isfinite(value) and low <= value <= high):
            raise bad(self.where, f"{key} {short(value)} out of range [{low}, {high}]")
        return value

    def field(self, key: str, declared: Spec, got: dict[str, Any]) -> Any:
        """The value of field ``key`` declared as ``declared`` (``got``: the fields read before it)."""
        if isinstance(declared, Int):
            low, high = (b(got) if callable(b) else b for b in (declared.low, declared.high))
            value = self.int(key, low, high, declared.default)
            if declared.check is not None:
                declared.check(value)
            return value
        if isinstance(declared, Float):
            return self.float(key, declared.low, declared.high, declared.default)
        if isinstance(declared, Part):
            raw = self._get(key, declared.required)
            return None if raw is MISSING else read(declared.cls, raw, f"{self.where}.{key}")
        if isinstance(declared, Custom):
            return declared.read(self._get(key, True))
        if isinstance(declared, Flag):
            value = self._get(key, False)
            if value is MISSING:
                return declared.default
            if not isinstance(value, bool):
                raise bad(self.where, f"{key} must be true or false, not {kind(value)}")
            return value
        if isinstance(declared, Choice):
            value = self._get(key, True)
            if not isinstance(value, str) or value not in declared.allowed:
                raise bad(self.where, f"{key} {short(value)} is not one of {', '.join(declared.allowed)}")
            return value
        return self.name(key, declared)

    def name(self, key: str, declared: Name) -> str:
        """The model's arithmetic name (``missing``: what an absent one means, in old files)."""
        value = self._get(key, declared.missing is None)
        value = declared.missing if value is MISSING else value
        if isinstance(value, str) and (value == declared.expected or value in declared.retired):
            return value  # a retired name is refused only where that model would run: retired()
        raise bad(self.where, f"unknown model {short(value)} (this nczip runs {declared.expected})")

    def done(self) -> None:
        extra = sorted(str(k) for k in self.raw if k not in self.used)
        if extra:
            raise bad(self.where, f"unknown field {short(extra[0])}")


def read(cls: type[T], raw: Any, where: str) -> T:
    """The declared configuration ``cls`` that the JSON object ``raw`` at ``where`` (for messages)
    gives: its name first, then its fields in order; any other key is refused."""
    f = Fields(raw, where)
    got: dict[str, Any] = {}
    for field in sorted(fields(cast(Any, cls)), key=lambda field: not isinstance(spec(field), Name)):
        declared = spec(field)
        if declared is not None:
            try:
                got[field.name] = f.field(field.name, declared, got)
            except Invalid as error:
                raise bad(where, str(error)) from None
    f.done()
    return cls(**got)


def kind(value: Any) -> str:
    """How a refusal names a JSON value's type."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def short(value: Any) -> str:
    """A value as a refusal quotes it (shortened: it may be huge)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bad(where: str, reason: str) -> FormatError:
    """The one-line refusal of the configuration's object at ``where``."""
    return FormatError(f"unsupported codec configuration ({where}: {reason})")
