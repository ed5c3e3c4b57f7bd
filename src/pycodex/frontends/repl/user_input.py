"""The `request_user_input` provider of the REPL: each question as a numbered choice list.

The answer is typed on the ordinary input line (which keeps working while the turn runs): a number
picks that option, Enter alone picks the first, anything else is sent as the user's own answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from pycodex.tools.builtin.user_input import UserInputQuestion


class QuestionHost(Protocol):
    """What the provider needs from the REPL: print a block, read one answer line, and the lock
    that keeps one question on screen at a time."""

    question_lock: asyncio.Lock

    def show(self, block: str) -> None: ...

    async def read_answer(self, label: str) -> str: ...


def question_text(question: UserInputQuestion) -> str:
    lines = [f"? {question.header}", f"  {question.question}"]
    for number, option in enumerate(question.options, start=1):
        lines.append(f"  {number}. {option.label} — {option.description}")
    if question.options:
        lines.append("  (a number, Enter for 1, or type your own answer)")
    return "\n".join(lines)


def choose(question: UserInputQuestion, reply: str) -> str:
    """The answer a reply stands for: an option label, or the reply itself."""
    text = reply.strip()
    labels = [option.label for option in question.options]
    if not text:
        return labels[0] if labels else ""
    if text.isdigit() and 1 <= int(text) <= len(labels):
        return labels[int(text) - 1]
    for label in labels:
        if label.casefold() == text.casefold():
            return label
    return text


class ReplUserInput:
    """Implements `pycodex.tools.builtin.user_input.UserInputProvider`."""

    def __init__(self, host: QuestionHost) -> None:
        self._host = host

    async def ask(self, questions: Sequence[UserInputQuestion]) -> dict[str, str]:
        answers: dict[str, str] = {}
        async with self._host.question_lock:  # after any approval already on screen
            for question in questions:
                self._host.show(question_text(question))
                reply = await self._host.read_answer(question.header)
                answers[question.id] = choose(question, reply)
                self._host.show(f"  → {answers[question.id]}")
        return answers
