"""`ReplApp`: the interactive session loop over one engine at a time.

Two things run side by side: the input loop (one prompt after another, never blocked by a turn)
and the event pump (engine events → renderer → scrollback, turn state, the queue). The app only
submits ops and reads events; `/new` replaces the whole thread through the factory the CLI gave.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import textwrap
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application import Application
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.patch_stdout import patch_stdout

from pycodex._records import dataclass
from pycodex.agent.engine import Engine
from pycodex.config import Config
from pycodex.frontends.repl import handlers
from pycodex.frontends.repl.approval_queue import ApprovalQueue
from pycodex.frontends.repl.commands import Command, Message, UnknownCommand, parse_line
from pycodex.frontends.repl.input import build_prompt_session, open_history
from pycodex.frontends.repl.markup import Painter
from pycodex.frontends.repl.render import TranscriptRenderer
from pycodex.frontends.repl.usage import percent_context_left
from pycodex.frontends.repl.user_input import ReplUserInput
from pycodex.protocol import events as ev

if TYPE_CHECKING:
    from pycodex.agent.threads import ThreadManager
    from pycodex.frontends.repl.agents_view import AgentFollower

from pycodex.protocol.ops import (
    ApprovalDecision,
    ImageInput,
    InputItem,
    Interrupt,
    SetModel,
    SetReasoningEffort,
    Shutdown,
    TextInput,
    UserTurn,
)

LIVE_LINES = 6
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass
class ReplThread:
    """One conversation as the CLI built it: its engine, first event, and how to close it."""

    engine: Engine
    configured: ev.SessionConfigured
    close: Callable[[], Awaitable[None]]
    # The manager of the thread's tree (its sub-agents, for /agents); None for a bare engine.
    manager: ThreadManager | None = None


# Builds a thread: the REPL's request_user_input provider (None: nobody) and, to continue a
# recorded session instead of starting fresh, its rollout file. Raises ValueError (one line)
# when that file cannot be continued.
ThreadFactory = Callable[[ReplUserInput | None, Path | None], ReplThread]


class ReplApp:
    def __init__(self, config: Config, new_thread: ThreadFactory, *, colour: bool) -> None:
        self.config = config
        self.colour = colour
        self.renderer = TranscriptRenderer(
            Painter(80, colour),
            config.model_context_window,
            show_reasoning=not config.hide_agent_reasoning,
        )
        self.queue: deque[str] = deque()
        self.sent: list[str] = []
        self.busy = False
        self.model = config.model
        self.effort = config.model_reasoning_effort
        self._new_thread = new_thread
        self._thread: ReplThread | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._approval_tasks: set[asyncio.Task[None]] = set()
        # Held while a question (an approval, a request_user_input choice) is on screen.
        self.question_lock = asyncio.Lock()
        self._approvals = ApprovalQueue(self, None)
        self.title: str | None = None
        self._turn_started = 0.0
        self._exit_armed = False
        self._exit_requested = False
        self._answer: asyncio.Future[str] | None = None
        self._session: PromptSession[str] | None = None
        # The sub-agent whose events are shown (/agents NAME), if any.
        self.follower: AgentFollower | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, initial_prompt: str | None = None, images: tuple[Path, ...] = ()) -> int:
        self._session = build_prompt_session(
            self, open_history(self.config.codex_home, self.config.history_persistence), self.colour
        )
        with patch_stdout(raw=True):
            await self.start_thread()
            if initial_prompt:
                self.send(initial_prompt, images)
            try:
                await self._input_loop()
            finally:
                session_id = self._thread.configured.session_id if self._thread else "-"
                await self.stop_thread()
        self.show(self.renderer.usage_block())
        self.show(f"session id: {session_id}")
        return 0

    async def _input_loop(self) -> None:
        assert self._session is not None
        while not self._exit_requested:
            try:
                line = await self._session.prompt_async()
            except EOFError:  # Ctrl-D, or Ctrl-C confirmed on an empty line
                return
            self._exit_armed = False
            await self.handle_line(line)

    async def start_thread(self, resume: Path | None = None) -> None:
        thread = self._new_thread(ReplUserInput(self), resume)
        self._thread = thread
        self._approvals = ApprovalQueue(self, thread.manager)
        if thread.manager is not None:  # sub-agents ask through the same queue
            thread.manager.route_child_approvals(thread.configured.thread_id, self._approvals)
        self.renderer = TranscriptRenderer(
            self.renderer.painter,
            self.config.model_context_window,
            show_reasoning=not self.config.hide_agent_reasoning,
        )
        self._tasks = [
            asyncio.create_task(thread.engine.run()),
            asyncio.create_task(self._pump(thread.engine)),
        ]
        thread.engine.emit(thread.configured)
        # Choices made with /model and /effort outlive /new.
        if self.model != thread.configured.model:
            thread.engine.submit(SetModel(self.model))
        if self.effort != thread.configured.reasoning_effort:
            thread.engine.submit(SetReasoningEffort(self.effort))

    async def stop_thread(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        current = asyncio.current_task()
        for pending in list(self._approval_tasks):
            if pending is not current:  # a /resume picker may be the one switching threads
                pending.cancel()
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        thread.engine.submit(Shutdown())
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await thread.close()
        self.busy = False
        self.queue.clear()

    def _memory_notice(self) -> None:
        """Say when the session starts with the memory of earlier ones."""
        if self._thread is not None and self._thread.engine.state.context.memory_message:
            text = "Using memories from earlier sessions (/memories shows them)."
            self.show(self.renderer.painter.styled(text, "dim"))

    def request_exit(self) -> None:
        self._exit_requested = True

    @property
    def thread(self) -> ReplThread:
        assert self._thread is not None, "no thread is running"
        return self._thread

    # -- events ------------------------------------------------------------------------------

    async def _pump(self, engine: Engine) -> None:
        async for event in engine.events():
            self.on_event(event)

    def on_event(self, event: ev.EngineEvent) -> None:
        self.renderer.painter = Painter(self.width(), self.colour)
        for block in self.renderer.process(event):
            self.show(block)
        match event:
            case ev.SessionConfigured():
                self._memory_notice()
            case ev.TurnStarted():
                self._mark_busy()
            case ev.ExecApprovalRequest() | ev.PatchApprovalRequest() | ev.McpToolApprovalRequest():
                engine = self.thread.engine
                self._approvals.ask_root(
                    event, lambda decision: engine.submit(ApprovalDecision(event.call_id, decision))
                )
            case ev.TurnComplete() | ev.TurnAborted():
                self.busy = False
                if self.queue:
                    self.send(self.queue.popleft())
            case _:
                pass
        self.invalidate()

    def background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run work that reads answers from the input line, which must stay free meanwhile."""
        task = asyncio.create_task(work)
        self._approval_tasks.add(task)
        task.add_done_callback(self._approval_tasks.discard)
        return task

    def _mark_busy(self) -> None:
        if not self.busy:
            self.busy, self._turn_started = True, time.monotonic()

    # -- input -------------------------------------------------------------------------------

    async def handle_line(self, line: str) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(line)
            return
        parsed = parse_line(line)
        match parsed:
            case None:
                return
            case Message(text=text):
                self.send(text)
            case Command():
                await handlers.run_command(self, parsed)
            case UnknownCommand(name=name):
                self.show(f"Unknown command /{name}: type /help for the list.")

    def send(self, text: str, images: tuple[Path, ...] = ()) -> None:
        """A message for the model: a new turn when idle, steering when a turn runs."""
        self.sent.append(text)
        self.show(self.renderer.user_block(text, "steer" if self.busy else ""))
        self._mark_busy()
        items: tuple[InputItem, ...] = (*(ImageInput(path) for path in images), TextInput(text))
        self.thread.engine.submit(UserTurn(items))

    def interrupt(self) -> None:
        """Ctrl-C: the running turn stops, and so does every sub-agent of the conversation."""
        thread = self.thread
        if thread.manager is not None:
            thread.manager.interrupt_tree(thread.configured.thread_id)
        else:
            thread.engine.submit(Interrupt())

    # -- the QuestionHost of ReplUserInput ---------------------------------------------------

    def show(self, block: str) -> None:
        sys.stdout.write(block + "\n")
        sys.stdout.flush()

    async def read_answer(self, label: str) -> str:
        self._answer = asyncio.get_running_loop().create_future()
        self.invalidate()
        try:
            return await self._answer
        finally:
            self._answer = None
            self.invalidate()

    # -- the InputHooks of the prompt --------------------------------------------------------

    def on_interrupt_key(self, app: Application[str]) -> None:
        if self.busy:
            self.interrupt()
        elif self._exit_armed:
            app.exit(exception=EOFError())
        else:
            self._exit_armed = True

    def prompt_message(self) -> StyleAndTextTuples:
        fragments: StyleAndTextTuples = []
        live = self.renderer.live
        text, style = (live.message, "class:live") if live.message else (live.reasoning, "")
        for row in _tail_rows(text, self.width(), LIVE_LINES):
            fragments.append((style or "class:reasoning", row + "\n"))
        if self.busy:
            fragments.append(("class:status", self._status_line() + "\n"))
        if self._answer is not None:
            fragments.append(("class:question", "answer › "))
        else:
            fragments.append(("class:prompt", "› "))
        return fragments

    def _status_line(self) -> str:
        elapsed = time.monotonic() - self._turn_started
        spin = SPINNER[int(elapsed / 0.1) % len(SPINNER)]
        running = list(self.renderer.live.running.values())
        doing = f"Running {running[-1]}" if running else "Working"
        room = max(self.width() - 36, 10)
        doing = doing if len(doing) <= room else doing[: room - 1] + "…"
        return f"{spin} {doing} ({int(elapsed)}s · Ctrl-C to interrupt)"

    def toolbar(self) -> StyleAndTextTuples:
        left = percent_context_left(self.renderer.last, self.renderer.context_window)
        effort = f" {self.effort}" if self.effort else ""
        parts = [f"{self.model}{effort}", f"{left}% context left"]
        if self._exit_armed:
            parts.append("Ctrl-C again to exit")
        elif self.queue:
            parts.append(f"{len(self.queue)} queued")
        else:
            parts.append("/help")
        return [("", " " + " · ".join(parts))]

    # -- terminal ----------------------------------------------------------------------------

    def width(self) -> int:
        if self._session is not None and self._session.app.is_running:
            return self._session.app.output.get_size().columns
        return shutil.get_terminal_size().columns

    def invalidate(self) -> None:
        if self._session is not None and self._session.app.is_running:
            self._session.app.invalidate()


def _tail_rows(text: str, width: int, count: int) -> list[str]:
    """The last `count` screen rows of `text` wrapped at `width`."""
    if not text.strip():
        return []
    rows: list[str] = []
    for line in text.rstrip("\n").split("\n")[-count:]:
        rows += textwrap.wrap(line, max(width - 1, 10)) or [""]
    return rows[-count:]
