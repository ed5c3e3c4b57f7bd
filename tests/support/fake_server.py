"""`FakeModelServer`: the one scripted model server of the test suite.

A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) running in a background thread, so it serves
in-process async clients (pycodex's own transport, httpx in a few tests) and CLI subprocesses
alike. Tests script the replies, then assert on the recorded requests:

    with FakeModelServer() as server:
        server.expect_sse("/v1/responses", assistant_reply("Hi"))
        run_the_client(base_url=server.base_url)          # "http://127.0.0.1:PORT/v1"
        assert server.requests[0].json()["stream"] is True
    # leaving the block without an exception calls assert_done()

Scripts form one FIFO queue per (method, path); the query string is not part of the match but is
kept in `RecordedRequest.path`. A script may also carry `when=`, a predicate on the request
(see `body_contains`): a request takes the first script of its queue whose predicate accepts it,
and only when none does, the first script without a predicate. That routes interleaved requests
by content, e.g. a parent thread's and its sub-agents' (the child's task marker is in its input):

    server.expect_sse("/v1/responses", child_reply, when=body_contains("CHILD-TASK"))

A request with no script left gets HTTP 599 with a JSON error body, and is listed in `errors`; `assert_done()` fails on those and on unconsumed scripts.

Many clients at once (a batch of CLI runs) cannot rely on arrival order. For them:
- `marker="[task-7]"`: the script only answers requests whose body contains that text (the
  marker is put in the prompt, which every request of a thread carries); each marker has its own
  FIFO queue. A body matching two markers is an error.
- `repeat=True`: a standing script, never used up, that answers once its (marker's) queue is
  empty; it is not reported by `assert_done()`.
- `latency_s`: wait that long before the response head (a model that answers after 200 ms).
`peak_concurrent_requests` is the most requests the server was answering at one time;
`wait_until_idle()` waits until it answers none (a stalled stream's client has hung up).

Streams use chunked transfer encoding, flushed one event at a time. Ways a stream can go wrong:
- `cut_after=N`: N events, then a clean end of body and a closed connection. The client sees an
  ordinary end of stream that lacks the terminal event (a "stream disconnected" case).
- `cut_after=N, abrupt=True`: N events, then the socket closes mid-body. The client's transport
  raises `RemoteProtocolError` while reading (a transport-level disconnect).
- `stall_after=N`: N events, then silence with the connection held open until the client hangs up
  or the server closes (idle-timeout tests).

Like many real model servers (cpp-httplib, plain asyncio or socketserver ones), it writes the
response head and each event separately, without `TCP_NODELAY`, and listens with a small backlog
(5). `FakeModelServer(nodelay=True)` turns Nagle's algorithm off on its connections;
`backlog=N` deepens the listen queue for tests that open many connections at once.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from .fake_http import FakeHTTPServer, RecordedRequest, Reply
from .sse_builders import CHAT_DONE_FRAME, encode_chat_frame, encode_sse_event

__all__ = ["UNEXPECTED_STATUS", "FakeModelServer", "RecordedRequest"]

UNEXPECTED_STATUS = 599


Predicate = Callable[[RecordedRequest], bool]


def body_contains(*markers: str, absent: Sequence[str] = ()) -> Predicate:
    """A `when=` predicate: the raw request body holds every marker and none of `absent`."""

    def check(request: RecordedRequest) -> bool:
        body = request.body_bytes.decode("utf-8", "replace")
        return all(m in body for m in markers) and not any(a in body for a in absent)

    check.__name__ = f"body_contains({', '.join(map(repr, markers))})"
    return check


def user_message_contains(marker: str) -> Predicate:
    """A `when=` predicate: some `user` message of the Responses `input` contains `marker`.

    Unlike `body_contains`, a parent's request that merely echoes the marker inside a tool
    call's arguments (a spawn call) does not match; the child's own task message does.
    """

    def check(request: RecordedRequest) -> bool:
        try:
            items = request.json().get("input")
        except ValueError:
            return False
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("role") == "user":
                texts = [
                    p.get("text", "") for p in item.get("content") or [] if isinstance(p, dict)
                ]
                if any(marker in str(text) for text in texts):
                    return True
        return False

    check.__name__ = f"user_message_contains({marker!r})"
    return check


@dataclass(frozen=True)
class _Script:
    number: int  # order of registration, so leftovers are listed as they were written
    method: str
    path: str
    kind: str
    reply: Reply | Callable[[RecordedRequest], Reply]
    when: Predicate | None = None
    marker: str | None = None
    repeat: bool = False

    def __str__(self) -> str:
        where = f" when {getattr(self.when, '__name__', 'predicate')}" if self.when else ""
        marker = f" for {self.marker!r}" if self.marker is not None else ""
        return f"#{self.number} {self.method} {self.path} ({self.kind}){where}{marker}"


@dataclass
class _Queue:
    """The scripts of one (method, path, marker): used-up ones first, then the standing one."""

    scripts: deque[_Script]
    standing: _Script | None = None

    def take(self, request: RecordedRequest) -> _Script | None:
        """The first script whose predicate accepts the request, else the first without one,
        else the standing script."""
        script = next((s for s in self.scripts if s.when is not None and s.when(request)), None)
        if script is None:
            script = next((s for s in self.scripts if s.when is None), None)
        if script is not None:
            self.scripts.remove(script)
            return script
        return self.standing


class FakeModelServer:
    """Scripted loopback HTTP server; see the module docstring for the scripting model."""

    def __init__(
        self, host: str = "127.0.0.1", *, nodelay: bool = False, backlog: int | None = None
    ) -> None:
        self._host = host
        self._nodelay = nodelay
        self._backlog = backlog
        self._lock = threading.Condition()
        # (method, path) -> marker (None: requests matching no marker) -> queue
        self._scripts: dict[tuple[str, str], dict[str | None, _Queue]] = {}
        self._script_count = 0
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._unexpected: list[RecordedRequest] = []
        self._http: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeModelServer:
        """Bind an ephemeral port and serve from a background thread."""
        if self._http is not None:
            raise RuntimeError("FakeModelServer already started")
        self._http = FakeHTTPServer(
            (self._host, 0),
            self._route,
            self._record_error,
            nodelay=self._nodelay,
            backlog=self._backlog,
        )
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"fake-model-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, end stalled streams and open connections, join every thread."""
        http, thread = self._http, self._thread
        if http is None or thread is None:
            return
        http.shutdown()  # stops accepting; returns once serve_forever has exited
        http.drop_connections()
        http.server_close()  # joins the handler threads
        thread.join()
        self._thread = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
        if exc_type is None:
            self.assert_done()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("FakeModelServer not started")
        return int(self._http.server_address[1])

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT`, for building URLs outside `/v1`."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, `http://127.0.0.1:PORT/v1`."""
        return f"{self.origin}/v1"

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    # -- scripting -----------------------------------------------------------------------------

    def expect_sse(
        self,
        path: str,
        events: Sequence[Mapping[str, Any] | bytes],
        *,
        delay_s: float = 0.0,
        cut_after: int | None = None,
        stall_after: int | None = None,
        abrupt: bool = False,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
        method: str = "POST",
        when: Predicate | None = None,
        marker: str | None = None,
        repeat: bool = False,
        latency_s: float = 0.0,
    ) -> None:
        """Serve a Responses stream: `event: <type>\\ndata: <json>\\n\\n` per event.

        A `bytes` item is sent as-is, for malformed frames, comments or keep-alives.
        """
        frames = [e if isinstance(e, bytes) else encode_sse_event(e) for e in events]
        self.expect_stream(
            path, frames, delay_s=delay_s, cut_after=cut_after, stall_after=stall_after,
            abrupt=abrupt, headers=headers, status=status, method=method, kind="sse", when=when,
            marker=marker, repeat=repeat, latency_s=latency_s,
        )  # fmt: skip

    def expect_chat_stream(
        self,
        path: str,
        chunks: Sequence[Mapping[str, Any] | bytes],
        *,
        delay_s: float = 0.0,
        cut_after: int | None = None,
        stall_after: int | None = None,
        abrupt: bool = False,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
        method: str = "POST",
        when: Predicate | None = None,
    ) -> None:
        """Serve a Chat Completions stream: `data: <json>\\n\\n` frames, then `data: [DONE]`.

        `cut_after` and `stall_after` count chunks, so a cut stream never sends `[DONE]`.
        """
        frames = [c if isinstance(c, bytes) else encode_chat_frame(c) for c in chunks]
        self.expect_stream(
            path, [*frames, CHAT_DONE_FRAME], delay_s=delay_s, cut_after=cut_after,
            stall_after=stall_after, abrupt=abrupt, headers=headers, status=status,
            method=method, kind="chat stream", when=when,
        )  # fmt: skip

    def expect_stream(
        self,
        path: str,
        frames: Sequence[bytes],
        *,
        delay_s: float = 0.0,
        cut_after: int | None = None,
        stall_after: int | None = None,
        abrupt: bool = False,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
        method: str = "POST",
        kind: str = "stream",
        when: Predicate | None = None,
        marker: str | None = None,
        repeat: bool = False,
        latency_s: float = 0.0,
    ) -> None:
        """Serve raw `frames` as an event stream; the other `expect_*` stream helpers end here."""
        if cut_after is not None and stall_after is not None:
            raise ValueError("cut_after and stall_after are mutually exclusive")
        stop = cut_after if cut_after is not None else stall_after
        if stop is not None and not 0 <= stop <= len(frames):
            raise ValueError(f"cut/stall point {stop} outside 0..{len(frames)}")
        if abrupt and cut_after is None:
            raise ValueError("abrupt=True needs cut_after")
        reply_headers = {"content-type": "text/event-stream", **_lower(headers)}
        reply = Reply(
            status=status, headers=reply_headers, frames=tuple(frames), delay_s=delay_s,
            cut_after=cut_after, stall_after=stall_after, abrupt=abrupt, latency_s=latency_s,
        )  # fmt: skip
        self._add(method, path, kind, reply, when=when, marker=marker, repeat=repeat)

    def expect_error(
        self,
        path: str,
        status: int,
        body: Mapping[str, Any] | str,
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
        when: Predicate | None = None,
        marker: str | None = None,
        repeat: bool = False,
        latency_s: float = 0.0,
    ) -> None:
        """Answer with an HTTP error: 429 with `retry-after`, 500, 400 with `{"error": {...}}`..."""
        reply = replace(_fixed_reply(status, body, headers), latency_s=latency_s)
        self._add(method, path, f"error {status}", reply, when=when, marker=marker, repeat=repeat)

    def expect_json(
        self,
        path: str,
        body: Any,
        method: str = "GET",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer with a JSON document, e.g. the `/v1/models` listing."""
        self._add(method, path, "json", _fixed_reply(status, body, headers, force_json=True))

    def expect_sse_from(
        self,
        path: str,
        make_events: Callable[[RecordedRequest], Sequence[Mapping[str, Any]]],
        method: str = "POST",
        when: Predicate | None = None,
        delay_s: float = 0.0,
        marker: str | None = None,
        repeat: bool = False,
        latency_s: float = 0.0,
    ) -> None:
        """Serve a Responses stream computed from the request (e.g. usage sized to the body, or
        a call naming an id the client chose)."""

        def reply(request: RecordedRequest) -> Reply:
            frames = tuple(encode_sse_event(e) for e in make_events(request))
            return Reply(
                status=200, headers={"content-type": "text/event-stream"}, frames=frames,
                delay_s=delay_s, latency_s=latency_s,
            )  # fmt: skip

        self._add(method, path, "computed sse", reply, when=when, marker=marker, repeat=repeat)

    def expect_chat_stream_from(
        self,
        path: str,
        make_chunks: Callable[[RecordedRequest], Sequence[Mapping[str, Any]]],
        *,
        when: Predicate | None = None,
    ) -> None:
        """Serve a Chat Completions stream computed from the request, then `data: [DONE]`."""

        def reply(request: RecordedRequest) -> Reply:
            frames = (*(encode_chat_frame(c) for c in make_chunks(request)), CHAT_DONE_FRAME)
            return Reply(status=200, headers={"content-type": "text/event-stream"}, frames=frames)

        self._add("POST", path, "computed chat stream", reply, when=when)

    def _add(
        self,
        method: str,
        path: str,
        kind: str,
        reply: Reply | Callable[[RecordedRequest], Reply],
        *,
        when: Predicate | None = None,
        marker: str | None = None,
        repeat: bool = False,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"script paths are absolute, like '/v1/responses', not {path!r}")
        if marker is not None and not marker:
            raise ValueError("a marker must be a non-empty string")
        with self._lock:
            self._script_count += 1
            script = _Script(
                self._script_count, method.upper(), path, kind, reply, when, marker, repeat
            )
            queues = self._scripts.setdefault((script.method, path), {})
            queue = queues.setdefault(marker, _Queue(deque()))
            if not repeat:
                queue.scripts.append(script)
            elif queue.standing is not None:
                raise ValueError(f"a standing script already answers {script}")
            else:
                queue.standing = script

    # -- inspection ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a snapshot)."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Unexpected requests and faults of the fake itself, one line each."""
        with self._lock:
            return list(self._errors)

    @property
    def unexpected_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._unexpected)

    def pending_scripts(self) -> list[str]:
        """Scripts not consumed yet, in the order they were added (standing ones never count)."""
        with self._lock:
            left = [
                script
                for queues in self._scripts.values()
                for queue in queues.values()
                for script in queue.scripts
            ]
        return [str(script) for script in sorted(left, key=lambda s: s.number)]

    @property
    def peak_concurrent_requests(self) -> int:
        """The most requests this server was answering at the same time so far."""
        if self._http is None:
            raise RuntimeError("FakeModelServer not started")
        return self._http.peak_in_flight

    def wait_until_idle(self, timeout_s: float = 10.0) -> None:
        """Block until no request is being answered (a stalled stream ends when its client
        hangs up); AssertionError on timeout."""
        http = self._http
        if http is None:
            raise RuntimeError("FakeModelServer not started")
        with http.idle:
            if not http.idle.wait_for(lambda: http.in_flight == 0, timeout_s):
                raise AssertionError(f"{http.in_flight} requests still open after {timeout_s}s")

    def requests_with(self, marker: str) -> list[RecordedRequest]:
        """The requests so far whose body contains `marker`."""
        needle = marker.encode()
        return [request for request in self.requests if needle in request.body_bytes]

    def wait_for_requests(self, count: int, timeout_s: float = 10.0) -> list[RecordedRequest]:
        """Block until at least `count` requests have arrived; AssertionError on timeout."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout_s):
                raise AssertionError(
                    f"expected {count} requests within {timeout_s}s, got {len(self._requests)}"
                )
            return list(self._requests)

    def assert_done(self) -> None:
        """Fail if any request was unexpected or any script was left unconsumed."""
        problems = [f"unexpected: {line}" for line in self.errors]
        problems += [f"never requested: {line}" for line in self.pending_scripts()]
        if problems:
            raise AssertionError("FakeModelServer:\n  " + "\n  ".join(problems))

    # -- called from handler threads -----------------------------------------------------------

    def _route(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()
            queues = self._scripts.get((request.method, request.path_without_query), {})
            markers = [m for m in queues if m is not None and m.encode() in request.body_bytes]
            script: _Script | None = None
            if len(markers) > 1:
                line = f"request {request} matches several markers: {sorted(markers)}"
            else:
                queue = queues.get(markers[0] if markers else None)
                script = queue.take(request) if queue is not None else None
                line = f"unexpected request {request} (no script left for it)"
            if script is None:
                self._unexpected.append(request)
                self._errors.append(line)
        if script is not None:
            # Outside the lock, as a real server computes each answer on its own: a reply that
            # waits (for the test to let it go) holds up no other request.
            reply = script.reply
            return reply(request) if callable(reply) else reply
        body = {"error": {"message": line, "type": "fake_server", "code": "unexpected_request"}}
        return _fixed_reply(UNEXPECTED_STATUS, body, None)

    def _record_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {name.lower(): value for name, value in (headers or {}).items()}


def _fixed_reply(
    status: int, body: Any, headers: Mapping[str, str] | None, force_json: bool = False
) -> Reply:
    if isinstance(body, str) and not force_json:
        data, content_type = body.encode(), "text/plain; charset=utf-8"
    else:
        data, content_type = json.dumps(body).encode(), "application/json"
    return Reply(
        status=status, headers={"content-type": content_type, **_lower(headers)}, body=data
    )
