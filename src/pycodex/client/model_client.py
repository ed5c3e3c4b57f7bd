"""The interface every model client offers the engine, whatever its wire API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from pycodex.client.request import ModelSettings, Prompt, RequestContext, RetryPolicy
from pycodex.protocol.response_events import ResponseEvent


class ModelClient(Protocol):
    settings: ModelSettings
    retry_policy: RetryPolicy

    def stream(self, prompt: Prompt, context: RequestContext) -> AsyncIterator[ResponseEvent]:
        """Yield one response's events; raise a `pycodex.protocol.errors.ModelError` on failure."""
        ...

    async def aclose(self) -> None: ...
