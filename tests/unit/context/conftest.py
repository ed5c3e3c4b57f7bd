"""Fixtures for the context tests (the builders are in `context_fixtures`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from context_fixtures import FixtureRepo, skill_file, write


@pytest.fixture
def fixture_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FixtureRepo:
    monkeypatch.setenv("TZ", "Europe/Paris")
    home = tmp_path / "home"
    codex_home = tmp_path / "codex_home"
    repo = tmp_path / "repo"
    cwd = repo / "pkg" / "sub"
    (repo / ".git").mkdir(parents=True)
    write(codex_home / "AGENTS.md", "Global: answer in English.\n")
    write(repo / "AGENTS.md", "Root: run `make test` before finishing.\n")
    write(repo / "pkg" / "AGENTS.md", "Pkg: this text is replaced by the override.\n")
    write(repo / "pkg" / "AGENTS.override.md", "Pkg override: never touch generated/.\n")
    write(cwd / "NOTES.md", "Sub notes: fixtures live in data/.\n")
    write(repo / ".agents/skills/release/SKILL.md", skill_file("release", "Cut a release."))
    write(cwd / ".agents/skills/lint/SKILL.md", skill_file("lint", "Lint the sub package."))
    write(home / ".agents/skills/lint/SKILL.md", skill_file("lint", "The user's lint skill."))
    write(home / ".agents/skills/notes/SKILL.md", skill_file("notes", "Keep meeting notes."))
    write(codex_home / "skills/deploy/SKILL.md", skill_file("deploy", "Deploy to staging."))
    write(codex_home / "skills/broken/SKILL.md", "name: broken\nno front matter here\n")
    return FixtureRepo(tmp_path, home, codex_home, repo, cwd)
