"""Engine ops: what frontends submit to the engine's submission queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pycodex._records import dataclass
from pycodex.protocol.policies import AskForApproval, SandboxPolicy


@dataclass(frozen=True, slots=True)
class TextInput:
    text: str


@dataclass(frozen=True, slots=True)
class ImageInput:
    """A local image file, attached to the user message as a data URL."""

    path: Path


@dataclass(frozen=True, slots=True)
class ImageUrlInput:
    """An image given by URL (`https://...` or a `data:` URL), sent to the model as it is."""

    url: str


InputItem = TextInput | ImageInput | ImageUrlInput


@dataclass(frozen=True, slots=True)
class UserTurn:
    """Start a turn with this user input.

    `turn_id` names the turn (a frontend that must report the id before the turn starts picks
    it); `output_schema` constrains this turn's final answer only. Both apply when the input
    starts a turn; input steered into a running turn ignores them.
    """

    items: tuple[InputItem, ...]
    turn_id: str | None = None
    output_schema: dict[str, Any] | None = None

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


# Marks a setting OverrideTurnContext leaves as it is (None is a value for effort and summary).
KEEP: Any = "__keep__"


@dataclass(frozen=True, slots=True)
class OverrideTurnContext:
    """Change the thread's settings from its next turn on (a running turn keeps its own).

    Fields left at None (effort and summary: at `KEEP`) are not changed."""

    cwd: Path | None = None
    approval_policy: AskForApproval | None = None
    sandbox_policy: SandboxPolicy | None = None
    model: str | None = None
    effort: str | None = KEEP
    summary: str | None = KEEP


Op = (
    UserTurn
    | Interrupt
    | ApprovalDecision
    | Compact
    | Shutdown
    | SetModel
    | SetReasoningEffort
    | OverrideTurnContext
)
