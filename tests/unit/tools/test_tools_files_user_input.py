"""request_user_input through the registry, with and without a user attached."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import ToolContext, ToolOutput
from pycodex.tools.builtin.user_input import (
    UNAVAILABLE_MESSAGE,
    RequestUserInputTool,
    UserInputProvider,
    UserInputQuestion,
)
from pycodex.tools.registry import ToolRegistry, dispatch
from pycodex.tools.services import ToolServices

QUESTIONS = [
    {
        "id": "db",
        "header": "Database",
        "question": "Which database should the service use?",
        "options": [
            {"label": "Postgres", "description": "The team's usual choice."},
            {"label": "SQLite", "description": "No server to run."},
        ],
    },
    {
        "id": "tests",
        "header": "Tests",
        "question": "Add integration tests now?",
        "options": [{"label": "Yes", "description": "Slower, safer."}],
    },
]


class ScriptedUser:
    """A user who picks the first option of every question and remembers what was asked."""

    def __init__(self) -> None:
        self.asked: list[UserInputQuestion] = []

    async def ask(self, questions: Sequence[UserInputQuestion]) -> dict[str, str]:
        self.asked.extend(questions)
        return {question.id: question.options[0].label for question in questions}


async def ask(services: ToolServices, arguments: dict[str, Any]) -> ToolOutput:
    context = ToolContext(
        call_id="call-1",
        turn_id="turn-1",
        cwd=Path("/"),
        sandbox_policy=SandboxPolicy.read_only(),
        services=services,
    )
    call = FunctionCall(
        name="request_user_input", arguments=json.dumps(arguments), call_id="call-1"
    )
    _item, output = await dispatch(ToolRegistry([RequestUserInputTool()]), call, context)
    return output


async def test_without_a_user_the_model_is_told_to_carry_on() -> None:
    output = await ask(ToolServices(), {"questions": QUESTIONS})
    assert output == ToolOutput(UNAVAILABLE_MESSAGE, success=False)
    assert output.text == (
        "request_user_input is unavailable: no user is attached to this session "
        "(non-interactive mode); proceed with your best judgement and state your assumptions."
    )


async def test_answers_come_back_as_json() -> None:
    user = ScriptedUser()
    provider: UserInputProvider = user
    output = await ask(ToolServices(user_input=provider), {"questions": QUESTIONS})
    assert output == ToolOutput('{"answers": {"db": "Postgres", "tests": "Yes"}}')
    assert [asdict(question) for question in user.asked] == QUESTIONS


async def test_bad_questions_are_refused_before_asking() -> None:
    user = ScriptedUser()
    services = ToolServices(user_input=user)
    repeated = await ask(services, {"questions": [QUESTIONS[0], QUESTIONS[0]]})
    assert repeated == ToolOutput("question ids must be unique; repeated: db", success=False)
    empty = await ask(services, {"questions": []})
    assert empty == ToolOutput(
        "invalid arguments for request_user_input: questions: expected at least 1 item, got 0",
        success=False,
    )
    assert user.asked == []
