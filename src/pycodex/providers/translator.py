"""`StreamTranslator`: the base of the Chat Completions and Messages stream translators."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

from pycodex.providers.stream_writer import Event, ResponsesStreamWriter


class StreamTranslator(ABC):
    """The part `ChatStreamTranslator` and `MessagesStreamTranslator` share: a writer, the
    custom tool names, and the lifecycle their drivers (the native clients and the compat
    server) call. Subclasses add `feed` (their wire's events) and `finish`."""

    def __init__(
        self,
        response_id: str,
        model: str,
        custom_tool_names: Iterable[str] = (),
        *,
        created_at: int = 0,
        response_fields: Mapping[str, Any] | None = None,
        namespaced_tools: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self._writer = ResponsesStreamWriter(
            response_id,
            model,
            created_at=created_at,
            response_fields=response_fields,
            namespaced_tools=namespaced_tools,
        )
        self._custom = frozenset(custom_tool_names)
        self._reset()

    @abstractmethod
    def _reset(self) -> None:
        """Forget everything about the current attempt."""

    @abstractmethod
    def finish(self) -> list[Event]:
        """Close open items and end the response."""

    @property
    def reasoning_only(self) -> bool:
        return self._writer.reasoning_only

    @property
    def finished(self) -> bool:
        return self._writer.finished

    def start(self) -> list[Event]:
        return self._writer.start()

    def retry(self) -> None:
        """Forget a reasoning-only attempt (nothing of it was emitted) before feeding the next."""
        self._writer.discard_attempt()
        self._reset()

    def fail(self, code: str, message: str) -> list[Event]:
        return self._writer.fail(code, message)
