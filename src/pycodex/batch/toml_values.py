"""JSON values written as TOML text, for `-c key=value` overrides given as JSON in task lines."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any) -> str:
    """The TOML text of a JSON value; ValueError for null and non-finite numbers."""
    if value is None:
        raise ValueError("null has no TOML form; leave the key out instead")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no TOML form")
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        body = ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + body + "}"
    raise ValueError(f"cannot write {type(value).__name__} as TOML")


def toml_string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML wants DEL escaped and
    takes astral characters as they are (JSON would write them as surrogate pairs)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_key(part: str) -> str:
    """One part of a dotted key, quoted unless it is a bare key."""
    return part if _BARE_KEY.match(part) else toml_string(part)
