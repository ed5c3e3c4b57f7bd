"""Engine events → the public `exec --json` event stream (CONTRACTS.md section 2).

A pure translation with a little state: item ids (`item_0`, `item_1`, ... per process), which
items are still open (so they can be completed at turn end), the todo list, and usage.
"""

from __future__ import annotations

from typing import Literal

from pycodex._records import dataclass, field
from pycodex.protocol import events as ev
from pycodex.protocol import exec_events as out
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.usage import TokenUsage

# The most frequent events (one per streamed piece of text or command output) show as nothing
# on the JSONL stream: they are answered before the match below tries some twenty patterns.
_STREAMED = frozenset({ev.AgentMessageDelta, ev.ReasoningDelta, ev.ExecCommandOutputDelta})


@dataclass
class ExecJsonlProcessor:
    next_id: int = 0
    open_items: dict[str, out.ThreadItem] = field(default_factory=dict)
    todo: out.TodoListItem | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    last_error: str | None = None

    def _new_id(self) -> str:
        item_id = f"item_{self.next_id}"
        self.next_id += 1
        return item_id

    def process(self, event: EngineEvent) -> list[out.ThreadEvent]:
        if event.__class__ in _STREAMED:
            return []
        match event:
            case ev.SessionConfigured(thread_id=thread_id):
                return [out.ThreadStarted(thread_id=thread_id)]
            case ev.TurnStarted():
                self.last_error = None
                return [out.TurnStarted()]
            case ev.AgentMessage(text=text):
                return [out.ItemCompleted(item=out.AgentMessageItem(id=self._new_id(), text=text))]
            case ev.Reasoning(text=text):
                return [out.ItemCompleted(item=out.ReasoningItem(id=self._new_id(), text=text))]
            case ev.ExecCommandBegin() | ev.ExecCommandEnd():
                return self._command(event)
            case ev.PatchApplyBegin() | ev.PatchApplyEnd():
                return self._patch(event)
            case ev.WebSearchBegin() | ev.WebSearchEnd():
                return self._web_search(event)
            case ev.PlanUpdated():
                return self._plan(event)
            case ev.CollabToolCallBegin() | ev.CollabToolCallEnd():
                return self._collab(event)
            case ev.McpToolCallBegin() | ev.McpToolCallEnd():
                return self._mcp(event)
            case ev.TokenCount(total=total):
                self.usage = total
                return []
            case ev.CompactionCompleted():
                item = out.ContextCompactionItem(
                    id=self._new_id(),
                    phase=event.phase,
                    tokens_before=event.tokens_before,
                    tokens_after=event.tokens_after,
                    items_kept=event.items_kept,
                    items_pruned=event.items_pruned,
                    remote=event.remote,
                )
                return [out.ItemCompleted(item=item)]
            case ev.CompactionFailed(message=message):
                text = f"context compaction failed: {message}"
                return [out.ItemCompleted(item=out.ErrorItem(id=self._new_id(), message=text))]
            case ev.StreamRetry():
                return [out.ThreadError(message=event.message)]
            case ev.Warning(message=message):
                return [out.ItemCompleted(item=out.ErrorItem(id=self._new_id(), message=message))]
            case ev.Error(message=message):
                self.last_error = message
                return [out.ThreadError(message=message)]
            case ev.TurnComplete() | ev.TurnAborted():
                return self._turn_end(event)
            case (
                ev.AgentMessageDelta()
                | ev.ReasoningDelta()
                | ev.ExecCommandOutputDelta()
                | ev.ToolCallBegin()
                | ev.ToolCallEnd()
                | ev.HookReport()
                | ev.CompactionStarted()
                | ev.ExecApprovalRequest()
                | ev.PatchApprovalRequest()
                | ev.McpToolApprovalRequest()
                | ev.ShutdownComplete()
            ):
                return []

    def _command(self, event: ev.ExecCommandBegin | ev.ExecCommandEnd) -> list[out.ThreadEvent]:
        if isinstance(event, ev.ExecCommandBegin):
            item = out.CommandExecutionItem(
                id=self._new_id(),
                command=event.command,
                aggregated_output="",
                exit_code=None,
                status="in_progress",
            )
            self.open_items[event.call_id] = item
            return [out.ItemStarted(item=item)]
        started = self.open_items.pop(event.call_id, None)
        status: Literal["completed", "failed", "declined"] = event.status
        if status == "completed" and event.exit_code != 0:
            status = "failed"
        item = out.CommandExecutionItem(
            id=started.id if started is not None else self._new_id(),
            command=event.command,
            aggregated_output=event.aggregated_output,
            exit_code=event.exit_code,
            status=status,
        )
        return [out.ItemCompleted(item=item)]

    def _patch(self, event: ev.PatchApplyBegin | ev.PatchApplyEnd) -> list[out.ThreadEvent]:
        changes = [out.FileUpdateChange(path=c.path, kind=c.kind) for c in event.changes]
        if isinstance(event, ev.PatchApplyBegin):
            item = out.FileChangeItem(id=self._new_id(), changes=changes, status="in_progress")
            self.open_items[event.call_id] = item
            return [out.ItemStarted(item=item)]
        started = self.open_items.pop(event.call_id, None)
        done = out.FileChangeItem(
            id=started.id if started is not None else self._new_id(),
            changes=changes,
            status="completed" if event.success else "failed",
        )
        return [out.ItemCompleted(item=done)]

    def _web_search(self, event: ev.WebSearchBegin | ev.WebSearchEnd) -> list[out.ThreadEvent]:
        if isinstance(event, ev.WebSearchBegin):
            item = out.WebSearchItem(id=self._new_id(), query=event.query, action=event.action)
            self.open_items[event.call_id] = item
            return [out.ItemStarted(item=item)]
        started = self.open_items.pop(event.call_id, None)
        done = out.WebSearchItem(
            id=started.id if started is not None else self._new_id(),
            query=event.query,
            action=event.action,
        )
        return [out.ItemCompleted(item=done)]

    def _collab(
        self, event: ev.CollabToolCallBegin | ev.CollabToolCallEnd
    ) -> list[out.ThreadEvent]:
        if isinstance(event, ev.CollabToolCallBegin):
            item = out.CollabToolCallItem(
                id=self._new_id(),
                tool=event.tool,
                sender_thread_id=event.sender_thread_id,
                receiver_thread_ids=list(event.receiver_thread_ids),
                prompt=event.prompt,
                agents_states={},
                status="in_progress",
            )
            self.open_items[event.call_id] = item
            return [out.ItemStarted(item=item)]
        started = self.open_items.pop(event.call_id, None)
        states = {
            agent: out.CollabAgentState(status=status.state, message=status.message)
            for agent, status in event.agents_states
        }
        done = out.CollabToolCallItem(
            id=started.id if started is not None else self._new_id(),
            tool=event.tool,
            sender_thread_id=event.sender_thread_id,
            receiver_thread_ids=list(event.receiver_thread_ids),
            prompt=event.prompt,
            agents_states=states,
            status="completed" if event.success else "failed",
        )
        return [out.ItemCompleted(item=done)]

    def _mcp(self, event: ev.McpToolCallBegin | ev.McpToolCallEnd) -> list[out.ThreadEvent]:
        if isinstance(event, ev.McpToolCallBegin):
            item = out.McpToolCallItem(
                id=self._new_id(),
                server=event.server,
                tool=event.tool,
                arguments=event.arguments,
                result=None,
                error=None,
                status="in_progress",
            )
            self.open_items[event.call_id] = item
            return [out.ItemStarted(item=item)]
        started = self.open_items.pop(event.call_id, None)
        done = out.McpToolCallItem(
            id=started.id if started is not None else self._new_id(),
            server=event.server,
            tool=event.tool,
            arguments=event.arguments,
            result=event.result,
            error={"message": event.error} if event.error is not None else None,
            status="completed" if event.success else "failed",
        )
        return [out.ItemCompleted(item=done)]

    def _plan(self, event: ev.PlanUpdated) -> list[out.ThreadEvent]:
        entries = [
            out.TodoEntry(text=s.step, completed=s.status == "completed") for s in event.steps
        ]
        if self.todo is None:
            self.todo = out.TodoListItem(id=self._new_id(), items=entries)
            return [out.ItemStarted(item=self.todo)]
        self.todo = out.TodoListItem(id=self.todo.id, items=entries)
        return [out.ItemUpdated(item=self.todo)]

    def _turn_end(self, event: ev.TurnComplete | ev.TurnAborted) -> list[out.ThreadEvent]:
        events: list[out.ThreadEvent] = [
            out.ItemCompleted(item=_finished(item)) for item in self.open_items.values()
        ]
        self.open_items.clear()
        if self.todo is not None:
            events.append(out.ItemCompleted(item=self.todo))
            self.todo = None
        if isinstance(event, ev.TurnAborted):
            self.last_error = self.last_error or "turn aborted"
        if self.last_error is not None:
            events.append(out.TurnFailed(error=out.TurnError(message=self.last_error)))
        else:
            events.append(out.TurnCompleted(usage=_exec_usage(self.usage)))
        return events


def _finished(item: out.ThreadItem) -> out.ThreadItem:
    """An item still open at turn end, closed as failed (its tool never reported back)."""
    if isinstance(
        item,
        out.CommandExecutionItem
        | out.FileChangeItem
        | out.CollabToolCallItem
        | out.McpToolCallItem,
    ):
        return item.replace(status="failed")
    return item


def _exec_usage(usage: TokenUsage) -> out.ExecUsage:
    return out.ExecUsage(
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cache_write_input_tokens=usage.cache_write_input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_output_tokens=usage.reasoning_output_tokens,
    )
