"""The HTTP side every model client shares, whatever its wire API.

- `send_with_retries`: POST a streamed request; retry transport errors, 5xx and 429 silently
  (`request_max_retries`, exponential backoff from `retry_base_delay_ms`, `Retry-After` and
  `retry-after-ms` honoured), then raise a typed error from `pycodex.protocol.errors`.
- `with_idle_timeout`: the body's bytes, failing with `IdleTimeout` when the server goes quiet for
  longer than `stream_idle_timeout_ms` and with `StreamDisconnected` when the connection breaks.
- `new_http_client`: the pooled `transport.HttpClient` a model client owns.
- `identity_headers`: who is asking (originator, user agent, thread and turn ids).

Retries of the whole turn (`stream_max_retries`, "Reconnecting... n/5") are the engine's job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from pycodex._version import __version__
from pycodex.client.classify import classify_client_error, retry_after_from_headers
from pycodex.client.request import ModelSettings, RequestContext
from pycodex.client.transport import HttpClient, Response, Timeouts, TransportError
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
) -> Response:
    """POST `body`; return the streaming response once its status is below 400.

    The caller reads the body and closes the response. The same headers (and so the same
    `x-client-request-id`) go out on every attempt.
    """
    max_retries = provider.request_max_retries
    attempt = 0
    while True:
        try:
            response = await client.send("POST", url, content=body, headers=headers)
        except TransportError as err:
            if attempt >= max_retries:
                raise StreamDisconnected(f"error sending request: {describe(err)}") from None
            await asyncio.sleep(backoff(provider, attempt))
            attempt += 1
            continue
        if response.status_code < 400:
            return response
        try:
            error_body = await response.aread()
        except TransportError:
            error_body = b""  # the status decides; a cut error body only loses its detail
        finally:
            await response.aclose()
        delay = _retry_delay(provider, response, error_body, attempt)
        if delay is None:
            raise final_http_error(response, error_body, auth_hint(provider))
        await asyncio.sleep(delay)
        attempt += 1


def _retry_delay(
    provider: ModelProviderInfo, response: Response, body: bytes, attempt: int
) -> float | None:
    """Seconds to wait before retrying this HTTP failure, or None to give up."""
    status = response.status_code
    retryable = status == 429 or status >= 500
    if not retryable or attempt >= provider.request_max_retries:
        return None
    if status == 429 and b"insufficient_quota" in body:
        return None
    after = retry_after_from_headers(response.headers)
    return after if after is not None else backoff(provider, attempt)


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
    return provider.retry_base_delay_ms / 1000 * 2.0**attempt


async def with_idle_timeout(chunks: AsyncIterator[bytes], idle_s: float) -> AsyncIterator[bytes]:
    """`chunks`, with a silence longer than `idle_s` and a broken connection as typed errors."""
    iterator = chunks.__aiter__()
    while True:
        try:
            async with asyncio.timeout(idle_s):
                chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise IdleTimeout(
                "stream disconnected before completion: idle timeout waiting for SSE"
            ) from None
        except TransportError as err:
            raise StreamDisconnected(
                f"stream disconnected before completion: {describe(err)}"
            ) from None
        yield chunk


def describe(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
