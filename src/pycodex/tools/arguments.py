"""Typed arguments for built-in tools, built from the JSON object the model sent.

A built-in tool declares a hand-written `input_schema` and names a plain class (a frozen
dataclass) in `args_type`. Once the registry has checked the arguments against the schema,
`build_arguments` makes the instance:

- each annotated field takes the value of the key of the same name; a missing key leaves the
  field's default (the checker already dropped nulls sent for optional keys);
- keys the class does not annotate are ignored, as the pydantic models did;
- a field annotated with another such class, a `list`/`tuple` of them or `X | None` is built
  from its nested objects the same way.

Values are not checked again here: the schema did that, and a test holds every built-in's
schema and class to the same fields and defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import NoneType, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

ArgsT = TypeVar("ArgsT")

# Field annotations by class, resolved once: `get_type_hints` evaluates the annotation strings.
_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def build_arguments(args_type: type[ArgsT], data: Mapping[str, Any]) -> ArgsT:
    """An `args_type` instance from a checked argument object."""
    fields = _field_types(args_type)
    values = {name: _convert(data[name], hint) for name, hint in fields.items() if name in data}
    construct: Callable[..., ArgsT] = args_type
    return construct(**values)


def _field_types(args_type: type) -> dict[str, Any]:
    fields = _FIELD_TYPES.get(args_type)
    if fields is None:
        fields = _FIELD_TYPES[args_type] = get_type_hints(args_type)
    return fields


def _convert(value: Any, hint: Any) -> Any:
    origin = get_origin(hint)
    if origin is Union or origin is UnionType:
        members = [member for member in get_args(hint) if member is not NoneType]
        if value is None or len(members) != 1:
            return value
        return _convert(value, members[0])
    if origin in (list, tuple) and isinstance(value, list):
        item_type = get_args(hint)[0] if get_args(hint) else Any
        items = [_convert(item, item_type) for item in value]
        return items if origin is list else tuple(items)
    if origin is None and isinstance(hint, type) and hint is not dict and isinstance(value, dict):
        return build_arguments(hint, value)
    return value
