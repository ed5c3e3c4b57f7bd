"""Engine ops: what frontends submit to the engine's submission queue."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pycodex._records import dataclass


@dataclass(frozen=True, slots=True)
class TextInput:
    text: str


@dataclass(frozen=True, slots=True)
class ImageInput:
    """A local image file, attached to the user message as a data URL."""

    path: Path


InputItem = TextInput | ImageInput


@dataclass(frozen=True, slots=True)
class UserTurn:
    """Start a turn with this user input."""

    items: tuple[InputItem, ...]

    @classmethod
    def text(cls, text: str) -> UserTurn:
        return cls(items=(TextInput(text),))


@dataclass(frozen=True, slots=True)
class Interrupt:
    """Abort the running turn: kill its commands, keep history consistent."""


ReviewDecision = Literal["approved", "approved_for_session", "approved_always", "denied", "abort"]


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """The user's answer to an approval request (`call_id` names the request)."""

    call_id: str
    decision: ReviewDecision


@dataclass(frozen=True, slots=True)
class Compact:
    """Summarize the history now and replace it with the compacted form."""


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Finish: abort any turn, stop processes, flush the session file."""


@dataclass(frozen=True, slots=True)
class SetModel:
    """Use this model for the thread's next turns (a running turn keeps its model)."""

    model: str


@dataclass(frozen=True, slots=True)
class SetReasoningEffort:
    """Use this reasoning effort for the next turns; None sends no effort at all."""

    effort: str | None


Op = UserTurn | Interrupt | ApprovalDecision | Compact | Shutdown | SetModel | SetReasoningEffort
