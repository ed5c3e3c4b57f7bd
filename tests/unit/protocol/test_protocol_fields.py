"""Each wire field is declared once: slots, wire order, `__init__` and signature follow from it.

The classes of `items` and `exec_events` list their fields as annotations only; `_frozen` and
`_wire` derive the rest when a class is defined. These tests hold the derivation to the
declarations for every class, and show that a declaration nothing can check fails at once.
"""

from __future__ import annotations

import inspect
import pydoc
from typing import Any, ClassVar, Literal

import pytest

from pycodex.protocol import exec_events, items
from pycodex.protocol._frozen import Frozen
from pycodex.protocol._wire import UNSET, WireObject
from pycodex.protocol.exec_events import ExecRecord
from pycodex.protocol.items import ContentPart

WIRE_CLASSES = [
    value
    for module in (items, exec_events)
    for value in vars(module).values()
    if isinstance(value, type)
    and issubclass(value, Frozen)
    and value not in (WireObject, ExecRecord)
]


def _declared(cls: type) -> list[str]:
    return [
        name
        for name, annotation in cls.__annotations__.items()
        if not str(annotation).startswith("ClassVar")
    ]


def _has_constant_type(cls: type) -> bool:
    return isinstance(cls.__dict__.get("type"), str)


def _sample(annotation: str) -> Any:
    """A valid value for a field so annotated (the part lists get an empty list)."""
    if annotation.startswith(("list[", "str | list")):
        return []
    return {"dict[str, Any] | None": {"k": 1}}.get(annotation, "v")


def test_the_wire_modules_define_the_classes_we_expect() -> None:
    names = {cls.__name__ for cls in WIRE_CLASSES}
    assert {"Message", "FunctionCall", "UnknownItem", "InputText"} <= names
    assert {"CommandExecutionItem", "TurnCompleted", "ExecUsage", "ThreadError"} <= names
    assert len(WIRE_CLASSES) >= 30


@pytest.mark.parametrize("cls", WIRE_CLASSES, ids=lambda cls: cls.__name__)
def test_slots_wire_order_and_signature_come_from_the_annotations(cls: type[Frozen]) -> None:
    declared = _declared(cls)
    assert tuple(declared) == cls._FIELDS
    stored = [name for name in declared if not (name == "type" and _has_constant_type(cls))]
    assert set(cls.__dict__["__slots__"]) == set(stored)
    parameters = list(inspect.signature(cls).parameters)
    assert parameters == ([*stored, "extra"] if issubclass(cls, WireObject) else stored)


@pytest.mark.parametrize(
    "cls",
    [cls for cls in WIRE_CLASSES if issubclass(cls, WireObject)],
    ids=lambda cls: cls.__name__,
)
def test_wire_objects_round_trip_every_declared_field_in_order(cls: type[WireObject]) -> None:
    data = {name: _sample(cls.__annotations__[name]) for name in _declared(cls)}
    data["type"] = cls.__dict__["type"] if _has_constant_type(cls) else "something_new"
    item = cls._from_wire(data)
    assert list(item.to_wire()) == list(cls._FIELDS)
    assert item.to_wire() == data
    assert item.extra == {}
    assert cls._from_wire({**data, "later": [1]}).extra == {"later": [1]}


@pytest.mark.parametrize(
    "cls",
    [cls for cls in WIRE_CLASSES if issubclass(cls, ExecRecord)],
    ids=lambda cls: cls.__name__,
)
def test_exec_records_store_every_declared_field_in_order(cls: type[ExecRecord]) -> None:
    stored = [name for name in _declared(cls) if name != "type"]
    record = cls(**{name: f"<{name}>" for name in stored})
    assert list(record.to_dict()) == list(cls._FIELDS)
    assert [getattr(record, name) for name in stored] == [f"<{name}>" for name in stored]
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        cls(**{name: 1 for name in stored}, nope=1)
    parameters = inspect.signature(cls).parameters.values()
    required = [p.name for p in parameters if p.default is inspect.Parameter.empty]
    if required:
        given = {name: 1 for name in stored if name != required[-1]}
        with pytest.raises(TypeError, match=f"missing required keyword argument: '{required[-1]}'"):
            cls(**given)


def test_signatures_show_the_parameters_in_help() -> None:
    assert str(inspect.signature(items.FunctionCall)) == (
        "(*, namespace: 'str | None' = <unset>, name: 'str', arguments: 'str', call_id: 'str', "
        "id: 'str | None' = <unset>, **extra) -> None"
    )
    assert str(inspect.signature(exec_events.WebSearchItem)) == (
        "(*, id: 'str', query: 'str', action: 'Any' = None) -> None"
    )
    assert "FunctionCall(*, namespace: 'str | None' = <unset>, name: 'str'" in pydoc.render_doc(
        items.FunctionCall
    )


def test_the_type_constant_may_be_passed_but_not_changed() -> None:
    assert exec_events.ThreadError(message="m", type="error") == exec_events.ThreadError(
        message="m"
    )
    with pytest.raises(TypeError, match=r"takes type='error', got 'turn\.failed'"):
        exec_events.ThreadError(message="m", type="turn.failed")  # type: ignore[arg-type]


class NamespacedCall(WireObject):
    """What another helper's change looks like: one more annotated line."""

    type: Literal["namespaced_call"] = "namespaced_call"
    name: str
    namespace: str | None = UNSET
    arguments: str
    parts: list[ContentPart] = UNSET
    action: dict[str, Any]
    note: ClassVar[str] = "not a field"


def test_adding_a_field_is_one_annotated_line() -> None:
    bare = NamespacedCall(name="f", arguments="{}", action={})
    assert bare.to_wire() == {
        "type": "namespaced_call",
        "name": "f",
        "arguments": "{}",
        "action": {},
    }
    assert (bare.namespace, bare.parts) == (None, [])
    data = {
        "type": "namespaced_call",
        "name": "f",
        "namespace": "mcp__files",
        "arguments": "{}",
        "parts": [{"type": "input_text", "text": "t"}],
        "action": {"cmd": ["ls"]},
    }
    full = NamespacedCall._from_wire(data)
    assert full.to_wire() == data and list(full.to_wire()) == list(data)
    assert full.parts == [items.InputText(text="t")]
    assert NamespacedCall._FIELDS == (
        "type",
        "name",
        "namespace",
        "arguments",
        "parts",
        "action",
    )
    with pytest.raises(items.ItemValidationError, match="field 'namespace' must be a string"):
        NamespacedCall(name="f", arguments="{}", namespace=3, action={})
    with pytest.raises(items.ItemValidationError, match="field 'action' must be an object"):
        NamespacedCall._from_wire({**data, "action": None})


def test_a_field_nothing_can_check_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match=r"Counted\.count: no wire check for 'int'"):

        class Counted(WireObject):
            type: Literal["counted"] = "counted"
            count: int

    with pytest.raises(TypeError, match=r"Defaulted\.name: an optional wire field's default"):

        class Defaulted(WireObject):
            type: Literal["defaulted"] = "defaulted"
            name: str | None = "anonymous"

    with pytest.raises(TypeError, match=r"NotNullable\.name: an optional field holds None"):

        class NotNullable(WireObject):
            type: Literal["not_nullable"] = "not_nullable"
            name: str = UNSET


class EarlyItem(WireObject):
    """Names a part class defined further down: the name is looked up when first needed."""

    type: Literal["early"] = "early"
    parts: list[LaterPart]


class LaterPart(WireObject):
    _ROLE = "part"
    type: Literal["later"] = "later"
    text: str


def test_part_classes_may_be_defined_after_the_field_naming_them() -> None:
    item = EarlyItem._from_wire({"type": "early", "parts": [{"type": "later", "text": "t"}]})
    assert item.parts == [LaterPart(text="t")]

    class Dangling(WireObject):
        type: Literal["dangling"] = "dangling"
        parts: list[NowhereToBeFound]  # type: ignore[name-defined]  # noqa: F821  # the point

    with pytest.raises(TypeError, match=r"Dangling\.parts: 'NowhereToBeFound' is not a WireObj"):
        Dangling(parts=[])


def test_mutable_defaults_are_refused_like_dataclasses_refuse_them() -> None:
    with pytest.raises(ValueError, match=r"Listed\.entries: a mutable default \(list\)"):

        class Listed(ExecRecord):
            entries: list[str] = []  # the point
