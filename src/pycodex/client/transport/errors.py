"""Why a request did not get its response. Every message is one line, fit to show a user.

    TransportError              anything that kept a request from its response
    ├── InvalidRequest          a URL, scheme or header the transport cannot send
    ├── ConnectError            no connection: DNS, refused, unreachable, TLS handshake
    │   └── ProxyError          the proxy is unusable, unreachable or refused the tunnel
    ├── TransportTimeout        a wait that ran out
    │   ├── ConnectTimeout      opening the connection (TCP, proxy tunnel, TLS) took too long
    │   └── ReadTimeout         no byte arrived, or none could be sent, for the read timeout
    ├── NetworkError            an open connection broke (reset, broken pipe)
    └── RemoteProtocolError     a malformed response, or the server closed mid-response

Callers retry a `TransportError` as a disconnect; only `TransportTimeout` is told apart (a
gateway answers 504 for it rather than 502).
"""

from __future__ import annotations


class TransportError(Exception):
    """The request failed below HTTP: no response, or a broken one."""

    def __init__(self, message: str) -> None:
        # Messages quote OS and TLS errors, which may span lines; users get one line.
        super().__init__(" ".join(message.split()))


class InvalidRequest(TransportError):
    """The request cannot be sent as given (a URL without a host, a header with a newline)."""


class ConnectError(TransportError):
    """No connection to the server could be opened."""


class ProxyError(ConnectError):
    """The proxy from the environment cannot be used, cannot be reached or refused the tunnel."""


class TransportTimeout(TransportError):
    """A connect or read wait ran out."""


class ConnectTimeout(TransportTimeout):
    """Opening the connection (including a proxy tunnel and the TLS handshake) took too long."""


class ReadTimeout(TransportTimeout):
    """The server sent nothing (or accepted nothing) for longer than the read timeout."""


class NetworkError(TransportError):
    """An open connection failed: reset by the peer, broken pipe."""


class RemoteProtocolError(TransportError):
    """The server broke HTTP/1.1: a malformed response, or the connection closed mid-response."""
