"""The `request_user_input` tool: ask the user short multiple-choice questions mid-turn.

The asking itself belongs to whichever frontend has a user: it provides a `UserInputProvider`
as the `user_input` service (`ToolServices.user_input`). Without one (non-interactive `exec`),
the tool answers with a failed output telling the model to carry on with its own judgement, so a
turn never waits on a user who is not there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from pycodex._records import dataclass
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput

UNAVAILABLE_MESSAGE = (
    "request_user_input is unavailable: no user is attached to this session (non-interactive "
    "mode); proceed with your best judgement and state your assumptions."
)


@dataclass(frozen=True, slots=True)
class UserInputOption:
    label: str
    description: str


@dataclass(frozen=True, slots=True)
class UserInputQuestion:
    id: str
    header: str
    question: str
    options: list[UserInputOption]


@dataclass(frozen=True, slots=True)
class RequestUserInputArgs:
    questions: list[UserInputQuestion]


REQUEST_USER_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "questions": {
            "type": "array",
            "items": {"$ref": "#/$defs/UserInputQuestion"},
            "minItems": 1,
            "description": "The questions to ask, in order.",
        },
    },
    "required": ["questions"],
    "$defs": {
        "UserInputOption": {
            "type": "object",
            "properties": {
                "label": {
                    "type": "string",
                    "description": "The choice as the user sees it, a few words.",
                },
                "description": {
                    "type": "string",
                    "description": "One sentence on what picking it means.",
                },
            },
            "required": ["label", "description"],
        },
        "UserInputQuestion": {
            "type": "object",
            "properties": {
                "id": {
                    "type": "string",
                    "description": "Key of this question's answer in the result.",
                },
                "header": {
                    "type": "string",
                    "description": "A very short title for the question (a few words).",
                },
                "question": {
                    "type": "string",
                    "description": "The question itself, one or two sentences.",
                },
                "options": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/UserInputOption"},
                    "description": "The choices offered to the user.",
                },
            },
            "required": ["id", "header", "question", "options"],
        },
    },
}


class UserInputProvider(Protocol):
    """What a frontend with a user provides: ask the questions, return answers by question id."""

    async def ask(self, questions: Sequence[UserInputQuestion]) -> dict[str, str]: ...


class RequestUserInputTool(BaseTool[RequestUserInputArgs]):
    name = "request_user_input"
    description = (
        "Ask the user one or more short multiple-choice questions when a decision is genuinely "
        "theirs to make; returns their answers by question id. Unavailable in non-interactive "
        "runs."
    )
    input_schema = REQUEST_USER_INPUT_SCHEMA
    args_type = RequestUserInputArgs
    read_only = True

    async def run(self, context: ToolContext, args: RequestUserInputArgs) -> ToolOutput:
        provider = context.services.user_input
        if provider is None:
            return ToolOutput(UNAVAILABLE_MESSAGE, success=False)
        ids = [question.id for question in args.questions]
        duplicates = sorted({qid for qid in ids if ids.count(qid) > 1})
        if duplicates:
            raise ToolError(f"question ids must be unique; repeated: {', '.join(duplicates)}")
        answers = await provider.ask(args.questions)
        return ToolOutput(json.dumps({"answers": answers}, ensure_ascii=False))
