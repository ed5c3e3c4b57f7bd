"""Packaged prompts, the base-instructions precedence and the token estimate."""

from __future__ import annotations

import json

import pytest
from context_fixtures import FixtureRepo, make_unreadable, write

from pycodex.context.manager import ContextManager
from pycodex.context.permissions import collaboration_mode_text, permissions_text
from pycodex.context.prompt_files import default_base_instructions, read_prompt
from pycodex.context.tokens import approx_items_token_count, approx_token_count
from pycodex.protocol.policies import AskForApproval, SandboxMode, SandboxPolicy


def test_every_policy_has_packaged_text() -> None:
    for mode in SandboxMode:
        policy = SandboxPolicy(mode=mode, network_access=True)
        for approval in AskForApproval:
            text = permissions_text(approval, policy)
            assert text.startswith("<permissions>\nSandbox: ")
            assert f"Approvals: {approval.value}." in text
            assert "{" not in text  # every placeholder was filled
    assert "Network access is enabled." in permissions_text(
        AskForApproval.NEVER, SandboxPolicy(mode=SandboxMode.WORKSPACE_WRITE, network_access=True)
    )
    assert collaboration_mode_text("default").endswith("\n</collaboration_mode>")
    assert collaboration_mode_text("plan").endswith("\n</collaboration_mode>")


def test_prompt_names_cannot_leave_the_prompts_directory() -> None:
    with pytest.raises(ValueError, match="must stay inside"):
        read_prompt("../models.json")


def test_default_base_instructions(fixture_repo: FixtureRepo) -> None:
    manager = ContextManager.from_config(fixture_repo.config())
    assert manager.base_instructions == default_base_instructions()
    assert "apply_patch" in manager.base_instructions


def test_config_text_beats_the_instructions_file(fixture_repo: FixtureRepo) -> None:
    path = write(fixture_repo.root / "mine.md", "From a file.")
    config = fixture_repo.config(base_instructions="From config.", model_instructions_file=path)
    assert ContextManager.from_config(config).base_instructions == "From config."
    config = fixture_repo.config(model_instructions_file=path)
    assert ContextManager.from_config(config).base_instructions == "From a file."


def test_unreadable_instructions_file_falls_back_with_a_warning(fixture_repo: FixtureRepo) -> None:
    path = make_unreadable(fixture_repo.root / "locked.md")
    manager = ContextManager.from_config(fixture_repo.config(model_instructions_file=path))
    assert manager.base_instructions == default_base_instructions()
    assert any(
        w.startswith(f"could not read model_instructions_file file {path}")
        and w.endswith("; using the default instructions")
        for w in manager.warnings
    )


def test_catalog_entry_picks_the_prompt(fixture_repo: FixtureRepo) -> None:
    manager = ContextManager.from_config(fixture_repo.config(model="qwen3-coder-30b"))
    assert manager.base_instructions == read_prompt("open_model_instructions.md")
    user_prompt = write(fixture_repo.codex_home / "prompts/gpt5.md", "Custom for gpt-5.")
    catalog = {"models": [{"prefix": "gpt-5", "instructions_file": "prompts/gpt5.md"}]}
    write(fixture_repo.codex_home / "models.json", json.dumps(catalog))
    manager = ContextManager.from_config(fixture_repo.config())
    assert manager.base_instructions == user_prompt.read_text()


def test_token_estimate() -> None:
    assert approx_token_count("") == 0
    assert approx_token_count("abcd") == 1
    assert approx_token_count("abcde") == 2
    assert approx_token_count("é" * 4) == 2  # counted in UTF-8 bytes
    assert approx_items_token_count([{"a": "bb"}]) == 3  # {"a":"bb"} is 10 bytes


def test_base_instructions_stay_small() -> None:
    # The prompt rides on every request; keep it cheap. Raise this bound deliberately.
    assert approx_token_count(default_base_instructions()) < 1000
