"""PermissionRequest hooks where approvals exist: a hook may allow or deny before the user is
asked; without an answer the question goes to the user as before. Run in-process through the
thread manager (as the REPL does) with approval `untrusted`, which asks for every command."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pycodex._records import replace
from pycodex.agent.threads import ThreadManager
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ApprovalDecision, Shutdown, UserTurn
from pycodex.protocol.policies import AskForApproval, SandboxMode
from support import sse_builders as sse
from support.fake_server import FakeModelServer
from support.hooks import HookKit
from support.threads import manager_config


def decision(behavior: str | None) -> str:
    if behavior is None:
        return ""
    answer: dict[str, Any] = {"behavior": behavior}
    if behavior == "deny":
        answer["message"] = "not on this machine"
    output = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": answer}}
    return json.dumps(output)


async def run_turn(fake_server: FakeModelServer, tmp_path: Path, behavior: str | None) -> tuple:
    kit = HookKit(tmp_path / "hooks")
    marker = tmp_path / "made"
    group = {
        "matcher": "Bash",
        "hooks": [{"type": "command", "command": kit.command("perm", stdout=decision(behavior))}],
    }
    config = replace(
        manager_config(fake_server, tmp_path),
        cwd=tmp_path,
        approval_policy=AskForApproval.UNTRUSTED,
        sandbox_mode=SandboxMode.DANGER_FULL_ACCESS,
        hooks={"PermissionRequest": [group]},
        bypass_hook_trust=True,
        features={"unified_exec": True},
    )  # fmt: skip
    args = json.dumps({"cmd": f"touch {marker}", "login": False})
    fake_server.expect_sse("/v1/responses", sse.tool_calls(
        sse.function_call("exec_command", args, call_id="c1")))  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("done"))
    manager = ThreadManager(config, originator="test")
    root = manager.start_thread(source="cli")
    engine = root.engine
    runner = asyncio.create_task(engine.run())
    engine.submit(UserTurn.text("go"))
    asked: list[ev.ExecApprovalRequest] = []
    async for event in engine.events():
        if isinstance(event, ev.ExecApprovalRequest):
            asked.append(event)
            engine.submit(ApprovalDecision(event.call_id, "denied"))
        if isinstance(event, ev.TurnComplete):
            engine.submit(Shutdown())
    await runner
    await manager.shutdown()
    output = json.loads(fake_server.requests[1].body_bytes)["input"][-1]["output"]
    return kit.payloads("perm"), asked, marker.exists(), output


@pytest.mark.parametrize(("behavior", "asked", "ran"), [
    ("allow", False, True), ("deny", False, False), (None, True, False),
])  # fmt: skip
async def test_a_permission_request_hook_answers_before_the_user_is_asked(
    fake_server: FakeModelServer, tmp_path: Path, behavior: str | None, asked: bool, ran: bool
) -> None:
    payloads, questions, made, output = await run_turn(fake_server, tmp_path, behavior)
    (payload,) = payloads
    assert payload["hook_event_name"] == "PermissionRequest"
    assert payload["tool_name"] == "Bash"
    assert payload["tool_input"] == {"command": f"touch {tmp_path / 'made'}"}
    assert payload["permission_mode"] == "default"
    assert "tool_use_id" not in payload and payload["turn_id"]
    assert bool(questions) is asked
    assert made is ran
    if not ran:
        assert "did not allow" in output
