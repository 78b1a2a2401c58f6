"""Value classes for the start-up path: what ``@dataclass(frozen=True, slots=True)`` makes, for a tenth of its import.

Why not ``dataclasses`` here: ``harness trace -- CMD`` builds sixteen value
classes before the first stop of its tracee (the events, the trace, the
syscall catalogue's entries, the tracer's results).  ``dataclasses`` imports
``inspect`` (and with it ``ast``, ``dis``, ``tokenize``: 3.9 ms on this
project's two-core machine) and writes and compiles six to eight methods a
class (5 ms more for the sixteen), a third of a start-up budget of 20 ms.
:func:`record` makes the same classes: slots, keyword or positional fields
with defaults and factories, equality and hashing by value, a repr, frozen
attributes, pickling, ``__match_args__``.  It writes one method a class
(``__init__``, which must be fast: the syscall catalogue calls it 400 times at
import) and shares the others, which read the class's field names.

mypy and other type checkers see a dataclass (:pep:`681`'s
``dataclass_transform``), so a frozen field is checked as frozen.  What the
rest of the project uses of ``dataclasses`` (``fields``, ``replace``) is here
under the same names for these classes; any class off the start-up path
stays a plain dataclass.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")


class _Missing:
    """No default: the field must be given."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenRecordError(AttributeError):
    """An attribute of a frozen record was set or deleted (as ``dataclasses.FrozenInstanceError``)."""


class Field:
    """One field of a record: its name, default, and whether ``__init__``, ``repr`` and equality see it."""

    __slots__ = ("compare", "default", "default_factory", "init", "kw_only", "name", "repr")

    def __init__(
        self,
        *,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | Any = MISSING,
        init: bool = True,
        repr: bool = True,
        compare: bool = True,
    ) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.kw_only = False

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, init={self.init})"


def field(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | Any = MISSING,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """A field with a default, a default factory, or left out of ``__init__``, ``repr`` or equality."""
    return Field(default=default, default_factory=default_factory, init=init, repr=repr, compare=compare)


def fields(record_or_class: object) -> tuple[Field, ...]:
    """The fields of a record class or instance (or a dataclass's), in ``__init__``'s order."""
    cls = record_or_class if isinstance(record_or_class, type) else type(record_or_class)
    found: tuple[Field, ...] | None = getattr(cls, "__record_fields__", None)
    if found is None:
        import dataclasses

        return tuple(dataclasses.fields(cls))  # type: ignore[arg-type]  # noqa: TID251 - one way to ask both
    return found


def replace(record_value: _T, /, **changes: Any) -> _T:
    """A copy of ``record_value`` with ``changes``, built by its ``__init__`` (a dataclass's, by ``dataclasses``)."""
    if not hasattr(type(record_value), "__record_fields__"):
        import dataclasses

        return dataclasses.replace(record_value, **changes)  # type: ignore[type-var]  # noqa: TID251 - as dataclasses does
    values = {item.name: getattr(record_value, item.name) for item in fields(record_value) if item.init}
    unknown = changes.keys() - values.keys()
    if unknown:
        raise TypeError(f"{type(record_value).__name__} has no field {sorted(unknown)[0]!r} that __init__ takes")
    values.update(changes)
    return type(record_value)(**values)


@overload
def record(cls: type[_T], /) -> type[_T]: ...
@overload
def record(*, kw_only: bool = False, frozen: bool = True) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(
    cls: type[_T] | None = None, /, *, kw_only: bool = False, frozen: bool = True
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a value class with slots, as ``@dataclass(frozen=True, slots=True, kw_only=...)`` would."""

    def wrap(cls: type[_T]) -> type[_T]:
        return _make(cls, kw_only=kw_only, frozen=frozen)

    return wrap if cls is None else wrap(cls)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(text, str) and text.replace("typing.", "").startswith("ClassVar")


def _make(cls: type[_T], *, kw_only: bool, frozen: bool) -> type[_T]:
    inherited: list[Field] = []
    for base in reversed(cls.__mro__[1:]):
        for item in base.__dict__.get("__record_fields__", ()):
            inherited = [old for old in inherited if old.name != item.name] + [item]
    namespace = dict(cls.__dict__)
    own: list[Field] = []
    # Not inspect.get_annotations: importing inspect is what this module is here to avoid.
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if _is_class_var(annotation):
            continue
        declared = namespace.pop(name, MISSING)
        item = declared if isinstance(declared, Field) else Field(default=declared)
        item.name = name
        item.kw_only = kw_only
        own.append(item)
    every = tuple(inherited + own)
    for name in ("__dict__", "__weakref__"):
        namespace.pop(name, None)
    namespace["__slots__"] = tuple(item.name for item in own)
    namespace["__record_fields__"] = every
    namespace["__match_args__"] = tuple(item.name for item in every if item.init and not item.kw_only)
    namespace["__repr__"] = _repr
    namespace["__eq__"] = _eq
    namespace["__hash__"] = _hash if frozen else None
    namespace["__getstate__"] = _getstate
    namespace["__setstate__"] = _setstate
    if frozen:
        namespace["__setattr__"] = _refuse_set
        namespace["__delattr__"] = _refuse_delete
    metaclass: type = type(cls)  # ABCMeta for a Sequence, say
    made: Any = metaclass(cls.__name__, cls.__bases__, namespace)
    compared = [item.name for item in every if item.compare]
    made._record_key = attrgetter(*compared) if compared else _no_key
    made._record_shown = tuple(item.name for item in every if item.repr)
    made.__init__ = _init(made, every, frozen=frozen)
    built: type[_T] = made
    return built


def _no_key(value: object) -> tuple[()]:
    return ()


def slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    """The ``__set__`` of the slot that holds ``name``: past a frozen class's ``__setattr__``, and cheaper."""
    for owner in cls.__mro__:
        if name in owner.__dict__:
            setter: Callable[[object, object], None] = owner.__dict__[name].__set__
            return setter
    raise AttributeError(f"{cls.__name__} has no slot {name!r}")


def _init(cls: type, every: tuple[Field, ...], *, frozen: bool) -> Callable[..., None]:
    """``__init__``, written out for the class's fields (the one method worth compiling: it runs per value).

    A frozen record's fields are set through their slots' descriptors, past
    its ``__setattr__`` (cheaper than ``object.__setattr__``, which a frozen
    dataclass calls); a mutable one's by plain assignment, the cheapest.
    """
    namespace: dict[str, Any] = {"_MISSING": MISSING}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for item in every:
        if frozen:
            namespace[f"_set_{item.name}"] = slot_setter(cls, item.name)
        if item.default_factory is not MISSING:
            namespace[f"_factory_{item.name}"] = item.default_factory
            value = f"_factory_{item.name}()"
            parameter = f"{item.name}=_MISSING"
            if item.init:
                value = f"_factory_{item.name}() if {item.name} is _MISSING else {item.name}"
        elif item.default is not MISSING:
            namespace[f"_default_{item.name}"] = item.default
            value = item.name if item.init else f"_default_{item.name}"
            parameter = f"{item.name}=_default_{item.name}"
        else:
            value = item.name
            parameter = item.name
        if item.init:
            (keyword if item.kw_only else positional).append(parameter)
        body.append(f"    _set_{item.name}(self, {value})\n" if frozen else f"    self.{item.name} = {value}\n")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    parameters = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    exec(f"def __init__({parameters}):\n{''.join(body) or '    pass'}\n", namespace)
    made: Callable[..., None] = namespace["__init__"]
    made.__qualname__ = f"{cls.__qualname__}.__init__"
    return made


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_shown)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    equal: bool = self._record_key(self) == self._record_key(other)
    return equal


def _hash(self: Any) -> int:
    return hash(self._record_key(self))


def _getstate(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, item.name) for item in self.__record_fields__)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for item, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, item.name, value)


def _refuse_set(self: Any, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _refuse_delete(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")
