"""Running the real `pycodex serve` server in front of the fake model server, for tests.

`running_serve(fake_server, tmp_path)` starts a `ResponsesServer` on 127.0.0.1 (ephemeral port)
in a background thread with its own event loop, so in-process async clients (the openai SDK)
and CLI subprocesses alike can reach it while the test body blocks or awaits:

    with running_serve(fake_server, tmp_path) as serve:
        client = openai.AsyncOpenAI(base_url=serve.base_url, api_key="unused")
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pycodex.providers.kinds import provider_kind
from pycodex.server import DownstreamTarget, ResponsesServer, ServeOptions
from support.fake_server import FakeModelServer


@dataclasses.dataclass
class ServeHandle:
    server: ResponsesServer
    options: ServeOptions

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("/v1")


def serve_options(fake_server: FakeModelServer, codex_home: Path, **changes: Any) -> ServeOptions:
    target_changes = {
        key: changes.pop(key) for key in ("wire_api", "api_key", "kind") if key in changes
    }
    target = DownstreamTarget(
        base_url=fake_server.base_url,
        wire_api=target_changes.get("wire_api", "chat"),
        kind=target_changes.get("kind", provider_kind("vllm")),
        api_key=target_changes.get("api_key", "sk-downstream"),
        idle_timeout_s=10.0,
    )
    options = ServeOptions(target=target, codex_home=codex_home, port=0, keep_alive_s=0.0)
    return dataclasses.replace(options, **changes)


@contextmanager
def running_serve(
    fake_server: FakeModelServer, codex_home: Path, **changes: Any
) -> Iterator[ServeHandle]:
    """The server, started and bound; stopped (connections closed) when the block ends."""
    options = serve_options(fake_server, codex_home, **changes)
    server = ResponsesServer(options)
    ready = threading.Event()
    loop_box: list[asyncio.AbstractEventLoop] = []
    stop_box: list[asyncio.Event] = []
    failure: list[BaseException] = []

    async def main() -> None:
        stop = asyncio.Event()
        loop_box.append(asyncio.get_running_loop())
        stop_box.append(stop)
        try:
            await server.start()
        except BaseException as err:
            failure.append(err)
            ready.set()
            raise
        ready.set()
        try:
            await stop.wait()
        finally:
            await server.close()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="serve", daemon=True)
    thread.start()
    ready.wait(timeout=30)
    if failure:
        raise failure[0]
    try:
        yield ServeHandle(server, options)
    finally:
        loop_box[0].call_soon_threadsafe(stop_box[0].set)
        thread.join(timeout=30)
