"""rich, behind a small interface: Markdown and styled text rendered to strings.

Rendering to a string (instead of printing) lets the REPL hand finished blocks to prompt_toolkit,
which prints them above the input line, and lets tests pin the output at a fixed width with colour
off. With colour off no escape sequence is produced at all.
"""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.text import Text

from pycodex._records import dataclass

CODE_THEME = "monokai"


@dataclass(frozen=True, slots=True)
class Painter:
    """Renders at a given width, with or without colour."""

    width: int
    colour: bool

    def _console(self) -> Console:
        return Console(
            file=io.StringIO(),
            width=max(self.width, 20),
            force_terminal=self.colour,
            color_system="256" if self.colour else None,
            no_color=not self.colour,
            highlight=False,
            emoji=False,
            legacy_windows=False,
            soft_wrap=False,
        )

    def render(self, renderable: RenderableType) -> str:
        console = self._console()
        with console.capture() as captured:
            console.print(renderable)
        return _strip_trailing_spaces(captured.get())

    def markdown(self, text: str) -> str:
        return self.render(Markdown(text, code_theme=CODE_THEME, hyperlinks=False))

    def styled(self, text: str, style: str = "") -> str:
        """One or more lines in a rich style ("dim", "bold red"...); wrapped to the width."""
        return self.render(Text(text, style=style if self.colour else ""))

    def diff(self, text: str) -> str:
        if not self.colour:
            return self.render(Text(text))
        return self.render(Syntax(text, "diff", theme=CODE_THEME, word_wrap=True))


def _strip_trailing_spaces(text: str) -> str:
    """rich pads lines to the width; padding breaks snapshots and wraps badly when resized."""
    return "\n".join(line.rstrip() for line in text.rstrip("\n").split("\n"))
