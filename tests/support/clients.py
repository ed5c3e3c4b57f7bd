"""Building real pycodex clients aimed at the fake server (in-process tests)."""

from __future__ import annotations

from dataclasses import replace

from pycodex.client.request import ModelSettings, RequestContext
from pycodex.client.responses import ResponsesModelClient
from pycodex.config import ModelProviderInfo
from support.fake_server import FakeModelServer

TEST_KEY = "sk-test"


def fake_provider(server: FakeModelServer, **changes: object) -> ModelProviderInfo:
    provider = ModelProviderInfo(
        id="fake",
        name="Fake",
        base_url=server.base_url,
        env_key="FAKE_KEY",
        wire_api="responses",
        request_max_retries=2,
        stream_max_retries=2,
        stream_idle_timeout_ms=5000,
        retry_base_delay_ms=1,
    )
    return replace(provider, **changes)  # type: ignore[arg-type]


def fake_client(server: FakeModelServer, **changes: object) -> ResponsesModelClient:
    return ResponsesModelClient(
        fake_provider(server, **changes),
        ModelSettings(model="test-model"),
        env={"FAKE_KEY": TEST_KEY},
    )


def request_context(turn: str = "turn-1") -> RequestContext:
    return RequestContext(
        thread_id="thread-1",
        session_id="session-1",
        turn_id=turn,
        client_request_id=f"req-{turn}",
        sandbox_mode="read-only",
    )
