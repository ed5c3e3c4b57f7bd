"""read_rollout: a tolerant, linear fold of a rollout file into a resumable history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.sessions import parse_rollout, read_rollout
from pycodex.sessions import reader as reader_module

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "rollout-2025-05-31T12-04-21-0197263a-8f40-7c3e-9a1b-2d4e6f708192.jsonl"


def line(record_type: str, payload: dict[str, Any]) -> str:
    record = {"timestamp": "2025-06-01T10:00:00.000Z", "type": record_type, "payload": payload}
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def item(text: str, role: str = "user") -> dict[str, Any]:
    part = "input_text" if role == "user" else "output_text"
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


META = line("session_meta", {"id": "0197263a-8f40-7c3e-9a1b-2d4e6f708192", "cwd": "/p"})


def parse_lines(*lines: str, trailing_newline: bool = True) -> Any:
    text = "\n".join(lines) + ("\n" if trailing_newline else "")
    return parse_rollout(text.encode())


def test_fixture_written_from_the_contract_is_read_in_full() -> None:
    result = read_rollout(FIXTURE)
    assert result.warnings == []
    assert result.dropped_call_ids == []
    assert result.session_meta is not None
    assert result.thread_id == "0197263a-8f40-7c3e-9a1b-2d4e6f708192"
    meta = result.session_meta
    assert (meta["cwd"], meta["originator"], meta["cli_version"]) == (
        "/home/dev/project",
        "codex_exec",
        "0.169.0",
    )
    assert (meta["source"], meta["model_provider"]) == ("exec", "openai")
    assert meta["base_instructions"] == {
        "text": "You are a coding agent. Be precise, safe and helpful."
    }
    assert meta["git"]["branch"] == "main"  # fields we do not model are kept
    assert [(i["type"], i.get("role")) for i in result.history] == [
        ("message", "developer"),
        ("message", "user"),
        ("message", "user"),
        ("reasoning", None),
        ("function_call", None),
        ("function_call_output", None),
        ("message", "assistant"),
    ]
    assert result.history[4]["call_id"] == result.history[5]["call_id"] == "call_ls"
    assert result.history[6]["content"][0]["text"] == "main.py prints “héllo” — nothing else."
    assert result.turn_contexts == [
        {
            "cwd": "/home/dev/project",
            "approval_policy": "never",
            "sandbox_policy": {
                "type": "workspace-write",
                "writable_roots": [],
                "network_access": False,
            },
            "model": "gpt-5.5",
            "effort": "low",
            "summary": "auto",
        }
    ]
    assert [e["type"] for e in result.events] == [
        "task_started",
        "user_message",
        "agent_message",
        "token_count",
        "task_complete",
    ]
    assert result.events[3]["info"]["total_token_usage"]["total_tokens"] == 2164
    assert result.other_records == []


def test_truncated_last_line_is_ignored_with_a_warning() -> None:
    torn = line("response_item", item("lost"))[:-20]
    result = parse_lines(META, line("response_item", item("kept")), torn, trailing_newline=False)
    assert result.history == [item("kept")]
    assert result.warnings == ["line 3: truncated last record ignored"]


def test_blank_lines_and_crlf_endings_are_fine() -> None:
    text = "\r\n".join([META, "", "   ", line("response_item", item("a")), "", ""])
    result = parse_rollout(text.encode())
    assert result.history == [item("a")]
    assert result.warnings == []


def test_empty_file_gives_an_empty_history() -> None:
    result = parse_rollout(b"")
    assert (result.session_meta, result.history, result.warnings) == (None, [], [])


def test_pretty_printed_records_are_accumulated_and_parsed() -> None:
    pretty_meta = json.dumps(json.loads(META), indent=2)
    pretty_item = json.dumps(
        json.loads(line("response_item", item("{ braces } in text"))), indent=4
    )
    result = parse_lines(
        pretty_meta, line("response_item", item("a")), pretty_item, line("event_msg", {"type": "x"})
    )
    assert result.warnings == []
    assert result.thread_id == "0197263a-8f40-7c3e-9a1b-2d4e6f708192"
    assert result.history == [item("a"), item("{ braces } in text")]
    assert result.events == [{"type": "x"}]


def test_a_torn_line_in_the_middle_does_not_swallow_the_lines_after_it() -> None:
    torn = line("response_item", item("lost"))[:30]
    result = parse_lines(
        META, torn, line("response_item", item("a")), line("response_item", item("b"))
    )
    assert result.history == [item("a"), item("b")]
    assert result.warnings == ["line 2: invalid JSON, skipped"]


def test_a_torn_pretty_printed_record_is_skipped_as_one_span() -> None:
    pretty = json.dumps(json.loads(line("response_item", item("lost"))), indent=2).splitlines()
    result = parse_lines(META, *pretty[:5], line("response_item", item("a")))
    assert result.history == [item("a")]
    assert result.warnings == ["lines 2-6: invalid JSON, skipped"]


def test_multiline_accumulation_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_module, "MAX_MULTILINE_RECORD_CHARS", 100)
    pretty = json.dumps(json.loads(line("response_item", item("x" * 500))), indent=2)
    result = parse_lines(META, pretty, line("response_item", item("a")))
    assert result.history == [item("a")]
    assert len(result.warnings) == 1
    assert result.warnings[0].endswith("invalid JSON, skipped")


def test_unknown_record_types_and_fields_are_kept_not_fatal() -> None:
    future = {"timestamp": "t", "type": "future_kind", "payload": {"a": 1}, "extra": True}
    no_payload = {"timestamp": "t", "type": "response_item"}
    second_meta = line("session_meta", {"id": "other"})
    odd_item = {"type": "brand_new_item", "whatever": [1, 2]}
    result = parse_lines(
        META,
        json.dumps(future),
        json.dumps(no_payload),
        second_meta,
        line("response_item", odd_item),
        "[1, 2, 3]",
    )
    assert result.thread_id == "0197263a-8f40-7c3e-9a1b-2d4e6f708192"
    assert result.history == [odd_item]
    assert result.other_records == [future, no_payload, json.loads(second_meta)]
    assert result.warnings == ["line 6: not a JSON object, skipped"]


def test_invalid_utf8_is_replaced_and_reported() -> None:
    good = line("response_item", item("caf\N{LATIN SMALL LETTER E WITH ACUTE}")).encode()
    broken = line("response_item", item("bad XX here")).encode().replace(b"XX", b"\xff\xfe")
    result = parse_rollout(b"\n".join([META.encode(), good, broken, b""]))
    assert result.history == [item("café"), item("bad \ufffd\ufffd here")]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("line 3: invalid UTF-8")


def test_compacted_replacement_history_replaces_what_came_before() -> None:
    summary = item("summary of earlier work", role="assistant")
    result = parse_lines(
        META,
        line("response_item", item("a")),
        line("response_item", item("b")),
        line("compacted", {"message": "m", "replacement_history": [item("a"), summary]}),
        line("response_item", item("c")),
        line("compacted", {"message": "legacy summary"}),
        line("response_item", item("d")),
    )
    assert result.history == [item("a"), summary, item("c"), item("d")]
    assert [c["message"] for c in result.compactions] == ["m", "legacy summary"]


def test_tool_calls_without_output_are_dropped_with_a_warning() -> None:
    def call(kind: str, call_id: str) -> dict[str, Any]:
        return {"type": kind, "name": "tool", "call_id": call_id}

    def output(kind: str, call_id: str) -> dict[str, Any]:
        return {"type": kind, "call_id": call_id, "output": "done"}

    items = [
        call("function_call", "f1"),
        output("function_call_output", "f1"),
        call("custom_tool_call", "c1"),
        output("custom_tool_call_output", "c1"),
        output("function_call_output", "ghost"),
        {"type": "local_shell_call", "call_id": "s1", "action": {}},
        call("function_call", "f2"),
        item("interrupted"),
    ]
    result = parse_lines(META, *(line("response_item", i) for i in items))
    assert result.history == [*items[:4], item("interrupted")]
    assert result.dropped_call_ids == ["ghost", "s1", "f2"]
    assert result.warnings == [
        "dropped function_call_output ghost: its call is not in the history",
        "dropped local_shell_call s1: its output was never recorded",
        "dropped function_call f2: its output was never recorded",
    ]


def test_read_rollout_reads_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(FIXTURE.read_bytes())
    assert read_rollout(path) == read_rollout(FIXTURE)


def test_warnings_are_capped_and_the_rest_counted() -> None:
    garbage = [f"{{garbage {n}" for n in range(500)]  # each looks like a record start
    result = parse_lines(META, *garbage, line("response_item", item("a")))
    assert result.history == [item("a")]
    assert len(result.warnings) == reader_module.MAX_WARNINGS + 1
    assert result.warnings[0] == "line 2: invalid JSON, skipped"
    assert result.warnings[-1] == "... and 400 more warnings"
    assert result.suppressed_warnings == 400
