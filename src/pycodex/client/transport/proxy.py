"""Which proxy a request goes through, read from the environment as curl and Python clients do.

- `https_proxy` / `HTTPS_PROXY` for https:// URLs, `http_proxy` / `HTTP_PROXY` for http://,
  `all_proxy` / `ALL_PROXY` for either when the scheme's own variable is unset. The lower-case
  spelling wins; an empty value counts as unset; a value without a scheme means `http://`.
- `no_proxy` / `NO_PROXY`: a comma list of hosts reached directly. `*` matches every host;
  `example.com` (or `.example.com`, `*.example.com`) matches that host and its subdomains;
  `host:port` only that port; an IP address itself; `10.0.0.0/8` the addresses in that network.
  Loopback is not special: `localhost` and `127.0.0.1` go through the proxy unless listed.
- Only `http://` proxies are supported; credentials in the proxy URL are sent as
  `Proxy-Authorization: Basic`. An http:// URL is requested from the proxy in absolute form; an
  https:// URL gets a `CONNECT host:port` tunnel with TLS to the server inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from pycodex.client.transport.errors import ProxyError
from pycodex.client.transport.http11 import Origin

_SCHEME_VARIABLES = {"http": "http_proxy", "https": "https_proxy"}


class Proxy(NamedTuple):
    origin: Origin
    authorization: str | None
    variable: str
    """The environment variable it came from, to name in messages (never the URL: it may hold
    a password)."""


class Route(NamedTuple):
    """How to reach `origin`: directly, or through `proxy`. Connections are pooled per route."""

    origin: Origin
    proxy: Proxy | None = None

    @property
    def tunnel(self) -> bool:
        """An https:// URL through a proxy: CONNECT, then TLS to the server."""
        return self.proxy is not None and self.origin.scheme == "https"

    @property
    def forward(self) -> bool:
        """An http:// URL through a proxy: the proxy gets the absolute URL."""
        return self.proxy is not None and self.origin.scheme == "http"


class ProxySettings:
    """The proxy variables of one environment, read once."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = env or {}
        self._by_scheme: dict[str, tuple[str, str]] = {}
        fallback = _lookup(env, "all_proxy")
        for scheme, variable in _SCHEME_VARIABLES.items():
            found = _lookup(env, variable) or fallback
            if found is not None:
                self._by_scheme[scheme] = found
        no_proxy = _lookup(env, "no_proxy")
        value = no_proxy[1] if no_proxy else ""
        self.no_proxy = tuple(e.strip().lower() for e in value.split(",") if e.strip())

    def route(self, origin: Origin) -> Route:
        found = self._by_scheme.get(origin.scheme)
        if found is None or bypasses_proxy(self.no_proxy, origin):
            return Route(origin)
        return Route(origin, parse_proxy(*found))


def _lookup(env: Mapping[str, str], lower: str) -> tuple[str, str] | None:
    """(variable name, value) of the lower- or upper-case spelling, lower first."""
    for name in (lower, lower.upper()):
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def parse_proxy(variable: str, value: str) -> Proxy:
    text = value if "://" in value else f"http://{value}"
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme != "http":
        raise ProxyError(f"{variable} names a {scheme}:// proxy; only http:// proxies work")
    if not parts.hostname:
        raise ProxyError(f"{variable} is not a proxy URL (no host)")
    try:
        port = parts.port or 80
    except ValueError:
        raise ProxyError(f"{variable} has an invalid port") from None
    authorization = None
    if parts.username is not None:
        from base64 import b64encode

        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + b64encode(pair.encode()).decode("ascii")
    return Proxy(Origin("http", parts.hostname, port), authorization, variable)


def bypasses_proxy(entries: tuple[str, ...], origin: Origin) -> bool:
    """Whether a NO_PROXY list sends `origin` directly."""
    host = origin.host.lower()
    for entry in entries:
        if entry == "*":
            return True
        pattern, port = _split_entry(entry)
        if port is not None and port != origin.port:
            continue
        if _host_matches(pattern, host):
            return True
    return False


def _split_entry(entry: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]:port`, `v6`, `scheme://host:port` → (host pattern, port)."""
    entry = entry.split("://", 1)[-1].rstrip("/")
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
    else:
        host, port_text = entry, ""
    return host, int(port_text) if port_text.isdigit() else None


def _host_matches(pattern: str, host: str) -> bool:
    if "/" in pattern:
        return _in_network(pattern, host)
    pattern = pattern.removeprefix("*").removeprefix(".")
    return bool(pattern) and (host == pattern or host.endswith("." + pattern))


def _in_network(cidr: str, host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
