"""Opening a connection for a route: TCP, a proxy tunnel when asked for, TLS for https.

TLS contexts cost ~30 ms to build (loading the CA certificates), so `TlsSettings.context()`
builds one only when the first https connection opens. Verification uses the system's CA store,
or the file and directory in `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (they replace it, as they
do for curl). A system without any CA store falls back to `certifi` when it is installed.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Mapping

from pycodex.client.transport.errors import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    RemoteProtocolError,
)
from pycodex.client.transport.http11 import Connection, Origin, encode_field
from pycodex.client.transport.proxy import Proxy, Route
from pycodex.client.transport.socket_stream import SocketStream, reason


class TlsSettings:
    """`verify`: True checks certificates, False skips checking, a context is used as given."""

    def __init__(self, verify: bool | ssl.SSLContext, env: Mapping[str, str]) -> None:
        self._verify = verify
        cafile, capath = env.get("SSL_CERT_FILE"), env.get("SSL_CERT_DIR")
        self._cafile = cafile if cafile and os.path.isfile(cafile) else None
        self._capath = capath if capath and os.path.isdir(capath) else None
        self._context = verify if isinstance(verify, ssl.SSLContext) else None

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = self._build()
        return self._context

    def _build(self) -> ssl.SSLContext:
        if not self._verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif self._cafile or self._capath:
            context = ssl.create_default_context(cafile=self._cafile, capath=self._capath)
        else:
            context = ssl.create_default_context()
            _fall_back_to_certifi(context)
        context.set_alpn_protocols(["http/1.1"])
        return context


def _fall_back_to_certifi(context: ssl.SSLContext) -> None:
    paths = ssl.get_default_verify_paths()
    if paths.cafile or paths.capath:
        return
    try:
        import certifi  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return
    context.load_verify_locations(certifi.where())


async def open_connection(route: Route, timeout_s: float | None, tls: TlsSettings) -> Connection:
    """A connection ready for a request to `route.origin`; the whole setup is one timeout."""
    where = route.proxy.origin if route.proxy else route.origin
    try:
        async with asyncio.timeout(timeout_s):
            return await _open(route, tls)
    except TimeoutError:
        via = f"the proxy {where.authority} for " if route.proxy else ""
        raise ConnectTimeout(
            f"connecting to {via}{route.origin.authority} timed out after {timeout_s:g} s"
        ) from None


async def _open(route: Route, tls: TlsSettings) -> Connection:
    origin, proxy = route.origin, route.proxy
    if proxy is None:
        context = tls.context() if origin.scheme == "https" else None
        return await _tcp(origin, context, origin.authority, None)
    conn = await _tcp(proxy.origin, None, f"proxy {proxy.origin.authority}", proxy)
    if not route.tunnel:
        conn.peer = f"{origin.authority} (via proxy {proxy.origin.authority})"
        return conn
    try:
        await _connect_tunnel(conn, origin, proxy)
        await _start_tls(conn, origin, tls.context())
    except BaseException:
        conn.close()
        raise
    return conn


async def _tcp(
    origin: Origin, context: ssl.SSLContext | None, peer: str, proxy: Proxy | None
) -> Connection:
    loop = asyncio.get_running_loop()
    try:
        _transport, stream = await loop.create_connection(
            lambda: SocketStream(peer),
            origin.host,
            origin.port,
            ssl=context,
            server_hostname=origin.host if context else None,
        )
    except ssl.SSLError as err:
        raise _tls_error(err, origin) from None
    except OSError as err:
        if proxy is not None:
            raise ProxyError(
                f"cannot connect to the proxy {origin.authority} from {proxy.variable}: "
                f"{reason(err)}"
            ) from None
        raise ConnectError(f"cannot connect to {origin.authority}: {reason(err)}") from None
    return Connection(stream)


async def _connect_tunnel(conn: Connection, origin: Origin, proxy: Proxy) -> None:
    fields = [("Host", origin.authority)]
    if proxy.authorization:
        fields.append(("Proxy-Authorization", proxy.authorization))
    headers = [encode_field(name, value) for name, value in fields]
    await conn.send_request("CONNECT", origin.authority, headers, None, None)
    head = await conn.read_head(None)
    if not 200 <= head.status < 300:
        hint = f" (check the credentials in {proxy.variable})" if head.status == 407 else ""
        raise ProxyError(
            f"the proxy {proxy.origin.authority} refused a tunnel to {origin.authority}: "
            f"HTTP {head.status} {head.reason}{hint}".rstrip()
        )
    if conn.has_tunnel_data:
        raise RemoteProtocolError(
            f"the proxy {proxy.origin.authority} sent data before the tunnel was set up"
        )


async def _start_tls(conn: Connection, origin: Origin, context: ssl.SSLContext) -> None:
    stream = conn.stream
    assert stream.transport is not None
    loop = asyncio.get_running_loop()
    try:
        transport = await loop.start_tls(
            stream.transport, stream, context, server_hostname=origin.host
        )
    except ssl.SSLError as err:
        raise _tls_error(err, origin) from None
    except OSError as err:
        raise ConnectError(f"TLS with {origin.authority} failed: {reason(err)}") from None
    if transport is None:
        raise ConnectError(f"TLS with {origin.authority} failed: the connection closed")
    stream.use_transport(transport)
    conn.restart()
    conn.peer = origin.authority


def _tls_error(err: ssl.SSLError, origin: Origin) -> ConnectError:
    if isinstance(err, ssl.SSLCertVerificationError):
        return ConnectError(
            f"the TLS certificate of {origin.authority} is not trusted ({err.verify_message}); "
            "set SSL_CERT_FILE to a CA bundle that holds its issuer"
        )
    return ConnectError(f"TLS handshake with {origin.authority} failed: {err.reason or err}")
