"""`make_model_client` routes by the provider's wire API; `served_models` reads `/models`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.client.chat import ChatCompletionsModelClient
from pycodex.client.factory import ModelListError, make_model_client, served_models
from pycodex.client.messages import AnthropicMessagesModelClient
from pycodex.client.responses import ResponsesModelClient
from pycodex.config import Config
from support.clients import TEST_KEY, fake_provider
from support.fake_server import FakeModelServer


@pytest.mark.parametrize(
    ("wire_api", "expected"),
    [
        ("responses", ResponsesModelClient),
        ("chat", ChatCompletionsModelClient),
        ("messages", AnthropicMessagesModelClient),
    ],
)
async def test_wire_api_picks_the_client(
    fake_server: FakeModelServer, tmp_path: Path, wire_api: str, expected: type
) -> None:
    provider = fake_provider(fake_server, wire_api=wire_api)
    config = Config(
        codex_home=tmp_path, cwd=tmp_path, model_provider=provider, env={"FAKE_KEY": TEST_KEY}
    )
    client = make_model_client(config, settings=None, originator="pycodex_test")
    try:
        assert type(client) is expected
        assert client.settings.model == config.model
        assert client.retry_policy.stream_max_retries == provider.stream_max_retries
    finally:
        await client.aclose()


async def test_served_models_keeps_the_server_order(fake_server: FakeModelServer) -> None:
    fake_server.expect_json("/v1/models", {"data": [{"id": "b"}, {"id": "a"}, {"id": "b"}]})
    provider = fake_provider(fake_server, env_key=None)
    assert await served_models(provider, {}) == ["b", "a"]
    assert "authorization" not in fake_server.requests[0].headers


async def test_empty_model_list_is_an_error(fake_server: FakeModelServer) -> None:
    fake_server.expect_json("/v1/models", {"data": []})
    with pytest.raises(ModelListError, match="lists no models"):
        await served_models(fake_provider(fake_server), {"FAKE_KEY": TEST_KEY})
