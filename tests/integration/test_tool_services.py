"""The thread's tool services: one typed record, wired by `build_thread`, handed to every tool.

The real engine and tools against the fake model server; the model asks the user a question
through `request_user_input`, and the scripted user's answer must reach the next request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

from pycodex.agent.build import build_thread
from pycodex.config import ConfigOverrides, resolve_config
from pycodex.protocol import events as ev
from pycodex.protocol.ops import Shutdown, UserTurn
from pycodex.tools.builtin.user_input import UserInputQuestion
from pycodex.tools.rules import RULES_FILE, format_rule
from pycodex.tools.services import ToolServices
from support import sse_builders as sse
from support.cli import cli_env
from support.fake_server import FakeModelServer

QUESTION = {
    "id": "db",
    "header": "Database",
    "question": "Which database?",
    "options": [{"label": "SQLite", "description": "No server."}],
}


class ScriptedUser:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ask(self, questions: Sequence[UserInputQuestion]) -> dict[str, str]:
        self.asked += [question.id for question in questions]
        return {question.id: question.options[0].label for question in questions}


async def test_build_thread_wires_one_typed_services_record(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    (home / RULES_FILE).parent.mkdir(parents=True)
    (home / RULES_FILE).write_text(format_rule(["make", "test"]) + "\n")
    config = resolve_config(ConfigOverrides(cwd=work), env=cli_env(home), codex_home=home)
    user = ScriptedUser()
    thread = build_thread(config, originator="test", source="test", user_input=user)
    services = thread.state.services
    assert isinstance(services, ToolServices)
    assert services.approvals is thread.engine.approvals
    assert services.user_input is user
    assert services.prefix_rules is not None
    assert services.prefix_rules.allows(["make", "test", "-j2"])
    assert services.unified_exec is not None

    call = sse.function_call("request_user_input", json.dumps({"questions": [QUESTION]}))
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("SQLite it is"))
    runner = asyncio.create_task(thread.engine.run())
    thread.engine.submit(UserTurn.text("set up storage"))
    async for event in thread.engine.events():
        if isinstance(event, ev.TurnComplete | ev.TurnAborted):
            thread.engine.submit(Shutdown())
    await runner
    await thread.aclose()

    assert user.asked == ["db"]
    outputs = [
        item["output"]
        for item in fake_server.requests[1].json()["input"]
        if item["type"] == "function_call_output"
    ]
    assert outputs == ['{"answers": {"db": "SQLite"}}']
