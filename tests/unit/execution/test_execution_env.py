"""`build_command_env` and the sandbox seam: pure functions, checked on plain dicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.execution.env import build_command_env
from pycodex.execution.sandbox import (
    prepare_command,
)
from pycodex.protocol.policies import (
    EnvironmentInherit,
    SandboxPolicy,
    ShellEnvironmentPolicy,
)

BASE = {
    "HOME": "/home/ada",
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TERM": "xterm",
    "OPENAI_API_KEY": "sk-secret",
    "github_token": "ghp",
    "MySecretThing": "x",
    "AWS_REGION": "eu-west-1",
    "EDITOR": "vim",
}


def test_inherit_all_drops_credential_looking_names_case_insensitively() -> None:
    env = build_command_env(ShellEnvironmentPolicy(), BASE)
    assert set(env) == {"HOME", "PATH", "LANG", "LC_ALL", "TERM", "AWS_REGION", "EDITOR"}


def test_ignore_default_excludes_keeps_everything() -> None:
    env = build_command_env(ShellEnvironmentPolicy(ignore_default_excludes=True), BASE)
    assert env == BASE


def test_inherit_core_keeps_only_the_basics() -> None:
    env = build_command_env(ShellEnvironmentPolicy(inherit=EnvironmentInherit.CORE), BASE)
    assert env == {
        "HOME": "/home/ada",
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm",
    }


def test_inherit_none_with_set_gives_only_the_set_entries() -> None:
    policy = ShellEnvironmentPolicy(inherit=EnvironmentInherit.NONE, set={"CI": "1"})
    assert build_command_env(policy, BASE) == {"CI": "1"}


def test_exclude_globs_then_set_overrides() -> None:
    policy = ShellEnvironmentPolicy(exclude=("aws_*", "EDIT?R"), set={"HOME": "/tmp/h", "X": "1"})
    env = build_command_env(policy, BASE)
    assert "AWS_REGION" not in env
    assert "EDITOR" not in env
    assert env["HOME"] == "/tmp/h"
    assert env["X"] == "1"


def test_include_only_is_applied_last() -> None:
    policy = ShellEnvironmentPolicy(include_only=("PATH", "lc_*"), set={"EXTRA": "dropped"})
    assert build_command_env(policy, BASE) == {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


def test_prepare_command_rejects_an_empty_command() -> None:
    with pytest.raises(ValueError, match="empty command"):
        prepare_command([], Path("/tmp"), SandboxPolicy.read_only())
