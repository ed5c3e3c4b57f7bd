"""`Frozen`: the shared base of the wire classes in `items` and `exec_events`.

Those classes are plain `__slots__` classes, not pydantic models or dataclasses. Both alternatives
cost start-up time on every `pycodex exec`: importing pydantic and building its models took about
100 ms on a slow machine, and `@dataclass` compiles each class's methods through `exec` (about
1 ms per class). The methods here are shared functions, so defining a class costs microseconds.

A class declares each field once, as an annotation, in wire order:

    class FunctionCall(WireObject):
        type: Literal["function_call"] = "function_call"
        name: str
        id: str | None = UNSET

When the class statement runs, `FrozenMeta` derives the rest from those lines:

- `type` with a value is the class's constant discriminator: written at its place in the wire
  order, never stored per object (`type: str` without a value is an ordinary field);
- every other annotated name is a field stored in a slot; its value, if any, is its default
  (mutable defaults are refused, as `dataclasses` refuses them);
- `_FIELDS` is the field names in wire order (a base class's fields first), `_SPECS` the table;
- `private()` marks a slot that is not a field (caches, kept unknown fields); `ClassVar`
  annotations are left alone;
- `__init__` comes from the base class's `_make_init`, built when the first object of the class
  is (unless the class body defines one; a class without fields, such as a base class, keeps the
  abstract one): `WireObject` checks each value by its annotation, `ExecRecord` stores the
  values as given;
- `inspect.signature(cls)` (and so `help()`) shows the keyword parameters, built when asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MemberDescriptorType
from typing import Any, ClassVar, Literal, dataclass_transform

set_field = object.__setattr__
"""How code outside `__init__` stores a slot: a `Frozen` object refuses plain assignment."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<required>"


MISSING: Any = _Missing()
"""The default of a field that has none (it is required)."""


class _Private:
    __slots__ = ()


def private(*, init: Literal[False] = False) -> Any:
    """`name: T = private()`: a slot of the object that is not a field (not in `__init__`, not
    on the wire, not compared); type checkers see it as a field with `init=False`."""
    return _PRIVATE


_PRIVATE = _Private()


class FieldSpec:
    """One field as its class declared it (read-only by convention; built once per class)."""

    __slots__ = ("annotation", "constant", "default", "name", "required")

    def __init__(self, name: str, annotation: str, default: Any, constant: bool) -> None:
        self.name = name
        self.annotation = annotation  # the source text (the modules use postponed annotations)
        self.default = default  # MISSING when the field is required
        self.constant = constant  # the class's `type` discriminator: a class attribute
        self.required = default is MISSING and not constant

    def __repr__(self) -> str:
        return f"FieldSpec({self.name!r}, {self.annotation!r}, default={self.default!r})"


class FrozenMeta(type):
    """Derives `__slots__`, `_FIELDS`, `_SPECS` and `__init__` from a class's annotations."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> FrozenMeta:
        annotations: dict[str, Any] = namespace.get("__annotations__", {})
        own, slots = _own_specs(name, annotations, namespace)
        inherited: tuple[FieldSpec, ...] = ()
        for base in bases:
            inherited = getattr(base, "_SPECS", ())
            if inherited:
                break
        specs = _merged(inherited, own)
        namespace["_SPECS"] = specs
        namespace["_FIELDS"] = tuple(spec.name for spec in specs)
        namespace["__slots__"] = (*namespace.get("__slots__", ()), *slots)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if specs and "__init__" not in namespace:
            type.__setattr__(cls, "__init__", _built_on_first_use(cls))
        return cls

    @property
    def __signature__(cls) -> Any:
        """What `inspect.signature(cls)` reports: the keyword parameters of `__init__`."""
        import inspect

        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters = [
            inspect.Parameter(
                spec.name,
                keyword,
                default=inspect.Parameter.empty if spec.default is MISSING else spec.default,
                annotation=spec.annotation,
            )
            for spec in getattr(cls, "_SPECS", ())
            if not spec.constant
        ]
        extra = getattr(cls, "_EXTRA_PARAMETER", None)
        if extra:
            parameters.append(inspect.Parameter(extra, inspect.Parameter.VAR_KEYWORD))
        return inspect.Signature(parameters, return_annotation=None)


def _own_specs(
    class_name: str, annotations: dict[str, Any], namespace: dict[str, Any]
) -> tuple[list[FieldSpec], list[str]]:
    """The fields a class body declares, and its new slots; defaults leave the namespace (a slot
    cannot share its name with a class attribute). Runs for every wire class at import: lean."""
    own: list[FieldSpec] = []
    slots: list[str] = []
    for name, annotation in annotations.items():
        if annotation.__class__ is not str:
            annotation = _annotation_text(annotation)
        if annotation.startswith("ClassVar"):
            continue
        value = namespace.pop(name, MISSING)
        if value is _PRIVATE:
            slots.append(name)
        elif name == "type" and value is not MISSING:
            namespace[name] = value  # the constant stays a class attribute
            own.append(FieldSpec(name, annotation, value, True))
        else:
            if value.__class__.__hash__ is None:
                _refuse_mutable(class_name, name, value)
            slots.append(name)
            own.append(FieldSpec(name, annotation, value, False))
    return own, slots


def _annotation_text(annotation: Any) -> str:
    """The annotation as source text (what postponed annotations hold anyway)."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def _refuse_mutable(class_name: str, name: str, value: Any) -> None:
    kind = type(value).__name__
    raise ValueError(
        f"{class_name}.{name}: a mutable default ({kind}) would be shared by every instance"
    )


def _merged(inherited: tuple[FieldSpec, ...], own: list[FieldSpec]) -> tuple[FieldSpec, ...]:
    """Inherited fields first; a redeclared field keeps its inherited place."""
    if not inherited:
        return tuple(own)
    mine = {spec.name: spec for spec in own}
    merged = [mine.pop(spec.name, spec) for spec in inherited]
    return (*merged, *mine.values())


def _built_on_first_use(cls: type) -> Callable[..., None]:
    """An `__init__` that builds the class's real one (`_make_init`), installs it and runs it.

    A `pycodex exec` defines every wire class but builds objects of only a few; building each
    `__init__` when first needed keeps the rest off the start-up path.
    """

    def __init__(self: Any, /, **values: Any) -> None:
        make_init: Callable[[], Callable[..., None]] = getattr(cls, "_make_init")  # noqa: B009
        init = make_init()
        type.__setattr__(cls, "__init__", init)
        init(self, **values)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The `__set__` of a field's slot descriptor: stores past a frozen `__setattr__`."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None:
            if isinstance(descriptor, MemberDescriptorType):
                return descriptor.__set__
            break
    raise TypeError(f"{cls.__qualname__}.{name} has no slot")


# Tells type checkers that fields are keyword-only and read-only, and what `private()` means.
@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(private,))
class Frozen(metaclass=FrozenMeta):
    """Immutable after `__init__`; equality, hash and repr over `_FIELDS`, in that order."""

    __slots__ = ()
    _FIELDS: ClassVar[tuple[str, ...]] = ()
    _SPECS: ClassVar[tuple[FieldSpec, ...]] = ()
    # The name `inspect.signature` gives to a `**` parameter of `__init__`, if it takes one.
    _EXTRA_PARAMETER: ClassVar[str] = ""

    def __init__(self, /, **fields: Any) -> None:
        raise TypeError(f"{type(self).__name__} is abstract; create one of its subclasses")

    @classmethod
    def _make_init(cls) -> Callable[..., None]:
        """The `__init__` of `cls`, built from `cls._SPECS` (see the module docstring)."""
        raise NotImplementedError

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._FIELDS])

    def _compared(self) -> tuple[Any, ...]:
        """What equality compares; subclasses add what `_FIELDS` does not cover."""
        return self._values()

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [(name, getattr(self, name)) for name in self._FIELDS]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Frozen)
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        # Like a frozen pydantic model: hashable when every field value is (lists are not).
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self._repr_fields())
        return f"{type(self).__name__}({inner})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle would otherwise restore the slots through `__setattr__`.
        slots = (name for cls in type(self).__mro__ for name in getattr(cls, "__slots__", ()))
        state = {name: getattr(self, name, _UNSET_SLOT) for name in slots}
        # Lazily filled slots (caches) that were never filled are left unset in the copy too.
        return (_restore, (type(self), {k: v for k, v in state.items() if v is not _UNSET_SLOT}))


_UNSET_SLOT = object()


def _restore(cls: type[Frozen], state: dict[str, Any]) -> Frozen:
    obj = object.__new__(cls)
    for name, value in state.items():
        set_field(obj, name, value)
    return obj
