"""Phase two: the consolidation agent, and the checks its summary must pass.

The agent is an internal thread started through the thread manager, with its own thread and
session id (so its own `prompt_cache_key`), source `memory_consolidation`, and no session file.
It runs confined to the memory folder:

- cwd = the memory folder; sandbox `workspace-write` whose only writable root is that folder
  (no `/tmp`, no `$TMPDIR`, no network; `.git`, `.agents`, `.codex` inside it stay read-only);
- approval `never`: nothing can be escalated, a refused write is reported to the model;
- no sub-agents, no MCP servers, no web search, no project AGENTS.md, no memories of its own;
- model `[memories] consolidation_model`, else the session's model.

Its only task is `memory_summary.md`; `summary_problem` decides whether the result is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from pycodex._records import dataclass, replace
from pycodex.agent.identity import MEMORY_CONSOLIDATION, ThreadIdentity
from pycodex.agent.threads import ThreadManager
from pycodex.config import Config, SandboxWorkspaceWrite
from pycodex.memories.layout import MemoryPaths
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ApprovalDecision, Op, Shutdown, UserTurn
from pycodex.protocol.policies import AskForApproval, SandboxMode

SUMMARY_VERSION_LINE = "v1"
REQUIRED_HEADINGS = (
    "## User Profile",
    "## User preferences",
    "## General Tips",
    "## What's in Memory",
)
MAX_SUMMARY_BYTES = 10_000
AGENT_TIMEOUT_S = 30 * 60.0


@dataclass(frozen=True)
class AgentOutcome:
    thread_id: str
    # None when the agent's turn completed; otherwise why it did not.
    failure: str | None
    last_message: str | None = None


def agent_config(config: Config, paths: MemoryPaths) -> Config:
    """The session's configuration, locked down for the consolidation agent."""
    return replace(
        config,
        cwd=paths.root,
        model=config.memories.consolidation_model or config.model,
        approval_policy=AskForApproval.NEVER,
        sandbox_mode=SandboxMode.WORKSPACE_WRITE,
        sandbox_workspace_write=SandboxWorkspaceWrite(
            writable_roots=(),
            network_access=False,
            exclude_tmpdir_env_var=True,
            exclude_slash_tmp=True,
        ),
        additional_writable_roots=(),
        ephemeral=True,
        memories=replace(config.memories, generate_memories=False, use_memories=False),
        features={**config.features, "multi_agent": False},
        mcp_servers={},
        web_search="disabled",
        developer_instructions=None,
        # Project AGENTS.md files are about projects, not this folder (the global one applies).
        project_doc_max_bytes=0,
        output_schema=None,
        notify=None,
    )


def consolidation_prompt(paths: MemoryPaths) -> str:
    from pycodex.memories.prompts import read_memory_prompt

    return read_memory_prompt("consolidation.md").format(
        memory_root=paths.root, diff_file=paths.diff_file.name
    )


async def run_agent(
    config: Config, paths: MemoryPaths, *, originator: str, timeout_s: float = AGENT_TIMEOUT_S
) -> AgentOutcome:
    """Run the consolidation agent's one turn to its end (or `timeout_s`)."""
    confined = agent_config(config, paths)
    manager = ThreadManager(confined, originator=originator)
    thread = manager.start_thread(
        source=MEMORY_CONSOLIDATION,
        config=confined,
        identity=ThreadIdentity(thread_source=MEMORY_CONSOLIDATION),
    )
    engine = thread.engine
    runner = asyncio.create_task(engine.run())
    engine.submit(UserTurn.text(consolidation_prompt(paths)))
    watch = _Watch()
    try:
        async with asyncio.timeout(timeout_s):
            async for event in engine.events():
                watch.see(event, engine.submit)
    except TimeoutError:
        watch.failure = f"the agent did not finish within {timeout_s:.0f} s"
        engine.submit(Shutdown())
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    finally:
        await runner
        await manager.shutdown()
    return AgentOutcome(thread.thread_id, watch.failure, watch.last_message)


class _Watch:
    """Follows the agent's events: answers approvals (none can be granted) and notes how the
    turn ended."""

    def __init__(self) -> None:
        self.failure: str | None = "the agent stopped before finishing its turn"
        self.last_message: str | None = None
        self._last_error: str | None = None

    def see(self, event: ev.EngineEvent, submit: Callable[[Op], None]) -> None:
        match event:
            case ev.ExecApprovalRequest() | ev.PatchApprovalRequest():
                submit(ApprovalDecision(event.call_id, "denied"))
            case ev.Error(message=message):
                self._last_error = message
            case ev.TurnComplete(failed=failed, last_agent_message=message):
                self.failure = (self._last_error or "the turn failed") if failed else None
                self.last_message = message
                submit(Shutdown())
            case ev.TurnAborted():
                self.failure = "the agent's turn was aborted"
                submit(Shutdown())
            case _:
                pass


def summary_problem(paths: MemoryPaths) -> str | None:
    """Why `memory_summary.md` cannot be accepted, or None: it must exist, be under
    `MAX_SUMMARY_BYTES`, start with the line `v1` and hold the four headings as lines."""
    try:
        data = paths.summary.read_bytes()
    except FileNotFoundError:
        return "memory_summary.md was not written"
    except OSError as err:
        return f"memory_summary.md cannot be read: {err.strerror}"
    if len(data) >= MAX_SUMMARY_BYTES:
        return f"memory_summary.md has {len(data)} bytes; it must stay under {MAX_SUMMARY_BYTES}"
    lines = [line.rstrip() for line in data.decode("utf-8", "replace").splitlines()]
    if not lines or lines[0] != SUMMARY_VERSION_LINE:
        return f"memory_summary.md must start with the line {SUMMARY_VERSION_LINE!r}"
    missing = [heading for heading in REQUIRED_HEADINGS if heading not in lines]
    if missing:
        return f"memory_summary.md lacks the heading {missing[0]!r}"
    return None
