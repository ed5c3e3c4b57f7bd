"""Builders for the context tests: a fixture repository with nested AGENTS.md files, skills at
every level and overrides (the fixture itself is in `conftest`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pycodex.config import Config, SandboxWorkspaceWrite
from pycodex.protocol.policies import AskForApproval, SandboxMode

FIXED_DATE = date(2025, 3, 14)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def skill_file(name: str, description: str, body: str = "Steps go here.\n") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\n{body}"


def make_unreadable(path: Path) -> Path:
    """A path that exists as a file but whose read fails, even for root."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # root reads files whatever their mode; reading /proc/self/mem at offset 0 fails instead
        path.symlink_to("/proc/self/mem")
    else:
        path.write_text("secret", encoding="utf-8")
        path.chmod(0)
    return path


@dataclass
class FixtureRepo:
    root: Path  # tmp_path
    home: Path
    codex_home: Path
    repo: Path
    cwd: Path

    def config(self, **changes: object) -> Config:
        values: dict[str, object] = {
            "codex_home": self.codex_home,
            "cwd": self.cwd,
            "model": "gpt-5-codex",
            "approval_policy": AskForApproval.ON_REQUEST,
            "sandbox_mode": SandboxMode.WORKSPACE_WRITE,
            "sandbox_workspace_write": SandboxWorkspaceWrite(network_access=False),
            "project_doc_fallback_filenames": ("NOTES.md",),
            "env": {"HOME": str(self.home), "SHELL": "/usr/bin/zsh"},
        }
        values.update(changes)
        return Config(**values)  # type: ignore[arg-type]
