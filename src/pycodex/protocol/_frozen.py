"""`Frozen`: the shared base of the wire classes in `items` and `exec_events`.

Those classes are plain `__slots__` classes with hand-written `__init__`s, not pydantic models or
dataclasses. Both alternatives cost start-up time on every `pycodex exec`: importing pydantic and
building its models took about 100 ms on a slow machine, and `@dataclass` compiles each class's
methods through `exec` (about 1 ms per class). The methods here are shared functions, so defining
a class costs microseconds.
"""

from __future__ import annotations

from typing import Any, ClassVar, dataclass_transform

set_field = object.__setattr__
"""How an `__init__` stores a field: a `Frozen` object refuses plain attribute assignment."""


# Tells type checkers that fields are keyword-only and read-only (no field-generation at run time).
@dataclass_transform(kw_only_default=True, frozen_default=True)
class Frozen:
    """Immutable after `__init__`; equality, hash and repr over `_FIELDS`, in that order."""

    __slots__ = ()
    _FIELDS: ClassVar[tuple[str, ...]] = ()

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
