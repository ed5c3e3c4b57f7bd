"""The machinery of `items`: the `WireObject` base, the field checks and `ItemValidationError`.

`items` declares the Responses API item classes on top of this; see its docstring for the
guarantees (unknown types and fields kept, `to_wire()` leaving out what was not given).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Self, TypeVar

from pycodex.protocol._frozen import Frozen, set_field


class ItemValidationError(ValueError):
    """A value that is not a valid item or content part; `str(err)` is one line naming both.

    `owner` names the object ("function_call item", "input_text part", "response item" when the
    type is not known yet), `field` the path inside it ("call_id", "content[0].text", "" for the
    object itself), `problem` what is wrong ("is required", "must be a string, got number").
    """

    def __init__(self, owner: str, field: str, problem: str) -> None:
        where = f"field {field!r} " if field else ""
        super().__init__(f"invalid {owner}: {where}{problem}")
        self.owner = owner
        self.field = field
        self.problem = problem

    def inside(self, owner: str, at: str) -> ItemValidationError:
        """The same problem, reported by the object holding the invalid one at `at`."""
        return ItemValidationError(owner, f"{at}.{self.field}" if self.field else at, self.problem)


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


# The default of optional constructor arguments: "not given" (left out of `to_wire()`), as opposed
# to an explicit None (sent as null). Typed Any so it fits every annotation.
UNSET: Any = _Unset()


class WireObject(Frozen):
    """Base of items and content parts: `type` first, fields in wire order, unknown fields kept."""

    __slots__ = ("_extra", "_json", "_omitted")
    type: str
    _extra: dict[str, Any]
    _json: str
    _omitted: tuple[str, ...]
    _REQUIRED: ClassVar[tuple[str, ...]] = ()
    _ROLE: ClassVar[str] = "item"

    def __init__(self, /, **fields: Any) -> None:
        raise TypeError("WireObject is abstract; create one of its subclasses")

    @property
    def extra(self) -> Mapping[str, Any]:
        """Fields this class does not declare, as they came (read-only)."""
        return MappingProxyType(self._extra)

    def to_wire(self) -> dict[str, Any]:
        """A fresh JSON object: `type`, the declared fields that were given, the unknown fields."""
        wire: dict[str, Any] = {}
        omitted = self._omitted
        for name in self._FIELDS:
            if name not in omitted:
                value = getattr(self, name)
                wire[name] = value if value.__class__ is str else plain(value)
        if self._extra:
            for key, value in self._extra.items():
                wire[key] = plain(value)
        return wire

    def wire_json(self) -> str:
        """`json.dumps(self.to_wire(), ensure_ascii=False)`, computed once per object.

        Objects never change after `__init__`, and a turn re-sends its whole history with every
        request: reusing each item's text keeps serializing a request linear in what is new.
        """
        try:
            return self._json
        except AttributeError:
            text = json.dumps(self.to_wire(), ensure_ascii=False)
            set_field(self, "_json", text)
            return text

    @classmethod
    def _from_wire(cls, data: dict[str, Any]) -> Self:
        for name in cls._REQUIRED:
            if name not in data:
                raise ItemValidationError(f"{cls.type} {cls._ROLE}", name, "is required")
        return cls(**data)  # a `type` key lands in `extra` and is checked by `_keep`

    def _keep(self, extra: dict[str, Any], omitted: tuple[str, ...] = ()) -> None:
        """End of `__init__`: keep the unknown fields and the names of optional fields not given."""
        if "type" in extra:
            kind = extra.pop("type")
            if kind != self.type:
                raise self._invalid("type", f"must be {self.type!r}, got {kind!r}")
        set_field(self, "_extra", extra)
        set_field(self, "_omitted", omitted)

    def _invalid(self, field: str, problem: str) -> ItemValidationError:
        return ItemValidationError(f"{self.type} {self._ROLE}", field, problem)

    def _compared(self) -> tuple[Any, ...]:
        return (*self._values(), self._extra)

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [*super()._repr_fields(), *self._extra.items()]


# --- field checks ----------------------------------------------------------------------------

_T = TypeVar("_T")
_SCALARS = (str, int, float)
_SEQUENCES = (list, tuple)  # lax, like pydantic: a tuple is accepted where a list is expected


def json_kind(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def not_given(**optional: Any) -> tuple[str, ...]:
    return tuple(name for name, value in optional.items() if value is UNSET)


def as_str(owner: WireObject, field: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise owner._invalid(field, f"must be a string, got {json_kind(value)}")


def as_optional_str(owner: WireObject, field: str, value: Any) -> str | None:
    if value is UNSET:
        return None
    if value is None or isinstance(value, str):
        return value
    raise owner._invalid(field, f"must be a string or null, got {json_kind(value)}")


def as_type_name(owner: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ItemValidationError(owner, "type", f"must be a string, got {json_kind(value)}")


def as_optional_object(owner: WireObject, field: str, value: Any) -> dict[str, Any] | None:
    if value is UNSET or value is None:
        return None
    if isinstance(value, dict):
        return dict(value)
    raise owner._invalid(field, f"must be an object or null, got {json_kind(value)}")


def as_parts(owner: WireObject, field: str, value: Any, parse: Callable[[Any], _T]) -> list[_T]:
    if not isinstance(value, _SEQUENCES):
        raise owner._invalid(field, f"must be a list, got {json_kind(value)}")
    parts: list[_T] = []
    for index, entry in enumerate(value):
        try:
            parts.append(parse(entry))
        except ItemValidationError as err:
            raise err.inside(f"{owner.type} {owner._ROLE}", f"{field}[{index}]") from None
    return parts


def as_object_list(owner: WireObject, field: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, _SEQUENCES):
        raise owner._invalid(field, f"must be a list, got {json_kind(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise owner._invalid(f"{field}[{index}]", f"must be an object, got {json_kind(entry)}")
    return [dict(entry) for entry in value]


def as_output(owner: WireObject, value: Any) -> str | list[dict[str, Any]]:
    if isinstance(value, str):
        return value
    if not isinstance(value, _SEQUENCES):
        raise owner._invalid("output", f"must be a string or a list, got {json_kind(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise owner._invalid(f"output[{index}]", f"must be an object, got {json_kind(entry)}")
    return [dict(entry) for entry in value]


def plain(value: Any) -> Any:
    """`value` as fresh JSON data: wire objects become dicts, lists and dicts are copied."""
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, WireObject):
        return value.to_wire()
    if isinstance(value, _SEQUENCES):
        return [plain(entry) for entry in value]
    if isinstance(value, dict):
        return {key: plain(entry) for key, entry in value.items()}
    return value
