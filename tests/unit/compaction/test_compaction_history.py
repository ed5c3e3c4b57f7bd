"""Which user messages survive compaction: the newest always (cut in the middle when it alone is
over the budget), then older ones while the budget lasts."""

from __future__ import annotations

from pycodex.compaction.history import compacted_history, recent_user_messages
from pycodex.context.tokens import approx_token_count
from pycodex.protocol.items import InputImage, InputText, Message, ResponseItem


def user(text: str) -> Message:
    return Message(role="user", content=[InputText(text=text)])


def assistant(text: str) -> Message:
    return Message(role="assistant", content=[{"type": "output_text", "text": text}])


def test_the_newest_message_is_kept_cut_in_the_middle_when_it_alone_is_over_budget() -> None:
    ask = "START of what I want\n" + "filler line\n" * 5000 + "END: do this last thing\n"
    history: list[ResponseItem] = [user("an older request"), assistant("ok"), user(ask)]
    (kept,) = recent_user_messages(history, budget_tokens=1000)
    assert kept.text.startswith("START of what I want\n")
    assert kept.text.endswith("END: do this last thing\n")
    assert "tokens truncated…" in kept.text
    assert approx_token_count(kept.text) <= 1000 + 20  # the budget, plus the marker line


def test_older_messages_fill_the_rest_and_the_first_that_does_not_fit_is_cut() -> None:
    history: list[ResponseItem] = [
        user("oldest " * 400),  # ~700 tokens: does not fit after the others
        user("middle " * 100),  # ~175 tokens
        user("newest " * 100),
    ]
    kept = recent_user_messages(history, budget_tokens=500)
    assert [message.text[:6] for message in kept] == ["oldest", "middle", "newest"]
    assert kept[1:] == history[1:]  # whole
    assert "tokens truncated…" in kept[0].text
    assert sum(approx_token_count(message.text) for message in kept) <= 500 + 20


def test_images_of_a_cut_message_are_kept() -> None:
    image = InputImage(image_url="data:image/png;base64,AAAA")
    ask = Message(role="user", content=[image, InputText(text="look " * 4000)])
    (kept,) = recent_user_messages([ask], budget_tokens=100)
    assert kept.content[0] == image
    assert "tokens truncated…" in kept.text


def test_compacted_history_always_ends_with_the_ask_then_the_summary() -> None:
    history: list[ResponseItem] = [user("x" * 200_000)]
    new = compacted_history([], history, "the summary")
    assert len(new) == 2
    assert isinstance(new[0], Message) and "tokens truncated…" in new[0].text
    assert isinstance(new[1], Message) and "the summary" in new[1].text
