"""What a streamed model answer must be before its events are read, and redirects.

A 2xx answer must be an event stream (`text/event-stream`; a missing Content-Type is let
through, as minimal servers omit it) in a content coding the transport can undo. A 3xx is
followed only when it keeps the request as it is and where it was going: a 307 or 308 to the
same origin (scheme, host and port), at most `MAX_REDIRECTS` times. Everything else fails at
once with `UnexpectedResponse`, whose message says what the server answered and what to change;
retrying would get the same answer.
"""

from __future__ import annotations

from urllib.parse import urljoin

from pycodex.client.classify import error_fields
from pycodex.client.transport import Response, TransportError
from pycodex.client.transport.body import unsupported_codings
from pycodex.client.transport.http11 import parse_url
from pycodex.protocol.errors import UnexpectedResponse

MAX_REDIRECTS = 5
_SNIPPET_BYTES = 300


async def require_event_stream(response: Response) -> None:
    """Raise `UnexpectedResponse` (after closing the response) unless it is a readable stream."""
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    codings = unsupported_codings(response.headers)
    if codings:
        await response.aclose()
        raise UnexpectedResponse(
            f"{_answered(response)} a body in the {', '.join(codings)} content coding, which "
            "pycodex cannot decode (it asks for identity and decodes gzip and deflate)",
            response.status_code,
        )
    if not media or media == "text/event-stream":
        return
    snippet = await _first_bytes(response)
    detail = _readable(snippet)
    raise UnexpectedResponse(
        f"{_answered(response)} {media} instead of an event stream (text/event-stream); "
        f"check the provider's base_url{': ' + detail if detail else ''}",
        response.status_code,
    )


async def redirect_target(response: Response, url: str, hops: int) -> str:
    """Where a same-origin 307/308 leads; any other redirect raises `UnexpectedResponse`.

    The response is closed either way.
    """
    await response.aclose()
    status = response.status_code
    location = response.headers.get("location", "").strip()
    target = urljoin(url, location) if location else ""
    fix = "set the provider's base_url to the address the server points to"
    if not target:
        problem = "without a Location to go to"
    elif status not in (307, 308):
        problem = f"to {target}; a {status} may turn the POST into a GET, so it is not followed"
    elif not _same_origin(url, target):
        problem = f"to {target}, another origin: not followed, the API key would go with it"
    elif hops >= MAX_REDIRECTS:
        problem = f"to {target}, more than {MAX_REDIRECTS} redirects in a row"
    else:
        return target
    raise UnexpectedResponse(f"{_answered(response)} a redirect {problem}; {fix}", status)


def _same_origin(url: str, target: str) -> bool:
    try:
        return parse_url(url)[0] == parse_url(target)[0]
    except TransportError:
        return False


def _answered(response: Response) -> str:
    from http import HTTPStatus  # only for an unusable answer; the enum costs ~1 ms at import

    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = response.reason_phrase
    return f"{response.url} answered HTTP {status} {phrase}".rstrip() + " with"


async def _first_bytes(response: Response) -> bytes:
    """The start of the body (enough to show), without reading an endless stream to its end."""
    data = b""
    try:
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= _SNIPPET_BYTES:
                break
    except TransportError:
        pass
    finally:
        await response.aclose()
    return data[:_SNIPPET_BYTES]


def _readable(snippet: bytes) -> str:
    _code, message = error_fields(snippet)
    return " ".join(message.split())[:200]
