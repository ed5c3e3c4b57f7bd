"""The input line: a prompt_toolkit `PromptSession` that stays usable while a turn streams.

Above the input sits a live area (the tail of the message or reasoning being streamed and a
spinner line while the model works); below it a status bar (model, context left, hints). Finished
output is printed above all of that through `patch_stdout`. Enter sends; a bracketed paste keeps
its newlines in the buffer; Alt-Enter or Ctrl-J inserts a newline. Ctrl-C clears a non-empty line,
otherwise it is the app's to interpret (interrupt the turn, or arm and confirm exit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from prompt_toolkit import PromptSession
from prompt_toolkit.application import Application
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.styles import Style

HISTORY_FILE = "prompt_history"
REFRESH_S = 0.1

_COLOUR_STYLE = {
    "bottom-toolbar": "noreverse #888888",
    "live": "",
    "reasoning": "italic #888888",
    "status": "bold #5fafff",
    "prompt": "bold",
    "question": "bold #d7af00",
}
_PLAIN_STYLE = {
    "bottom-toolbar": "noreverse",
    "reasoning": "italic",
    "status": "bold",
    "prompt": "bold",
    "question": "bold",
}


class InputHooks(Protocol):
    """What the app supplies to the input line."""

    def prompt_message(self) -> StyleAndTextTuples: ...

    def toolbar(self) -> StyleAndTextTuples: ...

    def on_interrupt_key(self, app: Application[str]) -> None:
        """Ctrl-C on an empty line."""
        ...


def open_history(codex_home: Path, persistence: str = "save-all") -> History:
    """The input history under $CODEX_HOME; in memory when `[history] persistence = "none"` or
    when that directory is not writable."""
    if persistence == "none":
        return InMemoryHistory()
    try:
        codex_home.mkdir(parents=True, exist_ok=True)
        path = codex_home / HISTORY_FILE
        path.touch(mode=0o600, exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


def _key_bindings(hooks: InputHooks) -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        buffer = event.app.current_buffer
        if buffer.text:
            buffer.reset()
            return
        hooks.on_interrupt_key(event.app)

    @bindings.add("escape", "enter")
    @bindings.add("c-j")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


def build_prompt_session(hooks: InputHooks, history: History, colour: bool) -> PromptSession[str]:
    return PromptSession(
        message=hooks.prompt_message,
        bottom_toolbar=hooks.toolbar,
        history=history,
        key_bindings=_key_bindings(hooks),
        erase_when_done=True,  # the app echoes what was sent, labelled (message, steer, answer)
        refresh_interval=REFRESH_S,
        color_depth=ColorDepth.DEPTH_8_BIT if colour else ColorDepth.DEPTH_1_BIT,
        style=Style.from_dict(_COLOUR_STYLE if colour else _PLAIN_STYLE),
        include_default_pygments_style=False,
        enable_suspend=False,
        wrap_lines=True,
    )
