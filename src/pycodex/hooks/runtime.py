"""`HookRuntime`: the runnable handlers of a process and one `run` per event.

The agent layer builds the payload (`payloads`), asks the runtime to run the handlers that match,
and applies the folded `HookOutcome`; nothing here knows about turns or history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pycodex.hooks.discovery import HookEntry
from pycodex.hooks.events import HookEventName
from pycodex.hooks.matchers import matches
from pycodex.hooks.outcomes import HookOutcome, interpret
from pycodex.hooks.payloads import encode
from pycodex.hooks.runner import HookRunner


class HookRuntime:
    def __init__(
        self, handlers: Sequence[HookEntry], cwd: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.handlers = list(handlers)
        self.runner = HookRunner(cwd, env)
        self._events = {handler.event for handler in self.handlers}

    def has(self, event: HookEventName) -> bool:
        return event in self._events

    def select(self, event: HookEventName, names: Sequence[str] = ()) -> list[HookEntry]:
        """The handlers of `event` whose matcher accepts one of `names` (a tool's name and
        aliases, a session source); events without matchers take every handler."""
        return [
            handler
            for handler in self.handlers
            if handler.event == event and matches(handler.matcher, names)
        ]

    async def run(
        self, event: HookEventName, payload: dict[str, Any], names: Sequence[str] = ()
    ) -> HookOutcome:
        handlers = self.select(event, names)
        if not handlers:
            return HookOutcome()
        runs = await self.runner.run_all(handlers, encode(payload))
        return interpret(event, runs)

    async def close(self) -> None:
        await self.runner.close()
