"""The app-server: read messages, answer requests one at a time, run the loaded threads.

Requests are handled in the order they arrive (a `turn/interrupt` sent after a `turn/start`
finds that turn); none of them waits for a model, so the queue stays short. When more than
`max_queued` requests wait anyway, the newest is answered at once with -32001
`server_overloaded`, which the SDK retries. Responses to the server's own requests (approvals)
are handled as soon as they are read. A sub-agent's approval request goes to the client the same
way, naming the sub-agent's thread (`TreeApprovals`, the router of each loaded thread's tree).
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pycodex._records import dataclass
from pycodex.frontends.app_server import rpc
from pycodex.frontends.app_server.approvals import (
    approval_params,
    approval_request,
    review_decision,
)
from pycodex.frontends.app_server.loaded import ApprovalRequest, LoadedThread
from pycodex.frontends.app_server.mcp_startup import McpStartupReporter
from pycodex.frontends.app_server.params import Params
from pycodex.frontends.app_server.rpc import RpcError
from pycodex.frontends.app_server.transport import LineTooLong, StdioTransport, now_ms
from pycodex.frontends.app_server.wire import Json
from pycodex.protocol.ops import ApprovalDecision

if TYPE_CHECKING:
    from pycodex.agent.child_approvals import ChildApproval
    from pycodex.agent.threads import ThreadManager
    from pycodex.config import Config

# The protocol version this server implements: upstream Codex's, whose app-server the contract
# was measured against (docs/app-server.md). SDKs check it before using newer request fields.
PROTOCOL_VERSION = "0.169.0"
DEFAULT_MAX_QUEUED = 256

Handler = Callable[[Params], Awaitable[Json]]


@dataclass
class PendingApproval:
    # The loaded thread asking, or for a sub-agent's request the root of its tree.
    thread: LoadedThread
    request: ApprovalRequest
    child: ChildApproval | None = None


class TreeApprovals:
    """The `ChildApprovalRouter` of one loaded thread's tree: its sub-agents ask the client."""

    def __init__(self, server: AppServer, root: LoadedThread) -> None:
        self._server = server
        self._root = root

    def ask(self, approval: ChildApproval) -> None:
        self._server.ask_child_approval(self._root, approval)

    def withdraw(self, approval: ChildApproval) -> None:
        self._server.withdraw_child_approval(approval)


class AppServer:
    def __init__(
        self,
        config: Config,
        cli_overrides: list[tuple[str, Any]],
        transport: StdioTransport,
        *,
        max_queued: int = DEFAULT_MAX_QUEUED,
    ) -> None:
        self.config = config
        self.cli_overrides = cli_overrides
        self.transport = transport
        self.max_queued = max_queued
        self.threads: dict[str, LoadedThread] = {}
        self.manager: ThreadManager | None = None
        self.mcp = McpStartupReporter(self.notify)
        self.client_name = ""
        self._queue: asyncio.Queue[rpc.Request | None] = asyncio.Queue()
        self._approvals: dict[int, PendingApproval] = {}
        self._next_request_id = 0
        self._handlers: dict[str, Handler] = {}

    # --- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the client closes stdin (or stdout), then shut every thread down."""
        from pycodex.frontends.app_server import thread_ops, turn_ops

        self._handlers = {**thread_ops.handlers(self), **turn_ops.handlers(self)}
        reader = asyncio.create_task(self._read())
        try:
            while (request := await self._queue.get()) is not None:
                await self._dispatch(request)
                if self.transport.closed:
                    break
        finally:
            reader.cancel()
            await self.shutdown()

    async def _read(self) -> None:
        async for line in self.transport.lines():
            if isinstance(line, LineTooLong):
                self._error(None, RpcError(rpc.PARSE_ERROR, "line too long: message skipped"))
                continue
            if line.strip():
                self._accept(line)
        self._queue.put_nowait(None)

    def _accept(self, line: bytes) -> None:
        try:
            message = rpc.parse_message(line)
        except rpc.BadMessage as bad:
            self._error(bad.request_id, bad.error)
            return
        match message:
            case rpc.Response():
                self._answered(message)
            case rpc.Notification():
                pass  # `initialized` and the like: nothing to do
            case rpc.Request():
                if self._queue.qsize() >= self.max_queued:
                    overloaded = "server overloaded: too many requests waiting; retry later"
                    busy = RpcError(rpc.SERVER_OVERLOADED, overloaded, rpc.OVERLOADED_DATA)
                    self._error(message.id, busy)
                else:
                    self._queue.put_nowait(message)

    async def _dispatch(self, request: rpc.Request) -> None:
        try:
            result = await self._call(request)
        except RpcError as err:
            self._error(request.id, err)
        except Exception as err:  # a bug answers this request; the server keeps serving
            log(f"internal error in {request.method}: {type(err).__name__}: {err}")
            message = f"internal error: {type(err).__name__}: {err}"
            self._error(request.id, RpcError(rpc.INTERNAL_ERROR, message))
        else:
            self.transport.send({"id": request.id, "result": result})

    async def _call(self, request: rpc.Request) -> Json:
        params = Params(request.params)
        if request.method == "initialize":
            return self._initialize(params)
        handler = self._handlers.get(request.method)
        if handler is None:
            raise RpcError(rpc.METHOD_NOT_FOUND, f"method not found: {request.method}")
        if self.manager is None:
            raise rpc.invalid_request("not initialized: send `initialize` first")
        return await handler(params)

    # --- sending -------------------------------------------------------------------------------

    def notify(self, method: str, params: Json) -> None:
        self.transport.send({"method": method, "params": params, "emittedAtMs": now_ms()})

    def _error(self, request_id: rpc.RequestId | None, error: RpcError) -> None:
        self.transport.send({"id": request_id, "error": error.to_wire()})

    # --- initialize ----------------------------------------------------------------------------

    def _initialize(self, params: Params) -> Json:
        if self.manager is not None:
            raise rpc.invalid_request("already initialized")
        info = params.opt_object("clientInfo") or {}
        name = info.get("name") if isinstance(info.get("name"), str) else None
        version = info.get("version") if isinstance(info.get("version"), str) else None
        self.client_name = name or "pycodex_app_server"
        from pycodex.agent.threads import ThreadManager

        self.manager = ThreadManager(self.config, originator=self.client_name, on_warning=log)
        return {
            "userAgent": user_agent(self.client_name, version),
            "codexHome": str(self.config.codex_home),
            "platformFamily": "windows" if os.name == "nt" else "unix",
            "platformOs": {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform),
        }

    # --- approvals -----------------------------------------------------------------------------

    def ask_approval(self, thread: LoadedThread, request: ApprovalRequest) -> None:
        """Put an engine approval request to the client as a server request."""
        request_id = self._request(PendingApproval(thread, request))
        thread.pending_requests.append(request_id)
        thread.translator.waiting_on_approval(True)
        method, params = approval_request(thread, request)
        self.transport.send({"id": request_id, "method": method, "params": params})

    def ask_child_approval(self, root: LoadedThread, approval: ChildApproval) -> None:
        """A sub-agent of `root`'s tree asks: the same request, with the sub-agent's ids."""
        request_id = self._request(PendingApproval(root, approval.request, approval))
        method, params = approval_params(
            approval.thread_id, approval.turn_id or "", approval.request
        )
        self.transport.send({"id": request_id, "method": method, "params": params})

    def withdraw_child_approval(self, approval: ChildApproval) -> None:
        """The sub-agent stopped waiting: its request is void (the client hears it resolved)."""
        for request_id, pending in list(self._approvals.items()):
            if pending.child == approval:
                del self._approvals[request_id]
                self.notify(
                    "serverRequest/resolved",
                    {"threadId": approval.thread_id, "requestId": request_id},
                )

    def _request(self, pending: PendingApproval) -> int:
        request_id = self._next_request_id
        self._next_request_id += 1
        self._approvals[request_id] = pending
        return request_id

    def _answered(self, response: rpc.Response) -> None:
        request_id = response.id
        pending = self._approvals.pop(request_id, None) if isinstance(request_id, int) else None
        if pending is None or not isinstance(request_id, int):
            log(f"ignored a response to unknown request {response.id!r}")
            return
        thread = pending.thread
        decision, amendment = review_decision(response, pending.request)
        if amendment:
            rules = thread.state.services.prefix_rules  # a tree shares its rules
            if rules is not None:
                rules.allow_always(amendment)  # persisted in $CODEX_HOME/rules/default.rules
        child = pending.child
        if child is not None:
            if self.manager is not None:
                self.manager.decide_child_approval(child.thread_id, child.call_id, decision)
            params = {"threadId": child.thread_id, "requestId": request_id}
            self.notify("serverRequest/resolved", params)
            return
        thread.engine.submit(ApprovalDecision(pending.request.call_id, decision))
        self._resolved(thread, request_id)
        if not thread.pending_requests and thread.translator.active is not None:
            thread.translator.waiting_on_approval(False)

    def _resolved(self, thread: LoadedThread, request_id: int) -> None:
        if request_id in thread.pending_requests:
            thread.pending_requests.remove(request_id)
        params = {"threadId": thread.thread_id, "requestId": request_id}
        self.notify("serverRequest/resolved", params)

    def turn_ended(self, thread: LoadedThread) -> None:
        """Requests left unanswered when their turn ended are void now."""
        for request_id in list(thread.pending_requests):
            self._approvals.pop(request_id, None)
            self._resolved(thread, request_id)

    # --- threads -------------------------------------------------------------------------------

    def loaded(self, thread_id: str) -> LoadedThread:
        """A thread this process runs; -32600 for any other."""
        thread = self.threads.get(thread_id)
        if thread is None:
            raise rpc.invalid_request(f"thread not loaded: {thread_id} (resume it first)")
        return thread

    def load(self, thread: LoadedThread) -> None:
        self.threads[thread.thread_id] = thread
        thread.start(self.ask_approval, self.turn_ended)
        if self.manager is not None:  # its sub-agents ask the client too
            self.manager.route_child_approvals(thread.thread_id, TreeApprovals(self, thread))

    async def unload(self, thread: LoadedThread) -> None:
        self.threads.pop(thread.thread_id, None)
        await thread.stop()
        self.turn_ended(thread)
        if self.manager is not None:
            await self.manager.release(thread.thread_id)

    async def shutdown(self) -> None:
        for thread in list(self.threads.values()):
            await self.unload(thread)
        if self.manager is not None:
            await self.manager.shutdown()


def user_agent(client: str, client_version: str | None) -> str:
    """`<client>/<protocol version> (pycodex <version>; <os>) (<client>; <client version>)`."""
    from pycodex._version import __version__

    system = f"{platform.system()} {platform.release()}; {platform.machine()}"
    return (
        f"{client}/{PROTOCOL_VERSION} (pycodex {__version__}; {system}) "
        f"({client}; {client_version or 'unknown'})"
    )


def log(message: str) -> None:
    sys.stderr.write(f"pycodex app-server: {message}\n")
    sys.stderr.flush()
