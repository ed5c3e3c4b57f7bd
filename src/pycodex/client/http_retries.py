"""The HTTP side every model client shares, whatever its wire API.

- `send_with_retries`: POST a streamed request and return the answer once it is a readable
  event stream (`answer_checks`: same-origin 307/308 followed, anything else that is not an
  event stream fails at once). Failures are retried here:
  - connection errors and 5xx, quietly, `request_max_retries` times with exponential backoff
    from `retry_base_delay_ms` (as upstream Codex);
  - 429, visibly: each retry is told to `RequestContext.on_retry` (the engine shows it as
    "Reconnecting... n/N" and counts it in the turn's `stream_max_retries`), after waiting what
    the server asked for (`Retry-After`, `retry-after-ms`, or a "try again in 3s" in the body),
    or the backoff when it asked nothing. When the budget is spent: `exceeded retry limit, last
    status: 429 Too Many Requests`. A 5xx whose `Retry-After` makes the user wait is shown too.
  No wait is longer than `request.MAX_RETRY_WAIT_S`.
- `sse_events`: the answer's SSE events; the idle timeout (`stream_idle_timeout_ms`, one deadline
  for the whole stream, kept by the transport) becomes `IdleTimeout`, a broken connection
  `StreamDisconnected`.
- `new_http_client`: the pooled `transport.HttpClient` a model client owns.
- `identity_headers`: who is asking (originator, user agent, thread and turn ids).

Re-sending a whole turn's request after a failed stream is the engine's job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from pycodex._version import __version__
from pycodex.client.answer_checks import redirect_target, require_event_stream
from pycodex.client.classify import (
    classify_client_error,
    retry_after_from_headers,
    retry_after_from_message,
)
from pycodex.client.request import (
    MAX_RETRY_WAIT_S,
    HttpRetry,
    ModelSettings,
    RequestContext,
    RetryListener,
)
from pycodex.client.sse import SSEDecoder, SSEEvent
from pycodex.client.transport import (
    HttpClient,
    ReadTimeout,
    Response,
    Timeouts,
    TransportError,
)
from pycodex.protocol.errors import (
    IdleTimeout,
    ModelError,
    RetryLimitReached,
    ServerError,
    StreamDisconnected,
)

if TYPE_CHECKING:
    from pycodex.config import ModelProviderInfo

CONNECT_TIMEOUT_S = 30.0
IDLE_TIMEOUT_MESSAGE = "stream disconnected before completion: idle timeout waiting for SSE"


def new_http_client(provider: ModelProviderInfo) -> HttpClient:
    """A client whose read timeout is the provider's idle timeout (reads are the waits).

    The TLS context (~30 ms of loading CA certificates) is built on the first https connection,
    so a plain-http provider (a local server) never pays for it.
    """
    idle = provider.stream_idle_timeout_ms / 1000
    return HttpClient(timeouts=Timeouts(connect=CONNECT_TIMEOUT_S, read=idle))


def identity_headers(
    originator: str, context: RequestContext, settings: ModelSettings
) -> dict[str, str]:
    """The headers every streamed model request carries, before auth and provider headers."""
    return {
        "content-type": "application/json",
        "accept": "text/event-stream",
        "originator": originator,
        "user-agent": f"pycodex/{__version__} ({originator})",
        **context.headers(settings),
    }


def auth_hint(provider: ModelProviderInfo) -> str | None:
    """What to check when the provider answers 401/403: the variable the key came from."""
    if provider.env_key:
        return f"check the API key in {provider.env_key} for provider '{provider.id}'"
    return None


async def send_with_retries(
    client: HttpClient,
    provider: ModelProviderInfo,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    on_retry: RetryListener | None = None,
) -> Response:
    """POST `body`; return the answer once it is a 2xx event stream, its body unread.

    The caller reads the body and closes the response. The same headers (and so the same
    `x-client-request-id`) go out on every attempt.
    """
    retries = _Retries(provider, on_retry)
    timeouts = Timeouts(client.timeouts.connect, provider.stream_idle_timeout_ms / 1000)
    redirects = 0
    while True:
        try:
            response = await client.send(
                "POST", url, content=body, headers=headers, timeouts=timeouts
            )
        except TransportError as err:
            await asyncio.sleep(retries.after_send_failure(err))
            continue
        status = response.status_code
        if status < 300:
            await require_event_stream(response)
            return response
        if status < 400:
            url = await redirect_target(response, url, redirects)
            redirects += 1
            continue
        error_body = await _read_error_body(response)
        await asyncio.sleep(retries.after_status(response, error_body))


class _Retries:
    """The retry decisions of one request: how long to wait before the next attempt, or the
    error to give up with."""

    def __init__(self, provider: ModelProviderInfo, on_retry: RetryListener | None) -> None:
        self.provider = provider
        self.on_retry = on_retry
        self.quiet = 0  # connection errors and 5xx retried so far
        self.rate_limited = 0  # 429s retried so far

    def after_send_failure(self, err: TransportError) -> float:
        if self.quiet >= self.provider.request_max_retries:
            raise StreamDisconnected(f"error sending request: {describe(err)}")
        self.quiet += 1
        return backoff(self.provider, self.quiet - 1)

    def after_status(self, response: Response, body: bytes) -> float:
        status = response.status_code
        if status == 429 and b"insufficient_quota" not in body:
            return self._after_rate_limit(response, body)
        if status < 500 or self.quiet >= self.provider.request_max_retries:
            raise final_http_error(response, body, auth_hint(self.provider))
        self.quiet += 1
        asked = retry_after_from_headers(response.headers)
        if asked is None:
            return backoff(self.provider, self.quiet - 1)
        delay = min(asked, MAX_RETRY_WAIT_S)
        if not self._announce(final_http_error(response, body).message, delay):
            raise final_http_error(response, body, auth_hint(self.provider))
        return delay

    def _after_rate_limit(self, response: Response, body: bytes) -> float:
        final = RetryLimitReached(429, response.reason_phrase or "Too Many Requests")
        asked = _longest(retry_after_from_headers(response.headers), retry_after_from_message(body))
        self.rate_limited += 1
        if asked is None:
            asked = backoff(self.provider, self.rate_limited - 1)
        delay = min(asked, MAX_RETRY_WAIT_S)
        if self.on_retry is None and self.rate_limited > self.provider.stream_max_retries:
            raise final
        if not self._announce(final.message, delay):
            raise final
        return delay

    def _announce(self, reason: str, delay_s: float) -> bool:
        if self.on_retry is None:
            return True
        return self.on_retry(HttpRetry(reason, delay_s))


def _longest(*waits: float | None) -> float | None:
    """Never retry sooner than any hint asked."""
    given = [wait for wait in waits if wait is not None]
    return max(given) if given else None


async def _read_error_body(response: Response) -> bytes:
    try:
        return await response.aread()
    except TransportError:
        return b""  # the status decides; a cut error body only loses its detail
    finally:
        await response.aclose()


def final_http_error(response: Response, body: bytes, hint: str | None = None) -> ModelError:
    """The error for an HTTP failure that will not be retried (any more) at this level."""
    status = response.status_code
    if status >= 500:
        detail = body.decode("utf-8", "replace").strip()[:300]
        return ServerError(f"unexpected status {status}: {detail}".rstrip(": "), status)
    if status == 429 and b"insufficient_quota" not in body:
        return RetryLimitReached(status, response.reason_phrase or "Too Many Requests")
    return classify_client_error(status, body, hint)


def backoff(provider: ModelProviderInfo, attempt: int) -> float:
    return min(provider.retry_base_delay_ms / 1000 * 2.0**attempt, MAX_RETRY_WAIT_S)


async def sse_events(response: Response) -> AsyncIterator[SSEEvent]:
    """The SSE events of a streamed answer, as they arrive.

    A silence longer than the read timeout (the provider's idle timeout) raises `IdleTimeout`;
    a broken or malformed body raises `StreamDisconnected`.
    """
    decoder = SSEDecoder()
    try:
        async for chunk in response.aiter_bytes():
            for event in decoder.feed(chunk):
                yield event
    except ReadTimeout:
        raise IdleTimeout(IDLE_TIMEOUT_MESSAGE) from None
    except TransportError as err:
        raise StreamDisconnected(
            f"stream disconnected before completion: {describe(err)}"
        ) from None


def describe(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
