"""Approval flows end to end: the real engine, tools and sandbox, the fake model server, and a
scripted user answering the approval events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.agent.build import build_thread
from pycodex.config import ConfigOverrides, resolve_config
from pycodex.execution.sandbox import sandbox_status
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ApprovalDecision, ReviewDecision, Shutdown, UserTurn
from pycodex.tools.rules import RULES_FILE
from support import sse_builders as sse
from support.cli import cli_env, run_cli
from support.fake_server import FakeModelServer

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason="no sandbox mechanism on this machine"
)


def command_call(cmd: str, call_id: str = "c1", **extra: Any) -> dict[str, Any]:
    args = {"cmd": cmd, "login": False, **extra}
    return sse.function_call("exec_command", json.dumps(args), call_id=call_id, id=f"fc_{call_id}")


async def run_turn(
    home: Path, work: Path, approval: str, answers: list[ReviewDecision], sandbox: str = "read-only"
) -> list[ev.EngineEvent]:
    config = resolve_config(
        ConfigOverrides(
            cwd=work,
            cli_overrides=[("approval_policy", approval), ("sandbox_mode", sandbox)],
        ),
        env=cli_env(home),
        codex_home=home,
    )
    thread = build_thread(config, originator="test", source="test")
    engine = thread.engine
    runner = asyncio.create_task(engine.run())
    engine.submit(UserTurn.text("go"))
    seen: list[ev.EngineEvent] = []
    async for event in engine.events():
        seen.append(event)
        if isinstance(event, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
            engine.submit(ApprovalDecision(event.call_id, answers.pop(0)))
        if isinstance(event, ev.TurnComplete | ev.TurnAborted):
            engine.submit(Shutdown())
    await runner
    await thread.aclose()
    return seen


def output_of(server: FakeModelServer, index: int, call_id: str = "c1") -> str:
    for item in server.requests[index].json()["input"]:
        if item.get("call_id") == call_id and item["type"].endswith("_output"):
            return str(item["output"])
    raise AssertionError(f"no output for {call_id}")


def requests_of(events: list[ev.EngineEvent]) -> list[ev.ExecApprovalRequest]:
    return [e for e in events if isinstance(e, ev.ExecApprovalRequest)]


@pytest.mark.parametrize(("answer", "written"), [("approved", True), ("denied", False)])
async def test_escalation_on_request(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path,
    answer: ReviewDecision, written: bool,
) -> None:  # fmt: skip
    target = tmp_path / "outside.txt"
    call = command_call(f"touch {target}", sandbox_permissions="require_escalated",
                        justification="needs to write outside")  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await run_turn(home, work, "on-request", [answer])
    (request,) = requests_of(events)
    assert request.escalated and request.reason == "needs to write outside"
    assert target.exists() is written
    output = output_of(fake_server, 1)
    if written:
        assert "Process exited with code 0" in output
    else:
        assert "the user did not allow this" in output
        ends = [e for e in events if isinstance(e, ev.ExecCommandEnd)]
        assert ends[0].status == "declined"


async def test_always_is_persisted_and_honoured_next_time(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    target = tmp_path / "rule.txt"
    call = command_call(f"touch {target}", sandbox_permissions="require_escalated",
                        prefix_rule=["touch"])  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    first = await run_turn(home, work, "on-request", ["approved_always"])
    assert len(requests_of(first)) == 1 and target.exists()
    rules = (home / RULES_FILE).read_text()
    assert rules == 'prefix_rule(pattern=["touch"], decision="allow")\n'
    target.unlink()
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    second = await run_turn(home, work, "on-request", [])
    assert requests_of(second) == [] and target.exists()


async def test_never_refuses_escalation_without_asking(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    call = command_call(f"touch {tmp_path / 'x'}", sandbox_permissions="require_escalated")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await run_turn(home, work, "never", [])
    assert requests_of(events) == []
    assert "escalation refused" in output_of(fake_server, 1)
    assert not (tmp_path / "x").exists()


async def test_untrusted_asks_for_all_but_known_safe_commands(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    calls = [command_call("ls", "c1"), command_call("touch made.txt", "c2")]
    fake_server.expect_sse("/v1/responses", sse.tool_calls(*calls))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await run_turn(home, work, "untrusted", ["approved"], sandbox="workspace-write")
    (request,) = requests_of(events)
    assert request.command.endswith("'touch made.txt'") and not request.escalated
    assert (work / "made.txt").exists()


async def test_patch_outside_roots_asks(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    patch = "*** Begin Patch\n*** Add File: ../elsewhere.txt\n+hi\n*** End Patch\n"
    fake_server.expect_sse(
        "/v1/responses", sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id="c1"))
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await run_turn(home, work, "on-request", ["approved"], sandbox="workspace-write")
    (request,) = [e for e in events if isinstance(e, ev.PatchApprovalRequest)]
    assert request.changes[0].path.endswith("elsewhere.txt")
    assert (tmp_path / "elsewhere.txt").read_text() == "hi\n"


def test_exec_denies_what_it_cannot_ask(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    call = command_call(f"touch {tmp_path / 'y'}", sandbox_permissions="require_escalated")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    result = run_cli(
        ["exec", "--json", "--skip-git-repo-check", "-c", 'approval_policy="on-request"', "go"],
        codex_home=home, cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "the user did not allow this" in output_of(fake_server, 1)
    assert not (tmp_path / "y").exists()
    (item,) = [e["item"] for e in result.events() if e["type"] == "item.completed"
               and e["item"]["type"] == "command_execution"]  # fmt: skip
    assert item["status"] == "declined"


def test_rules_are_listed_and_revocable(home: Path, work: Path) -> None:
    (home / RULES_FILE).parent.mkdir(parents=True)
    (home / RULES_FILE).write_text(
        '# mine\nprefix_rule(pattern=["npm", "run", "build"], decision="allow")\n'
        'prefix_rule(pattern=["make"], decision="allow")\n'
    )
    listed = run_cli(["rules"], codex_home=home, cwd=work)
    assert listed.stdout == "npm run build\nmake\n"
    removed = run_cli(["rules", "remove", "npm", "run", "build"], codex_home=home, cwd=work)
    assert removed.returncode == 0
    assert (home / RULES_FILE).read_text() == (
        '# mine\nprefix_rule(pattern=["make"], decision="allow")\n'
    )
    missing = run_cli(["rules", "remove", "npm"], codex_home=home, cwd=work)
    assert missing.returncode == 1


async def test_a_saved_rule_does_not_cover_a_second_command(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    # `ls` is allowed for good; `ls\ntouch ...` asking for escalation must still be asked.
    (home / RULES_FILE).parent.mkdir(parents=True)
    (home / RULES_FILE).write_text('prefix_rule(pattern=["ls"], decision="allow")\n')
    target = tmp_path / "outside" / "x"
    target.parent.mkdir()
    call = command_call(f"ls\ntouch {target}", sandbox_permissions="require_escalated")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await run_turn(home, work, "on-request", ["denied"], sandbox="workspace-write")
    (request,) = requests_of(events)
    assert request.escalated and request.proposed_prefix == ()
    assert not target.exists()


async def test_untrusted_asks_for_commands_that_run_others_or_several(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    calls = [
        command_call("env touch a.txt", "c1"),
        command_call("ls\ntouch b.txt", "c2"),
        command_call("ls -la", "c3"),
    ]
    fake_server.expect_sse("/v1/responses", sse.tool_calls(*calls))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    answers: list[ReviewDecision] = ["denied", "denied"]
    events = await run_turn(home, work, "untrusted", answers, sandbox="workspace-write")
    assert [r.call_id for r in requests_of(events)] == ["c1", "c2"]
    assert not (work / "a.txt").exists() and not (work / "b.txt").exists()


PROTECTED_PATCH = "*** Begin Patch\n*** Add File: .git/hooks/pre-commit\n+evil\n*** End Patch\n"


async def test_patch_into_git_is_rejected_under_never(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    (work / ".git" / "hooks").mkdir(parents=True)
    call = sse.custom_tool_call("apply_patch", PROTECTED_PATCH, call_id="c1")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await run_turn(home, work, "never", [], sandbox="workspace-write")
    assert [e for e in events if isinstance(e, ev.PatchApprovalRequest)] == []
    output = output_of(fake_server, 1)
    assert "patch rejected: .git/hooks/pre-commit" in output
    assert "nobody can allow it" in output
    assert not (work / ".git" / "hooks" / "pre-commit").exists()


async def test_patch_into_git_is_put_to_the_user_under_on_request(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    call = sse.custom_tool_call("apply_patch", PROTECTED_PATCH, call_id="c1")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await run_turn(home, work, "on-request", ["denied"], sandbox="workspace-write")
    (request,) = [e for e in events if isinstance(e, ev.PatchApprovalRequest)]
    assert "stays read-only" in (request.reason or "")
    assert not (work / ".git").exists()
