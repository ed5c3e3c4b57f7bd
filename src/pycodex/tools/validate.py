"""A small JSON Schema checker for function-tool arguments.

It covers what tool schemas use (`type`, `required`, `properties`, `enum`, `items`) so a model's
mistake comes back as one precise sentence instead of a handler crash. It is not a full validator.
"""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def schema_errors(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Every mismatch between `value` and `schema`, as readable strings (empty when valid)."""
    errors = _type_errors(value, schema, path)
    if errors:
        return errors
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        allowed = ", ".join(repr(option) for option in enum)
        return [f"{path or 'value'}: expected one of {allowed}, got {value!r}"]
    if isinstance(value, dict):
        return _object_errors(value, schema, path)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, element in enumerate(value):
            errors.extend(schema_errors(element, schema["items"], f"{path}[{index}]"))
    return errors


def _type_errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    expected = schema.get("type")
    if expected is None:
        return []
    names = expected if isinstance(expected, list) else [expected]
    for name in names:
        accepted = _TYPES.get(name)
        if accepted is None:
            return []
        is_bool = isinstance(value, bool)
        if isinstance(value, accepted) and (name == "boolean" or not is_bool):
            return []
    return [f"{path or 'arguments'}: expected {' or '.join(names)}, got {_json_type(value)}"]


def _object_errors(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    errors: list[str] = []
    prefix = f"{path}." if path else ""
    for name in schema.get("required", []):
        if name not in value:
            errors.append(f"missing required field '{prefix}{name}'")
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub_value in value.items():
            sub_schema = properties.get(name)
            if isinstance(sub_schema, dict) and sub_value is not None:
                errors.extend(schema_errors(sub_value, sub_schema, f"{prefix}{name}"))
    return errors


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for name, accepted in _TYPES.items():
        if isinstance(value, accepted):
            return name
    return type(value).__name__
