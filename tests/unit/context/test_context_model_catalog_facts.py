"""Our model catalog against upstream's bundled one (`fixtures/model_catalog_facts.json`: the
numeric and enum fields of `codex debug models --bundled`, Codex CLI 0.169).

Every model upstream lists must resolve to the same per-model defaults: reasoning effort and
summary, verbosity, context window and its usable share, the shell and apply_patch tool shapes,
the tool-output budget and the web search tool. A new upstream model added to the facts file
without a catalog entry fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from context_fixtures import FixtureRepo

from pycodex.config.model import REASONING_EFFORTS
from pycodex.context.model_catalog import resolve_model_info
from pycodex.tools.builtin import build_default_tools

FACTS = json.loads((Path(__file__).parent / "fixtures" / "model_catalog_facts.json").read_text())
SHELL_TOOLS = {"unified_exec": "exec_command", "shell_command": "shell_command"}
CONTENT_TYPES = {"text_and_image": ["text", "image"]}


@pytest.mark.parametrize("facts", FACTS["models"], ids=lambda facts: facts["slug"])
def test_catalog_matches_upstream_for_every_model(
    fixture_repo: FixtureRepo, facts: dict[str, Any]
) -> None:
    config = fixture_repo.config(model=facts["slug"])
    info, warnings = resolve_model_info(config)
    assert warnings == []
    assert info.known
    assert info.context_window == facts["context_window"]
    assert info.effective_window_percent == facts["effective_context_window_percent"]
    assert info.reasoning_effort == facts["default_reasoning_level"]
    assert info.reasoning_summary == facts["default_reasoning_summary"]
    assert info.supports_verbosity == facts["support_verbosity"]
    assert info.verbosity == facts["default_verbosity"]
    assert info.shell_tool == SHELL_TOOLS[facts["shell_type"]]
    assert info.apply_patch == facts["apply_patch_tool_type"]
    assert facts["truncation_policy"]["mode"] == "tokens"
    assert info.tool_output_token_limit == facts["truncation_policy"]["limit"]
    assert info.supports_search_tool == facts["supports_search_tool"]
    assert info.web_search_tool_type == facts["web_search_tool_type"]

    tools, _services = build_default_tools(config, info)
    specs = tools.specs()
    search = [spec for spec in specs if spec.get("type") == "web_search"]
    expected: dict[str, Any] = {"type": "web_search", "external_web_access": False}
    if facts["web_search_tool_type"] in CONTENT_TYPES:
        expected["search_content_types"] = CONTENT_TYPES[facts["web_search_tool_type"]]
    assert search == ([expected] if facts["supports_search_tool"] else [])
    names = [spec.get("name") for spec in specs]
    assert ("exec_command" in names) == (facts["shell_type"] == "unified_exec")
    patch = next(spec for spec in specs if spec.get("name") == "apply_patch")
    assert patch["type"] == (
        "custom" if facts["apply_patch_tool_type"] == "freeform" else "function"
    )


def test_every_reasoning_level_upstream_lists_is_accepted_in_config() -> None:
    levels = {level for model in FACTS["models"] for level in model["supported_reasoning_levels"]}
    assert levels <= set(REASONING_EFFORTS)
