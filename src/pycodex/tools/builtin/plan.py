"""`update_plan`: the model's step list, surfaced to frontends as a todo list."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from pycodex.protocol import events as ev
from pycodex.tools.base import BaseTool, ToolContext, ToolError


class PlanItem(BaseModel):
    step: str
    status: Literal["pending", "in_progress", "completed"]


class UpdatePlanArgs(BaseModel):
    explanation: str | None = Field(None, description="Why the plan changed (optional).")
    plan: list[PlanItem] = Field(description="Every step with its status.")


class UpdatePlanTool(BaseTool[UpdatePlanArgs]):
    name = "update_plan"
    description = (
        "Record or update your plan: a short list of steps, each pending, in_progress or "
        "completed. At most one step may be in_progress."
    )
    args_model = UpdatePlanArgs
    read_only = True

    async def run(self, context: ToolContext, args: UpdatePlanArgs) -> str:
        if sum(item.status == "in_progress" for item in args.plan) > 1:
            raise ToolError("at most one step may be in_progress")
        steps = tuple(ev.PlanStep(item.step, item.status) for item in args.plan)
        context.emit(ev.PlanUpdated(args.explanation, steps))
        return "Plan updated"
