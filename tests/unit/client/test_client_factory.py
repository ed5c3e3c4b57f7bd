"""`make_model_client` routes by the provider's wire API; `served_models` reads `/models`."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pycodex.client.chat import ChatCompletionsModelClient
from pycodex.client.factory import ModelListError, make_model_client, served_models
from pycodex.client.messages import AnthropicMessagesModelClient
from pycodex.client.responses import ResponsesModelClient
from pycodex.client.transport import HttpClient
from pycodex.config import Config, ModelProviderInfo
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


async def test_served_models_uses_a_given_client_and_leaves_it_open(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_json("/v1/models", {"data": [{"id": "a"}]})
    fake_server.expect_json("/v1/models", {"data": [{"id": "b"}]})
    provider = fake_provider(fake_server, env_key=None)
    async with HttpClient() as http:
        assert await served_models(provider, {}, http=http) == ["a"]
        assert await served_models(provider, {}, http=http) == ["b"]


async def test_an_unreachable_server_is_a_model_list_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = ModelProviderInfo(id="gone", name="Gone", base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ModelListError) as caught:
        await served_models(provider, {})
    assert str(caught.value) == (
        f"cannot reach http://127.0.0.1:{port}/v1/models: "
        f"ConnectError: cannot connect to 127.0.0.1:{port}: connection refused"
    )
