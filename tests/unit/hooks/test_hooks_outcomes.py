"""Reading handlers' answers: the forms upstream accepts, what is invalid, who wins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pycodex.hooks.discovery import HookEntry
from pycodex.hooks.outcomes import interpret
from pycodex.hooks.runner import HandlerRun


def entry(event: str = "PreToolUse", order: int = 0) -> HookEntry:
    return HookEntry(
        key="k", event=event, matcher=None, command="cmd", timeout_s=5,  # type: ignore[arg-type]
        is_async=False, status_message=None, source_path=Path("/c/config.toml"),
        display_order=order, enabled=True, current_hash="h", trust="trusted", runnable=True,
    )  # fmt: skip


def run(
    stdout: Any = "", *, code: int = 0, stderr: str = "", order: int = 0, event: str = "PreToolUse"
) -> HandlerRun:
    text = stdout if isinstance(stdout, str) else json.dumps(stdout)
    return HandlerRun(entry(event), code, text, stderr, None, order)


def pre(**specific: Any) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", **specific}}


def test_the_rewrite_of_the_handler_that_finished_last_wins() -> None:
    first = run(pre(permissionDecision="allow", updatedInput={"command": "a"}), order=1)
    second = run(pre(permissionDecision="allow", updatedInput={"command": "b"}), order=0)
    assert interpret("PreToolUse", [first, second]).updated_input == {"command": "a"}


def test_a_deny_beats_rewrites_and_the_first_reason_is_given() -> None:
    outcome = interpret("PreToolUse", [
        run(pre(permissionDecision="allow", updatedInput={"command": "a"})),
        run(pre(permissionDecision="deny", permissionDecisionReason="first")),
        run(code=2, stderr="second\n"),
    ])  # fmt: skip
    assert outcome.block_reason == "first" and outcome.updated_input is None


def test_the_older_block_form_and_invalid_answers() -> None:
    assert interpret("PreToolUse", [run({"decision": "block", "reason": "old"})]).block_reason == (
        "old"
    )
    invalid = [
        pre(permissionDecision="deny"),  # no reason
        pre(updatedInput={"command": "x"}),  # no allow
        {"decision": "block"},  # no reason
        {"continue": "yes"},
        "[1, 2]",
        "{broken",
    ]
    for answer in invalid:
        outcome = interpret("PreToolUse", [run(answer)])
        assert not outcome.blocked and outcome.updated_input is None
        assert len(outcome.reports) == 1 and "invalid output" in outcome.reports[0], answer


def test_plain_text_is_context_only_where_upstream_reads_it() -> None:
    assert interpret("UserPromptSubmit", [run("note\n", event="UserPromptSubmit")]).contexts == [
        "note"
    ]
    assert interpret("PreToolUse", [run("note\n")]).contexts == []


def test_stop_blocks_join_and_each_hook_continues_with_its_run_id() -> None:
    outcome = interpret("Stop", [
        run({"decision": "block", "reason": "one"}, event="Stop"),
        run(code=2, stderr="two", event="Stop"),
    ])  # fmt: skip
    assert outcome.block_reason == "one\n\ntwo"
    assert [c.reason for c in outcome.continuations] == ["one", "two"]
    assert outcome.continuations[0].run_id == "stop:0:/c/config.toml"
    stopped = interpret("Stop", [run({"continue": False, "decision": "block", "reason": "x"},
                                     event="Stop")])  # fmt: skip
    assert stopped.stop and not stopped.continuations
