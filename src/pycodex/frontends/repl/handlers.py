"""What each slash command does. Each handler prints through the app and submits ops to its
engine; none of them touches the turn loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pycodex.agent.rollout import fork_thread, load_thread
from pycodex.config.model import REASONING_EFFORTS
from pycodex.frontends.repl.commands import Command, help_lines
from pycodex.frontends.repl.model_list import list_models
from pycodex.frontends.repl.usage import percent_context_left
from pycodex.protocol.ops import Compact, SetModel, SetReasoningEffort
from pycodex.sessions import SessionError, find_session, list_sessions

if TYPE_CHECKING:
    from pycodex.frontends.repl.app import ReplApp

Handler = Callable[["ReplApp", str], Awaitable[None]]

# Commands whose machinery is being built in other issues; each says so in one line.
PENDING: dict[str, str] = {}


async def run_command(app: ReplApp, command: Command) -> None:
    spec = command.spec
    if not spec.available:
        app.show(f"/{spec.name} is not available yet: {PENDING[spec.name]} is still being built.")
        return
    if app.busy and not spec.during_turn:
        app.show(f"/{spec.name} cannot run during a turn: wait for it to end or press Ctrl-C.")
        return
    await _HANDLERS[spec.name](app, command.args)


async def _help(app: ReplApp, _args: str) -> None:
    app.show(app.renderer.painter.styled("\n".join(help_lines())))


async def _model(app: ReplApp, args: str) -> None:
    if args:
        app.model = args
        app.thread.engine.submit(SetModel(args))
        app.show(f"Model set to {args}{_from_next_turn(app)}.")
        return
    config = app.config
    listing = await list_models(config.model_provider, config.env)
    if listing.error is not None:
        app.show(f"Current model: {app.model}. Cannot list models: {listing.error}.")
    elif not listing.models:
        app.show(f"Current model: {app.model}. The provider lists no models.")
    else:
        rows = [f"{'*' if name == app.model else ' '} {name}" for name in listing.models]
        app.show("\n".join([f"Models of {config.model_provider.name}:", *rows]))
    app.show("Switch with /model <name>.")


async def _effort(app: ReplApp, args: str) -> None:
    choices = ", ".join(REASONING_EFFORTS)
    if not args:
        app.show(f"Reasoning effort: {app.effort or 'default'} (choices: {choices}).")
        return
    level = args.lower()
    if level not in REASONING_EFFORTS:
        app.show(f"Unknown reasoning effort {args!r}; choose one of: {choices}.")
        return
    app.effort = level
    app.thread.engine.submit(SetReasoningEffort(level))
    app.show(f"Reasoning effort set to {level}{_from_next_turn(app)}.")


def _from_next_turn(app: ReplApp) -> str:
    return " from the next turn on" if app.busy else ""


async def _new(app: ReplApp, _args: str) -> None:
    await app.stop_thread()
    app.sent.clear()
    await app.start_thread()


async def _history(app: ReplApp, _args: str) -> None:
    if not app.sent:
        app.show("Nothing sent yet in this conversation.")
        return
    app.show("\n".join(f"{n:>3}. {text}" for n, text in enumerate(app.sent, start=1)))


async def _status(app: ReplApp, _args: str) -> None:
    configured = app.thread.configured
    renderer = app.renderer
    total = renderer.total
    left = percent_context_left(renderer.last, renderer.context_window)
    rows = [
        ("model", app.model + (f" (reasoning {app.effort})" if app.effort else "")),
        ("provider", f"{configured.provider_id} ({app.config.model_provider.base_url})"),
        ("directory", str(configured.cwd)),
        ("sandbox", configured.sandbox_mode),
        ("approval", configured.approval_policy),
        ("session id", configured.session_id),
        ("thread id", configured.thread_id),
        ("session file", str(configured.rollout_path or "not recorded")),
        ("tokens", f"{total.total_tokens} total, {total.input_tokens} in "
                   f"({total.cached_input_tokens} cached), {total.output_tokens} out"),
        ("context left", f"{left}%"),
    ]  # fmt: skip
    width = max(len(key) for key, _ in rows)
    app.show("\n".join(f"{key.ljust(width)}  {value}" for key, value in rows))


async def _diff(app: ReplApp, _args: str) -> None:
    text = await git_diff(app.thread.configured.cwd)
    app.show(app.renderer.painter.diff(text) if text.startswith("diff") else text)


async def _queue(app: ReplApp, args: str) -> None:
    if not args:
        queued = "\n".join(f"  {text}" for text in app.queue) or "  (empty)"
        app.show(f"Queued messages:\n{queued}\nUsage: /queue <message>")
    elif app.busy:
        app.queue.append(args)
        app.show(app.renderer.user_block(args, "queued"))
    else:
        app.send(args)


async def _agents(app: ReplApp, args: str) -> None:
    from pycodex.frontends.repl.agents_view import AgentFollower, agent_rows, find_agent

    manager = app.thread.manager
    if manager is None:
        app.show("Sub-agents are not available here.")
        return
    root = app.thread.configured.thread_id
    if app.follower is not None and args:
        app.follower.stop()
        app.follower = None
    if not args:
        app.show("\n".join(agent_rows(manager, root)))
    elif args != "off":
        agent = find_agent(manager, root, args)
        if agent is None:
            app.show(f"No agent {args!r}; /agents lists them.")
            return
        app.follower = AgentFollower(app, agent)
        app.show(
            f"Following {agent.identity.agent_nickname or agent.thread_id}; /agents off stops."
        )


async def _memories(app: ReplApp, _args: str) -> None:
    from pycodex.context.memory_summary import read_summary, summary_path

    config = app.config
    path = summary_path(config.codex_home)
    summary = await asyncio.to_thread(read_summary, config.codex_home)
    if not config.memories_enabled:
        state = "Memories are off ([features] memories = true turns them on)."
    elif not config.memories.use_memories:
        state = "Memories are not given to sessions ([memories] use_memories = false)."
    elif app.thread.engine.state.context.memory_message is not None:
        state = "This session started with the memory summary; as it is now:"
    else:
        state = "This session started without a memory summary."
    if summary is None:
        app.show(f"{state}\nNo memory summary yet ({path}).")
        return
    app.show(f"{state}\n{path}:")
    app.show(app.renderer.painter.markdown(summary))


async def _exit(app: ReplApp, _args: str) -> None:
    app.request_exit()


async def git_diff(cwd: Path) -> str:
    """Changes of the working tree against HEAD, then untracked files; or why there are none."""
    code, inside = await _git(cwd, "rev-parse", "--is-inside-work-tree")
    if code != 0 or inside.strip() != "true":
        return f"{cwd} is not inside a git repository."
    code, _ = await _git(cwd, "rev-parse", "--verify", "--quiet", "HEAD")
    against = ["HEAD"] if code == 0 else []
    _, diff = await _git(cwd, "diff", "--no-color", "--no-ext-diff", *against)
    _, untracked = await _git(cwd, "ls-files", "--others", "--exclude-standard")
    parts = [diff.rstrip("\n")] if diff.strip() else []
    parts += [f"untracked: {path}" for path in untracked.splitlines() if path]
    return "\n".join(parts) if parts else "No changes."


async def _git(cwd: Path, *args: str) -> tuple[int, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            "git", *args, cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    except OSError:
        return 127, ""
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode("utf-8", "replace")


async def _compact(app: ReplApp, _args: str) -> None:
    app.thread.engine.submit(Compact())
    app.show("Compacting the conversation…")


async def _resume(app: ReplApp, args: str) -> None:
    """`/resume ID` continues that session; `/resume` offers the recent ones of this folder."""
    if not args.strip():
        app.background(_pick_and_switch(app))  # the picker reads its answer from the input line
        return
    try:
        path = find_session(app.config.codex_home, args.strip())
    except SessionError as err:
        app.show(str(err))
        return
    await _switch(app, path)


async def _pick_and_switch(app: ReplApp) -> None:
    path = await _pick(app)
    if path is not None:
        await _switch(app, path)


async def _pick(app: ReplApp) -> Path | None:
    sessions = await asyncio.to_thread(list_sessions, app.config.codex_home, app.config.cwd, 10)
    if not sessions:
        app.show("No recorded sessions for this directory.")
        return None
    rows = [
        f"{n:>3}. {s.started_at.astimezone():%Y-%m-%d %H:%M}  {s.thread_id[:13]}  "
        f"{' '.join(s.first_user_message.split())[:50]}"
        for n, s in enumerate(sessions, start=1)
    ]
    app.show("\n".join(["Recent sessions here:", *rows, "  (a number, or Enter to cancel)"]))
    reply = (await app.read_answer("resume")).strip()
    if not reply.isdigit() or not 1 <= int(reply) <= len(sessions):
        app.show("Resume cancelled.")
        return None
    return sessions[int(reply) - 1].path


async def _fork(app: ReplApp, _args: str) -> None:
    """Branch: a new session holding this one's history, continued from here."""
    state = app.thread.engine.state
    if state.recorder is None or state.rollout_path is None:
        app.show("This session is not recorded (ephemeral), so it cannot be forked.")
        return
    await state.recorder.flush()
    if not state.rollout_path.exists():
        app.show("Nothing to fork yet: send a message first.")
        return
    recorded = await asyncio.to_thread(load_thread, state.rollout_path)
    thread_id, path = await fork_thread(app.config.codex_home, app.config.cwd, recorded)
    await _switch(app, path)
    app.show(f"Forked {recorded.thread_id} into {thread_id}; you are now in the fork.")


async def _switch(app: ReplApp, path: Path) -> None:
    await app.stop_thread()
    app.sent.clear()
    try:
        await app.start_thread(path)
    except ValueError as err:
        app.show(f"Cannot continue {path.name}: {err}")
        await app.start_thread()
        return
    history = app.thread.engine.state.context.history
    app.show(f"Continuing session {app.thread.configured.thread_id} ({len(history)} items).")


async def _title(app: ReplApp, args: str) -> None:
    state = app.thread.engine.state
    if not args.strip():
        app.show(f"Title: {app.title or '(none)'}; set one with /title <text>.")
        return
    app.title = args.strip()
    state.record_event({"type": "session_title", "title": app.title})
    app.show(f"Title set: {app.title}")


_HANDLERS: dict[str, Handler] = {
    "resume": _resume,
    "fork": _fork,
    "title": _title,
    "help": _help,
    "compact": _compact,
    "model": _model,
    "effort": _effort,
    "new": _new,
    "history": _history,
    "status": _status,
    "diff": _diff,
    "queue": _queue,
    "agents": _agents,
    "memories": _memories,
    "exit": _exit,
    "quit": _exit,
}
