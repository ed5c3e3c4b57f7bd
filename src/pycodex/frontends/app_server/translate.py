"""Engine events of one thread -> protocol notifications, in the order upstream sends them.

A turn reads: `thread/status/changed` (active), `turn/started`, the user message's
`item/started` + `item/completed`, then each item as the engine reports it (`item/started`,
deltas, `item/completed`), `thread/tokenUsage/updated` after every model response,
`thread/status/changed` (idle) and `turn/completed`. Items keep the ids the engine knows: the
model's output item id for messages and reasoning, the call id for tools.

The translator also keeps every turn of the thread (`turns`), for `thread/read` and resume.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from pycodex.frontends.app_server import wire
from pycodex.frontends.app_server.transport import now_ms
from pycodex.frontends.app_server.wire import Json, TurnRecord
from pycodex.protocol import events as ev
from pycodex.sessions.ids import new_random_id

Notify = Callable[[str, Json], None]

RETRY_INFO: Json = {"responseStreamDisconnected": {"httpStatusCode": None}}
_PLAN_STATUS = {"pending": "pending", "in_progress": "inProgress", "completed": "completed"}


class TurnTranslator:
    def __init__(self, thread_id: str, notify: Notify, turns: list[TurnRecord] | None = None):
        self.thread_id = thread_id
        self._notify = notify
        self.turns: list[TurnRecord] = turns or []
        self.active: TurnRecord | None = None
        self._input: dict[str, list[Json]] = {}
        self._open: dict[str, Json] = {}
        self._started_at: float = 0.0
        self._message_id: str | None = None
        self._reasoning_id: str | None = None
        self._compaction_id: str | None = None
        # A turn made up here to carry a manual compaction (the engine runs it outside a turn).
        self._synthetic = False

    # --- what the frontend tells the translator ------------------------------------------------

    def expect_turn(self, turn_id: str, content: list[Json]) -> None:
        """The user input of the turn `turn/start` just submitted."""
        self._input[turn_id] = content

    def steered(self, content: list[Json]) -> None:
        """Input added to the running turn: it shows as a user message of that turn."""
        if self.active is not None:
            self._whole_item(wire.user_message_item(new_random_id(), content))

    @property
    def synthetic(self) -> bool:
        """The active turn only carries a manual compaction."""
        return self._synthetic and self.active is not None

    def end_synthetic(self, status: wire.TurnStatus) -> None:
        """A manual compaction ended without saying so (it was interrupted)."""
        if self.synthetic:
            self._end_turn(status)

    def waiting_on_approval(self, waiting: bool) -> None:
        flags = ["waitingOnApproval"] if waiting else []
        self._thread_notify("thread/status/changed", {"status": wire.active(flags)})

    # --- events --------------------------------------------------------------------------------

    def process(self, event: ev.EngineEvent) -> None:
        match event:
            case ev.TurnStarted(turn_id=turn_id):
                self._start_turn(turn_id)
            case ev.AgentMessageDelta() | ev.AgentMessage():
                self._agent_message(event)
            case ev.ReasoningDelta() | ev.Reasoning():
                self._reasoning(event)
            case ev.ExecApprovalRequest() | ev.ExecCommandBegin():
                self._open_item(wire.command_item(event.call_id, event.command, event.cwd))
            case ev.ExecCommandOutputDelta(call_id=call_id, delta=delta):
                self._turn_notify(
                    "item/commandExecution/outputDelta", {"itemId": call_id, "delta": delta}
                )
            case ev.ExecCommandEnd():
                self._close_item(self._command_done(event))
            case ev.PatchApplyBegin() | ev.PatchApprovalRequest():
                self._open_item(wire.file_change_item(event.call_id, event.changes, "inProgress"))
            case ev.PatchApplyEnd():
                self._close_item(self._patch_done(event))
            case ev.PlanUpdated():
                self._plan(event)
            case ev.WebSearchBegin(call_id=call_id):
                self._open_item(wire.web_search_item(call_id, "", None))
            case ev.WebSearchEnd(call_id=call_id, query=query, action=action):
                self._close_item(wire.web_search_item(call_id, query, action))
            case ev.McpToolCallBegin() | ev.McpToolCallEnd():
                self._mcp_tool_call(event)
            case ev.CollabToolCallBegin():
                self._open_item(wire.collab_item(event, "inProgress"))
            case ev.CollabToolCallEnd(success=success):
                self._close_item(wire.collab_item(event, "completed" if success else "failed"))
            case ev.TokenCount():
                self._usage(event)
            case ev.CompactionStarted() | ev.CompactionCompleted() | ev.CompactionFailed():
                self._compaction(event)
            case ev.StreamRetry(message=message):
                self._error(wire.turn_error(message, RETRY_INFO), will_retry=True)
            case ev.Error(message=message, kind=kind, http_status=status):
                error = wire.turn_error(message, wire.error_info(kind, status))
                if self.active is not None:
                    self.active.error = error
                self._error(error, will_retry=False)
            case ev.Warning(message=message):
                self._notify("warning", {"threadId": self.thread_id, "message": message})
            case ev.HookReport(message=message):
                # What a hook said or did wrong is for the user, as a warning (exec: stderr).
                self._notify("warning", {"threadId": self.thread_id, "message": f"hook: {message}"})
            case ev.TurnComplete(failed=failed):
                self._end_turn("failed" if failed else "completed")
            case ev.TurnAborted():
                self._end_turn("interrupted")
            case (
                ev.SessionConfigured()
                | ev.ToolCallBegin()
                | ev.ToolCallEnd()
                | ev.McpToolApprovalRequest()  # its item is open already; the server asks
                | ev.ShutdownComplete()
            ):
                pass

    # --- turns ---------------------------------------------------------------------------------

    def _start_turn(self, turn_id: str) -> None:
        self._started_at = time.time()
        turn = TurnRecord(turn_id, started_at=int(self._started_at))
        self.active = turn
        self.turns.append(turn)
        self._thread_notify("thread/status/changed", {"status": wire.active()})
        self._thread_notify("turn/started", {"turn": wire.turn_json(turn, items="none")})
        content = self._input.pop(turn_id, None)
        if content is not None:
            self._whole_item(wire.user_message_item(new_random_id(), content))

    def _end_turn(self, status: wire.TurnStatus) -> None:
        turn = self.active
        if turn is None:
            return
        turn.status = status
        turn.completed_at = int(time.time())
        turn.duration_ms = int((time.time() - self._started_at) * 1000)
        self.active = None
        self._open.clear()
        self._message_id = self._reasoning_id = None
        self._synthetic = False
        self._thread_notify("thread/status/changed", {"status": wire.IDLE})
        shown: Literal["summary", "none"] = "summary" if status == "completed" else "none"
        self._thread_notify("turn/completed", {"turn": wire.turn_json(turn, items=shown)})

    def _compaction(
        self, event: ev.CompactionStarted | ev.CompactionCompleted | ev.CompactionFailed
    ) -> None:
        if isinstance(event, ev.CompactionStarted):
            if self.active is None:
                self._synthetic = True
                self._start_turn(new_random_id())
            self._compaction_id = new_random_id()
            self._open_item(wire.compaction_item(self._compaction_id))
            return
        self._close_item(wire.compaction_item(self._compaction_id or new_random_id()))
        self._compaction_id = None
        if isinstance(event, ev.CompactionCompleted):
            self._turn_notify("thread/compacted", {})
        else:
            error = wire.turn_error(f"context compaction failed: {event.message}", "other")
            self._error(error, will_retry=False)
            if self.active is not None:
                self.active.error = error
        if self._synthetic:
            self._end_turn("completed" if isinstance(event, ev.CompactionCompleted) else "failed")

    # --- items ---------------------------------------------------------------------------------

    def _agent_message(self, event: ev.AgentMessageDelta | ev.AgentMessage) -> None:
        item_id = event.item_id or self._message_id or new_random_id()
        if isinstance(event, ev.AgentMessageDelta):
            self._message_id = item_id
            self._open_item(wire.agent_message_item(item_id, ""))
            self._turn_notify("item/agentMessage/delta", {"itemId": item_id, "delta": event.delta})
            return
        self._message_id = None
        self._close_item(wire.agent_message_item(item_id, event.text))

    def _reasoning(self, event: ev.ReasoningDelta | ev.Reasoning) -> None:
        item_id = event.item_id or self._reasoning_id or new_random_id()
        if isinstance(event, ev.ReasoningDelta):
            self._reasoning_id = item_id
            self._open_item(wire.reasoning_item(item_id, []))
            params = {"itemId": item_id, "delta": event.delta, "summaryIndex": 0}
            self._turn_notify("item/reasoning/summaryTextDelta", params)
            return
        self._reasoning_id = None
        self._close_item(wire.reasoning_item(item_id, [event.text]))

    def _command_done(self, event: ev.ExecCommandEnd) -> Json:
        return wire.command_item(
            event.call_id,
            event.command,
            event.cwd,
            status=wire.command_status(event),
            output=event.aggregated_output,
            exit_code=event.exit_code,
            duration_ms=int(event.duration_s * 1000),
        )

    def _patch_done(self, event: ev.PatchApplyEnd) -> Json:
        changes = event.changes
        started = self._open.get(event.call_id)
        if not changes and started is not None:
            return {**started, "status": "completed" if event.success else "failed"}
        return wire.file_change_item(
            event.call_id, changes, "completed" if event.success else "failed"
        )

    def _mcp_tool_call(self, event: ev.McpToolCallBegin | ev.McpToolCallEnd) -> None:
        item = wire.mcp_tool_call_item(event)
        if isinstance(event, ev.McpToolCallBegin):
            self._open_item(item)
        else:
            self._close_item(item)

    def _plan(self, event: ev.PlanUpdated) -> None:
        steps = [{"step": s.step, "status": _PLAN_STATUS[s.status]} for s in event.steps]
        params = {"explanation": event.explanation, "plan": steps}
        self._turn_notify("turn/plan/updated", params)

    def _usage(self, event: ev.TokenCount) -> None:
        usage = {
            "total": wire.usage_breakdown(event.total),
            "last": wire.usage_breakdown(event.last),
            "modelContextWindow": event.model_context_window,
        }
        self._turn_notify("thread/tokenUsage/updated", {"tokenUsage": usage})

    def _error(self, error: Json, *, will_retry: bool) -> None:
        self._turn_notify("error", {"error": error, "willRetry": will_retry})

    def _open_item(self, item: Json) -> None:
        """`item/started`, once per item id."""
        if item["id"] in self._open or self.active is None:
            return
        self._open[item["id"]] = item
        self._turn_notify("item/started", {"item": item, "startedAtMs": now_ms()})

    def _close_item(self, item: Json) -> None:
        """`item/completed` (after an `item/started` when none was sent)."""
        if self.active is None:
            return
        self._open_item(item)
        self._open.pop(item["id"], None)
        self.active.items.append(item)
        self._turn_notify("item/completed", {"item": item, "completedAtMs": now_ms()})

    def _whole_item(self, item: Json) -> None:
        self._open_item(item)
        self._close_item(item)

    # --- sending -------------------------------------------------------------------------------

    def _thread_notify(self, method: str, params: Json) -> None:
        self._notify(method, {"threadId": self.thread_id, **params})

    def _turn_notify(self, method: str, params: dict[str, Any]) -> None:
        turn_id = self.active.id if self.active is not None else ""
        self._notify(method, {"threadId": self.thread_id, "turnId": turn_id, **params})
