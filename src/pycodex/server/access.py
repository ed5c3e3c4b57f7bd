"""Which browsers may reach the server: the `Host` and `Origin` checks against web pages.

The server spends its downstream key for whoever can send it a request, and a web page in the
user's browser can send requests to 127.0.0.1 too. Three checks keep pages out:

- `Host` (DNS rebinding): a page on `evil.example` can make its own name resolve to 127.0.0.1,
  after which the browser treats the server as part of that page's origin and may read its
  answers (stored conversations included). Such requests carry `Host: evil.example`. Accepted
  are IP literals (no rebinding goes through one), `localhost` and `*.localhost`, and the names
  given with `--allowed-host` (`*` accepts any).
- `Origin`: browsers name the page that sent a request; requests from a page whose origin is not
  on this machine (`localhost`, a loopback address) or given with `--allowed-origin` are refused.
  Programs (SDKs, curl, Codex) send no `Origin` and are not affected.
- `Content-Type`: a POST must say `application/json`. Pages can send `text/plain` bodies to any
  server without asking first; a JSON body makes the browser ask (a CORS preflight), which this
  server never grants.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from pycodex._records import dataclass
from pycodex.server.errors import ApiError

ANY = "*"


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    allowed_hosts: frozenset[str] = frozenset()
    """Extra `Host` names (lower case), or `*`."""
    allowed_origins: frozenset[str] = frozenset()
    """Extra origins (`scheme://host[:port]`, lower case), or `*`."""

    @classmethod
    def of(cls, hosts: Iterable[str] = (), origins: Iterable[str] = ()) -> AccessPolicy:
        return cls(
            frozenset(h.strip().lower().rstrip(".") for h in hosts),
            frozenset(o.strip().lower().rstrip("/") for o in origins),
        )

    def check(self, headers: Mapping[str, str]) -> None:
        """Raise a 403 `ApiError` for a request a foreign web page may have sent."""
        host = headers.get("host")
        if host is not None and not self._host_allowed(_host_name(host)):
            raise ApiError(
                403,
                f"Host '{host}' is not accepted by this server (DNS rebinding protection); "
                "start it with --allowed-host NAME to accept that name.",
                code="host_not_allowed",
            )
        origin = headers.get("origin")
        if origin is not None and not self._origin_allowed(origin.strip().lower()):
            raise ApiError(
                403,
                f"Requests from web pages of origin '{origin}' are not accepted; start the "
                "server with --allowed-origin ORIGIN to accept them.",
                code="origin_not_allowed",
            )

    def _host_allowed(self, name: str) -> bool:
        if ANY in self.allowed_hosts or name in self.allowed_hosts:
            return True
        return _is_ip(name) or name == "localhost" or name.endswith(".localhost")

    def _origin_allowed(self, origin: str) -> bool:
        if ANY in self.allowed_origins or origin.rstrip("/") in self.allowed_origins:
            return True
        try:
            parts = urlsplit(origin)
            name = (parts.hostname or "").rstrip(".")
        except ValueError:
            return False
        if parts.scheme not in ("http", "https"):
            return False
        return name == "localhost" or name.endswith(".localhost") or _is_loopback(name)


def check_json_content_type(headers: Mapping[str, str]) -> None:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        shown = media_type or "none"
        raise ApiError(
            415,
            f"Send the request body as JSON with 'Content-Type: application/json' "
            f"(this request's content type: {shown}).",
            code="unsupported_media_type",
            error_type="invalid_request_error",
        )


def is_loopback_host(host: str) -> bool:
    """Whether a `--host` value binds only this machine (`localhost` or a loopback address)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    return name == "localhost" or _is_loopback(name)


def _host_name(host: str) -> str:
    """The name in a `Host` value: `[::1]:8790` → `::1`, `Example.COM.:80` → `example.com`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, colon, port = host.rpartition(":")
    if colon and port.isascii() and port.isdigit() and ":" not in name:
        host = name
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
