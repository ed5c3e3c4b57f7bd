"""Answers that are not a usable event stream fail once, precisely; same-origin 307/308 are
followed; compressed streams are decoded (issue 14 item 10)."""

from __future__ import annotations

import gzip

import pytest

from pycodex.client.request import Prompt
from pycodex.protocol import errors
from pycodex.protocol.items import Message, user_message
from pycodex.protocol.response_events import OutputItemDone, ResponseCompleted, ResponseEvent
from support import sse_builders as sse
from support.clients import fake_client, request_context
from support.fake_server import FakeModelServer

PROMPT = Prompt(input=[user_message("hi")])
PATH = "/v1/responses"


async def collect(server: FakeModelServer) -> list[ResponseEvent]:
    client = fake_client(server)
    try:
        return [event async for event in client.stream(PROMPT, request_context())]
    finally:
        await client.aclose()


def redirect(server: FakeModelServer, status: int, location: str | None) -> None:
    headers = {"location": location} if location is not None else {}
    server.expect_error(PATH, status, "moved", headers=headers)


@pytest.mark.parametrize("status", [307, 308])
async def test_a_same_origin_307_or_308_is_followed_with_the_same_request(
    fake_server: FakeModelServer, status: int
) -> None:
    redirect(fake_server, status, "/v2/responses?from=redirect")
    fake_server.expect_sse("/v2/responses", sse.assistant_reply("moved along"))
    events = await collect(fake_server)
    assert isinstance(events[-1], ResponseCompleted)
    first, second = fake_server.requests
    assert (second.method, second.path) == ("POST", "/v2/responses?from=redirect")
    assert second.body_bytes == first.body_bytes
    assert second.headers["authorization"] == first.headers["authorization"]


@pytest.mark.parametrize(
    ("status", "location", "expected"),
    [
        (301, "/v2/responses", r"HTTP 301 Moved Permanently with a redirect to http://127\.0\.0\.1:\d+/v2/responses; a 301 may turn the POST into a GET"),
        (302, "/v2/responses", "a 302 may turn the POST into a GET, so it is not followed"),
        (307, "http://127.0.0.2:9/v1/responses", "another origin: not followed, the API key would go with it"),
        (308, None, "a redirect without a Location to go to"),
    ],
)  # fmt: skip
async def test_other_redirects_fail_once_with_what_to_change(
    fake_server: FakeModelServer, status: int, location: str | None, expected: str
) -> None:
    redirect(fake_server, status, location)
    with pytest.raises(errors.UnexpectedResponse, match=expected) as caught:
        await collect(fake_server)
    assert "set the provider's base_url" in str(caught.value)
    assert caught.value.status == status
    assert len(fake_server.requests) == 1


async def test_a_redirect_loop_stops(fake_server: FakeModelServer) -> None:
    for _ in range(6):
        redirect(fake_server, 307, PATH)
    with pytest.raises(errors.UnexpectedResponse, match="more than 5 redirects"):
        await collect(fake_server)
    assert len(fake_server.requests) == 6


async def test_a_json_200_fails_once_naming_what_came(fake_server: FakeModelServer) -> None:
    fake_server.expect_json(PATH, {"error": {"message": "use /v1/chat instead"}}, method="POST")
    with pytest.raises(errors.UnexpectedResponse) as caught:
        await collect(fake_server)
    message = str(caught.value)
    assert "answered HTTP 200 OK with application/json instead of an event stream" in message
    assert message.endswith("check the provider's base_url: use /v1/chat instead")
    assert not isinstance(caught.value, errors.RetryableError)
    assert len(fake_server.requests) == 1


async def test_an_endless_non_sse_body_is_not_read_to_its_end(fake_server: FakeModelServer) -> None:
    fake_server.expect_stream(PATH, [b"<html>" + b"x" * 500], stall_after=1,
                              headers={"content-type": "text/html"})  # fmt: skip
    with pytest.raises(errors.UnexpectedResponse, match="text/html instead of an event stream"):
        await collect(fake_server)


async def test_a_gzipped_event_stream_is_decoded(fake_server: FakeModelServer) -> None:
    body = sse.encode_sse(sse.assistant_reply("squeezed"))
    fake_server.expect_stream(PATH, [gzip.compress(body)], headers={"content-encoding": "gzip"})
    events = await collect(fake_server)
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert [item.text for item in done if isinstance(item, Message)] == ["squeezed"]
    assert isinstance(events[-1], ResponseCompleted)


async def test_a_content_coding_pycodex_cannot_decode_fails_once(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_stream(PATH, [b"\x8b\x00brotli"], headers={"content-encoding": "br"})
    with pytest.raises(errors.UnexpectedResponse, match="in the br content coding"):
        await collect(fake_server)
    assert len(fake_server.requests) == 1
