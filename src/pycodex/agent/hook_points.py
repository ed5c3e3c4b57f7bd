"""Where a thread's turns meet `pycodex.hooks`: the events the engine fires and the effects it
applies. Imported only when hooks, `notify` or `--dangerously-bypass-hook-trust` are in use.

- the first turn: SessionStart (`startup`, or `resume`), or SubagentStart in a sub-agent; its
  context is recorded after the initial context, before the prompt
- each turn: UserPromptSubmit (block: nothing goes to the model; context after the prompt)
- each tool call: PreToolUse / PostToolUse (`agent.hook_tools`), PermissionRequest before an
  approval question
- the model's final answer: Stop, or SubagentStop (block: the turn goes on with the reason)
- compaction: PreCompact / PostCompact; the end of a root thread: SessionEnd
- after each turn of a root thread: the `notify` program

No hook can break a turn: its failures become `HookReport` events and the turn goes on.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycodex._records import dataclass, field
from pycodex.agent.hook_tools import HookTool, ToolHooks
from pycodex.hooks import payloads
from pycodex.hooks.discovery import HookDiscovery, discover_hooks
from pycodex.hooks.events import HookEventName
from pycodex.hooks.outcomes import Continuation, HookOutcome
from pycodex.hooks.payloads import HookContext
from pycodex.hooks.runtime import HookRuntime
from pycodex.protocol import events as ev
from pycodex.protocol.items import (
    ContentPart,
    InputText,
    Message,
    ResponseItem,
    developer_message,
)

if TYPE_CHECKING:
    from pycodex.agent.approvals import ApprovalRequest
    from pycodex.agent.state import Emit, ThreadState
    from pycodex.config import Config
    from pycodex.protocol.ops import ReviewDecision

BYPASS_WARNINGS = (
    "`--dangerously-bypass-hook-trust` is enabled: every enabled hook runs without a trust "
    "check. Use it only with hooks you have read.",
    "`--dangerously-bypass-hook-trust` is enabled: {count} untrusted hook(s) will run; trust "
    "them with `pycodex hooks trust` to stop needing the flag.",
)


def hooks_enabled(config: Config) -> bool:
    features = config.features
    return features.get("hooks", features.get("codex_hooks", True))


@dataclass
class HookSetup:
    """What a process found once: the hooks that may run, notify, and what to tell the user."""

    config: Config
    originator: str
    discovery: HookDiscovery = field(default_factory=HookDiscovery)
    # Lines for stderr at start-up (bad files, skipped untrusted hooks); taken once.
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, config: Config, originator: str) -> HookSetup:
        setup = cls(config, originator)
        if hooks_enabled(config):
            setup.discovery = discover_hooks(
                config.codex_home, config.hooks, bypass_trust=config.bypass_hook_trust
            )
            setup.warnings = [*setup.discovery.warnings, *_untrusted_notice(setup)]
        return setup

    def take_warnings(self) -> list[str]:
        warnings, self.warnings = self.warnings, []
        return warnings

    def for_thread(self, state: ThreadState, parent_transcript: Path | None) -> ThreadHooks:
        handlers = self.discovery.handlers
        runtime = HookRuntime(handlers, state.context.cwd) if handlers else None
        return ThreadHooks(self, runtime, parent_transcript, resumed=bool(state.context.history))


def _untrusted_notice(setup: HookSetup) -> list[str]:
    if setup.config.bypass_hook_trust:
        return []
    skipped = setup.discovery.untrusted
    if not skipped:
        return []
    events = ", ".join(sorted({entry.event for entry in skipped}))
    files = ", ".join(sorted({str(entry.source_path) for entry in skipped}))
    return [
        f"{len(skipped)} hook(s) not trusted, so they do not run ({events}; in {files}); "
        "review and trust them with `pycodex hooks`"
    ]


@dataclass
class TurnInput:
    """Context the start of a turn adds around the user's prompt."""

    before_prompt: list[ResponseItem] = field(default_factory=list)
    after_prompt: list[ResponseItem] = field(default_factory=list)


class ThreadHooks:
    """One thread's hooks: the shared setup, its own runner, what its turns have done."""

    def __init__(
        self,
        setup: HookSetup,
        runtime: HookRuntime | None,
        parent_transcript: Path | None,
        *,
        resumed: bool,
    ) -> None:
        self.setup = setup
        self.runtime = runtime
        self.parent_transcript = parent_transcript
        self._resumed = resumed
        self._started = False
        self._start_context: list[ResponseItem] = []
        self._stop_turn: str | None = None  # the turn a Stop hook already continued
        # Calls running now, by call id: their hook view and turn (for PermissionRequest).
        self.inflight: dict[str, tuple[HookTool, str]] = {}

    @property
    def asks_permission(self) -> bool:
        return self.runtime is not None and self.runtime.has("PermissionRequest")

    def context(self, state: ThreadState) -> HookContext:
        identity = state.identity
        child = identity.is_subagent
        return HookContext(
            session_id=state.session_id,
            cwd=state.context.cwd,
            model=state.client.settings.model,
            permission_mode=payloads.permission_mode(state.context.approval_policy.value),
            transcript_path=state.rollout_path,
            agent_id=state.thread_id if child else None,
            agent_type=(identity.agent_role or "default") if child else None,
        )

    async def _run(
        self,
        event: HookEventName,
        payload: dict[str, Any],
        emit: Emit,
        names: Sequence[str] = (),
    ) -> HookOutcome:
        if self.runtime is None or not self.runtime.has(event):
            return HookOutcome()
        try:
            outcome = await self.runtime.run(event, payload, names)
        except Exception as err:  # no more processes, or a bug: never the end of the turn
            outcome = HookOutcome(reports=[f"{event} hooks could not run: {err}"])
        for line in outcome.reports:
            emit(ev.HookReport(line))
        return outcome

    # --- turns ------------------------------------------------------------------------------

    async def before_turn(
        self, state: ThreadState, turn_id: str, user_input: Sequence[ResponseItem], emit: Emit
    ) -> TurnInput | None:
        """SessionStart or SubagentStart (first turn), then UserPromptSubmit; None when a
        hook blocked the prompt."""
        context = self.context(state)
        if not self._started:
            self._started = True
            self._start_context = await self._thread_start(state, context, turn_id, emit)
        prompt = "\n".join(_text(item) for item in user_input)
        payload = payloads.user_prompt_submit(context, turn_id, prompt)
        outcome = await self._run("UserPromptSubmit", payload, emit)
        if outcome.blocked or outcome.stop:
            return None  # the start context waits for the first prompt that goes through
        found = TurnInput(self._start_context, [developer_message(t) for t in outcome.contexts])
        self._start_context = []
        return found

    async def _thread_start(
        self, state: ThreadState, context: HookContext, turn_id: str, emit: Emit
    ) -> list[ResponseItem]:
        if state.identity.is_subagent:
            payload = payloads.subagent_start(context, turn_id)
            outcome = await self._run("SubagentStart", payload, emit)
        else:
            if self.setup.config.bypass_hook_trust:
                count = len(self.setup.discovery.untrusted)
                for text in BYPASS_WARNINGS:
                    emit(ev.Warning(text.format(count=count)))
            source = "resume" if self._resumed else "startup"
            payload = payloads.session_start(context, source)
            outcome = await self._run("SessionStart", payload, emit, names=(source,))
        return [developer_message(text) for text in outcome.contexts]

    def tools(self, state: ThreadState, turn_id: str, emit: Emit) -> ToolHooks:
        return ToolHooks(self, state, turn_id, emit)

    async def run_tool_event(
        self,
        state: ThreadState,
        event: HookEventName,
        turn_id: str,
        tool: HookTool,
        call_id: str | None,
        emit: Emit,
        *,
        response: Any = None,
    ) -> HookOutcome:
        payload = payloads.tool_use(
            self.context(state), event, turn_id, tool_name=tool.name,
            tool_input=tool.tool_input, tool_use_id=call_id, tool_response=response,
        )  # fmt: skip
        return await self._run(event, payload, emit, names=tool.names)

    async def stop(
        self, state: ThreadState, turn_id: str, last_message: str | None, emit: Emit
    ) -> ResponseItem | None:
        """Stop (SubagentStop in a sub-agent) when the model answered without tool calls: the
        `<hook_prompt>` message to continue the turn with, or None to end it."""
        context = self.context(state)
        active = self._stop_turn == turn_id
        if state.identity.is_subagent:
            event: HookEventName = "SubagentStop"
            payload = payloads.subagent_stop(
                context, turn_id, parent_transcript=self.parent_transcript, active=active,
                last_message=last_message,
            )  # fmt: skip
        else:
            event = "Stop"
            payload = payloads.stop(context, turn_id, active=active, last_message=last_message)
        outcome = await self._run(event, payload, emit)
        if outcome.stop or not outcome.continuations:
            return None
        self._stop_turn = turn_id
        return hook_prompt(outcome.continuations)

    async def compaction(
        self, state: ThreadState, turn_id: str, manual: bool, emit: Emit, *, done: bool
    ) -> None:
        event: HookEventName = "PostCompact" if done else "PreCompact"
        trigger = "manual" if manual else "auto"
        payload = payloads.compaction(self.context(state), event, turn_id, trigger)
        await self._run(event, payload, emit, names=(trigger,))

    async def permission(
        self, state: ThreadState, emit: Emit, request: ApprovalRequest
    ) -> ReviewDecision | None:
        """PermissionRequest before the user is asked: "approved", "denied", or None to ask."""
        tool, turn_id = self.inflight.get(request.call_id, (None, ""))
        if tool is None:
            command = request.command if isinstance(request, ev.ExecApprovalRequest) else ""
            tool = HookTool("Bash", (), {"command": command})
        outcome = await self.run_tool_event(state, "PermissionRequest", turn_id, tool, None, emit)
        if outcome.permission == "deny":
            emit(ev.HookReport(f"PermissionRequest hook denied it: {outcome.deny_message}"))
            return "denied"
        return "approved" if outcome.permission == "allow" else None

    async def session_end(self, state: ThreadState, emit: Emit) -> None:
        if not state.identity.is_subagent:
            payload = payloads.session_end(self.context(state), "other")
            await self._run("SessionEnd", payload, emit)
        if self.runtime is not None:
            await self.runtime.close()

    def turn_finished(
        self, state: ThreadState, turn_id: str, prompts: Sequence[str], last_message: str | None
    ) -> str | None:
        """Start the `notify` program for a root thread's finished turn; a problem, or None."""
        argv = self.setup.config.notify
        if not argv or state.identity.is_subagent:
            return None
        from pycodex.hooks.notify import TurnNotice, notify

        notice = TurnNotice(
            thread_id=state.thread_id,
            turn_id=turn_id,
            cwd=state.context.cwd,
            client=self.setup.originator,
            input_messages=tuple(prompts),
            last_assistant_message=last_message,
        )
        try:
            notify(argv, notice)
        except OSError as err:
            return f"notify program {argv[0]!r} could not start: {err.strerror or err}"
        return None


def hook_prompt(continuations: Sequence[Continuation]) -> Message:
    """The user message a blocking Stop hook continues the turn with, one part per hook."""
    parts: list[ContentPart] = [
        InputText(
            text=f'<hook_prompt hook_run_id="{html.escape(item.run_id)}">'
            f"{html.escape(item.reason, quote=False)}</hook_prompt>"
        )
        for item in continuations
    ]
    return Message(role="user", content=parts)


def _text(item: ResponseItem) -> str:
    text = getattr(item, "text", "")
    return text if isinstance(text, str) else ""
