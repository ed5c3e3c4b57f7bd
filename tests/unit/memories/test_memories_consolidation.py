"""What the consolidation agent runs with, and which summaries are accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import Config
from pycodex.memories.consolidation import agent_config, consolidation_prompt, summary_problem
from pycodex.memories.layout import memory_paths
from pycodex.protocol.policies import AskForApproval, SandboxMode

VALID = "v1\n## User Profile\nx\n## User preferences\n## General Tips\n## What's in Memory\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (VALID, None),
        (VALID.replace("v1\n", "v2\n"), "must start with the line 'v1'"),
        ("\n" + VALID, "must start with the line 'v1'"),
        (VALID.replace("## General Tips\n", ""), "lacks the heading '## General Tips'"),
        (VALID.replace("What's", "Whats"), 'lacks the heading "## What\'s in Memory"'),
        (VALID + "x" * 10_000, "it must stay under 10000"),
    ],
)
def test_summary_checks(tmp_path: Path, text: str, problem: str | None) -> None:
    paths = memory_paths(tmp_path)
    paths.root.mkdir()
    paths.summary.write_text(text)
    found = summary_problem(paths)
    assert found is None if problem is None else problem in (found or "")


def test_a_missing_summary_is_a_problem(tmp_path: Path) -> None:
    assert summary_problem(memory_paths(tmp_path)) == "memory_summary.md was not written"


def test_the_agent_is_confined_to_the_memory_folder(tmp_path: Path) -> None:
    config = Config(
        codex_home=tmp_path,
        cwd=tmp_path / "project",
        model="session-model",
        sandbox_mode=SandboxMode.DANGER_FULL_ACCESS,
        approval_policy=AskForApproval.ON_REQUEST,
        additional_writable_roots=(tmp_path / "elsewhere",),
        features={"multi_agent": True, "memories": True},
        mcp_servers={"github": {"command": "x"}},
    )
    paths = memory_paths(tmp_path)
    confined = agent_config(config, paths)
    assert confined.cwd == paths.root and confined.model == "session-model"
    assert confined.approval_policy is AskForApproval.NEVER
    policy = confined.sandbox_policy()
    assert policy.mode is SandboxMode.WORKSPACE_WRITE
    assert policy.writable_roots == (paths.root,)
    assert policy.exclude_slash_tmp and policy.exclude_tmpdir_env_var and not policy.network_access
    assert confined.ephemeral and not confined.memories.use_memories
    assert not confined.features["multi_agent"] and confined.mcp_servers == {}
    assert confined.web_search == "disabled"
    assert str(paths.root) in consolidation_prompt(paths)
