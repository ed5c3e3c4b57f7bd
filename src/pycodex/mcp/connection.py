"""One live MCP server, on the official `mcp` SDK (imported here, only when a server is used).

A stdio server's process is started first (`spawn`, before the SDK is imported: see
`mcp/stdio.py`). A connection then runs in its own task: it opens the transport (the running
process's pipes, or streamable HTTP), does the `initialize` handshake, lists the tools, reports
ready, and holds the session open until `aclose`. Calls come from tool tasks and go through the
same session. A stdio server is stopped at close (stdin closed, then SIGTERM, then SIGKILL).

A stdio server's environment is not ours: it gets a few basics (`HOME`, `PATH`, `SHELL`,
`TERM`, `USER`, `LOGNAME`, locale and temp-dir variables), the variables named in `env_vars`
taken from our environment, and `env`. Its stderr is kept in a temporary file; the last line is
quoted when the server fails to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from pycodex._records import dataclass
from pycodex._version import __version__
from pycodex.mcp.config import HttpTransport, McpServerConfig, StdioTransport
from pycodex.mcp.output import McpCallResult
from pycodex.mcp.stdio import StdioProcess

if TYPE_CHECKING:
    from mcp import ClientSession
    from mcp.types import RequestParamsMeta

CLIENT_NAME = "pycodex"
_BASICS = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
_PASSED_THROUGH = (*_BASICS, "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
_MAX_PAGES = 100
_CLOSE_TIMEOUT_S = 10.0
_CACHE_HINTS = ("ttlMs", "cacheScope", "resultType")


class McpError(Exception):
    """A server could not start, or a request to it failed; the message is one line."""


@dataclass(frozen=True, slots=True)
class McpToolInfo:
    """A tool as the server lists it (its own name; `input_schema` as sent)."""

    name: str
    description: str
    input_schema: dict[str, Any]
    title: str | None = None
    read_only_hint: bool = False


class McpConnection:
    def __init__(self, config: McpServerConfig, *, cwd: Path, env: Mapping[str, str]) -> None:
        self.config = config
        self.tools: list[McpToolInfo] = []
        self.instructions: str | None = None
        self._cwd = cwd
        self._env = env
        self._session: ClientSession | None = None
        self._ready: asyncio.Future[None] | None = None
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lost: str | None = None
        self._stderr: TextIO | None = None
        self._process: StdioProcess | None = None
        self._spawn_error: OSError | None = None

    @property
    def name(self) -> str:
        return self.config.name

    async def spawn(self) -> None:
        """Start a stdio server's process, without the SDK: it starts up while we import the
        SDK. A failure (a missing command) is kept and reported by `start`."""
        transport = self.config.transport
        if not isinstance(transport, StdioTransport) or self._process or self._spawn_error:
            return
        env = {key: self._env[key] for key in _PASSED_THROUGH if key in self._env}
        env |= {key: self._env[key] for key in transport.env_vars if key in self._env}
        env |= dict(transport.env or {})
        cwd = self._cwd / transport.cwd if transport.cwd else self._cwd
        # Closed when the connection ends (`_run`, `aclose`), not here: the server writes to it.
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        argv = [transport.command, *transport.args]
        try:
            self._process = await StdioProcess.spawn(argv, env=env, cwd=cwd, stderr=self._stderr)
        except OSError as err:
            self._spawn_error = err
        except ValueError as err:  # an embedded NUL byte
            self._spawn_error = OSError(str(err))

    async def start(self) -> None:
        """Connect, handshake and list the tools; raises `McpError`. Cancelling it (a startup
        timeout) stops the server."""
        logging.getLogger("mcp").addHandler(logging.NullHandler())
        logging.getLogger("mcp").propagate = False
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(self._ready))
        try:
            await asyncio.shield(self._ready)
        except asyncio.CancelledError:
            await self._stop()
            raise

    async def _stop(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, ready: asyncio.Future[None]) -> None:
        try:
            async with AsyncExitStack() as stack:
                session = await self._open(stack)
                result = await session.initialize()
                self.instructions = (result.instructions or "").strip() or None
                self.tools = await _list_tools(session)
                self._session = session
                ready.set_result(None)
                await self._closing.wait()
        except Exception as err:  # whatever the SDK or the server did, as one line
            message = self._describe(err)
            if not ready.done():
                ready.set_exception(McpError(message))
            else:
                self._lost = message
        finally:
            self._session = None
            if not ready.done():
                ready.cancel()
            if self._stderr is not None:
                self._stderr.close()

    async def _open(self, stack: AsyncExitStack) -> ClientSession:
        from mcp import ClientSession
        from mcp.types import Implementation

        transport = self.config.transport
        if isinstance(transport, StdioTransport):
            streams = await stack.enter_async_context(await self._stdio())
        else:
            streams = await stack.enter_async_context(await self._http(transport, stack))
        info = Implementation(name=CLIENT_NAME, title="pycodex", version=__version__)
        read, write = streams[0], streams[1]
        return await stack.enter_async_context(ClientSession(read, write, client_info=info))

    async def _stdio(self) -> Any:
        await self.spawn()
        if self._process is None:
            assert self._spawn_error is not None
            raise self._spawn_error
        return self._process.streams()

    async def _http(self, transport: HttpTransport, stack: AsyncExitStack) -> Any:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        headers = dict(transport.http_headers or {})
        for header, variable in (transport.env_http_headers or {}).items():
            if self._env.get(variable):
                headers[header] = self._env[variable]
        if transport.bearer_token_env_var:
            token = self._env.get(transport.bearer_token_env_var)
            if not token:
                raise McpError(
                    f"the environment variable {transport.bearer_token_env_var} "
                    "(bearer_token_env_var) is not set"
                )
            headers["Authorization"] = f"Bearer {token}"
        client = await stack.enter_async_context(create_mcp_http_client(headers=headers))
        return streamable_http_client(transport.url, http_client=client)

    def _describe(self, err: BaseException) -> str:
        leaf = _first_leaf(err)
        if isinstance(leaf, McpError):
            return str(leaf)
        if isinstance(leaf, OSError) and leaf.strerror:
            text = f"{leaf.strerror}: {leaf.filename}" if leaf.filename else leaf.strerror
        else:
            text = str(leaf) or type(leaf).__name__
        tail = self._stderr_tail()
        described = f"{text} (server stderr: {tail})" if tail else text
        return described.replace("\n", " ")

    def _stderr_tail(self) -> str:
        stream = self._stderr
        if stream is None or stream.closed:
            return ""
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - 4096))
            lines = [line.strip() for line in stream.read().splitlines() if line.strip()]
            return lines[-1][:300] if lines else ""
        return ""

    # --- requests -----------------------------------------------------------------------------

    def _live(self) -> ClientSession:
        if self._session is None:
            reason = f": {self._lost}" if self._lost else ""
            raise McpError(f"the MCP server `{self.name}` is not running{reason}")
        return self._session

    async def call_tool(
        self,
        tool: str,
        arguments: dict[str, Any],
        timeout_s: float,
        meta: dict[str, Any] | None = None,
    ) -> McpCallResult:
        """Raises `TimeoutError` after `timeout_s`, `McpError` when the request fails. `meta` is
        sent as the request's `_meta`."""
        session = self._live()
        wire_meta = cast("RequestParamsMeta | None", meta)
        try:
            async with asyncio.timeout(timeout_s):
                result = await session.call_tool(tool, arguments, meta=wire_meta)
        except TimeoutError:
            raise
        except Exception as err:
            raise McpError(str(_first_leaf(err)) or type(err).__name__) from None
        content = [_wire(block) for block in result.content]
        return McpCallResult(content, result.structured_content, bool(result.is_error))

    async def list_resources(self, cursor: str | None) -> dict[str, Any]:
        from mcp.types import PaginatedRequestParams

        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        return await self._request(self._live().list_resources(params=params))

    async def list_resource_templates(self, cursor: str | None) -> dict[str, Any]:
        from mcp.types import PaginatedRequestParams

        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        return await self._request(self._live().list_resource_templates(params=params))

    async def read_resource(self, uri: str) -> dict[str, Any]:
        return await self._request(self._live().read_resource(uri))

    async def _request(self, pending: Any) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.config.tool_timeout_s):
                result = await pending
        except TimeoutError:
            raise McpError(
                f"timed out after {self.config.tool_timeout_s:g}s waiting for `{self.name}`"
            ) from None
        except Exception as err:
            raise McpError(str(_first_leaf(err)) or type(err).__name__) from None
        answer = _wire(result)
        for key in _CACHE_HINTS:  # how long a client may cache it: nothing for the model
            answer.pop(key, None)
        return answer

    async def aclose(self) -> None:
        self._closing.set()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), _CLOSE_TIMEOUT_S)
            except TimeoutError:
                await self._stop()
        if self._process is not None:  # spawned but never connected (start-up interrupted)
            await self._process.stop()
        if self._stderr is not None:
            self._stderr.close()


async def _list_tools(session: ClientSession) -> list[McpToolInfo]:
    from mcp.types import PaginatedRequestParams

    tools: list[McpToolInfo] = []
    cursor: str | None = None
    for _page in range(_MAX_PAGES):
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        listed = await session.list_tools(params=params)
        for tool in listed.tools:
            hints = tool.annotations
            tools.append(
                McpToolInfo(
                    name=tool.name,
                    description=(tool.description or "").strip(),
                    input_schema=dict(tool.input_schema),
                    title=tool.title,
                    read_only_hint=bool(hints is not None and hints.read_only_hint),
                )
            )
        cursor = listed.next_cursor
        if not cursor:
            break
    return tools


def _wire(model: Any) -> dict[str, Any]:
    dumped = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped if isinstance(dumped, dict) else {"value": dumped}


def _first_leaf(err: BaseException) -> BaseException:
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    return err
