"""The ContextManager: the first request as a snapshot, per-turn updates, cache stability."""

from __future__ import annotations

import itertools
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from context_fixtures import FIXED_DATE, FixtureRepo

from pycodex.client.request import ModelSettings, Prompt, RequestContext, build_responses_body
from pycodex.context.manager import ContextManager
from pycodex.protocol.items import (
    FunctionCall,
    FunctionCallOutput,
    Message,
    OutputText,
    Reasoning,
    SummaryText,
    parse_item,
    user_message,
)
from pycodex.protocol.policies import AskForApproval, SandboxPolicy

SNAPSHOT = Path(__file__).parent / "snapshots" / "first_request.json"


def first_request_body(manager: ContextManager, prompt: str) -> dict[str, Any]:
    """The body the client would send for the first turn, built by the client's own builder."""
    manager.record([*manager.turn_context_items(), user_message(prompt)])
    info = manager.model_info
    assert info is not None
    settings = ModelSettings(info.slug, info.reasoning_effort, info.reasoning_summary)
    request = RequestContext("thread-1", "thread-1", "turn-1", "request-1")
    prompt_ = Prompt(input=manager.prompt_input(), instructions=manager.base_instructions)
    return build_responses_body(prompt_, settings, request)


def test_first_request_matches_the_snapshot(fixture_repo: FixtureRepo) -> None:
    manager = ContextManager.from_config(fixture_repo.config(), today=lambda: FIXED_DATE)
    body = first_request_body(manager, "Add a --verbose flag.")
    text = json.dumps(body, indent=2, ensure_ascii=False).replace(str(fixture_repo.root), "<TMP>")
    if os.environ.get("PYCODEX_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == SNAPSHOT.read_text(encoding="utf-8")


def test_first_turn_layout(fixture_repo: FixtureRepo) -> None:
    manager = ContextManager.from_config(fixture_repo.config(), today=lambda: FIXED_DATE)
    developer, user = manager.turn_context_items()
    assert isinstance(developer, Message) and isinstance(user, Message)
    assert developer.role == "developer" and user.role == "user"
    sections = [part.text.split("\n", 1)[0] for part in developer.content]  # type: ignore[union-attr]
    assert sections == ["<permissions>", "<skills>"]
    first_lines = [part.text.split("\n", 1)[0] for part in user.content]  # type: ignore[union-attr]
    assert first_lines == [
        f"# AGENTS.md instructions for {fixture_repo.cwd}",
        "<environment_context>",
    ]
    assert manager.warnings == [
        f"skill {fixture_repo.codex_home / 'skills/broken/SKILL.md'} skipped: "
        "does not start with a '---' front matter line"
    ]


def test_developer_instructions_and_plan_mode_join_the_developer_message(
    fixture_repo: FixtureRepo,
) -> None:
    config = fixture_repo.config(developer_instructions="Prefer small commits.")
    manager = ContextManager.from_config(config)
    manager.collaboration_mode = "plan"
    developer = manager.turn_context_items()[0]
    texts = [part.text for part in developer.content]  # type: ignore[union-attr]
    assert texts[1] == "Prefer small commits."
    assert texts[2].startswith("<collaboration_mode>\nCollaboration mode: plan.")
    assert "Do not edit, create or delete files" in texts[2]


def test_nothing_is_added_when_nothing_changed(fixture_repo: FixtureRepo) -> None:
    manager = ContextManager.from_config(fixture_repo.config(), today=lambda: FIXED_DATE)
    manager.record([*manager.turn_context_items(), user_message("one")])
    assert manager.turn_context_items() == []


def test_changes_are_appended_not_rewritten(fixture_repo: FixtureRepo) -> None:
    today = [FIXED_DATE]
    manager = ContextManager.from_config(fixture_repo.config(), today=lambda: today[0])
    manager.record([*manager.turn_context_items(), user_message("one")])
    before = manager.history
    today[0] = date(2025, 3, 15)
    update = manager.turn_context_items()
    assert len(update) == 1 and isinstance(update[0], Message)
    assert "<current_date>2025-03-15</current_date>" in update[0].text
    manager.record([*update, user_message("two")])
    assert manager.history[: len(before)] == before

    manager.approval_policy = AskForApproval.NEVER
    manager.sandbox_policy = SandboxPolicy.full_access()
    developer, environment = manager.turn_context_items()
    assert isinstance(developer, Message) and developer.role == "developer"
    assert developer.text.startswith("<permissions>\nSandbox: none")
    assert "<approval_policy>never</approval_policy>" in environment.text  # type: ignore[union-attr]


def test_collaboration_mode_switches_are_announced_once(fixture_repo: FixtureRepo) -> None:
    manager = ContextManager.from_config(fixture_repo.config(), today=lambda: FIXED_DATE)
    manager.record([*manager.turn_context_items(), user_message("one")])
    manager.collaboration_mode = "plan"
    (plan,) = manager.turn_context_items()
    assert plan.text.startswith("<collaboration_mode>\nCollaboration mode: plan.")  # type: ignore[union-attr]
    manager.record([plan, user_message("two")])
    assert manager.turn_context_items() == []
    manager.collaboration_mode = "default"
    (back,) = manager.turn_context_items()
    assert back.text.startswith("<collaboration_mode>\nCollaboration mode: default.")  # type: ignore[union-attr]


def test_unknown_collaboration_mode_is_refused() -> None:
    manager = ContextManager(base_instructions="x")
    try:
        manager.collaboration_mode = "yolo"  # type: ignore[assignment]
    except ValueError as err:
        assert "unknown collaboration mode 'yolo'" in str(err)
    else:
        raise AssertionError("expected ValueError")


def test_each_request_is_a_byte_prefix_of_the_next(fixture_repo: FixtureRepo) -> None:
    manager = ContextManager.from_config(fixture_repo.config(), today=lambda: FIXED_DATE)
    requests: list[str] = []

    def send() -> None:
        requests.append(json.dumps([item.to_wire() for item in manager.prompt_input()]))

    for turn in range(3):
        manager.record([*manager.turn_context_items(), user_message(f"task {turn}")])
        send()
        call = FunctionCall(name="exec_command", arguments='{"cmd":"ls"}', call_id=f"c{turn}")
        reasoning = Reasoning(id=f"rs_{turn}", summary=[SummaryText(text="look")])
        manager.record([reasoning, call])
        send()
        manager.record([FunctionCallOutput(call_id=f"c{turn}", output="a\nb")])
        send()
        manager.record([Message(role="assistant", content=[OutputText(text=f"done {turn}")])])
    # a resumed thread continues from its recorded history and stays a prefix-extension
    resumed = ContextManager.from_config(fixture_repo.config(), today=lambda: FIXED_DATE)
    resumed.replace_history([parse_item(i.to_wire()) for i in manager.history])
    resumed.record([*resumed.turn_context_items(), user_message("after resume")])
    requests.append(json.dumps([item.to_wire() for item in resumed.prompt_input()]))
    for previous, current in itertools.pairwise(requests):
        assert current.startswith(previous.removesuffix("]"))
        assert len(current) > len(previous)


def test_library_defaults_read_no_project_files(tmp_path: Path) -> None:
    manager = ContextManager(cwd=tmp_path, shell="/bin/bash")
    assert manager.base_instructions.startswith("You are pycodex")
    assert manager.model_info is None and manager.warnings == []
    developer, user = manager.turn_context_items()
    assert developer.text.startswith("<permissions>\nSandbox: read-only")  # type: ignore[union-attr]
    assert user.text.startswith("<environment_context>")  # type: ignore[union-attr]
