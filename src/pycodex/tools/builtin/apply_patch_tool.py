"""`apply_patch`: edit files with the patch format, as a freeform tool or a JSON function.

The patch is applied all-or-nothing inside the writable roots of the sandbox policy; a failure
tells the model which file and chunk did not match.

The parser and applier (`pycodex.apply_patch`) and the approval rules are imported when a patch
is first applied; the specs only need the package's grammar and instructions files.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pycodex.apply_patch.resources import load_grammar, load_tool_instructions
from pycodex.protocol import events as ev
from pycodex.protocol.policies import SandboxMode, SandboxPolicy
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput
from pycodex.tools.builtin.shell import format_command_output

if TYPE_CHECKING:
    from pycodex.apply_patch import ApplyResult

# Keyed by `ChangeKind` values (a StrEnum, so its members look these up directly).
_KINDS: dict[str, ev.FileChangeKind] = {"add": "add", "delete": "delete", "update": "update"}


def writable_roots(policy: SandboxPolicy, cwd: Path) -> Sequence[Path] | None:
    """None means anywhere; an empty list means nowhere."""
    if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        return None
    if policy.mode is SandboxMode.READ_ONLY:
        return []
    return policy.writable_roots or (cwd,)


async def run_apply_patch(context: ToolContext, patch_text: str) -> ToolOutput:
    from pycodex.apply_patch import PatchError

    started = time.monotonic()
    try:
        changes = _planned_changes(patch_text, context.cwd)
        context.emit(ev.PatchApplyBegin(context.call_id, changes))
        result = await _apply(context, patch_text, changes)
    except PatchError as err:
        message = str(err)
        if context.sandbox_policy.mode is SandboxMode.READ_ONLY:
            message += "\n(the sandbox is read-only: no file may be changed in this session)"
        context.emit(ev.PatchApplyEnd(context.call_id, (), False, message))
        return ToolOutput(format_command_output(1, time.monotonic() - started, message), False)
    changes = _result_changes(result)
    context.emit(ev.PatchApplyEnd(context.call_id, changes, True, result.summary()))
    return ToolOutput(format_command_output(0, time.monotonic() - started, result.summary()))


async def _apply(
    context: ToolContext, patch_text: str, changes: tuple[ev.FileChange, ...]
) -> ApplyResult:
    """Apply within the writable roots; a path outside them is put to the user first."""
    from pycodex.apply_patch import PatchApplyError, PathNotWritableError, apply_patch_text
    from pycodex.tools.approvals import patch_permission

    roots = writable_roots(context.sandbox_policy, context.cwd)
    try:
        return apply_patch_text(patch_text, context.cwd, roots)
    except PathNotWritableError as err:
        try:
            await patch_permission(context, changes, str(err))
        except ToolError as refusal:
            raise PatchApplyError(str(refusal), err.path) from None
        return apply_patch_text(patch_text, context.cwd, None)


def _planned_changes(patch_text: str, cwd: Path) -> tuple[ev.FileChange, ...]:
    from pycodex.apply_patch import parse_patch, plan_patch

    planned = plan_patch(parse_patch(patch_text), cwd)
    return tuple(ev.FileChange(change.display_path, _KINDS[change.kind]) for change in planned)


def _result_changes(result: ApplyResult) -> tuple[ev.FileChange, ...]:
    diffs = result.diffs
    return (
        *(ev.FileChange(path, "add", diffs.get(path, "")) for path in result.added),
        *(ev.FileChange(path, "update", diffs.get(path, "")) for path in result.modified),
        *(ev.FileChange(path, "delete", diffs.get(path, "")) for path in result.deleted),
    )


class ApplyPatchFreeformTool(BaseTool[str]):
    name = "apply_patch"
    kind = "custom"

    def __init__(self) -> None:
        self.description_text = load_tool_instructions()
        self.grammar = {
            "type": "grammar",
            "syntax": "lark",
            "definition": load_grammar(),
        }

    def spec(self) -> dict[str, Any]:
        return {
            "type": "custom",
            "name": self.name,
            "description": self.description_text,
            "format": self.grammar,
        }

    async def run(self, context: ToolContext, args: str) -> ToolOutput:
        return await run_apply_patch(context, args)


class ApplyPatchFunctionTool(BaseTool[dict[str, Any]]):
    name = "apply_patch"
    input_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"input": {"type": "string", "description": "The whole patch text."}},
        "required": ["input"],
        "additionalProperties": False,
    }

    def __init__(self) -> None:
        self.description_text = load_tool_instructions()

    def spec(self) -> dict[str, Any]:
        spec = super().spec()
        spec["description"] = self.description_text
        return spec

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        return await run_apply_patch(context, str(args["input"]))
