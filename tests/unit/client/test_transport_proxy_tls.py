"""The transport's proxies (from the environment) and TLS, against loopback servers only.

The "proxies" here are small asyncio servers on 127.0.0.1 that answer in place of the origin, so
no name is ever resolved and nothing leaves the machine. TLS uses a self-signed certificate made
with the `openssl` command for the session (skipped without it).
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from pycodex.client.transport import (
    ConnectError,
    ConnectTimeout,
    HttpClient,
    ProxyError,
    Timeouts,
)
from pycodex.client.transport.http11 import Origin
from pycodex.client.transport.proxy import ProxySettings, bypasses_proxy
from support.loopback import LoopbackServer, http_response, serve_each

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


# --- choosing the proxy -------------------------------------------------------------------


def _route(env: dict[str, str], url_host: str, scheme: str = "https", port: int = 443) -> str:
    route = ProxySettings(env).route(Origin(scheme, url_host, port))
    return "direct" if route.proxy is None else route.proxy.variable


def test_each_scheme_has_its_variable_and_all_proxy_is_the_fallback() -> None:
    env = {"HTTPS_PROXY": "http://p:1", "ALL_PROXY": "http://q:2"}
    assert _route(env, "api.example.com") == "HTTPS_PROXY"
    assert _route(env, "api.example.com", "http", 80) == "ALL_PROXY"
    assert _route({}, "api.example.com") == "direct"
    assert _route({"HTTPS_PROXY": ""}, "api.example.com") == "direct"


def test_lower_case_variables_win() -> None:
    settings = ProxySettings({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"})
    proxy = settings.route(Origin("https", "h", 443)).proxy
    assert proxy is not None
    assert (proxy.variable, proxy.origin.host, proxy.origin.port) == ("https_proxy", "lower", 1)


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "anything.example", 443, True),
        ("example.com", "example.com", 443, True),
        ("example.com", "api.example.com", 443, True),
        ("example.com", "badexample.com", 443, False),
        (".example.com", "api.example.com", 443, True),
        ("*.example.com", "example.com", 443, True),
        ("example.com:8443", "example.com", 443, False),
        ("example.com:8443", "example.com", 8443, True),
        ("Example.COM", "example.com", 443, True),
        ("10.0.0.0/8", "10.1.2.3", 443, True),
        ("10.0.0.0/8", "11.1.2.3", 443, False),
        ("192.168.1.5", "192.168.1.5", 80, True),
        ("::1", "::1", 443, True),
        ("[::1]:8000", "::1", 8000, True),
        ("other.org, example.com", "example.com", 443, True),
        ("", "localhost", 443, False),
        ("example.com", "127.0.0.1", 443, False),
        ("localhost", "localhost", 11434, True),
    ],
)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    entries = ProxySettings({"NO_PROXY": no_proxy}).no_proxy
    assert bypasses_proxy(entries, Origin("https", host, port)) is bypassed


async def test_an_unsupported_proxy_scheme_is_a_clear_error_without_the_password() -> None:
    async with HttpClient(env={"HTTPS_PROXY": "socks5://user:hunter2@127.0.0.1:1080"}) as http:
        with pytest.raises(ProxyError) as caught:
            await http.get("https://api.example.com/v1/models")
    assert str(caught.value) == "HTTPS_PROXY names a socks5:// proxy; only http:// proxies work"


async def test_trust_env_false_ignores_proxies() -> None:
    async with LoopbackServer(serve_each) as server:
        dead = {"HTTP_PROXY": "http://127.0.0.1:9"}
        async with HttpClient(env=dead, trust_env=False) as http:
            assert (await http.get(server.url)).content == b"ok"


# --- through an http proxy ----------------------------------------------------------------


async def test_http_urls_go_to_the_proxy_in_absolute_form_with_credentials() -> None:
    async with LoopbackServer(serve_each) as proxy:
        env = {"http_proxy": f"http://me:p%40ss@127.0.0.1:{proxy.port}", "HTTP_PROXY": "x"}
        async with HttpClient(env=env) as http:
            first = await http.get("http://model-box.internal:8000/v1/models?limit=2")
            await http.get("http://model-box.internal:8000/v1/other")
    assert first.content == b"ok"
    request = proxy.requests[0]
    assert request.line == "GET http://model-box.internal:8000/v1/models?limit=2 HTTP/1.1"
    assert request.headers["host"] == "model-box.internal:8000"
    assert request.headers["proxy-authorization"] == "Basic " + base64.b64encode(b"me:p@ss").decode(
        "ascii"
    )
    assert proxy.connections == 1  # the connection to the proxy is kept alive too


async def test_no_proxy_sends_loopback_directly() -> None:
    async with LoopbackServer(serve_each) as server:
        env = {"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "localhost,127.0.0.1"}
        async with HttpClient(env=env) as http:
            assert (await http.get(f"{server.url}/direct")).content == b"ok"
    assert server.requests[0].line == "GET /direct HTTP/1.1"


async def test_an_unreachable_proxy_names_its_variable() -> None:
    async with HttpClient(env={"HTTP_PROXY": "http://127.0.0.1:9"}) as http:
        with pytest.raises(
            ProxyError, match=r"cannot connect to the proxy 127\.0\.0\.1:9 from HTTP_PROXY"
        ):
            await http.get("http://example.internal/")


async def test_https_urls_get_a_connect_tunnel() -> None:
    async def refusing_proxy(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(b"no", status="407 Proxy Authentication Required"))

    async with LoopbackServer(refusing_proxy) as proxy:
        http = HttpClient(env={"HTTPS_PROXY": f"127.0.0.1:{proxy.port}"})
        with pytest.raises(ProxyError) as caught:
            await http.get("https://api.example.com/v1/responses")
        await http.aclose()
    assert str(caught.value) == (
        f"the proxy 127.0.0.1:{proxy.port} refused a tunnel to api.example.com:443: "
        "HTTP 407 Proxy Authentication Required (check the credentials in HTTPS_PROXY)"
    )
    request = proxy.requests[0]
    assert request.line == "CONNECT api.example.com:443 HTTP/1.1"
    assert request.headers["host"] == "api.example.com:443"


async def test_a_proxy_that_never_answers_connect_is_a_connect_timeout() -> None:
    async def silent(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        await asyncio.sleep(30)

    async with LoopbackServer(silent) as proxy:
        env = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}"}
        async with HttpClient(env=env, timeouts=Timeouts(connect=0.2)) as http:
            with pytest.raises(ConnectTimeout, match=r"timed out after 0\.2 s"):
                await http.get("https://api.example.com/")


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for example.test and 127.0.0.1: (cert.pem, key.pem)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=example.test",
            "-addext", "subjectAltName=DNS:example.test,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


async def test_tls_verification_trusts_ssl_cert_file_and_can_be_turned_off(
    certificate: tuple[Path, Path],
) -> None:
    async def tls_server(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        try:
            await writer.start_tls(_server_context(certificate))
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate
        await serve_each(server, reader, writer, http_response(b"secret"))

    async with LoopbackServer(tls_server) as server:
        url = f"https://127.0.0.1:{server.port}/v1/models"
        async with HttpClient(env={}) as http:
            with pytest.raises(ConnectError, match="is not trusted"):
                await http.get(url)
        async with HttpClient(env={"SSL_CERT_FILE": str(certificate[0])}) as http:
            assert (await http.get(url)).content == b"secret"
        async with HttpClient(verify=False, env={}) as http:
            assert (await http.get(url)).content == b"secret"
    assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"


async def test_tls_through_a_connect_tunnel(certificate: tuple[Path, Path]) -> None:
    async def tunnel(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)  # CONNECT
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        # The proxy plays the origin at the end of the tunnel: TLS for example.test.
        await writer.start_tls(_server_context(certificate))
        await serve_each(server, reader, writer, http_response(b"tunnelled"))

    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    async with LoopbackServer(tunnel) as proxy:
        env = {"HTTPS_PROXY": f"http://u:p@127.0.0.1:{proxy.port}"}
        async with HttpClient(env=env, verify=trusted) as http:
            first = await http.post("https://example.test/v1/responses", content=b"{}")
            second = await http.get("https://example.test/v1/models")
    assert (first.content, second.content) == (b"tunnelled", b"tunnelled")
    connect, inner, again = proxy.requests
    assert connect.line == "CONNECT example.test:443 HTTP/1.1"
    assert connect.headers["proxy-authorization"] == "Basic dTpw"
    assert inner.line == "POST /v1/responses HTTP/1.1"
    assert inner.headers["host"] == "example.test"
    assert "proxy-authorization" not in inner.headers  # only the proxy hears the credentials
    assert again.connection == 1  # the tunnel is pooled and reused
