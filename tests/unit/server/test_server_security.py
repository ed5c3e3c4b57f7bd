"""Web pages cannot use `pycodex serve`: Content-Type, Host (DNS rebinding) and Origin checks.

Each refused request must not reach the model server (the fake has no script for it, so one that
got through would fail the test at teardown).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pycodex.server.access import is_loopback_host
from support.fake_server import FakeModelServer
from support.serve import running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"
BODY = b'{"model": "m", "input": "hi"}'
JSON = "application/json"


def reply_ok(fake_server: FakeModelServer) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("ok"), chat_chunk(finish_reason="stop")])


async def test_the_cross_site_post_of_the_report_is_refused(http: httpx.AsyncClient) -> None:
    # What a page on evil.example could send after rebinding its name to 127.0.0.1.
    headers = {"content-type": "text/plain", "origin": "http://evil.example", "host": "evil.example:8790"}  # fmt: skip
    response = await http.post("/v1/responses", content=BODY, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "host_not_allowed"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
async def test_post_bodies_must_be_json(http: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await http.post("/v1/responses", content=BODY, headers=headers)
    assert response.status_code == 415
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "unsupported_media_type")


async def test_json_with_a_charset_is_json(
    http: httpx.AsyncClient, fake_server: FakeModelServer
) -> None:
    reply_ok(fake_server)
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    response = await http.post("/v1/responses", content=BODY, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8790", "127.0.0.1.nip.io", "LOCALHOST.evil.example"]
)
async def test_foreign_host_names_are_refused_on_every_route(
    http: httpx.AsyncClient, host: str
) -> None:
    for method, path in (
        ("GET", "/v1/models"),
        ("GET", "/v1/responses/resp_1"),
        ("POST", "/v1/responses"),
    ):
        response = await http.request(
            method, path, content=BODY, headers={"host": host, "content-type": JSON}
        )
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "host_not_allowed"
    health = await http.get("/health", headers={"host": host})
    assert health.status_code == 200  # says nothing, for load balancers


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8790",
        "localhost",
        "app.localhost:1",
        "[::1]:8790",
        "192.168.1.5:8790",
        "[fe80::1]",
    ],
)
async def test_ip_literals_and_localhost_are_accepted(
    http: httpx.AsyncClient, fake_server: FakeModelServer, host: str
) -> None:
    reply_ok(fake_server)
    response = await http.post(
        "/v1/responses", content=BODY, headers={"host": host, "content-type": JSON}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://127.0.0.1.evil.example",
        "null",
        "file://",
        "chrome-extension://abc",
    ],
)
async def test_foreign_origins_are_refused(http: httpx.AsyncClient, origin: str) -> None:
    response = await http.post(
        "/v1/responses", content=BODY, headers={"origin": origin, "content-type": JSON}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:3000", "http://127.0.0.1:8790", "https://[::1]", "http://ui.localhost"],
)
async def test_pages_of_this_machine_are_accepted(
    http: httpx.AsyncClient, fake_server: FakeModelServer, origin: str
) -> None:
    reply_ok(fake_server)
    response = await http.post(
        "/v1/responses", content=BODY, headers={"origin": origin, "content-type": JSON}
    )
    assert response.status_code == 200


async def test_allow_lists_accept_configured_hosts_and_origins(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    reply_ok(fake_server)
    with running_serve(
        fake_server,
        tmp_path,
        store="memory",
        allowed_hosts=("serve.internal",),
        allowed_origins=("https://tools.example",),
    ) as serve:
        async with httpx.AsyncClient(base_url=serve.origin) as http:
            headers = {"host": "Serve.Internal:8790", "origin": "https://tools.example", "content-type": JSON}  # fmt: skip
            accepted = await http.post("/v1/responses", content=BODY, headers=headers)
            other = await http.get("/v1/models", headers={"host": "other.internal"})
    assert accepted.status_code == 200
    assert other.status_code == 403


def test_loopback_hosts() -> None:
    assert all(
        map(is_loopback_host, ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "LOCALHOST."])
    )
    assert not any(map(is_loopback_host, ["0.0.0.0", "::", "192.168.1.5", "example.com", ""]))
