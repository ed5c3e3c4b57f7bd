"""The Responses request body: the spliced encoding equals a plain json.dumps of the dict."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from pycodex.client.request import (
    ModelSettings,
    Prompt,
    RequestContext,
    build_responses_body,
    encode_responses_body,
)
from pycodex.protocol.items import (
    FunctionCall,
    FunctionCallOutput,
    Reasoning,
    SummaryText,
    parse_item,
    user_message,
)

CONTEXT = RequestContext(
    thread_id="t-1", session_id="s-1", turn_id="turn-1", client_request_id="r-1"
)
HISTORY = [
    user_message('héllo \u2603 "quoted" \\ back'),
    Reasoning(id="rs_1", summary=[SummaryText(text="thinking")], encrypted_content="enc"),
    FunctionCall(name="exec_command", arguments='{"cmd": "ls"}', call_id="c1"),
    FunctionCallOutput(call_id="c1", output="a\nb\tc\u0000"),
    parse_item({"type": "future_item", "payload": {"nested": [1, 2.5, None, True]}}),
]


@pytest.mark.parametrize(
    ("prompt", "settings"),
    [
        (Prompt(input=HISTORY, instructions="be brief", tools=[{"type": "web_search"}]),
         ModelSettings("m", reasoning_effort="high", reasoning_summary="auto", verbosity="low")),
        (Prompt(input=[]), ModelSettings("m")),
        (Prompt(input=HISTORY[:1], output_schema={"type": "object"}), ModelSettings("ü-model")),
    ],
)  # fmt: skip
def test_encoding_matches_json_dumps_of_the_body(prompt: Prompt, settings: ModelSettings) -> None:
    expected = json.dumps(build_responses_body(prompt, settings, CONTEXT), ensure_ascii=False)
    assert encode_responses_body(prompt, settings, CONTEXT) == expected
    # A second encoding reuses each item's cached text and is still identical.
    assert encode_responses_body(prompt, settings, CONTEXT) == expected


def test_item_json_is_cached_and_copies_stay_correct() -> None:
    call = FunctionCall(name="n", arguments="{}", call_id="c")
    text = call.wire_json()
    assert call.wire_json() is text
    assert json.loads(text) == call.to_wire()
    for duplicate in (copy.copy(call), copy.deepcopy(call), pickle.loads(pickle.dumps(call))):
        assert duplicate == call
        assert duplicate.wire_json() == text
    fresh = FunctionCall(name="n", arguments="{}", call_id="c")
    assert copy.deepcopy(fresh).wire_json() == text  # copied before its cache was filled
