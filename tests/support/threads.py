"""A `Config` for in-process thread-manager tests, aimed at the fake model server."""

from __future__ import annotations

import json
from pathlib import Path

from pycodex._records import replace
from pycodex.config import Config
from pycodex.config.agents import AgentsConfig
from pycodex.protocol.policies import AskForApproval, SandboxMode
from support import sse_builders as sse
from support.clients import fake_provider
from support.fake_server import FakeModelServer, user_message_contains

# The task of a sub-agent that runs `touch made-by-child` (in its cwd) and then answers CHILD-DONE.
TOUCH_TASK = "CHILD-TOUCH-TASK"


def manager_config(server: FakeModelServer, home: Path, **agents: int) -> Config:
    """Ephemeral (no session files), approval `never`, the model unknown to the catalog."""
    return Config(
        codex_home=home,
        cwd=home,
        model="test-model",
        model_provider_id="fake",
        model_provider=fake_provider(server),
        approval_policy=AskForApproval.NEVER,
        ephemeral=True,
        agents=AgentsConfig(**agents),
        env={"FAKE_KEY": "k"},
    )


def asking_config(server: FakeModelServer, home: Path) -> Config:
    """`untrusted`: a command that is not known to be safe needs the user's yes."""
    return replace(
        manager_config(server, home),
        approval_policy=AskForApproval.UNTRUSTED,
        sandbox_mode=SandboxMode.DANGER_FULL_ACCESS,
        features={"unified_exec": True},
    )


def script_touching_child(server: FakeModelServer, *, finishes: bool = True) -> None:
    """The child runs `touch made-by-child`, then (when it `finishes`) answers CHILD-DONE."""
    when = user_message_contains(TOUCH_TASK)
    args = json.dumps({"cmd": "touch made-by-child", "login": False})
    command = sse.function_call("exec_command", args, call_id="k1")
    server.expect_sse("/v1/responses", sse.tool_calls(command), when=when)
    if finishes:
        server.expect_sse("/v1/responses", sse.assistant_reply("CHILD-DONE"), when=when)
