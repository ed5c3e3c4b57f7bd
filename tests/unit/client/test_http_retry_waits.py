"""The waits of HTTP-level retries: told to `RequestContext.on_retry`, as long as the server asked
(header or body hint), never longer than the cap; and Retry-After parsing (issues 14.10, 15.2-3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from pycodex._records import replace
from pycodex.client import http_retries
from pycodex.client.classify import retry_after_from_headers, retry_after_from_message
from pycodex.client.request import HttpRetry, Prompt
from pycodex.protocol import errors
from pycodex.protocol.items import user_message
from pycodex.protocol.response_events import ResponseCompleted
from support import sse_builders as sse
from support.clients import fake_client, request_context
from support.fake_server import FakeModelServer

PROMPT = Prompt(input=[user_message("hi")])
PATH = "/v1/responses"
LIMIT_429 = "exceeded retry limit, last status: 429 Too Many Requests"


async def run_with_listener(
    server: FakeModelServer, allow: int = 100, **changes: object
) -> tuple[list[HttpRetry], Exception | None]:
    """Stream once with an `on_retry` listener that allows `allow` retries; what it heard."""
    heard: list[HttpRetry] = []

    def listener(retry: HttpRetry) -> bool:
        heard.append(retry)
        return len(heard) <= allow

    client = fake_client(server, **changes)
    context = replace(request_context(), on_retry=listener)
    try:
        events = [event async for event in client.stream(PROMPT, context)]
        assert isinstance(events[-1], ResponseCompleted)
        return heard, None
    except errors.ModelError as err:
        return heard, err
    finally:
        await client.aclose()


async def test_a_429_retry_is_told_to_the_listener_with_the_asked_wait(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_error(PATH, 429, "slow down", headers={"retry-after": "0.02"})
    fake_server.expect_sse(PATH, sse.assistant_reply("ok"))
    heard, error = await run_with_listener(fake_server)
    assert error is None
    assert heard == [HttpRetry(LIMIT_429, 0.02)]


async def test_a_body_hint_is_honoured_and_the_longest_ask_wins(
    fake_server: FakeModelServer,
) -> None:
    hint = {"error": {"message": "Rate limit reached. Please try again in 30ms."}}
    fake_server.expect_error(PATH, 429, hint)  # no header: the body's 0.03 s, not the backoff
    fake_server.expect_error(PATH, 429, hint, headers={"retry-after": "0.01"})
    fake_server.expect_error(PATH, 429, "retry after 10 ms", headers={"retry-after-ms": "40"})
    fake_server.expect_sse(PATH, sse.assistant_reply("ok"))
    heard, error = await run_with_listener(fake_server)
    assert error is None
    assert [retry.delay_s for retry in heard] == [0.03, 0.03, 0.04]


async def test_a_429_without_any_hint_waits_the_backoff(fake_server: FakeModelServer) -> None:
    fake_server.expect_error(PATH, 429, {"error": {"message": "slow"}})
    fake_server.expect_sse(PATH, sse.assistant_reply("ok"))
    heard, _ = await run_with_listener(fake_server, retry_base_delay_ms=7)
    assert heard == [HttpRetry(LIMIT_429, 0.007)]


@pytest.mark.parametrize(
    "asked", ["86400", "inf", format_datetime(datetime.now(UTC) + timedelta(days=2))]
)
async def test_a_huge_retry_after_is_capped_and_shown(
    fake_server: FakeModelServer, monkeypatch: pytest.MonkeyPatch, asked: str
) -> None:
    monkeypatch.setattr(http_retries, "MAX_RETRY_WAIT_S", 0.05)  # the real cap is a minute
    fake_server.expect_error(PATH, 429, "come back tomorrow", headers={"retry-after": asked})
    fake_server.expect_sse(PATH, sse.assistant_reply("ok"))
    heard, error = await run_with_listener(fake_server)
    assert error is None
    assert heard == [HttpRetry(LIMIT_429, 0.05)]


async def test_the_listener_ends_the_retries_with_upstreams_message(
    fake_server: FakeModelServer,
) -> None:
    for _ in range(3):
        fake_server.expect_error(PATH, 429, "slow", headers={"retry-after": "0"})
    heard, error = await run_with_listener(fake_server, allow=2)
    assert isinstance(error, errors.RetryLimitReached)
    assert str(error) == LIMIT_429
    assert len(heard) == 3 and len(fake_server.requests) == 3


async def test_a_5xx_with_retry_after_is_shown_and_quick_ones_are_not(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_error(PATH, 500, "boom")
    fake_server.expect_error(PATH, 503, "busy", headers={"retry-after": "0.01"})
    fake_server.expect_sse(PATH, sse.assistant_reply("ok"))
    heard, error = await run_with_listener(fake_server)
    assert error is None
    assert heard == [HttpRetry("unexpected status 503: busy", 0.01)]


async def test_without_a_listener_429s_get_stream_max_retries(fake_server: FakeModelServer) -> None:
    for _ in range(4):
        fake_server.expect_error(PATH, 429, "slow", headers={"retry-after": "0"})
    client = fake_client(fake_server, stream_max_retries=3)
    with pytest.raises(errors.RetryLimitReached):
        _ = [event async for event in client.stream(PROMPT, request_context())]
    await client.aclose()
    assert len(fake_server.requests) == 4


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after-ms": "nan", "retry-after": "2"}, 2.0),
        ({"retry-after": "inf"}, float("inf")),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past: at once
    ],
)
def test_retry_after_values(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_from_headers(headers) == expected


@pytest.mark.parametrize("zone", ["GMT", "+0000", "-0000", "UTC", "EST", "+0530", "XYZ"])
def test_retry_after_dates_in_any_zone(zone: str) -> None:
    offsets = {"EST": timedelta(hours=-5), "+0530": timedelta(hours=5, minutes=30)}
    offset = offsets.get(zone, timedelta(0))  # unknown zones and -0000 are read as UTC
    moment = datetime.now(UTC) + timedelta(minutes=10)
    local = (moment + offset).strftime("%a, %d %b %Y %H:%M:%S")
    seconds = retry_after_from_headers({"retry-after": f"{local} {zone}"})
    assert seconds is not None and 590 <= seconds <= 600


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Please try again in 6ms.", 0.006),
        ("Rate limit reached. Please try again in 1.5s.", 1.5),
        ("Please retry after 20 seconds", 20.0),
        ("try again in 1m30s", 90.0),
        ('{"details": [{"retryDelay": "17s"}]}', 17.0),
        ("try again later", None),
    ],
)
def test_retry_hints_in_messages(message: str, seconds: float | None) -> None:
    assert retry_after_from_message(message) == seconds
