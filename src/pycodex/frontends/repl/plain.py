"""`pycodex` without a terminal (piped stdin or output): run the one turn, print it, exit.

The same renderer as the interactive session, without the input line, the live area or colour
unless asked for. Exit code 0 when the turn succeeded, 1 when it failed or was interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TextIO

from pycodex.frontends.repl.app import ReplThread
from pycodex.frontends.repl.markup import Painter
from pycodex.frontends.repl.render import TranscriptRenderer
from pycodex.protocol import events as ev
from pycodex.protocol.ops import Interrupt, Shutdown, UserTurn


async def run_plain(
    thread: ReplThread,
    prompt: str,
    out: TextIO,
    *,
    painter: Painter,
    context_window: int | None,
    interrupted: asyncio.Event,
    show_reasoning: bool = True,
) -> int:
    engine = thread.engine
    renderer = TranscriptRenderer(painter, context_window, show_reasoning=show_reasoning)
    runner = asyncio.create_task(engine.run())
    watcher = asyncio.create_task(_forward(interrupted, thread))
    engine.emit(thread.configured)
    out.write(renderer.user_block(prompt) + "\n")
    engine.submit(UserTurn.text(prompt))
    failed = False
    async for event in engine.events():
        for block in renderer.process(event):
            out.write(block + "\n")
        out.flush()
        if isinstance(event, ev.TurnComplete | ev.TurnAborted):
            failed = isinstance(event, ev.TurnAborted) or event.failed
            engine.submit(Shutdown())
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    await runner
    await thread.close()
    return 1 if failed else 0


async def _forward(interrupted: asyncio.Event, thread: ReplThread) -> None:
    await interrupted.wait()
    if thread.manager is not None:
        thread.manager.interrupt_tree(thread.configured.thread_id)
    else:
        thread.engine.submit(Interrupt())
