"""`update_plan`: the model's step list, surfaced to frontends as a todo list."""

from __future__ import annotations

from typing import Any, Literal

from pycodex._records import dataclass
from pycodex.protocol import events as ev
from pycodex.tools.base import BaseTool, ToolContext, ToolError


@dataclass(frozen=True, slots=True)
class PlanItem:
    step: str
    status: Literal["pending", "in_progress", "completed"]


@dataclass(frozen=True, slots=True)
class UpdatePlanArgs:
    plan: list[PlanItem]
    explanation: str | None = None


UPDATE_PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "explanation": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Why the plan changed (optional).",
        },
        "plan": {
            "type": "array",
            "items": {"$ref": "#/$defs/PlanItem"},
            "description": "Every step with its status.",
        },
    },
    "required": ["plan"],
    "$defs": {
        "PlanItem": {
            "type": "object",
            "properties": {
                "step": {"type": "string"},
                "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
            },
            "required": ["step", "status"],
        },
    },
}


class UpdatePlanTool(BaseTool[UpdatePlanArgs]):
    name = "update_plan"
    description = (
        "Record or update your plan: a short list of steps, each pending, in_progress or "
        "completed. At most one step may be in_progress."
    )
    input_schema = UPDATE_PLAN_SCHEMA
    args_type = UpdatePlanArgs
    read_only = True

    async def run(self, context: ToolContext, args: UpdatePlanArgs) -> str:
        if sum(item.status == "in_progress" for item in args.plan) > 1:
            raise ToolError("at most one step may be in_progress")
        steps = tuple(ev.PlanStep(item.step, item.status) for item in args.plan)
        context.emit(ev.PlanUpdated(args.explanation, steps))
        return "Plan updated"
