"""`/model` without a name: the provider's `GET /models`, and one line when it cannot be read."""

from __future__ import annotations

import socket

from pycodex.client.transport import HttpClient
from pycodex.config import ModelProviderInfo
from pycodex.frontends.repl.model_list import list_models
from support.clients import TEST_KEY, fake_provider
from support.fake_server import FakeModelServer


async def test_models_are_listed_sorted_without_repeats(fake_server: FakeModelServer) -> None:
    fake_server.expect_json("/v1/models", {"data": [{"id": "b"}, {"id": "a"}, {"id": "b"}]})
    listing = await list_models(fake_provider(fake_server), {"FAKE_KEY": TEST_KEY})
    assert (listing.models, listing.error) == (("a", "b"), None)
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


async def test_an_http_error_or_odd_body_is_one_line(fake_server: FakeModelServer) -> None:
    fake_server.expect_json("/v1/models", {"error": "no"}, status=404)
    fake_server.expect_json("/v1/models", ["not", "a", "listing"])
    provider = fake_provider(fake_server)
    env = {"FAKE_KEY": TEST_KEY}
    async with HttpClient() as http:
        missing = await list_models(provider, env, http=http)
        odd = await list_models(provider, env, http=http)
    assert missing.error == f"{fake_server.base_url}/models answered HTTP 404"
    assert odd.error == f"{fake_server.base_url}/models did not return a model list"


async def test_an_unreachable_server_is_one_line() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = ModelProviderInfo(id="gone", name="Gone", base_url=f"http://127.0.0.1:{port}/v1")
    listing = await list_models(provider, {})
    assert listing.error == f"could not reach http://127.0.0.1:{port}/v1/models: ConnectError"
