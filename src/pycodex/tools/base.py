"""The tool interface: a spec the model sees plus an async handler.

A function tool's arguments are checked against its JSON schema, then handed to `run` as one
of: the parsed JSON object (a tool with only an `input_schema`), an instance of its `args_type`
(the built-in tools: a hand-written `input_schema` plus a plain dataclass, see
`pycodex.tools.arguments`), or an instance of a user's pydantic `args_model` (pydantic is imported
only when such a tool is used). A custom (freeform) tool receives the raw input string.

A handler returns a string or a `ToolOutput`; raising `ToolError` sends its message back to the
model as a failed output and the turn goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pycodex._records import dataclass, field
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.policies import AskForApproval, SandboxPolicy, ShellEnvironmentPolicy
from pycodex.tools.services import ToolServices

if TYPE_CHECKING:
    from pydantic import BaseModel

ToolKind = Literal["function", "custom"]
ArgsT = TypeVar("ArgsT")


class ToolError(Exception):
    """A failure to report to the model (bad arguments, a missing file, a refused path...)."""


@dataclass(frozen=True, slots=True)
class ToolOutput:
    text: str
    success: bool = True
    # Extra content items (e.g. `input_image`) sent along with the text, for tools like view_image.
    content_items: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """Which session, thread and turn a call belongs to, for tools that tell a server (MCP
    `tools/call` sends it as `_meta`). The agent fills it from the turn's model-request identity."""

    session_id: str
    thread_id: str
    window_id: str
    # The turn metadata object, as sent in the `x-codex-turn-metadata` header of model requests.
    turn_metadata: dict[str, Any]


@dataclass(slots=True)
class ToolContext:
    """What a handler may use while it runs one call."""

    call_id: str
    turn_id: str
    cwd: Path
    sandbox_policy: SandboxPolicy
    approval_policy: AskForApproval = AskForApproval.NEVER
    shell_environment_policy: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    emit: Callable[[EngineEvent], None] = lambda _event: None
    # Long-lived helpers of the thread (approvals, prefix rules, the user, the process manager).
    services: ToolServices = field(default_factory=ToolServices)
    # Who is calling (None outside a turn, e.g. a tool run directly by library code).
    caller: CallerIdentity | None = None


class BaseTool(Generic[ArgsT]):
    """Subclass, set the class attributes, implement `run`.

    `ArgsT` is what `run` receives: the `args_type` or `args_model` instance, the argument dict,
    or the raw input string of a custom tool.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    kind: ClassVar[ToolKind] = "function"
    input_schema: ClassVar[dict[str, Any] | None] = None
    # A plain class built from the checked arguments; needs `input_schema` (built-in tools).
    args_type: ClassVar[type[Any] | None] = None
    # A pydantic model that both validates the arguments and gives the schema (user tools).
    args_model: ClassVar[type[BaseModel] | None] = None
    # For custom tools: the `format` object (e.g. a Lark grammar) of the spec.
    input_format: ClassVar[dict[str, Any] | None] = None
    # Read-only tools may run concurrently with each other; others run one at a time.
    read_only: ClassVar[bool] = False
    # False: `run` gets the parsed JSON object unchecked, for tools whose schema someone else
    # enforces (an MCP server checks its own tools' arguments).
    checks_arguments: ClassVar[bool] = True

    async def run(self, context: ToolContext, args: ArgsT) -> str | ToolOutput:
        raise NotImplementedError

    def parameters_schema(self) -> dict[str, Any]:
        if self.input_schema is not None:
            return self.input_schema
        if self.args_model is not None:
            return _clean_schema(self.args_model.model_json_schema())
        return {"type": "object", "properties": {}}

    def search_text(self) -> str:
        """What `tool_search` matches this tool on: name, description, argument names."""
        properties = self.parameters_schema().get("properties")
        names = sorted(properties) if isinstance(properties, dict) else []
        return " ".join([self.name, self.description, *names])

    def spec(self) -> dict[str, Any]:
        """The tool definition as sent in a Responses request's `tools` list."""
        if self.kind == "custom":
            spec: dict[str, Any] = {
                "type": "custom",
                "name": self.name,
                "description": self.description,
            }
            if self.input_format is not None:
                spec["format"] = self.input_format
            return spec
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "strict": False,
            "parameters": self.parameters_schema(),
        }


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's `title` noise so the schema the model sees stays small."""
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if isinstance(value, dict):
            cleaned[key] = _clean_schema(value)
        elif isinstance(value, list):
            cleaned[key] = [_clean_schema(v) if isinstance(v, dict) else v for v in value]
        else:
            cleaned[key] = value
    return cleaned
