"""The `exec --json` event classes: exact JSON lines, `replace`, immutability."""

from __future__ import annotations

import pytest

from pycodex.protocol import exec_events as out


def test_lines_are_compact_with_every_field_in_contract_order() -> None:
    started = out.CommandExecutionItem(
        id="item_0", command="ls", aggregated_output="", exit_code=None, status="in_progress"
    )
    assert out.ItemStarted(item=started).to_json() == (
        '{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"ls",'
        '"aggregated_output":"","exit_code":null,"status":"in_progress"}}'
    )
    assert out.TurnStarted().to_json() == '{"type":"turn.started"}'
    usage = out.ExecUsage(
        input_tokens=10,
        cached_input_tokens=2,
        cache_write_input_tokens=1,
        output_tokens=3,
        reasoning_output_tokens=4,
    )
    assert out.to_json_line(out.TurnCompleted(usage=usage)) == (
        '{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":2,'
        '"cache_write_input_tokens":1,"output_tokens":3,"reasoning_output_tokens":4}}'
    )
    changes = [out.FileUpdateChange(path="a.py", kind="add")]
    assert out.FileChangeItem(id="item_1", changes=changes, status="completed").to_dict() == {
        "id": "item_1",
        "type": "file_change",
        "changes": [{"path": "a.py", "kind": "add"}],
        "status": "completed",
    }


def test_text_is_written_as_pydantic_wrote_it() -> None:
    message = out.AgentMessageItem(id="item_2", text='héllo "日本"\n\t\x00\\ 😀')
    assert message.to_json() == (
        '{"id":"item_2","type":"agent_message","text":"héllo \\"日本\\"\\n\\t\\u0000\\\\ 😀"}'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5"),
        (3.0, "3.0"),
        (1e-7, "1e-7"),
        (1.5e-5, "0.000015"),
        (1e-4, "0.0001"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (float("nan"), "null"),
        (float("-inf"), "null"),
    ],
)
def test_floats_in_free_form_fields_match_the_earlier_output(value: float, text: str) -> None:
    item = out.WebSearchItem(id="item_3", query="q", action={"n": value})
    assert (
        item.to_json()
        == f'{{"id":"item_3","type":"web_search","query":"q","action":{{"n":{text}}}}}'
    )


def test_replace_makes_a_changed_copy() -> None:
    item = out.FileChangeItem(id="item_4", changes=[], status="in_progress")
    failed = item.replace(status="failed")
    assert failed == out.FileChangeItem(id="item_4", changes=[], status="failed")
    assert item.status == "in_progress"
    with pytest.raises(TypeError, match="has no field 'stauts'"):
        item.replace(stauts="failed")


def test_events_are_frozen_values() -> None:
    event = out.ThreadError(message="boom")
    with pytest.raises(AttributeError, match="frozen"):
        event.message = "other"  # type: ignore[misc]
    assert event == out.ThreadError(message="boom") and event != out.ThreadError(message="x")
    assert repr(event) == "ThreadError(type='error', message='boom')"
