"""The HTTP/1.1 transport against real loopback servers: framing, keep-alive, failures, timeouts."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from pycodex.client.transport import (
    ConnectError,
    Headers,
    HttpClient,
    InvalidRequest,
    ReadTimeout,
    RemoteProtocolError,
    Timeouts,
)
from support.loopback import LoopbackServer, chunked, http_response, serve_each

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


async def test_content_length_body_and_request_head() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(b"hello", headers={"X-Thing": "a", "Content-Type": "text/x"}))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        response = await http.post(
            f"{server.url}/v1/things?x=1", content=b"{}", headers={"Authorization": "Bearer k"}
        )
    assert (response.status_code, response.reason_phrase, response.content) == (200, "OK", b"hello")
    assert response.text == "hello"
    assert response.headers["x-thing"] == response.headers["X-THING"] == "a"
    request = server.requests[0]
    assert request.line == "POST /v1/things?x=1 HTTP/1.1"
    assert request.header_names[0] == "Host"
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.headers["content-length"] == "2" and request.body == b"{}"
    assert request.headers["accept-encoding"] == "identity"
    assert request.headers["connection"] == "keep-alive"
    assert request.headers["authorization"] == "Bearer k"
    assert request.headers["user-agent"].startswith("pycodex/")


async def test_caller_user_agent_replaces_the_default_and_framing_stays_ours() -> None:
    async with LoopbackServer(serve_each) as server, HttpClient() as http:
        await http.get(
            server.url, headers={"user-agent": "mine/1", "Content-Length": "99", "Connection": "x"}
        )
    request = server.requests[0]
    assert [n.lower() for n in request.header_names].count("user-agent") == 1
    assert request.headers["user-agent"] == "mine/1"
    assert "content-length" not in request.headers  # a GET without a body
    assert request.headers["connection"] == "keep-alive"


async def test_chunked_body_streams_chunks_as_they_arrive() -> None:
    first_seen = asyncio.Event()

    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        head = http_response(headers={"Content-Length": "", "Transfer-Encoding": "chunked"})
        writer.write(head + b"5;ext=1\r\nhello\r\n")
        await writer.drain()
        await first_seen.wait()  # the second chunk only after the client got the first
        writer.write(chunked(b" world") + b"0\r\nX-Trailer: t\r\n\r\n")

    async with LoopbackServer(handler) as server, HttpClient() as http:
        pieces = []
        async with http.stream("GET", server.url) as response:
            async for piece in response.aiter_bytes():
                pieces.append(piece)
                first_seen.set()
        assert b"".join(pieces) == b"hello world"
        assert pieces[0] == b"hello"


async def test_body_until_close_is_read_and_the_connection_not_reused() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    async with LoopbackServer(handler) as server, HttpClient() as http:
        assert (await http.get(server.url)).content == b"all of it"
        assert (await http.get(server.url)).content == b"all of it"
    assert server.connections == 2


async def test_keep_alive_reuses_one_connection() -> None:
    async with LoopbackServer(serve_each) as server, HttpClient() as http:
        for _ in range(3):
            assert (await http.get(server.url)).content == b"ok"
        async with http.stream("GET", server.url) as response:
            assert await response.aread() == b"ok"
    assert server.connections == 1
    assert [r.connection for r in server.requests] == [1, 1, 1, 1]


async def test_connection_close_or_an_unread_body_is_not_reused() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        while (request := await server.read_request(reader)) is not None:
            close = {"Connection": "close"} if request.line.startswith("GET /close") else {}
            writer.write(http_response(b"x" * 2_000_000, headers=close))
            await writer.drain()

    async with LoopbackServer(handler) as server, HttpClient() as http:
        await http.get(f"{server.url}/close")
        await http.get(f"{server.url}/a")  # a new connection: the first said close
        async with http.stream("GET", f"{server.url}/b") as response:
            async for _ in response.aiter_bytes():
                break  # most of the body is left unread: the connection cannot carry more
        await http.get(f"{server.url}/c")
    assert [r.connection for r in server.requests] == [1, 2, 2, 3]


async def test_no_body_for_head_204_and_304() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        while (request := await server.read_request(reader)) is not None:
            if request.line.startswith("HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            elif "/204" in request.line:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n")
            await writer.drain()

    async with LoopbackServer(handler) as server, HttpClient() as http:
        head = await http.request("HEAD", server.url)
        empty = await http.get(f"{server.url}/204")
        cached = await http.get(f"{server.url}/304")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "10")
    assert (empty.status_code, empty.content) == (204, b"")
    assert (cached.status_code, cached.content) == (304, b"")
    assert server.connections == 1


async def test_interim_1xx_responses_are_skipped() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n")
        writer.write(http_response(b"final", status="201 Created"))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        response = await http.post(server.url, content=b"x")
    assert (response.status_code, response.content) == (201, b"final")


async def test_a_pooled_connection_the_server_closed_is_retried_on_a_new_one() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        request = await server.read_request(reader)
        if request is not None and request.connection == 1:
            writer.write(http_response(b"first"))
            await writer.drain()
            await server.read_request(reader)  # and hang up unanswered: its keep-alive expired
            return
        writer.write(http_response(b"fresh"))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        assert (await http.get(server.url)).content == b"first"
        response = await http.post(server.url, content=b"again")
    assert response.content == b"fresh"
    assert [(r.connection, r.body) for r in server.requests] == [
        (1, b""),
        (1, b"again"),
        (2, b"again"),
    ]


async def test_a_pooled_connection_seen_closed_is_dropped_before_sending() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(b"bye"))
        await writer.drain()

    async with LoopbackServer(handler) as server, HttpClient() as http:
        await http.get(server.url)
        await asyncio.sleep(0.2)  # the server's close reaches the idle pooled connection
        assert (await http.get(server.url)).content == b"bye"
    assert [r.connection for r in server.requests] == [1, 2]


async def test_a_pooled_connection_with_unrequested_bytes_is_not_reused() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(b"first"))
        # A parting shot some servers send on an idle connection, which stays open here.
        writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        await serve_each(server, reader, writer, http_response(b"later"))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        await http.get(server.url)
        await asyncio.sleep(0.1)
        second = await http.get(server.url)
    assert (second.status_code, second.content) == (200, b"first")
    assert [r.connection for r in server.requests] == [1, 2]


async def test_a_new_connection_closed_without_answer_is_not_retried() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)

    async with LoopbackServer(handler) as server, HttpClient() as http:
        with pytest.raises(RemoteProtocolError, match="without sending a response"):
            await http.get(server.url)
    assert server.connections == 1


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (http_response(b"x" * 10, headers={"Content-Length": "100"}), r"\(10 of 100 bytes\)"),
        (
            http_response(headers={"Content-Length": "", "Transfer-Encoding": "chunked"})
            + chunked(b"data: 1\n\n"),
            "in the middle of a chunked response body",
        ),
    ],
)
async def test_a_body_cut_short_is_a_remote_protocol_error(reply: bytes, message: str) -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(reply)

    received = b""
    async with (
        LoopbackServer(handler) as server,
        HttpClient() as http,
        http.stream("GET", server.url) as response,
    ):
        with pytest.raises(RemoteProtocolError, match=message) as caught:
            async for piece in response.aiter_bytes():
                received += piece
    assert received in (b"x" * 10, b"data: 1\n\n")
    assert "\n" not in str(caught.value)


async def test_malformed_responses_are_remote_protocol_errors() -> None:
    replies = iter([b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"])

    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(next(replies))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        with pytest.raises(RemoteProtocolError, match=r"did not answer with HTTP/1\.x"):
            await http.get(server.url)
        with pytest.raises(RemoteProtocolError, match="invalid Content-Length"):
            await http.get(server.url)


async def test_idle_read_timeout_per_read_and_per_request() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(b"part", headers={"Content-Length": "100"}))
        await asyncio.sleep(30)

    async with LoopbackServer(handler) as server, HttpClient(timeouts=Timeouts(read=0.3)) as http:
        async with http.stream("GET", server.url) as response:
            started = time.monotonic()
            with pytest.raises(ReadTimeout, match=r"sent nothing for 0.3 s"):
                async for _ in response.aiter_bytes():
                    pass
            assert 0.25 < time.monotonic() - started < 5
        with pytest.raises(ReadTimeout, match=r"sent nothing for 0.1 s"):
            await http.get(server.url, timeouts=Timeouts(read=0.1))


async def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with HttpClient() as http:
        with pytest.raises(
            ConnectError, match=rf"cannot connect to 127.0.0.1:{port}: connection refused"
        ):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_unusable_urls_and_headers_are_invalid_requests() -> None:
    async with HttpClient() as http:
        with pytest.raises(InvalidRequest, match="only http:// and https://"):
            await http.get("ftp://127.0.0.1/x")
        with pytest.raises(InvalidRequest, match="line break"):
            await http.get("http://127.0.0.1:1/", headers={"x-evil": "a\r\nInjected: 1"})


async def test_closing_the_client_closes_its_connections() -> None:
    closed = asyncio.Event()

    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await serve_each(server, reader, writer)
        closed.set()

    async with LoopbackServer(handler) as server:
        http = HttpClient()
        await http.get(server.url)
        await http.aclose()
        await asyncio.wait_for(closed.wait(), 5)
        with pytest.raises(RuntimeError, match="closed"):
            await http.get(server.url)


async def test_the_rest_of_a_stream_already_received_is_read_on_close() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        while await server.read_request(reader) is not None:
            head = http_response(headers={"Content-Length": "", "Transfer-Encoding": "chunked"})
            writer.write(head + chunked(b"event: done\n\n") + b"0\r\n\r\n")
            await writer.drain()

    async with LoopbackServer(handler) as server, HttpClient() as http:
        for _ in range(2):
            async with http.stream("GET", server.url) as response:
                async for piece in response.aiter_bytes():
                    assert piece == b"event: done\n\n"
                    await asyncio.sleep(0.05)  # the terminating chunk arrives meanwhile
                    break  # the consumer stops at its own end marker
    assert server.connections == 1


async def test_response_body_access_rules() -> None:
    async with LoopbackServer(serve_each) as server, HttpClient() as http:
        response = await http.send("GET", server.url)
        with pytest.raises(RuntimeError, match="not read"):
            _ = response.content
        assert await response.aread() == b"ok"
        assert [piece async for piece in response.aiter_bytes()] == [b"ok"]
        assert response.is_closed
        unread = await http.send("GET", server.url)
        await unread.aclose()
        with pytest.raises(RuntimeError, match="closed before its body was read"):
            await unread.aread()


async def test_text_uses_the_declared_charset_and_json_parses_the_body() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        while (request := await server.read_request(reader)) is not None:
            if "latin" in request.line:
                content_type = 'text/plain; charset="latin-1"'
                writer.write(
                    http_response("café".encode("latin-1"), headers={"Content-Type": content_type})
                )
            else:
                writer.write(http_response('{"name": "café"}'.encode()))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        assert (await http.get(f"{server.url}/latin")).text == "café"
        response = await http.get(f"{server.url}/json")
    assert response.text == '{"name": "café"}'
    assert response.json() == {"name": "café"}


def test_headers_are_case_insensitive_and_keep_repeats() -> None:
    headers = Headers(
        [("Set-Cookie", "a=1"), ("Content-Type", "text/plain"), ("set-cookie", "b=2")]
    )
    assert headers["content-type"] == headers["CONTENT-TYPE"] == "text/plain"
    assert "Content-Type" in headers and "x-missing" not in headers
    assert headers.get("X-Missing") is None
    assert headers["set-cookie"] == "a=1, b=2"
    assert headers.get_list("SET-COOKIE") == ["a=1", "b=2"]
    assert list(headers) == ["set-cookie", "content-type"]
    assert len(headers) == 2
    assert headers.raw[0] == ("Set-Cookie", "a=1")
