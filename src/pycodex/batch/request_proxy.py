"""The batch's request proxy: a loopback HTTP server that every exec process of a machine sends
its model requests to, so one `RequestGate` sees them all.

exec itself is unchanged: the proxy's address replaces the provider's `base_url` with one more
`-c` override on the exec command line (`overrides_for`), and the proxy forwards each request to
the real server under `/u/<n>/`, streaming the answer back as it arrives. Headers pass through
as sent (the API key included), so the proxy needs no secret of its own.

The proxy answers one request per connection (`connection: close`; a loopback connect costs
microseconds), which lets it watch the connection for the exec process hanging up while the
model thinks. Each request holds a gate slot from before it is sent until its answer has been
relayed, or the exec process hung up. A 429 (other than `insufficient_quota`) is not passed
on: the gate pauses every request and the proxy sends this one again, up to
`rate_limit_retries` times; after that the 429 goes to exec, whose own retry rules apply. A
server that cannot be reached is answered with 502, which exec retries like any 5xx.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from typing import Any

from pycodex.batch.options import ExecOptions
from pycodex.batch.request_gate import RequestGate
from pycodex.batch.tasks import BatchTask
from pycodex.batch.toml_values import toml_key, toml_string
from pycodex.client.classify import error_fields, retry_after_from_headers
from pycodex.client.transport import HttpClient, Response, Timeouts, TransportError
from pycodex.server.http_server import (
    BadRequest,
    HttpRequest,
    HttpResponder,
    new_connection,
    read_request,
    refuse,
)

_MAX_BODY_BYTES = 256 * 1024 * 1024
# Hop-by-hop fields and those the proxy's own client sets.
_NOT_FORWARDED = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
    }
)
_NOT_RELAYED = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
_RouteKey = tuple[str | None, str | None, tuple[str, ...]]


class RequestProxy:
    def __init__(
        self,
        gate: RequestGate,
        *,
        env: Mapping[str, str] | None = None,
        rate_limit_retries: int = 8,
    ) -> None:
        self._gate = gate
        self._env = env
        self._rate_limit_retries = rate_limit_retries
        self._upstreams: list[str] = []
        self._routes: dict[_RouteKey, list[str]] = {}
        self._http: HttpClient | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        # No read timeout upstream: a slow model is exec's to give up on (it then hangs up).
        self._http = HttpClient(timeouts=Timeouts(connect=30.0, read=None), env=self._env)
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._http is not None:
            await self._http.aclose()

    def prefix(self, base_url: str) -> str:
        """The proxy URL standing for `base_url`."""
        base = base_url.rstrip("/")
        if base not in self._upstreams:
            self._upstreams.append(base)
        return f"http://127.0.0.1:{self.port}/u/{self._upstreams.index(base)}"

    def overrides_for(self, options: ExecOptions, task: BatchTask) -> list[str]:
        """The `-c` arguments that send this task's model requests through the proxy.

        The provider is resolved the way exec will resolve it; a configuration exec would reject
        gets no override (exec reports the problem itself).
        """
        key = (task.model or options.model, task.profile or options.profile, (
            *options.config, *task.config))  # fmt: skip
        if key not in self._routes:
            self._routes[key] = self._resolve(key, options)
        return self._routes[key]

    def _resolve(self, key: _RouteKey, options: ExecOptions) -> list[str]:
        from pycodex.config import ConfigError, ConfigOverrides, parse_cli_override, resolve_config

        model, profile, overrides = key
        env = {**(self._env if self._env is not None else os.environ), **options.env}
        try:
            pairs = [parse_cli_override(raw) for raw in overrides]
            config = resolve_config(
                ConfigOverrides(model=model, profile=profile, cli_overrides=pairs), env=env
            )
        except ConfigError:
            return []
        address = toml_string(self.prefix(config.model_provider.base_url))
        if config.model_provider_id == "openai":
            return ["-c", f"openai_base_url={address}"]  # this key beats the provider table
        return ["-c", f"model_providers.{toml_key(config.model_provider_id)}.base_url={address}"]

    # --- serving --------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
            writer.close()
            await writer.wait_closed()
        except (ConnectionError, OSError, asyncio.IncompleteReadError, TransportError):
            pass  # either side went away; a cut upstream shows as a cut stream downstream
        except asyncio.CancelledError:
            pass  # `aclose` ends the connections it finds; the task ends quietly
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One request per connection (`connection: close`): while a request is forwarded the
        connection is watched for the exec process hanging up, and whatever that read takes
        must not be the start of a next request."""
        conn = new_connection()
        try:
            request = await read_request(conn, reader, writer, _MAX_BODY_BYTES)
        except BadRequest as err:
            await refuse(conn, writer, err)
            return
        if request is None:
            return
        responder = HttpResponder(conn, writer)
        responder.keep_alive = False
        forward = asyncio.create_task(self._forward(request, responder))
        hang_up = asyncio.create_task(reader.read(1))
        done, _ = await asyncio.wait({forward, hang_up}, return_when=asyncio.FIRST_COMPLETED)
        if forward not in done:
            forward.cancel()  # gives the slot back and drops the upstream response
        else:
            hang_up.cancel()
        await asyncio.gather(forward, hang_up, return_exceptions=True)
        failure = None if forward.cancelled() else forward.exception()
        if failure is not None:
            raise failure

    async def _forward(self, request: HttpRequest, responder: HttpResponder) -> None:
        url = self._upstream_url(request)
        if url is None:
            await _send_error(responder, 404, f"no upstream for {request.path}")
            return
        headers = {k: v for k, v in request.headers.items() if k not in _NOT_FORWARDED}
        body = request.body if request.body or request.method in ("POST", "PUT") else None
        assert self._http is not None
        for attempt in range(self._rate_limit_retries + 1):
            await self._gate.acquire()
            try:
                try:
                    response = await self._http.send(
                        request.method, url, headers=headers, content=body
                    )
                except TransportError as err:
                    await _send_error(responder, 502, f"model server unreachable: {err}")
                    return
                async with response:
                    read: bytes | None = None
                    if response.status_code == 429 and attempt < self._rate_limit_retries:
                        read = await response.aread()
                        if error_fields(read)[0] != "insufficient_quota":
                            await self._gate.rate_limited(
                                retry_after_from_headers(response.headers)
                            )
                            continue
                    elif response.status_code < 400:
                        await self._gate.succeeded()
                    await _relay(response, responder, read)
                    return
            finally:
                await self._gate.release()

    def _upstream_url(self, request: HttpRequest) -> str | None:
        _, head, index, rest = [*request.path.split("/", 3), "", "", ""][:4]
        if head != "u" or not index.isdigit() or int(index) >= len(self._upstreams):
            return None
        url = f"{self._upstreams[int(index)]}/{rest}" if rest else self._upstreams[int(index)]
        return f"{url}?{request.query}" if request.query else url


async def _relay(response: Response, responder: HttpResponder, read: bytes | None) -> None:
    headers = {k: v for k, v in response.headers.items() if k not in _NOT_RELAYED}
    if read is not None or response.is_closed:  # read already, or a response without a body
        await responder.send(response.status_code, read or b"", headers)
        return
    await responder.open_stream(response.status_code, headers)
    async for chunk in response.aiter_bytes():
        responder.write(chunk)
        await responder.drain()
    await responder.close_stream()


async def _send_error(responder: HttpResponder, status: int, message: str) -> None:
    body: dict[str, Any] = {"error": {"message": message, "type": "batch_proxy"}}
    await responder.send(status, json.dumps(body).encode(), {"content-type": "application/json"})
