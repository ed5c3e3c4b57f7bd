"""The machinery of `items`: the `WireObject` base, the field checks and `ItemValidationError`.

`items` declares the Responses API item classes on top of this; see its docstring for the
guarantees (unknown types and fields kept, `to_wire()` leaving out what was not given).

A `WireObject` field is checked by its annotation (`CHECKS` and the part lists below); an
annotation without a check is refused when the class is defined, so a new field either gets a
check or fails every test at import. A field with the default `UNSET` is optional: left out, it
is left out of `to_wire()` too, and the object holds None (an empty list for a `list[...]`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType, UnionType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from pycodex.protocol._frozen import MISSING, FieldSpec, Frozen, private, set_field, slot_setter


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


# The default of optional fields: "not given" (left out of `to_wire()`), as opposed to an explicit
# None (sent as null). Typed Any so it fits every annotation.
UNSET: Any = _Unset()

Check = Callable[["WireObject", str, Any], Any]


class WireObject(Frozen):
    """Base of items and content parts: `type` first, fields in wire order, unknown fields kept."""

    if TYPE_CHECKING:
        # Every subclass declares it: a constant (`type: Literal["message"] = "message"`), or a
        # field for the classes that keep types this version does not model.
        type: str
    _extra: dict[str, Any] = private()
    _json: str = private()
    _omitted: tuple[str, ...] = private()
    _REQUIRED: ClassVar[tuple[str, ...]] = ()
    # What the object is, in error messages: "<type> <role>", or the role alone for a class
    # whose `type` is a field.
    _ROLE: ClassVar[str] = "item"
    _EXTRA_PARAMETER = "extra"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every declaration is checked now, so a field no check fits fails the import; the
        # checks themselves are put together with `__init__`, on first use.
        for spec in cls._SPECS:
            if not spec.constant:
                _field_check(cls, spec, resolve=False)
        cls._REQUIRED = tuple(spec.name for spec in cls._SPECS if spec.required)

    @classmethod
    def _make_init(cls) -> Callable[..., None]:
        return _make_wire_init(cls)

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
    def _owner_name(cls) -> str:
        kind = getattr(cls, "type", None)  # a slot descriptor when `type` is a field
        return f"{kind} {cls._ROLE}" if isinstance(kind, str) else cls._ROLE

    @classmethod
    def _from_wire(cls, data: dict[str, Any]) -> Self:
        for name in cls._REQUIRED:
            if name not in data:
                raise ItemValidationError(cls._owner_name(), name, "is required")
        return cls(**data)  # `__init__` checks a `type` key against the constant

    def _invalid(self, field: str, problem: str) -> ItemValidationError:
        return ItemValidationError(f"{self.type} {self._ROLE}", field, problem)

    def _compared(self) -> tuple[Any, ...]:
        return (*self._values(), self._extra)

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [*super()._repr_fields(), *self._extra.items()]


def _make_wire_init(cls: type[WireObject]) -> Callable[..., None]:
    """An `__init__` that checks each field by its annotation, then keeps the unknown ones."""
    qualname = cls.__qualname__
    # (name, check, slot setter, what the field holds when left out) per stored field; a str
    # field's check is None: the common case, tested inline.
    plan = tuple(
        (
            spec.name,
            None if check is as_str else check,
            slot_setter(cls, spec.name),
            _REQUIRED if spec.required else _EMPTY_LIST if empty_list else None,
        )
        for spec in cls._SPECS
        if not spec.constant
        for check, empty_list in [_field_check(cls, spec)]
    )
    set_extra, set_omitted = slot_setter(cls, "_extra"), slot_setter(cls, "_omitted")

    def __init__(self: WireObject, /, **values: Any) -> None:
        omitted: tuple[str, ...] = ()
        for name, check, setter, absent in plan:
            value = values.pop(name, UNSET)
            if value is UNSET:
                if absent is _REQUIRED:
                    raise TypeError(f"{qualname}() missing required keyword argument: {name!r}")
                setter(self, [] if absent is _EMPTY_LIST else None)
                omitted += (name,)
            elif check is None:
                setter(self, value if value.__class__ is str else as_str(self, name, value))
            else:
                setter(self, check(self, name, value))
        if values and "type" in values:
            kind = values.pop("type")
            if kind != self.type:
                raise self._invalid("type", f"must be {self.type!r}, got {kind!r}")
        set_extra(self, values)
        set_omitted(self, omitted)

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


# What a field holds when left out (besides None).
_REQUIRED = object()
_EMPTY_LIST = object()


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


def as_str(owner: WireObject, field: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise owner._invalid(field, f"must be a string, got {json_kind(value)}")


def as_optional_str(owner: WireObject, field: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise owner._invalid(field, f"must be a string or null, got {json_kind(value)}")


def as_type_name(owner: WireObject, field: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    problem = f"must be a string, got {json_kind(value)}"
    raise ItemValidationError(owner._owner_name(), field, problem)


def as_object(owner: WireObject, field: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    raise owner._invalid(field, f"must be an object, got {json_kind(value)}")


def as_optional_object(owner: WireObject, field: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return dict(value)
    raise owner._invalid(field, f"must be an object or null, got {json_kind(value)}")


def as_output(owner: WireObject, field: str, value: Any) -> str | list[dict[str, Any]]:
    if isinstance(value, str):
        return value
    if not isinstance(value, _SEQUENCES):
        raise owner._invalid(field, f"must be a string or a list, got {json_kind(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise owner._invalid(f"{field}[{index}]", f"must be an object, got {json_kind(entry)}")
    return [dict(entry) for entry in value]


def as_any(owner: WireObject, field: str, value: Any) -> Any:
    return value


def as_parts(owner: WireObject, field: str, value: Any, parse: Callable[[Any], _T]) -> list[_T]:
    if not isinstance(value, _SEQUENCES):
        raise owner._invalid(field, f"must be a list, got {json_kind(value)}")
    parts: list[_T] = []
    for index, entry in enumerate(value):
        try:
            parts.append(parse(entry))
        except ItemValidationError as err:
            raise err.inside(owner._owner_name(), f"{field}[{index}]") from None
    return parts


def as_object_list(owner: WireObject, field: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, _SEQUENCES):
        raise owner._invalid(field, f"must be a list, got {json_kind(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise owner._invalid(f"{field}[{index}]", f"must be an object, got {json_kind(entry)}")
    return [dict(entry) for entry in value]


# Annotation source text (spaces removed) -> the check of a field so annotated.
CHECKS: dict[str, Check] = {
    "str": as_str,
    "str|None": as_optional_str,
    "dict[str,Any]": as_object,
    "dict[str,Any]|None": as_optional_object,
    "str|list[dict[str,Any]]": as_output,
    "list[dict[str,Any]]": as_object_list,
    "Any": as_any,
}


def _field_check(
    cls: type[WireObject], spec: FieldSpec, *, resolve: bool = True
) -> tuple[Check, bool]:
    """The check of one field from its annotation, and whether it holds [] (not None) when left
    out. Raises TypeError for a declaration no check fits. Without `resolve`, only the
    declaration is checked (the part classes a list names may not exist yet)."""
    where = f"{cls.__qualname__}.{spec.name}"
    text = spec.annotation.replace(" ", "")
    optional = spec.default is not MISSING
    if optional and spec.default is not UNSET:
        raise TypeError(f"{where}: an optional wire field's default is UNSET (left off the wire)")
    if spec.name == "type":
        if text != "str" or optional:
            raise TypeError(f"{where}: `type` is a constant with a value, or a required str")
        return as_type_name, False
    check = CHECKS.get(text)
    if check is not None and text.startswith("list["):
        return check, optional  # like a list of parts: [] when left out
    if check is not None:
        if optional and not text.endswith("|None") and text != "Any":
            raise TypeError(f"{where}: an optional field holds None when left out; allow None")
        return check, False
    part, nullable = _part_list(text)
    if not part:
        known = ", ".join([*CHECKS, "list[Part]", "list[Part] | None"])
        raise TypeError(f"{where}: no wire check for {spec.annotation!r} (known: {known})")
    if not resolve:
        return as_any, False
    parse = wire_parser(_resolve(cls, part, where))
    if nullable:
        return _nullable_parts(parse), False
    return _parts(parse), optional


def _part_list(text: str) -> tuple[str, bool]:
    """`list[X]` -> ("X", False), `list[X]|None` -> ("X", True), anything else -> ("", False).

    X names a WireObject class, or a union of them, of the class's module.
    """
    nullable = text.endswith("|None")
    inner = text.removesuffix("|None")
    if not (inner.startswith("list[") and inner.endswith("]")):
        return "", False
    name = inner[5:-1]
    return (name, nullable) if name.isidentifier() else ("", False)


def _resolve(cls: type, name: str, where: str) -> Any:
    target = vars(sys.modules[cls.__module__]).get(name)
    members = target.__args__ if isinstance(target, UnionType) else (target,)
    if not all(isinstance(member, type) and issubclass(member, WireObject) for member in members):
        raise TypeError(f"{where}: {name!r} is not a WireObject class or union of its module")
    return target


def _parts(parse: Callable[[Any], Any]) -> Check:
    def check(owner: WireObject, field: str, value: Any) -> list[Any]:
        return as_parts(owner, field, value, parse)

    return check


def _nullable_parts(parse: Callable[[Any], Any]) -> Check:
    def check(owner: WireObject, field: str, value: Any) -> list[Any] | None:
        return None if value is None else as_parts(owner, field, value, parse)

    return check


def wire_parser(target: type[WireObject] | UnionType) -> Callable[[Any], Any]:
    """A parser of one JSON object (or an object of `target` already) into `target`.

    `target` is a class, or a union of classes told apart by their `type` constant; the member
    whose `type` is a field (if any) takes every type the others do not.
    """
    members: tuple[type[WireObject], ...] = (
        target.__args__ if isinstance(target, UnionType) else (target,)
    )
    by_type = {m.type: m._from_wire for m in members if isinstance(getattr(m, "type", None), str)}
    catch_all = next((m for m in members if not isinstance(getattr(m, "type", None), str)), None)
    if catch_all is None and len(members) == 1:
        catch_all = members[0]
    owner = (catch_all or members[0])._owner_name()
    fallback = catch_all._from_wire if catch_all is not None else None

    def parse(data: Any) -> Any:
        # A dict first: the usual input, and `isinstance` against classes with a metaclass is
        # slower than against plain classes when it fails.
        if data.__class__ is not dict:
            if isinstance(data, members):
                return data
            if not isinstance(data, dict):
                raise ItemValidationError(owner, "", f"must be an object, got {json_kind(data)}")
        kind = data.get("type")
        build = by_type.get(kind) if isinstance(kind, str) else None
        if build is None:
            if fallback is None:
                raise ItemValidationError(owner, "type", f"is not one of {sorted(by_type)}")
            build = fallback
        return build(data)

    return parse


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
