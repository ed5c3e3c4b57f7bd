"""A thread built by `agent/build.py` always finishes shutting down, even when its session file
cannot take the last records (found only when the recorder is closed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pycodex.agent.build import build_thread
from pycodex.config import ConfigOverrides, resolve_config
from pycodex.protocol import events as ev
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.ops import Shutdown
from support.cli import cli_env, write_config
from support.fake_server import FakeModelServer


async def test_shutdown_completes_and_reports_a_recorder_that_fails_at_close(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    write_config(home, fake_server)
    config = resolve_config(ConfigOverrides(cwd=tmp_path), env=cli_env(home), codex_home=home)
    thread = build_thread(config, originator="test", source="exec")
    (home / "sessions").write_text("in the way")
    # A record that creates the file; its failure surfaces only when the recorder is closed.
    thread.state.record_event({"type": "user_message", "message": "hi"})
    thread.engine.submit(Shutdown())
    events: list[EngineEvent] = []

    async def collect() -> None:
        async for event in thread.engine.events():
            events.append(event)

    runner = asyncio.create_task(thread.engine.run())
    # The bound only turns a regression (a hang) into a failure; the shutdown takes milliseconds.
    await asyncio.wait_for(asyncio.gather(runner, collect()), timeout=30)
    await thread.aclose()
    assert len(events) == 2
    assert isinstance(events[0], ev.Error)
    assert events[0].message.startswith(f"cannot write session file {home / 'sessions'}/")
    assert events[0].message.endswith(": Not a directory")
    assert isinstance(events[1], ev.ShutdownComplete)
