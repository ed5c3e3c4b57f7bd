"""A drop-in for `dataclasses.dataclass` that defines classes without compiling code.

The standard decorator writes the source of `__init__`, `__repr__`, `__eq__`, `__hash__` and the
frozen `__setattr__`/`__delattr__` for every class and runs it through `exec`. That costs about
1 ms per class on the slow machines we run on, and pycodex defines well over a hundred such
classes on the path of a single `pycodex exec` — a large share of the start-up budget. This
module builds the same methods as closures shared by every class, so defining a class costs a few
microseconds; creating an instance is a little slower than with generated code (one generic
`__init__` binds the arguments), which is negligible next to the work done per instance.

Supported: `frozen`, `eq`, `repr`, `slots`, `kw_only` (class-wide), `__post_init__`,
`dataclasses.field(default=..., default_factory=..., repr=..., compare=..., init=...)`,
`ClassVar` annotations (skipped), inheritance from other classes made here. Not supported (and
refused loudly): `order`, `unsafe_hash`, `InitVar`, per-field `kw_only`.

The rules are the standard decorator's: a mutable default (a list, dict, set or any unhashable
value) is refused with `ValueError` (use `default_factory`), a field without a default after one
with a default is refused with `TypeError` (unless the class is `kw_only`), and an `init=False`
field without a default is left unset by `__init__` (`__post_init__` usually sets it). Each class
has a `__signature__`, built on first use, so `inspect.signature()`, `help()` and IDEs show the
parameters of `__init__` (the generic `__init__` itself takes `*args, **kwargs`).

The classes carry the same `__dataclass_fields__` table as real dataclasses, so
`dataclasses.fields()`, `asdict()`, `replace()` and `is_dataclass()` work on them. Mypy sees them
as dataclasses too (`typing.dataclass_transform`) but, not knowing that table is there, rejects
them as arguments to the `dataclasses` functions: use `replace()` and `fields()` from this module.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from types import MemberDescriptorType
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["FrozenInstanceError", "dataclass", "field", "fields", "replace"]

field = dataclasses.field
FrozenInstanceError = dataclasses.FrozenInstanceError
_MISSING = dataclasses.MISSING
_T = TypeVar("_T")
# The attribute `dataclasses.is_dataclass()` and friends look for, and their marker for a field.
_FIELDS_ATTR = "__dataclass_fields__"
_FIELD = dataclasses._FIELD  # type: ignore[attr-defined]
_object_setattr = object.__setattr__


@overload
@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls: type[_T], /) -> type[_T]: ...


@overload
def dataclass(
    *,
    frozen: bool = False,
    eq: bool = True,
    repr: bool = True,
    slots: bool = False,
    kw_only: bool = False,
) -> Callable[[type[_T]], type[_T]]: ...


def dataclass(
    cls: type[_T] | None = None,
    /,
    *,
    frozen: bool = False,
    eq: bool = True,
    repr: bool = True,
    slots: bool = False,
    kw_only: bool = False,
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Turn `cls` into a dataclass-like record (see the module docstring)."""

    def wrap(target: type[_T]) -> type[_T]:
        return _build(target, frozen=frozen, eq=eq, with_repr=repr, slots=slots, kw_only=kw_only)

    return wrap if cls is None else wrap(cls)


def fields(obj: Any) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of a record (or standard dataclass) class or instance."""
    return dataclasses.fields(obj)


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of `obj` with some fields changed (`dataclasses.replace`, typed for records)."""
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]


# --- building a class --------------------------------------------------------------------------


def _build(
    cls: type[_T], *, frozen: bool, eq: bool, with_repr: bool, slots: bool, kw_only: bool
) -> type[_T]:
    all_fields: dict[str, dataclasses.Field[Any]] = {}
    for base in reversed(cls.__mro__[1:]):
        all_fields.update(base.__dict__.get(_FIELDS_ATTR, {}))
    own = _own_fields(cls)
    all_fields.update((f.name, f) for f in own)
    record_fields = tuple(all_fields.values())
    if not kw_only:
        _check_default_order(cls, record_fields)
    namespace = dict(cls.__dict__)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    for own_field in own:
        # The default lives in the field; a slot cannot share its name with a class attribute.
        if own_field.default is not _MISSING and not slots:
            namespace[own_field.name] = own_field.default
        elif own_field.name in namespace:
            del namespace[own_field.name]
    namespace[_FIELDS_ATTR] = all_fields
    namespace["__match_args__"] = tuple(f.name for f in record_fields if f.init)
    namespace["__signature__"] = _KW_ONLY_SIGNATURE if kw_only else _SIGNATURE
    if with_repr and "__repr__" not in cls.__dict__:
        namespace["__repr__"] = _make_repr(tuple(f.name for f in record_fields if f.repr))
    if eq and "__eq__" not in cls.__dict__:
        compared = tuple(f.name for f in record_fields if f.compare)
        namespace["__eq__"] = _make_eq(compared)
        if frozen:
            namespace["__hash__"] = _make_hash(compared)
        elif "__hash__" not in cls.__dict__:
            namespace["__hash__"] = None
    if frozen:
        namespace["__setattr__"] = _frozen_setattr
        namespace["__delattr__"] = _frozen_delattr
    if slots and frozen:
        # copy, deepcopy and pickle restore slots with setattr, which a frozen record refuses.
        namespace["__getstate__"] = _make_getstate(tuple(all_fields))
        namespace["__setstate__"] = _setstate
    if slots:
        taken = {name for base in cls.__mro__[1:] for name in getattr(base, "__slots__", ())}
        namespace["__slots__"] = tuple(f.name for f in own if f.name not in taken)
        metaclass: type = type(cls)
        built: type[_T] = metaclass(cls.__name__, cls.__bases__, namespace)
        built.__qualname__ = cls.__qualname__
        type.__setattr__(built, "__init__", _make_init(built, record_fields, kw_only))
        return built
    for name, value in namespace.items():
        if name not in cls.__dict__ or cls.__dict__[name] is not value:
            type.__setattr__(cls, name, value)
    for own_field in own:
        if own_field.default is _MISSING and own_field.name in cls.__dict__:
            type.__delattr__(cls, own_field.name)
    type.__setattr__(cls, "__init__", _make_init(cls, record_fields, kw_only))
    return cls


def _own_fields(cls: type) -> list[dataclasses.Field[Any]]:
    # Only this class's own annotations (inspect.get_annotations would import inspect).
    annotations: dict[str, Any] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    found: list[dataclasses.Field[Any]] = []
    for name, annotation in annotations.items():
        text = annotation if isinstance(annotation, str) else repr(annotation)
        if "ClassVar" in text.split("[", 1)[0]:
            continue
        if "InitVar" in text.split("[", 1)[0]:
            raise TypeError(f"{cls.__qualname__}.{name}: InitVar is not supported by records")
        value = cls.__dict__.get(name, _MISSING)
        spec: dataclasses.Field[Any] = (
            value if isinstance(value, dataclasses.Field) else dataclasses.field(default=value)
        )
        if spec.kw_only is True:
            raise TypeError(f"{cls.__qualname__}.{name}: per-field kw_only is not supported")
        if spec.default is not _MISSING and spec.default.__class__.__hash__ is None:
            kind = type(spec.default).__name__
            raise ValueError(
                f"{cls.__qualname__}.{name}: a mutable default ({kind}) would be shared by every "
                "instance; use default_factory"
            )
        # What `dataclasses` itself records, so its fields()/asdict()/replace() accept records.
        spec.name = name
        spec.type = annotation
        spec._field_type = _FIELD  # type: ignore[attr-defined]
        found.append(spec)
    return found


def _check_default_order(cls: type, record_fields: tuple[dataclasses.Field[Any], ...]) -> None:
    """Positional parameters with defaults must come last, as in any `def`."""
    seen_default = False
    for spec in record_fields:
        if not spec.init:
            continue
        if spec.default is not _MISSING or spec.default_factory is not _MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(
                f"{cls.__qualname__}: field {spec.name!r} without a default follows a field "
                "with one"
            )


def _slot_setters(
    cls: type, names: tuple[str, ...]
) -> tuple[Callable[[Any, Any], None], ...] | None:
    """Each field's slot descriptor `__set__` (bypasses a frozen `__setattr__`); None if any field
    lives in an instance `__dict__` instead."""
    setters = []
    for name in names:
        owner = next((klass for klass in cls.__mro__ if name in klass.__dict__), None)
        descriptor = owner.__dict__[name] if owner is not None else None
        if not isinstance(descriptor, MemberDescriptorType):
            return None
        setters.append(descriptor.__set__)
    return tuple(setters)


def _make_init(
    cls: type, record_fields: tuple[dataclasses.Field[Any], ...], kw_only: bool
) -> Callable[..., None]:
    qualname = cls.__qualname__
    # The fields `__init__` assigns: all but the `init=False` ones without a default, which stay
    # unset (as with the standard decorator) until `__post_init__` or a later call sets them.
    assigned = tuple(f for f in record_fields if f.init or _has_default(f))
    names = tuple(f.name for f in assigned)
    params = tuple(f.name for f in record_fields if f.init)
    param_set = frozenset(params)
    positional = () if kw_only else params
    total = len(names)
    # (name, default, factory, init) per field; a MISSING default and no factory = required.
    plan = tuple(
        (f.name, f.default, None if f.default_factory is _MISSING else f.default_factory, f.init)
        for f in assigned
    )
    post_init = getattr(cls, "__post_init__", None) is not None
    setters = _slot_setters(cls, names)
    # Every argument given, none defaulted: the common case takes a shortcut past the checks.
    shortcut = len(params) == len(record_fields)
    complete_positional = len(positional) == total

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if shortcut:
            if not kwargs and len(args) == total and complete_positional:
                if setters is not None:
                    for setter, value in zip(setters, args, strict=True):
                        setter(self, value)
                else:
                    self.__dict__.update(zip(names, args, strict=True))
                if post_init:
                    self.__post_init__()
                return
            if not args and len(kwargs) == total and param_set.issuperset(kwargs):
                if setters is not None:
                    for setter, name in zip(setters, names, strict=True):
                        setter(self, kwargs[name])
                else:
                    self.__dict__.update(kwargs)
                if post_init:
                    self.__post_init__()
                return
        if args:
            if len(args) > len(positional):
                raise TypeError(
                    f"{qualname}() takes {len(positional)} positional arguments but "
                    f"{len(args)} were given"
                )
            values = dict(zip(positional, args, strict=False))
            if kwargs:
                if not values.keys().isdisjoint(kwargs):
                    taken = sorted(values.keys() & kwargs)[0]
                    raise TypeError(f"{qualname}() got multiple values for argument {taken!r}")
                values.update(kwargs)
        else:
            values = kwargs
        if not param_set.issuperset(values):
            unknown = sorted(set(values) - param_set)[0]
            raise TypeError(f"{qualname}() got an unexpected keyword argument {unknown!r}")
        if len(values) != total:
            for name, default, factory, init in plan:
                if init and name in values:
                    continue
                if factory is not None:
                    values[name] = factory()
                elif default is not _MISSING:
                    values[name] = default
                else:
                    raise TypeError(f"{qualname}() missing required argument: {name!r}")
        if setters is not None:
            for setter, name in zip(setters, names, strict=True):
                setter(self, values[name])
        else:
            self.__dict__.update(values)
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _has_default(spec: dataclasses.Field[Any]) -> bool:
    return spec.default is not _MISSING or spec.default_factory is not _MISSING


def _make_repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _values_getter(names: tuple[str, ...]) -> Callable[[Any], Any]:
    """A C-level getter of the compared fields (a tuple when there are several)."""
    if not names:
        return lambda _obj: ()
    return operator.attrgetter(*names)


def _make_eq(names: tuple[str, ...]) -> Callable[[Any, object], bool]:
    values = _values_getter(names)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(values(self) == values(other))

    return __eq__


def _make_hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _values_getter(names)

    def __hash__(self: Any) -> int:
        return hash((values(self),))

    return __hash__


def _make_getstate(names: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    def __getstate__(self: Any) -> dict[str, Any]:
        state = {name: getattr(self, name, _MISSING) for name in names}
        # An `init=False` field that was never set stays unset in the copy.
        return {name: value for name, value in state.items() if value is not _MISSING}

    return __getstate__


def _setstate(self: Any, state: dict[str, Any]) -> None:
    for name, value in state.items():
        _object_setattr(self, name, value)


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


class _Signature:
    """`cls.__signature__`: the parameters `__init__` takes, as `inspect.signature` reports them.

    Built when asked for (by `inspect`, `help()`, an IDE), so defining a class imports nothing.
    Parameters are the `init` fields in order, with their annotations and defaults; a field with
    a `default_factory` shows `<factory>`, as the standard decorator's signatures do.
    """

    __slots__ = ("_kw_only",)

    def __init__(self, kw_only: bool) -> None:
        self._kw_only = kw_only

    def __get__(self, instance: object, owner: type) -> Any:
        if instance is not None:
            raise AttributeError("__signature__")  # instances are not callable
        import inspect

        kind = (
            inspect.Parameter.KEYWORD_ONLY
            if self._kw_only
            else inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        parameters = [
            inspect.Parameter(spec.name, kind, default=_shown_default(spec), annotation=spec.type)
            for spec in getattr(owner, _FIELDS_ATTR).values()
            if spec.init
        ]
        return inspect.Signature(parameters, return_annotation=None)


def _shown_default(spec: dataclasses.Field[Any]) -> Any:
    import inspect

    if spec.default_factory is not _MISSING:
        return _FACTORY
    return inspect.Parameter.empty if spec.default is _MISSING else spec.default


class _FactoryDefault:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _FactoryDefault()
_SIGNATURE = _Signature(kw_only=False)
_KW_ONLY_SIGNATURE = _Signature(kw_only=True)
