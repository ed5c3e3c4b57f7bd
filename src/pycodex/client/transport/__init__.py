"""An asyncio HTTP/1.1 client on the standard library and `h11`, made to start fast.

- `pooled_client`: `HttpClient` (keep-alive pool, `send` / `stream` / `request` / `get` /
  `post`), `Response`, `Timeouts`.
- `http11`: HTTP/1.1 on one connection, framed by h11: URLs, `Headers`, request and response.
- `socket_stream`: one connection's bytes: buffered reads with one idle deadline per stream,
  quick ACKs, writes with flow control.
- `body`: content codings (gzip, deflate) undone as the body arrives.
- `connect`: opening a connection: TCP, proxy tunnel, TLS.
- `proxy`: proxies and `NO_PROXY` from the environment.
- `errors`: the error tree, `TransportError` at its root.

    async with HttpClient(timeouts=Timeouts(connect=10, read=60)) as http:
        async with http.stream("POST", url, headers=headers, content=body) as response:
            async for chunk in response.aiter_bytes():
                ...
"""

from __future__ import annotations

from pycodex.client.transport.errors import (
    ConnectError,
    ConnectTimeout,
    InvalidRequest,
    NetworkError,
    ProxyError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    TransportTimeout,
)
from pycodex.client.transport.http11 import Headers
from pycodex.client.transport.pooled_client import (
    DEFAULT_USER_AGENT,
    HttpClient,
    Response,
    Timeouts,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "ConnectError",
    "ConnectTimeout",
    "Headers",
    "HttpClient",
    "InvalidRequest",
    "NetworkError",
    "ProxyError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Response",
    "Timeouts",
    "TransportError",
    "TransportTimeout",
]
