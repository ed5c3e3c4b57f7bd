"""Client mistakes and downstream failures, as a Responses client sees them from `pycodex serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from support.fake_server import FakeModelServer
from support.serve import running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"
VLLM_OVERFLOW = (
    "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens "
    "(8000 in the messages, 1000 in the completion). Please reduce the length of the messages."
)


def error_of(err: openai.APIStatusError) -> dict[str, Any]:
    assert isinstance(err.body, dict)
    return err.body


async def test_bearer_token_is_required_when_configured(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("ok"), chat_chunk(finish_reason="stop")])
    with running_serve(fake_server, tmp_path, store="memory", auth_token="s3cret") as serve:
        async with openai.AsyncOpenAI(
            base_url=serve.base_url, api_key="wrong", max_retries=0
        ) as wrong:
            with pytest.raises(openai.AuthenticationError) as caught:
                await wrong.responses.create(model="m", input="hi")
        assert error_of(caught.value)["code"] == "invalid_api_key"
        async with httpx.AsyncClient() as http:
            health = await http.get(f"{serve.origin}/health")
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            missing = await http.get(f"{serve.base_url}/models")
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"] == "Bearer"
        async with openai.AsyncOpenAI(
            base_url=serve.base_url, api_key="s3cret", max_retries=0
        ) as right:
            response = await right.responses.create(model="m", input="hi")
    assert response.output_text == "ok"
    # The client's token is ours; the downstream gets its own key, never the client's.
    assert fake_server.requests[0].headers["authorization"] == "Bearer sk-downstream"


async def test_context_length_error_maps_to_400_context_length_exceeded(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    body = {"object": "error", "message": VLLM_OVERFLOW, "type": "BadRequestError", "code": 400}
    fake_server.expect_error(CHAT, 400, body)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="m", input="long", stream=True)
    error = error_of(caught.value)
    assert error["code"] == "context_length_exceeded"
    assert "maximum context length is 8192" in error["message"]


async def test_rate_limit_passes_retry_after(
    http: httpx.AsyncClient, fake_server: FakeModelServer
) -> None:
    body = {"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limit_exceeded"}}
    fake_server.expect_error(CHAT, 429, body, headers={"retry-after": "7"})
    response = await http.post("/v1/responses", json={"model": "m", "input": "hi"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("status", "expected_status", "code"),
    [
        (401, 401, "invalid_api_key"),
        (403, 403, "permission_denied"),
        (404, 404, "invalid_request_error"),
        (503, 503, "server_error"),
    ],
)
async def test_downstream_http_errors_before_the_stream(
    http: httpx.AsyncClient,
    fake_server: FakeModelServer,
    status: int,
    expected_status: int,
    code: str,
) -> None:
    fake_server.expect_error(CHAT, status, {"error": {"message": f"downstream said {status}"}})
    body = {"model": "m", "input": "hi", "stream": True}
    response = await http.post("/v1/responses", json=body)
    assert response.status_code == expected_status
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (code, f"downstream said {status}")


async def test_unreachable_downstream_is_502(tmp_path: Path) -> None:
    with FakeModelServer() as gone:
        pass  # started and closed: its port now refuses connections
    with running_serve(gone, tmp_path, store="memory") as serve:
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{serve.base_url}/responses", json={"model": "m", "input": "x"}
            )
    assert response.status_code == 502
    assert "cannot reach the model server" in response.json()["error"]["message"]


async def test_error_inside_the_stream_fails_the_response(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    overflow = {"error": {"message": VLLM_OVERFLOW, "type": "BadRequestError", "code": 400}}
    fake_server.expect_chat_stream(CHAT, [chat_chunk("par"), overflow])
    stream = await client.responses.create(model="m", input="hi", stream=True)
    events = [event async for event in stream]
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.error is not None
    assert failed.response.error.code == "context_length_exceeded"
    assert [e.sequence_number for e in events] == list(range(len(events)))


async def test_cut_stream_fails_with_server_error(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("a"), chat_chunk("b")], cut_after=2)
    stream = await client.responses.create(model="m", input="hi", stream=True)
    events = [event async for event in stream]
    assert events[-1].type == "response.failed"
    assert events[-1].response.error is not None
    assert events[-1].response.error.code == "server_error"


async def test_non_streaming_failure_is_an_http_error(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("a")], cut_after=1)
    with pytest.raises(openai.APIStatusError) as caught:
        await client.responses.create(model="m", input="hi")
    assert caught.value.status_code == 502
    assert error_of(caught.value)["code"] == "server_error"


async def test_models_pass_through_and_unknown_routes(
    http: httpx.AsyncClient, fake_server: FakeModelServer
) -> None:
    listing = {"object": "list", "data": [{"id": "qwen3", "object": "model"}]}
    fake_server.expect_json("/v1/models", listing)
    response = await http.get("/v1/models")
    assert (response.status_code, response.json()) == (200, listing)
    assert fake_server.requests[0].headers["authorization"] == "Bearer sk-downstream"
    missing = await http.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = await http.get("/v1/responses")
    assert wrong_method.status_code == 405
