"""The interactive agent (`pycodex` in a terminal): an engine-event consumer with an input line.

- `app`: `ReplApp`, the session loop (event pump, input dispatch, turn state, exit).
- `input`: the prompt_toolkit input line: history, key bindings, live area and status bar.
- `render`: `TranscriptRenderer`, engine events → text blocks for the scrollback (pure).
- `markup`: rich-based rendering of Markdown and styled lines to ANSI or plain strings.
- `commands`: slash-command parsing and the command table; `handlers`: what each command does.
- `usage`: token usage lines and the "context left" percentage.
- `user_input`: the `request_user_input` provider that asks the user through the input line.
- `model_list`: the provider's `GET /models` listing for `/model`.
- `plain`: the non-terminal path (piped stdin): run one turn, print it, exit.
"""

from pycodex.frontends.repl.app import ReplApp, ReplThread, ThreadFactory
from pycodex.frontends.repl.plain import run_plain

__all__ = ["ReplApp", "ReplThread", "ThreadFactory", "run_plain"]
