"""A small JSON Schema checker for function-tool arguments.

It covers what tool schemas use (`type`, `enum`, `anyOf`, local `$ref`s such as `#/$defs/X`,
`properties`, `required`, `additionalProperties: false`, `items`, `minimum`, `minLength`,
`minItems`) so a model's mistake comes back as one precise sentence instead of a handler crash.
It is not a full validator: other keywords are ignored.

A null sent for a property the schema does not require counts as leaving it out, since models
often spell "not given" that way. `normalize_arguments` (used for built-in tools) also accepts
the lossless spellings their old pydantic models accepted: an integer written as `5.0` or `"5"`,
a boolean as `"true"`/`"no"`/`1`..., and returns the arguments converted, nulls left out.
"""

from __future__ import annotations

import re
from typing import Any

from pycodex._records import dataclass

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_BOOLEAN_TEXT = {
    **dict.fromkeys(("true", "t", "yes", "y", "on", "1"), True),
    **dict.fromkeys(("false", "f", "no", "n", "off", "0"), False),
}


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every mismatch between `value` and `schema`, as readable strings (empty when valid)."""
    return _Checker(schema, lenient=False).check(value, schema, "")[1]


def normalize_arguments(value: Any, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """`value` with lossless spellings converted and optional nulls dropped, and its errors."""
    return _Checker(schema, lenient=True).check(value, schema, "")


@dataclass(frozen=True, slots=True)
class _Checker:
    root: dict[str, Any]
    lenient: bool

    def check(self, value: Any, schema: dict[str, Any], path: str) -> tuple[Any, list[str]]:
        schema = self._resolve(schema)
        branches = schema.get("anyOf")
        if isinstance(branches, list):
            return self._any_of(value, branches, path)
        if self.lenient:
            value = _coerce(value, schema.get("type"))
        errors = _type_errors(value, schema, path)
        if errors:
            return value, errors
        enum = schema.get("enum")
        if isinstance(enum, list) and value not in enum:
            allowed = ", ".join(repr(option) for option in enum)
            return value, [f"{path or 'value'}: expected one of {allowed}, got {value!r}"]
        if isinstance(value, dict):
            return self._object(value, schema, path)
        if isinstance(value, list):
            return self._array(value, schema, path)
        return value, _bound_errors(value, schema, path)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Follow a local `$ref` (`#/$defs/Name`); an unknown one constrains nothing."""
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        target: Any = self.root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return target if isinstance(target, dict) else {}

    def _any_of(self, value: Any, branches: list[Any], path: str) -> tuple[Any, list[str]]:
        failures: list[tuple[dict[str, Any], list[str]]] = []
        for branch in branches:
            if not isinstance(branch, dict):
                continue
            checked, errors = self.check(value, branch, path)
            if not errors:
                return checked, []
            failures.append((self._resolve(branch), errors))
        if not failures:
            return value, []
        # The branch of the value's own type explains best what is wrong inside it.
        for branch, errors in failures:
            spelled = _coerce(value, branch.get("type")) if self.lenient else value
            if not _type_errors(spelled, branch, path):
                return value, errors
        names = " or ".join(name for branch, _ in failures for name in _type_names(branch))
        return value, [f"{path or 'arguments'}: expected {names}, got {_json_type(value)}"]

    def _object(
        self, value: dict[str, Any], schema: dict[str, Any], path: str
    ) -> tuple[dict[str, Any], list[str]]:
        errors: list[str] = []
        prefix = f"{path}." if path else ""
        required = schema.get("required", [])
        for name in required:
            if name not in value:
                errors.append(f"missing required field '{prefix}{name}'")
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        closed = schema.get("additionalProperties") is False
        checked: dict[str, Any] = {}
        for name, sub_value in value.items():
            sub_schema = properties.get(name)
            if sub_value is None and name not in required:
                if not self.lenient:
                    checked[name] = sub_value
                continue
            if not isinstance(sub_schema, dict):
                if closed:
                    errors.append(f"unexpected field '{prefix}{name}'")
                checked[name] = sub_value
                continue
            checked[name], sub_errors = self.check(sub_value, sub_schema, f"{prefix}{name}")
            errors.extend(sub_errors)
        return checked, errors

    def _array(
        self, value: list[Any], schema: dict[str, Any], path: str
    ) -> tuple[list[Any], list[str]]:
        errors = _bound_errors(value, schema, path)
        items = schema.get("items")
        if not isinstance(items, dict):
            return value, errors
        checked: list[Any] = []
        for index, element in enumerate(value):
            element, element_errors = self.check(element, items, f"{path}[{index}]")
            checked.append(element)
            errors.extend(element_errors)
        return checked, errors


def _coerce(value: Any, expected: Any) -> Any:
    """The value an `integer` or `boolean` schema means when written another lossless way."""
    if expected == "integer" and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            return int(value.strip())
    if expected == "boolean":
        if isinstance(value, str):
            return _BOOLEAN_TEXT.get(value.strip().lower(), value)
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
    return value


def _type_errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    names = _type_names(schema)
    if not names:
        return []
    for name in names:
        accepted = _TYPES.get(name)
        if accepted is None:
            return []
        is_bool = isinstance(value, bool)
        if isinstance(value, accepted) and (name == "boolean" or not is_bool):
            return []
    return [f"{path or 'arguments'}: expected {' or '.join(names)}, got {_json_type(value)}"]


def _type_names(schema: dict[str, Any]) -> list[str]:
    expected = schema.get("type")
    if expected is None:
        return []
    return [str(name) for name in expected] if isinstance(expected, list) else [str(expected)]


def _bound_errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    where = path or "arguments"
    minimum = schema.get("minimum")
    if isinstance(value, int | float) and isinstance(minimum, int | float) and value < minimum:
        return [f"{where}: expected at least {minimum}, got {value}"]
    least = schema.get("minLength") if isinstance(value, str) else schema.get("minItems")
    if isinstance(value, str | list) and isinstance(least, int) and len(value) < least:
        unit = "character" if isinstance(value, str) else "item"
        return [f"{where}: expected at least {least} {unit}{'s' * (least != 1)}, got {len(value)}"]
    return []


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for name, accepted in _TYPES.items():
        if isinstance(value, accepted):
            return name
    return type(value).__name__
